"""The keyed chain and its published checkpoints: what someone with write access to the database, and even
someone holding the audit key, cannot hide from `verify`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from tests.factories.records import DEPT_CODE
from tests.fixtures.keys import TEST_KEY, audit_keys_for_tests, keyed_sessionmaker
from typer.testing import CliRunner

from xinyong.actors import Actor
from xinyong.audit import keys as audit_keys
from xinyong.audit import rules
from xinyong.audit import service as audit
from xinyong.audit.models import AuditChainHead, AuditEntry
from xinyong.audit.rules import AuditAction
from xinyong.cli import app as cli_app
from xinyong.commandline import session_factory
from xinyong.config import Settings
from xinyong.db import is_postgresql

ACTOR = Actor.system("test")


def _unprotect(session: Session) -> None:
    """What someone with the database owner's rights does first: drop the append-only triggers."""
    if is_postgresql(session):
        session.execute(text("DROP TRIGGER audit_entries_append_only ON audit_entries"))
    else:
        session.execute(text("DROP TRIGGER audit_entries_no_update"))
        session.execute(text("DROP TRIGGER audit_entries_no_delete"))


def _entries(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def _write(session: Session, count: int, *, commit_each: bool = True) -> list[AuditEntry]:
    for i in range(count):
        audit.record(session, AuditAction.LOGIN, actor=ACTOR, details={"i": i, "note": "测试"})
        if commit_each:
            session.commit()
    session.flush()
    return _entries(session)


def _body(entry: AuditEntry, *, key_id: str | None) -> dict:  # type: ignore[type-arg]
    return rules.entry_body(
        seq=entry.seq, created_at=entry.created_at, action=entry.action, actor=entry.actor,
        actor_department_id=entry.actor_department_id, department_id=entry.department_id,
        subject_id=entry.subject_id, target=entry.target, reason=entry.reason, details=entry.details, key_id=key_id,
    )  # fmt: skip


def rechain(session: Session, from_seq: int, *, key: bytes | None, unkeyed: bool = False) -> None:
    """Recompute every hash from `from_seq` on, and the head, as an attacker would: with a key of their own
    (or the real one, for an insider holding it), or with the unkeyed algorithm, marking the entries as
    written before the chain was keyed."""
    rows = [e for e in _entries(session) if e.seq >= from_seq]
    previous = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == from_seq - 1)) or rules.GENESIS_HASH
    for entry in rows:
        key_id = None if unkeyed else entry.key_id
        body = _body(entry, key_id=key_id)
        digest = rules.chain_hash(previous, body) if unkeyed else rules.keyed_hash(key or b"", previous, body)
        session.execute(update(AuditEntry).where(AuditEntry.id == entry.id)
                        .values(prev_hash=previous, hash=digest, key_id=key_id))  # fmt: skip
        previous = digest
    session.execute(update(AuditChainHead).values(last_hash=previous))
    session.expire_all()


@pytest.fixture
def published(db_session: Session, tmp_path: Path) -> Path:
    """The test's session publishes checkpoints (every third entry) to a file of its own."""
    path = tmp_path / "audit-checkpoints.jsonl"
    keys = dataclasses.replace(audit_keys_for_tests(), checkpoint_file=path, checkpoint_every=3)
    db_session.info[audit_keys.INFO_KEY] = keys
    return path


def _lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# ------------------------------------------------------------------------------------------ keyed links


def test_entries_are_signed_with_the_audit_key(db_session):
    keys = audit_keys.of(db_session)
    entry = _write(db_session, 1)[-1]

    assert entry.key_id == keys.current_id
    assert entry.hash == rules.keyed_hash(keys.current, entry.prev_hash, _body(entry, key_id=entry.key_id))
    assert entry.hash != rules.chain_hash(entry.prev_hash, _body(entry, key_id=entry.key_id))
    assert audit.verify(db_session).keyed_from == entry.seq


def test_without_the_key_nothing_is_written(db_session):
    del db_session.info[audit_keys.INFO_KEY]
    with pytest.raises(audit_keys.AuditKeyMissing, match="审计密钥未配置"):
        audit.record(db_session, AuditAction.LOGIN, actor=ACTOR)


