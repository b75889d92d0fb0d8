"""No full ID number leaves the platform or rests in clear (ID numbers typed where they do not belong).

Rows of every catalogue type, for an organisation and for a person, are imported through the real pipeline
with an ID number — plain, full-width, spaced, tab-split, dashed, dotted, in a sentence, first-generation,
mistyped — in every field that accepts text; further rows carry one in each field that does not, and are
rejected or lose the value. The other places where people type text follow: a file name and a header, a
revocation, a repair application with its evidence, an objection, an imported list, a listing procedure,
a credit check, a government body's case and a court's notice, a warning's acknowledgement, and a civil
servant's file. Then every surface is swept — portal pages and CSV, the public API, the console pages and
CSV exports reached by following every link, the batch report through the API, the log, the delivered
notifications and events, and every column of every table (read through the metadata, so new tables are
covered) except the sealed ones — for any of those numbers, or the middle digits a mask hides, in any
disguise. The subject's own account page, which opens the sealed part, must still show them.
"""

from __future__ import annotations

import csv
import html
import itertools
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import lists as list_factories
from tests.factories import records as record_factories
from tests.fixtures.sessions import serve_from

from xinyong.accounts import activation
from xinyong.accounts import service as accounts_service
from xinyong.actors import Actor
from xinyong.alerts import service as alerts_service
from xinyong.alerts.models import Alert
from xinyong.app import create_app
from xinyong.auth import service as auth_service
from xinyong.auth.models import User
from xinyong.auth.rules import Role
from xinyong.catalog import load_catalog
from xinyong.catalog.schema import FieldSpec, RecordType
from xinyong.checks import service as checks_service
from xinyong.clock import today as china_today
from xinyong.codes import make_id_number, make_uscc, mask_id_numbers
from xinyong.config import Settings
from xinyong.db import Base
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.files import IncomingFile
from xinyong.integrity import service as integrity_service
from xinyong.lists import imports as list_imports
from xinyong.lists import service as lists_service
from xinyong.logs import MaskIdNumbers
from xinyong.notify import service as notify_service
from xinyong.notify.models import OutboxItem
from xinyong.objections import service as objections_service
from xinyong.objections.models import GROUNDS
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.repair import service as repair_service
from xinyong.subjects import refs
from xinyong.subjects.models import Subject
from xinyong.web.deps import SESSION_COOKIE, SUBJECT_COOKIE

PASSWORD = "Correct-horse-42"
SUBJECT_PASSWORD = "Subject-pass-2025"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Columns that hold ciphertext by design: opened only for the subject and roles allowed to see them.
SEALED_COLUMNS = {("records", "sealed"), ("record_versions", "sealed"), ("subjects", "id_sealed"),
                  ("civil_servant_records", "id_sealed")}
REGIONS = ("330521", "110105", "370102", "440305", "510104", "650102", "130102", "210102", "320106", "420111")
# Separators the sweep removes before looking: everything the scanner accepts between digits.
_SEPARATORS = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff\-\u2010-\u2015\u2212\ufe58\ufe63.\u00b7\u2027\u30fb+]")
_HREF = re.compile(r'href="([^"#]+)"')
MAX_PAGES = 600
# Pages the sweep must have reached (a check on the crawl itself).
EXPECTED_PAGES = (
    "/records/", "/subjects/", "/disclosure/penalty.csv", "/lists/public/", "/repair/notice/", "/admin/batches/",
    "/admin/records", "/admin/subjects/", "/admin/audit/export.csv", "/admin/repairs/", "/admin/objections/",
    "/admin/lists/", "/admin/list-imports/", "/admin/checks/", "/api/v1/batches/", "/api/v1/subjects/",
    "/api/v1/checks/", "/api/v1/lists/imports/",
)


# ------------------------------------------------------------------------------------ planted numbers


