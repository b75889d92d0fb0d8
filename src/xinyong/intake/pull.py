"""库对接: pull a department's table or view incrementally, through the ingestion pipeline.

Rows are read in (watermark, key) order, a chunk at a time (keyset pagination: each chunk is its own query, so
nothing is held open between chunks). Each chunk becomes one batch through `records.service.import_rows` — the
same validation, problem report and idempotency as a file — and only then is the watermark of its last row
committed. A pull that stops (the source disconnects, the process is killed) resumes after the last committed
chunk; a chunk imported but not yet marked is imported again, which the pipeline reads as unchanged rows.

Credentials come from the secrets file and are set on the URL object, never formatted into text: what is printed
or logged is the URL with the password hidden, and a driver's message has any secret value cut out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Column, MetaData, Table, and_, create_engine, func, or_, select
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError
from sqlalchemy.orm import Session

from xinyong import writequeue
from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.departments import service as departments_service
from xinyong.intake import rules
from xinyong.intake.models import PullState
from xinyong.intake.rules import IntakeConfigError, PullRefused, Source
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import BatchSource

log = logging.getLogger("xinyong.intake")

CONNECT_ARGS = {
    "postgresql": {"connect_timeout": 10},
    "mysql": {"connect_timeout": 10, "read_timeout": 600},
}


@dataclass
class PullResult:
    source: str
    batches: list[int] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    watermark: str | None = None

    def add(self, result: records_service.ImportResult) -> None:
        self.batches.append(result.batch_id)
        self.rows += result.rows
        self.created += result.created
        self.updated += result.updated
        self.unchanged += result.unchanged
        self.rejected += result.rejected


def source_url(source: Source, secrets: dict[str, str]) -> URL:
    try:
        url = make_url(source.url)
    except ArgumentError:
        raise IntakeConfigError(where=f"sources.{source.key}", reason="url 不是有效的数据库地址") from None
    if secrets:
        url = url.set(username=secrets.get("username") or url.username, password=secrets.get("password"))
    return url


def shown_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _engine(url: URL) -> Engine:
    try:
        return create_engine(url, connect_args=CONNECT_ARGS.get(url.get_backend_name(), {}))
    except (NoSuchModuleError, ImportError):
        raise IntakeConfigError(where=url.drivername, reason="不支持的数据库驱动（支持 PostgreSQL、MySQL、SQLite）") from None


def _first_line(exc: BaseException, secrets: dict[str, str]) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return rules.scrub(text[0] if text else type(exc).__name__, secrets)[:300]


@contextmanager
def _connected(source: Source, engine: Engine, secrets: dict[str, str], what: str) -> Iterator[Connection]:
    """A connection to the source; any failure of the source's database becomes a PullRefused with its cause."""
    try:
        with engine.connect() as connection:
            yield connection
    except PullRefused:
        raise
    except DBAPIError as exc:
        raise PullRefused(source=source.key, reason=f"{what}：{_first_line(exc, secrets)}") from None
    except SQLAlchemyError as exc:
        raise PullRefused(source=source.key, reason=f"{what}：{_first_line(exc, secrets)}") from None


def _table(source: Source, connection: Connection) -> Table:
    try:
        table = Table(source.table, MetaData(), schema=source.schema, autoload_with=connection)
    except NoSuchTableError:
        raise PullRefused(source=source.key, reason=f"数据源中没有表或视图 {source.table}") from None
    needed = [source.watermark, source.key_column, *source.mapping.columns.values()]
    missing = sorted({c for c in needed if c not in table.c})
    if missing:
        raise IntakeConfigError(where=f"sources.{source.key}", reason=f"表 {source.table} 中没有列 {'、'.join(missing)}")
    return table


def _state(session: Session, source: Source) -> PullState:
    state = session.query(PullState).filter_by(source=source.key).one_or_none()
    if state is None:  # created in a writer's transaction (an import may be committing meanwhile)
        session.commit()
        with writequeue.writing(session):
            state = session.query(PullState).filter_by(source=source.key).one_or_none()
            if state is None:
                state = PullState(source=source.key, rows_pulled=0)
                session.add(state)
    return state


def reset(session: Session, source_key: str) -> None:
    """Forget a source's watermark: the next pull reads the whole table again (the pipeline keeps it idempotent)."""
    session.query(PullState).filter_by(source=source_key).delete()
    session.commit()


