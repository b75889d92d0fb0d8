"""Pruning the change log: its retention, the horizon, what a reader behind it is told, what it never takes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from tests.factories import catalog as cf

from xinyong.changelog import service as changelog
from xinyong.changelog.models import Change
from xinyong.changelog.service import Position
from xinyong.db import utcnow
from xinyong.exchange import service as exchange_service
from xinyong.exchange import webhooks
from xinyong.exchange.models import Webhook
from xinyong.jobs import builtin  # noqa: F401  (registers the platform's jobs)
from xinyong.jobs.registry import registered

READ = "api:changes:read"


def _feed(client, headers, after=None):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/changes", params={"after": after} if after else {}, headers=headers)


def _count(db_session) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(Change)) or 0


def test_a_cursor_behind_the_horizon_is_told_to_resynchronise(client, db_session, load, feed_key,
                                                               feed_settings) -> None:  # fmt: skip
    load([cf.enforcement_row() for _ in range(4)], "enforcement")
    headers = feed_key(READ)
    first = _feed(client, headers).json()
    early, latest = first["changes"][0]["cursor"], first["cursor"]
    assert _count(db_session) == 4
    # nothing is old enough yet: the retention keeps everything
    assert exchange_service.prune_changes(db_session, settings=feed_settings, now=utcnow()) == 0
    later = utcnow() + timedelta(days=feed_settings.changelog_retention_days + 1)
    assert exchange_service.prune_changes(db_session, settings=feed_settings, now=later) == 4
    db_session.commit()
    assert _count(db_session) == 0
    assert changelog.horizon(db_session) > Position.start()

    stale = _feed(client, headers, early)
    assert stale.status_code == 410
    assert stale.json()["error"]["code"] == "cursor-expired"
    assert "全量同步" in stale.json()["error"]["message"]
    current = _feed(client, headers, latest)  # a reader that kept up loses nothing
    assert current.status_code == 200
    assert current.json()["changes"] == []
    load([cf.enforcement_row()], "enforcement")
    assert len(_feed(client, headers, latest).json()["changes"]) == 1


def test_a_webhook_not_yet_sent_holds_the_log(db_session, load, feed_key, feed_settings, protector) -> None:
    load([cf.enforcement_row() for _ in range(3)], "enforcement")
    prefix = feed_key(READ)["Authorization"].split("_")[1]
    hook, _secret = webhooks.add(db_session, key_prefix=prefix, url="http://127.0.0.1:9/hook", types=None,
                                 settings=feed_settings, protector=protector, actor="test")  # fmt: skip
    positions = [Position(s, i) for s, i in db_session.execute(select(Change.seq, Change.id).order_by(Change.seq, Change.id))]
    hook.cursor_seq, hook.cursor_id = positions[0].seq, positions[0].id  # sent the first change only
    db_session.commit()
    later = utcnow() + timedelta(days=feed_settings.changelog_retention_days + 1)
    assert exchange_service.prune_changes(db_session, settings=feed_settings, now=later) == 1
    db_session.commit()
    assert _count(db_session) == 2
    assert changelog.horizon(db_session) == positions[0]
    db_session.get(Webhook, hook.id).cursor_seq = positions[-1].seq  # type: ignore[union-attr]
    db_session.get(Webhook, hook.id).cursor_id = positions[-1].id  # type: ignore[union-attr]
    assert exchange_service.prune_changes(db_session, settings=feed_settings, now=later) == 2


def test_a_destination_behind_the_horizon_gets_everything(db_session, load, feed_settings, protector,
                                                          tmp_path) -> None:  # fmt: skip
    load([cf.enforcement_row() for _ in range(3)], "enforcement")
    later = utcnow() + timedelta(days=feed_settings.changelog_retention_days + 1)
    exchange_service.prune_changes(db_session, settings=feed_settings, now=later)
    db_session.commit()
    result = exchange_service.export_national(db_session, tmp_path / "full", settings=feed_settings,
                                              protector=protector, destination="new-partner")  # fmt: skip
    assert result.records == 3  # no change left in the log, every record exported
    exchange_service.remember_export(db_session, result)
    db_session.commit()
    again = exchange_service.export_national(db_session, tmp_path / "next", settings=feed_settings,
                                             protector=protector, destination="new-partner")  # fmt: skip
    assert again.records == 0  # then it follows the log as before


def test_retention_zero_keeps_everything_and_the_job_is_scheduled(db_session, load, feed_settings) -> None:
    load([cf.enforcement_row()], "enforcement")
    forever = feed_settings.model_copy(update={"changelog_retention_days": 0})
    assert exchange_service.prune_changes(db_session, settings=forever, now=utcnow() + timedelta(days=10_000)) == 0
    assert _count(db_session) == 1
    assert "changelog-prune" in registered()
