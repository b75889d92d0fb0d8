from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from xinyong import refcache
from xinyong.actors import (
    API_PERMISSIONS,
    DEFAULT_KEY_PERMISSIONS,
    Actor,
    DepartmentScope,
    Permission,
    parse_permission,
)
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.codes import CodeError, clean_display_name, validate_uscc
from xinyong.db import utcnow
from xinyong.departments.models import ApiKey, Department, DepartmentMove
from xinyong.errors import AlreadyExists, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from xinyong.regions import service as regions

KEY_PREFIX = "xy"
KEY_USE_RESOLUTION = timedelta(minutes=1)
# What a department's system may do with a key when nothing narrower is asked for.
DEFAULT_SCOPES = [p.value for p in DEFAULT_KEY_PERMISSIONS]

refcache.watch(Department, ApiKey, DepartmentMove)


def names_by_id(session: Session) -> dict[int, str]:
    """Every department's name by id (a few dozen rows), from the per-process reference cache; read-only."""
    return refcache.get(session, "departments.names", _load_names)


def _load_names(session: Session) -> dict[int, str]:
    table = Department.__table__.c
    return dict(session.connection().execute(select(table.id, table.name)).all())  # type: ignore[arg-type]


def _system(actor: Actor | None) -> Actor:
    return actor or Actor.system("cli")


def add_department(
    session: Session, *, code: str, name: str, region: str | None = None, actor: Actor | None = None
) -> Department:
    try:
        code = validate_uscc(code)
    except CodeError as exc:
        raise InvalidInput(reason=exc.message) from None
    name = clean_display_name(name)
    if not name:
        raise InvalidInput(reason="部门名称不能为空")
    if session.scalar(select(Department).where(Department.code == code)):
        raise AlreadyExists(what=f"部门 {code}")
    region = _region_for(session, code, region, actor)
    department = Department(code=code, name=name[:200], region=region)
    session.add(department)
    session.flush()  # the caller usually needs the id
    audit.record(session, AuditAction.DEPARTMENT_CREATED, actor=_system(actor), department_id=department.id,
                 target=f"department:{department.id}", details={"code": code, "name": department.name})  # fmt: skip
    return department


def _region_for(session: Session, code: str, requested: str | None, actor: Actor | None) -> str:
    """The region a new department belongs to. On an install that registered no region (one platform, one
    region): the code asked for, or the one its credit code names (characters 3–8). Once regions are registered:
    the one asked for, which must be registered, else the one its code names when registered, else the
    platform's own; a regional account registers departments only inside its region."""
    tree = regions.tree(session)
    if tree.root is None:
        region = (requested or code[2:8]).strip()
        if len(region) != 6 or not region.isdigit():
            raise InvalidInput(reason="行政区划代码应为 6 位数字")
        return region
    if requested:
        chosen = "".join(requested.split())
        if tree.get(chosen) is None:
            raise InvalidInput(reason=f"行政区划 {chosen[:32]} 尚未登记（xinyong regions add）")
    else:
        chosen = code[2:8] if tree.get(code[2:8]) is not None else tree.root.code
    if actor is not None and actor.region is not None and chosen not in tree.subtree(actor.region):
        raise PermissionDenied("只能在本行政区划及其下级区划登记部门")
    return chosen


def move_department(session: Session, department_id: int, *, region: str, actor: Actor) -> Department:
    """Move a department to another region (区划调整). Its history stays where it was made: every data scope
    reads the move's time (`scope_of`); the move is audited."""
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound(what="该部门")
    regions.ensure_manages(session, actor, region)
    target = regions.get_region(session, region)
    if target.code == department.region:
        raise InvalidInput(reason=f"{department.name}已属于{target.name}")
    before = department.region or target.code
    session.add(DepartmentMove(department_id=department.id, from_region=before, to_region=target.code,
                               moved_at=utcnow(), actor=actor.label[:100]))  # fmt: skip
    department.region = target.code
    session.flush()
    audit.record(session, AuditAction.DEPARTMENT_MOVED, actor=actor, department_id=department.id,
                 target=f"department:{department.id}", details={"from": before, "to": target.code})  # fmt: skip
    return department


@dataclass(frozen=True)
class RegionTimeline:
    """Where a department has been: its region now, and each move as (when, the region it left)."""

    current: str | None
    moves: tuple[tuple[datetime, str], ...] = ()

    def at(self, when: datetime | None) -> str | None:
        """The region at `when` (now when None): the first move after it says where the department was before."""
        if when is not None:
            for moved_at, before in self.moves:
                if moved_at > when:
                    return before
        return self.current


