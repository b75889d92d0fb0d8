"""Credit checks (信用核查): looking a subject up before a business matter, inside approval work (逢办必查).

Invariants:
- Every check is recorded (who, which department, which matter, what was returned) under a check number,
  in `credit_checks`; that table is the 查询留痕 of checks (high-volume, so not one audit-chain entry each).
- A check returns memberships in force, negative records inside their publicity period (the disclosure
  rules decide), positive records, and only the measures whose matter and list type both match (过惩相当).
- A name-only check never picks a subject: it returns ranked candidates to check again by code.
"""
