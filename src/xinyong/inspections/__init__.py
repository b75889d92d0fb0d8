"""Graded supervision and random inspections (分级分类监管, 双随机、一公开).

Basis: 国办发〔2015〕58号 (随机抽取检查对象、随机选派执法检查人员, results published), 国发〔2019〕5号
(部门联合双随机、一公开; 抽查比例和频次与信用风险分类结果挂钩), 国市监信发〔2022〕6号 (企业信用风险分类).
Invariants:
- a plan's population (检查对象名录) is every subject of the kinds and regions it names; the subjects matching its
  catalogue filters (a sector, special domains) are fixed when the plan is made, their grades taken from the
  latest completed evaluation run when it is drawn; each grade is sampled at the plan's ratio (defaults
  configured, 0–100 %), and subjects of the special domains it names are always drawn;
- a draw is seeded and reproducible: a Mersenne Twister seeded with the plan's seed walks the population
  sorted by USCC; the sorted snapshot, its digest, the roster with its exclusions and the result's digest are
  stored and audited in the transaction that makes the draw, before anyone sees it;
- a plan is drawn once: asking again with the same seed gives the recorded draw; another seed is refused and
  the refusal audited;
- inspectors are paired at random among those without a conflict of interest (回避) with the subject;
- only the inspecting department records results; each result becomes a record of catalogue type
  `inspection-result` (the one whose fields declare the role `result`) through the ingestion pipeline;
- the plan, the draw and the results are public (一公开) from publication until the configured days after
  the plan's period.
"""
