from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from tests.factories.monitoring import TenRows, import_ten_rows
from tests.fixtures.console import (  # noqa: F401  (console fixtures, for the page tests)
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    sign_in,
)

from xinyong.config import Settings
from xinyong.protect import Protector


@pytest.fixture
def ten_rows(db_session: Session, settings: Settings, protector: Protector, accounts) -> TenRows:  # type: ignore[no-untyped-def]  # noqa: F811
    rows = import_ten_rows(db_session, settings, protector, accounts.dept_a)
    db_session.commit()
    return rows
