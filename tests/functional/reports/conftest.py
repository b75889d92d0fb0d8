"""Fixtures for credit reports: an app on the test's rolled-back session, two departments, and subjects whose
records fill every section of a report (published and not, under objection, under repair, repaired, on
each kind of list), an empty subject and a natural person; subject accounts signed in on the portal; PDF text
through Debian's pdftotext."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import lists as lf
from tests.factories import records as f
from tests.fixtures.sessions import serve_from

from xinyong.accounts import service as accounts_service
from xinyong.accounts.models import SubjectAccount
from xinyong.actors import Actor, Permission
from xinyong.app import create_app
from xinyong.auth import service as auth_service
from xinyong.auth.models import User
from xinyong.auth.rules import Role
from xinyong.clock import today as china_today
from xinyong.codes import make_id_number
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.files import IncomingFile
from xinyong.notify.models import OutboxItem
from xinyong.objections import service as objections_service
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.repair import service as repair_service
from xinyong.subjects.models import Subject, SubjectKind
from xinyong.web.deps import SESSION_COOKIE, SUBJECT_COOKIE

PASSWORD = "Subject-pass-2025"
STAFF_PASSWORD = "Correct-horse-42"
COMPANY = "安吉县报告样本科技有限公司"
EMPTY_COMPANY = "安吉县无记录样本有限公司"
PERSON = "李报告"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with the smallest parameters: the same code path, a fraction of the time."""
    from argon2 import PasswordHasher

    from xinyong.auth import passwords

    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", lambda: fast)
    passwords._DUMMY.clear()


@pytest.fixture
def today() -> date:
    return china_today()


@pytest.fixture
def report_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={
        "portal_rate_limit_requests": 0, "login_rate_limit_attempts": 1000, "upload_dir": tmp_path / "uploads",
        "events_file": tmp_path / "events.jsonl",
    })  # fmt: skip


@pytest.fixture
def app(db_session: Session, report_settings: Settings) -> Iterator[object]:
    application = create_app(report_settings)

    serve_from(application, db_session)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


# ------------------------------------------------------------------------------------------------ the data


@dataclass
class World:
    market: Department
    tax: Department
    company: Subject
    empty: Subject
    person: Subject
    person_id_number: str
    records: dict[str, Record] = field(default_factory=dict)  # by role in the scenario
    accounts: dict[str, SubjectAccount] = field(default_factory=dict)


def _import(session: Session, settings: Settings, protector, rows: list[dict[str, str]], *, record_type: str,  # type: ignore[no-untyped-def]
            department: Department, today: date) -> list[Record]:  # fmt: skip
    result = records_service.import_rows(session, rows, settings=settings, protector=protector,
                                         record_type=record_type, department=department, actor="test", today=today)  # fmt: skip
    assert result.rejected == 0, result
    key = "CF_WSH" if record_type == "penalty" else "XK_WSH"
    found = {r.doc_no: r for r in session.scalars(select(Record).where(Record.doc_no.in_([r[key] for r in rows])))}
    return [found[r[key]] for r in rows]


def penalty(dept: Department, code: str, name: str, decided: date, doc_no: str, **overrides: str) -> dict[str, str]:
    return f.penalty_row(CF_XDR_MC=name, CF_XDR_SHXYM=code, CF_WSH=doc_no, CF_JDRQ=decided.isoformat(),
                         CF_CFJG=dept.name, CF_CFJGDM=dept.code, CF_SJLY=dept.name, CF_SJLYDM=dept.code, **overrides)  # fmt: skip


def last_code(session: Session) -> str:
    item = session.scalars(select(OutboxItem).where(OutboxItem.topic == "message").order_by(OutboxItem.id.desc())).first()
    assert item is not None
    return item.payload["body"].split("验证码为 ")[1][:6]


