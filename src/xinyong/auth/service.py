"""Use-cases of accounts: users, sign-in (throttled by auth.throttle), sessions, passwords."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from xinyong.actors import Actor, Permission
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth import passwords, rules, throttle
from xinyong.auth.models import User, UserSession
from xinyong.auth.rules import Role
from xinyong.codes import clean_display_name, mask_if_id_like
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.departments import service as departments_service
from xinyong.departments.models import ApiKey, Department
from xinyong.errors import (
    AlreadyExists,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from xinyong.regions import service as regions_service


class LoginFailed(NotAuthenticated):
    """The one answer to every unsuccessful sign-in: unknown name, wrong password, disabled account or an attempt
    refused during a delay look the same (auth.throttle)."""

    code = "login-failed"
    message_template = "用户名或密码错误，或登录尝试过于频繁，请稍后再试"
    keeps_changes = True  # the failure (or the refused attempt) is counted and audited


class PasswordChangeRequired(DomainError):
    code = "password-change-required"
    status_code = 403
    message_template = "请先修改初始密码"


# ------------------------------------------------------------------------------------------ actors


def actor_for_user(user: User) -> Actor:
    """The one place a console account's permissions are settled: an account of a deactivated department keeps
    only what reads its own history (every write, check, reveal and notice is refused wherever it is asked)."""
    bound = user.role.is_department_bound
    active = not bound or user.department is None or user.department.is_active
    region, scope = None, None
    if bound:
        region = user.department.region if user.department is not None else None
    elif user.region_code is not None:
        session = object_session(user)
        assert session is not None, "an account's scope is read from its database"
        region = user.region_code
        scope = departments_service.region_scope(session, region)  # None for the platform's own region
    return Actor(
        label=f"user:{user.username}", kind="user", permissions=rules.role_permissions(user.role, department_active=active),
        department_id=user.department_id, is_department_bound=bound, user_id=user.id, region=region, scope=scope,
    )  # fmt: skip


class DepartmentDeactivated(PermissionDenied):
    code = "department-deactivated"
    message_template = "{department}已停用，本账户仅可查看历史数据，不能执行此操作（需要 {permission} 权限）"


def permission_refused(user: User, permission: Permission) -> PermissionDenied:
    """Why a console account may not do `permission`: its department was deactivated (its role would grant it),
    or its role does not grant it."""
    if (permission in rules.ROLE_PERMISSIONS[user.role] and user.role.is_department_bound
            and user.department is not None and not user.department.is_active):  # fmt: skip
        return DepartmentDeactivated(department=user.department.name, permission=permission.value)
    return PermissionDenied(f"无权执行此操作（需要 {permission.value} 权限）")


def actor_for_key(key: ApiKey | departments_service.VerifiedKey) -> Actor:
    """A department system acts for its own department only, with the key's named permissions."""
    permissions = (key.permissions if isinstance(key, departments_service.VerifiedKey)
                   else departments_service.key_permissions(key))  # fmt: skip
    return Actor(label=f"api-key:{key.prefix}", kind="api-key", permissions=permissions,
                 department_id=key.department_id, is_department_bound=True)  # fmt: skip


def ensure(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise PermissionDenied(f"无权执行此操作（需要 {permission.value} 权限）")


def ensure_department(actor: Actor, department_id: int | None) -> None:
    """Data scope, checked in services so that every entry point obeys it."""
    if not actor.can_reach(department_id):
        raise PermissionDenied("只能操作本部门的数据")


# ------------------------------------------------------------------------------------------- users


def _check_password(password: str, *, username: str, settings: Settings) -> None:
    problems = rules.password_problems(password, username=username, min_length=settings.password_min_length)
    if problems:
        raise InvalidInput(reason="；".join(problems))


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    department: Department | None,
    display_name: str | None = None,
    actor: Actor,
    settings: Settings,
    must_change_password: bool = False,
    region: str | None = None,
) -> User:
    ensure(actor, Permission.USERS_WRITE)
    username = rules.normalize_username(username)
    problem = rules.username_problem(username)
    if problem:
        raise InvalidInput(reason=problem)
    if role.is_department_bound and department is None:
        raise InvalidInput(reason=f"{role.label}必须属于一个部门")
    region = _account_region(session, actor, role, department, region)
    _check_password(password, username=username, settings=settings)
    if session.scalar(select(User.id).where(User.username == username)):
        raise AlreadyExists(what=f"用户名 {username}")
    name = clean_display_name(display_name or "") or username
    user = User(
        username=username, display_name=name[:100], role=role, department=department,
        department_id=department.id if department else None, password_hash=passwords.hash_password(password),
        must_change_password=must_change_password, failed_logins=0, is_active=True, region_code=region,
    )  # fmt: skip
    session.add(user)
    session.flush()  # the audit entry names the new id
    audit.record(session, AuditAction.USER_CREATED, actor=actor, department_id=user.department_id,
                 target=f"user:{user.id}", details={"username": username, "role": role.value,
                                                    **({"region": region} if region else {})})  # fmt: skip
    return user


