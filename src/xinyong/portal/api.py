"""The public JSON API (公开查询接口): the same data and rules as the portal pages."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import FastAPI, Query
from starlette.concurrency import run_in_threadpool

from xinyong.catalog import Catalog
from xinyong.fields import NO_NUL
from xinyong.portal import service
from xinyong.portal.schemas import RecordPageRead, RecordRead, SubjectRead, SubjectSearchRead
from xinyong.web.deps import AppProtector, AppSettings, ReadSession, Today
from xinyong.web.errors import error_responses
from xinyong.web.ratelimit import Limited
from xinyong.web.regions import CurrentRegion
from xinyong.web.uow import router as make_router

router = make_router(prefix="/api/v1", tags=["信用信息公开查询"], dependencies=[Limited])


def _subject(card: service.SubjectCard) -> SubjectRead:
    return SubjectRead(
        ref=card.ref, name=card.name, kind=card.kind, kind_label=card.kind_label, uscc=card.uscc,
        id_masked=card.id_masked, legal_representative=card.legal_representative, counts=card.counts,
    )  # fmt: skip


@router.get(
    "/subjects",
    response_model=SubjectSearchRead,
    name="api.subjects.search",
    summary="查询信用主体",
    responses=error_responses(422, 429),
    description="q 为统一社会信用代码、旧代码或居民身份证号码时精确匹配；否则按名称包含查询（至少 2 个字）。"
    "自然人只能按证件号码精确查询，名称查询不返回自然人。受频率限制（超过返回 429）。",
)
async def search_subjects(
    session: ReadSession, settings: AppSettings, today: Today, protector: AppProtector,
    region: CurrentRegion,  # a county's portal (by prefix or host): its records only
    q: str = Query("", max_length=100, pattern=NO_NUL, description="名称片段或代码"),
    page: int = Query(1, ge=1, le=service.MAX_PAGE),
) -> SubjectSearchRead:  # fmt: skip
    find = partial(service.find_subjects, session, q, settings=settings, protector=protector, page=page,
                   today=today, scope=region.scope if region else None)  # fmt: skip
    # An async endpoint, so that a code look-up (a unique-key read and one count query, about a millisecond)
    # runs on the event loop: FastAPI would hop to a worker thread for a plain endpoint and again to validate
    # its answer, which costs more than the look-up. A name search may take tens of milliseconds and would
    # stall every other request on the loop: it still goes to a worker thread.
    result = find() if service.is_code_query(q) else await run_in_threadpool(find)
    return SubjectSearchRead(query=result.query, mode=result.mode, total=result.total, is_capped=result.is_capped,
                             page=result.page, pages=result.pages, items=[_subject(c) for c in result.cards])  # fmt: skip


@router.get("/subjects/{code}", response_model=SubjectRead, name="api.subjects.detail", summary="信用主体基础信息",
            description="code 为统一社会信用代码、旧代码或查询结果中的 ref。",
            responses=error_responses(404, 429, s404="没有该信用主体（或不公开）"))  # fmt: skip
async def subject_detail(code: str, session: ReadSession, settings: AppSettings, today: Today, protector: AppProtector,
                         region: CurrentRegion) -> SubjectRead:  # fmt: skip
    # On the event loop, like a code look-up above: a few indexed reads.
    subject = service.resolve_subject(session, code, protector=protector)
    counts = service.counts_for(session, [subject], settings=settings, today=today,
                                scope=region.scope if region else None)  # fmt: skip
    return _subject(service.card(subject, settings=settings, protector=protector, counts=counts[subject.id]))


RECORDS_PATH = "/subjects/{code}/records"


@router.get(RECORDS_PATH, response_model=RecordPageRead, name="api.subjects.records",
            summary="信用主体当前公示的信用记录（按信息类别）",
            responses=error_responses(404, 422, 429, s404="没有该信用主体（或不公开）"))  # fmt: skip
def subject_records(
    code: str, session: ReadSession, settings: AppSettings, today: Today, protector: AppProtector,
    region: CurrentRegion,
    record_type: str | None = Query(None, max_length=64, description="信息类别（信用信息目录中向社会公开的类别）；"
                                    "省略时为目录中第一个失信信息类别"),
    page: int = Query(1, ge=1, le=service.MAX_PAGE),
) -> RecordPageRead:  # fmt: skip
    """Answers 422 for a type the catalogue does not publish, as for any other bad parameter."""
    record_type = record_type or service.catalog_of(settings).default_public_key
    profile = service.profile(session, code, settings=settings, protector=protector, tab=record_type, page=page,
                              today=today, scope=region.scope if region else None)  # fmt: skip
    items = [RecordRead(**{k: v for k, v in row.items() if k in RecordRead.model_fields}) for row in profile.records]
    return RecordPageRead(subject=_subject(profile.card), record_type=profile.tab, total=profile.total,
                          page=profile.page, pages=profile.pages, items=items)  # fmt: skip


def document_record_types(app: FastAPI, catalog: Catalog) -> None:
    """Name the catalogue's public types in the OpenAPI description of `record_type`, as this app was created
    with them (an operator's own types included): the parameter is checked against the catalogue, not a
    pattern fixed in code."""
    generate = app.openapi
    path = router.prefix + RECORDS_PATH
    keys = [t.key for t in catalog.public_types]
    names = "；".join(f"{t.key}（{t.name}）" for t in catalog.public_types)

    def openapi() -> dict[str, Any]:
        schema = app.openapi_schema
        if schema is None:
            schema = generate()  # FastAPI keeps it in app.openapi_schema: this runs once
            for parameter in schema.get("paths", {}).get(path, {}).get("get", {}).get("parameters", []):
                if parameter.get("name") == "record_type":
                    parameter["description"] = f"信息类别：{names}。省略时为 {catalog.default_public_key}"
                    parameter["schema"] = {"type": "string", "enum": keys}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
