"""Wiring credit repair, objections and subject accounts into the app, and the portal partials' data.

The portal's record and subject pages include two small partials of ours (repair timing, the
"异议处理中" badge). Their data comes from `record_flags`, a template global, memoised per request and
record (the portal's own service is not ours to change; see the report for the one-line alternative).
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session

from xinyong.portal import refs


def install(app: FastAPI) -> None:
    from xinyong.accounts.portal import router as accounts_router
    from xinyong.objections.admin import router as objections_admin
    from xinyong.portal.web import templates
    from xinyong.repair.admin import router as repair_admin
    from xinyong.repair.portal import router as repair_portal

    app.include_router(accounts_router)
    app.include_router(repair_portal)
    app.include_router(repair_admin)
    app.include_router(objections_admin)
    templates.env.globals["record_flags"] = record_flags


def _with_session(request: Request, work: Any) -> Any:
    """Run `work(session)` on the page's database: through an overridden DbSession provider when there is
    one (tests), else in a short session of its own."""
    from xinyong.web.deps import get_session

    provider = request.app.dependency_overrides.get(get_session)
    if provider is None:
        session = request.app.state.session_factory()
        try:
            return work(session)
        finally:
            session.close()
    generator = provider(request) if inspect.signature(provider).parameters else provider()
    return work(next(generator))


def _today(request: Request, get_today: Any) -> Any:
    """The portal's publication day: the pinned one in tests (a dependency override), else Beijing's."""
    from xinyong.disclosure.service import today_in_china

    override = request.app.dependency_overrides.get(get_today)
    if override is not None and not inspect.iscoroutinefunction(override):
        return override()
    return today_in_china()


def record_flags(request: Request, ref: str) -> dict[str, Any]:
    """For a record reference on a portal page: whether an objection is open, and repair timing."""
    cache = getattr(request.state, "record_flags_cache", None)
    if cache is None:
        cache = {}
        request.state.record_flags_cache = cache
    if ref in cache:
        return cache[ref]  # type: ignore[no-any-return]
    from xinyong.objections import service as objections_service
    from xinyong.portal.web import get_today
    from xinyong.records.models import Record
    from xinyong.repair import service as repair_service

    record_id = refs.parse_record_ref(ref, request.app.state.protector)
    flags: dict[str, Any] = {"under_objection": False, "eligibility": None, "ref": ref}

    def work(session: Session) -> None:
        record = session.get(Record, record_id)
        if record is None:
            return
        flags["under_objection"] = objections_service.open_for(session, record.id) is not None
        if record.tier:
            today = _today(request, get_today)
            flags["eligibility"] = repair_service.eligibility_of(session, record, settings=request.app.state.settings,
                                                                 today=today)  # fmt: skip

    if record_id is not None:
        _with_session(request, work)
    cache[ref] = flags
    return flags
