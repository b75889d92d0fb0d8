"""Fixtures for 信易贷: two banks with keys, and enterprises with verified accounts (through the repair fixtures)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session
from tests.factories import evaluation as ef
from tests.factories.records import company_code
from tests.functional.repair.conftest import (  # noqa: F401  (fixtures)
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    portal_sign_in,
    sign_in,
    subject_account,
    today,
)

from xinyong.actors import Actor
from xinyong.config import Settings
from xinyong.finance import service
from xinyong.finance.models import Institution
from xinyong.records.models import Record

SYSTEM = Actor.system("test")


@dataclass
class Bank:
    institution: Institution
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def banks(db_session: Session) -> tuple[Bank, Bank]:
    made = []
    for n, name in ((90001, "德清农村商业银行"), (90002, "湖州银行德清支行")):
        institution = service.register_institution(db_session, code=company_code(n), name=name,
                                                   purposes=["流动资金", "技术改造"], min_amount="1",
                                                   max_amount="5000", actor=SYSTEM)  # fmt: skip
        _, token = service.issue_key(db_session, institution, name="信贷系统", actor=SYSTEM)
        made.append(Bank(institution, token))
    db_session.commit()
    return made[0], made[1]


MakeCompany = Callable[..., Record]


@pytest.fixture
def company(db_session: Session, console_settings: Settings, protector, accounts, today: date) -> MakeCompany:  # type: ignore[no-untyped-def]  # noqa: F811
    """A company with a licence (and optionally a penalty in publication); returns its licence."""

    def make(n: int, *, penalty: bool = False) -> Record:
        subject = ef.company(n)
        licence = ef.licence(db_session, console_settings, protector, accounts.dept_a, subject,
                             decided=today - timedelta(days=30), today=today)  # fmt: skip
        if penalty:
            ef.penalty(db_session, console_settings, protector, accounts.dept_a, subject, tier="一般",
                       decided=today - timedelta(days=20), today=today)  # fmt: skip
        db_session.commit()
        return licence

    return make
