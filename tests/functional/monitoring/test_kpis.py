"""The department's month: the figures of the issue's example, computed from what ingestion stored."""

from __future__ import annotations

import pytest
from tests.factories import records as rf
from tests.factories.monitoring import REPORTED, TODAY

from xinyong.auth import service as auth_service
from xinyong.errors import InvalidInput
from xinyong.monitoring import service
from xinyong.monitoring.definitions import DEFAULT_FILE, DefinitionError, parse_definitions
from xinyong.monitoring.rules import Month
from xinyong.records import service as records_service

OCTOBER = Month(2025, 10)


def test_ten_rows_two_late_three_rejected(db_session, settings, accounts, ten_rows):
    result = service.compute_month(db_session, month=OCTOBER, settings=settings, today=TODAY)
    row = result.row(accounts.dept_a.id)
    compliance, timeliness = row.values["compliance"], row.values["timeliness"]
    assert (compliance.numerator, compliance.denominator) == (7, 10)
    assert round(compliance.value, 3) == 0.7
    assert (timeliness.numerator, timeliness.denominator) == (5, 7)
    assert round(timeliness.value * 100, 1) == 71.4
    assert row.values["rows"].value == 10


def test_a_department_with_no_rows_shows_dashes_not_zero_or_hundred(db_session, settings, accounts, ten_rows):
    result = service.compute_month(db_session, month=OCTOBER, settings=settings, today=TODAY)
    quiet = result.row(accounts.dept_b.id)
    for key in ("compliance", "timeliness", "effective", "completeness", "repairs", "feedback"):
        assert quiet.values[key].value is None, key
    assert quiet.score is None
    assert quiet.rank is None
    assert result.row(accounts.dept_a.id).rank == 1


def test_kpis_with_nothing_due_are_not_applicable(db_session, settings, accounts, ten_rows):
    row = service.compute_month(db_session, month=OCTOBER, settings=settings, today=TODAY).row(accounts.dept_a.id)
    assert row.values["commitments"].value is None  # connected, but no verification task due this month
    assert row.values["commitments"].reason == "本月无可计算的数据"
    assert row.values["coverage"].value is None
    assert row.score is not None  # scored over the KPIs that apply


def test_json_names_the_rows_behind_each_figure(db_session, settings, accounts, ten_rows):
    document = service.to_json(service.compute_month(db_session, month=OCTOBER, settings=settings, today=TODAY))
    dept = next(d for d in document["departments"] if d["code"] == accounts.dept_a.code)
    assert dept["kpis"]["compliance"]["display"] == "70.0%"
    assert dept["kpis"]["timeliness"]["display"] == "71.4%"
    assert dept["kpis"]["timeliness"]["rows_url"].endswith(f"/2025-10/departments/{accounts.dept_a.id}/late")
    assert dept["kpis"]["compliance"]["rows_url"].endswith(f"/2025-10/departments/{accounts.dept_a.id}/rejected")


def test_drilldowns_list_the_late_and_the_rejected_rows(db_session, settings, accounts, ten_rows):
    admin = auth_service.actor_for_user(accounts.users["platform_admin"])
    late = service.drilldown(db_session, month=OCTOBER, department_id=accounts.dept_a.id, kind="late",
                             settings=settings, actor=admin)  # fmt: skip
    assert sorted(row[1] for row in late.rows) == sorted(ten_rows.late_docs)
    rejected = service.drilldown(db_session, month=OCTOBER, department_id=accounts.dept_a.id, kind="rejected",
                                 settings=settings, actor=admin)  # fmt: skip
    assert {row[1] for row in rejected.rows} == {"2", "5", "9"}
    codes = {row[3] for row in rejected.rows}
    assert codes
    assert all(codes)