@dataclass
class Planted:
    """Every ID number put into the platform, and the strings that must never come out."""

    numbers: list[str] = field(default_factory=list)
    _serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new(self, *, mistyped: bool = False, first_generation: bool = False) -> str:
        n = next(self._serial)
        birth = date(1941 + (n * 7) % 57, 1 + n % 12, 1 + (n * 5) % 28)
        number = make_id_number(REGIONS[n % len(REGIONS)], birth, f"{(n * 37) % 1000:03d}")
        if mistyped:
            number = number[:17] + ("7" if number[17] != "7" else "8")
        if first_generation:
            number = number[:6] + number[8:17]
        self.numbers.append(number)
        return number

    def disguised(self, width: int | None = None, *, style: int | None = None) -> str:
        """A new ID number in one of the disguises (in turn), fitting in `width` characters."""
        n = len(self.numbers)
        style = n % 12 if style is None else style
        number = self.new(mistyped=style == 10, first_generation=style == 11)
        forms = _disguises(number)
        text = forms[style % len(forms)]
        return text if width is None or len(text) <= width else number

    def needles(self) -> list[str]:
        """Each number whole, and the middle that a mask (first 4, last 4 kept) hides."""
        found = []
        for number in self.numbers:
            found.append(number)
            if len(number) == 18:
                found.append(number[4:14])
        return found


def _disguises(number: str) -> list[str]:
    full_width = number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    head, birth, tail = number[:6], number[6:-4], number[-4:]
    return [
        number,
        full_width,
        f"{head} {birth} {tail}",
        "\u3000".join(number[i : i + 4] for i in range(0, len(number), 4)),
        f"{head}\t{birth}\t{tail}",
        f"{head}—{birth}–{tail}",
        f"{head}.{birth}.{tail}",
        f"当事人张某（身份证号码：{number}）到场",
        f"{head}\u200b{birth}\u200b{tail}",
        f"{head}－{birth}－{tail}",
        f"身份证号{number}（系笔误）",
        f"一代证{number}",
    ]


