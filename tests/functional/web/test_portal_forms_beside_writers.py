"""SQLite: the portal's forms of credit repair, personal credit points and 信易贷 while another connection
keeps writing (an import storing its chunks, a job).

Each of these forms reads (the signed-in account, the record, the list entry, the institution) before it
writes, and hands that work to `UnitOfWork.run_as_writer`: begun as a plain transaction, its first write
failed at once with "database is locked" whenever the other connection had committed since that read, and
the subject saw "数据库暂时无法访问" (503). Each form here is submitted several times while an `Importer`
commits every few milliseconds; the subject gets the usual redirect and flash, and the rows are written.

Two more steps failed beside another writer: the repair application itself, whose signed commitment is stored
through the ingestion pipeline (which commits), so that what followed it ran in a plain transaction; and a
points member's page, which keeps the day's score from a GET."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tests.factories import lists as lf
from tests.factories import records as rf
from tests.fixtures.keys import keyed_sessionmaker
from tests.fixtures.own_app import TOKEN, app_with_admin
from tests.fixtures.subject_accounts import PDF, SUBJECT_PASSWORD, anonymous_form, last_code, verified_account
from tests.functional.web.test_console_beside_writers import Importer, _institution, _running, _setup

from xinyong.accounts import activation
from xinyong.accounts import service as accounts_service
from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.auth.models import User
from xinyong.auth.service import actor_for_user
from xinyong.clock import today as china_today
from xinyong.codes import make_id_number
from xinyong.commitments.models import OnlineCommitment
from xinyong.commitments.service import repair_key
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.evidence.models import Evidence
from xinyong.finance.models import Consent, Demand, DemandStatus
from xinyong.points.models import PointsHistory, PointsMember
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.repair import service as repair_service
from xinyong.repair.models import RepairApplication, RepairStatus
from xinyong.subjects.models import SubjectKind
from xinyong.subjects.refs import record_ref
from xinyong.web.flash import read_flashes

ROUNDS = 3
FORM = {"contact_name": "李经理", "contact_phone": "0572-5123456", "contact_email": "li@example.cn",
        "statement": "已于本月足额缴纳罚款并完成整改，附缴款凭证。", "signer_name": "张三", "agree": "1"}  # fmt: skip
MISSING = "缺少罚款缴纳凭证原件扫描件"


@dataclass
class PortalWorld:
    client: TestClient
    reader: Session
    path: str
    today: date
    record_id: int
    record_ref: str  # a penalty of `penalised`, past its shortest publication period
    penalised: str
    entry_id: int  # a serious-dishonesty listing of `listed`, in force for a year
    listed: str
    person: str  # the ID number of a natural person with a verified account
    institution_id: int


@pytest.fixture
def portal_world(fresh_database_url: str, settings: Settings, protector: Protector, tmp_path: Path
                 ) -> Iterator[PortalWorld]:  # fmt: skip
    if make_url(fresh_database_url).get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows: another writer does not hold the whole database")
    settings = settings.model_copy(update={"upload_dir": tmp_path / "uploads",
                                           "events_file": tmp_path / "events.jsonl"})  # fmt: skip
    today = china_today()
    engine = make_engine(fresh_database_url)
    with keyed_sessionmaker(engine)() as setup:
        dept = rf.department(setup)
        lf.load_types(setup, dept)
        decided = today - timedelta(days=200)  # past the shortest publication period of a 一般 penalty
        row = rf.penalty_row(CF_JDRQ=decided.isoformat(), CF_CFJG=dept.name, CF_CFJGDM=dept.code,
                             CF_SJLY=dept.name, CF_SJLYDM=dept.code)  # fmt: skip
        result = records_service.import_rows(setup, [row], settings=settings, protector=protector,
                                             record_type="penalty", department=dept, actor="test",
                                             today=today)  # fmt: skip
        assert result.rejected == 0, result
        record = setup.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()
        record_id, penalised = record.id, row["CF_XDR_SHXYM"]
        verified_account(setup, record.subject_id, settings, protector)
        listed = rf.company_code(90600)
        listed_id = lf.subject(setup, protector, 600, name="安吉县名单修复测试有限公司")
        entry_id = lf.listed(setup, settings, protector, dept, listed, today=today - timedelta(days=360)).id
        verified_account(setup, listed_id, settings, protector)
        person = _verified_person(setup, settings, protector)
        institution_id = _institution(setup).id  # committed
    engine.dispose()
    with app_with_admin(fresh_database_url, settings) as (client, reader):
        yield PortalWorld(client, reader, str(make_url(fresh_database_url).database), today, record_id,
                          record_ref(record_id, protector), penalised, entry_id, listed, person,
                          institution_id)  # fmt: skip


def _verified_person(setup: Session, settings: Settings, protector: Protector) -> str:
    """A natural person (个人信用积分 is for persons only) with an account, its identity proven;
    committed."""
    id_number = make_id_number("330521", date(1985, 3, 1), "101")
    subject_id = lf.subject(setup, protector, 1, name="王阳光", kind=SubjectKind.PERSON,
                            id_number=id_number)  # fmt: skip
    account = accounts_service.sign_up(setup, code=id_number, name="王阳光", contact="p1@example.cn",
                                       password=SUBJECT_PASSWORD, protector=protector,
                                       settings=settings)  # fmt: skip
    accounts_service.verify(setup, account_id=account.id, code=last_code(setup), protector=protector)
    _, code = activation.issue(setup, subject_id=subject_id, actor=Actor.system("test"), channel="counter",
                               settings=settings, protector=protector)  # fmt: skip
    activation.redeem(setup, account, code=code, settings=settings, protector=protector)
    setup.commit()
    return id_number


def _signed_in(client: TestClient, code: str) -> str:
    """Signs the subject in on the portal (before the other writer starts); the token of its forms."""
    token = anonymous_form(client)
    answer = client.post("/account/login", data={"csrf_token": token, "code": code,
                                                  "password": SUBJECT_PASSWORD})  # fmt: skip
    assert (answer.status_code, answer.headers.get("location")) == (303, "/account"), answer.text[:300]
    page = client.get("/account")
    assert page.status_code == 200, page.text[:300]
    found = TOKEN.search(page.text)
    assert found is not None
    return found.group(1)


NOTICE = re.compile(r'class="panel notice notice-(\w+)" role="status">([^<]*)<')


@dataclass
class Answer:
    status: int
    location: str | None
    flash: list[tuple[str, str]]  # the flash the redirect carries (kind, text)
    page: int  # the status of the page redirected to
    notices: list[tuple[str, str]]  # the flash the page shows
    text: str  # the page's text (or the refused form's)


def _submitted(client: TestClient, answer: Response, *, follow: bool = True) -> Answer:
    """A form's answer, and the page it redirects to with its flash, asked at once (beside the writer too)."""
    location = answer.headers.get("location")
    carried = read_flashes(answer)
    if answer.status_code != 303 or location is None or not follow:
        return Answer(answer.status_code, location, carried, 0, [], answer.text)
    page = client.get(location)
    return Answer(303, location, carried, page.status_code, NOTICE.findall(page.text), page.text)


