"""Test fixtures: a real database (SQLite by default, PostgreSQL when XINYONG_TEST_DATABASE_URL names
one), migrated with Alembic once per run; each test runs inside a transaction that is rolled back."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from tests.fixtures.databases import own_database
from tests.fixtures.keys import TEST_KEY, audit_keys_for_tests

from xinyong import migrate
from xinyong.audit import keys as audit_keys
from xinyong.config import Settings
from xinyong.db import make_engine

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _postgres_url() -> str | None:
    return os.environ.get("XINYONG_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _postgres_url()
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    if database_url.startswith("postgresql"):
        _reset_postgres(database_url)
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _own_audit_checkpoint_file(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Checkpoints belong to one database: each test's commands and apps publish to a file of their own."""
    path = tmp_path_factory.getbasetemp() / "audit-checkpoints" / f"{uuid.uuid4().hex}.jsonl"
    monkeypatch.setenv("XINYONG_AUDIT_CHECKPOINT_FILE", str(path))


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False,
                      info={audit_keys.INFO_KEY: audit_keys_for_tests()})  # fmt: skip
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, secret_key=TEST_KEY, secret_key_file=tmp_path / "unused.key",
                    reports_signing_key_file=tmp_path / "report-key.pem",
                    reports_signing_cert_file=tmp_path / "report-cert.pem")  # fmt: skip


@pytest.fixture
def protector(settings: Settings):  # type: ignore[no-untyped-def]
    from xinyong.protect import protector as make

    return make(settings)


@pytest.fixture
def fresh_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database of its own, for code that opens its own connections (CLI, servers)."""
    with own_database(database_url, tmp_path) as url:
        yield url


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