def _account_region(session: Session, actor: Actor, role: Role, department: Department | None,
                    region: str | None) -> str | None:  # fmt: skip
    """The region a new or changed account acts for: none for department-bound roles (their department's), the
    one asked for (registered, inside the actor's own) or the actor's own for a regional administrator."""
    tree = regions_service.tree(session)
    if role.is_department_bound:
        if department is not None and not actor.can_reach(department.id):
            raise NotFound(what="该部门")
        return None
    if region:
        region = "".join(region.split())[:6]
        if tree.get(region) is None:
            raise InvalidInput(reason=f"行政区划 {region} 尚未登记")
    region = region or actor.region
    if actor.region is not None and (region is None or region not in tree.subtree(actor.region)):
        raise PermissionDenied("只能为本行政区划及其下级区划开设账户")
    return region


def get_user(session: Session, user_id: int, *, actor: Actor | None = None) -> User:
    """An account by id; a regional administrator reaches only the accounts of its region (others: not found)."""
    user = session.get(User, user_id)
    if user is None or (actor is not None and not _reaches_user(session, actor, user)):
        raise NotFound(what="该账户")
    return user


def _reaches_user(session: Session, actor: Actor, user: User) -> bool:
    if actor.region is None or actor.is_department_bound:
        return True
    if user.department_id is not None:
        return actor.can_reach(user.department_id)
    return user.region_code is not None and user.region_code in regions_service.tree(session).subtree(actor.region)


def get_user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == rules.normalize_username(username)))
    if user is None:
        raise NotFound(what=f"账户 {username}")
    return user


def list_users(session: Session, *, actor: Actor) -> list[User]:
    ensure(actor, Permission.USERS_READ)
    users = session.scalars(select(User).order_by(User.department_id, User.username))
    return [user for user in users if _reaches_user(session, actor, user)]


def update_user(
    session: Session,
    user_id: int,
    *,
    actor: Actor,
    role: Role | None = None,
    department: Department | None = None,
    is_active: bool | None = None,
    unlock: bool = False,
    region: str | None = None,
) -> User:
    ensure(actor, Permission.USERS_WRITE)
    user = get_user(session, user_id, actor=actor)
    changes: dict[str, object] = {}
    new_role = role or user.role
    new_department_id = department.id if department else (None if role and not role.is_department_bound
                                                          else user.department_id)  # fmt: skip
    if new_role.is_department_bound and new_department_id is None:
        raise InvalidInput(reason=f"{new_role.label}必须属于一个部门")
    new_region = _account_region(session, actor, new_role, department or user.department,
                                 region or (user.region_code if not new_role.is_department_bound else None))  # fmt: skip
    if new_region != user.region_code:
        changes["region"] = [user.region_code, new_region]
        user.region_code = new_region
    if user.id == actor.user_id and (new_role != user.role or is_active is False):
        raise InvalidInput(reason="不能修改自己的角色或停用自己的账户")
    if new_role != user.role:
        changes["role"] = [user.role.value, new_role.value]
        user.role = new_role
    if new_department_id != user.department_id:
        changes["department_id"] = [user.department_id, new_department_id]
        user.department_id = new_department_id
    if is_active is not None and is_active != user.is_active:
        changes["is_active"] = [user.is_active, is_active]
        user.is_active = is_active
    if unlock and (throttle.forget_account(session, f"user:{user.id}") or user.locked_until or user.failed_logins):
        changes["unlocked"] = True
        user.locked_until, user.failed_logins = None, 0
    if changes:
        if {"role", "department_id", "region"} & changes.keys() or changes.get("is_active") == [True, False]:
            _end_sessions(session, user.id)
        audit.record(session, AuditAction.USER_UPDATED, actor=actor, department_id=user.department_id,
                     target=f"user:{user.id}", details={"username": user.username, **changes})  # fmt: skip
    return user