def pull(
    session: Session,
    source: Source,
    *,
    settings: Settings,
    protector: Protector,
    secrets_path: Path | None,
    actor: Actor | None = None,
    today: date | None = None,
    max_chunks: int | None = None,
    on_chunk: Callable[[records_service.ImportResult, str], None] | None = None,
) -> PullResult:
    """Pull what changed since the committed watermark. Commits chunk by chunk: call it at a command boundary.
    Raises PullRefused (the source's side) or IntakeConfigError (the configuration); what was committed stays."""
    department = departments_service.get_department(session, source.department)
    secrets = rules.load_secret(secrets_path, source.secret, where=f"sources.{source.key}")
    url = source_url(source, secrets)
    engine = _engine(url)
    state = _state(session, source)
    result = PullResult(source.key, watermark=state.watermark)
    log.info("pull %s from %s (table %s) after %s", source.key, shown_url(url), source.table,
             rules.mark_text(state.watermark))  # fmt: skip
    try:
        with _connected(source, engine, secrets, "无法连接数据源") as connection:
            table = _table(source, connection)
            wm, key = table.c[source.watermark], table.c[source.key_column]
            if state.watermark is not None:
                highest = connection.execute(select(func.max(wm))).scalar()
                committed = rules.decode_mark(state.watermark)
                if highest is None or _before(highest, committed):
                    raise PullRefused(source=source.key, reason=(
                        f"源表的最大水位（{highest}）早于已提交的水位（{rules.mark_text(state.watermark)}），"
                        "表可能被重建或数据被回滚：未拉取任何数据；核实后可用 --reset 从头拉取"))  # fmt: skip
        chunks = 0
        while max_chunks is None or chunks < max_chunks:
            with _connected(source, engine, secrets,
                            f"读取时连接中断（已提交到水位 {rules.mark_text(state.watermark)}，下次从该处继续）") as connection:  # fmt: skip
                rows = _next_chunk(connection, table, wm, key, state, source)
            if not rows:
                break
            _check_order(source, rows, state)
            items = [_item(source, row) for row in rows]
            imported = records_service.import_rows(
                session, items, settings=settings, protector=protector, record_type=source.mapping.record_type,
                department=department, actor=actor or f"pull:{source.key}", source=BatchSource.API, today=today,
            )  # fmt: skip
            if imported.failure:
                raise PullRefused(source=source.key, reason=(
                    f"批次 {imported.batch_id} 未导入：{imported.failure['message']}；水位未推进"))  # fmt: skip
            last = rows[-1]
            session.commit()  # the watermark moves in a writer's transaction of its own, read and written
            with writequeue.writing(session):
                state = session.merge(state)
                state.watermark = rules.encode_mark(last[source.watermark])
                state.last_key = rules.encode_mark(last[source.key_column])
                state.rows_pulled += len(rows)
                state.last_batch_id = imported.batch_id
                state.updated_at = utcnow()
            result.add(imported)
            result.watermark = state.watermark
            if on_chunk is not None:
                on_chunk(imported, state.watermark)
            chunks += 1
            if len(rows) < source.chunk_rows:
                break
    finally:
        engine.dispose()
        if result.batches:
            audit.record(session, AuditAction.SOURCE_PULLED, actor=actor or f"pull:{source.key}",
                         department_id=department.id, target=f"source:{source.key}",
                         details={"batches": result.batches, "rows": result.rows, "created": result.created,
                                  "updated": result.updated, "rejected": result.rejected,
                                  "watermark": rules.mark_text(result.watermark)})  # fmt: skip
            session.commit()
    log.info("pulled %s: %d rows in %d batches, watermark %s", source.key, result.rows, len(result.batches),
             rules.mark_text(result.watermark))  # fmt: skip
    return result


def _before(value: Any, committed: Any) -> bool:
    try:
        return bool(value < committed)
    except TypeError:
        return str(value) < str(committed)


def _after_clause(wm: Column[Any], key: Column[Any], state: PullState) -> Any:
    if state.watermark is None:
        return wm.is_not(None)
    mark = rules.decode_mark(state.watermark)
    if state.last_key is None:
        return wm > mark
    return or_(wm > mark, and_(wm == mark, key > rules.decode_mark(state.last_key)))


def _next_chunk(connection: Connection, table: Table, wm: Column[Any], key: Column[Any], state: PullState,
                source: Source) -> list[dict[str, Any]]:  # fmt: skip
    columns = sorted({source.watermark, source.key_column, *source.mapping.columns.values()})
    query = (select(*(table.c[c] for c in columns)).where(_after_clause(wm, key, state))
             .order_by(wm, key).limit(source.chunk_rows))  # fmt: skip
    return [dict(row._mapping) for row in connection.execute(query)]


def _check_order(source: Source, rows: list[dict[str, Any]], state: PullState) -> None:
    """Rows come in (watermark, key) order, after the committed watermark: a row before its predecessor means the
    source does not keep its watermark (a view over a changing clock, a column rewritten backwards). The chunk is
    refused whole, and the watermark stays where it was."""
    previous = (rules.decode_mark(state.watermark), rules.decode_mark(state.last_key or "str:")) \
        if state.watermark is not None else None  # fmt: skip
    for number, row in enumerate(rows, start=1):
        current = (row[source.watermark], row[source.key_column])
        if current[0] is None:
            raise PullRefused(source=source.key, reason=f"第 {number} 行的水位列 {source.watermark} 为空；水位未推进")
        if previous is not None and (_before(current[0], previous[0])
                                     or (current[0] == previous[0] and state.last_key is not None
                                         and _before(current[1], previous[1]))):  # fmt: skip
            raise PullRefused(source=source.key, reason=(
                f"水位倒退：第 {number} 行（{source.key_column} = {current[1]}）的水位 {current[0]} 早于此前的 "
                f"{previous[0]}；本段未导入，水位未推进，请核实源表的水位列"))  # fmt: skip
        previous = current


def _item(source: Source, row: dict[str, Any]) -> dict[str, str]:
    item = {code: rules.cell_text(row[column]) for code, column in source.mapping.columns.items()}
    item.update(source.mapping.constants)
    return item
