"""Permissions, roles and the pure rules about them (no session here).

Grammar of a permission: ``<surface>:<resource>:<action>``
- surface: ``admin`` (the console, people) or ``api`` (a department system holding an API key);
- resource: a plural noun (``records``, ``subjects``, ``users`` …);
- action: ``read``, ``write``, ``reveal`` (restricted fields, always audited), ``decide``, ``export``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import timedelta


class Permission(enum.StrEnum):
    # console, read
    DASHBOARD_READ = "admin:dashboard:read"
    BATCHES_READ = "admin:batches:read"
    RECORDS_READ = "admin:records:read"
    SUBJECTS_READ = "admin:subjects:read"
    # console, write
    RECORDS_WRITE = "admin:records:write"  # upload files, revoke records
    RECORDS_BACKDATE = "admin:records:backdate"  # report a batch under an earlier date (migration; 信用办 only)
    SUBJECTS_REVEAL = "admin:subjects:reveal"  # full ID numbers (查询留痕, reason required)
    LISTS_READ = "admin:lists:read"
    LISTS_WRITE = "admin:lists:write"  # propose, notify, register objections, publish, import lists
    LISTS_DECIDE = "admin:lists:decide"  # decide, withdraw, remove (移出)
    LIST_TYPES_WRITE = "admin:list-types:write"  # list types and their deciding departments (信用办)
    MEASURES_WRITE = "admin:measures:write"  # edit the measure list (platform administrators)
    CHECKS_READ = "admin:checks:read"
    CHECKS_WRITE = "admin:checks:write"  # run credit checks, record feedback
    REPAIRS_ACCEPT = "admin:repairs:accept"  # the platform's step: accept, return, refuse to accept (信用办)
    REPAIRS_DECIDE = "admin:repairs:decide"  # the owning department's step: approve or refuse (its reviewer)
    OBJECTIONS_DECIDE = "admin:objections:decide"  # the owning department's answer (its reviewer)
    REPAIRS_READ = "admin:repairs:read"  # repair queue and applications (own department for bound roles)
    OBJECTIONS_READ = "admin:objections:read"
    COMMITMENTS_DECIDE = "admin:commitments:decide"  # declare a repair commitment broken (违诺): 信用办 only
    SUBJECT_ACCOUNTS_READ = "admin:subject-accounts:read"  # subject accounts and their identity proofs
    SUBJECT_ACCOUNTS_ACTIVATE = "admin:subject-accounts:activate"  # issue activation codes (激活码)
    SUBJECT_ACCOUNTS_REVOKE = "admin:subject-accounts:revoke"  # revoke an identity proof or an account: 信用办 only
    # monitoring (信用监测), warnings, data quality, government integrity (政务诚信)
    MONITORING_READ = "admin:monitoring:read"  # KPIs, ranking, reports (own department for bound roles)
    MONITORING_WRITE = "admin:monitoring:write"  # run checks and rules, resolve 重错码 and warnings (信用办)
    ALERTS_ACKNOWLEDGE = "admin:alerts:acknowledge"  # a department confirms a warning it was sent
    INTEGRITY_READ = "admin:integrity:read"
    INTEGRITY_WRITE = "admin:integrity:write"  # government bodies' cases and court pre-listing notices
    CIVIL_SERVANTS_READ = "admin:civil-servants:read"  # 公务员诚信档案: its own role only, reason required
    CIVIL_SERVANTS_WRITE = "admin:civil-servants:write"
    # platform administration
    DEPARTMENTS_READ = "admin:departments:read"
    DEPARTMENTS_WRITE = "admin:departments:write"
    USERS_READ = "admin:users:read"
    USERS_WRITE = "admin:users:write"
    KEYS_WRITE = "admin:keys:write"
    AUDIT_READ = "admin:audit:read"
    AUDIT_EXPORT = "admin:audit:export"
    # every signed-in account
    ACCOUNT_WRITE = "admin:account:write"
    # department systems (API keys)
    API_RECORDS_WRITE = "api:records:write"
    API_RECORDS_BACKDATE = "api:records:backdate"  # a batch under an earlier reporting date: granted explicitly
    API_RECORDS_READ = "api:records:read"
    API_CHECKS_WRITE = "api:checks:write"  # credit checks and their feedback
    API_LISTS_WRITE = "api:lists:write"  # import entries of lists decided elsewhere

    @property
    def is_api(self) -> bool:
        return self.value.startswith("api:")


# Scopes issued before the grammar existed; still accepted, rewritten by migration 0003.
LEGACY_KEY_SCOPES = {"records:write": Permission.API_RECORDS_WRITE, "records:read": Permission.API_RECORDS_READ}
API_PERMISSIONS = frozenset(p for p in Permission if p.is_api)
DEFAULT_KEY_PERMISSIONS = (Permission.API_RECORDS_WRITE, Permission.API_RECORDS_READ)


class Role(enum.StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    OPERATOR = "operator"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    INTEGRITY_KEEPER = "integrity_keeper"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_department_bound(self) -> bool:
        """Operators and reviewers act for exactly one department and see only its data."""
        return self in (Role.OPERATOR, Role.REVIEWER)


ROLE_LABELS = {
    Role.PLATFORM_ADMIN: "平台管理员（信用办）",
    Role.OPERATOR: "部门报送员",
    Role.REVIEWER: "部门审核员",
    Role.AUDITOR: "审计员（只读）",
    Role.INTEGRITY_KEEPER: "公务员诚信档案管理员",
}
# Restricted records about civil servants: only the role made for them, not even the platform administrator.
CIVIL_SERVANT_PERMISSIONS = frozenset({Permission.CIVIL_SERVANTS_READ, Permission.CIVIL_SERVANTS_WRITE})

# Steps that belong to the department that owns the record (谁处罚、谁修复): the 信用办 takes the platform's step
# of a repair and never the department's, so that no single body takes a penalty off the portal alone.
DEPARTMENT_ONLY = frozenset({Permission.REPAIRS_DECIDE, Permission.OBJECTIONS_DECIDE})
# What the accounts of a deactivated department keep: reading their own history, and their own password.
READ_ONLY = frozenset({p for p in Permission if p.value.endswith(":read")} | {Permission.ACCOUNT_WRITE})

_COMMON = {Permission.DASHBOARD_READ, Permission.BATCHES_READ, Permission.RECORDS_READ, Permission.SUBJECTS_READ,
           Permission.ACCOUNT_WRITE, Permission.LISTS_READ, Permission.CHECKS_READ, Permission.MONITORING_READ,
           Permission.INTEGRITY_READ}  # fmt: skip
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PLATFORM_ADMIN: frozenset(p for p in Permission
                                   if not p.is_api and p not in DEPARTMENT_ONLY and p not in CIVIL_SERVANT_PERMISSIONS),
    Role.OPERATOR: frozenset(_COMMON | {Permission.RECORDS_WRITE, Permission.LISTS_WRITE, Permission.CHECKS_WRITE,
                                        Permission.ALERTS_ACKNOWLEDGE}),
    Role.REVIEWER: frozenset(_COMMON | {Permission.SUBJECTS_REVEAL, Permission.LISTS_DECIDE,
                                        Permission.REPAIRS_DECIDE, Permission.OBJECTIONS_DECIDE,
                                        Permission.REPAIRS_READ, Permission.OBJECTIONS_READ,
                                        Permission.CHECKS_WRITE, Permission.SUBJECT_ACCOUNTS_READ,
                                        Permission.SUBJECT_ACCOUNTS_ACTIVATE, Permission.ALERTS_ACKNOWLEDGE}),
    Role.AUDITOR: frozenset(_COMMON | {Permission.REPAIRS_READ, Permission.OBJECTIONS_READ, Permission.AUDIT_READ, Permission.AUDIT_EXPORT, Permission.DEPARTMENTS_READ,
                                       Permission.USERS_READ, Permission.SUBJECT_ACCOUNTS_READ}),
    Role.INTEGRITY_KEEPER: frozenset({Permission.ACCOUNT_WRITE, Permission.INTEGRITY_READ,
                                      *CIVIL_SERVANT_PERMISSIONS}),
}


def role_permissions(role: Role, *, department_active: bool = True) -> frozenset[Permission]:
    """What an account of `role` may do; a department-bound account of a deactivated department only reads."""
    granted = ROLE_PERMISSIONS[role]
    if role.is_department_bound and not department_active:
        return granted & READ_ONLY
    return granted


def parse_permission(text: str) -> Permission:
    """A permission by name; legacy key scopes map to their new names. Raises ValueError."""
    text = text.strip()
    if text in LEGACY_KEY_SCOPES:
        return LEGACY_KEY_SCOPES[text]
    return Permission(text)


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, a department's API key, or the platform itself (CLI, jobs).

    `department_id` None with a department-bound role cannot happen; None for platform roles means
    "all departments"."""

    label: str  # stable text for the audit trail: "user:zhang", "api-key:3f2a…", "cli"
    kind: str  # "user" | "api-key" | "system"
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    department_id: int | None = None
    is_department_bound: bool = False
    user_id: int | None = None

    @classmethod
    def system(cls, label: str = "cli") -> Actor:
        return cls(label=label, kind="system", permissions=frozenset(Permission))

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def can_reach(self, department_id: int | None) -> bool:
        """Data scope: bound actors reach only their own department's data."""
        if not self.is_department_bound:
            return True
        return department_id is not None and department_id == self.department_id