def test_a_rechain_without_the_key_names_the_edited_entry(db_session):
    entries = _write(db_session, 6)
    victim = entries[2]
    _unprotect(db_session)
    db_session.execute(update(AuditEntry).where(AuditEntry.id == victim.id).values(actor="someone-else"))
    rechain(db_session, victim.seq, key=b"a key of the attacker's own making")

    report = audit.verify(db_session)

    assert not report.is_intact
    assert report.broken_seq == victim.seq
    assert f"第 {victim.seq} 条记录的内容与其签名不符" in report.problem


def test_a_rechain_with_the_unkeyed_algorithm_names_the_edited_entry(db_session):
    entries = _write(db_session, 6)
    victim = entries[3]
    _unprotect(db_session)
    db_session.execute(update(AuditEntry).where(AuditEntry.id == victim.id).values(reason="改过"))
    rechain(db_session, victim.seq, key=None, unkeyed=True)

    report = audit.verify(db_session)

    assert report.broken_seq == victim.seq
    assert f"第 {victim.seq} 条记录没有审计密钥签名" in report.problem


def test_an_entry_signed_by_an_unknown_key_is_named(db_session):
    entries = _write(db_session, 3)
    _unprotect(db_session)
    db_session.execute(update(AuditEntry).where(AuditEntry.id == entries[1].id).values(key_id="0123456789abcdef"))
    db_session.expire_all()

    report = audit.verify(db_session)

    assert report.broken_seq == entries[1].seq
    assert "编号 0123456789abcdef" in report.problem


# ------------------------------------------------------------------------------------------ checkpoints


def test_checkpoints_are_published_after_commit_at_the_anchor_and_every_n(db_session, published):
    _write(db_session, 7)
    nested = db_session.begin_nested()  # an act that fails: its entry, the ninth, is never published
    _write(db_session, 2, commit_each=False)
    nested.rollback()
    db_session.commit()

    lines = _lines(published)
    entries = _entries(db_session)
    assert [line["seq"] for line in lines] == [1, 3, 6]  # the first keyed entry, then every third
    assert [line["hash"] for line in lines] == [entries[n - 1].hash for n in (1, 3, 6)]
    assert [line["entry_id"] for line in lines] == [entries[n - 1].id for n in (1, 3, 6)]
    assert all(line["count"] == line["seq"] for line in lines)
    report = audit.verify(db_session)
    assert report.is_intact, report.problem
    assert report.checkpoints == 3


def test_publishing_on_demand_pins_the_head(db_session, published):
    _write(db_session, 4)
    point = audit.publish_checkpoint(db_session)
    assert point is not None
    assert (point.seq, point.hash) == (4, _entries(db_session)[-1].hash)
    assert _lines(published)[-1]["seq"] == 4


def test_a_truncated_tail_is_named_even_with_the_head_repaired(db_session, published):
    entries = _write(db_session, 7)
    audit.publish_checkpoint(db_session)
    _unprotect(db_session)
    db_session.execute(text("DELETE FROM audit_entries WHERE seq > 4"))
    db_session.execute(update(AuditChainHead).values(last_seq=4, last_hash=entries[3].hash))
    db_session.expire_all()

    report = audit.verify(db_session)

    assert report.broken_seq == 5
    assert "第 5 条及以后的记录缺失" in report.problem
    assert "审计链已有 7 条，数据库中只有 4 条" in report.problem


def test_a_rechain_by_a_holder_of_the_key_is_caught_by_the_checkpoints(db_session, published):
    entries = _write(db_session, 7)
    victim = entries[4]  # the fifth: between the checkpoints of the third and the sixth
    _unprotect(db_session)
    db_session.execute(update(AuditEntry).where(AuditEntry.id == victim.id).values(actor="someone-else"))
    rechain(db_session, victim.seq, key=audit_keys.of(db_session).current)

    report = audit.verify(db_session)

    assert not report.is_intact
    assert report.broken_seq == 4  # somewhere after the last checkpoint that still holds
    assert "第 6 条记录与" in report.problem
    assert "第 4 至第 6 条中有记录被改动" in report.problem


def test_rewriting_the_whole_chain_as_unkeyed_is_caught_by_the_anchor(db_session, published):
    _write(db_session, 2)
    _unprotect(db_session)
    rechain(db_session, 1, key=None, unkeyed=True)

    report = audit.verify(db_session)

    assert report.broken_seq == 1
    assert "第 1 条记录与" in report.problem


