"""SQLite: look-ups that are recorded, and a feedback, while another connection keeps writing (an import storing its
chunks, a job).

A financial institution's read of a subject's data package (through its key, or by its officer on the console)
reads the subject, the consent and the package and then records the access (a refused read records the refusal);
a credit check's feedback is posted after `key_or_user` read on the event loop; the audit trail's export reads
the whole trail and then records the export. Each wrote in the plain transaction that had read, and failed at once
with "database is locked" (503) whenever the other connection had committed since that read. Each is asked here
several times while an `Importer` commits every few milliseconds: the caller gets the usual answer, and every
record is written."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories.checks import make_world
from tests.factories.records import department as make_department
from tests.functional.web.test_console_beside_writers import (  # noqa: F401 - fixtures
    SYSTEM,
    Importer,
    _officer,
    _running,
    _setup,
    _sign_in,
    own_app,
    sqlite_app,
)
from tests.functional.web.test_portal_forms_beside_writers import PortalWorld, portal_world  # noqa: F401 - fixture

from xinyong.accounts.models import SubjectAccount
from xinyong.audit.models import AuditEntry
from xinyong.audit.rules import AuditAction
from xinyong.audit.service import EXPORT_COLUMNS
from xinyong.auth.models import User
from xinyong.checks.models import CheckFeedback
from xinyong.departments import service as departments_service
from xinyong.finance import service as finance_service
from xinyong.finance.models import ConsentAccess, Institution
from xinyong.protect import protector as make_protector
from xinyong.subjects.models import Subject

ROUNDS = 15


def _entries(reader: Session, action: AuditAction) -> list[AuditEntry]:
    reader.rollback()
    return list(reader.scalars(select(AuditEntry).where(AuditEntry.action == action.value).order_by(AuditEntry.seq)))


def _accesses(reader: Session) -> list[ConsentAccess]:
    reader.rollback()
    return list(reader.scalars(select(ConsentAccess).order_by(ConsentAccess.id)))


def _consent(world: PortalWorld) -> tuple[int, str]:
    """The penalised subject's consent to the world's institution (its basics, a month); committed. Its id, and
    the subject's name."""
    settings = world.client.app.state.settings  # type: ignore[attr-defined]
    with _setup(world.reader) as setup:
        subject = setup.scalars(select(Subject).where(Subject.uscc == world.penalised)).one()
        account = setup.scalars(select(SubjectAccount).where(SubjectAccount.subject_id == subject.id)).first()
        assert account is not None
        consent = finance_service.grant_consent(setup, account, institution_id=world.institution_id,
                                                scope=["basics"], valid_until=world.today + timedelta(days=30),
                                                settings=settings, today=world.today)  # fmt: skip
        setup.commit()
        return consent.id, subject.name


def test_an_institutions_key_reads_packages_beside_another_writer(portal_world: PortalWorld) -> None:  # noqa: F811
    """`GET /api/v1/finance/subjects/{code}`: each granted read answers the package and records its access and
    its audit entry; each refused one (beyond the consent's scope, or a subject that consented to nothing)
    answers 403 and records its refusal."""
    world = portal_world
    consent_id, name = _consent(world)
    with _setup(world.reader) as setup:
        institution = setup.get(Institution, world.institution_id)
        assert institution is not None
        key, token = finance_service.issue_key(setup, institution, name="信贷系统", actor=SYSTEM)
        prefix = key.prefix
        setup.commit()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/finance/subjects/{world.penalised}"
    granted, beyond, unconsented = [], [], []
    with Importer(world.path) as importer:
        started = _running(importer)
        for _ in range(ROUNDS):
            granted.append(world.client.get(url, headers=headers))
            beyond.append(world.client.get(url, params={"scope": "basics,penalties"}, headers=headers))
            unconsented.append(world.client.get(f"/api/v1/finance/subjects/{world.listed}", headers=headers))
        during = importer.commits - started

    assert [r.status_code for r in granted] == [200] * ROUNDS, [r.text[:300] for r in granted]
    assert all(r.json()["subject"] == {"name": name, "code": world.penalised} for r in granted)
    assert all(r.json()["consent"]["id"] == consent_id and r.json()["consent"]["scope"] == ["basics"]
               and r.json()["data"]["basics"]["code"] == world.penalised for r in granted)  # fmt: skip
    refused = beyond + unconsented
    assert [r.status_code for r in refused] == [403] * (2 * ROUNDS), [r.text[:300] for r in refused]
    assert all(r.json()["error"]["code"] == "consent-required" for r in refused)
    assert all("超出授权范围" in r.json()["error"]["message"] for r in beyond)

    accesses = _accesses(world.reader)
    assert [(a.consent_id, a.key_prefix, a.scope) for a in accesses] == [(consent_id, prefix, ["basics"])] * ROUNDS
    reads = _entries(world.reader, AuditAction.CONSENT_READ)
    assert [(e.actor, e.target) for e in reads] == [(f"institution-key:{prefix}", f"consent:{consent_id}")] * ROUNDS
    refusals = _entries(world.reader, AuditAction.CONSENT_READ_REFUSED)
    assert len(refusals) == 2 * ROUNDS
    assert sum("超出授权范围" in e.details["reason"] for e in refusals) == ROUNDS
    assert during > 0  # the other connection committed while the packages were read


