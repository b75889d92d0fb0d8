"""SQLite: the commands of the `xinyong` command line that write, run while another connection keeps committing
(an import storing its chunks for hours, the worker's jobs, the console).

A command opened one plain (deferred) transaction, read (the user, the department, the plan, the audit chain's
head) and then wrote. On SQLite (WAL) such a transaction cannot start writing once another connection has
committed after its first read: beside an import nearly every command failed at once with "无法访问数据库
（XINYONG_DATABASE_URL）：database is locked". A command now writes in a writer's transaction taken in the
writers' turn (`writequeue.writing_scope`), which waits for the other writer instead of failing, and a long one
reads first and then writes. Whether one of the other connection's commits falls between a command's read and its
write is a matter of timing: each command runs in several rounds (once for each of several objects made first,
where it changes an object for good), answers as it answers alone, and leaves what it did in the database."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import inspections as inspections_factory
from tests.factories import records as rf
from tests.factories.commitments import commitment_row
from tests.fixtures.console import fast_password_hashing  # noqa: F401  (autouse: the accounts' passwords)
from tests.fixtures.keys import TEST_KEY, keyed_sessionmaker
from tests.fixtures.subject_accounts import verified_account
from tests.functional.web.test_console_beside_writers import Importer, _running
from typer.testing import CliRunner

from xinyong import clock
from xinyong.accounts.models import AccountStatus, ActivationCode, SubjectAccount
from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.audit.rules import AuditAction
from xinyong.auth import service as auth_service
from xinyong.auth.models import User
from xinyong.auth.rules import Role
from xinyong.calendar.models import CalendarOverride
from xinyong.cli import app
from xinyong.codes import make_uscc
from xinyong.commandline import session_factory
from xinyong.commandline import settings as cli_settings
from xinyong.commitments.models import VerificationTask
from xinyong.config import Settings
from xinyong.db import make_engine, utcnow
from xinyong.departments import service as departments_service
from xinyong.departments.models import ApiKey, Department
from xinyong.evaluation.models import ScoringModel
from xinyong.evaluation.service import BUILTIN_MODEL
from xinyong.exchange.models import Destination, Webhook
from xinyong.finance.models import Institution, InstitutionKey, WhitelistFeed
from xinyong.inspections.models import InspectionPlan, Inspector, InspectorExclusion, PlanStatus
from xinyong.intake.models import DepartmentDuty
from xinyong.lists.models import ListType
from xinyong.measures import service as measures_service
from xinyong.measures.models import Measure
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service
from xinyong.records.models import Record, RecordStatus
from xinyong.regions.models import Region, RegionSetting
from xinyong.reports.models import IssuedReport

ROUNDS = 4
COUNTIES = ("330502", "330503", "330523", "330501", "330511")  # 湖州市's others: one registered in each round
DEPT = "安吉县市场监督管理局"
SETUP = Actor.system("test")


@dataclass
class Shell:
    """The command line on a database of its own, and the test's own sessions of that database (signing audit
    entries as the commands do): to make what the commands act on and to look at what they did."""

    path: str
    sessions: sessionmaker[Session]
    settings: Settings
    tmp: Path
    runner: CliRunner = field(default_factory=CliRunner)

    def run(self, *args: str, says: str) -> str:
        """The command's output; it succeeded and said `says` (the line breaks of the terminal's width aside)."""
        result = self.runner.invoke(app, list(args))
        assert result.exit_code == 0, (args, result.output, result.exception)  # the exception: main() prints it
        assert flat(says) in flat(result.output), (args, result.output)
        return result.output

    def count(self, model: type, *where: object) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]

    def audited(self, action: AuditAction) -> int:
        return self.count(AuditEntry, AuditEntry.action == action.value)


@pytest.fixture
def shell(fresh_database_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch,
          tmp_path: Path) -> Iterator[Shell]:  # fmt: skip
    url = make_url(fresh_database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows: another writer does not hold the whole database")
    environment = {"XINYONG_DATABASE_URL": fresh_database_url, "XINYONG_SECRET_KEY": TEST_KEY, "COLUMNS": "400",
                   "XINYONG_UPLOAD_DIR": str(tmp_path / "uploads"),
                   "XINYONG_REPORTS_SIGNING_KEY_FILE": str(tmp_path / "keys" / "key.pem"),
                   "XINYONG_REPORTS_SIGNING_CERT_FILE": str(tmp_path / "keys" / "cert.pem"),
                   "XINYONG_REPORTS_PUBLIC_URL": "https://credit.example.cn"}  # fmt: skip
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    cli_settings.cache_clear()
    session_factory.cache_clear()
    engine = make_engine(fresh_database_url)
    yield Shell(str(url.database), keyed_sessionmaker(engine),
                settings.model_copy(update={"database_url": fresh_database_url}), tmp_path)  # fmt: skip
    engine.dispose()
    if session_factory.cache_info().currsize:
        session_factory().kw["bind"].dispose()
    cli_settings.cache_clear()
    session_factory.cache_clear()


@contextmanager
def beside_an_import(shell: Shell) -> Iterator[None]:
    """The block's commands run while another connection commits every few milliseconds."""
    with Importer(shell.path) as importer:
        started = _running(importer)
        yield
    assert importer.commits > started  # the other connection wrote while the commands ran


