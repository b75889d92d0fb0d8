"""The console's batch page: problems a page at a time, counted-only problems summed up, a broken file's end."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from tests.factories.records import ON_TIME, penalty_row, write_rows

from xinyong.records import service as records_service
from xinyong.records.models import Batch


@pytest.fixture(autouse=True)
def _on_time(monkeypatch):  # type: ignore[no-untyped-def]
    from xinyong import clock

    monkeypatch.setattr(clock, "today", lambda: ON_TIME)


def _rows_of(page: str) -> list[str]:
    """The row numbers in the problems table, as shown."""
    table = page.split('data-testid="problems"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr><td>(\w+)</td>", table)


def _import(db_session, settings, protector, department, rows, **caps):  # type: ignore[no-untyped-def]
    result = records_service.import_rows(
        db_session, rows, settings=settings.model_copy(update=caps), protector=protector, record_type="penalty",
        department=department, actor="test", today=ON_TIME,
    )  # fmt: skip
    db_session.commit()
    return result


def test_the_batch_page_shows_200_problems_a_page_with_links(sign_in, accounts, db_session, settings, protector):
    result = _import(db_session, settings, protector, accounts.dept_a, [penalty_row(CF_WSH="") for _ in range(450)])
    browser = sign_in(accounts.users["operator"])

    first = browser.get(f"/admin/batches/{result.batch_id}")
    third = browser.get(f"/admin/batches/{result.batch_id}?page=3")
    beyond = browser.get(f"/admin/batches/{result.batch_id}?page=99")

    assert first.status_code == third.status_code == beyond.status_code == 200
    assert "共 450 条，每页 200 条。" in first.text
    assert _rows_of(first.text) == [str(n) for n in range(1, 201)]  # JSON rows count objects from 1
    assert "第 1 / 3 页" in first.text
    assert 'href="?page=2" rel="next"' in first.text
    assert 'href="?page=3"' in first.text
    assert _rows_of(third.text) == [str(n) for n in range(401, 451)]
    assert "第 3 / 3 页" in third.text
    assert 'href="?page=2" rel="prev"' in third.text
    assert _rows_of(beyond.text) == _rows_of(third.text)  # past the end: the last page
    assert "未逐条列出" not in first.text


def test_counted_only_problems_are_summed_up_on_every_page(sign_in, accounts, db_session, settings, protector):
    rows = [penalty_row(CF_WSH="", CF_XDR_LB="外星人") for _ in range(300)]
    result = _import(db_session, settings, protector, accounts.dept_a, rows, problems_max_per_column=150)
    browser = sign_in(accounts.users["operator"])

    for url in (f"/admin/batches/{result.batch_id}", f"/admin/batches/{result.batch_id}?page=2"):
        page = browser.get(url).text
        omitted = page.split('data-testid="omitted"', 1)[1].split("</table>", 1)[0]
        assert "同类问题过多，以下 300 条只计数、未逐条列出" in page
        assert omitted.count("另有 150 条同类问题未逐条列出") == 2
        for shown in ("行政处罚决定书文号", "CF_WSH", "required", "行政相对人类别", "CF_XDR_LB", "invalid-value"):
            assert shown in omitted
    assert "共 300 条，每页 200 条。" in page
    csv_text = browser.get(f"/admin/batches/{result.batch_id}/problems.csv").text
    assert csv_text.count("另有 150 条同类问题未逐条列出") == 2


def test_an_upload_that_breaks_midway_says_what_was_kept(sign_in, accounts, db_session, tmp_path):
    rows = [penalty_row() for _ in range(30)]
    data = write_rows(tmp_path / "rows.csv", rows).read_bytes()
    cut = data.index(rows[20]["CF_WSH"].encode())
    browser = sign_in(accounts.users["operator"])

    response = browser.client.post(
        "/admin/upload", data={"csrf_token": browser.csrf, "record_type": "penalty"},
        files={"file": ("十月处罚.csv", data[:cut] + b"\xff" + data[cut + 1 :], "text/csv")},
    )  # fmt: skip

    assert response.status_code == 303
    page = browser.get(response.headers["location"]).text
    assert "导入未完成（已处理 20 行）：第 22 行有无法识别的字符（文件按 UTF-8 编码读取）" in page
    assert "此前的 20 行数据已处理，第 22 行及以后的内容未导入" in page
    assert "未完成" in page
    assert _rows_of(page) == ["22"]
    batch = db_session.scalars(select(Batch).order_by(Batch.id.desc())).first()
    assert (batch.status.value, batch.created) == ("incomplete", 20)
