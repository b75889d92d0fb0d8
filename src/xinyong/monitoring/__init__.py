"""Monitoring (信用监测): department assessment, data quality (重错码) and the warnings that follow.

Each department is assessed per month on KPIs defined as data (`kpis.toml`: each formula in Chinese, its
computation from measures, weight and full-marks threshold): rows reported, 合规率 (accepted ÷ submitted rows),
及时率 (decisions reported within 7 working days ÷ decisions first reported — `records.is_late`, decided at
ingestion from the working-day calendar), 有效入库率, completeness, 重错码率, repairs and objections handled
within their deadlines, credit-check feedback, and the KPIs whose data other domains will provide (报送率 from
the department catalogue, commitments verified on time), which show "—" until their source exists.

Invariants: a rate with nothing to count is "—", never 0 % or 100 %; a KPI that does not apply is left out of
the score, not counted as zero; every figure links to the rows behind it; definitions that cannot be
computed (unknown measures, a constant-zero denominator, a threshold outside 0–100 %) are refused on load.
"""
