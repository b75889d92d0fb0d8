"""The change feed for partners (`GET /api/v1/changes`): the change log read in commit order, through cursors
signed for one key, limited to the types of the key's class.

A key's class: `api:changes:read` sees the 社会公开 types, as the public does (fields that are published, and
only while the record is published: afterwards its changes still come, without content); with
`api:changes:shared` too, a government department's system also sees the 政务共享 types, and the stored
(masked) content of records whatever their publication. 授权查询 types never travel on the feed (each look-up
needs the subject's authorisation). ID numbers never travel: protected fields are left out or masked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.actors import Permission
from xinyong.catalog import Catalog, load_catalog
from xinyong.catalog.schema import PUBLIC
from xinyong.changelog import service as changelog
from xinyong.changelog.service import Position
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.disclosure import rules as disclosure_rules
from xinyong.disclosure import service as disclosure
from xinyong.errors import InvalidInput, PermissionDenied
from xinyong.exchange import cursors
from xinyong.exchange.service import cursor_key, resolve_start
from xinyong.records.models import Record, RecordStatus
from xinyong.subjects.models import Subject

SHARED = "政务共享"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


class TypeOutsideClass(PermissionDenied):
    code = "type-outside-class"
    message_template = "该访问密钥不能订阅信息类别“{key}”（{publication}）：{why}"


def key_scope(prefix: str) -> str:
    return f"key:{prefix}"


def visible_classes(permissions: frozenset[Permission]) -> frozenset[str]:
    if Permission.API_CHANGES_READ not in permissions:
        return frozenset()
    if Permission.API_CHANGES_SHARED in permissions:
        return frozenset({PUBLIC, SHARED})
    return frozenset({PUBLIC})


def chosen_types(catalog: Catalog, classes: frozenset[str], requested: str | None) -> list[str]:
    """The record types asked for (comma-separated keys; all those of the class when none), each checked."""
    allowed = [key for key, rtype in catalog.types.items() if rtype.publication in classes]
    if requested is None or not requested.strip():
        return allowed
    chosen: list[str] = []
    for key in (part.strip() for part in requested.split(",")):
        if not key:
            continue
        rtype = catalog.types.get(key)
        if rtype is None:
            raise InvalidInput(reason=f"没有信息类别“{key[:32]}”（可用：{'、'.join(allowed) or '无'}）")
        if rtype.publication not in classes:
            why = ("需要 api:changes:shared 权限（政务部门）" if rtype.publication == SHARED
                   else "授权查询类信息须经信用主体授权逐次查询，不提供订阅")  # fmt: skip
            raise TypeOutsideClass(key=key, publication=rtype.publication, why=why)
        if key not in chosen:
            chosen.append(key)
    if len(chosen) > 50:
        raise InvalidInput(reason="一次最多订阅 50 个信息类别")
    return chosen


@dataclass
class FeedPage:
    changes: list[dict[str, Any]] = field(default_factory=list)
    cursor: str = ""
    has_more: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"changes": self.changes, "cursor": self.cursor, "has_more": self.has_more}


def read(
    session: Session,
    *,
    settings: Settings,
    key_prefix: str,
    permissions: frozenset[Permission],
    after: str | None,
    types: str | None,
    limit: int = DEFAULT_LIMIT,
    today: date,
) -> FeedPage:
    """One page of changes after the cursor (the beginning without one), in commit order. The page's cursor is
    where the next read starts: past the last change served, or the log's head when the page is not full
    (positions up to the head are final: nothing can commit before them any more)."""
    catalog = load_catalog(settings.catalog_dirs)
    classes = visible_classes(permissions)
    if not classes:
        raise PermissionDenied(f"该访问密钥没有“{Permission.API_CHANGES_READ.value}”权限")
    keys = chosen_types(catalog, classes, types)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(reason=f"limit 应在 1–{MAX_LIMIT} 之间")
    scope, secret = key_scope(key_prefix), cursor_key(settings)
    head = changelog.head(session)  # read first: the page stops there, whatever commits meanwhile
    start = resolve_start(session, after, scope=scope, key=secret, default=Position.start())
    rows = changelog.page(session, start, types=keys, limit=limit + 1, until=head) if keys else []
    page = FeedPage(has_more=len(rows) > limit)
    rows = rows[:limit]
    shared = SHARED in classes
    described = describe_records(session, [row.record_id for row in rows], catalog=catalog, settings=settings,
                          today=today, shared=shared)  # fmt: skip
    for row in rows:
        position = Position(row.seq, row.id)
        page.changes.append({
            "cursor": cursors.encode(position, scope, secret),
            "change": row.kind,
            "changed_at": row.created_at.isoformat(timespec="seconds"),
            "type": row.record_type,
            "record": described.get(row.record_id),
        })  # fmt: skip
    end = Position(rows[-1].seq, rows[-1].id) if page.has_more else max(head, start)
    page.cursor = cursors.encode(end, scope, secret)
    return page


def describe_records(session: Session, record_ids: list[int], *, catalog: Catalog, settings: Settings, today: date,
              shared: bool) -> dict[int, dict[str, Any]]:  # fmt: skip
    """What the key may see of each record, in its state now."""
    if not record_ids:
        return {}
    unique = sorted(set(record_ids))
    rows = list(session.execute(
        select(Record, Department.code, Subject.kind, Subject.uscc)
        .join(Department, Department.id == Record.department_id)
        .join(Subject, Subject.id == Record.subject_id)
        .where(Record.id.in_(unique))
    ))  # fmt: skip
    published: set[int] = set()
    by_kind: dict[str, list[int]] = defaultdict(list)
    for record, _, kind, _ in rows:
        by_kind[kind.value].append(record.id)
    for kind_value, ids in by_kind.items():
        published |= disclosure.published_among(session, ids, settings=settings, today=today,
                                                subject_kind=kind_value)  # fmt: skip
    policy = disclosure.load_policy(settings)
    found: dict[int, dict[str, Any]] = {}
    for record, dept_code, kind, uscc in rows:
        rtype = catalog.types.get(record.record_type)
        is_published = record.id in published
        item: dict[str, Any] = {
            "department": dept_code, "doc_no": record.doc_no, "status": record.status.value,
            "version": record.version, "published": is_published,
            "decision_date": record.decision_date.isoformat(),
            "publish_until": record.publish_until.isoformat() if record.publish_until else None,
        }  # fmt: skip
        if record.status == RecordStatus.REVOKED:
            item["revoked_at"] = record.revoked_at.isoformat(timespec="seconds") if record.revoked_at else None
        if shared:
            item["subject"] = {"name": record.subject_name, "kind": kind.value, "uscc": uscc}
            fields = rtype.fields if rtype else ()
            item["fields"] = {f.code: record.payload[f.code] for f in fields if f.code in record.payload}
        elif is_published and rtype is not None:
            name = disclosure_rules.public_name(record.subject_name, kind.value, policy)
            item["subject"] = {"name": name, "kind": kind.value, "uscc": uscc}
            item["fields"] = {f.code: record.payload[f.code] for f in rtype.public_fields if f.code in record.payload}
        found[record.id] = item
    return found