def set_email(session: Session, user_id: int, *, email: str | None, actor: Actor) -> User:
    """Where the user's warnings are e-mailed besides the console inbox; None or blank: the inbox only.
    The audit entry says that the address changed, not what it is."""
    ensure(actor, Permission.USERS_WRITE)
    user = get_user(session, user_id, actor=actor)
    address = (email or "").strip() or None
    if address is not None:
        problem = rules.email_problem(address)
        if problem:
            raise InvalidInput(reason=problem)
    if address != user.email:
        user.email = address
        audit.record(session, AuditAction.USER_UPDATED, actor=actor, department_id=user.department_id,
                     target=f"user:{user.id}",
                     details={"username": user.username, "email": "set" if address else "cleared"})  # fmt: skip
    return user


def reset_password(session: Session, user_id: int, *, actor: Actor) -> str:
    """A one-time password for the user, who must change it at the next sign-in; their sessions end."""
    ensure(actor, Permission.USERS_WRITE)
    user = get_user(session, user_id, actor=actor)
    temporary = generate_password()
    user.password_hash = passwords.hash_password(temporary)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    user.failed_logins, user.locked_until = 0, None
    throttle.forget_account(session, f"user:{user.id}")
    _end_sessions(session, user.id)
    audit.record(session, AuditAction.USER_PASSWORD_RESET, actor=actor, department_id=user.department_id,
                 target=f"user:{user.id}", details={"username": user.username})  # fmt: skip
    return temporary


def generate_password() -> str:
    # Letters and digits from an alphabet without look-alikes, always both kinds.
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
    digits = "23456789"
    body = [secrets.choice(alphabet + digits) for _ in range(12)]
    return "".join(body) + secrets.choice(digits) + secrets.choice(alphabet)


# ----------------------------------------------------------------------------------------- sign-in


def authenticate(session: Session, *, username: str, password: str, settings: Settings, client: str) -> User:
    """Checks a password under the sign-in throttling of auth.throttle. Failures and refused attempts are
    counted and audited even though this raises (LoginFailed keeps the transaction's changes). Raises
    LoginFailed, whatever went wrong, after about the time a password check takes."""
    now = utcnow()
    name = rules.normalize_username(username)[:40]
    user = session.scalar(select(User).where(User.username == name)) if name else None
    attempt = throttle.attempt(settings, surface="admin", client=client, account=name,
                               owner=f"user:{user.id}" if user else None)  # fmt: skip
    if user is not None:
        who = throttle.Who(actor=f"user:{user.username}", target=f"user:{user.id}", department_id=user.department_id)
    else:  # the name as typed may be an ID number, or a password typed into the wrong field
        who = throttle.Who(actor="anonymous", details={"username": mask_if_id_like(name), "known": False})
    refusal = throttle.check(session, attempt, now=now, who=who)
    if refusal is not None:
        if refusal.scope != throttle.CLIENT:  # a delay on the account: answered in a password check's time
            passwords.burn_time(password)
        raise LoginFailed()
    if user is None or not user.is_active:
        passwords.burn_time(password)
        is_correct = False
    else:
        is_correct = passwords.verify_password(user.password_hash, password)
    if not is_correct:
        failure = throttle.fail(session, attempt, now=now, who=who)
        if user is not None:
            user.failed_logins, user.locked_until = failure.account_failures, failure.account_blocked_until
        raise LoginFailed()
    assert user is not None
    throttle.succeed(session, attempt)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    user.last_login_at = now
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, *, settings: Settings, client: str) -> tuple[UserSession, str]:
    """A new session after a successful sign-in; returns it and the cookie value (never stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        token_hash=_token_hash(token), csrf_token=secrets.token_urlsafe(32), user_id=user.id, created_at=now,
        last_seen_at=now, expires_at=now + timedelta(hours=settings.session_max_hours), client=client[:64],
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, AuditAction.LOGIN, actor=actor_for_user(user), department_id=user.department_id,
                 target=f"user:{user.id}", details={"client": client[:64]})  # fmt: skip
    return row, token


def load_session(session: Session, token: str, *, settings: Settings) -> UserSession | None:
    """The live session for a cookie value, or None (unknown, ended, expired, idle, or user disabled)."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    now = utcnow()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    if now - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        return None
    if not row.user.is_active:
        return None
    return row


