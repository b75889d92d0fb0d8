"""Credit records (信用记录) and their collection (归集) from departments.

Invariants:
- the business key of a record is (department, record type, 决定文书号); importing the same data twice
  changes nothing, a changed row updates the record and keeps the earlier version;
- a revoked (撤销) record stays in history and is never published;
- every problem in incoming data is data: (row, column, code, value, message), stored with its batch;
- one bad row never loses the batch; a batch is committed chunk by chunk and is either completed or
  marked incomplete, and re-running it is safe because the business key makes every write idempotent;
- personal identifiers never reach the payload in clear: they are masked there and sealed separately.
"""
