"""Credit repair (信用修复): ending the publication of a negative record early, after correction.

Basis: 信用修复管理办法 (NDRC Order 36, in force 2026-04-01). Invariants:
- an application is for one record of the applicant's own subject, only after the tier's minimum period
  (catalogue or configured special minimum) and never for a configured non-repairable case;
- at most one open application per record (``open_record_id`` is unique while open);
- every move follows the transition table in ``rules.TRANSITIONS`` and writes an event row and an audit
  entry in the same transaction; an illegal move raises InvalidTransition and changes nothing;
- approval stops publication at once (a ``PublicationStop`` row that disclosure consults) and emits a
  change event through the outbox; breaking the commitment (违诺) lifts the stop, audited;
- deadlines are working days: the platform answers within N of (re)submission, the owning department
  decides within M of acceptance.
"""
