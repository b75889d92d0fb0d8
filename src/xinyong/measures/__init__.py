"""The measure list (联合奖惩措施清单): what being on a list means for a subject in a business matter.

Invariants (过惩相当):
- Every measure names its 事项 (a configured business matter), its 内容, the list types it applies to, its
  legal basis (依据, required), 实施层级, and whether it is an incentive (激励) or a sanction (惩戒);
  incentives apply only to honour lists, sanctions only to dishonesty or watch lists.
- Measures are versioned: an edit adds a new version and supersedes the old one; a check names the exact
  version it returned. Editing is an audited administrator action.
- A check returns a measure only when both its matter and one of its list types match.
"""
