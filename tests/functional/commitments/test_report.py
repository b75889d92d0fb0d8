"""The 信用承诺 section of credit reports: the public report shows the public commitment (broken, with its 违诺责任)
in its own section, not again under 行政管理, and never the 不予公开 one."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.functional.commitments.conftest import days_ago, dept_row

from xinyong.reports import service as reports_service


def _sections(db_session, code, settings, protector, today, kind):  # type: ignore[no-untyped-def]
    issued = reports_service.prepare_for_platform(db_session, code, settings=settings, protector=protector,
                                                  today=today, now=datetime.now(UTC), base_url="https://x.example.cn/",
                                                  kind=kind, formats=("json",))  # fmt: skip
    return {s["key"]: s for s in issued.content["sections"]}


def test_the_report_section_follows_publication(db_session, accounts, import_file, console_settings, protector, today,  # type: ignore[no-untyped-def]
                                                tmp_path):  # fmt: skip
    settings = console_settings.model_copy(update={"reports_signing_key_file": tmp_path / "k.pem",
                                                   "reports_signing_cert_file": tmp_path / "c.pem"})  # fmt: skip
    made = days_ago(today, 30)
    public = dept_row(accounts.dept_a, made, 承诺履行状态="全部未履行", 未履行的承诺内容="未按期提交证明",
                      履行状态认定日期=days_ago(today, 2).isoformat(), 履行状态认定单位=accounts.dept_a.name)  # fmt: skip
    private = dept_row(accounts.dept_a, made, 公开类型="不予公开", 统一社会信用代码=public["统一社会信用代码"],
                       承诺人名称=public["承诺人名称"])  # fmt: skip
    assert import_file([public, private]).created == 2
    found = _sections(db_session, public["统一社会信用代码"], settings, protector, today, "public")
    [group] = found["commitments"]["groups"]
    text = str(group)
    assert public["承诺编码"] in text
    assert public["违诺责任"] in text
    assert "违诺" in group["items"][0]["marks"]
    assert private["承诺编码"] not in text
    administration = [g["title"] for g in found["administration"]["groups"]]
    assert "信用承诺" not in administration
