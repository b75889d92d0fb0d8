"""The audit trail (操作留痕与查询留痕): every state change and every look-up of restricted data.

Invariants: entries are only ever appended, in the same transaction as the act they record; each entry
carries the SHA-256 of the previous entry's hash and its own canonical JSON, so editing or deleting a row
behind the platform's back breaks the chain at that row (`xinyong audit verify`). Appends are serialised
through the one-row `audit_chain_head` table, so concurrent writers can never fork the chain.
"""
