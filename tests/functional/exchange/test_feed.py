"""The change feed through HTTP: what a key of each class sees, paging by cursor, and every refusal as JSON."""

from __future__ import annotations

from tests.factories import catalog as cf
from tests.factories.records import penalty_row
from tests.fixtures.keys import TEST_KEY

from xinyong.changelog.service import Position
from xinyong.config import Settings
from xinyong.exchange import cursors
from xinyong.exchange.service import cursor_key

READ = "api:changes:read"
SHARED = "api:changes:shared"


def _all(client, headers, **params):  # type: ignore[no-untyped-def]
    """Every change, a page at a time; returns (changes, last cursor)."""
    changes, after = [], None
    while True:
        query = {**params, **({"after": after} if after else {})}
        response = client.get("/api/v1/changes", params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        changes += body["changes"]
        after = body["cursor"]
        if not body["has_more"]:
            return changes, after


def test_a_partner_key_reads_public_changes_in_order_a_page_at_a_time(client, db_session, load, feed_key) -> None:
    rows = [cf.enforcement_row() for _ in range(5)]
    load(rows, "enforcement")
    load([cf.arrears_row()], "arrears")
    headers = feed_key(READ)
    changes, cursor = _all(client, headers, limit=2)
    assert [c["type"] for c in changes] == ["enforcement"] * 5  # 政务共享 arrears not in this class
    assert [c["record"]["doc_no"] for c in changes] == [r["QZ_JDSH"] for r in rows]
    assert all(c["change"] == "created" for c in changes)
    text = str(changes)
    for row in rows:  # ID numbers never travel on the feed
        assert row["QZ_FZRZJHM"] not in text
    assert "QZ_FZRZJHM" not in changes[0]["record"]["fields"]
    # nothing new: the same cursor comes back empty
    again = client.get("/api/v1/changes", params={"after": cursor}, headers=headers).json()
    assert again["changes"] == []
    assert again["has_more"] is False
    # a later change comes after the cursor, once
    load([cf.enforcement_row()], "enforcement")
    later = client.get("/api/v1/changes", params={"after": cursor}, headers=headers).json()
    assert len(later["changes"]) == 1
    # any item's cursor resumes right after it
    resumed, _ = _all(client, headers, after=changes[2]["cursor"])
    assert [c["record"]["doc_no"] for c in resumed] == [r["QZ_JDSH"] for r in rows[3:]] + [
        later["changes"][0]["record"]["doc_no"]
    ]


def test_a_government_key_sees_shared_types_too(client, load, feed_key) -> None:
    load([cf.arrears_row()], "arrears")
    load([cf.enforcement_row()], "enforcement")
    headers = feed_key(READ, SHARED)
    changes, _ = _all(client, headers)
    assert sorted(c["type"] for c in changes) == ["arrears", "enforcement"]
    only, _ = _all(client, headers, types="arrears")
    assert [c["type"] for c in only] == ["arrears"]


def test_revocations_travel_without_content(client, db_session, load, feed_key, market) -> None:
    from xinyong.records import service as records_service

    row = cf.enforcement_row()
    load([row], "enforcement")
    records_service.revoke_record(db_session, department=market, record_type="enforcement", doc_no=row["QZ_JDSH"],
                                  reason="决定被依法撤销", actor="test")  # fmt: skip
    db_session.commit()
    changes, _ = _all(client, feed_key(READ))
    assert [c["change"] for c in changes] == ["created", "revoked"]
    assert changes[1]["record"]["status"] == "revoked"
    assert changes[1]["record"]["published"] is False
    assert "fields" not in changes[1]["record"]


def test_refusals_are_clear_json(client, load, feed_key, feed_settings) -> None:
    load([cf.enforcement_row()], "enforcement")
    url = "/api/v1/changes"
    assert client.get(url).status_code == 401
    wrong = client.get(url, headers=feed_key("api:records:read"))
    assert wrong.status_code == 403
    assert "api:changes:read" in wrong.json()["error"]["message"]
    headers = feed_key(READ)
    outside = client.get(url, params={"types": "enforcement,arrears"}, headers=headers)
    assert outside.status_code == 403
    assert outside.json()["error"]["code"] == "type-outside-class"
    assert "arrears" in outside.json()["error"]["message"]
    unknown = client.get(url, params={"types": "penalty-x"}, headers=headers)
    assert unknown.status_code == 422
    assert "没有信息类别" in unknown.json()["error"]["message"]
    malformed = client.get(url, params={"after": "abc"}, headers=headers)
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "cursor-malformed"
    other_cursor = client.get(url, headers=feed_key(READ)).json()["cursor"]
    other = client.get(url, params={"after": other_cursor}, headers=headers)
    assert other.status_code == 400
    assert other.json()["error"]["code"] == "cursor-other-destination"
    tampered = client.get(url, params={"after": other_cursor[:-2] + "AA"}, headers=headers)
    assert tampered.status_code == 400
    mine = client.get(url, headers=headers).json()["cursor"]
    body, _ = mine.split(".")
    import base64
    import json

    scope = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["d"]
    future = cursors.encode(Position(10**9, 1), scope, cursor_key(Settings(secret_key=TEST_KEY)))
    ahead = client.get(url, params={"after": future}, headers=headers)
    assert ahead.status_code == 409
    assert ahead.json()["error"]["code"] == "cursor-in-future"
    assert client.get(url, params={"limit": 0}, headers=headers).status_code == 422
    assert client.get(url, params={"limit": "many"}, headers=headers).status_code == 422


def test_no_id_number_reaches_any_class(client, load, feed_key) -> None:
    from tests.functional.records.test_checks import PERSON_ID, person_row

    load([person_row(), penalty_row(CF_SY=f"当事人身份证号 {PERSON_ID}，未按规定公示年度报告。")], "penalty")
    for headers in (feed_key(READ), feed_key(READ, SHARED)):
        changes, _ = _all(client, headers, types="penalty")
        assert len(changes) == 2
        assert PERSON_ID not in str(changes)
