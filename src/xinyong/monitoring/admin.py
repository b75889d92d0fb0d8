"""Console pages of monitoring: the month's table and trends, the rows behind a figure, the report, 重错码,
warnings and each user's inbox."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.alerts import service as alerts_service
from xinyong.alerts.models import AlertStatus
from xinyong.errors import InvalidInput, NotFound
from xinyong.monitoring import quality, report, rules, service
from xinyong.notify import service as notify_service
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Id, IdQuery, Today, UoW, parse_id, require
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)

Reader = Annotated[Actor, require(Permission.MONITORING_READ)]
Writer = Annotated[Actor, require(Permission.MONITORING_WRITE)]
Acknowledger = Annotated[Actor, require(Permission.ALERTS_ACKNOWLEDGE)]
SignedIn = Annotated[Actor, require(Permission.ACCOUNT_WRITE)]
Note = Annotated[str, Form(max_length=500)]


@router.get("/monitoring", name="admin.monitoring.index")
def index(request: Request, session: DbSession, settings: AppSettings, actor: Reader, today: Today,
          month: str = "", department: IdQuery = None, region: str = "") -> Response:  # fmt: skip
    parsed = service.parse_month(month[:10] or None, today=today)
    chosen = service.check_region(session, actor, region)
    result = service.compute_month(session, month=parsed, settings=settings, today=today, actor=actor, region=chosen)
    chart_department = department if department is not None and not actor.is_department_bound else None
    if chart_department is not None and not actor.can_reach(chart_department):
        raise NotFound(what="该部门")
    trend = service.trend(session, month=parsed, settings=settings, today=today, actor=actor,
                          department_id=chart_department, region=chosen)  # fmt: skip
    chart_name = next((r.department.name for r in result.departments if r.department.id == chart_department), None)
    first = service.first_month(session)
    return render(request, "admin/monitoring/index.html", {
        "result": result, "month": parsed, "previous": parsed.previous() if first is not None and parsed > first else None,
        "next": parsed.next() if parsed.next() <= rules.Month.of(today) else None,
        "display": rules.display, "trend_json": json.dumps(trend, ensure_ascii=False).replace("<", "\\u003c"),
        "chart_name": chart_name or ("本部门" if actor.is_department_bound else result.city.department.name
                                     if result.city is not None else service.CITY),
        "regions": service.region_choices(session, actor), "region": chosen or "",
        "city_level": service.is_city_level(session, actor),
        "ranked": sorted(result.departments, key=lambda r: (r.rank is None, r.rank or 0, r.department.code)),
    })  # fmt: skip


@router.get("/monitoring/report.{kind}", name="admin.monitoring.report")
def monthly_report(session: DbSession, settings: AppSettings, actor: Reader, today: Today, kind: str,
                   month: str = "", region: str = "") -> Response:  # fmt: skip
    if kind not in ("xlsx", "pdf"):
        raise InvalidInput(reason="月报格式须为 xlsx 或 pdf")
    parsed = service.parse_month(month[:10] or None, today=today)
    chosen = service.check_region(session, actor, region)
    data = service.report_data(session, month=parsed, settings=settings, today=today, actor=actor, region=chosen)
    if kind == "xlsx":
        content, media = report.workbook(data), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content, media = report.pdf(data, font_file=settings.pdf_font), "application/pdf"
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="monitoring-{parsed}.{kind}"'})  # fmt: skip


@router.get("/monitoring/{month}/departments/{department_id}/{kind}", name="admin.monitoring.rows")
def rows(request: Request, session: DbSession, settings: AppSettings, actor: Reader, today: Today, month: str,
         department_id: Id, kind: str) -> Response:  # fmt: skip
    parsed = rules.Month.parse(month[:10], today=today)
    found = service.drilldown(session, month=parsed, department_id=department_id, kind=kind[:20], settings=settings,
                              actor=actor, today=today)  # fmt: skip
    department = service.departments_for(session, None, department_id)[0]
    return render(request, "admin/monitoring/rows.html", {"rows": found, "month": parsed, "department": department})


@router.post("/monitoring/warnings", name="admin.monitoring.warnings")
async def run_warnings(request: Request, uow: UoW, settings: AppSettings, actor: Writer, today: Today,
                       month: Annotated[str, Form(max_length=10)] = "") -> Response:  # fmt: skip
    on_error_redirect(request, "/admin/alerts")
    parsed = service.parse_month(month or None, today=today)

    def figures() -> service.MonthFigures:
        # Every department's month and the months before it: in a worker thread, before the write lock.
        service.ensure_city_level(uow.session, actor)
        return service.month_figures(uow.session, month=parsed, settings=settings, today=today)

    found = await run_in_threadpool(figures)
    run = await uow.run_as_writer(lambda: service.evaluate_warnings(uow.session, month=parsed, settings=settings,
                                                                    today=today, actor=actor, figures=found))  # fmt: skip
    return redirect(request, "/admin/alerts", flash_message=f"已按预警规则评估 {parsed}：新发出 {run.raised} 条，自动解除 {run.resolved} 条")


# ------------------------------------------------------------------------------------------- 重错码


@router.get("/monitoring/quality", name="admin.monitoring.quality")
def quality_list(request: Request, session: DbSession, actor: Reader, status: str = "unresolved") -> Response:
    issues = quality.list_issues(session, status=status[:20] or None, actor=actor)
    affected, with_codes = quality.rate_summary(session, actor)
    return render(request, "admin/monitoring/quality.html", {
        "issues": issues, "status": status[:20], "affected": affected, "with_codes": with_codes,
        "city_level": service.is_city_level(session, actor),
        "rate": rules.percent(affected / with_codes if with_codes else None, 4),
    })  # fmt: skip


@router.post("/monitoring/quality/scan", name="admin.monitoring.quality_scan")
async def quality_scan(request: Request, uow: UoW, actor: Writer) -> Response:
    def find() -> quality.Found:
        # The four checks read the whole register: in a worker thread, before the write lock, which an import's
        # chunks would otherwise wait for until they were done.
        service.ensure_city_level(uow.session, actor)
        return quality.find(uow.session)

    found = await run_in_threadpool(find)
    result = await uow.run_as_writer(lambda: quality.store(uow.session, found, actor=actor))
    return redirect(request, "/admin/monitoring/quality",
                    flash_message=f"重错码检查完成：发现 {result.found} 个问题（新增 {result.new}，已消除 {result.gone}），"
                                  f"重错码率 {rules.percent(result.rate, 4)}")  # fmt: skip


@router.get("/monitoring/quality/{issue_id}", name="admin.monitoring.quality_issue")
def quality_issue(request: Request, session: DbSession, actor: Reader, issue_id: Id) -> Response:
    issue = quality.get_issue(session, issue_id, actor=actor)
    return render(request, "admin/monitoring/quality_issue.html",
                  {"issue": issue, "subjects": quality.subjects_of(session, issue)})  # fmt: skip


@router.post("/monitoring/quality/{issue_id}/{action}", name="admin.monitoring.quality_resolve")
def quality_resolve(request: Request, session: DbSession, protector: AppProtector, actor: Writer, issue_id: Id,
                    action: str, note: Note = "", keep: Annotated[str, Form(max_length=20)] = "") -> Response:  # fmt: skip
    back = f"/admin/monitoring/quality/{issue_id}"
    on_error_redirect(request, back)
    if action == "merge":
        keep_id = parse_id(keep)
        if keep_id is None:
            raise InvalidInput(reason="请选择保留的主体")
        quality.merge(session, issue_id, keep_id=keep_id, actor=actor, note=note, protector=protector)
        message = "已合并主体，记录已转到保留的主体"
    elif action == "distinct":
        quality.mark_distinct(session, issue_id, actor=actor, note=note)
        message = "已确认不是重错码"
    elif action == "ask":
        quality.ask_departments(session, issue_id, actor=actor, note=note)
        message = "已向相关部门发出更正预警"
    else:
        raise NotFound(what="该操作")
    return redirect(request, back, flash_message=message)


# ------------------------------------------------------------------------------------ warnings, inbox


@router.get("/alerts", name="admin.alerts.list")
def alert_list(request: Request, session: DbSession, actor: Reader, status: str = "") -> Response:
    try:
        wanted = AlertStatus(status) if status else None
    except ValueError:
        raise InvalidInput(reason=f"未知的状态“{status[:20]}”") from None
    return render(request, "admin/monitoring/alerts.html",
                  {"alerts": alerts_service.list_alerts(session, actor, status=wanted), "status": status})  # fmt: skip


@router.post("/alerts/{alert_id}/acknowledge", name="admin.alerts.acknowledge")
def alert_acknowledge(request: Request, session: DbSession, actor: Acknowledger, alert_id: Id, note: Note = "",
                      back: Annotated[str, Form(max_length=20)] = "") -> Response:  # fmt: skip
    target = "/admin/inbox" if back == "inbox" else "/admin/alerts"
    on_error_redirect(request, target)
    alert = alerts_service.acknowledge(session, alert_id, actor=actor, note=note)
    return redirect(request, target, flash_message=f"已确认预警：{alert.title}")


@router.post("/alerts/{alert_id}/resolve", name="admin.alerts.resolve")
def alert_resolve(request: Request, session: DbSession, actor: Writer, alert_id: Id, note: Note = "") -> Response:
    on_error_redirect(request, "/admin/alerts")
    alert = alerts_service.resolve(session, alert_id, actor=actor, note=note)
    return redirect(request, "/admin/alerts", flash_message=f"已解除预警：{alert.title}")


@router.get("/inbox", name="admin.inbox")
def inbox(request: Request, session: DbSession, actor: SignedIn, show: str = "open") -> Response:
    assert actor.user_id is not None
    items = notify_service.inbox_items(session, actor.user_id, open_only=show != "all")
    return render(request, "admin/monitoring/inbox.html", {"items": items, "show": show})
