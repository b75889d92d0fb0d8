"""The platform's own scheduled jobs: each calls its domain's service, as the matching command does."""

from __future__ import annotations

from datetime import time, timedelta

from xinyong.actors import Actor
from xinyong.audit import service as audit_service
from xinyong.commitments import service as commitments_service
from xinyong.disclosure import service as disclosure_service
from xinyong.exchange import service as exchange_service
from xinyong.exchange import webhooks
from xinyong.finance import service as finance_service
from xinyong.jobs import service
from xinyong.jobs.registry import JobContext, register
from xinyong.jobs.rules import Schedule
from xinyong.lists import service as lists_service
from xinyong.monitoring import service as monitoring_service
from xinyong.monitoring.rules import Month
from xinyong.notify import service as notify_service
from xinyong.objections import service as objections_service
from xinyong.protect import protector
from xinyong.repair import service as repair_service
from xinyong.subjects import names as search_index

KEEP_RUNS = timedelta(days=90)


def disclosure_sweep(ctx: JobContext) -> str:
    """`xinyong disclosure sweep`: note what left publication, then publish an audit checkpoint."""
    counts = disclosure_service.sweep_beside_writers(ctx.session_factory, settings=ctx.settings, today=ctx.today)
    note = ""
    with ctx.session() as session:
        try:
            audit_service.publish_checkpoint(session)
        except Exception as exc:  # the sweep stands; the checkpoint is tried again tomorrow
            note = f"；未能发布审计检查点：{getattr(exc, 'message', exc)}"
    detail = "，".join(f"{k} {v}" for k, v in sorted(counts.items())) or "无"
    return f"新停止公示 {sum(counts.values())} 条（{detail}）{note}"


def lists_expire(ctx: JobContext) -> str:
    with ctx.session(writing=True) as session:
        count = lists_service.expire_due(session, today=ctx.today, actor=Actor.system("job:lists-expire"))
    return f"期满移出 {count} 条名单记录"


def repair_overdue(ctx: JobContext) -> str:
    """Counts overdue repair applications and objections per department (the watch the console shows), for the
    run record and the log."""
    actor = Actor.system("job:repair-overdue")
    with ctx.session() as session:
        repairs = repair_service.overdue_by_department(session, actor, today=ctx.today)
        objections = objections_service.queue(session, actor, status="overdue", today=ctx.today, limit=100_000)
    total = sum(count for _, count in repairs)
    detail = "，".join(f"{name} {count}" for name, count in repairs[:10])
    return f"逾期信用修复申请 {total} 件{f'（{detail}）' if detail else ''}，逾期异议 {len(objections)} 件"


def notify_deliver(ctx: JobContext) -> str:
    with ctx.session() as session:
        sent = notify_service.deliver_pending(session, settings=ctx.settings,
                                              notifier=notify_service.notifier_for(ctx.settings), limit=1000)  # fmt: skip
    return f"已发送 {sent} 条"


def monitoring_warnings(ctx: JobContext) -> str:
    # The month's figures are read first (every department's month, and the months before it): an import goes on
    # writing meanwhile. Then the warnings are raised and resolved in a writer's transaction.
    month = Month.of(ctx.today)
    with ctx.session() as session:
        figures = monitoring_service.month_figures(session, month=month, settings=ctx.settings, today=ctx.today)
    with ctx.session(writing=True) as session:
        run = monitoring_service.evaluate_warnings(session, month=month, settings=ctx.settings, today=ctx.today,
                                                   actor="job:monitoring-warnings", figures=figures)  # fmt: skip
    return f"新发出预警 {run.raised} 条，自动解除 {run.resolved} 条"


def commitments_tasks(ctx: JobContext) -> str:
    """`xinyong commitments tasks`: a verification task for each new 告知承诺, and the overdue ones counted."""
    with ctx.session(writing=True) as session:
        created = commitments_service.sync_tasks(session, settings=ctx.settings)
    with ctx.session() as session:
        rows = commitments_service.tasks(session, actor=Actor.system("job:commitments-tasks"), settings=ctx.settings,
                                         today=ctx.today, sync=False)  # fmt: skip
    overdue = sum(1 for r in rows if r.is_overdue)
    return f"新建核查任务 {created} 个；待核查 {len(rows)} 个，其中逾期 {overdue} 个"


def exchange_push(ctx: JobContext) -> str:
    """`xinyong exchange push`: queue the new changes for each webhook, then send what is due."""
    queued, delivered = webhooks.push(ctx.session_factory, settings=ctx.settings, protector=protector(ctx.settings),
                                      today=ctx.today)  # fmt: skip
    return f"新排队 {queued} 批，本次送达 {delivered} 批"


def finance_overdue(ctx: JobContext) -> str:
    """`xinyong finance overdue`: financing needs past their service level, for the run record and the log."""
    with ctx.session() as session:
        demands = finance_service.overdue_demands(session, ctx.today)
    return f"超过服务时限未答复的融资需求 {len(demands)} 件"


def subjects_index(ctx: JobContext) -> str:
    """The name indexer for subjects an import queued but did not index itself (its process died): imports
    index their own new subjects as they run and when they end (records.batches.index_names)."""
    with ctx.session() as session:
        count = search_index.index_pending(session)
    return f"补建名称索引 {count} 个主体"


def prune_runs(ctx: JobContext) -> str:
    with ctx.session() as session:
        count = service.prune_runs(session, before=ctx.now - KEEP_RUNS)
    return f"清理 {KEEP_RUNS.days} 天前的运行记录 {count} 条"


def changelog_prune(ctx: JobContext) -> str:
    with ctx.session(writing=True) as session:
        count = exchange_service.prune_changes(session, settings=ctx.settings, now=ctx.now)
    days = ctx.settings.changelog_retention_days
    return f"清理 {days} 天前的变更记录 {count} 条" if days else "变更记录永久保留（未清理）"


register("disclosure-sweep", "公示期满清理", disclosure_sweep, Schedule(daily_at=time(0, 10)))
register("lists-expire", "名单期满移出", lists_expire, Schedule(daily_at=time(0, 20)))
register("monitoring-warnings", "信用监测预警", monitoring_warnings, Schedule(daily_at=time(7, 0)))
register("repair-overdue", "逾期修复与异议统计", repair_overdue, Schedule(daily_at=time(8, 30)))
register("notify-deliver", "发送通知与变更事件", notify_deliver,
         Schedule(every=timedelta(minutes=1), retry=timedelta(minutes=1), lease=timedelta(minutes=10)))  # fmt: skip
register("commitments-tasks", "告知承诺核查任务", commitments_tasks, Schedule(daily_at=time(6, 30)))
register("finance-overdue", "信易贷超时未答复统计", finance_overdue, Schedule(daily_at=time(8, 40)))
register("exchange-push", "变更推送（Webhook）", exchange_push,
         Schedule(every=timedelta(minutes=1), retry=timedelta(minutes=1), lease=timedelta(minutes=10)))  # fmt: skip
register("subjects-index", "主体名称索引补建", subjects_index,
         Schedule(every=timedelta(minutes=1), retry=timedelta(minutes=1), lease=timedelta(minutes=10)))  # fmt: skip
register("jobs-prune", "清理定时任务运行记录", prune_runs, Schedule(daily_at=time(3, 0)))
register("changelog-prune", "清理超过保留期的变更记录", changelog_prune, Schedule(daily_at=time(3, 20)))