def _normal(text: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", html.unescape(text))).upper()


def leaks(planted: Planted, text: str) -> list[str]:
    haystack = _normal(text)
    return [needle for needle in planted.needles() if needle in haystack]


def strings_of(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_of(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_of(item)
    elif value is not None:
        yield str(value)


# ----------------------------------------------------------------------------------------- the rows


def _value(spec: FieldSpec, *, person: bool, decided: date, uscc: str, dept: Department) -> str:
    """A valid value for a field that does not accept free text."""
    role = spec.role
    if spec.kind == "enum":
        if role == "subject_kind":
            return "自然人" if person else "法人及非法人组织"
        return spec.values[0]
    if spec.kind == "multi_enum":
        return "罚款" if "罚款" in spec.values else spec.values[0]
    if spec.kind == "date":
        if role in ("decision_date", "valid_from", "pledge_determined_on") or not spec.future_allowed:  # 成立日期 … cannot be in the future
            return decided.isoformat()
        return (decided + timedelta(days=365 * 5 if role == "valid_until" else 365)).isoformat()
    if spec.kind == "decimal":
        return "0.2"
    if spec.kind == "uscc":
        return ("" if person else uscc) if role == "uscc" else dept.code
    return ""


def accepts_text(spec: FieldSpec) -> bool:
    return spec.kind == "text" or (spec.kind == "enum" and spec.on_unknown == "warning")


def row_with_ids(rtype: RecordType, planted: Planted, *, person: bool, n: int, decided: date,
                 dept: Department) -> dict[str, str]:  # fmt: skip
    """Every field that accepts text holds an ID number; identifiers of people are ID numbers too."""
    uscc = record_factories.company_code(70000 + n)
    row: dict[str, str] = {}
    for spec in rtype.fields:
        if spec.role == "subject_name":
            row[spec.code] = f"{'张' if person else '安吉县'}{planted.disguised(40)}{'' if person else '科技有限公司'}"
        elif spec.role == "doc_no" and rtype.row_rules:  # a 承诺编码: digits only (region + date + serial)
            row[spec.code] = f"330521{decided:%Y%m%d}{n:06d}"
        elif spec.role == "doc_no":
            row[spec.code] = f"安罚〔2025〕{n}号{planted.disguised(100)}"
        elif accepts_text(spec):
            row[spec.code] = planted.disguised(spec.max_length)
        elif spec.kind == "id_number":
            row[spec.code] = planted.disguised(40, style=1) if spec.role != "id_number" or person else ""
        else:
            row[spec.code] = _value(spec, person=person, decided=decided, uscc=uscc, dept=dept)
    return row


def clean_row(rtype: RecordType, *, n: int, decided: date, dept: Department) -> dict[str, str]:
    """A valid organisation row without any ID number."""
    row: dict[str, str] = {}
    for spec in rtype.fields:
        if spec.role == "subject_name":
            row[spec.code] = f"安吉县拒收测试{n}号有限公司"
        elif spec.role == "doc_no" and rtype.row_rules:
            row[spec.code] = f"330521{decided:%Y%m%d}{n:06d}"
        elif spec.role == "doc_no":
            row[spec.code] = f"安拒〔2025〕{n}号"
        elif spec.role == "id_type" or spec.kind == "id_number":
            row[spec.code] = ""
        elif accepts_text(spec):
            row[spec.code] = "依法作出" if spec.kind == "text" else _value(spec, person=False, decided=decided,
                                                                         uscc="", dept=dept)
        else:
            row[spec.code] = _value(spec, person=False, decided=decided,
                                    uscc=record_factories.company_code(80000 + n), dept=dept)
    return row


# --------------------------------------------------------------------------------------- the fixture


@dataclass
class World:
    planted: Planted
    settings: Settings
    protector: Protector
    dept: Department
    users: dict[str, User]
    api_headers: dict[str, str]
    batch_ids: list[int]
    text_batches: dict[str, int]  # record type → the batch whose rows hold ID numbers in every text field
    list_import_ids: list[int]
    list_outcome: tuple[int, int]  # (created, rejected) of the imported list
    check_numbers: list[str]
    account_token: str
    own_numbers: list[str]  # numbers the organisation's account may see in clear on its own page
    org_penalty: dict[str, str]  # the organisation's penalty row, as the department sent it


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from xinyong.auth import passwords

    monkeypatch.setattr(passwords, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    passwords._DUMMY.clear()


@pytest.fixture
def leak_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={
        "portal_rate_limit_requests": 0, "login_rate_limit_attempts": 1000, "upload_dir": tmp_path / "uploads",
        "events_file": tmp_path / "events.jsonl",
    })  # fmt: skip


@pytest.fixture
def client(db_session: Session, leak_settings: Settings) -> Iterator[TestClient]:
    app = create_app(leak_settings)

    serve_from(app, db_session)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client
    app.state.engine.dispose()


def _import(session: Session, world_settings: Settings, protector: Protector, dept: Department, rtype: str,
            rows: list[dict[str, str]], today: date) -> records_service.ImportResult:  # fmt: skip
    return records_service.import_rows(session, rows, settings=world_settings, protector=protector,
                                       record_type=rtype, department=dept, actor="test", today=today)  # fmt: skip


def _write_csv(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def _last_code(session: Session) -> str:
    item = session.scalars(select(OutboxItem).where(OutboxItem.topic == "message")
                           .order_by(OutboxItem.id.desc())).first()  # fmt: skip
    assert item is not None
    return re.search(r"验证码为 (\d{6})", item.payload["body"]).group(1)  # type: ignore[union-attr]


@pytest.fixture
def world(db_session: Session, leak_settings: Settings, protector: Protector, tmp_path: Path) -> World:
    session, settings = db_session, leak_settings
    planted = Planted()
    today = china_today()
    decided = today - timedelta(days=200)
    dept = record_factories.department(session)
    system = Actor.system("test")
    users = {
        role.value: auth_service.create_user(session, username=role.value.replace("_", "-"), password=PASSWORD,
                                             role=role, department=dept if role.is_department_bound else None, display_name=f"测试{role.value}", actor=system,
                                             settings=settings)
        for role in Role
    }  # fmt: skip
    _, token = departments_service.issue_api_key(session, department=dept, name="业务系统",
                                                  scopes=["api:records:write", "api:records:read",
                                                          "api:checks:write", "api:lists:write"])  # fmt: skip
    catalog = load_catalog(settings.catalog_dirs)
    batch_ids: list[int] = []
    text_batches: dict[str, int] = {}
    serial = itertools.count(1)
    org_rows: dict[str, dict[str, str]] = {}
    own_numbers: list[str] = []

    # Every field that accepts text, of every type, for an organisation and a person.
    for rtype in catalog.types.values():
        rows = []
        kinds = rtype.field_by_role("subject_kind")
        # A type whose subjects cannot be natural persons (inspection results) is tried with an organisation only.
        for person in (False, True) if kinds is None or "自然人" in kinds.values else (False,):
            before = len(planted.numbers)
            row = row_with_ids(rtype, planted, person=person, n=next(serial), decided=decided, dept=dept)
            if not person:
                org_rows[rtype.key] = row
                if rtype.key == "penalty":
                    own_numbers = planted.numbers[before:]
            rows.append(row)
        result = _import(session, settings, protector, dept, rtype.key, rows, today)
        assert result.rejected == 0, records_service.get_batch(session, result.batch_id).failure
        batch_ids.append(result.batch_id)
        text_batches[rtype.key] = result.batch_id

        # An ID number in each field that does not accept text: the row is rejected or the value dropped.
        rejected = []
        for spec in rtype.fields:
            if accepts_text(spec) or spec.kind == "id_number":
                continue
            row = clean_row(rtype, n=next(serial), decided=decided, dept=dept)
            row[spec.code] = planted.disguised(40)
            rejected.append(row)
        batch_ids.append(_import(session, settings, protector, dept, rtype.key, rejected, today).batch_id)

    # A file whose name and an extra header carry ID numbers.
    penalty = catalog.get("penalty")
    row = clean_row(penalty, n=next(serial), decided=decided, dept=dept)
    extra = f"备注{planted.new()}"
    path = _write_csv(tmp_path / "upload.csv", [*row, extra], [[*row.values(), planted.disguised()]])
    result = records_service.import_file(session, path, settings=settings, protector=protector,
                                         record_type="penalty", department=dept, actor="test",
                                         filename=f"{planted.new()}处罚.csv", today=today)  # fmt: skip
    batch_ids.append(result.batch_id)

    # Revoked by its 文书号 as the department knows it (in clear), for a reason naming a person.
    revoked = org_rows["license"]
    doc_code = catalog.get("license").role_code("doc_no")
    assert doc_code is not None
    records_service.revoke_record(session, department=dept, record_type="license", doc_no=revoked[doc_code],
                                  reason=f"重复上报，经办人身份证号{planted.disguised()}", actor="test")  # fmt: skip

    # The organisation's account: sign-up with its name as typed, a repair application, an objection.
    name_code = penalty.role_code("subject_name")
    uscc_code = penalty.role_code("uscc")
    assert name_code
    assert uscc_code
    org_penalty = org_rows["penalty"]
    account = accounts_service.sign_up(session, code=org_penalty[uscc_code], name=org_penalty[name_code],
                                       contact="org@example.cn", password=SUBJECT_PASSWORD, protector=protector,
                                       settings=settings)  # fmt: skip
    accounts_service.verify(session, account_id=account.id, code=_last_code(session), protector=protector)
    _, activation_code = activation.issue(session, subject_id=account.subject_id, actor=Actor.system("test"),
                                          channel="counter", settings=settings, protector=protector)  # fmt: skip
    activation.redeem(session, account, code=activation_code, settings=settings, protector=protector)
    record = session.scalars(select(Record).where(Record.record_type == "penalty")
                             .join(Subject, Subject.id == Record.subject_id)
                             .where(Subject.uscc == org_penalty[uscc_code])).one()  # fmt: skip
    application = repair_service.submit_application(
        session, account=account, record_id=record.id,
        data=repair_service.ApplicationInput(
            contact_name=f"张三{planted.disguised(40)}", contact_phone="13800138000", contact_email="",
            statement=f"已缴清罚款。法定代表人{planted.disguised()}签字确认。", signer_name=f"张三{planted.new()}",
            agrees=True),
        files=[IncomingFile(f"{planted.new()}身份证.pdf", PDF)], settings=settings, today=today,
    )  # fmt: skip
    reviewer = auth_service.actor_for_user(users["reviewer"])
    platform = auth_service.actor_for_user(users["platform_admin"])  # the platform's step of a repair
    repair_service.return_application(session, application.id, actor=platform,
                                      missing=f"请补充经办人{planted.disguised()}的身份证明", today=today)  # fmt: skip
    # The objection goes to a second penalty of the same organisation (one open case per record).
    second = row_with_ids(penalty, planted, person=False, n=next(serial), decided=decided, dept=dept)
    second[uscc_code], second[name_code] = org_penalty[uscc_code], org_penalty[name_code]
    batch_ids.append(_import(session, settings, protector, dept, "penalty", [second], today).batch_id)
    disputed = session.scalars(select(Record).where(Record.subject_id == record.subject_id, Record.id != record.id,
                                                    Record.record_type == "penalty")).one()  # fmt: skip
    objection = objections_service.file_objection(
        session, account=account, record_id=disputed.id,
        data=objections_service.ObjectionInput(ground=next(iter(GROUNDS)),
                                               reason=f"处罚对象有误，当事人身份证号为{planted.disguised()}",
                                               contact_name=f"李四{planted.new()}", contact_phone="13800138000"),
        files=[], settings=settings, today=today,
    )  # fmt: skip
    objections_service.decide_objection(session, objection.id, actor=reviewer, outcome="uphold",
                                        reason=f"经核实无误，{planted.disguised()}", today=today)  # fmt: skip

    # Lists: an imported list with ID numbers in every column; a local listing walked through its procedure.
    list_factories.load_types(session, dept)
    person_code = planted.new()
    outcome = list_imports.import_list_rows(session, [
        {"name": f"王五{planted.disguised(40)}", "code": person_code, "kind": "自然人",
         "doc_no": "（2025）浙0523执1号", "listed_on": decided.isoformat(),
         "reasons": f"有履行能力而拒不履行，{planted.disguised()}", "authority": f"安吉县人民法院{planted.new()}"},
        {"name": "钱七", "code": planted.new(), "doc_no": f"（2025）浙0523执{planted.disguised(60)}号",
         "listed_on": decided.isoformat(), "reasons": "拒不履行"},
        {"name": "赵六", "code": planted.new(mistyped=True), "doc_no": "（2025）浙0523执3号",
         "listed_on": decided.isoformat(), "reasons": "拒不履行"},
    ], type_key="court-dishonest-debtors", department=dept, actor=system, protector=protector, today=today)  # fmt: skip
    start = today - timedelta(days=60)
    entry = lists_service.propose(session, type_key="serious-dishonesty", subject_code=org_penalty[uscc_code],
                                  reasons=f"多次严重违法经营，{planted.disguised()}", basis=f"依据{planted.new()}",
                                  department=dept, actor=system, protector=protector, today=start)  # fmt: skip
    lists_service.notify(session, entry.id, rights=f"可陈述申辩，联系人{planted.disguised()}", actor=system,
                         settings=settings, today=start)  # fmt: skip
    lists_service.record_objection(session, entry.id, text=f"不服，{planted.disguised()}", actor=system,
                                   today=start + timedelta(days=2))  # fmt: skip
    lists_service.decide(session, entry.id, decision_no=f"安信列〔2025〕{planted.disguised(60)}号",
                         answer=f"异议不成立，{planted.disguised()}", actor=system, settings=settings,
                         today=start + timedelta(days=30))  # fmt: skip
    lists_service.publish(session, entry.id, actor=system, today=start + timedelta(days=30))

    # Credit checks: a name query, a mistyped ID number as a code, a caller's reference, feedback.
    operator = auth_service.actor_for_user(users["operator"])
    documents = checks_service.run_checks(
        session, [checks_service.CheckItem(name=f"安吉县{planted.disguised(40)}", ref=f"投标人{planted.new()}"),
                  checks_service.CheckItem(code=planted.disguised(40, style=10))],
        matter="政府采购", actor=operator, settings=settings, protector=protector, today=today, detail=True,
    )  # fmt: skip
    numbers = [doc["number"] for doc in documents]
    checks_service.record_feedback(session, numbers[0], measure_code=None, is_applied=False,
                                   note=f"未适用，投标人{planted.disguised()}", actor=operator)  # fmt: skip

    # 政务诚信: a government body's case and a court's notice, the warning acknowledged, a civil servant's file.
    government = clean_row(penalty, n=next(serial), decided=decided, dept=dept)
    government[uscc_code], government[name_code] = make_uscc("1", "1", "330521", "00000099"), "安吉县某某管理局"
    batch_ids.append(_import(session, settings, protector, dept, "penalty", [government], today).batch_id)
    case = integrity_service.open_case(
        session, code=government[uscc_code], kind="court-debtor", summary=f"未履行生效判决，经办人{planted.disguised()}",
        reference=f"（2025）浙0523执{planted.disguised(60)}号", amount=None, listed_on=today, supervisor_id=dept.id,
        clear_by=None, actor=platform, settings=settings, protector=protector, today=today,
    )  # fmt: skip
    integrity_service.add_notice(
        session, code=government[uscc_code], court=f"安吉县人民法院{planted.new()}", case_no=f"（2025）浙0523执{planted.new()}号",
        obligation=f"支付货款，收款人{planted.disguised()}", notified_on=today, supervisor_id=dept.id, actor=platform,
        settings=settings, protector=protector, today=today,
    )  # fmt: skip
    warning = session.scalars(select(Alert).where(Alert.key == f"case:{case.id}")).one()
    alerts_service.acknowledge(session, warning.id, actor=reviewer, note=f"已督促，联系人{planted.disguised()}")
    keeper = auth_service.actor_for_user(users["integrity_keeper"])
    integrity_service.add_civil_servant_record(
        session, person_name=f"王五{planted.disguised(40)}", id_number=planted.new(), employer=f"安吉县某局{planted.new()}",
        position=None, category="assessment", item="受到表彰奖励", description=f"年度优秀，{planted.disguised()}",
        occurred_on=today, source_document=f"安人〔2025〕{planted.new()}号", actor=keeper, settings=settings,
        protector=protector, today=today,
    )  # fmt: skip
    integrity_service.search_civil_servants(session, query=planted.new(), reason=f"干部考察，{planted.disguised()}",
                                            actor=keeper, settings=settings, protector=protector)  # fmt: skip
    session.commit()

    row_, subject_token = accounts_service.sign_in(session, code=org_penalty[uscc_code], password=SUBJECT_PASSWORD,
                                                   protector=protector, settings=settings, client="test")  # fmt: skip
    session.commit()
    del row_
    return World(planted, settings, protector, dept, users, {"Authorization": f"Bearer {token}"}, batch_ids,
                 text_batches, [outcome.import_id], (outcome.created, outcome.rejected), numbers, subject_token,
                 own_numbers, org_penalty)


# ---------------------------------------------------------------------------------------------- sweep


def crawl(client: TestClient, starts: list[str], *, prefix: str, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every page reachable by GET links from `starts` within `prefix`: URL → text."""
    seen: dict[str, str] = {}
    queue = list(starts)
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        assert response.status_code < 500, (url, response.text[:500])
        seen[url] = response.text
        if "html" not in response.headers.get("content-type", ""):
            continue
        for href in _HREF.findall(response.text):
            target = urljoin(url, html.unescape(href))
            parts = urlsplit(target)
            if parts.netloc not in ("", "testserver"):
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if local.startswith(prefix) and not local.startswith(skip) and local not in seen:
                queue.append(local)
    assert len(seen) < MAX_PAGES, "the crawl hit its limit: raise MAX_PAGES"
    return seen


def _sign_in(client: TestClient, session: Session, user: User, settings: Settings) -> None:
    _, token = auth_service.start_session(session, user, settings=settings, client="testclient")
    session.commit()
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, token)


def test_no_id_number_is_published_logged_or_stored_in_clear(
    world: World, client: TestClient, db_session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(MaskIdNumbers())  # as every handler of the server has (xinyong.logs)
    access = logging.getLogger("uvicorn.access")
    planted, protector = world.planted, world.protector
    surfaces: dict[str, str] = {}

    def get(url: str, *, who: str = "", **kwargs: Any) -> Any:
        response = client.get(url, **kwargs)
        assert response.status_code < 500, (url, response.text[:500])
        # The access log line uvicorn writes for this request, with its own arguments.
        target = url + (f"?{urlencode(kwargs['params'])}" if "params" in kwargs else "")
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", target, "1.1", response.status_code)
        surfaces[f"{who} {target}"] = response.text
        return response

    subjects = db_session.scalars(select(Subject)).all()
    records = db_session.scalars(select(Record)).all()

    # The portal, anonymously: searches (by name, by code, by the planted numbers), every subject and record.
    client.cookies.clear()
    starts = ["/", "/disclosure/penalty", "/disclosure/license", "/lists/public", "/search?q=科技有限公司",
              "/disclosure/penalty.csv", "/disclosure/license.csv"]  # fmt: skip
    starts += [f"/subjects/{refs.subject_ref(s, protector)}" for s in subjects]
    starts += [f"/subjects/{refs.subject_ref(s, protector)}?tab=license" for s in subjects]
    starts += [f"/records/{refs.record_ref(r.id, protector)}" for r in records]
    for number in planted.numbers[:12]:
        for form in _disguises(number)[:7]:
            get("/search", params={"q": form})
            get("/api/v1/subjects", params={"q": form})
    surfaces.update(crawl(client, starts, prefix="/", skip=("/admin", "/api", "/static", "/account")))

    # The public API.
    get("/api/v1/subjects", params={"q": "科技有限公司"})
    for subject in subjects:
        ref = refs.subject_ref(subject, protector)
        get(f"/api/v1/subjects/{ref}")
        for record_type in ("penalty", "license"):
            get(f"/api/v1/subjects/{ref}/records", params={"record_type": record_type})

    # A department system's view: batch reports, list import problems, checks.
    for batch_id in world.batch_ids:
        get(f"/api/v1/batches/{batch_id}", headers=world.api_headers)
    for import_id in world.list_import_ids:
        get(f"/api/v1/lists/imports/{import_id}/problems.csv", headers=world.api_headers)
    for number in world.check_numbers:
        get(f"/api/v1/checks/{number}", headers=world.api_headers)

    # The console, as every role, following every link.
    for user in world.users.values():
        _sign_in(client, db_session, user, world.settings)
        starts = ["/admin", "/admin/audit/export.csv", "/admin/objections?status=all", "/admin/repairs?status=all",
                  "/admin/subjects?q=安吉县", "/admin/records?doc_no=安"]  # fmt: skip
        pages = crawl(client, starts, prefix="/admin", skip=("/admin/logout", "/admin/login"))
        surfaces.update({f"{user.username} {url}": text for url, text in pages.items()})
        # Searches as staff type them, the number in clear: found, and shown masked.
        name, doc_no = world.org_penalty["CF_XDR_MC"], world.org_penalty["CF_WSH"]
        subjects_page = get("/admin/subjects", who=user.username, params={"q": name})
        records_page = get("/admin/records", who=user.username, params={"doc_no": doc_no})
        # Neither the keeper of civil servants' files nor a bank's officer reads subjects on the console.
        if user.role not in (Role.AUDITOR, Role.INTEGRITY_KEEPER, Role.INSTITUTION_OFFICER):
            assert f">{html.escape(mask_id_numbers(name))}</a>" in subjects_page.text
            assert f"<td>{html.escape(mask_id_numbers(doc_no))}" in records_page.text

    # Notifications and events, once delivered.
    notifier = notify_service.ConsoleNotifier()
    notify_service.deliver_pending(db_session, settings=world.settings, notifier=notifier, limit=1000)
    surfaces["notifications"] = json.dumps(list(notifier.sent), ensure_ascii=False)
    events = world.settings.events_file
    surfaces["events"] = events.read_text(encoding="utf-8") if events.exists() else ""

    # Every column of every table, except the sealed ones.
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if (table.name, c.name) not in SEALED_COLUMNS]
        for row in db_session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                for text in strings_of(value):
                    surfaces[f"{table.name}.{column.name}#{len(surfaces)}"] = text

    surfaces["log"] = caplog.text
    reached = [p for p in EXPECTED_PAGES if not any(f" {p}" in where or where.startswith(p) for where in surfaces)]
    assert reached == [], "the sweep missed these pages"
    found = {where: hits for where, text in surfaces.items() if (hits := leaks(planted, text))}
    assert not found, f"{len(found)} surfaces leak: " + "; ".join(f"{w}: {h[:3]}" for w, h in list(found.items())[:40])
    assert len(planted.numbers) > 100

    # A case number holding an ID number (the entry's key) is refused; the rest of the entry is masked.
    assert world.list_outcome == (1, 2)

    # The department is told, field by field, with the numbers masked.
    for key, batch_id in world.text_batches.items():
        report = client.get(f"/api/v1/batches/{batch_id}", headers=world.api_headers).json()
        warned = [w for w in report["warnings"] if w["code"] == "id-number-in-text"]
        rtype = load_catalog(world.settings.catalog_dirs).get(key)
        # every text field held one, but a 承诺编码 (digits only, row rules) which cannot
        planted_in = {s.code for s in rtype.fields if accepts_text(s) and not (s.role == "doc_no" and rtype.row_rules)}
        assert {w["column"] for w in warned} == planted_in
        assert all("**********" in w["value"] or "*******" in w["value"] for w in warned)

    # The subject's own account page opens the sealed part: what its records said is there, in clear.
    client.cookies.clear()
    client.cookies.set(SUBJECT_COOKIE, world.account_token)
    own = client.get("/account")
    assert own.status_code == 200
    assert world.own_numbers
    assert [n for n in world.own_numbers if n not in _normal(own.text)] == []

