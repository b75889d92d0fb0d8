"""SQLite: two GETs that write, while another connection keeps writing (an import storing its chunks, a job).

The console's pages of 告知承诺 verification (the tasks and the dashboard) create the verification task of every
告知承诺 that has none yet; the identity service's callback on the portal proves or refuses the account's identity.
Both wrote in the GET's plain transaction after reading, and failed at once with "database is locked" (503)
whenever the other connection had committed since that read: 8 of 8 pages failed just after an import of a new
告知承诺, and the callback failed after its round trips to the identity service, spending the single-use
authorization code (and losing a refused proof's audit entry). Each is asked here several times while an
`Importer` commits every few milliseconds; each answers as usual and its rows are written."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tests.factories import lists as lf
from tests.factories import records as rf
from tests.factories.commitments import commitment_row
from tests.fixtures.keys import keyed_sessionmaker
from tests.fixtures.own_app import app_with_admin
from tests.fixtures.subject_accounts import SUBJECT_PASSWORD, last_code
from tests.functional.accounts.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from tests.functional.accounts.test_oidc import _round_trip
from tests.functional.accounts.test_takeover import NOT_PROVEN
from tests.functional.web.test_console_beside_writers import (  # noqa: F401  (fixtures)
    Importer,
    _running,
    _setup,
    _sign_in,
    own_app,
    sqlite_app,
)
from tests.functional.web.test_portal_forms_beside_writers import NOTICE, _signed_in

from xinyong.accounts import oidc
from xinyong.accounts import service as accounts_service
from xinyong.accounts.models import SubjectAccount
from xinyong.accounts.portal import OIDC_COOKIE
from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.clock import today as china_today
from xinyong.commitments.models import VerificationTask
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.notify.models import OutboxItem
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.subjects.models import Subject
from xinyong.web.flash import read_flashes

ROUNDS = 6
VERIFICATIONS = "/admin/commitments/verifications"
DASHBOARD = "/admin/commitments/dashboard"


def _dashboard_counts(text: str, department: str) -> tuple[int, int]:
    """The department's commitments accepted and its verification tasks, as the dashboard shows them."""
    found = re.search(rf'data-department="{re.escape(department)}"><td>[^<]*</td>'
                      r'<td data-testid="accepted">(\d+)</td><td>(\d+)</td>', text)  # fmt: skip
    assert found is not None, text[:2000]
    return int(found.group(1)), int(found.group(2))


