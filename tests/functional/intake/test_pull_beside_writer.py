"""SQLite: 库对接 pulls beside another connection that keeps committing (an import, a web request). A pull moves its
watermark after each chunk the pipeline committed: it read the watermark's row and then wrote it in a plain
transaction, which failed with "database is locked" whenever the other connection had committed in between, and
the pull stopped after one chunk (refused, the rest left for the next run). A source's first pull created its
state the same way. Both are now writers' transactions taken in the writers' turn (`writequeue.writing`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import records as rf
from tests.functional.intake.test_pull import _config, _row, _source, _table
from tests.functional.web.test_console_beside_writers import Importer, _running, own_sqlite_session

from xinyong.config import Settings
from xinyong.intake import pull
from xinyong.intake.models import PullState
from xinyong.protect import Protector
from xinyong.records.models import Record

ROWS = 12


@pytest.fixture
def session(fresh_database_url: str) -> Iterator[tuple[Session, str]]:
    with own_sqlite_session(fresh_database_url) as own:
        yield own


def test_a_pull_moves_its_watermark_chunk_after_chunk_beside_another_writer(
    session: tuple[Session, str], tmp_path, settings: Settings, protector: Protector,
) -> None:  # fmt: skip
    db, path = session
    rf.department(db)
    db.commit()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'department.db'}")
    table = _table(sa.MetaData(), "penalties", sa.Integer())
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(table.insert(), [_row(n, 10 * n) for n in range(1, ROWS + 1)])
    engine.dispose()
    source = _source(_config(tmp_path, f"sqlite:///{tmp_path / 'department.db'}", "penalties", chunk=1,
                             secret=None), settings)  # fmt: skip
    with Importer(path) as importer:
        started = _running(importer)
        result = pull.pull(db, source, settings=settings, protector=protector, secrets_path=None)
        assert importer.commits > started
    assert (result.rows, result.created, len(result.batches)) == (ROWS, ROWS, ROWS)
    db.rollback()
    state = db.scalars(select(PullState)).one()
    assert (state.watermark, state.rows_pulled) == (f"int:{10 * ROWS}", ROWS)
    assert db.scalar(select(func.count()).select_from(Record)) == ROWS
