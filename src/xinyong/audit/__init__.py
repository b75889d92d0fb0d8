"""The audit trail (操作留痕与查询留痕): every state change and every look-up of restricted data.

Invariants: entries are only ever appended, in the same transaction as the act they record; each entry
carries an HMAC-SHA256, under an audit key kept outside the database (`keys`), of the previous entry's hash
and its own canonical JSON, so editing or deleting a row behind the platform's back breaks the chain at that
row, and nobody without the key can recompute the links after it (`xinyong audit verify`). Checkpoints of the
head, signed and appended to a file outside the database (`checkpoints`), expose entries deleted from the end
and a chain rewritten even by a holder of the key. Appends are serialised through the one-row
`audit_chain_head` table, so concurrent writers can never fork the chain.
"""