def _apply(world: PortalWorld, csrf: str, apply_path: str) -> Response:
    return world.client.post(apply_path, data={"csrf_token": csrf, **FORM},
                             files=[("evidence", ("缴款凭证.pdf", PDF, "application/pdf"))])  # fmt: skip


def _applied_and_returned(world: PortalWorld, csrf: str, apply_path: str) -> str:
    """Applied on the portal and returned for material (补正) by the platform, before the other writer
    starts (an application beside it: see `test_repair_applications_submitted_beside_another_writer`); the
    page of the application."""
    applied = _submitted(world.client, _apply(world, csrf, apply_path))
    assert (applied.status, applied.page) == (303, 200), applied.text[:300]
    location = str(applied.location)
    number = location.rsplit("/", 1)[-1]
    assert applied.notices == [("success", f"申请已提交，申请编号 {number}，请妥善保存以便查询进度")]  # fmt: skip
    with _setup(world.reader) as setup:
        application = setup.scalars(select(RepairApplication).where(RepairApplication.number == number)).one()
        admin = setup.scalars(select(User).where(User.username == "admin")).one()
        repair_service.return_application(setup, application.id, actor=actor_for_user(admin), missing=MISSING,
                                          today=world.today)  # fmt: skip
        setup.commit()
    return location