def flat(output: str) -> str:
    """The text without the line breaks and spaces that the terminal's width put in."""
    return "".join(output.split())


def found(pattern: str, output: str) -> str:
    match = re.search(pattern, flat(output))
    assert match, (pattern, output)
    return match.group(1)


# ------------------------------------------------------------------------- accounts, departments, regions


def test_accounts_departments_regions_and_the_calendar_beside_an_import(shell: Shell) -> None:
    for code in ("330500", "330521", "330522"):
        shell.run("regions", "add", code, says="已登记行政区划")
    shell.run("departments", "add", "--code", rf.DEPT_CODE, "--name", DEPT, says=f"已登记部门：{DEPT}")
    with shell.sessions() as session:  # an account for each round, waiting after failed sign-ins
        dept = departments_service.get_department(session, rf.DEPT_CODE)
        for n in range(ROUNDS):
            held = auth_service.create_user(session, username=f"held{n}", password="Held-pass-2025",
                                            role=Role.OPERATOR, department=dept, actor=SETUP,
                                            settings=shell.settings)  # fmt: skip
            held.failed_logins, held.locked_until = 5, utcnow() + timedelta(hours=1)
        session.commit()

    with beside_an_import(shell):
        for n in range(ROUNDS):
            user, code, county = f"op{n}", make_uscc("1", "1", "330521", f"{100 + n:08d}"), COUNTIES[n]
            shell.run("users", "add", "--username", user, "--role", "operator", "--department", rf.DEPT_CODE,
                      says=f"已创建账户：{user}")  # fmt: skip
            shell.run("users", "set-email", user, f"{user}@example.cn", says=f"{user} 的预警邮箱为 {user}@example.cn")
            shell.run("users", "reset-password", user, says=f"已重置 {user} 的密码")
            shell.run("users", "unlock", f"held{n}", says=f"已解除 held{n} 的登录等待")
            shell.run("departments", "add", "--code", code, "--name", f"安吉县第{n}局", says=f"已登记部门：安吉县第{n}局")
            target = ("330522", "330521")[n % 2]
            shell.run("departments", "move", "--department", rf.DEPT_CODE, "--region", target,
                      says=f"调整到 {target}")  # fmt: skip
            issued = shell.run("departments", "issue-key", "--department", code,
                               says=f"已为 安吉县第{n}局 签发访问密钥")  # fmt: skip
            prefix = found(r"编号(\w+)，", issued)
            shell.run("departments", "revoke-key", prefix, says=f"访问密钥 {prefix} 已吊销")
            shell.run("regions", "add", county, says=f"（{county}），上级 330500")
            shell.run("regions", "set", "330522", "--host", f"r{n}.credit.example.cn",
                      says="已更新行政区划：长兴县（330522）")  # fmt: skip
            shell.run("calendar", "set", f"2027-02-{10 + n}", "--holiday", "--note", "春节",
                      says=f"2027-02-{10 + n} 已设为休息日")  # fmt: skip

    with shell.sessions() as session:
        users = {u.username: u for u in session.scalars(select(User))}
        assert [users[f"op{n}"].email for n in range(ROUNDS)] == [f"op{n}@example.cn" for n in range(ROUNDS)]
        assert {(users[f"held{n}"].locked_until, users[f"held{n}"].failed_logins) for n in range(ROUNDS)} == {(None, 0)}
        moved_to = session.scalar(select(Department.region).where(Department.code == rf.DEPT_CODE))
        assert moved_to == ("330522", "330521")[(ROUNDS - 1) % 2]
        assert [key.revoked_at is not None for key in session.scalars(select(ApiKey))] == [True] * ROUNDS
        assert session.scalar(select(Region.host).where(Region.code == "330522")) == f"r{ROUNDS - 1}.credit.example.cn"
    assert shell.audited(AuditAction.USER_PASSWORD_RESET) == ROUNDS
    assert shell.count(Department) == 1 + ROUNDS
    assert shell.count(Region) == 3 + ROUNDS
    assert shell.count(CalendarOverride) == ROUNDS


