"""库对接: a department's table is pulled by its watermark through the ingestion pipeline; a changed row updates
just its record; an interrupted pull resumes from the last committed watermark; and every bad input — a mapping to
an unknown type or field, an unreachable source, a disconnection midway, a watermark going backwards — is refused
with a clear message that never shows the source's password."""

from __future__ import annotations

import glob
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from tests.factories import records as rf
from typer.testing import CliRunner

from xinyong.catalog import load_catalog
from xinyong.cli import app
from xinyong.intake import pull, rules
from xinyong.intake.models import PullState
from xinyong.records.models import Batch, BatchSource, Record, RecordVersion

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "pg-test-server.sh"
PASSWORD = "Xy-secret-7f3a9c"  # a test secret: it must never appear in any output
COLUMNS = {
    "CF_XDR_MC": "xdr_mc", "CF_XDR_LB": "xdr_lb", "CF_XDR_SHXYM": "xdr_shxym", "CF_WSH": "wsh", "CF_WFXW": "wfxw",
    "CF_SY": "sy", "CF_YJ": "yj", "CF_CFLB": "cflb", "CF_NR": "nr", "CF_NR_FK": "fk", "CF_JDRQ": "jdrq",
    "CF_CFJG": "cfjg", "CF_CFJGDM": "cfjgdm", "CF_SJLYDM": "sjlydm",
}  # fmt: skip
MAPPING = """record_type = "penalty"
[columns]
""" + "\n".join(f'{code} = "{column}"' for code, column in COLUMNS.items()) + """
[constants]
CF_SJLY = "安吉县市场监督管理局"
"""
runner = CliRunner()


def _table(metadata: sa.MetaData, name: str, watermark: sa.types.TypeEngine[Any]) -> sa.Table:
    return sa.Table(
        name, metadata, sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(c, sa.Numeric(18, 6) if c == "fk" else sa.Date if c == "jdrq" else sa.Text) for c in COLUMNS.values()),
        sa.Column("updated", watermark),
    )  # fmt: skip


def _row(n: int, mark: Any, **overrides: Any) -> dict[str, Any]:
    source = rf.penalty_row()
    row: dict[str, Any] = {"id": n, **{column: source[code] for code, column in COLUMNS.items()}, "updated": mark}
    row["jdrq"] = datetime(2025, 9, 29, tzinfo=UTC).date()
    row.update(overrides)
    return row


def _config(folder: Path, url: str, table: str, *, chunk: int = 1000, secret: str | None = "dept-db",
            mapping: str = MAPPING) -> Path:  # fmt: skip
    (folder / "penalty.mapping.toml").write_text(mapping, encoding="utf-8")
    secret_line = f'secret = "{secret}"\n' if secret else ""
    config = folder / "sources.toml"
    config.write_text(f"""[sources.market]
department = "{rf.DEPT_CODE}"
url = "{url}"
{secret_line}table = "{table}"
watermark = "updated"
key = "id"
mapping = "penalty.mapping.toml"
chunk_rows = {chunk}
""", encoding="utf-8")  # fmt: skip
    secrets = folder / "secrets.toml"
    secrets.write_text(f'[dept-db]\nusername = "xinyong"\npassword = "{PASSWORD}"\n', encoding="utf-8")
    secrets.chmod(0o600)
    return config


def _source(config: Path, settings: Any) -> rules.Source:
    return rules.load_sources(config, load_catalog(settings.catalog_dirs))["market"]


