"""Who acts on the platform, and what they may do.

An `Actor` is a signed-in person, a department's system holding an API key, or the platform itself (the
command line, scheduled jobs). A `Permission` names one thing an actor may do, with a grammar:
``<surface>:<resource>:<action>``
- surface: ``admin`` (the console, people) or ``api`` (a department system holding an API key);
- resource: a plural noun (``records``, ``subjects``, ``users`` …);
- action: ``read``, ``write``, ``reveal`` (restricted fields, always audited), ``decide``, ``export``.
Which roles hold which permissions is the auth domain's rule (`xinyong.auth.rules`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement


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
    COMMITMENTS_READ = "admin:commitments:read"  # 信用承诺: accepted commitments, verification tasks, the dashboard
    COMMITMENTS_WRITE = "admin:commitments:write"  # record fulfilment and verification findings: the accepting department
    REPORTS_READ = "admin:reports:read"  # the registry of issued credit reports (own department for bound roles)
    EVALUATION_READ = "admin:evaluation:read"  # evaluation runs, grade changes, a subject's explained grade
    INSPECTIONS_READ = "admin:inspections:read"
    INSPECTIONS_WRITE = "admin:inspections:write"  # plans, the inspector roster and exclusions, results
    INSPECTIONS_DECIDE = "admin:inspections:decide"  # the draw and its publication
    SUBJECT_ACCOUNTS_READ = "admin:subject-accounts:read"  # subject accounts and their identity proofs
    SUBJECT_ACCOUNTS_ACTIVATE = "admin:subject-accounts:activate"  # issue activation codes (激活码)
    SUBJECT_ACCOUNTS_REVOKE = "admin:subject-accounts:revoke"  # revoke an identity proof or an account: 信用办 only
    # monitoring (信用监测), warnings, data quality, government integrity (政务诚信)
    MONITORING_READ = "admin:monitoring:read"  # KPIs, ranking, reports (own department for bound roles)
    MONITORING_WRITE = "admin:monitoring:write"  # run checks and rules, resolve 重错码 and warnings (信用办)
    DUTIES_WRITE = "admin:duties:write"  # the departments' catalogues (部门目录清单): 信用办 only
    ALERTS_ACKNOWLEDGE = "admin:alerts:acknowledge"  # a department confirms a warning it was sent
    INTEGRITY_READ = "admin:integrity:read"
    INTEGRITY_WRITE = "admin:integrity:write"  # government bodies' cases and court pre-listing notices
    CIVIL_SERVANTS_READ = "admin:civil-servants:read"  # 公务员诚信档案: its own role only, reason required
    CIVIL_SERVANTS_WRITE = "admin:civil-servants:write"
    # incentives: 信易贷 (institutions, whitelist, statistics) and 信易+ scenarios — the 信用办
    FINANCE_READ = "admin:finance:read"
    FINANCE_WRITE = "admin:finance:write"  # register institutions, issue their keys, publish the whitelist
    SCENARIOS_WRITE = "admin:scenarios:write"  # the 信易+ registry
    INSTITUTION_WORK = "admin:institution:work"  # a financial institution's officer: its demands, consented reads
    # platform administration
    DEPARTMENTS_READ = "admin:departments:read"
    DEPARTMENTS_WRITE = "admin:departments:write"
    USERS_READ = "admin:users:read"
    USERS_WRITE = "admin:users:write"
    KEYS_WRITE = "admin:keys:write"
    AUDIT_READ = "admin:audit:read"
    AUDIT_EXPORT = "admin:audit:export"
    EXCHANGE_READ = "admin:exchange:read"  # exports, webhooks, list editions and their review queue (数据交换)
    # every signed-in account
    ACCOUNT_WRITE = "admin:account:write"
    # department systems (API keys)
    API_RECORDS_WRITE = "api:records:write"
    API_RECORDS_BACKDATE = "api:records:backdate"  # a batch under an earlier reporting date: granted explicitly
    API_RECORDS_READ = "api:records:read"
    API_CHECKS_WRITE = "api:checks:write"  # credit checks and their feedback
    API_LISTS_WRITE = "api:lists:write"  # import entries of lists decided elsewhere
    API_REPORTS_WRITE = "api:reports:write"  # credit reports inside a credit check
    # The change feed (GET /api/v1/changes) and its webhooks. The key's class: 社会公开 types only …
    API_CHANGES_READ = "api:changes:read"
    # … or, for government departments' systems, 政务共享 types too (granted with api:changes:read)
    API_CHANGES_SHARED = "api:changes:shared"
    API_SCENARIOS_CHECK = "api:scenarios:check"  # 信易+ eligibility: yes or no and the rule, never the record

    @property
    def is_api(self) -> bool:
        return self.value.startswith("api:")


# Scopes issued before the grammar existed; still accepted, rewritten by migration 0003.
LEGACY_KEY_SCOPES = {"records:write": Permission.API_RECORDS_WRITE, "records:read": Permission.API_RECORDS_READ}
API_PERMISSIONS = frozenset(p for p in Permission if p.is_api)
DEFAULT_KEY_PERMISSIONS = (Permission.API_RECORDS_WRITE, Permission.API_RECORDS_READ)


def parse_permission(text: str) -> Permission:
    """A permission by name; legacy key scopes map to their new names. Raises ValueError."""
    text = text.strip()
    if text in LEGACY_KEY_SCOPES:
        return LEGACY_KEY_SCOPES[text]
    return Permission(text)


Period = tuple[int, datetime | None, datetime | None]  # (department id, since, until): UTC, either end open


@dataclass(frozen=True)
class DepartmentScope:
    """The departments a region's data covers (a county 信用办's console, a county's portal).

    `always`: departments whose whole history was made inside the region. `periods`: departments that moved
    between regions; what they made counts for the region it was made in, by its time of creation. Where an
    object has no time of its own, a moved department's objects count where the department is now."""

    always: frozenset[int] = frozenset()
    periods: tuple[Period, ...] = ()

    @property
    def current(self) -> frozenset[int]:
        """The departments in the region today."""
        return self.always | {d for d, _since, until in self.periods if until is None}

    def covers(self, department_id: int | None, at: datetime | None = None) -> bool:
        if department_id is None:
            return False
        if department_id in self.always:
            return True
        if at is None:
            return department_id in self.current
        return any(d == department_id and (since is None or at >= since) and (until is None or at < until)
                   for d, since, until in self.periods)  # fmt: skip

    def clause(self, department: Any, created: Any = None) -> ColumnElement[bool]:
        """The SQL condition "made inside the region" on a table's department column (and time of creation)."""
        if created is None:
            ids = self.current
            return department.in_(sorted(ids)) if ids else false()
        parts: list[ColumnElement[bool]] = [department.in_(sorted(self.always))] if self.always else []
        for department_id, since, until in self.periods:
            bounds = [department == department_id]
            if since is not None:
                bounds.append(created >= since)
            if until is not None:
                bounds.append(created < until)
            parts.append(and_(*bounds))
        return or_(*parts) if parts else false()


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
    # The region (GB/T 2260 code) a regional account acts for, and the departments it covers; None: the whole
    # platform. A department-bound actor's scope is its department, whatever its region.
    region: str | None = None
    scope: DepartmentScope | None = None

    @classmethod
    def system(cls, label: str = "cli") -> Actor:
        return cls(label=label, kind="system", permissions=frozenset(Permission))

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def can_reach(self, department_id: int | None, at: datetime | None = None) -> bool:
        """Data scope: bound actors reach only their own department's data; regional actors the data made in
        their region (`at`: when the object was made, for departments that moved between regions)."""
        if self.is_department_bound:
            return department_id is not None and department_id == self.department_id
        if self.scope is None:
            return True
        return self.scope.covers(department_id, at)

    @property
    def is_scoped(self) -> bool:
        """Whether this actor sees only part of the platform's departments (bound or regional)."""
        return self.is_department_bound or self.scope is not None

    def reach(self, department: Any, created: Any = None) -> ColumnElement[bool] | None:
        """The SQL condition of this actor's data scope on a department column (None: no condition): add it to
        every console query that lists or counts other departments' data."""
        if self.is_department_bound:
            return department == self.department_id  # type: ignore[no-any-return]
        if self.scope is None:
            return None
        return self.scope.clause(department, created)
