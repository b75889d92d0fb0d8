"""Fixtures for personal credit points and 信易+: a natural person with a verified account, an honour listing,
scenarios."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session
from tests.factories import lists as lf
from tests.functional.finance.conftest import (  # noqa: F401  (fixtures)
    accounts,
    app,
    banks,
    client,
    company,
    console_settings,
    fast_password_hashing,
    portal_sign_in,
    sign_in,
    subject_account,
    today,
)
from tests.functional.repair.conftest import SUBJECT_PASSWORD, Portal, last_code

from xinyong.accounts import activation
from xinyong.accounts import service as accounts_service
from xinyong.accounts.models import SubjectAccount
from xinyong.actors import Actor
from xinyong.codes import make_id_number
from xinyong.config import Settings
from xinyong.scenarios import service as scenarios_service
from xinyong.subjects.models import SubjectKind
from xinyong.web.deps import SUBJECT_COOKIE

SYSTEM = Actor.system("test")


@dataclass
class Person:
    id_number: str
    name: str
    subject_id: int
    account: SubjectAccount


MakePerson = Callable[..., Person]


@pytest.fixture
def person(db_session: Session, console_settings: Settings, protector, accounts, today: date) -> MakePerson:  # type: ignore[no-untyped-def]  # noqa: F811
    """A natural person with a verified account; `honour=True` puts them on the 守信激励对象名单."""

    def make(n: int, *, honour: bool = False, name: str = "王阳光") -> Person:
        id_number = make_id_number("330521", date(1985, 3, n), f"{100 + n:03d}")
        subject_id = lf.subject(db_session, protector, n, name=name, kind=SubjectKind.PERSON, id_number=id_number)
        if honour:
            lf.load_types(db_session, accounts.dept_a)
            lf.listed(db_session, console_settings, protector, accounts.dept_a, id_number, today=today, type_key="honor")
        account = accounts_service.sign_up(db_session, code=id_number, name=name, contact=f"p{n}@example.cn",
                                           password=SUBJECT_PASSWORD, protector=protector, settings=console_settings)  # fmt: skip
        accounts_service.verify(db_session, account_id=account.id, code=last_code(db_session), protector=protector)
        _, code = activation.issue(db_session, subject_id=subject_id, actor=SYSTEM, channel="counter",
                                   settings=console_settings, protector=protector)  # fmt: skip
        activation.redeem(db_session, account, code=code, settings=console_settings, protector=protector)
        db_session.commit()
        return Person(id_number, name, subject_id, account)

    return make


@pytest.fixture
def person_sign_in(client, db_session: Session, console_settings: Settings, protector) -> Callable[[Person], Portal]:  # type: ignore[no-untyped-def]  # noqa: F811
    def run(who: Person) -> Portal:
        row, token = accounts_service.sign_in(db_session, code=who.id_number, password=SUBJECT_PASSWORD,
                                              protector=protector, settings=console_settings, client="test")  # fmt: skip
        db_session.commit()
        client.cookies.clear()
        client.cookies.set(SUBJECT_COOKIE, token)
        return Portal(client, who.account, row.csrf_token)

    return run


@pytest.fixture
def scenario(db_session: Session, console_settings: Settings, today: date):  # type: ignore[no-untyped-def]  # noqa: F811
    def make(key: str = "xinyi-you", **overrides: object):  # type: ignore[no-untyped-def]
        values: dict[str, object] = {
            "key": key, "name": "信易游", "provider": "德清县文化和旅游局", "provider_kind": "department",
            "benefit": "景区门票 8 折", "grades": [], "list_types": [], "points_bands": ["good", "excellent"],
            "basis": "《德清县信易+守信激励实施方案》", "valid_from": today, "valid_until": None,
        }  # fmt: skip
        values.update(overrides)
        made = scenarios_service.save_scenario(db_session, actor=SYSTEM, settings=console_settings, **values)  # type: ignore[arg-type]
        db_session.commit()
        return made

    return make