def region_timeline(session: Session, department_id: int) -> RegionTimeline:
    department = session.get(Department, department_id)
    moves = session.execute(select(DepartmentMove.moved_at, DepartmentMove.from_region)
                            .where(DepartmentMove.department_id == department_id)
                            .order_by(DepartmentMove.moved_at, DepartmentMove.id)).all()  # fmt: skip
    return RegionTimeline(department.region if department is not None else None, tuple((m, r) for m, r in moves))


def region_at(session: Session, department_id: int, at: datetime | None = None) -> str | None:
    """The region the department was in at `at` (now when None): where what it made then belongs, and whose
    working days counted its deadlines then."""
    return region_timeline(session, department_id).at(at)


def region_scope(session: Session, region: str | None) -> DepartmentScope | None:
    """The data scope of `region` and the regions under it; None when that is the whole platform."""
    codes = regions.covered(session, region)
    return None if codes is None else scope_of(session, codes)


def scope_of(session: Session, codes: frozenset[str]) -> DepartmentScope:
    """The departments whose data was made in the regions `codes`, from the departments' moves."""
    return refcache.get(session, ("departments.scope", codes), lambda s: _load_scope(s, codes))


def _load_scope(session: Session, codes: frozenset[str]) -> DepartmentScope:
    table, moves = Department.__table__.c, DepartmentMove.__table__.c
    current = dict(session.connection().execute(select(table.id, table.region)).all())  # type: ignore[arg-type]
    timeline: dict[int, list[tuple[datetime, str, str]]] = {}
    for department_id, moved_at, before, after in session.connection().execute(
        select(moves.department_id, moves.moved_at, moves.from_region, moves.to_region).order_by(moves.moved_at, moves.id)
    ):
        timeline.setdefault(department_id, []).append((moved_at, before, after))
    always: set[int] = set()
    periods: list[tuple[int, datetime | None, datetime | None]] = []
    for department_id, region in current.items():
        steps = timeline.get(department_id)
        if not steps:
            if region in codes:
                always.add(department_id)
            continue
        since: datetime | None = None
        held = steps[0][1]
        for moved_at, _before, after in steps:
            if held in codes:
                periods.append((department_id, since, moved_at))
            since, held = moved_at, after
        if region in codes:
            periods.append((department_id, since, None))
    return DepartmentScope(frozenset(always), tuple(periods))


def set_department_active(session: Session, department_id: int, *, is_active: bool, actor: Actor) -> Department:
    """A deactivated department's keys stop working and its accounts cannot act for it."""
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound(what="该部门")
    if department.is_active != is_active:
        department.is_active = is_active
        audit.record(session, AuditAction.DEPARTMENT_UPDATED, actor=actor, department_id=department.id,
                     target=f"department:{department.id}", details={"is_active": is_active})  # fmt: skip
    return department


def get_department(session: Session, code: str) -> Department:
    try:
        normalized = validate_uscc(code)
    except CodeError:
        normalized = code
    department = session.scalar(select(Department).where(Department.code == normalized))
    if department is None:
        raise NotFound(what=f"部门 {code}（请先用 xinyong departments add 登记）")
    return department


def list_departments(session: Session, actor: Actor | None = None) -> list[Department]:
    """Every department, or those in the actor's region (its own for a department-bound actor)."""
    query = select(Department).order_by(Department.name)
    if actor is not None and actor.is_scoped:
        query = query.where(Department.id.in_(sorted(reachable_ids(actor))))
    return list(session.scalars(query))


def reachable_ids(actor: Actor) -> frozenset[int]:
    """The departments a scoped actor works with today (its own, or those now in its region)."""
    if actor.is_department_bound:
        return frozenset({actor.department_id}) if actor.department_id is not None else frozenset()
    return actor.scope.current if actor.scope is not None else frozenset()


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_key(
    session: Session,
    *,
    department: Department,
    name: str,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
    actor: Actor | None = None,
) -> tuple[ApiKey, str]:
    """Returns the key and its full text, which is shown once and never stored. Scopes are API
    permissions (`api:records:write` …); the pre-grammar names `records:write`/`records:read` are accepted."""
    try:
        permissions = sorted({parse_permission(s) for s in scopes} if scopes else set(DEFAULT_KEY_PERMISSIONS))
    except ValueError as exc:
        raise InvalidInput(reason=f"未知的权限：{exc}") from None
    if not set(permissions) <= API_PERMISSIONS:
        raise InvalidInput(reason="访问密钥只能授予 api: 开头的接口权限")
    name = clean_display_name(name)[:100] or "部门业务系统"
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        department=department,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        name=name,
        scopes=[p.value for p in permissions],
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    audit.record(session, AuditAction.KEY_ISSUED, actor=_system(actor), department_id=department.id,
                 target=f"api-key:{prefix}", details={"name": name, "scopes": key.scopes,
                                                      "expires_at": expires_at.isoformat() if expires_at else None})  # fmt: skip
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


