"""The audit trail: written with the change, chained, verifiable, append-only, never forked."""

from __future__ import annotations

import itertools
import json
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tests.factories.records import ON_TIME, department, penalty_row
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.models import AuditChainHead, AuditEntry
from xinyong.audit.rules import AuditAction
from xinyong.cli import app as cli_app
from xinyong.commandline import session_factory
from xinyong.db import is_postgresql, make_engine
from xinyong.records import service as records_service

ACTOR = Actor.system("test")


def _entries(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def _unprotect(session: Session) -> None:
    """What someone with the database owner's rights could do: switch the append-only trigger off."""
    if is_postgresql(session):
        session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_entries_no_update"))
        session.execute(text("DROP TRIGGER audit_entries_no_delete"))


def _some_entries(session: Session, count: int = 5) -> list[AuditEntry]:
    for i in range(count):
        audit.record(session, AuditAction.LOGIN, actor=ACTOR, details={"i": i, "note": "测试"})
    session.flush()
    return _entries(session)


def test_a_fresh_chain_verifies(db_session):
    _some_entries(db_session)
    report = audit.verify(db_session)
    assert report.is_intact, report.problem
    assert report.checked == report.last_seq == len(_entries(db_session))


def test_entries_link_to_their_predecessor(db_session):
    entries = _some_entries(db_session, 3)
    for previous, entry in itertools.pairwise(entries):
        assert entry.prev_hash == previous.hash
        assert entry.seq == previous.seq + 1


def test_an_edited_entry_is_named(db_session):
    entries = _some_entries(db_session)
    victim = entries[-3]
    _unprotect(db_session)
    db_session.execute(text("UPDATE audit_entries SET actor = 'someone-else' WHERE id = :id"), {"id": victim.id})
    db_session.expire_all()

    report = audit.verify(db_session)

    assert not report.is_intact
    assert report.broken_seq == victim.seq
    assert "被改动" in report.problem


def test_an_edited_details_field_is_named(db_session):
    entries = _some_entries(db_session)
    victim = entries[-2]
    _unprotect(db_session)
    db_session.execute(text("UPDATE audit_entries SET reason = 'x' WHERE id = :id"), {"id": victim.id})
    db_session.expire_all()
    assert audit.verify(db_session).broken_seq == victim.seq


def test_a_deleted_entry_is_named(db_session):
    entries = _some_entries(db_session)
    victim_id, victim_seq = entries[-3].id, entries[-3].seq
    _unprotect(db_session)
    db_session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": victim_id})
    db_session.expire_all()

    report = audit.verify(db_session)

    assert report.broken_seq == victim_seq
    assert f"第 {victim_seq} 条记录缺失" in report.problem


def test_a_deleted_last_entry_is_noticed(db_session):
    entries = _some_entries(db_session)
    last_id, last_seq = entries[-1].id, entries[-1].seq
    _unprotect(db_session)
    db_session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": last_id})
    db_session.expire_all()

    report = audit.verify(db_session)

    assert not report.is_intact
    assert report.broken_seq == last_seq


@pytest.mark.parametrize("statement", ["UPDATE audit_entries SET actor = 'x'", "DELETE FROM audit_entries"])
def test_the_database_refuses_updates_and_deletes(db_session, statement):
    _some_entries(db_session, 1)
    nested = db_session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(text(statement))
    nested.rollback()


def test_the_entry_is_written_in_the_same_transaction_as_the_change(db_session, settings, protector):
    dept = department(db_session)
    records_service.import_rows(db_session, [penalty_row(CF_WSH="文书1")], settings=settings, protector=protector,
                                record_type="penalty", department=dept, actor="test", today=ON_TIME)  # fmt: skip
    before = db_session.scalar(select(func.count()).select_from(AuditEntry))
    nested = db_session.begin_nested()
    records_service.revoke_record(db_session, department=dept, record_type="penalty", doc_no="文书1",
                                  reason="决定已撤销", actor="user:x")  # fmt: skip
    db_session.flush()
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == before + 1
    nested.rollback()  # the change fails: its audit entry goes with it, and the chain stays whole
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == before
    assert audit.verify(db_session).is_intact


def test_ingestion_and_revocation_are_audited(db_session, settings, protector):
    dept = department(db_session)
    result = records_service.import_rows(db_session, [penalty_row(CF_WSH="文书2")], settings=settings,
                                         protector=protector, record_type="penalty", department=dept,
                                         actor="api-key:abc", today=ON_TIME)  # fmt: skip
    records_service.revoke_record(db_session, department=dept, record_type="penalty", doc_no="文书2",
                                  reason="决定已撤销", actor="api-key:abc")  # fmt: skip
    db_session.flush()
    rows = db_session.execute(select(AuditEntry.action, AuditEntry.target, AuditEntry.reason)
                              .where(AuditEntry.actor == "api-key:abc").order_by(AuditEntry.seq)).all()  # fmt: skip
    assert [r.action for r in rows] == ["batch.started", "batch.finished", "record.revoked"]
    assert rows[0].target == f"batch:{result.batch_id}"
    assert rows[2].reason == "决定已撤销"


# ------------------------------------------------------------------------------------- concurrency


def test_concurrent_writers_never_fork_the_chain(fresh_database_url):
    engine = make_engine(fresh_database_url)
    factory = keyed_sessionmaker(engine)
    errors: list[BaseException] = []
    per_thread, threads = 25, 4
    start = threading.Barrier(threads)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                for attempt in range(50):
                    session = factory()
                    try:
                        audit.record(session, AuditAction.LOGIN, actor=Actor.system(f"writer-{n}"), details={"i": i})
                        session.commit()
                        break
                    except DBAPIError:  # SQLite may answer "database is locked"; the append is retried
                        session.rollback()
                        if attempt == 49:
                            raise
                    finally:
                        session.close()
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    with factory() as session:
        report = audit.verify(session)
        assert report.is_intact, report.problem
        assert report.checked == per_thread * threads
        assert session.get(AuditChainHead, 1).last_seq == per_thread * threads
    engine.dispose()


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_verify_reports_the_first_broken_link(cli):
    from tests.factories.records import DEPT_CODE

    assert cli.invoke(cli_app, ["departments", "add", "--code", DEPT_CODE, "--name", "安吉县市场监督管理局"]).exit_code == 0
    result = cli.invoke(cli_app, ["users", "create-admin", "--username", "chief", "--password", "Strong-pass-2025"])
    assert result.exit_code == 0, result.output
    result = cli.invoke(cli_app, ["users", "add", "--username", "op1", "--role", "operator", "--department", DEPT_CODE])
    assert result.exit_code == 0, result.output
    assert "一次性初始密码" in result.output

    ok = cli.invoke(cli_app, ["audit", "verify", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["intact"] is True
    assert json.loads(ok.stdout)["checked"] == 3

    with session_factory()() as session:
        _unprotect(session)
        session.execute(text("UPDATE audit_entries SET details = :d WHERE seq = 2"), {"d": '{"username": "evil"}'})
        session.commit()
    broken = cli.invoke(cli_app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "第 2 条" in broken.output


def test_cli_export_writes_csv_and_is_itself_audited(cli):
    cli.invoke(cli_app, ["users", "create-admin", "--username", "chief", "--password", "Strong-pass-2025"])
    result = cli.invoke(cli_app, ["audit", "export"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("seq,created_at,action,actor")
    assert "user.created" in result.stdout
    with session_factory()() as session:
        assert _entries(session)[-1].action == "audit.exported"
        assert audit.verify(session).is_intact


def test_id_numbers_in_reasons_and_details_are_masked_and_the_chain_holds(db_session: Session) -> None:
    audit.record(db_session, AuditAction.RECORD_REVOKED, actor=ACTOR, reason="经办人 330521 19800517 1230",
                 details={"note": ["身份证号３３０５２１１９８００５１７１２３０"], "count": 2})  # fmt: skip
    entry = _entries(db_session)[-1]
    assert entry.reason == "经办人 3305**********1230"
    assert entry.details == {"note": ["身份证号3305**********1230"], "count": 2}
    assert audit.verify(db_session).is_intact