# ------------------------------------------------------------------------------------ passwords


def password_problems(password: str, *, username: str, min_length: int) -> list[str]:
    """What is wrong with a new password, in Chinese; empty when it is acceptable."""
    problems = []
    if len(password) < min_length:
        problems.append(f"密码至少 {min_length} 位")
    if len(password) > 256:
        problems.append("密码不能超过 256 位")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        problems.append("密码须同时包含字母和数字")
    if username and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    if len(set(password)) < 4:
        problems.append("密码过于简单")
    return problems


# Sign-in failures are forgotten after a day without any attempt (per client, account or pair).
FORGET_LOGIN_FAILURES_AFTER = timedelta(hours=24)


def login_delay(failures: int, *, free: int, first: timedelta, cap: timedelta) -> timedelta:
    """How long after its `failures`-th consecutive failure an account (from one client, or from all) must wait:
    nothing before the `free`-th, then `first`, doubling with each further failure, never more than `cap`.
    Delays rather than locks: nobody can keep an account out for longer than `cap` at a time."""
    if failures < free or cap <= timedelta(0):
        return timedelta(0)
    return min(first * 2 ** min(failures - free, 32), cap)


USERNAME_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


def normalize_username(username: str) -> str:
    return username.strip().lower()


def username_problem(username: str) -> str | None:
    if not 3 <= len(username) <= 40:
        return "用户名须为 3–40 位"
    if not set(username) <= USERNAME_ALPHABET or not username[0].isalnum():
        return "用户名只能包含小写字母、数字和 . _ -，并以字母或数字开头"
    return None


# Where a console user's warnings are e-mailed: one address, checked for its form only (delivery tells the rest).
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")


def email_problem(address: str) -> str | None:
    if len(address) > 200 or not EMAIL_RE.match(address):
        return f"电子邮箱“{address[:60]}”格式不正确"
    return None