def key_permissions(key: ApiKey) -> frozenset[Permission]:
    return scope_permissions(key.scopes)


def scope_permissions(scopes: list[str] | None) -> frozenset[Permission]:
    granted = set()
    for scope in scopes or []:
        try:
            granted.add(parse_permission(scope))
        except ValueError:
            continue  # a name this version does not know grants nothing
    return frozenset(granted)


def list_api_keys(session: Session, *, department: Department | None = None,
                  actor: Actor | None = None) -> list[ApiKey]:  # fmt: skip
    """Keys, of one department or all; with an actor, only its region's departments' keys."""
    query = select(ApiKey).order_by(ApiKey.created_at.desc())
    if department is not None:
        query = query.where(ApiKey.department_id == department.id)
    if actor is not None and (clause := actor.reach(ApiKey.department_id)) is not None:
        query = query.where(clause)
    return list(session.scalars(query))


@dataclass(frozen=True)
class VerifiedKey:
    """Who presented a valid key: enough to act for its department without loading the ORM objects."""

    id: int
    prefix: str
    department_id: int
    permissions: frozenset[Permission]
    use_due: bool  # last_used_at is a minute old or more
    use_recorded: bool  # ... and was written in the caller's transaction: commit it


_k = ApiKey.__table__.c
_d = Department.__table__.c
# One indexed read per request: the key by its prefix, with its department's state.
_KEY_BY_PREFIX = (
    select(_k.id, _k.secret_hash, _k.department_id, _k.scopes, _k.expires_at, _k.revoked_at, _k.last_used_at,
           _d.is_active)
    .join_from(ApiKey.__table__, Department.__table__, _d.id == _k.department_id)
    .where(_k.prefix == bindparam("prefix"))
)  # fmt: skip


def verify_api_key(session: Session, token: str, *, scope: str | Permission, record_use: bool = True) -> VerifiedKey:
    """Check a presented key (format, secret, revocation, expiry, department, scope). Records its use at most
    once a minute, in the caller's transaction, best effort: a busy department system must not turn every
    read into a write, and a check must not fail because another writer holds SQLite's lock. Callers that
    write anyway pass `record_use=False` and call `record_key_use` in their own write when `use_due`."""
    parts = token.split("_", 2)
    if len(token) > 200 or len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise NotAuthenticated("访问密钥格式不正确")
    # Kept in the reference cache (a revocation reaches the other server processes within its TTL; the
    # process that revokes drops it at once); unknown prefixes are never kept.
    row = refcache.get(session, ("api-key", parts[1]), lambda s: s.connection().execute(
        _KEY_BY_PREFIX, {"prefix": parts[1]}).first())  # fmt: skip
    if row is None or not hmac.compare_digest(row.secret_hash, _hash_secret(parts[2])):
        raise NotAuthenticated("访问密钥无效")
    now = utcnow()
    if row.revoked_at is not None:
        raise NotAuthenticated("访问密钥已被吊销")
    if row.expires_at is not None and row.expires_at <= now:
        raise NotAuthenticated("访问密钥已过期")
    if not row.is_active:
        raise NotAuthenticated("该部门已停用")
    required = parse_permission(str(scope))
    permissions = scope_permissions(row.scopes)
    if required not in permissions:
        raise PermissionDenied(f"该访问密钥没有“{required.value}”权限")
    last_used = max(filter(None, (row.last_used_at, _uses_recorded.get(parts[1]))), default=None)
    due = last_used is None or now - last_used >= KEY_USE_RESOLUTION
    verified = VerifiedKey(row.id, parts[1], row.department_id, permissions, due, False)
    recorded = False
    if due and record_use:
        try:
            with session.begin_nested():
                record_key_use(session, verified)
            recorded = True
        except OperationalError:
            pass  # SQLite: another writer committed since this transaction began; next time
    return replace(verified, use_recorded=recorded)


_uses_recorded: dict[str, datetime] = {}  # key prefix (random, unique) → when this process last recorded its use


def record_key_use(session: Session, key: VerifiedKey) -> None:
    now = utcnow()
    session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    _uses_recorded[key.prefix] = now


def revoke_api_key(session: Session, *, prefix: str, actor: Actor | None = None) -> ApiKey:
    actor = _system(actor)
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix.strip()[:16]))
    if key is None:
        raise NotFound(what=f"访问密钥 {prefix}")
    if not actor.can_reach(key.department_id):
        if actor.scope is not None:  # another county's key does not exist for a county's account
            raise NotFound(what=f"访问密钥 {prefix}")
        raise PermissionDenied("只能吊销本部门的访问密钥")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(session, AuditAction.KEY_REVOKED, actor=actor, department_id=key.department_id,
                     target=f"api-key:{key.prefix}")  # fmt: skip
    return key
