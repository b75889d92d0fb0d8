"""The department's month: the figures of the issue's example, computed from what ingestion stored."""

from __future__ import annotations

import pytest
from tests.functional.monitoring.conftest import TODAY

from xinyong.errors import InvalidInput
from xinyong.monitoring import service
from xinyong.monitoring.rules import Month

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


def test_kpis_whose_source_is_not_built_yet_are_not_applicable(db_session, settings, accounts, ten_rows):
    row = service.compute_month(db_session, month=OCTOBER, settings=settings, today=TODAY).row(accounts.dept_a.id)
    assert row.values["commitments"].value is None
    assert "尚未接入" in row.values["commitments"].reason
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
    actor = accounts.users["platform_admin"]
    from xinyong.auth import service as auth_service

    admin = auth_service.actor_for_user(actor)
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
