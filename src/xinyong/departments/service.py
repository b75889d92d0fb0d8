from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.codes import CodeError, clean_display_name, validate_uscc
from xinyong.db import utcnow
from xinyong.departments.models import ApiKey, Department
from xinyong.errors import AlreadyExists, InvalidInput, NotAuthenticated, NotFound

KEY_PREFIX = "xy"
# What a department's system may do with its key until accounts and roles exist.
DEFAULT_SCOPES = ["records:write", "records:read"]


def add_department(session: Session, *, code: str, name: str, region: str | None = None) -> Department:
    try:
        code = validate_uscc(code)
    except CodeError as exc:
        raise InvalidInput(reason=exc.message) from None
    name = clean_display_name(name)
    if not name:
        raise InvalidInput(reason="部门名称不能为空")
    if session.scalar(select(Department).where(Department.code == code)):
        raise AlreadyExists(what=f"部门 {code}")
    department = Department(code=code, name=name, region=region or code[2:8])
    session.add(department)
    session.flush()  # the caller usually needs the id
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


def list_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.name)))


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_key(
    session: Session,
    *,
    department: Department,
    name: str,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Returns the key and its full text, which is shown once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        department=department,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        name=name,
        scopes=scopes or list(DEFAULT_SCOPES),
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


def authenticate_api_key(session: Session, token: str, *, scope: str) -> ApiKey:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise NotAuthenticated("访问密钥格式不正确")
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or not hmac.compare_digest(key.secret_hash, _hash_secret(parts[2])):
        raise NotAuthenticated("访问密钥无效")
    now = utcnow()
    if key.revoked_at is not None:
        raise NotAuthenticated("访问密钥已被吊销")
    if key.expires_at is not None and key.expires_at <= now:
        raise NotAuthenticated("访问密钥已过期")
    if not key.department.is_active:
        raise NotAuthenticated("该部门已停用")
    if scope not in key.scopes:
        from xinyong.errors import PermissionDenied

        raise PermissionDenied(f"该访问密钥没有“{scope}”权限")
    key.last_used_at = now
    return key


def revoke_api_key(session: Session, *, prefix: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise NotFound(what=f"访问密钥 {prefix}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
