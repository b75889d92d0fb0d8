"""Feed cursors survive a restart: a partner reads part of the feed from one server process, the platform restarts
(a new app on the same settings and database) and the partner goes on from its cursor, missing nothing and getting
nothing twice; an altered cursor is refused as the documentation says, never a 500. The changes of one import
come in the order of its rows."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.factories import records as rf
from tests.functional.exchange.test_repairs_and_merges import READ, Node

from xinyong.app import create_app
from xinyong.changelog import service as changelog
from xinyong.changelog.service import Position
from xinyong.config import Settings
from xinyong.exchange import cursors
from xinyong.protect import derived_key

URL = "/api/v1/changes"


@pytest.fixture
def node(make_platform, settings: Settings) -> Iterator[Node]:  # type: ignore[no-untyped-def]
    made = Node(make_platform(), settings)
    made.department()
    yield made
    made.close()


class Server:
    """One server process's app on the node's settings and database (no test overrides: what a restart builds)."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self.client = TestClient(self.app)
        self.client.__enter__()

    def get(self, headers: dict[str, str], **params: Any) -> Any:
        return self.client.get(URL, params=params, headers=headers)

    def stop(self) -> None:
        self.client.__exit__(None, None, None)
        self.app.state.engine.dispose()


def _read_rest(server: Server, headers: dict[str, str], after: str) -> tuple[list[dict[str, Any]], str]:
    changes: list[dict[str, Any]] = []
    while True:
        response = server.get(headers, after=after, limit=3)
        assert response.status_code == 200, response.text
        body = response.json()
        changes += body["changes"]
        after = body["cursor"]
        if not body["has_more"]:
            return changes, after


def _logged(node: Node) -> list[tuple[str, int]]:
    """The whole change log, in its order: (kind, record id)."""
    with node.session() as session:
        return [(row.kind, row.record_id) for row in changelog.page(session, Position.start(), limit=1000)]


def _ids(node: Node, changes: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(c["change"], node.record(c["record"]["doc_no"]).id) for c in changes]


def test_a_cursor_taken_before_a_restart_continues_after_it(node: Node) -> None:
    rows = [rf.penalty_row() for _ in range(5)]
    node.load(rows)
    headers = node.key(READ)

    before = Server(node.settings)
    first = before.get(headers, limit=3)
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["has_more"] is True
    assert [c["record"]["doc_no"] for c in page["changes"]] == [r["CF_WSH"] for r in rows[:3]]
    kept_cursor = page["cursor"]
    item_cursor = page["changes"][1]["cursor"]  # an item's cursor: right after the second change
    before.stop()

    # while the platform is down, more happens: a late record and a revocation
    late = rf.penalty_row()
    node.load([late])
    node.platform.run("records", "revoke", "--type", "penalty", "--department", rf.DEPT_CODE,
                      "--doc-no", rows[0]["CF_WSH"], "--reason", "决定被复议机关撤销")  # fmt: skip

    after = Server(node.settings)
    try:
        rest, end = _read_rest(after, headers, kept_cursor)
        expected = [("created", r["CF_WSH"]) for r in (*rows[3:], late)] + [("revoked", rows[0]["CF_WSH"])]
        assert [(c["change"], c["record"]["doc_no"]) for c in rest] == expected
        # together: exactly the log, each change once, in its order
        assert _ids(node, page["changes"] + rest) == _logged(node)
        # an item's cursor from before the restart resumes right after that item
        resumed, _ = _read_rest(after, headers, item_cursor)
        assert [c["record"]["doc_no"] for c in resumed] == [r["CF_WSH"] for r in (*rows[2:], late, rows[0])]
        # the last cursor is at the head: nothing more, and it stays valid
        empty = after.get(headers, after=end)
        assert (empty.status_code, empty.json()["changes"], empty.json()["cursor"]) == (200, [], end)
    finally:
        after.stop()


def _tamper(cursor: str, **changes: Any) -> str:
    """The cursor with its body altered and its signature kept, as a partner editing it would send it."""
    body, signature = cursor.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{forged}.{signature}"


def test_altered_cursors_are_refused_after_a_restart_too(node: Node) -> None:
    node.load([rf.penalty_row() for _ in range(3)])
    headers, other = node.key(READ), node.key(READ)
    before = Server(node.settings)
    cursor = before.get(headers, limit=1).json()["cursor"]
    others = before.get(other, limit=1).json()["cursor"]
    before.stop()

    scope = json.loads(base64.urlsafe_b64decode(cursor.split(".")[0] + "=="))["d"]
    after = Server(node.settings)
    try:
        assert after.get(headers, after=cursor).status_code == 200  # the genuine one still works
        for forged in (
            _tamper(cursor, s=0, i=0),  # moved back to replay
            _tamper(cursor, i=10**6),  # moved forward to skip
            _tamper(others, d=scope),  # another key's cursor claimed as this key's
            cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),  # the signature altered
            cursor.split(".")[0],  # the signature dropped
            cursors.encode(Position(0, 0), scope, derived_key(b"another platform's master key, 32 bytes+", "exchange-cursor")),
        ):
            response = after.get(headers, after=forged)
            assert response.status_code == 400, (forged, response.text)
            assert response.json()["error"]["code"] == "cursor-malformed"
        # another key's genuine cursor: refused as another's, not as malformed
        foreign = after.get(headers, after=others)
        assert (foreign.status_code, foreign.json()["error"]["code"]) == (400, "cursor-other-destination")
    finally:
        after.stop()



def test_the_changes_of_one_import_come_in_the_order_of_its_rows(node: Node) -> None:
    # 文书号 whose text order is not the rows' order ("10号" sorts before "9号")
    rows = [rf.penalty_row(CF_WSH=f"安市监罚〔2025〕{n}号") for n in (9, 10, 11, 8)]
    node.load(rows)
    server = Server(node.settings)
    try:
        changes, _ = _read_rest(server, node.key(READ), "")
    finally:
        server.stop()
    assert [c["record"]["doc_no"] for c in changes] == [r["CF_WSH"] for r in rows]
    assert [record_id for _, record_id in _logged(node)] == sorted(node.record(r["CF_WSH"]).id for r in rows)
