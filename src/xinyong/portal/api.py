"""The public JSON API (公开查询接口): the same data and rules as the portal pages."""

from __future__ import annotations

from functools import partial

from fastapi import Query
from starlette.concurrency import run_in_threadpool

from xinyong.portal import service
from xinyong.portal.schemas import RecordPageRead, RecordRead, SubjectRead, SubjectSearchRead
from xinyong.web.deps import AppProtector, AppSettings, DbSession, ReadSession, Today
from xinyong.web.ratelimit import Limited
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
    description="q 为统一社会信用代码、旧代码或居民身份证号码时精确匹配；否则按名称包含查询（至少 2 个字）。"
    "自然人只能按证件号码精确查询，名称查询不返回自然人。受频率限制（超过返回 429）。",
)
async def search_subjects(
    session: ReadSession, settings: AppSettings, today: Today, protector: AppProtector,
    q: str = Query("", max_length=100, description="名称片段或代码"), page: int = Query(1, ge=1, le=service.MAX_PAGE),
) -> SubjectSearchRead:  # fmt: skip
    find = partial(service.find_subjects, session, q, settings=settings, protector=protector, page=page,
                   today=today)  # fmt: skip
    # An async endpoint, so that a code look-up (a unique-key read and one count query, about a millisecond)
    # runs on the event loop: FastAPI would hop to a worker thread for a plain endpoint and again to validate
    # its answer, which costs more than the look-up. A name search may take tens of milliseconds and would
    # stall every other request on the loop: it still goes to a worker thread.
    result = find() if service.is_code_query(q) else await run_in_threadpool(find)
    return SubjectSearchRead(query=result.query, mode=result.mode, total=result.total, is_capped=result.is_capped,
                             page=result.page, pages=result.pages, items=[_subject(c) for c in result.cards])  # fmt: skip


@router.get("/subjects/{code}", response_model=SubjectRead, name="api.subjects.detail", summary="信用主体基础信息",
            description="code 为统一社会信用代码、旧代码或查询结果中的 ref。")  # fmt: skip
async def subject_detail(code: str, session: ReadSession, settings: AppSettings, today: Today, protector: AppProtector
                         ) -> SubjectRead:  # fmt: skip
    # On the event loop, like a code look-up above: a few indexed reads.
    subject = service.resolve_subject(session, code, protector=protector)
    counts = service.counts_for(session, [subject], settings=settings, today=today)
    return _subject(service.card(subject, settings=settings, protector=protector, counts=counts[subject.id]))


@router.get("/subjects/{code}/records", response_model=RecordPageRead, name="api.subjects.records",
            summary="信用主体当前公示的行政许可、行政处罚记录")  # fmt: skip
def subject_records(
    code: str, session: DbSession, settings: AppSettings, today: Today, protector: AppProtector,
    record_type: str = Query("penalty", pattern="^(license|penalty)$", description="license 或 penalty"),
    page: int = Query(1, ge=1, le=service.MAX_PAGE),
) -> RecordPageRead:  # fmt: skip
    profile = service.profile(session, code, settings=settings, protector=protector, tab=record_type, page=page,
                              today=today)  # fmt: skip
    items = []
    for row in profile.records:
        detail = service.record_detail(session, row["ref"], settings=settings, protector=protector, today=today)
        items.append(RecordRead(**{k: v for k, v in row.items() if k in RecordRead.model_fields},
                                fields={code: value for code, _, value in detail.fields}))  # fmt: skip
    return RecordPageRead(subject=_subject(profile.card), record_type=record_type, total=profile.total,
                          page=profile.page, pages=profile.pages, items=items)  # fmt: skip
