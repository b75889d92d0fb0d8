"""The national export to the provincial platform: what it writes imports into a fresh platform unchanged;
later exports carry only what changed; cursors are checked."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.factories import catalog as cf
from tests.factories.records import DEPT_CODE, OTHER_DEPT_CODE, license_row, penalty_row, write_rows
from tests.fixtures.keys import TEST_KEY
from tests.functional.exchange.conftest import Platform
from tests.functional.records.test_checks import PERSON_ID, person_row

from xinyong.changelog.service import Position
from xinyong.config import Settings
from xinyong.exchange import cursors
from xinyong.exchange import service as exchange_service
from xinyong.exchange.service import cursor_key, destination_scope

BACKDATE = ("--reported-on", "2025-10-15", "--reason", "迁移原系统报送记录")


def _seed(platform: Platform, tmp_path: Path) -> None:
    platform.run("departments", "add", "--code", DEPT_CODE, "--name", "安吉县市场监督管理局")
    platform.run("departments", "add", "--code", OTHER_DEPT_CODE, "--name", "安吉县交通运输局")
    penalties = [penalty_row() for _ in range(3)] + [
        person_row(),
        # free text holding an ID number: masked in what is published, sealed in clear
        penalty_row(CF_SY=f"经查，当事人（身份证号 {PERSON_ID}）未按规定公示年度报告。"),
        penalty_row(CF_CFLB="吊销许可证件", CF_NR="吊销营业执照", CF_NR_FK="", CF_GSJZQ="2027-09-29"),
    ]
    other = [penalty_row(CF_CFJGDM=OTHER_DEPT_CODE, CF_SJLYDM=OTHER_DEPT_CODE, CF_SJLY="安吉县交通运输局",
                         CF_CFJG="安吉县交通运输局") for _ in range(2)]  # fmt: skip
    licenses = [license_row() for _ in range(2)]
    for rows, kind, dept in ((penalties, "penalty", DEPT_CODE), (other, "penalty", OTHER_DEPT_CODE),
                             (licenses, "license", DEPT_CODE)):  # fmt: skip
        path = write_rows(tmp_path / f"in-{kind}-{dept}.csv", rows)
        result = platform.run("records", "import", str(path), "--type", kind, "--department", dept, *BACKDATE)
        assert "拒收 0" in result.stdout, result.stdout
    platform.run("records", "revoke", "--type", "penalty", "--department", DEPT_CODE,
                 "--doc-no", penalties[0]["CF_WSH"], "--reason", "决定被复议机关撤销")  # fmt: skip


def _receive(target: Platform, out: Path) -> None:
    """What the provincial platform does with an export: import each file as its department, then revoke."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for dept in manifest["departments"]:
        target.run("departments", "add", "--code", dept["code"], "--name", dept["name"])
    for entry in manifest["files"]:
        result = target.run("records", "import", str(out / entry["path"]), "--type", entry["type"],
                            "--department", entry["department"], *BACKDATE)  # fmt: skip
        assert f"共 {entry['rows']} 行" in result.stdout, result.stdout
        assert "拒收 0" in result.stdout, result.stdout
    if manifest["revocations"]:
        with (out / "revocations.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                target.run("records", "revoke", "--type", row["信息类别"], "--department",
                           row["数据来源单位统一社会信用代码"], "--doc-no", row["决定文书号"],
                           "--reason", row["撤销理由"].split("（")[0])  # fmt: skip


