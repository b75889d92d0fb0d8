"""Credit lists (信用名单): who is on which list, on what legal basis, for how long.

Invariants:
- A list type exists only with a legal basis (国办发〔2020〕49号); types are configuration, audited.
- A local listing follows the procedure in `rules.TRANSITIONS`: proposal → prior notice (告知) → objection
  window of N working days → decision (an objection answered first) → publication within 7 working days →
  expiry at the end of the duration, or early exit (移出) with a reason. Every step is an event the subject
  can see and an entry in the audit trail, written in the same transaction.
- A membership is in force only when published and inside its validity dates; every query filters by the
  day it is asked about, so nothing leaks between two runs of the expiry job.
- Imported lists (decided elsewhere: 失信被执行人 …) keep their source and enter as published.
"""
