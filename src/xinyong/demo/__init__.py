"""Demo data (演示数据): synthetic departments, credit subjects and 双公示 rows.

Used by `make run`, the tests and the benchmarks. Everything is drawn from one seeded
`random.Random`, so the same seed always gives the same data; rows are produced lazily so
millions can be streamed to disk. Malformed rows, when asked for, carry exactly one named defect.
"""
