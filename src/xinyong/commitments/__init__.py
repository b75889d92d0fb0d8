"""信用承诺 (credit commitments): made, published, verified, fulfilled or broken.

A commitment is a record of the catalogue type whose fields declare the role `pledge_status`: it enters
through the one ingestion pipeline (files, the batch API, the console upload) or is made online by a
signed-in subject from a template the 信用办 publishes. Its business key is the 承诺编码; a later row with
the same code updates the fulfilment, earlier versions kept.

Invariants:
- 公开类型 decides who sees it: 可向社会公开 — the portal and the public API, for its validity and, when
  broken, for the 违诺 publicity period; 特定范围内公开 — departments (console, credit checks); 不予公开 — the
  accepting department and the subject only.
- A broken commitment (部分履行, 全部未履行) shows in credit checks with its 违诺责任 and 追究, in the credit
  report, and refuses 告知承诺 for the matters configured so, until repaired (国办发〔2020〕42号). Nothing else
  follows automatically (过惩相当).
- Only the accepting department records fulfilment or a verification finding, each audited.
"""

from xinyong.commitments import hooks as _hooks  # noqa: F401  (registers the report section and the check extras)
