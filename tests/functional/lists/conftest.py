from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from tests.factories import lists as lf
from tests.factories import records as rf

from xinyong.departments.models import Department


@pytest.fixture
def dept(db_session: Session) -> Department:
    department = rf.department(db_session)
    lf.load_types(db_session, department)
    return department
