"""Console pages for evaluation: the runs and their grade distribution, who moved between runs and why, and a
subject's grade explained indicator by indicator."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.evaluation import explain, service
from xinyong.web.deps import AppSettings, DbSession, Id, IdQuery, Today, require
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)

EvaluationRead = Annotated[Actor, require(Permission.EVALUATION_READ)]
PAGE = 50


@router.get("/evaluation", name="admin.evaluation.index")
def index(request: Request, session: DbSession, actor: EvaluationRead) -> Response:
    runs = service.runs(session)
    return render(request, "admin/evaluation/index.html", {"runs": runs, "models": service.list_models(session),
                                                            "latest": service.latest_run(session)})  # fmt: skip


@router.get("/evaluation/runs/{run_id}", name="admin.evaluation.run")
def run_page(request: Request, session: DbSession, settings: AppSettings, actor: EvaluationRead, run_id: Id,
             direction: Annotated[str, Query(max_length=8)] = "",
             page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:  # fmt: skip
    run, row = service.get_run(session, run_id)
    model = service.model_of(session, row, settings=settings)
    chosen = direction if direction in ("up", "down") else None
    found, total = service.changes(session, run, settings=settings, direction=chosen, offset=(page - 1) * PAGE,
                                   limit=PAGE)  # fmt: skip
    return render(request, "admin/evaluation/run.html", {
        "run": run, "model_row": row, "model": model, "changes": found, "total": total, "direction": chosen or "",
        "page": page, "pages": max(1, -(-total // PAGE)),
    })  # fmt: skip


@router.get("/evaluation/subjects/{subject_id}", name="admin.evaluation.subject")
def subject_page(request: Request, session: DbSession, settings: AppSettings, today: Today, actor: EvaluationRead,
                 subject_id: Id, run: IdQuery = None) -> Response:  # fmt: skip
    subject = explain.find_subject(session, subject_id)
    chosen = service.get_run(session, run)[0] if run else None
    explanation = explain.explain_for(session, subject, actor=actor, settings=settings, today=today, run=chosen)
    return render(request, "admin/evaluation/subject.html", {"subject": subject, "e": explanation})