# --------------------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def department_pg() -> Iterator[str]:
    """A department's own PostgreSQL server, started on loopback for these tests."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        pytest.skip("PostgreSQL is not installed")
    folder = tempfile.mkdtemp(prefix="xinyong-dept-pg-", dir="/tmp")
    try:
        url = subprocess.run([str(SCRIPT), "start", folder], capture_output=True, text=True, check=True).stdout.strip()
        yield url
    finally:
        subprocess.run([str(SCRIPT), "stop", folder], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_postgresql_table_is_pulled_and_one_changed_row_updates_just_that_record(
    department_pg, tmp_path, db_session, settings, protector, caplog,
):  # fmt: skip
    caplog.set_level(logging.INFO, logger="xinyong")
    dept = rf.department(db_session)
    engine = sa.create_engine(department_pg.replace("postgresql://", "postgresql+psycopg://"))
    table = _table(sa.MetaData(), "xzcf_penalties", sa.DateTime(timezone=True))
    start = datetime(2025, 10, 1, 9, tzinfo=UTC)
    with engine.begin() as connection:
        table.drop(connection, checkfirst=True)
        table.create(connection)
        connection.execute(table.insert(), [_row(n, start + timedelta(minutes=n)) for n in (1, 2, 3)])
    # No credentials in the URL: the user and password come from the secrets file.
    url = department_pg.replace("postgresql://xinyong@", "postgresql+psycopg://")
    source = _source(_config(tmp_path, url, "xzcf_penalties"), settings)

    first = pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=tmp_path / "secrets.toml")
    assert (first.rows, first.created, first.rejected) == (3, 3, 0)
    assert rules.mark_text(first.watermark).startswith("2025-10-01T09:03")
    again = pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=tmp_path / "secrets.toml")
    assert (again.rows, again.batches) == (0, [])

    with engine.begin() as connection:
        connection.execute(table.update().where(table.c.id == 2)
                           .values(nr="警告，罚款人民币叁仟元整", fk=0.3, updated=start + timedelta(hours=2)))  # fmt: skip
    changed = pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=tmp_path / "secrets.toml")
    assert (changed.rows, changed.created, changed.updated, changed.unchanged) == (1, 0, 1, 0)
    records = {r.doc_no: r for r in db_session.scalars(select(Record).where(Record.department_id == dept.id))}
    assert len(records) == 3
    with engine.connect() as connection:
        doc_no = connection.execute(select(table.c.wsh).where(table.c.id == 2)).scalar_one()
    assert records[doc_no].payload["CF_NR"] == "警告，罚款人民币叁仟元整"
    versions = db_session.scalars(select(RecordVersion.record_id)).all()
    assert versions == [records[doc_no].id]  # only that record has an earlier version
    sources = set(db_session.scalars(select(Batch.source).where(Batch.id.in_(first.batches + changed.batches))))
    assert sources == {BatchSource.API}  # counted as 接口（库对接）实时报送 by monitoring
    assert PASSWORD not in caplog.text
    assert "***" in caplog.text  # the URL is logged with its password hidden
    engine.dispose()


def test_a_view_whose_connection_is_cut_midway_resumes_from_the_last_committed_watermark(
    department_pg, tmp_path, db_session, settings, protector,
):  # fmt: skip
    rf.department(db_session)
    engine = sa.create_engine(department_pg.replace("postgresql://", "postgresql+psycopg://"))
    table = _table(sa.MetaData(), "xzcf_base", sa.Integer())
    with engine.begin() as connection:
        connection.execute(sa.text("drop view if exists v_xzcf_gs"))
        table.drop(connection, checkfirst=True)
        table.create(connection)
        connection.execute(table.insert(), [_row(n, n) for n in range(1, 7)])
        connection.execute(sa.text("create view v_xzcf_gs as select * from xzcf_base where wsh is not null"))
    url = department_pg.replace("postgresql://xinyong@", "postgresql+psycopg://")
    source = _source(_config(tmp_path, url, "v_xzcf_gs", chunk=2), settings)

    def cut(result: Any, mark: str) -> None:  # the department's server drops the platform's connections
        with engine.begin() as connection:
            connection.execute(sa.text("select pg_terminate_backend(pid) from pg_stat_activity "
                                       "where datname = current_database() and pid <> pg_backend_pid()"))  # fmt: skip

    with pytest.raises(rules.PullRefused) as refused:
        pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=tmp_path / "secrets.toml",
                  on_chunk=cut)  # fmt: skip
    assert "读取时连接中断（已提交到水位 2" in refused.value.message
    assert PASSWORD not in refused.value.message
    assert db_session.scalar(select(func.count()).select_from(Record)) == 2
    resumed = pull.pull(db_session, source, settings=settings, protector=protector,
                        secrets_path=tmp_path / "secrets.toml")  # fmt: skip
    assert (resumed.rows, resumed.created, resumed.unchanged) == (4, 4, 0)
    assert db_session.scalar(select(func.count()).select_from(Record)) == 6
    engine.dispose()


# ------------------------------------------------------------------------------------------- SQLite


@pytest.fixture
def sqlite_source(tmp_path) -> tuple[sa.Engine, sa.Table, str]:  # type: ignore[type-arg]
    path = tmp_path / "department.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    table = _table(sa.MetaData(), "penalties", sa.Integer())
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(table.insert(), [_row(n, 10 * n) for n in range(1, 6)])
    return engine, table, f"sqlite:///{path}"


def test_an_interrupted_pull_resumes_from_the_last_committed_watermark(
    sqlite_source, tmp_path, db_session, settings, protector, monkeypatch,
):  # fmt: skip
    rf.department(db_session)
    _, _, url = sqlite_source
    source = _source(_config(tmp_path, url, "penalties", chunk=2, secret=None), settings)
    real = pull._next_chunk
    calls = {"n": 0}

    def disconnecting(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pull, "_next_chunk", disconnecting)
    with pytest.raises(rules.PullRefused) as refused:
        pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=None)
    assert "读取时连接中断" in refused.value.message
    assert "已提交到水位 20" in refused.value.message
    assert "server closed the connection" in refused.value.message
    assert db_session.scalar(select(func.count()).select_from(Record)) == 2
    assert db_session.scalar(select(PullState.watermark)) == "int:20"

    monkeypatch.setattr(pull, "_next_chunk", real)
    resumed = pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=None)
    assert (resumed.rows, resumed.created, resumed.unchanged) == (3, 3, 0)  # rows 3–5, in two batches
    assert len(resumed.batches) == 2
    assert db_session.scalar(select(func.count()).select_from(Record)) == 5


def test_rows_with_errors_are_reported_in_the_batch_and_the_rest_imported(
    sqlite_source, tmp_path, db_session, settings, protector,
):  # fmt: skip
    rf.department(db_session)
    engine, table, url = sqlite_source
    with engine.begin() as connection:
        connection.execute(table.update().where(table.c.id == 3).values(xdr_shxym="91330521MA0000000X", yj=""))
    source = _source(_config(tmp_path, url, "penalties", secret=None), settings)
    result = pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=None)
    assert (result.rows, result.created, result.rejected) == (5, 4, 1)
    problems = db_session.execute(sa.text("select row, code from batch_problems where batch_id = :b and severity = 'error'"),
                                  {"b": result.batches[0]}).all()  # fmt: skip
    assert {(row, code) for row, code in problems} >= {(3, "required")}
    # The department mends the row in its table: its watermark moves, and the next pull takes it.
    with engine.begin() as connection:
        connection.execute(table.update().where(table.c.id == 3)
                           .values(xdr_shxym=rf.company_code(99123), yj="《行政处罚法》", updated=60))  # fmt: skip
    mended = pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=None)
    assert (mended.rows, mended.created) == (1, 1)


def test_a_watermark_going_backwards_is_refused(sqlite_source, tmp_path, db_session, settings, protector, monkeypatch):
    rf.department(db_session)
    engine, table, url = sqlite_source
    source = _source(_config(tmp_path, url, "penalties", secret=None), settings)
    pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=None)
    batches = db_session.scalar(select(func.count()).select_from(Batch))

    # The table rebuilt with older watermarks: nothing is pulled, the operator is told to check and --reset.
    with engine.begin() as connection:
        connection.execute(table.update().values(updated=table.c.updated - 100))
    with pytest.raises(rules.PullRefused) as refused:
        pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=None)
    assert "早于已提交的水位（50）" in refused.value.message
    assert "--reset" in refused.value.message

    # Rows that come back out of order (a view whose watermark is not monotonic): the chunk is refused whole.
    with engine.begin() as connection:
        connection.execute(table.update().values(updated=table.c.updated + 200))  # 110 … 150, after 50
    real = pull._next_chunk
    monkeypatch.setattr(pull, "_next_chunk", lambda *a, **k: list(reversed(real(*a, **k))))
    with pytest.raises(rules.PullRefused) as backwards:
        pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=None)
    assert "水位倒退" in backwards.value.message
    assert "水位未推进" in backwards.value.message
    assert db_session.scalar(select(PullState.watermark)) == "int:50"
    assert db_session.scalar(select(func.count()).select_from(Batch)) == batches

    # After checking, the operator starts over: the pipeline reads the same rows as unchanged.
    monkeypatch.setattr(pull, "_next_chunk", real)
    pull.reset(db_session, "market")
    again = pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=None)
    assert (again.rows, again.created, again.unchanged) == (5, 0, 5)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (MAPPING.replace('record_type = "penalty"', 'record_type = "fines"'), "未知的信息类别 'fines'"),
        (MAPPING.replace('CF_WFXW = "wfxw"', 'CF_NOPE = "wfxw"'), "没有字段 CF_NOPE"),
        (MAPPING.replace('CF_WFXW = "wfxw"', 'CF_WFXW = "wfxw; drop table x"'), "源列名"),
        (MAPPING.replace('CF_SJLY = "安吉县市场监督管理局"', 'CF_WFXW = "x"'), "不能既取自列又是常量"),
        ("record_type = \"penalty\"\n", "至少映射一个字段"),
    ],
)
def test_a_mapping_to_an_unknown_type_or_field_is_refused(tmp_path, settings, mapping, message):
    config = _config(tmp_path, "sqlite:///x.db", "penalties", mapping=mapping)
    with pytest.raises(rules.IntakeConfigError) as refused:
        rules.load_sources(config, load_catalog(settings.catalog_dirs))
    assert message in refused.value.message
    assert "penalty.mapping.toml" in refused.value.message


def test_a_mapping_to_a_column_the_table_does_not_have_is_refused(sqlite_source, tmp_path, db_session, settings, protector):
    rf.department(db_session)
    _, _, url = sqlite_source
    source = _source(_config(tmp_path, url, "penalties", secret=None,
                             mapping=MAPPING.replace('CF_WFXW = "wfxw"', 'CF_WFXW = "wfxw_old"')), settings)  # fmt: skip
    with pytest.raises(rules.IntakeConfigError) as refused:
        pull.pull(db_session, source, settings=settings, protector=protector, secrets_path=None)
    assert "没有列 wfxw_old" in refused.value.message
    missing = _source(_config(tmp_path, url, "no_such_table", secret=None), settings)
    with pytest.raises(rules.PullRefused) as no_table:
        pull.pull(db_session, missing, settings=settings, protector=protector, secrets_path=None)
    assert "没有表或视图 no_such_table" in no_table.value.message


def test_credentials_belong_in_the_secrets_file_only(tmp_path, settings):
    config = _config(tmp_path, f"postgresql+psycopg://xinyong:{PASSWORD}@127.0.0.1/db", "penalties")
    with pytest.raises(rules.IntakeConfigError) as in_url:
        rules.load_sources(config, load_catalog(settings.catalog_dirs))
    assert "密钥文件" in in_url.value.message
    assert PASSWORD not in in_url.value.message
    secrets = tmp_path / "secrets.toml"
    secrets.chmod(0o644)
    with pytest.raises(rules.IntakeConfigError) as readable:
        rules.load_secret(secrets, "dept-db", where="market")
    assert "chmod 600" in readable.value.message
    secrets.chmod(0o600)
    assert rules.load_secret(secrets, "dept-db", where="market") == {"username": "xinyong", "password": PASSWORD}
    with pytest.raises(rules.IntakeConfigError) as absent:
        rules.load_secret(secrets, "other", where="market")
    assert "没有“other”" in absent.value.message
    with pytest.raises(rules.IntakeConfigError) as none:
        rules.load_secret(None, "dept-db", where="market")
    assert "未指定密钥文件" in none.value.message


# ---------------------------------------------------------------------------------------- the command


def test_the_pull_command_imports_and_an_unreachable_source_is_refused_without_its_password(
    shell, sqlite_source, tmp_path, caplog,
):  # fmt: skip
    caplog.set_level(logging.INFO, logger="xinyong")
    _, _, url = sqlite_source
    config = _config(tmp_path, url, "penalties", secret=None)
    done = runner.invoke(app, ["exchange", "pull", "market", "--config", str(config)])
    assert done.exit_code == 0, done.output
    assert "拉取 5 行" in done.output
    assert "新增 5" in done.output
    again = runner.invoke(app, ["exchange", "pull", "market", "--config", str(config), "--json"])
    assert again.exit_code == 0, again.output
    assert '"rows": 0' in again.output
    # On a schedule: `watch` pulls every source of the file (--once: one pass, for a timer).
    scheduled = runner.invoke(app, ["exchange", "watch", "--config", str(config), "--once"])
    assert scheduled.exit_code == 0, scheduled.output
    assert "数据源 market：0 行，水位 50" in scheduled.output

    # A closed port on loopback: refused, exit code 2, the URL's password nowhere.
    folder = tmp_path / "closed"
    folder.mkdir()
    closed = _config(folder, "postgresql+psycopg://127.0.0.1:1/dept", "penalties")
    refused = runner.invoke(app, ["exchange", "pull", "market", "--config", str(closed), "--secrets",
                                  str(folder / "secrets.toml")])  # fmt: skip
    assert refused.exit_code == 2, refused.output
    assert "无法连接数据源" in refused.output
    assert PASSWORD not in refused.output
    assert PASSWORD not in caplog.text
    # MySQL through PyMySQL: the same refusal.
    mysql = tmp_path / "mysql"
    mysql.mkdir()
    closed = _config(mysql, "mysql+pymysql://127.0.0.1:1/dept", "penalties")
    refused = runner.invoke(app, ["exchange", "pull", "market", "--config", str(closed), "--secrets",
                                  str(mysql / "secrets.toml")])  # fmt: skip
    assert refused.exit_code == 2, refused.output
    assert "无法连接数据源" in refused.output
    assert PASSWORD not in refused.output
    unknown = runner.invoke(app, ["exchange", "pull", "nothing", "--config", str(config)])
    assert unknown.exit_code == 1
    assert "没有数据源“nothing”（可用：market）" in unknown.output


def test_database_values_are_read_as_the_pipeline_reads_cells():
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    late_evening_utc = datetime(2025, 9, 28, 16, 30, tzinfo=UTC)  # 2025-09-29 00:30 in Beijing
    assert rules.cell_text(late_evening_utc) == "2025-09-29"
    assert rules.cell_text(datetime(2025, 9, 29, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai"))) == "2025-09-29"
    assert rules.cell_text(Decimal("0.200000")) == "0.200000"
    assert rules.cell_text(None) == ""
    for value in (late_evening_utc, datetime(2025, 1, 1, 8), datetime(2025, 1, 1).date(), 42, Decimal("1.5"), "v-1"):
        assert rules.decode_mark(rules.encode_mark(value)) == value
