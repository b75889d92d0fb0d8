"""Public list pages: the lists that are public, each entry only while in force; no natural persons in bulk."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from xinyong.disclosure import rules as disclosure_rules
from xinyong.disclosure import service as disclosure
from xinyong.lists import service
from xinyong.web.deps import AppSettings, ReadSession, Today
from xinyong.web.ratelimit import Limited
from xinyong.web.regions import current, current_scope
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(include_in_schema=False)
PAGE_SIZE = 20
MAX_PAGE = 50


def _region(request: Request) -> str | None:
    """The county whose portal this is (its own list types), None on the city's."""
    region = current(request)
    return region.code if region is not None else None


@router.get("/lists/public", name="portal.lists.index")
def index(request: Request, session: ReadSession, today: Today) -> Response:
    types = service.public_type_counts(session, today=today, scope=current_scope(request), region=_region(request))
    return render(request, "portal/lists/index.html", {"types": types, "today": today})


@router.get("/lists/public/{type_key}", name="portal.lists.type", dependencies=[Limited])
def type_page(request: Request, type_key: str, session: ReadSession, settings: AppSettings, today: Today,
              page: str | None = None) -> Response:  # fmt: skip
    number = min(max(int(page) if page and page.isdigit() and len(page) < 4 else 1, 1), MAX_PAGE)
    list_type, rows, total = service.public_entries(session, type_key[:40], today=today,
                                                    offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE,
                                                    scope=current_scope(request), region=_region(request))  # fmt: skip
    policy = disclosure.load_policy(settings)
    items = [{"name": disclosure_rules.public_name(subject.name, subject.kind.value, policy), "uscc": subject.uscc,
              "reasons": entry.reasons, "valid_from": entry.valid_from, "valid_until": entry.valid_until,
              "source": entry.source, "decision_no": entry.decision_no or entry.source_ref} for entry, subject in rows]  # fmt: skip
    return render(request, "portal/lists/type.html", {"list_type": list_type, "items": items, "total": total, "page": number,
                                               "pages": max(1, min(MAX_PAGE, -(-total // PAGE_SIZE)))})  # fmt: skip
