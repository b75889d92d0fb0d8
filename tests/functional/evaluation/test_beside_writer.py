"""SQLite: an evaluation run finishes while another connection keeps writing (an import's chunks, a job). Its
last step read the run's grade counts and digest and then wrote the summary in the transaction of that read: the
write failed with "database is locked" whenever the other connection had committed in between, and the run was
marked failed."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url
from tests.factories import evaluation as ef
from tests.factories import lists as lf
from tests.factories import records as rf
from tests.fixtures.keys import keyed_sessionmaker
from tests.functional.evaluation.conftest import TODAY
from tests.functional.web.test_console_beside_writers import Importer, _running

from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.protect import Protector

RUNS = 8


def test_runs_finish_beside_another_writer(fresh_database_url: str, eval_settings: Settings,
                                           protector: Protector) -> None:  # fmt: skip
    url = make_url(fresh_database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows: another writer does not hold the whole database")
    engine = make_engine(fresh_database_url)
    settings = eval_settings.model_copy(update={"database_url": fresh_database_url})
    with keyed_sessionmaker(engine)() as session:
        dept = rf.department(session)
        lf.load_types(session, dept)
        ef.load_builtin_model(session, settings)
        for n in range(1, 41):
            ef.licence(session, settings, protector, dept, ef.company(n), decided=TODAY, today=TODAY)
        session.commit()
        with Importer(str(url.database)) as importer:
            started = _running(importer)
            runs = [ef.run(session, settings, TODAY) for _ in range(RUNS)]
        assert [run.status for run in runs] == ["completed"] * RUNS
        assert [run.subjects for run in runs] == [runs[0].subjects] * RUNS
        assert runs[0].subjects >= 40
        assert len({run.digest for run in runs}) == 1  # the same record, the same grades
        assert importer.commits > started
    engine.dispose()