# ---------------------------------------------------- list types, measures, models, commitments, catalogue


def test_lists_measures_models_commitments_and_duties_beside_an_import(shell: Shell) -> None:
    for code in ("330500", "330521"):
        shell.run("regions", "add", code, says="已登记行政区划")
    shell.run("departments", "add", "--code", rf.DEPT_CODE, "--name", DEPT, says=f"已登记部门：{DEPT}")
    builtin = BUILTIN_MODEL.read_text(encoding="utf-8")
    measures = len(tomllib.loads(measures_service.DEFAULT_MEASURES.read_text(encoding="utf-8"))["measures"])
    protector = make_protector(shell.settings)

    for n in range(ROUNDS):
        with shell.sessions() as session:  # a new 告知承诺, whose verification task the dashboard makes
            dept = departments_service.get_department(session, rf.DEPT_CODE)
            records_service.import_rows(session, [commitment_row(clock.today())], settings=shell.settings,
                                        protector=protector, record_type="commitment", department=dept,
                                        actor="test", today=clock.today())  # fmt: skip
            session.commit()
        model = shell.tmp / f"model-{n}.toml"  # a new version of the built-in model
        model.write_text(builtin.replace('version = "2026.2"', f'version = "2026.2-{n}"', 1), encoding="utf-8")
        with beside_an_import(shell):
            shell.run("lists", "load-types", says="serious-dishonesty：严重失信主体名单")
            shell.run("lists", "set-deciders", "serious-dishonesty", rf.DEPT_CODE,
                      says=f"serious-dishonesty（严重失信主体名单）的认定部门：{DEPT}")  # fmt: skip
            shell.run("measures", "load", says="@1")
            shell.run("evaluation", "load-model", str(model), says=f"public-credit 2026.2-{n}（")
            shell.run("evaluation", "set-model", "public-credit", "--region", "330521",
                      says="德清县的评价模型：public-credit")  # fmt: skip
            shell.run("commitments", "set-templates", "food-business-notice", "--region", "330521",
                      says="德清县采用的承诺书模板：food-business-notice")  # fmt: skip
            shell.run("commitments", "dashboard", says="违诺")
            shell.run("exchange", "duty-set", "--department", rf.DEPT_CODE, "--type", "penalty",
                      says=f"已设置：{DEPT} 报送 penalty")  # fmt: skip
            shell.run("exchange", "duty-remove", "--department", rf.DEPT_CODE, "--type", "penalty",
                      says=f"已移出：{DEPT} 的")  # fmt: skip
            shell.run("exchange", "duty-set", "--department", rf.DEPT_CODE, "--type", "license", "--frequency",
                      "monthly", says=f"已设置：{DEPT} 报送 license")  # fmt: skip

    with shell.sessions() as session:
        deciders = session.scalar(select(ListType.deciding_departments).where(ListType.key == "serious-dishonesty"))
        assert deciders == [rf.DEPT_CODE]
        chosen = session.scalars(select(RegionSetting.value).where(RegionSetting.region_code == "330521")).all()
        assert sorted(chosen) == ["food-business-notice", "public-credit"]
        assert session.scalars(select(DepartmentDuty.record_type)).all() == ["license"]
    assert shell.count(Measure) == ROUNDS * measures
    assert shell.count(ScoringModel) == ROUNDS
    assert shell.count(VerificationTask) == ROUNDS
    assert shell.audited(AuditAction.DEPARTMENT_DUTY_REMOVED) == ROUNDS
    assert shell.audited(AuditAction.REGION_SETTING_SAVED) == 2 * ROUNDS


