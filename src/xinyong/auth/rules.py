"""Roles, the permissions each holds, and the pure rules of console accounts (no session here).
Permissions themselves and `Actor` are in `xinyong.actors`."""

from __future__ import annotations

import enum
import re
from datetime import timedelta

from xinyong.actors import Permission


class Role(enum.StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    OPERATOR = "operator"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    INTEGRITY_KEEPER = "integrity_keeper"
    INSTITUTION_OFFICER = "institution_officer"  # a bank's officer (信易贷), linked to one financial institution

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
    Role.INSTITUTION_OFFICER: "金融机构信贷员（信易贷）",
}
# Restricted records about civil servants: only the role made for them, not even the platform administrator.
CIVIL_SERVANT_PERMISSIONS = frozenset({Permission.CIVIL_SERVANTS_READ, Permission.CIVIL_SERVANTS_WRITE})
# A bank's work on subjects' data is done under their consent, by the bank: never by the 信用办 in its place.
INSTITUTION_PERMISSIONS = frozenset({Permission.INSTITUTION_WORK})

# Steps that belong to the department that owns the record (谁处罚、谁修复): the 信用办 takes the platform's step
# of a repair and never the department's, so that no single body takes a penalty off the portal alone.
DEPARTMENT_ONLY = frozenset({Permission.REPAIRS_DECIDE, Permission.OBJECTIONS_DECIDE, Permission.COMMITMENTS_WRITE})
# What the accounts of a deactivated department keep: reading their own history, and their own password.
READ_ONLY = frozenset({p for p in Permission if p.value.endswith(":read")} | {Permission.ACCOUNT_WRITE})

_COMMON = {Permission.DASHBOARD_READ, Permission.BATCHES_READ, Permission.RECORDS_READ, Permission.SUBJECTS_READ,
           Permission.ACCOUNT_WRITE, Permission.LISTS_READ, Permission.CHECKS_READ, Permission.EVALUATION_READ,
           Permission.INSPECTIONS_READ, Permission.REPORTS_READ,
           Permission.MONITORING_READ, Permission.INTEGRITY_READ, Permission.COMMITMENTS_READ}  # fmt: skip
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PLATFORM_ADMIN: frozenset(p for p in Permission
                                   if not p.is_api and p not in DEPARTMENT_ONLY and p not in CIVIL_SERVANT_PERMISSIONS
                                   and p not in INSTITUTION_PERMISSIONS),
    Role.OPERATOR: frozenset(_COMMON | {Permission.RECORDS_WRITE, Permission.LISTS_WRITE, Permission.CHECKS_WRITE,
                                        Permission.INSPECTIONS_WRITE, Permission.ALERTS_ACKNOWLEDGE,
                                        Permission.COMMITMENTS_WRITE}),
    Role.REVIEWER: frozenset(_COMMON | {Permission.SUBJECTS_REVEAL, Permission.LISTS_DECIDE,
                                        Permission.REPAIRS_DECIDE, Permission.OBJECTIONS_DECIDE,
                                        Permission.REPAIRS_READ, Permission.OBJECTIONS_READ,
                                        Permission.CHECKS_WRITE, Permission.SUBJECT_ACCOUNTS_READ,
                                        Permission.SUBJECT_ACCOUNTS_ACTIVATE, Permission.INSPECTIONS_DECIDE,
                                        Permission.ALERTS_ACKNOWLEDGE, Permission.COMMITMENTS_WRITE}),
    Role.AUDITOR: frozenset(_COMMON | {Permission.REPAIRS_READ, Permission.OBJECTIONS_READ, Permission.AUDIT_READ, Permission.AUDIT_EXPORT, Permission.DEPARTMENTS_READ,
                                       Permission.EXCHANGE_READ,
                                       Permission.USERS_READ, Permission.SUBJECT_ACCOUNTS_READ}),
    Role.INTEGRITY_KEEPER: frozenset({Permission.ACCOUNT_WRITE, Permission.INTEGRITY_READ,
                                      *CIVIL_SERVANT_PERMISSIONS}),
    Role.INSTITUTION_OFFICER: frozenset({Permission.ACCOUNT_WRITE, *INSTITUTION_PERMISSIONS}),
}


def role_permissions(role: Role, *, department_active: bool = True) -> frozenset[Permission]:
    """What an account of `role` may do; a department-bound account of a deactivated department only reads."""
    granted = ROLE_PERMISSIONS[role]
    if role.is_department_bound and not department_active:
        return granted & READ_ONLY
    return granted


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
