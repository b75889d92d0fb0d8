"""The command line of ingestion, against a database of its own: what a department's operator and a
script calling `xinyong records import --json` see."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.factories.records import DEPT_CODE, company_code, penalty_row, write_rows
from tests.fixtures.keys import TEST_KEY
from tests.functional.records.test_checks import BAD_ID, PERSON_ID, person_row
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.commandline import session_factory, settings
from xinyong.db import session_scope
from xinyong.departments import service as departments_service
from xinyong.errors import PermissionDenied


@pytest.fixture
def cli(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name in ("XINYONG_NAME_MISMATCH", "XINYONG_IMPORT_CHUNK_ROWS", "XINYONG_API_BATCH_MAX_ROWS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    settings.cache_clear()
    session_factory.cache_clear()
    yield CliRunner()
    session_factory().kw["bind"].dispose()
    settings.cache_clear()
    session_factory.cache_clear()


@pytest.fixture
def registered(cli: CliRunner) -> CliRunner:
    result = cli.invoke(app, ["departments", "add", "--code", DEPT_CODE, "--name", "安吉县市场监督管理局"])
    assert result.exit_code == 0, result.output
    assert "已登记部门" in result.stdout
    return cli


def _import(cli: CliRunner, path: Path, *extra: str):  # type: ignore[no-untyped-def]
    return cli.invoke(
        app,
        [
            "records",
            "import",
            str(path),
            "--type",
            "penalty",
            "--department",
            DEPT_CODE,
            "--reported-on",
            "2025-10-15",
            "--reason",
            "迁移原系统报送记录",
            *extra,
        ],
    )


def test_import_json_prints_counts_and_problem_lists(registered, tmp_path):
    rows = [
        penalty_row(),
        person_row(),
        person_row(CF_XDR_ZJHM=BAD_ID),
        penalty_row(CF_NR_FK="2000元"),
        penalty_row(CF_CFLB="罚款;吊销执照"),
    ]
    path = write_rows(tmp_path / "报送.csv", rows, encoding="gbk")

    result = _import(registered, path, "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {k: document[k] for k in ("created", "updated", "unchanged", "rejected", "late")} == {
        "created": 3, "updated": 0, "unchanged": 0, "rejected": 2, "late": 0,
    }  # fmt: skip
    assert [(e["row"], e["column"], e["code"]) for e in document["errors"]] == [
        (4, "CF_XDR_ZJHM", "id-checksum"),
        (5, "CF_NR_FK", "amount-unit"),
    ]
    assert [(w["row"], w["column"], w["code"]) for w in document["warnings"]] == [
        (6, "CF_CFLB", "legacy-value")
    ]
    assert all(set(e) == {"row", "column", "code", "value", "message"} for e in document["errors"])
    assert (document["status"], document["filename"]) == ("completed", "报送.csv")
    assert PERSON_ID not in result.output
    assert BAD_ID not in result.output

    again = _import(registered, path, "--json")
    assert (json.loads(again.stdout)["created"], json.loads(again.stdout)["unchanged"]) == (0, 3)


def test_import_summary_for_people_names_each_bad_cell(registered, tmp_path):
    path = write_rows(tmp_path / "rows.csv", [penalty_row(), person_row(CF_XDR_ZJHM=BAD_ID)])

    result = _import(registered, path)

    assert result.exit_code == 0, result.output
    assert "新增 1" in result.stdout
    assert "拒收 1" in result.stdout
    assert "CF_XDR_ZJHM" in result.stdout
    assert "id-checksum" in result.stdout
    assert BAD_ID not in result.output


def test_a_rejected_file_exits_2(registered, tmp_path):
    row = penalty_row()
    del row["CF_CFLB"]
    path = write_rows(tmp_path / "rows.csv", [row])

    result = _import(registered, path, "--json")

    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["status"] == "failed"
    assert document["created"] == 0
    assert [(e["row"], e["code"]) for e in document["errors"]] == [(0, "missing-column")]
    assert "处罚类别（CF_CFLB）" in document["errors"][0]["message"]

    plain = _import(registered, path)
    assert plain.exit_code == 2
    assert "文件未导入" in plain.stdout


def test_the_summary_counts_what_the_report_does_not_list(registered, tmp_path, monkeypatch):
    monkeypatch.setenv("XINYONG_PROBLEMS_MAX_PER_COLUMN", "1")
    settings.cache_clear()
    path = write_rows(tmp_path / "rows.csv", [penalty_row(CF_WSH="") for _ in range(3)])

    result = _import(registered, path)

    assert result.exit_code == 0, result.output
    assert "拒收 3" in result.stdout
    assert "required CF_WSH：另有 2 条同类问题未逐条列出" in result.stdout


def test_a_file_that_breaks_midway_says_the_import_is_incomplete(registered, tmp_path):
    rows = [penalty_row() for _ in range(5)]
    data = write_rows(tmp_path / "rows.csv", rows).read_bytes()
    cut = data.index(rows[3]["CF_WSH"].encode())
    path = tmp_path / "broken.csv"
    path.write_bytes(data[:cut] + b"\xff" + data[cut + 1 :])

    result = _import(registered, path)

    assert result.exit_code == 2
    assert "导入未完成：第 5 行有无法识别的字符（文件按 UTF-8 编码读取）" in result.stdout
    assert "共 3 行，新增 3" in result.stdout


def test_an_unregistered_department_or_a_bad_date_is_a_clear_error(cli, tmp_path):
    path = write_rows(tmp_path / "rows.csv", [penalty_row()])

    unknown = _import(cli, path)
    assert unknown.exit_code == 1
    assert "未找到部门" in unknown.stderr

    bad_date = cli.invoke(app, ["records", "import", str(path), "--type", "penalty", "--department", DEPT_CODE,
                                "--reported-on", "15/10/2025"])  # fmt: skip
    assert bad_date.exit_code == 1
    assert "报送日期" in bad_date.stderr


def test_backdating_from_the_command_line_needs_a_reason_and_is_audited(registered, tmp_path):
    """The CLI runs as the platform's operator (the 信用办): it may report under an earlier date, saying why."""
    path = write_rows(tmp_path / "rows.csv", [penalty_row()])
    args = ["records", "import", str(path), "--type", "penalty", "--department", DEPT_CODE, "--reported-on",
            "2025-10-15", "--json"]  # fmt: skip

    silent = registered.invoke(app, args)
    assert silent.exit_code == 1
    assert "须说明理由" in silent.stderr

    result = registered.invoke(app, [*args, "--reason", "迁移原系统2025年10月报送记录"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reported_on"] == "2025-10-15"
    trail = list(csv.DictReader(registered.invoke(app, ["audit", "export", "--actor", "cli"]).stdout.splitlines()))
    backdated = [row for row in trail if row["action"] == "batch.backdated"]
    assert [row["reason"] for row in backdated] == ["迁移原系统2025年10月报送记录"]


def test_reported_on_before_the_decision_is_rejected_per_row(registered, tmp_path):
    path = write_rows(tmp_path / "rows.csv", [penalty_row(CF_JDRQ="2025-10-16"), penalty_row()])

    result = _import(registered, path, "--json")

    document = json.loads(result.stdout)
    assert result.exit_code == 0
    assert [(e["row"], e["code"]) for e in document["errors"]] == [(2, "reported-before-decision")]
    assert (document["created"], document["rejected"]) == (1, 1)


def test_name_mismatch_as_a_warning_from_the_environment(registered, tmp_path, monkeypatch):
    code = company_code(970)
    first = write_rows(tmp_path / "first.csv", [penalty_row(CF_XDR_MC="安吉县原名有限公司", CF_XDR_SHXYM=code)])
    second = write_rows(tmp_path / "second.csv", [penalty_row(CF_XDR_MC="安吉县新名有限公司", CF_XDR_SHXYM=code)])
    assert json.loads(_import(registered, first, "--json").stdout)["created"] == 1

    strict = json.loads(_import(registered, second, "--json").stdout)
    monkeypatch.setenv("XINYONG_NAME_MISMATCH", "warning")
    settings.cache_clear()
    lenient = json.loads(_import(registered, second, "--json").stdout)

    assert [(e["row"], e["code"]) for e in strict["errors"]] == [(2, "name-code-mismatch")]
    assert (strict["created"], strict["rejected"]) == (0, 1)
    assert lenient["errors"] == []
    assert [(w["row"], w["code"]) for w in lenient["warnings"]] == [(2, "name-code-mismatch")]
    assert (lenient["created"], lenient["rejected"]) == (1, 0)


def test_departments_add_with_an_invalid_uscc(cli):
    code = DEPT_CODE[:-1] + ("0" if DEPT_CODE[-1] != "0" else "1")

    result = cli.invoke(app, ["departments", "add", "--code", code, "--name", "安吉县某局"])

    assert result.exit_code == 1
    assert "错误" in result.stderr
    assert "统一社会信用代码校验位错误" in result.stderr
    assert "Traceback" not in result.output


def test_report_csv_and_revoke(registered, tmp_path):
    row = penalty_row()
    path = write_rows(tmp_path / "rows.csv", [row, penalty_row(CF_XDR_LB="=1+2")])
    batch_id = json.loads(_import(registered, path, "--json").stdout)["batch_id"]

    report_path = tmp_path / "报告.csv"
    report = registered.invoke(app, ["records", "report", str(batch_id), "--csv", str(report_path)])
    assert report.exit_code == 0, report.output
    with report_path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert [line[:6] for line in lines[1:]] == [["3", "CF_XDR_LB", "行政相对人类别", "错误", "invalid-value", "'=1+2"]]

    revoke = ["records", "revoke", "--type", "penalty", "--department", DEPT_CODE, "--doc-no", row["CF_WSH"],
              "--reason", "行政复议撤销"]  # fmt: skip
    first = registered.invoke(app, revoke)
    assert first.exit_code == 0, first.output
    assert "已撤销" in first.stdout
    second = registered.invoke(app, revoke)
    assert second.exit_code == 1
    assert "已撤销" in second.stderr

    reimport = json.loads(_import(registered, path, "--json").stdout)
    assert [(e["row"], e["code"]) for e in reimport["errors"]] == [
        (2, "record-revoked"),
        (3, "invalid-value"),
    ]


def test_issue_and_revoke_a_key(registered):
    issued = registered.invoke(app, ["departments", "issue-key", "--department", DEPT_CODE])
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip().splitlines()[-1]
    assert token.startswith("xy_")
    prefix = token.split("_")[1]

    revoked = registered.invoke(app, ["departments", "revoke-key", prefix])
    assert revoked.exit_code == 0
    assert "已吊销" in revoked.stdout


def test_a_key_for_credit_checks_and_list_imports_from_the_command_line(registered):
    issued = registered.invoke(app, ["departments", "issue-key", "--department", DEPT_CODE,
                                     "--scope", "api:checks:write", "--scope", "api:lists:write"])  # fmt: skip
    assert issued.exit_code == 0, issued.output
    assert "权限：api:checks:write、api:lists:write" in issued.stdout
    token = issued.stdout.strip().splitlines()[-1]
    with session_scope(session_factory()) as session:
        for scope in ("api:checks:write", "api:lists:write"):
            departments_service.verify_api_key(session, token, scope=scope)
        with pytest.raises(PermissionDenied):
            departments_service.verify_api_key(session, token, scope="api:records:write")

    unknown = registered.invoke(app, ["departments", "issue-key", "--department", DEPT_CODE, "--scope", "api:all"])
    assert unknown.exit_code == 1
    assert "未知的权限" in unknown.stderr
    console_scope = registered.invoke(app, ["departments", "issue-key", "--department", DEPT_CODE,
                                            "--scope", "admin:users:write"])  # fmt: skip
    assert console_scope.exit_code == 1
    assert "只能授予 api: 开头的接口权限" in console_scope.stderr


def test_db_upgrade_says_what_it_did(cli: CliRunner, fresh_database_url: str) -> None:
    from xinyong import migrate

    head = migrate.current_heads(fresh_database_url)[0]
    again = cli.invoke(app, ["db", "upgrade"])  # the fixture's database is migrated already
    assert again.exit_code == 0, again.output
    assert f"数据库已是目标版本（{head}），无需迁移。" in again.stdout
    from alembic import command

    command.downgrade(migrate.alembic_config(fresh_database_url), "0008")
    up = cli.invoke(app, ["db", "upgrade"])
    assert up.exit_code == 0, up.output
    assert f"数据库已迁移：0008 → {head}。" in up.stdout


def test_disclosure_reindex_refills_missing_categories(registered, tmp_path, fresh_database_url) -> None:
    from sqlalchemy import text

    from xinyong.db import make_engine

    path = write_rows(tmp_path / "报送.csv", [penalty_row(CF_CFLB="警告", CF_NR="警告", CF_NR_FK=""), penalty_row()])
    assert _import(registered, path).exit_code == 0
    engine = make_engine(fresh_database_url)
    with engine.begin() as conn:  # as a record type added to the catalogue after its records were stored
        conn.execute(text("UPDATE records SET categories = NULL"))
    result = registered.invoke(app, ["disclosure", "reindex"])
    assert result.exit_code == 0, result.output
    assert "类别字段已更新：2 条" in result.stdout
    with engine.connect() as conn:
        stored = set(conn.execute(text("SELECT categories FROM records")).scalars())
    engine.dispose()
    assert "警告" in stored
    assert None not in stored


def test_brackets_in_a_file_are_printed_as_text(registered, tmp_path):
    """Headers, names, messages and the file's name are the department's text, not Rich markup: a column headed
    `[/x]` crashed the summary table after the import had been stored."""
    rows = [penalty_row(**{"[/x]": "1"}), penalty_row(CF_XDR_MC="[/bold]安吉县[red]测试有限公司", CF_XDR_LB="")]
    path = write_rows(tmp_path / "[red]报送[x].csv", rows)

    result = _import(registered, path)

    assert result.exit_code == 0, (result.output, result.exception)
    assert "未识别的列“[/x]”" in result.stdout
    assert "unknown-column" in result.stdout
    assert "[yellow]" not in result.stdout
