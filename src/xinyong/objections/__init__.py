"""Objections (异议处理): a subject disputes a record (wrong subject, wrong data, should not be published).

Invariants: only the record's own subject (through its verified account) has standing; at most one open
objection per record; while open, the portal marks the record "异议处理中"; the owning department answers
within the configured working days by correcting (the corrected version must have been re-reported through
the normal channel), revoking (records.service.revoke_record) or upholding, always with reasons; the subject
is notified; every step is audited in the same transaction.
"""
