"""Console pages of 政务诚信: the board, court pre-listing notices, and the civil servants' files."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.departments import service as departments_service
from xinyong.integrity import service
from xinyong.integrity.models import CaseStatus
from xinyong.integrity.rules import load_config
from xinyong.web import forms
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Id, Today, parse_id, require
from xinyong.web.errors import on_error_redirect, on_error_render, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)

Reader = Annotated[Actor, require(Permission.INTEGRITY_READ)]
Writer = Annotated[Actor, require(Permission.INTEGRITY_WRITE)]
FileReader = Annotated[Actor, require(Permission.CIVIL_SERVANTS_READ)]
FileWriter = Annotated[Actor, require(Permission.CIVIL_SERVANTS_WRITE)]
Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=200)]
BOARD = "/admin/integrity"



@router.get("/integrity", name="admin.integrity.board")
def board(request: Request, session: DbSession, settings: AppSettings, actor: Reader, today: Today,
          show: str = "open") -> Response:  # fmt: skip
    rows = service.board(session, settings=settings, today=today, status=None if show == "all" else CaseStatus.OPEN,
                         actor=actor)  # fmt: skip
    cfg = service.config(settings)
    return render(request, "admin/integrity/board.html", {
        "rows": rows, "show": show, "ageing": service.ageing_summary([r for r in rows if r.case.status is CaseStatus.OPEN], cfg),
        "notices": service.notices(session, actor=actor), "kinds": cfg.case_kinds, "today": today,
        "departments": departments_service.list_departments(session, actor),
    })  # fmt: skip


@router.post("/integrity/cases", name="admin.integrity.case_add")
def case_add(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector, actor: Writer,
             today: Today, code: Short = "", kind: Short = "", summary: Text = "", reference: Short = "",
             amount: Short = "", listed_on: Short = "", supervisor: Short = "", clear_by: Short = "") -> Response:  # fmt: skip
    on_error_redirect(request, BOARD)
    case = service.open_case(session, code=code, kind=kind, summary=summary, reference=reference, amount=amount,
                             listed_on=forms.optional_date(listed_on, "列入日期"), supervisor_id=parse_id(supervisor),
                             clear_by=forms.optional_date(clear_by, "清零期限"), actor=actor, settings=settings, protector=protector,
                             today=today)  # fmt: skip
    return redirect(request, f"{BOARD}#case-{case.id}", flash_message="已登记政务失信记录，并已向监管单位发出预警")


@router.post("/integrity/cases/{case_id}", name="admin.integrity.case_follow_up")
def case_follow_up(request: Request, session: DbSession, actor: Writer, case_id: Id, supervisor: Short = "",
                   clear_by: Short = "") -> Response:  # fmt: skip
    on_error_redirect(request, BOARD)
    service.follow_up(session, case_id, supervisor_id=parse_id(supervisor), clear_by=forms.optional_date(clear_by, "清零期限"),
                      actor=actor)  # fmt: skip
    return redirect(request, f"{BOARD}#case-{case_id}", flash_message="已更新监管单位与清零期限")


@router.post("/integrity/cases/{case_id}/clear", name="admin.integrity.case_clear")
def case_clear(request: Request, session: DbSession, actor: Writer, today: Today, case_id: Id, note: Short = "",
               cleared_on: Short = "") -> Response:  # fmt: skip
    on_error_redirect(request, BOARD)
    service.clear_case(session, case_id, cleared_on=forms.optional_date(cleared_on, "清零日期"), note=note, actor=actor, today=today)
    return redirect(request, BOARD, flash_message="已清零")


@router.post("/integrity/sync", name="admin.integrity.sync")
def sync(request: Request, session: DbSession, settings: AppSettings, actor: Writer, today: Today) -> Response:
    created = service.sync_listings(session, settings=settings, today=today, actor=actor)
    return redirect(request, BOARD, flash_message=f"已从失信名单同步，新增 {len(created)} 条政府机构失信记录")


@router.post("/integrity/notices", name="admin.integrity.notice_add")
def notice_add(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector, actor: Writer,
               today: Today, code: Short = "", court: Short = "", case_no: Short = "", obligation: Text = "",
               notified_on: Short = "", supervisor: Short = "") -> Response:  # fmt: skip
    on_error_redirect(request, BOARD)
    notice = service.add_notice(session, code=code, court=court, case_no=case_no, obligation=obligation,
                                notified_on=forms.optional_date(notified_on, "告知日期"), supervisor_id=parse_id(supervisor),
                                actor=actor, settings=settings, protector=protector, today=today)  # fmt: skip
    return redirect(request, f"{BOARD}#notice-{notice.id}",
                    flash_message=f"已登记法院告知，预计 {notice.listing_expected_on} 纳入失信名单，已预警监管单位")  # fmt: skip


@router.post("/integrity/notices/{notice_id}/close", name="admin.integrity.notice_close")
def notice_close(request: Request, session: DbSession, actor: Writer, today: Today, notice_id: Id,
                 outcome: Short = "") -> Response:  # fmt: skip
    on_error_redirect(request, BOARD)
    notice = service.close_notice(session, notice_id, outcome=outcome, actor=actor, today=today)
    return redirect(request, BOARD, flash_message=f"已办结告知：{notice.status.label}")


# ------------------------------------------------------------------------------ civil servants' files


def _file_context(settings: AppSettings) -> dict[str, object]:
    return {"categories": load_config(settings.integrity_config).categories, "records": None, "record": None}


@router.get("/civil-servants", name="admin.civil_servants.index")
def civil_servants(request: Request, settings: AppSettings, actor: FileReader) -> Response:
    return render(request, "admin/integrity/civil_servants.html", _file_context(settings))


@router.post("/civil-servants/search", name="admin.civil_servants.search")
def civil_servants_search(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector,
                          actor: FileReader, q: Short = "", reason: Short = "") -> Response:  # fmt: skip
    context = {**_file_context(settings), "reason": reason}
    on_error_render(request, "admin/integrity/civil_servants.html", context)
    found = service.search_civil_servants(session, query=q, reason=reason, actor=actor, settings=settings,
                                          protector=protector)  # fmt: skip
    return render(request, "admin/integrity/civil_servants.html", {**context, "records": found})


@router.post("/civil-servants/{record_id}/view", name="admin.civil_servants.view")
def civil_servant_view(request: Request, session: DbSession, settings: AppSettings, actor: FileReader,
                       record_id: Id, reason: Short = "") -> Response:  # fmt: skip
    context = {**_file_context(settings), "reason": reason}
    on_error_render(request, "admin/integrity/civil_servants.html", context)
    record = service.view_civil_servant_record(session, record_id, reason=reason, actor=actor, settings=settings)
    return render(request, "admin/integrity/civil_servants.html", {**context, "record": record})


@router.post("/civil-servants", name="admin.civil_servants.add")
def civil_servant_add(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector,
                      actor: FileWriter, today: Today, person_name: Short = "", id_number: Short = "",
                      employer: Short = "", position: Short = "", category: Short = "", item: Short = "",
                      description: Text = "", occurred_on: Short = "", source_document: Short = "") -> Response:  # fmt: skip
    on_error_render(request, "admin/integrity/civil_servants.html", _file_context(settings))
    service.add_civil_servant_record(session, person_name=person_name, id_number=id_number, employer=employer,
                                     position=position, category=category, item=item, description=description,
                                     occurred_on=forms.optional_date(occurred_on, "发生日期"), source_document=source_document,
                                     actor=actor, settings=settings, protector=protector, today=today)  # fmt: skip
    return redirect(request, "/admin/civil-servants", flash_message="已登记档案记录")
