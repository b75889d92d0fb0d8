"""Personal credit points (阳光分): opt-in, incentive-only. Points unlock 信易+ benefits and nothing else; no
other domain reads them (tests/functional/points/test_incentive_only.py holds it)."""