def _resubmitted_and_withdrawn_beside_another_writer(world: PortalWorld, csrf: str, apply_path: str
                                                     ) -> list[str]:  # fmt: skip
    """Rounds of an application: applied and returned; then, beside another connection committing every few
    milliseconds, resubmitted with the missing file and withdrawn (which frees the record or entry for the
    next round). The applications' numbers."""
    client = world.client
    numbers = []
    for _ in range(ROUNDS):
        location = _applied_and_returned(world, csrf, apply_path)
        with Importer(world.path) as importer:
            started = _running(importer)
            resubmitted = _submitted(client, client.post(f"{location}/resubmit", data={
                "csrf_token": csrf, "statement": "补充缴款凭证原件扫描件"},
                files=[("evidence", ("凭证原件.pdf", PDF, "application/pdf"))]))  # fmt: skip
            withdrawn = _submitted(client, client.post(f"{location}/withdraw", data={"csrf_token": csrf}))
        answers = [resubmitted, withdrawn]
        assert [(a.status, a.location, a.page) for a in answers] == [(303, location, 200)] * 2, [
            (a.status, a.location, a.page, a.text[:300]) for a in answers]  # fmt: skip
        assert [a.notices for a in answers] == [[("success", "已补正并重新提交")],
                                                [("success", "申请已撤回")]], answers  # fmt: skip
        assert "已提交，待受理" in resubmitted.text
        assert "已撤回" in withdrawn.text
        assert importer.commits > started  # the other connection wrote while the forms were submitted
        numbers.append(location.rsplit("/", 1)[-1])
    return numbers


def _assert_applications(reader: Session, numbers: list[str]) -> list[RepairApplication]:
    reader.rollback()
    applications = reader.scalars(select(RepairApplication).order_by(RepairApplication.id)).all()
    assert [a.number for a in applications] == numbers
    assert [(a.status, a.round, a.missing_materials) for a in applications] == [
        (RepairStatus.WITHDRAWN, 2, MISSING)] * ROUNDS  # fmt: skip
    for application in applications:
        events = repair_service.events(reader, application)
        assert [e.action for e in events] == ["submit", "return", "resubmit", "withdraw"]
        owner = f"repair:{application.id}"
        rounds = reader.scalars(select(Evidence.round).where(Evidence.owner == owner)).all()
        assert sorted(rounds) == [1, 2]  # the first submission's file is kept beside the 补正's
    return list(applications)


@pytest.mark.parametrize("kind", ["record", "list-entry"])
def test_repair_resubmitted_and_withdrawn_beside_another_writer(portal_world: PortalWorld, kind: str) -> None:
    """The resubmission after a 补正 request reads the application, stores the new file and then writes; the
    withdrawal reads and writes. Beside another connection committing every few milliseconds, each answers as
    usual: the application's page with the flash and the new status. For a record, and for an application for
    early removal from a list (移出), which reads the entry and its list type."""
    world = portal_world
    csrf = _signed_in(world.client, world.penalised if kind == "record" else world.listed)
    numbers = _resubmitted_and_withdrawn_beside_another_writer(world, csrf, _apply_path(world, kind))
    applications = _assert_applications(world.reader, numbers)
    if kind == "record":
        assert [(a.record_id, a.list_entry_id, a.open_record_id) for a in applications] == [
            (world.record_id, None, None)] * ROUNDS  # fmt: skip
        assert repair_service.open_application_for(world.reader, world.record_id) is None
    else:
        assert [(a.record_id, a.list_entry_id, a.open_list_entry_id) for a in applications] == [
            (None, world.entry_id, None)] * ROUNDS  # fmt: skip
        assert repair_service.open_application_for_entry(world.reader, world.entry_id) is None


def _apply_path(world: PortalWorld, kind: str) -> str:
    return f"/repair/apply/{world.record_ref}" if kind == "record" else f"/repair/apply-list/{world.entry_id}"


# `repair.hooks.signed` keeps the signed commitment as a 信用修复型 commitment record
# (commitments.service.keep_repair_commitment) through `records_service.import_rows`, which commits the request's
# transaction and begins its own. What followed it (the online commitment, then the audit entry) ran in a plain
# transaction that had read first, and failed with "database is locked" when the other connection had committed
# meanwhile: the subject got 503 while the application stayed open. Failing needs a commit of the other writer in
# a short window: ten rounds met one in about four runs of five.
APPLY_ROUNDS = 10


