"""A database file that is not (or no longer) a readable database is an outage, not a defect: every page and
API call answers 503 with a retry hint, as when the database cannot be reached; other database errors stay
500s."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from tests.fixtures.databases import own_database
from tests.functional.operations.test_metrics import client_for

from xinyong.config import Settings
from xinyong.web import errors


def random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(100_000))  # "file is not a database"


def malformed(path: Path) -> None:
    """A migrated database whose pages after the first are overwritten: "database disk image is malformed"."""
    with own_database("sqlite://", path.parent) as url:
        source = Path(url.removeprefix("sqlite:///"))
        with sqlite3.connect(source) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        data = bytearray(source.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page:] = b"\xff" * (len(data) - page)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [random_bytes, malformed], ids=["not-a-database", "malformed"])
def test_a_corrupt_database_file_answers_503(settings: Settings, tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    database = tmp_path / "corrupt.db"
    damage(database)
    for client in client_for(settings.model_copy(update={"database_url": f"sqlite:///{database}"})):
        assert client.get("/readyz").status_code == 503
        browser = TestClient(client.app, raise_server_exceptions=False)
        for path in ("/", "/search?q=测试科技"):
            page = browser.get(path)
            assert page.status_code == 503, path
            assert "数据库暂时无法访问，请稍后再试" in page.text, path
            assert page.headers["Retry-After"] == "30", path
        api = browser.get("/api/v1/subjects?q=测试科技")
        assert api.status_code == 503
        assert api.json()["error"] == {"code": "database-unavailable", "message": "数据库暂时无法访问，请稍后再试"}
        assert api.headers["Retry-After"] == "30"


def test_other_database_errors_stay_defects() -> None:
    with sqlite3.connect(":memory:") as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        connection.execute("INSERT INTO t VALUES (1)")
        try:
            connection.execute("INSERT INTO t VALUES (1)")
        except sqlite3.IntegrityError as exc:
            original = exc
    connection.close()
    status, document, headers = errors._describe(IntegrityError("INSERT", {}, original), "/")
    assert status == 500
    assert document["code"] == "internal-error"
    assert "Retry-After" not in headers