def make_account(session: Session, settings: Settings, protector, subject: Subject, code: str, *,  # type: ignore[no-untyped-def]
                 unproven: bool = False) -> SubjectAccount:  # fmt: skip
    account = accounts_service.sign_up(session, code=code, name=subject.name, contact=f"s{subject.id}@example.cn",
                                       password=PASSWORD, protector=protector, settings=settings)  # fmt: skip
    accounts_service.verify(session, account_id=account.id, code=last_code(session), protector=protector)
    # An account acts for its subject once it has proven the subject's identity (an activation code handed
    # over at the counter, say); `unproven` keeps one that has not.
    if not unproven:
        accounts_service.prove_identity(session, account, method="activation_code")
    return account


@pytest.fixture
def world(db_session: Session, report_settings: Settings, protector, today: date) -> World:  # type: ignore[no-untyped-def]
    session, settings = db_session, report_settings
    market = f.department(session)
    tax = f.department(session, code=f.OTHER_DEPT_CODE, name="国家税务总局安吉县税务局")
    code, _empty_code = f.company_code(7001), f.company_code(7002)
    ago = lambda days: today - timedelta(days=days)  # noqa: E731
    licence = f.license_row(XK_XDR_MC=COMPANY, XK_XDR_SHXYM=code, XK_WSH="安市监许〔2026〕88号",
                            XK_JDRQ=ago(30).isoformat(), XK_YXQZ=ago(30).isoformat(), XK_XKJG=market.name,
                            XK_XKJGDM=market.code, XK_LYDW=market.name, XK_LYDWDM=market.code)  # fmt: skip
    records = dict(zip(["licence"], _import(session, settings, protector, [licence], record_type="license",
                                            department=market, today=today), strict=True))  # fmt: skip
    rows = {
        "disputed": penalty(market, code, COMPANY, ago(200), "安市监罚〔2026〕11号", CF_WFXW="销售过期食品"),
        "repairing": penalty(market, code, COMPANY, ago(210), "安市监罚〔2026〕12号", CF_WFXW="未按规定标注价格"),
        "repaired": penalty(market, code, COMPANY, ago(220), "安市监罚〔2026〕13号", CF_WFXW="虚假宣传"),
        "unpublished": penalty(market, code, COMPANY, ago(20), "安市监罚〔2026〕14号", CF_WFXW="未亮照经营",
                               CF_CFLB="警告", CF_NR="警告", CF_NR_FK=""),
        "old": penalty(market, code, COMPANY, ago(365 * 4), "安市监罚〔2022〕15号", CF_WFXW="无证经营"),
    }
    imported = _import(session, settings, protector, list(rows.values()), record_type="penalty", department=market,
                       today=today)  # fmt: skip
    records.update(zip(rows, imported, strict=True))
    records["tax"] = _import(session, settings, protector, [
        penalty(tax, code, COMPANY, ago(100), "安税罚〔2026〕21号", CF_WFXW="逾期申报"),
    ], record_type="penalty", department=tax, today=today)[0]  # fmt: skip
    person_id = make_id_number("330521", date(1980, 5, 17), "123")
    records["person"] = _import(session, settings, protector, [f.penalty_row(
        CF_XDR_MC=PERSON, CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJLX="身份证", CF_XDR_ZJHM=person_id,
        CF_WSH="安市监罚〔2026〕31号", CF_JDRQ=ago(60).isoformat(), CF_CFJG=market.name, CF_CFJGDM=market.code,
        CF_SJLY=market.name, CF_SJLYDM=market.code, CF_FRDB="")], record_type="penalty", department=market,
        today=today)[0]  # fmt: skip
    lf.subject(session, protector, 7002, name=EMPTY_COMPANY)
    company = session.scalars(select(Subject).where(Subject.uscc == code)).one()
    empty = session.scalars(select(Subject).where(Subject.name == EMPTY_COMPANY)).one()
    assert empty.uscc == f.company_code(90000 + 7002)
    person = session.get(Subject, records["person"].subject_id)
    assert person is not None
    assert person.kind is SubjectKind.PERSON

    # lists: honour, serious dishonesty, watch (not public)
    lf.load_types(session, market)
    for type_key in ("honor", "serious-dishonesty", "watch"):
        lf.listed(session, settings, protector, market, code, today=today, type_key=type_key)

    world = World(market, tax, company, empty, person, person_id, records)
    account = make_account(session, settings, protector, company, code)
    world.accounts["company"] = account
    world.accounts["person"] = make_account(session, settings, protector, person, person_id)
    world.accounts["empty"] = make_account(session, settings, protector, empty, empty.uscc or "", unproven=True)
    objections_service.file_objection(session, account=account, record_id=records["disputed"].id,
                                      data=objections_service.ObjectionInput("wrong-data", "处罚金额与决定书不一致，请核实更正",
                                                                             "王经理", "0572-5120000"),
                                      files=[], settings=settings, today=today)  # fmt: skip
    application = {}
    for role in ("repairing", "repaired"):
        application[role] = repair_service.submit_application(
            session, account=account, record_id=records[role].id, files=[IncomingFile("缴款凭证.pdf", PDF)],
            data=repair_service.ApplicationInput("王经理", "0572-5120000", "", "罚款已缴清，违法行为已整改完毕。", "王经理", True),
            settings=settings, today=today,
        )  # fmt: skip
    accepted = repair_service.accept_application(session, application["repaired"].id, actor=Actor.system("platform"),
                                                 settings=settings, today=today)  # fmt: skip
    reviewer = Actor(label="user:market-reviewer", kind="user", permissions=frozenset(Permission),
                     department_id=market.id, is_department_bound=True)  # the record's department decides
    repair_service.approve_application(session, accepted.id, actor=reviewer, opinion="同意修复", today=today)
    session.commit()
    return world


