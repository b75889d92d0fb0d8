"""Public credit evaluation (公共信用综合评价): every legal-person and individual-business subject graded from
its public credit record.

Basis: GB/T 45255-2025《公共信用综合评价规范》 governs public evaluation; its indicator list and grade symbols
were not at hand, so the model is configuration, never code. The model is data (a TOML file, versioned,
loaded with `xinyong evaluation load-model`): dimensions → indicators, each reading records of catalogue
record types (by key, role and declared field, never by a field code written in Python) or list entries,
scoring by kind (种类分) or by band (区间分), adding or deducting, each with its basis.

Invariants:
- a loaded model version is immutable: loading the same key and version with other content is refused;
- a run evaluates every subject of the model's kinds as of one date, set-based (a few SQL statements per
  indicator, never a Python loop per subject), and keeps per subject its score, its grade and per indicator
  the points and the records that produced them (at most `EVIDENCE_CAP` named per indicator);
- the same data, date and model give the same result (the run's digest says so);
- a subject on a list the model names in an override is never graded above that override's grade; a subject
  with no record at all gets the model's default grade, not the best;
- only completed runs are read by anyone; the grade shown is always the latest completed run's.
"""
