"""Deterministic synthetic data: departments, subjects and 双公示 licence/penalty rows.

The generator's public face, in three parts: `population` (regions, subjects, departments), `cases` (what
the departments decide, and the defects their files may carry) and `rows` (the rows and the CSV files).
All randomness comes from the `random.Random` passed in."""

from xinyong.demo.cases import DEFECTS, LICENSE_DEFECTS, PENALTY_DEFECTS
from xinyong.demo.population import (
    DEMO_REGION,
    INDIVIDUAL_BUSINESS,
    LEGAL_PERSON,
    NATURAL_PERSON,
    REGIONS,
    Department,
    Region,
    Subject,
    generate_departments,
    generate_subjects,
    get_region,
)
from xinyong.demo.rows import (
    COLUMN_TITLES,
    LICENSE_COLUMNS,
    OPEN_ENDED,
    PENALTY_COLUMNS,
    decides,
    license_rows,
    penalty_rows,
    write_csv,
)

__all__ = [
    "COLUMN_TITLES",
    "DEFECTS",
    "DEMO_REGION",
    "INDIVIDUAL_BUSINESS",
    "LEGAL_PERSON",
    "LICENSE_COLUMNS",
    "LICENSE_DEFECTS",
    "NATURAL_PERSON",
    "OPEN_ENDED",
    "PENALTY_COLUMNS",
    "PENALTY_DEFECTS",
    "REGIONS",
    "Department",
    "Region",
    "Subject",
    "decides",
    "generate_departments",
    "generate_subjects",
    "get_region",
    "license_rows",
    "penalty_rows",
    "write_csv",
]