@pytest.mark.parametrize("kind", ["record", "list-entry"])
def test_repair_applications_submitted_beside_another_writer(portal_world: PortalWorld, kind: str) -> None:
    """A repair application reads the account, the record or entry and its eligibility, stores the evidence
    and then writes, in `run_as_writer`; applied and withdrawn round after round beside another connection
    committing every few milliseconds, each should answer as usual."""
    world = portal_world
    client = world.client
    csrf = _signed_in(client, world.penalised if kind == "record" else world.listed)
    apply_path = _apply_path(world, kind)
    answers = []
    with Importer(world.path) as importer:
        started = _running(importer)
        for _ in range(APPLY_ROUNDS):
            applied = _submitted(client, _apply(world, csrf, apply_path))
            withdrawn = client.post(f"{applied.location}/withdraw", data={"csrf_token": csrf})
            answers += [applied, _submitted(client, withdrawn)]
    statuses = [(a.status, a.page) for a in answers]
    assert statuses == [(303, 200)] * 2 * APPLY_ROUNDS, [a.text[:300] for a in answers]
    numbers = [str(a.location).rsplit("/", 1)[-1] for a in answers[::2]]
    assert [a.notices for a in answers] == [n for number in numbers for n in (
        [("success", f"申请已提交，申请编号 {number}，请妥善保存以便查询进度")],
        [("success", "申请已撤回")])]  # fmt: skip
    assert importer.commits > started
    world.reader.rollback()
    applications = world.reader.scalars(select(RepairApplication)).all()
    assert [a.status for a in applications] == [RepairStatus.WITHDRAWN] * APPLY_ROUNDS
    kept = world.reader.scalars(select(OnlineCommitment.template_key)).all()
    assert sorted(kept) == sorted(repair_key(a.id) for a in applications)  # each signed commitment kept
    submitted = world.reader.scalars(select(AuditEntry.target).where(AuditEntry.action == "repair.submitted")).all()
    assert sorted(submitted) == sorted(f"repair:{a.id}" for a in applications)


POINTS_IN = "已开通个人信用积分。积分只用于守信激励，您可随时关闭"
POINTS_OUT = "已关闭个人信用积分，积分记录已全部删除"


def test_points_opted_in_and_out_beside_another_writer(portal_world: PortalWorld) -> None:
    """Opting in reads the account's subject (persons only) and its membership before it writes; opting out
    reads the membership and deletes it with its history. In, out, in, out, in, beside another connection
    committing every few milliseconds: each answers with its flash, on the page it redirects to."""
    world = portal_world
    client = world.client
    csrf = _signed_in(client, world.person)
    answers = []
    with Importer(world.path) as importer:
        started = _running(importer)
        for n in range(2 * ROUNDS - 1):
            action = "opt-out" if n % 2 else "opt-in"
            answer = client.post(f"/account/points/{action}", data={"csrf_token": csrf})
            answers.append(_submitted(client, answer))
    assert [(a.status, a.location) for a in answers] == [(303, "/account/points")] * (2 * ROUNDS - 1), answers
    assert [a.flash for a in answers] == [[("success", POINTS_OUT if n % 2 else POINTS_IN)]
                                          for n in range(2 * ROUNDS - 1)], answers  # fmt: skip
    shown = [(a.page, a.notices) for a in answers]
    assert shown == [(200, [("success", POINTS_OUT if n % 2 else POINTS_IN)]) for n in range(2 * ROUNDS - 1)]
    assert all("您尚未开通个人信用积分" in a.text for a in answers[1::2])
    assert all('data-testid="points-score">100<' in a.text for a in answers[::2])  # a member: the base score
    assert importer.commits > started
    world.reader.rollback()
    member = world.reader.scalars(select(PointsMember)).one()
    history = world.reader.scalars(select(PointsHistory)).all()
    assert [row.member_id for row in history] == [member.id]  # the last page's score (the others' are gone)
    actions = world.reader.scalars(select(AuditEntry.action).where(AuditEntry.action.like("points.%"))
                                   .order_by(AuditEntry.seq)).all()  # fmt: skip
    assert [str(a) for a in actions] == ["points.opted-in", "points.opted-out"] * (ROUNDS - 1) + [
        "points.opted-in"]  # fmt: skip