def test_an_officer_reads_packages_on_the_console_beside_another_writer(portal_world: PortalWorld) -> None:  # noqa: F811
    """`GET /admin/bank/subjects/{code}`: the package page each time, each read recorded; a subject that
    consented to nothing is refused (403), and the refusal recorded."""
    world = portal_world
    consent_id, name = _consent(world)
    with _setup(world.reader) as setup:
        institution = setup.get(Institution, world.institution_id)
        assert institution is not None
        _officer(world.client, setup, institution)
    world.reader.rollback()
    officer_id = world.reader.scalars(select(User.id).where(User.username == "officer")).one()
    pages, refused = [], []
    with Importer(world.path) as importer:
        started = _running(importer)
        for _ in range(ROUNDS):
            pages.append(world.client.get(f"/admin/bank/subjects/{world.penalised}"))
            refused.append(world.client.get(f"/admin/bank/subjects/{world.listed}"))
        during = importer.commits - started

    assert [page.status_code for page in pages] == [200] * ROUNDS, [page.text[:300] for page in pages]
    assert all(name in page.text and world.penalised in page.text for page in pages)
    assert [page.status_code for page in refused] == [403] * ROUNDS, [page.text[:300] for page in refused]
    assert all("未授权本机构" in page.text for page in refused)

    accesses = _accesses(world.reader)
    assert [(a.consent_id, a.key_prefix, a.scope) for a in accesses] == [
        (consent_id, f"officer:{officer_id}", ["basics"])] * ROUNDS  # fmt: skip
    reads = _entries(world.reader, AuditAction.CONSENT_READ)
    assert [e.target for e in reads] == [f"consent:{consent_id}"] * ROUNDS
    assert len(_entries(world.reader, AuditAction.CONSENT_READ_REFUSED)) == ROUNDS
    assert during > 0


def _feedback_world(client: TestClient, reader: Session) -> tuple[str, str]:
    """A department with a credit check's world; a key of the department's; committed. The listed company's code
    and the key."""
    settings = client.app.state.settings  # type: ignore[attr-defined]
    with _setup(reader) as setup:
        dept = make_department(setup)
        world = make_world(setup, settings, make_protector(settings), dept)
        _, key = departments_service.issue_api_key(setup, department=dept, name="业务系统",
                                                   scopes=["api:checks:write"])
        setup.commit()
        return world.listed_code, key


def test_check_feedback_is_recorded_beside_another_writer(sqlite_app) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """`POST /api/v1/checks/{number}/feedback`, by a signed-in console user and by a department's key: each
    feedback answers as usual and is recorded, with its audit entry."""
    client, reader, path = sqlite_app
    code, key = _feedback_world(client, reader)
    csrf = _sign_in(client)
    as_user = {"X-CSRF-Token": csrf}
    as_key = {"Authorization": f"Bearer {key}"}
    numbers = []
    for headers in (as_user, as_key):
        created = client.post("/api/v1/checks", json={"code": code, "matter": "政府采购"}, headers=headers)
        assert created.status_code == 200, created.text[:300]
        numbers.append(created.json()["number"])
    answers = []
    with Importer(path) as importer:
        started = _running(importer)
        for n in range(ROUNDS):
            for number, headers in zip(numbers, (as_user, as_key), strict=True):
                answers.append(client.post(f"/api/v1/checks/{number}/feedback", headers=headers,
                                           json={"applied": False, "note": f"未适用，理由说明{n}"}))  # fmt: skip
        during = importer.commits - started

    assert [a.status_code for a in answers] == [200] * (2 * ROUNDS), [a.text[:300] for a in answers]
    assert [a.json() for a in answers] == [
        {"number": number, "measure_code": None, "applied": False, "note": f"未适用，理由说明{n}"}
        for n in range(ROUNDS) for number in numbers]  # fmt: skip
    reader.rollback()
    rows = list(reader.scalars(select(CheckFeedback).order_by(CheckFeedback.id)))
    assert [(row.is_applied, row.note) for row in rows] == [
        (False, f"未适用，理由说明{n}") for n in range(ROUNDS) for _ in numbers]  # fmt: skip
    entries = _entries(reader, AuditAction.CHECK_FEEDBACK)
    assert [e.target for e in entries] == [f"check:{number}" for _ in range(ROUNDS) for number in numbers]
    assert during > 0


def test_audit_exports_are_recorded_beside_another_writer(sqlite_app) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """`GET /admin/audit/export.csv`: the trail as CSV each time, and each export in the trail, counting the rows
    it exported (written once the trail was read: an export holds the entries of the exports before it, never
    its own)."""
    client, reader, path = sqlite_app
    _sign_in(client)
    exports = []
    with Importer(path) as importer:
        started = _running(importer)
        for _ in range(ROUNDS):
            exports.append(client.get("/admin/audit/export.csv"))
        during = importer.commits - started

    assert [e.status_code for e in exports] == [200] * ROUNDS, [e.text[:300] for e in exports]
    tables = []
    for export in exports:
        assert export.headers["content-type"].startswith("text/csv")
        assert export.text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(export.text.removeprefix("\ufeff"))))
        assert rows[0] == EXPORT_COLUMNS
        tables.append(rows[1:])
    recorded = _entries(reader, AuditAction.AUDIT_EXPORTED)
    assert len(recorded) == ROUNDS
    action = EXPORT_COLUMNS.index("action")
    for n, (table, entry) in enumerate(zip(tables, recorded, strict=True)):
        assert entry.details["rows"] == len(table)
        assert sum(row[action] == AuditAction.AUDIT_EXPORTED.value for row in table) == n
        assert int(table[-1][0]) < entry.seq  # its own entry follows what it exported
    assert during > 0
