"""Console pages of 信用承诺: the department's accepted commitments (filter, detail, fulfilment), the verification
tasks of 告知承诺 with their deadlines, and the dashboard per department."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.commitments import rules, service
from xinyong.config import Settings
from xinyong.web import forms
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Id, Today, UoW, require
from xinyong.web.errors import redirect
from xinyong.web.templating import render
from xinyong.web.uow import UnitOfWork
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)

Reader = Annotated[Actor, require(Permission.COMMITMENTS_READ)]
Writer = Annotated[Actor, require(Permission.COMMITMENTS_WRITE)]
Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=200)]
HOME = "/admin/commitments"



@router.get("/commitments", name="admin.commitments.index")
def index(request: Request, session: DbSession, settings: AppSettings, actor: Reader, kind: str = "",
          status: str = "") -> Response:  # fmt: skip
    rtype, _ = service.the_type(settings)
    rows = service.department_commitments(session, actor=actor, settings=settings, kind=kind[:40] or None,
                                          status=status[:20] or None)  # fmt: skip
    return render(request, "admin/commitments/index.html", {
        "rows": rows, "kind": kind, "status": status, "kinds": rules.kinds_of(rtype),
        "statuses": rules.statuses_of(rtype),
    })  # fmt: skip


def _create_missing_tasks(uow: UnitOfWork, settings: Settings, actor: Actor) -> None:
    """The verification tasks of new 告知承诺, created before the page reads them, in a writer's transaction of
    their own: the page is a GET, whose plain transaction, having read, could not start writing on SQLite once
    another connection (an import's chunk, a job) had committed since — which happens exactly while the
    commitments these tasks come from are imported. `write_in_thread`, not `try_write_in_thread`: these rows are
    not bookkeeping that a later request may write; the page must show every open task (its deadline runs from
    the day the commitment was made), so it waits for its turn here, in the worker thread, rather than show an
    incomplete list. The writer's turn is taken only when a task is missing (a read finds out), so that the
    officers' daily page neither queues behind the import's chunks nor holds the lock otherwise."""
    if service.tasks_missing(uow.session, settings=settings, department_id=actor.department_id):
        uow.write_in_thread(lambda: service.sync_tasks(uow.session, settings=settings,
                                                       department_id=actor.department_id))  # fmt: skip


@router.get("/commitments/dashboard", name="admin.commitments.dashboard")
def dashboard(request: Request, uow: UoW, settings: AppSettings, actor: Reader, today: Today) -> Response:
    _create_missing_tasks(uow, settings, actor)
    rows = service.dashboard(uow.session, actor=actor, settings=settings, today=today, sync=False)
    return render(request, "admin/commitments/dashboard.html", {"rows": rows, "today": today})


@router.get("/commitments/verifications", name="admin.commitments.verifications")
def verifications(request: Request, uow: UoW, settings: AppSettings, actor: Reader, today: Today,
                  show: str = "open") -> Response:  # fmt: skip
    _create_missing_tasks(uow, settings, actor)
    rows = service.tasks(uow.session, actor=actor, settings=settings, today=today,
                         show="all" if show == "all" else "open", sync=False)  # fmt: skip
    cfg = service.config(settings)
    return render(request, "admin/commitments/verifications.html", {
        "rows": rows, "show": show, "actions": cfg.actions, "basis": cfg.verify_basis, "today": today,
    })  # fmt: skip


@router.post("/commitments/verifications/{task_id}", name="admin.commitments.verify")
def verify(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector, actor: Writer,
           today: Today, task_id: Id, finding: Short = "", note: Text = "",
           actions: Annotated[list[str] | None, Form(max_length=10)] = None) -> Response:  # fmt: skip
    task = service.verify(session, task_id, actor=actor, settings=settings, protector=protector, today=today,
                          finding=finding, note=note, actions=[a[:40] for a in actions or []])  # fmt: skip
    message = "已核查：承诺不实，已认定为全部未履行并记录追究措施" if task.status.value == "untrue" else "已核查：承诺属实"
    return redirect(request, f"{HOME}/verifications", flash_message=message)


@router.get("/commitments/{record_id}", name="admin.commitments.detail")
def detail(request: Request, session: DbSession, settings: AppSettings, actor: Reader, record_id: Id) -> Response:
    rtype, _ = service.the_type(settings)
    item = service.get_for_department(session, record_id, actor=actor, settings=settings)
    return render(request, "admin/commitments/detail.html", {
        "c": item, "statuses": rules.statuses_of(rtype), "broken": rules.BROKEN,
    })  # fmt: skip


@router.post("/commitments/{record_id}/fulfilment", name="admin.commitments.fulfilment")
def fulfilment(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector, actor: Writer,
               today: Today, record_id: Id, status: Short = "", unfulfilled: Text = "", pursued: Text = "",
               determined_on: Short = "", note: Short = "") -> Response:  # fmt: skip
    record = service.record_fulfilment(
        session, record_id, actor=actor, settings=settings, protector=protector, today=today, status=status,
        unfulfilled=unfulfilled, pursued=pursued, determined_on=forms.optional_date(determined_on, "履行状态认定日期"), note=note,
    )  # fmt: skip
    return redirect(request, f"{HOME}/{record.id}", flash_message=f"已认定履行状态：{status}")
