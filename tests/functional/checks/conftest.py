from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from tests.factories import records as rf
from tests.factories.checks import World, make_world
from tests.fixtures.console import (  # noqa: F401  (console fixtures, for test_web)
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
def world(db_session: Session, settings: Settings, protector: Protector) -> World:
    return make_world(db_session, settings, protector, rf.department(db_session))
