"""The change feed's JSON API (`GET /api/v1/changes`) for partners' systems holding a feed key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Query
from fastapi.responses import StreamingResponse

from xinyong.actors import Permission
from xinyong.catalog import load_catalog
from xinyong.changelog import service as changelog
from xinyong.departments.models import ApiKey
from xinyong.departments.service import key_permissions
from xinyong.errors import NotFound
from xinyong.exchange import extracts, feed
from xinyong.web.deps import AppSettings, DbSession, Today, require_api_key
from xinyong.web.errors import error_responses
from xinyong.web.openapi import KEY_ONLY
from xinyong.web.uow import router as make_router

router = make_router(prefix="/api/v1", tags=["数据交换"])

FeedKey = Annotated[ApiKey, require_api_key(Permission.API_CHANGES_READ)]


@router.get(
    "/changes",
    name="api.changes",
    summary="变更订阅：自游标之后新增、变更、撤销、修复的记录",
    description=(
        "按提交顺序返回自 after 游标之后的变更（不带 after：从头开始），每条变更附记录的当前状态。返回的 cursor 为下次请求的"
        " after；游标只能由签发给的密钥使用，平台重启后仍然有效，晚提交的事务不会被跳过。需要权限 api:changes:read"
        "（社会公开类）；政务部门另授 api:changes:shared 可订阅政务共享类。身份证件号码不在订阅中出现。"
    ),
    openapi_extra=KEY_ONLY,
    responses=error_responses(
        400, 401, 403, 409, 422, s400="游标格式不正确、被修改，或不是签发给本密钥的",
        s403="密钥没有订阅权限，或所要的信息类别不在其可见范围内", s409="游标指向尚不存在的位置（来自其他平台或已恢复的备份）",
        s422="信息类别不存在，或 limit 超出范围",
    ),
)
def get_changes(
    key: FeedKey,
    session: DbSession,
    settings: AppSettings,
    today: Today,
    after: Annotated[str | None, Query(max_length=300, description="上次返回的 cursor")] = None,
    types: Annotated[str | None, Query(max_length=2000, description="信息类别，逗号分隔（默认：可见的全部类别）")] = None,
    limit: Annotated[int, Query(description=f"每页条数（1–{feed.MAX_LIMIT}）")] = feed.DEFAULT_LIMIT,
) -> dict[str, object]:
    page = feed.read(
        session, settings=settings, key_prefix=key.prefix, permissions=key_permissions(key), after=after, types=types,
        limit=limit, today=today,
    )  # fmt: skip
    return page.as_dict()


MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


@router.get(
    "/extracts/{record_type}",
    name="api.extracts",
    summary="批量提取：某一信息类别中本密钥可见的全部记录（CSV 或 Parquet，流式）",
    description=(
        "按订阅密钥的可见范围（与变更订阅相同）提取一个信息类别的全部记录，边读边发送。响应头 X-Xinyong-Change-Position"
        " 为提取时变更日志的位置（之后的变更可用变更订阅取得）。需要权限 api:changes:read。身份证件号码不在提取结果中。"
    ),
    openapi_extra=KEY_ONLY,
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}},
                          "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}}},
              "description": "提取结果（CSV 为 UTF-8）"},
        **error_responses(401, 403, 404, 422, s403="密钥没有订阅权限，或该信息类别不在其可见范围内",
                          s404="没有这一信息类别", s422="格式不是 csv 或 parquet"),
    },
)
def get_extract(
    record_type: str,
    key: FeedKey,
    session: DbSession,
    settings: AppSettings,
    today: Today,
    format: Annotated[str, Query(max_length=10, description="csv 或 parquet")] = "csv",
) -> StreamingResponse:
    if record_type not in load_catalog(settings.catalog_dirs).types:
        raise NotFound(what=f"信息类别“{record_type[:32]}”")
    rtype, headers, fields, shared = extracts.plan(settings, key_permissions(key), record_type, format)
    position = changelog.head(session)

    def body() -> Iterator[bytes]:
        # The request's session lives until the response is sent (its dependency closes it after the stream,
        # which ends the read transaction the stream opened: the handler's own ended when it returned).
        yield from extracts.stream(session, rtype, headers, fields, shared=shared, settings=settings, today=today,
                                   export_format=format)  # fmt: skip

    return StreamingResponse(body(), media_type=MEDIA[format], headers={
        "Content-Disposition": f'attachment; filename="{rtype.key}.{format}"',
        "X-Xinyong-Change-Position": f"{position.seq}.{position.id}",
    })  # fmt: skip