@pytest.mark.parametrize(("text", "message"), [
    ("2025-13", "格式不正确"), ("2025/10", "格式不正确"), ("25-10", "格式不正确"), ("", "格式不正确"),
    ("2025-11", "尚未到来"), ("2099-01", "尚未到来"),
])  # fmt: skip
def test_bad_months_are_refused(text, message):
    with pytest.raises(InvalidInput, match=message):
        Month.parse(text, today=TODAY)


def test_completeness_counts_the_optional_fields_the_catalogue_expects(db_session, settings, protector, accounts):
    full = rf.penalty_row(CF_YXQ="2026-09-29", CF_GSJZQ="2026-03-29")
    half = rf.penalty_row(CF_YXQ="2026-09-29")
    bare = rf.penalty_row()
    records_service.import_rows(db_session, [full, half, bare], settings=settings, protector=protector,
                                record_type="penalty", department=accounts.dept_a, actor="test", today=REPORTED)  # fmt: skip
    row = service.compute_month(db_session, month=OCTOBER, settings=settings, today=TODAY).row(accounts.dept_a.id)
    completeness = row.values["completeness"]
    assert (completeness.numerator, completeness.denominator) == (3, 6)  # 3 rows × the 2 fields marked expected
    admin = auth_service.actor_for_user(accounts.users["platform_admin"])
    missing = service.drilldown(db_session, month=OCTOBER, department_id=accounts.dept_a.id, kind="incomplete",
                                settings=settings, actor=admin)  # fmt: skip
    assert {cells[1]: cells[3] for cells in missing.rows} == {
        half["CF_WSH"]: "公示截止期（CF_GSJZQ）", bare["CF_WSH"]: "处罚有效期（CF_YXQ）、公示截止期（CF_GSJZQ）"}
    assert {cells[0] for cells in missing.rows} == {"行政处罚"}


SOURCE = {"key": "s", "label": "测试来源", "provider": "reporting", "measures": {"a": "甲", "b": "乙"}}
KPI = {"key": "k", "name": "k", "formula": "k = 甲 ÷ 乙", "numerator": "a", "denominator": "b"}


def test_a_source_naming_an_unknown_provider_is_refused():
    data = {"sources": [{**SOURCE, "provider": "xinyong.commitments.service:monitoring_measures"}], "kpis": [KPI]}
    with pytest.raises(DefinitionError, match="未知的数据来源 provider"):
        parse_definitions(data, providers=service.PROVIDERS)


def test_an_unknown_section_is_refused():
    with pytest.raises(DefinitionError, match="未知的配置项：completeness"):
        parse_definitions({"sources": [SOURCE], "kpis": [KPI], "completeness": {"x": ["y"]}})


def test_a_source_without_a_provider_is_declared_not_connected(db_session, settings, accounts, ten_rows, tmp_path):
    unplugged = {k: v for k, v in SOURCE.items() if k != "provider"}
    assert parse_definitions({"sources": [unplugged], "kpis": [KPI]}, providers=service.PROVIDERS).sources[0].provider is None
    assert service.definitions(settings).source_of("commitments_due").provider == "commitments"  # the built-in file
    # The built-in file with the commitments source declared but not connected: its KPI is "—", with the reason.
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    assert text.count('provider = "commitments"\n') == 1
    path = tmp_path / "kpis.toml"
    path.write_text(text.replace('provider = "commitments"\n', ""), encoding="utf-8")
    unconnected = settings.model_copy(update={"monitoring_config": path})
    assert service.definitions(unconnected).source_of("commitments_due").provider is None
    result = service.compute_month(db_session, month=OCTOBER, settings=unconnected, today=TODAY)
    row = result.row(accounts.dept_a.id)
    assert row.values["commitments"].value is None
    assert row.values["commitments"].reason == "数据来源“信用承诺”尚未接入"
    assert result.unavailable["commitments_due"] == "数据来源“信用承诺”尚未接入"
    assert row.score == service.compute_month(db_session, month=OCTOBER, settings=settings, today=TODAY).row(
        accounts.dept_a.id).score  # left out of the score, like a KPI with nothing to count
