"""Portal pages (信用门户): thin handlers that call the portal service and render a template."""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from xinyong.disclosure import service as disclosure
from xinyong.evaluation import service as evaluation_service
from xinyong.exports import write_csv
from xinyong.lists import service as lists_service
from xinyong.portal import service
from xinyong.repair import rules as repair_rules
from xinyong.repair import service as repair_service
from xinyong.subjects import refs
from xinyong.web.deps import AppProtector, AppSettings, ReadSession, Today
from xinyong.web.ratelimit import Limited
from xinyong.web.regions import current, current_scope
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(include_in_schema=False)
CSV_MAX_ROWS = 1000


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None, default: int = 1) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else default


@router.get("/", name="portal.home")
def home(request: Request, session: ReadSession, settings: AppSettings, today: Today) -> Response:
    region, scope = current(request), current_scope(request)  # a county's portal: its records (web.regions)
    counts = request.app.state.portal_cache.get(
        ("home", today, region.code if region else None),
        lambda: service.home_counts(session, settings=settings, today=today, scope=scope),
    )
    return render(request, "portal/home.html", {"counts": counts, "today": today,
                                                "types": service.catalog_of(settings).listable_types})  # fmt: skip


@router.get("/search", name="portal.search", dependencies=[Limited])
def search_page(request: Request, session: ReadSession, settings: AppSettings, today: Today, protector: AppProtector,
                q: str = "", page: str | None = None) -> Response:  # fmt: skip
    result = service.find_subjects(session, q, settings=settings, protector=protector, page=_int(page),
                                   today=today, scope=current_scope(request))  # fmt: skip
    return render(request, "portal/search.html", {"result": result, "q": result.query,
                                                  "types": service.catalog_of(settings).public_types})  # fmt: skip


@router.get("/subjects/{ref}", name="portal.subject", dependencies=[Limited])
def subject_page(request: Request, ref: str, session: ReadSession, settings: AppSettings, today: Today, protector: AppProtector,
                 tab: str | None = None, page: str | None = None) -> Response:  # fmt: skip
    if tab not in service.catalog_of(settings).public_keys:
        tab = None  # an unknown tab in a link opens the default one
    profile = service.profile(session, ref, settings=settings, protector=protector, tab=tab, page=_int(page),
                              today=today, scope=current_scope(request))  # fmt: skip
    return render(request, "portal/subject.html", {
        "p": profile, "memberships": lists_service.public_memberships(session, profile.subject, today=today),
        "public_grade": evaluation_service.public_grade(session, profile.subject, settings=settings),
    })  # fmt: skip


@router.get("/records/{ref}", name="portal.record", dependencies=[Limited])
def record_page(request: Request, ref: str, session: ReadSession, settings: AppSettings, today: Today,
                protector: AppProtector) -> Response:  # fmt: skip
    detail = service.record_detail(session, ref, settings=settings, protector=protector, today=today,
                                   scope=current_scope(request))  # another county's record: 404
    record_id = refs.parse_record_ref(ref, protector)
    eligibility = (repair_service.eligibility_for(session, record_id, settings=settings, today=today)
                   if record_id is not None else None)  # fmt: skip
    return render(request, "portal/record.html", {"d": detail, "repair_eligibility": eligibility})


def _listing_filter(record_type: str, department: str | None, category: str | None, date_from: str | None,
                    date_to: str | None) -> disclosure.ListingFilter:  # fmt: skip
    return disclosure.ListingFilter(
        record_type=record_type, department_id=_int(department, 0) or None, category=(category or "").strip()[:20] or None,
        date_from=_date(date_from), date_to=_date(date_to),
    )  # fmt: skip


ListingArgs = Annotated[str | None, Query()]


@router.get("/disclosure/{record_type}", name="portal.listing", dependencies=[Limited])
def listing_page(request: Request, record_type: str, session: ReadSession, settings: AppSettings, today: Today,
                 protector: AppProtector, department: ListingArgs = None, category: ListingArgs = None,
                 date_from: ListingArgs = None, date_to: ListingArgs = None, page: ListingArgs = None) -> Response:  # fmt: skip
    export = record_type.endswith(".csv")
    rtype = service.listing_type(settings, record_type.removesuffix(".csv"))
    filters = _listing_filter(rtype.key, department, category, date_from, date_to)
    scope = current_scope(request)
    if export:
        return _csv(session, settings, protector, filters, today, scope)
    items, total, capped, pages = service.listing(session, settings=settings, protector=protector, listing=filters,
                                                  page=_int(page), today=today, scope=scope)  # fmt: skip
    return render(request, "portal/listing.html", {
        "record_type": rtype.key, "type": rtype, "label": rtype.portal.tab, "items": items, "total": total,
        "capped": capped, "pages": pages, "page": min(_int(page), pages), "filters": filters,
        "departments": service.departments(session, scope),
        "query": {"department": department or "", "category": category or "", "date_from": date_from or "",
                  "date_to": date_to or ""},
    })  # fmt: skip


def _csv(session, settings, protector, filters, today, scope) -> Response:  # type: ignore[no-untyped-def]
    items, *_ = service.listing(session, settings=settings, protector=protector, listing=filters, page=1,
                                today=today, page_size=CSV_MAX_ROWS, scope=scope)  # fmt: skip
    header, rows = service.export_rows(items, service.listing_type(settings, filters.record_type))
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel needs the BOM to read UTF-8
    write_csv(buffer, header, rows)  # every cell through exports.safe_cell
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filters.record_type}.csv"'})  # fmt: skip


@router.get("/repair", name="portal.repair")
def repair_page(request: Request, settings: AppSettings) -> Response:
    periods = repair_rules.publicity_periods(service.catalog_of(settings))
    return render(request, "portal/repair.html", {"periods": periods})


@router.get("/lists", name="portal.lists")
def lists_page(request: Request) -> Response:
    return render(request, "portal/lists.html", {})