def test_the_points_page_of_a_member_beside_another_writer(portal_world: PortalWorld) -> None:
    """A member's page keeps the day's score (points.service.own_score inserts or updates the day's history row)
    from a GET: asked beside another connection committing every few milliseconds, it is shown each time (it
    failed with "database is locked" in a plain transaction that had read first)."""
    world = portal_world
    client = world.client
    csrf = _signed_in(client, world.person)
    assert client.post("/account/points/opt-in", data={"csrf_token": csrf}).status_code == 303
    with Importer(world.path) as importer:
        _running(importer)
        pages = [client.get("/account/points") for _ in range(2 * ROUNDS)]
    assert [page.status_code for page in pages] == [200] * 2 * ROUNDS
    assert all('data-testid="points-score">100<' in page.text for page in pages)
    world.reader.rollback()
    assert len(world.reader.scalars(select(PointsHistory)).all()) == 1  # one row a day


CONSENTED = "已授权。您可随时在本页查看每一次查询，并随时撤回授权"
REVOKED = "授权已撤回，该机构此后的查询将被拒绝"
POSTED = "融资需求已发布，匹配的金融机构将在服务时限内受理"


def test_finance_consents_granted_revoked_and_demands_posted_beside_another_writer(portal_world: PortalWorld
                                                                                  ) -> None:  # fmt: skip
    """Granting a 信易贷 consent reads the institution, revoking reads the consent, posting a demand reads
    the subject and the calendar, each before it writes; beside another connection committing every few
    milliseconds, each answers with its flash on the enterprise's 信易贷 page, which shows the change."""
    world = portal_world
    client = world.client
    csrf = _signed_in(client, world.penalised)
    until = world.today + timedelta(days=30)
    answers = []
    with Importer(world.path) as importer:
        started = _running(importer)
        for n in range(ROUNDS):
            answers.append(_submitted(client, client.post("/account/finance/consents", data={
                "csrf_token": csrf, "institution": str(world.institution_id), "scope": ["basics", "licences"],
                "valid_until": until.isoformat()})))  # fmt: skip
            consent = re.search(r'data-consent="(\d+)" data-state="有效"', answers[-1].text)
            assert consent is not None, answers[-1]
            revoke = f"/account/finance/consents/{consent.group(1)}/revoke"
            answers.append(_submitted(client, client.post(revoke, data={"csrf_token": csrf})))
            assert f'data-consent="{consent.group(1)}" data-state="已撤回"' in answers[-1].text
            answers.append(_submitted(client, client.post("/account/finance/demands", data={
                "csrf_token": csrf, "amount": str(100 * (n + 1)), "term": "12", "purpose": "流动资金",
                "collateral": ""})))  # fmt: skip
            assert answers[-1].text.count("data-demand=") == n + 1
    statuses = [(a.status, a.location, a.page) for a in answers]
    assert statuses == [(303, "/account/finance", 200)] * 3 * ROUNDS, answers
    assert [a.notices for a in answers] == [[("success", CONSENTED)], [("success", REVOKED)],
                                            [("success", POSTED)]] * ROUNDS, answers  # fmt: skip
    assert importer.commits > started
    world.reader.rollback()
    consents = world.reader.scalars(select(Consent).order_by(Consent.id)).all()
    assert [(c.institution_id, c.scope, c.valid_until) for c in consents] == [
        (world.institution_id, ["basics", "licences"], until)] * ROUNDS  # fmt: skip
    assert all(c.revoked_at is not None for c in consents)
    demands = world.reader.scalars(select(Demand).order_by(Demand.id)).all()
    assert [(int(d.amount), d.term_months, d.purpose, d.status) for d in demands] == [
        (100 * (n + 1), 12, "流动资金", DemandStatus.OPEN) for n in range(ROUNDS)]  # fmt: skip
    actions = world.reader.scalars(select(AuditEntry.action).where(AuditEntry.action.like("finance.%"),
                                                                 AuditEntry.actor.like("subject-account:%"))
                                   .order_by(AuditEntry.seq)).all()  # fmt: skip
    assert [str(a) for a in actions] == ["finance.consent-granted", "finance.consent-revoked",
                                         "finance.demand-posted"] * ROUNDS  # fmt: skip