def test_an_edited_checkpoint_is_named(db_session, published):
    _write(db_session, 3)
    lines = published.read_text().splitlines()
    forged = json.loads(lines[1])
    forged["hash"] = "f" * 64
    published.write_text("\n".join([lines[0], json.dumps(forged)]) + "\n")

    report = audit.verify(db_session)

    assert not report.is_intact
    assert "第 2 行的签名无效" in report.problem


def test_a_missing_checkpoint_file_is_reported(db_session, published):
    _write(db_session, 2)
    published.unlink()
    report = audit.verify(db_session)
    assert not report.is_intact
    assert "不存在或为空" in report.problem


# ------------------------------------------------------------------------------------- key rotation


def _keys(tmp_path: Path, **settings: object) -> audit_keys.AuditKeys:
    base = Settings(secret_key=TEST_KEY, audit_checkpoint_file=tmp_path / "cp.jsonl", **settings)  # type: ignore[arg-type]
    return audit_keys.load(base)


def test_a_rotated_key_signs_from_then_on_and_earlier_entries_still_verify(db_session, tmp_path):
    db_session.info[audit_keys.INFO_KEY] = first = _keys(tmp_path)
    _write(db_session, 3)
    db_session.info[audit_keys.INFO_KEY] = second = _keys(tmp_path, audit_key_generation=2)
    _write(db_session, 2)

    entries = _entries(db_session)
    assert first.current_id != second.current_id
    assert [e.key_id for e in entries] == [first.current_id] * 3 + [second.current_id] * 2
    assert [line["seq"] for line in _lines(tmp_path / "cp.jsonl")] == [1, 4]  # each key's first entry
    report = audit.verify(db_session)
    assert report.is_intact, report.problem


def test_after_a_master_key_change_the_former_key_file_lets_earlier_entries_verify(db_session, tmp_path):
    db_session.info[audit_keys.INFO_KEY] = _keys(tmp_path)
    _write(db_session, 2)
    new_master = "another-master-key-" + "fedcba9876543210" * 2
    former = tmp_path / "former.key"
    former.write_text(TEST_KEY)

    db_session.info[audit_keys.INFO_KEY] = audit_keys.load(
        Settings(secret_key=new_master, audit_checkpoint_file=tmp_path / "cp.jsonl"))
    forgotten = audit.verify(db_session)
    db_session.info[audit_keys.INFO_KEY] = audit_keys.load(
        Settings(secret_key=new_master, audit_checkpoint_file=tmp_path / "cp.jsonl", audit_former_key_files=(former,)))
    _write(db_session, 1)
    remembered = audit.verify(db_session)

    assert not forgotten.is_intact
    assert "不在本平台的审计密钥中" in forgotten.problem
    assert remembered.is_intact, remembered.problem


# ------------------------------------------------------------------ the command line, as an attacker leaves it


def _some_history(cli: CliRunner) -> int:
    assert cli.invoke(cli_app, ["departments", "add", "--code", DEPT_CODE, "--name", "安吉县市场监督管理局"]).exit_code == 0
    for command in (["users", "create-admin", "--username", "chief", "--password", "Strong-pass-2025"],
                    ["users", "add", "--username", "op1", "--role", "operator", "--department", DEPT_CODE],
                    ["users", "add", "--username", "op2", "--role", "operator", "--department", DEPT_CODE],
                    ["users", "add", "--username", "op3", "--role", "operator", "--department", DEPT_CODE]):  # fmt: skip
        result = cli.invoke(cli_app, command)
        assert result.exit_code == 0, result.output
    ok = cli.invoke(cli_app, ["audit", "verify", "--json"])
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.stdout)
    assert report["intact"] is True
    assert report["keyed_from"] == 1
    assert report["checkpoints"] >= 1  # the first entry's, published outside the database
    return int(report["checked"])


@pytest.mark.parametrize("algorithm", ["attacker's key", "unkeyed"])
def test_cli_verify_catches_an_edited_row_with_every_later_hash_recomputed(cli, algorithm):
    count = _some_history(cli)
    assert count >= 4
    with session_factory()() as session:
        _unprotect(session)
        session.execute(text("UPDATE audit_entries SET details = :d WHERE seq = 2"), {"d": '{"username": "evil"}'})
        rechain(session, 2, key=b"not the platform's key", unkeyed=algorithm == "unkeyed")
        session.commit()

    result = cli.invoke(cli_app, ["audit", "verify"])

    assert result.exit_code == 1
    assert "审计链断开：第 2 条记录" in result.output
    as_json = json.loads(cli.invoke(cli_app, ["audit", "verify", "--json"]).stdout)
    assert (as_json["intact"], as_json["broken_seq"]) == (False, 2)