def test_commitment_pages_create_the_new_tasks_beside_another_writer(sqlite_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A new 告知承诺 is imported, then an officer opens the verification tasks (or the dashboard), round after
    round while another connection commits every few milliseconds: each page answers 200 and shows the new
    commitment's task (the dashboard counts it), which is kept."""
    client, reader, path = sqlite_app
    settings = client.app.state.settings
    protector = client.app.state.protector
    today = china_today()
    with _setup(reader) as setup:
        department = rf.department(setup)
        setup.commit()
        department_name = department.name
    _sign_in(client)
    codes: list[str] = []
    pages = []
    with Importer(path) as importer:
        started = _running(importer)
        for n in range(ROUNDS):
            with _setup(reader) as setup:  # a new 告知承诺 arrives (an import), then the officer opens a page
                row = commitment_row(today - timedelta(days=1), n=n)
                csv = rf.write_rows(tmp_path / f"commitments-{n}.csv", [row])
                result = records_service.import_file(setup, csv, settings=settings, protector=protector,
                                                     record_type="commitment", department=setup.merge(department),
                                                     actor=Actor.system("test"), today=today)  # fmt: skip
                assert result.created == 1, result
                setup.commit()
            codes.append(row["承诺编码"])
            pages.append(client.get(DASHBOARD if n % 2 else VERIFICATIONS))
    assert [page.status_code for page in pages] == [200] * ROUNDS, [page.text[:300] for page in pages]
    for n, page in enumerate(pages):
        if n % 2:
            assert "信用承诺统计" in page.text
            assert _dashboard_counts(page.text, department_name) == (n + 1, n + 1)
        else:
            assert "告知承诺核查" in page.text
            shown = re.findall(r'data-code="([^"]+)"', page.text)
            assert sorted(shown) == sorted(codes[: n + 1])  # the new one among them, every one open
    assert importer.commits > started  # the other connection wrote while the pages were asked
    reader.rollback()
    tasks = reader.scalars(select(VerificationTask).order_by(VerificationTask.id)).all()
    assert sorted(task.code for task in tasks) == sorted(codes)  # one task each, none twice
    assert all(task.matter == "食品经营许可" and task.due_on > task.made_on for task in tasks)


# ------------------------------------------------------------------------------- the identity callback


@dataclass
class IdentityWorld:
    client: TestClient
    reader: Session
    path: str
    provider: Provider
    codes: list[str]  # the USCCs of subjects with an account each, contact confirmed, identity not proven
    other: str  # the USCC of a subject without an account


@pytest.fixture
def identity_world(fresh_database_url: str, settings: Settings, protector: Protector, tmp_path: Path
                   ) -> Iterator[IdentityWorld]:  # fmt: skip
    if make_url(fresh_database_url).get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows: another writer does not hold the whole database")
    secret = tmp_path / "oidc-secret"
    secret.write_text(CLIENT_SECRET + "\n")
    with running_provider() as provider:
        settings = settings.model_copy(update={
            "portal_rate_limit_requests": 0, "upload_dir": tmp_path / "uploads", "events_file": tmp_path / "events.jsonl",
            "account_identity_methods": ("activation_code", "oidc"), "oidc_client_id": CLIENT_ID,
            "oidc_discovery_url": f"{provider.url}/.well-known/openid-configuration", "oidc_client_secret_file": secret,
            "oidc_scopes": ("openid", "profile"), "oidc_title": "浙江政务服务网统一身份认证",
        })  # fmt: skip
        engine = make_engine(fresh_database_url)
        with keyed_sessionmaker(engine)() as setup:
            codes = []
            for n in range(ROUNDS + 2):
                subject = setup.get(Subject, lf.subject(setup, protector, 800 + n, name=f"德清县核验测试{n}号有限公司"))
                assert subject is not None
                assert subject.uscc is not None
                codes.append(subject.uscc)
                if n <= ROUNDS:
                    account = accounts_service.sign_up(setup, code=subject.uscc, name=subject.name,
                                                       contact=f"oidc{n}@example.cn", password=SUBJECT_PASSWORD,
                                                       protector=protector, settings=settings)  # fmt: skip
                    accounts_service.verify(setup, account_id=account.id, code=last_code(setup), protector=protector)
                setup.commit()
        engine.dispose()
        with app_with_admin(fresh_database_url, settings) as (client, reader):
            yield IdentityWorld(client, reader, str(make_url(fresh_database_url).database), provider, codes[:-1],
                                codes[-1])  # fmt: skip


@pytest.fixture
def lock_free_during_round_trips(identity_world: IdentityWorld, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether another connection could take SQLite's write lock while the callback was talking to the identity
    service (checked once the ID token has come back): the round trips must not hold it."""
    seen: list[bool] = []
    checked = oidc._id_token_claims

    def checking(*args: Any, **kwargs: Any) -> dict[str, Any]:
        other = sqlite3.connect(identity_world.path, isolation_level=None, timeout=2)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen.append(True)
        except sqlite3.OperationalError:
            seen.append(False)
        finally:
            other.close()
        return checked(*args, **kwargs)

    monkeypatch.setattr(oidc, "_id_token_claims", checking)
    return seen


def _account(reader: Session, code: str) -> SubjectAccount:
    subject = reader.scalars(select(Subject).where(Subject.uscc == code)).one()
    return reader.scalars(select(SubjectAccount).where(SubjectAccount.subject_id == subject.id)).one()


def test_identities_proven_through_the_identity_service_beside_another_writer(
        identity_world: IdentityWorld, lock_free_during_round_trips: list[bool]) -> None:  # fmt: skip
    """Account after account proves its subject through the identity service while another connection commits
    every few milliseconds: each callback redirects to the account's page with its flash, and the proof, its
    audit entry and its message are kept."""
    world = identity_world
    client = world.client
    answers = []
    for code in world.codes[:ROUNDS]:
        client.cookies.clear()  # the previous account's sign-in
        csrf = _signed_in(client, code)  # signed in before the other writer starts
        world.provider.id_token_claims = {"sub": f"legal-rep-{code}", "uscc": code}
        with Importer(world.path) as importer:
            started = _running(importer)
            done = _round_trip(client, csrf)
            home = client.get("/account") if done.status_code == 303 else done
            answers.append((done.status_code, done.headers.get("location"), read_flashes(done), home.status_code,
                            NOTICE.findall(home.text), NOT_PROVEN in home.text, done.text[:300]))  # fmt: skip
            assert importer.commits > started  # the other connection wrote while the proof was made
        assert any(c.startswith(f'{OIDC_COOKIE}=""') for c in done.headers.get_list("set-cookie"))
    assert [a[:-1] for a in answers] == [
        (303, "/account", [("success", "主体身份核验已完成")], 200, [("success", "主体身份核验已完成")], False)
    ] * ROUNDS, answers  # fmt: skip
    assert lock_free_during_round_trips == [True] * ROUNDS
    world.reader.rollback()
    accounts = [_account(world.reader, code) for code in world.codes[:ROUNDS]]
    assert [(a.identity_method, a.identity_verified_at is not None) for a in accounts] == [("oidc", True)] * ROUNDS
    entries = world.reader.scalars(select(AuditEntry).where(AuditEntry.action == "subject-account.identity-verified")
                                   .order_by(AuditEntry.seq)).all()  # fmt: skip
    assert [(e.target, e.details) for e in entries] == [
        (f"subject-account:{a.id}", {"method": "oidc", "issuer": world.provider.url}) for a in accounts]  # fmt: skip
    told = world.reader.scalars(select(OutboxItem).where(OutboxItem.topic == "message")).all()
    assert sorted(i.payload["address"] for i in told if i.payload["title"] == "信用主体身份核验已完成") == sorted(
        a.contact for a in accounts)  # fmt: skip


def test_identity_refused_by_the_identity_service_beside_another_writer(
        identity_world: IdentityWorld, lock_free_during_round_trips: list[bool]) -> None:  # fmt: skip
    """The identity service proves another subject than the account's, attempt after attempt while another
    connection commits every few milliseconds: each is refused with the reason on the identity page, the account
    stays unproven, and every refusal is kept in the audit trail."""
    world = identity_world
    client = world.client
    code = world.codes[ROUNDS]
    csrf = _signed_in(client, code)
    world.provider.id_token_claims = {"sub": "someone-else", "uscc": world.other}
    answers = []
    with Importer(world.path) as importer:
        started = _running(importer)
        for _ in range(ROUNDS):
            refused = _round_trip(client, csrf)
            answers.append((refused.status_code, "与本账户注册的主体不一致" in refused.text,
                            "主体身份核验" in refused.text, refused.text[:300]))  # fmt: skip
        assert importer.commits > started  # the other connection wrote while the proofs were refused
    assert [a[:-1] for a in answers] == [(403, True, True)] * ROUNDS, answers
    assert lock_free_during_round_trips == [True] * ROUNDS
    home = client.get("/account")
    assert home.status_code == 200
    assert NOT_PROVEN in home.text
    world.reader.rollback()
    account = _account(world.reader, code)
    assert (account.identity_method, account.identity_verified_at) == (None, None)
    entries = world.reader.scalars(select(AuditEntry).where(AuditEntry.action == "subject-account.identity-refused")
                                   ).all()  # fmt: skip
    assert [(e.target, e.details) for e in entries] == [
        (f"subject-account:{account.id}", {"method": "oidc", "reason": "claim-mismatch"})] * ROUNDS  # fmt: skip
