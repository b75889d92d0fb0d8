"""Subject-account sign-in follows the console's throttling: delays, not locks; one answer; audited."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.fixtures.subject_accounts import SUBJECT_PASSWORD, anonymous_form

from xinyong.accounts.service import SignInFailed
from xinyong.audit.models import AuditEntry
from xinyong.auth.models import LoginThrottle
from xinyong.codes import make_id_number
from xinyong.subjects.models import Subject

ALERT_RE = re.compile(r'role="alert" id="form-error">([^<]*)<')


def _sign_in(client, code: str, password: str):  # type: ignore[no-untyped-def]
    token = anonymous_form(client)
    return client.post("/account/login", data={"csrf_token": token, "code": code, "password": password})


def _alert(response) -> str:  # type: ignore[no-untyped-def]
    match = ALERT_RE.search(response.text)
    assert match, response.text
    return match.group(1)


def _pass_time(session: Session, seconds: float) -> None:
    step = timedelta(seconds=seconds)
    for row in session.scalars(select(LoginThrottle)):
        row.window_start -= step
        row.updated_at -= step
        row.blocked_until = row.blocked_until - step if row.blocked_until else None
        row.audited_until = row.audited_until - step if row.audited_until else None
    session.commit()


def _actions(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_a_storm_delays_the_account_with_the_same_answer_and_the_delay_runs_out(client, db_session, penalty,
                                                                                 subject_account):  # fmt: skip
    account = subject_account(penalty())
    code = db_session.get(Subject, account.subject_id).uscc
    wrong = [_sign_in(client, code, "Wrong-pass-2025") for _ in range(5)]
    refused = _sign_in(client, code, SUBJECT_PASSWORD)
    unknown = _sign_in(client, "91330523MA0000000X", "Wrong-pass-2025")

    assert {r.status_code for r in [*wrong, refused, unknown]} == {401}
    assert {_alert(r) for r in [*wrong, refused, unknown]} == {SignInFailed.message_template}
    failed = [e for e in _actions(db_session, "auth.login-failed") if e.target == f"subject-account:{account.id}"]
    assert [e.details["failures"] for e in failed] == [1, 2, 3, 4, 5]
    assert [e.target for e in _actions(db_session, "auth.login-throttled")] == [f"subject-account:{account.id}"]

    _pass_time(db_session, 5)
    assert _sign_in(client, code, SUBJECT_PASSWORD).status_code == 303


def test_unknown_codes_are_audited_masked(client, db_session, accounts):
    person = make_id_number("330523", date(1981, 5, 17), "316")
    assert _sign_in(client, person, "Wrong-pass-2025").status_code == 401

    entry = _actions(db_session, "auth.login-failed")[-1]
    assert (entry.actor, entry.details["known"]) == ("anonymous", False)
    assert entry.details["code"] == person[:4] + "*" * 10 + person[-4:]
    assert person not in str(entry.details)
    assert "Wrong-pass-2025" not in str(entry.details)