# ------------------------------------------------------------------------------- inspections and finance


def test_inspections_and_finance_beside_an_import(shell: Shell) -> None:
    today = clock.today()
    with shell.sessions() as session:  # graded subjects (a real evaluation run) and a department's inspectors
        graded = inspections_factory.build(session, shell.settings, make_protector(shell.settings), a=6, b=4, c=1,
                                           d=1)  # fmt: skip
        dept, subjects = graded.dept.code, graded.by_grade["A"] + graded.by_grade["B"]

    with beside_an_import(shell):
        for n in range(ROUNDS):
            badge, seed, bank = f"ZF3305{90 + n:04d}", str(40 + n), rf.company_code(90010 + n)
            shell.run("inspections", "inspector-add", "--department", dept, "--name", f"检查员{n}", "--badge", badge,
                      says=f"已登记检查人员 检查员{n}（{badge}")  # fmt: skip
            shell.run("inspections", "exclude", badge, subjects[n], "--reason", "曾在该企业任职",
                      says=f"对 {subjects[n]} 回避")  # fmt: skip
            made = shell.run("inspections", "plan-add", "--department", dept, "--matter", f"双随机抽查{n}", "--from",
                             today.isoformat(), "--to", (today + timedelta(days=60)).isoformat(), "--ratio", "A=50",
                             says=f"：双随机抽查{n}；抽查比例")  # fmt: skip
            number = found(r"已制定抽查计划(\S+?)：", made)
            shell.run("inspections", "draw", number, "--seed", seed, says=f"计划 {number}：种子 {seed}")
            shell.run("inspections", "publish", number, says=f"已公示计划 {number}")
            shell.run("finance", "add-institution", "--code", bank, "--name", f"德清农商银行{n}", "--purpose",
                      "流动资金", says=f"已登记金融机构：德清农商银行{n}")  # fmt: skip
            shell.run("finance", "issue-key", "--code", bank, says="fi_")  # the key itself, shown once
            shell.run("finance", "publish-whitelist", says=f"已发布白名单第 {n + 1} 版")

    with shell.sessions() as session:
        plans = session.scalars(select(InspectionPlan)).all()
        assert [plan.status for plan in plans] == [PlanStatus.PUBLISHED.value] * ROUNDS
    assert shell.count(Inspector) == len(graded.inspectors) + 1 + ROUNDS  # and the other department's
    assert shell.count(InspectorExclusion) == ROUNDS
    assert shell.count(Institution) == ROUNDS
    assert shell.count(InstitutionKey) == ROUNDS
    assert shell.count(WhitelistFeed) == ROUNDS


# ------------------------------------------------------- records, reports, subject accounts, webhooks