def test_national_export_imports_into_a_fresh_platform_unchanged(make_platform, tmp_path: Path) -> None:
    source = make_platform()
    _seed(source, tmp_path)
    out = tmp_path / "export-1"
    result = source.run("exchange", "export", "--format", "national", "--out", str(out), "--json")
    assert PERSON_ID not in result.stdout  # the command's output never holds an ID number
    summary = json.loads(result.stdout)
    assert summary["records"] == 10
    assert summary["revocations"] == 1
    assert summary["destination"] == "province"

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert PERSON_ID not in json.dumps(manifest, ensure_ascii=False)
    assert sorted((f["path"], f["rows"]) for f in manifest["files"]) == [
        (f"{DEPT_CODE}/license.csv", 2), (f"{DEPT_CODE}/penalty.csv", 6), (f"{OTHER_DEPT_CODE}/penalty.csv", 2),
    ]
    header = (out / DEPT_CODE / "penalty.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("行政相对人名称,行政相对人类别,统一社会信用代码")  # the national headers
    # The provincial platform is a government peer: ID numbers travel in clear there (see docs/exchange.md).
    assert PERSON_ID in (out / DEPT_CODE / "penalty.csv").read_text(encoding="utf-8")
    assert oct((out / DEPT_CODE / "penalty.csv").stat().st_mode & 0o777) == "0o600"
    license_bytes = (out / DEPT_CODE / "license.csv").read_bytes()
    assert source.run("exchange", "verify", str(out)).exit_code == 0
    again = source.run("exchange", "export", "--out", str(out), ok=False)
    assert "输出目录中已有一次导出" in again.output
    (out / DEPT_CODE / "license.csv").write_text("篡改", encoding="utf-8")
    tampered = source.run("exchange", "verify", str(out), ok=False)
    assert tampered.exit_code == 1
    assert "license.csv：SHA-256 不符" in tampered.output

    (out / DEPT_CODE / "license.csv").write_bytes(license_bytes)
    target = make_platform()
    _receive(target, out)
    before, after = source.records(), target.records()
    assert len(before) == 10
    assert after == before
    assert [v["status"] for v in after.values()].count("revoked") == 1


def test_later_exports_carry_only_what_changed(make_platform, tmp_path: Path) -> None:
    source = make_platform()
    _seed(source, tmp_path)
    first = json.loads(source.run("exchange", "export", "--out", str(tmp_path / "e1"), "--json").stdout)
    again = json.loads(source.run("exchange", "export", "--out", str(tmp_path / "e2"), "--json").stdout)
    assert again["records"] == 0
    assert again["files"] == []
    # another destination starts from the beginning
    other = json.loads(source.run("exchange", "export", "--destination", "bank-a", "--out", str(tmp_path / "e3"),
                                  "--json").stdout)  # fmt: skip
    assert other["records"] == 10

    changed = penalty_row(CF_CFJGDM=OTHER_DEPT_CODE, CF_SJLYDM=OTHER_DEPT_CODE, CF_SJLY="安吉县交通运输局",
                          CF_CFJG="安吉县交通运输局")  # fmt: skip
    path = write_rows(tmp_path / "late.csv", [changed])
    source.run("records", "import", str(path), "--type", "penalty", "--department", OTHER_DEPT_CODE, *BACKDATE)
    third = json.loads(source.run("exchange", "export", "--out", str(tmp_path / "e4"), "--json").stdout)
    assert third["records"] == 1
    assert [f["path"] for f in third["files"]] == [f"{OTHER_DEPT_CODE}/penalty.csv"]
    # from an earlier cursor of this destination: everything since then again
    replay = json.loads(source.run("exchange", "export", "--since", first["cursor"], "--out", str(tmp_path / "e5"),
                                   "--json").stdout)  # fmt: skip
    assert replay["records"] == 1


def test_bad_cursors_are_refused(make_platform, tmp_path: Path) -> None:
    source = make_platform()
    _seed(source, tmp_path)
    first = json.loads(source.run("exchange", "export", "--destination", "bank-a", "--out", str(tmp_path / "e1"),
                                  "--json").stdout)  # fmt: skip

    def refused(cursor: str) -> str:
        result = source.run("exchange", "export", "--since", cursor, "--out", str(tmp_path / "x"), ok=False)
        assert result.exit_code == 1
        return result.output

    assert "游标无效：格式不正确" in refused("not-a-cursor")
    assert "签名不符" in refused(first["cursor"][:-3] + "AAA")
    assert "不是签发给“province”的" in refused(first["cursor"])
    future = cursors.encode(Position(10_000, 1), destination_scope("province"),
                            cursor_key(Settings(secret_key=TEST_KEY)))  # fmt: skip
    assert "尚不存在的变更位置" in refused(future)
    bad = source.run("exchange", "export", "--destination", "省 平台", "--out", str(tmp_path / "y"), ok=False)
    assert "接收方名称" in bad.output
    fmt = source.run("exchange", "export", "--format", "csv", "--out", str(tmp_path / "z"), ok=False)
    assert "不支持的导出格式" in fmt.output


def test_masked_export_keeps_id_numbers_out(make_platform, tmp_path: Path) -> None:
    source = make_platform()
    _seed(source, tmp_path)
    out = tmp_path / "masked"
    summary = json.loads(source.run("exchange", "export", "--mask-id-numbers", "--destination", "stats",
                                    "--out", str(out), "--json").stdout)  # fmt: skip
    assert summary["id_numbers"] == "masked"
    for path in out.rglob("*"):
        if path.is_file():
            assert PERSON_ID not in path.read_text(encoding="utf-8")


def test_extract_command(make_platform, tmp_path: Path) -> None:
    source = make_platform()
    _seed(source, tmp_path)
    result = source.run("exchange", "extract", "--class", "public", "--format", "parquet", "--out", str(tmp_path / "x"))
    # published today: the two licences and the 严重 penalty (the others' publicity periods ended)
    assert "已提取 3 条记录" in result.stdout
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text(encoding="utf-8"))
    rows = {f["path"]: f["rows"] for f in manifest["files"]}
    assert {path: count for path, count in rows.items() if count} == {"penalty.parquet": 1, "license.parquet": 2}
    assert {"inspection-result.parquet", "commitment.parquet"} <= set(rows)  # every 社会公开 type has its file
    refused = source.run("exchange", "extract", "--out", str(tmp_path / "y"), ok=False)
    assert "请用 --key 指定请求方" in refused.output


def test_a_destinations_cursor_only_moves_forward(db_session, load, feed_settings, protector,
                                                  tmp_path: Path) -> None:  # fmt: skip
    """The files are written first and the cursor remembered after: two exports to one destination from the same
    cursor, remembered in the other order, leave the later end; the next export starts there."""
    load([cf.enforcement_row()], "enforcement")
    first = exchange_service.export_national(db_session, tmp_path / "a", settings=feed_settings, protector=protector,
                                             destination="partner")  # fmt: skip
    load([cf.enforcement_row()], "enforcement")
    second = exchange_service.export_national(db_session, tmp_path / "b", settings=feed_settings,
                                              protector=protector, destination="partner")  # fmt: skip
    assert (first.records, second.records) == (1, 2)  # nothing remembered yet: both from the beginning
    assert second.end > first.end
    exchange_service.remember_export(db_session, second)
    exchange_service.remember_export(db_session, first)  # the earlier-ending export finishes last
    db_session.commit()
    destination = exchange_service.get_destination(db_session, "partner")
    assert destination is not None
    assert (destination.cursor_seq, destination.cursor_id, destination.exports) == (second.end.seq, second.end.id, 2)
    again = exchange_service.export_national(db_session, tmp_path / "c", settings=feed_settings, protector=protector,
                                             destination="partner")  # fmt: skip
    assert again.records == 0
