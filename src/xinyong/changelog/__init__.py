"""The change log (变更日志): one row for every record created, changed, revoked or repaired, in commit order.

Invariants: a change is written in the same transaction as the write it reports; positions are handed out
when that transaction commits, under a lock held until the commit ends (the one-row `change_sequence`), so a
reader that sees position N has already been able to see every position before it. A transaction that
commits late therefore gets a later position than one that committed before it, and a reader walking the
log in position order never steps over a change that becomes visible afterwards. The change feed and the
exports to other platforms read this log (`xinyong.exchange`).
"""