def test_records_reports_subject_accounts_and_webhooks_beside_an_import(shell: Shell) -> None:
    today = clock.today()
    protector = make_protector(shell.settings)
    rows = [rf.penalty_row(CF_JDRQ=(today - timedelta(days=50)).isoformat()) for _ in range(2 * ROUNDS)]
    revoked, reported = rows[:ROUNDS], rows[ROUNDS:]
    with shell.sessions() as session:
        dept = rf.department(session)
        records_service.import_rows(session, rows, settings=shell.settings, protector=protector, record_type="penalty",
                                    department=dept, actor="test", today=today)  # fmt: skip
        accounts = []  # a verified account of each reported subject
        for row in reported:
            subject_id = session.scalar(select(Record.subject_id).where(Record.doc_no == row["CF_WSH"]))
            assert subject_id is not None
            accounts.append(verified_account(session, subject_id, shell.settings, protector).id)
        key, _ = departments_service.issue_api_key(session, department=dept, name="合作银行系统",
                                                   scopes=["api:changes:read"])  # fmt: skip
        prefix = key.prefix
        session.commit()

    with beside_an_import(shell):
        for n in range(ROUNDS):
            doc_no, company, account = revoked[n]["CF_WSH"], reported[n]["CF_XDR_SHXYM"], str(accounts[n])
            shell.run("records", "revoke", "--type", "penalty", "--department", rf.DEPT_CODE, "--doc-no", doc_no,
                      "--reason", "决定被复议机关撤销", says=f"已撤销：{doc_no}")  # fmt: skip
            shell.run("reports", "generate", company, "--out", str(shell.tmp / f"report-{n}.pdf"),
                      says="已生成公共信用信息报告（公开版），编号")  # fmt: skip
            shell.run("accounts", "issue-activation", company, says=f"主体：{reported[n]['CF_XDR_MC']}")
            shell.run("accounts", "revoke-identity", account, "--reason", "法定代表人已变更",
                      says=f"已撤销账户 {account} 的身份核验")  # fmt: skip
            shell.run("accounts", "revoke", account, "--reason", "冒用主体名义注册", says=f"已注销账户 {account}")
            added = shell.run("exchange", "webhooks", "add", "--key", prefix, "--url", f"https://hooks.example.cn/{n}",
                              says="已登记推送地址")  # fmt: skip
            webhook = found(r"已登记推送地址(\d+)。", added)
            shell.run("exchange", "webhooks", "resume", webhook, says=f"已恢复推送地址 {webhook}")

    with shell.sessions() as session:
        statuses = session.scalars(select(Record.status).where(Record.doc_no.in_([r["CF_WSH"] for r in revoked])))
        assert list(statuses) == [RecordStatus.REVOKED] * ROUNDS
        closed = session.scalars(select(SubjectAccount).where(SubjectAccount.id.in_(accounts))).all()
        assert {(a.status, a.identity_verified_at) for a in closed} == {(AccountStatus.REVOKED, None)}
    assert shell.count(IssuedReport) == ROUNDS
    assert all((shell.tmp / f"report-{n}.pdf").read_bytes().startswith(b"%PDF") for n in range(ROUNDS))
    assert shell.count(ActivationCode, ActivationCode.issued_by == "cli") == ROUNDS
    assert shell.count(Webhook) == ROUNDS
    assert shell.audited(AuditAction.WEBHOOK_SAVED) == 2 * ROUNDS


# --------------------------------------------------------------- exports, the audit trail, the code check


def test_exports_the_audit_trail_and_the_code_check_beside_an_import(shell: Shell) -> None:
    today = clock.today()
    rows = [rf.penalty_row(CF_JDRQ=(today - timedelta(days=50)).isoformat()) for _ in range(3)]
    with shell.sessions() as session:
        records_service.import_rows(session, rows, settings=shell.settings, protector=make_protector(shell.settings),
                                    record_type="penalty", department=rf.department(session), actor="test",
                                    today=today)  # fmt: skip
        session.commit()
    checkpoints = Path(os.environ["XINYONG_AUDIT_CHECKPOINT_FILE"])
    published = len(checkpoints.read_text(encoding="utf-8").splitlines()) if checkpoints.exists() else 0

    with beside_an_import(shell):
        for n in range(ROUNDS):
            shell.run("exchange", "export", "--destination", "province", "--out", str(shell.tmp / f"export-{n}"),
                      says="，接收方 province。")  # fmt: skip
            shell.run("exchange", "extract", "--class", "public", "--out", str(shell.tmp / f"extract-{n}"),
                      says="已提取")  # fmt: skip
            shell.run("monitoring", "quality-scan", says="重错码率")
            shell.run("audit", "export", says="seq,created_at,action")  # the CSV on standard output
            shell.run("audit", "checkpoint", says="已发布检查点")

    with shell.sessions() as session:
        destination = session.scalar(select(Destination).where(Destination.name == "province"))
        assert destination is not None
        assert destination.exports == ROUNDS
    assert shell.audited(AuditAction.EXCHANGE_EXPORTED) == 2 * ROUNDS  # the exports and the extracts
    assert shell.audited(AuditAction.QUALITY_SCANNED) == ROUNDS
    assert shell.audited(AuditAction.AUDIT_EXPORTED) == ROUNDS
    assert len(checkpoints.read_text(encoding="utf-8").splitlines()) == published + ROUNDS
