"""What leaves the platform after a credit repair, a subject merge or a revocation: each is a change on the feed,
and repairs and revocations reach the national export's side files once (a later export does not repeat them)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import evaluation as ef
from tests.factories import records as rf
from tests.fixtures.keys import keyed_sessionmaker
from tests.functional.exchange.conftest import Platform

from xinyong import clock
from xinyong.actors import Actor, Permission
from xinyong.app import create_app
from xinyong.auth.rules import ROLE_PERMISSIONS, Role
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.monitoring import quality
from xinyong.monitoring.models import IssueKind
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.repair import service as repair_service
from xinyong.repair.models import RepairApplication
from xinyong.subjects.models import Subject

READ = "api:changes:read"
SHARED = "api:changes:shared"


class Node:
    """A platform of its own: its database (driven by the command line and by sessions of its own) and its web
    app, as a server process started on that database would be."""

    def __init__(self, platform: Platform, settings: Settings) -> None:
        self.platform = platform
        self.settings = settings.model_copy(update={"database_url": platform.url, "portal_rate_limit_requests": 0})
        self.protector = make_protector(self.settings)
        self.engine = make_engine(platform.url)
        self.sessions = keyed_sessionmaker(self.engine)
        self.today = clock.today()

    def session(self) -> Session:
        return self.sessions()

    def department(self) -> None:
        with self.session() as session:
            rf.department(session)
            session.commit()

    def load(self, rows: list[dict[str, str]]) -> None:
        with self.session() as session:
            dept = session.scalars(select(Department).where(Department.code == rf.DEPT_CODE)).one()
            result = records_service.import_rows(
                session, rows, settings=self.settings, protector=self.protector, record_type="penalty",
                department=dept, actor="test", today=self.today,
            )  # fmt: skip
            assert result.rejected == 0, result
            session.commit()

    def key(self, *scopes: str) -> dict[str, str]:
        with self.session() as session:
            dept = session.scalars(select(Department).where(Department.code == rf.DEPT_CODE)).one()
            _row, secret = departments_service.issue_api_key(session, department=dept, name="合作银行系统",
                                                             scopes=list(scopes))  # fmt: skip
            session.commit()
        return {"Authorization": f"Bearer {secret}"}

    def record(self, doc_no: str) -> Record:
        with self.session() as session:
            return session.scalars(select(Record).where(Record.doc_no == doc_no)).one()

    def export(self, out: Path) -> dict[str, Any]:
        result = self.platform.run("exchange", "export", "--format", "national", "--out", str(out), "--json")
        return json.loads(result.stdout)

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def node(make_platform, settings: Settings) -> Iterator[Node]:  # type: ignore[no-untyped-def]
    made = Node(make_platform(), settings)
    made.department()
    yield made
    made.close()


@pytest.fixture
def web(node: Node) -> Iterator[TestClient]:
    application = create_app(node.settings)
    with TestClient(application) as client:
        yield client
    application.state.engine.dispose()


def feed(client: TestClient, headers: dict[str, str], after: str | None = None, types: str = "penalty"
         ) -> tuple[list[dict[str, Any]], str]:  # fmt: skip
    """Every change of the types after the cursor, a page of two at a time: (changes, the last page's cursor)."""
    changes: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": 2, "types": types, **({"after": after} if after else {})}
        response = client.get("/api/v1/changes", params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        changes += body["changes"]
        after = body["cursor"]
        if not body["has_more"]:
            return changes, after


def summary(changes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["change"], c["record"]["doc_no"]) for c in changes]


def side_file(out: Path, name: str) -> list[list[str]]:
    with (out / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def exported_doc_nos(out: Path) -> list[str]:
    rows = side_file(out, f"{rf.DEPT_CODE}/penalty.csv")
    column = rows[0].index("行政处罚决定书文号")
    return sorted(row[column] for row in rows[1:])


# ------------------------------------------------------------------------------------------- repairs


def test_a_repair_travels_on_the_feed_and_in_the_export_once(node: Node, web: TestClient, tmp_path: Path) -> None:
    decided = (node.today - timedelta(days=200)).isoformat()  # 一般, past its minimum publicity: repairable
    repaired, kept = rf.penalty_row(CF_JDRQ=decided), rf.penalty_row(CF_JDRQ=decided)
    node.load([repaired, kept])
    public, shared = node.key(READ), node.key(READ, SHARED)
    first = node.export(tmp_path / "e1")
    assert (first["records"], first["repairs"], first["revocations"]) == (2, 0, 0)
    assert not (tmp_path / "e1" / "repairs.csv").exists()
    before, public_cursor = feed(web, public)
    assert summary(before) == [("created", repaired["CF_WSH"]), ("created", kept["CF_WSH"])]
    assert all(c["record"]["published"] for c in before)

    with node.session() as session:
        record = session.scalars(select(Record).where(Record.doc_no == repaired["CF_WSH"])).one()
        ef.repair(session, node.settings, node.protector, record, today=node.today)
        session.commit()

    # the feed: one `repaired` change, after the cursor the partner kept, the record no longer published
    later, _ = feed(web, public, after=public_cursor)
    assert summary(later) == [("repaired", repaired["CF_WSH"])]
    item = later[0]["record"]
    assert (item["status"], item["published"]) == ("active", False)
    assert sorted(item) == ["decision_date", "department", "doc_no", "publish_until", "published", "status",
                            "version"]  # the public class loses the content with publication
    everything, _ = feed(web, shared)
    assert summary(everything) == [("created", repaired["CF_WSH"]), ("created", kept["CF_WSH"]),
                                   ("repaired", repaired["CF_WSH"])]  # fmt: skip
    assert everything[2]["record"]["published"] is False
    assert everything[2]["record"]["fields"]["CF_WSH"] == repaired["CF_WSH"]  # the shared class keeps the content

    # the export from the remembered cursor: the record again, and a row of repairs.csv the manifest counts
    second = node.export(tmp_path / "e2")
    # the repaired record again, and the repair commitment the subject signed (a 信用承诺 record of its own)
    assert (second["records"], second["repairs"], second["revocations"]) == (2, 1, 0)
    assert [(f["type"], f["rows"]) for f in second["files"]] == [("commitment", 1), ("penalty", 1)]
    assert exported_doc_nos(tmp_path / "e2") == [repaired["CF_WSH"]]
    assert side_file(tmp_path / "e2", "repairs.csv") == [
        ["信息类别", "数据来源单位统一社会信用代码", "决定文书号", "停止公示日期", "恢复公示日期"],
        ["penalty", rf.DEPT_CODE, repaired["CF_WSH"], node.today.isoformat(), ""],
    ]
    manifest = json.loads((tmp_path / "e2" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["repairs"]["path"] == "repairs.csv"
    assert manifest["repairs"]["rows"] == 1
    assert manifest["revocations"] is None
    assert node.platform.run("exchange", "verify", str(tmp_path / "e2")).exit_code == 0

    # and not again
    third = node.export(tmp_path / "e3")
    assert (third["records"], third["repairs"], third["files"]) == (0, 0, [])
    assert not (tmp_path / "e3" / "repairs.csv").exists()


# ------------------------------------------------------------------------------------------- merges


def test_a_subject_merge_is_an_update_of_each_moved_record(node: Node, web: TestClient) -> None:
    name = "安吉县合并测试有限公司"
    kept_code, gone_code = rf.company_code(901), rf.company_code(902)
    kept = rf.penalty_row(CF_XDR_MC=name, CF_XDR_SHXYM=kept_code)
    moved = [rf.penalty_row(CF_XDR_MC=name, CF_XDR_SHXYM=gone_code) for _ in range(2)]
    node.load([kept, *moved])
    headers = node.key(READ, SHARED)
    before, cursor = feed(web, headers)
    assert summary(before) == [("created", row["CF_WSH"]) for row in (kept, *moved)]
    assert [c["record"]["subject"]["uscc"] for c in before] == [kept_code, gone_code, gone_code]

    with node.session() as session:
        keep_id = session.scalars(select(Subject.id).where(Subject.uscc == kept_code)).one()
        quality.scan(session, actor="test")
        issue = next(i for i in quality.list_issues(session) if i.kind is IssueKind.NAME_MANY_CODES)
        assert keep_id in issue.subject_ids
        admin = Actor("user:platform", "user", ROLE_PERMISSIONS[Role.PLATFORM_ADMIN])
        quality.merge(session, issue.id, keep_id=keep_id, actor=admin, note="核实为同一企业", protector=node.protector)
        session.commit()

    later, _ = feed(web, headers, after=cursor)
    assert summary(later) == [("updated", row["CF_WSH"]) for row in moved]
    assert [c["record"]["subject"] for c in later] == [{"name": name, "kind": "organisation", "uscc": kept_code}] * 2
    assert [c["type"] for c in later] == ["penalty", "penalty"]
    # the kept subject's own record did not change: no change for it
    public_view, _ = feed(web, node.key(READ), after=None)
    assert [c["change"] for c in public_view].count("updated") == 2


# ------------------------------------------------------------------------------------------- revocations


def test_a_revocation_travels_on_the_feed_and_in_the_export_once(node: Node, web: TestClient, tmp_path: Path) -> None:
    revoked, kept = rf.penalty_row(), rf.penalty_row()
    node.load([revoked, kept])
    headers = node.key(READ)
    first = node.export(tmp_path / "e1")
    assert (first["records"], first["revocations"]) == (2, 0)
    _, cursor = feed(web, headers)

    node.platform.run("records", "revoke", "--type", "penalty", "--department", rf.DEPT_CODE,
                      "--doc-no", revoked["CF_WSH"], "--reason", "决定被复议机关撤销")  # fmt: skip
    later, _ = feed(web, headers, after=cursor)
    assert summary(later) == [("revoked", revoked["CF_WSH"])]
    item = later[0]["record"]
    assert (item["status"], item["published"]) == ("revoked", False)
    record = node.record(revoked["CF_WSH"])
    assert record.revoked_at is not None
    revoked_at = record.revoked_at.astimezone(clock.CHINA).isoformat(timespec="seconds")
    assert item["revoked_at"] == record.revoked_at.isoformat(timespec="seconds")

    second = node.export(tmp_path / "e2")
    assert (second["records"], second["revocations"], second["repairs"]) == (1, 1, 0)
    assert exported_doc_nos(tmp_path / "e2") == [revoked["CF_WSH"]]  # its last content travels with it
    rows = side_file(tmp_path / "e2", "revocations.csv")
    assert rows[0] == ["信息类别", "数据来源单位统一社会信用代码", "决定文书号", "撤销时间", "撤销理由"]
    assert rows[1][:4] == ["penalty", rf.DEPT_CODE, revoked["CF_WSH"], revoked_at]
    assert rows[1][4] == record.revoke_reason
    assert rows[1][4].startswith("决定被复议机关撤销（")
    assert len(rows) == 2
    manifest = json.loads((tmp_path / "e2" / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["revocations"]["path"], manifest["revocations"]["rows"]) == ("revocations.csv", 1)
    assert manifest["repairs"] is None

    third = node.export(tmp_path / "e3")
    assert (third["records"], third["revocations"]) == (0, 0)
    assert not (tmp_path / "e3" / "revocations.csv").exists()


def test_a_broken_repair_commitment_resumes_publication_and_says_so(node: Node, web: TestClient,
                                                                         tmp_path: Path) -> None:  # fmt: skip
    row = rf.penalty_row(CF_JDRQ=(node.today - timedelta(days=200)).isoformat())
    node.load([row])
    headers = node.key(READ)
    with node.session() as session:
        record = session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()
        ef.repair(session, node.settings, node.protector, record, today=node.today)
        session.commit()
    assert node.export(tmp_path / "e1")["repairs"] == 1
    _, cursor = feed(web, headers)

    with node.session() as session:
        application = session.scalars(select(RepairApplication)).one()
        decider = Actor("user:decider", "user", frozenset(Permission))
        repair_service.restore_publication(session, application.id, actor=decider, reason="承诺期内再次违法经营",
                                           today=node.today, settings=node.settings)  # fmt: skip
        session.commit()

    later, _ = feed(web, headers, after=cursor)
    assert summary(later) == [("restored", row["CF_WSH"])]  # a signal of its own, not a bare update
    assert later[0]["record"]["published"] is True  # published again, with its content
    assert later[0]["record"]["fields"]["CF_WSH"] == row["CF_WSH"]
    second = node.export(tmp_path / "e2")
    assert (second["records"], second["repairs"]) == (2, 1)  # sent again, with the day publication resumed
    assert [(f["type"], f["rows"]) for f in second["files"]] == [("commitment", 1), ("penalty", 1)]  # the commitment marked broken
    assert exported_doc_nos(tmp_path / "e2") == [row["CF_WSH"]]
    (stopped,) = side_file(tmp_path / "e2", "repairs.csv")[1:]
    assert stopped[2] == row["CF_WSH"]
    assert stopped[4] == node.today.isoformat()  # 恢复公示日期: the receiver publishes it again