def use_to_record(row: UserSession) -> datetime | None:
    """When a live session's use is due to be recorded (at most once a minute), the time to record; else None."""
    now = utcnow()
    return now if now - row.last_seen_at > timedelta(minutes=1) else None


def record_use(session: Session, session_id: int, when: datetime) -> None:
    """A console session's last use (what its idle timeout counts from)."""
    session.execute(update(UserSession).where(UserSession.id == session_id, UserSession.last_seen_at < when)
                    .values(last_seen_at=when).execution_options(synchronize_session=False))  # fmt: skip


def end_session(session: Session, row: UserSession) -> None:
    if row.ended_at is None:
        row.ended_at = utcnow()
        audit.record(session, AuditAction.LOGOUT, actor=actor_for_user(row.user),
                     department_id=row.user.department_id, target=f"user:{row.user_id}")  # fmt: skip


def _end_sessions(session: Session, user_id: int, *, keep: int | None = None) -> None:
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep)
    session.execute(stmt.values(ended_at=utcnow()).execution_options(synchronize_session=False))


def csrf_matches(row: UserSession, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(row.csrf_token.encode(), (submitted or "").encode())


def change_password(
    session: Session, *, user: User, current: str, new: str, settings: Settings, keep_session: int | None
) -> None:
    """Needs the current password; every other session of the user ends."""
    if not passwords.verify_password(user.password_hash, current):
        raise InvalidInput(reason="当前密码不正确")
    if current == new:
        raise InvalidInput(reason="新密码不能与当前密码相同")
    _check_password(new, username=user.username, settings=settings)
    user.password_hash = passwords.hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    _end_sessions(session, user.id, keep=keep_session)
    audit.record(session, AuditAction.PASSWORD_CHANGED, actor=actor_for_user(user), department_id=user.department_id,
                 target=f"user:{user.id}")  # fmt: skip


# -------------------------------------------------------------------------------------------- demo


def create_demo_accounts(
    session: Session, departments: Iterable[Department], *, settings: Settings | None = None
) -> list[tuple[str, str, str]]:
    """Demo accounts: one platform administrator, one auditor, and an operator and a reviewer for each of
    the first two departments. Returns (username, password, role label) for printing. Passwords are
    fixed and public: for demonstrations only."""
    settings = settings or Settings()
    actor = Actor.system("demo")
    made: list[tuple[str, str, str]] = []

    def add(username: str, role: Role, department: Department | None, name: str) -> None:
        password = f"Xinyong-2025-{len(made) + 1}a"
        if session.scalar(select(User.id).where(User.username == username)):
            return  # loaded before; its password may have been changed since
        create_user(session, username=username, password=password, role=role, department=department,
                    display_name=name, actor=actor, settings=settings)  # fmt: skip
        made.append((username, password, role.label))

    add("admin", Role.PLATFORM_ADMIN, None, "信用办管理员")
    add("auditor", Role.AUDITOR, None, "审计员")
    for index, department in enumerate(list(departments)[:2], start=1):
        add(f"operator{index}", Role.OPERATOR, department, f"{department.name}报送员")
        add(f"reviewer{index}", Role.REVIEWER, department, f"{department.name}审核员")
    return made