def test_cli_verify_catches_a_truncated_tail(cli):
    count = _some_history(cli)
    published = cli.invoke(cli_app, ["audit", "checkpoint"])
    assert published.exit_code == 0, published.output
    assert f"已发布检查点：第 {count} 条" in published.output
    with session_factory()() as session:
        _unprotect(session)
        session.execute(text("DELETE FROM audit_entries WHERE seq > :n"), {"n": count - 2})
        last = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == count - 2))
        session.execute(update(AuditChainHead).values(last_seq=count - 2, last_hash=last))
        session.commit()

    result = cli.invoke(cli_app, ["audit", "verify"])

    assert result.exit_code == 1
    assert f"第 {count - 1} 条及以后的记录缺失" in result.output


def test_cli_checkpoint_on_an_empty_chain_says_so(cli):
    result = cli.invoke(cli_app, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    assert "审计日志为空" in result.output


# ------------------------------------------------------------------------------------------ the upgrade


def test_entries_written_before_the_upgrade_still_verify_and_the_keyed_segment_follows(fresh_database_url, tmp_path):
    """A database at 0009 holds unkeyed entries; after the upgrade they verify as they are, the next entry starts
    the keyed segment with a published checkpoint, and no one can pass keyed entries off as unkeyed ones."""
    from alembic import command

    from xinyong import migrate
    from xinyong.db import make_engine, utcnow

    command.downgrade(migrate.alembic_config(fresh_database_url), "0009")
    engine = make_engine(fresh_database_url)
    previous = rules.GENESIS_HASH
    with engine.begin() as connection:  # as the code before the upgrade wrote them
        for seq in (1, 2, 3):
            created = utcnow()
            body = rules.entry_body(seq=seq, created_at=created, action="auth.login", actor="user:old",
                                    actor_department_id=None, department_id=None, subject_id=None, target=None,
                                    reason=None, details={"n": seq})  # fmt: skip
            digest = rules.chain_hash(previous, body)
            connection.execute(
                AuditEntry.__table__.insert().values(seq=seq, created_at=created, action="auth.login",
                                                     actor="user:old", details={"n": seq}, prev_hash=previous,
                                                     hash=digest))  # fmt: skip
            previous = digest
        connection.execute(text("UPDATE audit_chain_head SET last_seq = 3, last_hash = :h"), {"h": previous})
    command.upgrade(migrate.alembic_config(fresh_database_url), "heads")

    keys = dataclasses.replace(audit_keys_for_tests(), checkpoint_file=tmp_path / "cp.jsonl")
    factory = audit_keys.attach(keyed_sessionmaker(engine), keys)
    with factory() as session:
        before = audit.verify(session)
        assert before.is_intact, before.problem
        assert (before.checked, before.keyed_from) == (3, None)
        _write(session, 2)
        after = audit.verify(session)
        assert after.is_intact, after.problem
        assert (after.checked, after.keyed_from, after.checkpoints) == (5, 4, 1)
        assert [line["seq"] for line in _lines(tmp_path / "cp.jsonl")] == [4]

        _unprotect(session)
        rechain(session, 4, key=None, unkeyed=True)  # the keyed entries passed off as written before the upgrade
        session.commit()
        forged = audit.verify(session)
    engine.dispose()
    assert "第 4 条记录与" in forged.problem  # its published hash was a keyed one
    assert "第 1 至第 4 条中有记录被改动" in forged.problem  # no earlier checkpoint narrows it


def test_the_daily_sweep_publishes_a_checkpoint(cli, tmp_path, monkeypatch):
    path = tmp_path / "daily.jsonl"
    monkeypatch.setenv("XINYONG_AUDIT_CHECKPOINT_FILE", str(path))
    session_factory.cache_clear()
    from xinyong.commandline import settings

    settings.cache_clear()
    count = _some_history(cli)
    before = len(_lines(path))

    result = cli.invoke(cli_app, ["disclosure", "sweep"])

    assert result.exit_code == 0, result.output
    lines = _lines(path)
    assert len(lines) == before + 1
    assert (lines[-1]["seq"], lines[-1]["count"]) == (count, count)
