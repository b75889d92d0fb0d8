"""Imports every domain's models so that the metadata is complete (for Alembic and tests)."""

from xinyong.calendar.models import CalendarOverride
from xinyong.departments.models import ApiKey, Department
from xinyong.records.models import Batch, BatchProblem, Record, RecordVersion
from xinyong.subjects.models import Subject

__all__ = ["ApiKey", "Batch", "BatchProblem", "CalendarOverride", "Department", "Record", "RecordVersion", "Subject"]