# ------------------------------------------------------------------------------------------ sign-ins


@dataclass
class Portal:
    client: TestClient
    account: SubjectAccount
    csrf: str

    def post(self, url: str, data: dict | None = None, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


@pytest.fixture
def portal_sign_in(client: TestClient, db_session: Session, report_settings: Settings, protector  # type: ignore[no-untyped-def]
                   ) -> Callable[[SubjectAccount, str], Portal]:  # fmt: skip
    def run(account: SubjectAccount, code: str) -> Portal:
        row, token = accounts_service.sign_in(db_session, code=code, password=PASSWORD, protector=protector,
                                              settings=report_settings, client="test")  # fmt: skip
        db_session.commit()
        client.cookies.clear()
        client.cookies.set(SUBJECT_COOKIE, token)
        return Portal(client, account, row.csrf_token)

    return run


@dataclass
class Console:
    client: TestClient
    csrf: str

    def post(self, url: str, data: dict | None = None, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


@pytest.fixture
def staff_sign_in(client: TestClient, db_session: Session, report_settings: Settings
                  ) -> Callable[[Role, Department | None], Console]:  # fmt: skip
    def run(role: Role, department: Department | None) -> Console:
        name = f"{role.value.replace('_', '-')}-{department.id if department else 0}"
        user: User = auth_service.create_user(db_session, username=name, password=STAFF_PASSWORD,
                                              role=role, department=department, display_name="报告测试",
                                              actor=Actor.system("test"), settings=report_settings)  # fmt: skip
        row, token = auth_service.start_session(db_session, user, settings=report_settings, client="testclient")
        db_session.commit()
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, token)
        return Console(client, row.csrf_token)

    return run


# ------------------------------------------------------------------------------------------ PDF tools


def pdf_text(data: bytes, tmp_path: Path) -> str:
    """The PDF's text as Debian's pdftotext reads it, spaces and line breaks removed (CJK text has no word
    spaces, and a table cell may wrap anywhere)."""
    assert shutil.which("pdftotext"), "poppler-utils is needed (scripts/install-system-deps.sh)"
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60)
    return "".join(out.stdout.decode("utf-8").split())


def pdf_pages(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, timeout=60, text=True)
    return int(next(line.split()[-1] for line in out.stdout.splitlines() if line.startswith("Pages:")))
