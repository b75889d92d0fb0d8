"""Every route, called by every role and anonymously, against an explicit allow/deny table.

A route that is not in the table fails the suite: whoever adds a route decides who may call it."""
# The region dimension (a county's accounts reach only their county's objects): tests/functional/regions/test_console_scope.py

from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts
from sqlalchemy import select
from tests.factories.records import ON_TIME, penalty_row
from tests.fixtures.console import PASSWORD

from xinyong.departments import service as departments_service
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.web.csrf import FORM_COOKIE as LOGIN_CSRF_COOKIE
from xinyong.web.deps import SESSION_COOKIE

ROLES = ("platform_admin", "operator", "reviewer", "auditor", "integrity_keeper")
EVERYONE = frozenset({"anonymous", *ROLES})
SIGNED_IN = frozenset(ROLES)
# The console's staff: every role but the keeper of civil servants' files, whose role opens only those files,
# the integrity board and the account's own pages.
STAFF = SIGNED_IN - {"integrity_keeper"}
NOBODY = frozenset()  # API-key routes: no console session opens them
ADMIN = frozenset({"platform_admin"})
ADMIN_AUDITOR = frozenset({"platform_admin", "auditor"})
WRITERS = frozenset({"platform_admin", "operator"})
REVEALERS = frozenset({"platform_admin", "reviewer"})
REPAIR_READERS = frozenset({"platform_admin", "reviewer", "auditor"})  # admin:repairs:read, admin:objections:read
# Repair has two steps taken by two bodies: the platform's (admin:repairs:accept, the 信用办) and the owning
# department's (admin:repairs:decide, its reviewer); a refusal is either's, by the application's state.
REPAIR_ACCEPTERS = frozenset({"platform_admin"})
DEPARTMENT_DECIDERS = frozenset({"reviewer"})  # admin:repairs:decide, admin:objections:decide
REPAIR_STAFF = REPAIR_ACCEPTERS | DEPARTMENT_DECIDERS
DECIDERS = frozenset({"platform_admin", "reviewer"})  # admin:lists:decide
CHECKERS = frozenset({"platform_admin", "operator", "reviewer"})  # admin:checks:write
KEEPER = frozenset({"integrity_keeper"})  # admin:civil-servants:*: not even the platform administrator

MATRIX: dict[tuple[str, str], frozenset[str]] = {
    # documentation, health, static files
    ("GET", "/api/openapi.json"): EVERYONE,
    ("GET", "/api/docs"): EVERYONE,
    ("GET", "/api/docs/assets"): EVERYONE,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("GET", "/metrics"): NOBODY,  # the monitoring networks or a token, never a session (tests/functional/operations)
    ("GET", "/static"): EVERYONE,
    # department systems: an API key, never a console session
    ("POST", "/api/v1/records/{record_type}/batch"): NOBODY,
    ("GET", "/api/v1/batches/{batch_id}"): NOBODY,
    ("GET", "/api/v1/batches/{batch_id}/problems.csv"): NOBODY,
    ("POST", "/api/v1/records/{record_type}/revoke"): NOBODY,
    # the public portal and its API
    ("GET", "/api/v1/subjects"): EVERYONE,
    ("GET", "/api/v1/subjects/{code}"): EVERYONE,
    ("GET", "/api/v1/subjects/{code}/records"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("GET", "/search"): EVERYONE,
    ("GET", "/subjects/{ref}"): EVERYONE,
    ("GET", "/records/{ref}"): EVERYONE,
    ("GET", "/disclosure/{record_type}"): EVERYONE,
    ("GET", "/repair"): EVERYONE,
    ("GET", "/lists"): EVERYONE,
    # console: account
    ("GET", "/admin/login"): EVERYONE,
    ("POST", "/admin/login"): EVERYONE,
    ("POST", "/admin/logout"): SIGNED_IN,
    ("GET", "/admin/account/password"): SIGNED_IN,
    ("POST", "/admin/account/password"): SIGNED_IN,
    # console: a department's work
    ("GET", "/admin"): STAFF,
    ("GET", "/admin/batches"): STAFF,
    ("GET", "/admin/batches/{batch_id}"): STAFF,
    ("GET", "/admin/batches/{batch_id}/problems.csv"): STAFF,
    ("GET", "/admin/upload"): WRITERS,
    ("POST", "/admin/upload"): WRITERS,
    ("GET", "/admin/records"): STAFF,
    ("POST", "/admin/records/{record_id}/revoke"): WRITERS,
    ("GET", "/admin/subjects"): STAFF,
    ("GET", "/admin/subjects/{subject_id}"): STAFF,
    ("POST", "/admin/subjects/{subject_id}/reveal"): REVEALERS,
    # console: platform administration and audit
    ("GET", "/admin/departments"): ADMIN_AUDITOR,
    ("POST", "/admin/departments"): ADMIN,
    ("POST", "/admin/departments/{department_id}/active"): ADMIN,
    ("GET", "/admin/regions"): ADMIN_AUDITOR,  # a county's 信用办 and auditor: their subtree, read-only
    ("POST", "/admin/regions"): ADMIN,  # and regions.service.ensure_manages: the city's 信用办 only
    ("POST", "/admin/regions/move"): ADMIN,
    ("POST", "/admin/regions/{code}"): ADMIN,
    ("GET", "/admin/users"): ADMIN_AUDITOR,
    ("POST", "/admin/users"): ADMIN,
    ("POST", "/admin/users/{user_id}"): ADMIN,
    ("POST", "/admin/users/{user_id}/reset-password"): ADMIN,
    ("GET", "/admin/keys"): ADMIN,
    ("POST", "/admin/keys"): ADMIN,
    ("POST", "/admin/keys/{prefix}/revoke"): ADMIN,
    ("GET", "/admin/audit"): ADMIN_AUDITOR,
    ("GET", "/admin/audit/export.csv"): ADMIN_AUDITOR,
    # credit lists, the measure list and credit checks (issue 5). The check API also takes a signed-in user
    # with the session's X-CSRF-Token; without it (as here) a session is refused, hence NOBODY for writes.
    ("POST", "/api/v1/checks"): NOBODY,
    ("POST", "/api/v1/checks/batch"): NOBODY,
    ("POST", "/api/v1/checks/batch/file"): NOBODY,
    ("GET", "/api/v1/checks/stats"): STAFF,
    ("GET", "/api/v1/checks/{number}"): STAFF,
    ("POST", "/api/v1/checks/{number}/feedback"): NOBODY,
    ("POST", "/api/v1/lists/{type_key}/entries"): NOBODY,
    ("GET", "/api/v1/lists/imports/{import_id}/problems.csv"): NOBODY,
    ("GET", "/lists/public"): EVERYONE,
    ("GET", "/lists/public/{type_key}"): EVERYONE,
    ("GET", "/admin/lists"): STAFF,
    ("GET", "/admin/lists/types"): STAFF,
    ("POST", "/admin/lists"): WRITERS,
    ("GET", "/admin/lists/{entry_id}"): STAFF,
    ("POST", "/admin/lists/{entry_id}/notify"): WRITERS,
    ("POST", "/admin/lists/{entry_id}/objection"): WRITERS,
    ("POST", "/admin/lists/{entry_id}/publish"): WRITERS,
    ("POST", "/admin/lists/{entry_id}/decide"): DECIDERS,
    ("POST", "/admin/lists/{entry_id}/withdraw"): DECIDERS,
    ("POST", "/admin/lists/{entry_id}/remove"): DECIDERS,
    ("GET", "/admin/list-imports"): STAFF,
    ("POST", "/admin/list-imports"): WRITERS,
    ("GET", "/admin/list-imports/{import_id}"): STAFF,
    ("GET", "/admin/list-imports/{import_id}/problems.csv"): STAFF,
    ("GET", "/admin/checks"): STAFF,
    ("POST", "/admin/checks"): CHECKERS,
    ("GET", "/admin/checks/stats"): STAFF,
    ("POST", "/admin/checks/batch"): CHECKERS,
    ("GET", "/admin/checks/{number}"): STAFF,
    ("GET", "/admin/checks/{number}/print"): STAFF,
    ("POST", "/admin/checks/{number}/feedback"): CHECKERS,
    ("GET", "/admin/measures"): STAFF,
    ("POST", "/admin/measures"): ADMIN,
    ("GET", "/admin/measures/{code}"): STAFF,
    ("POST", "/admin/measures/{code}"): ADMIN,
    ("POST", "/admin/measures/{code}/retire"): ADMIN,
    # credit repair, objections, subject accounts (issue 6). A subject's own pages need a subject's sign-in,
    # which no console session is (they redirect to the subject sign-in); portal forms need the portal's own
    # form token, which no console session carries (subject access: tests/functional/repair, accounts).
    ("GET", "/account"): NOBODY,
    ("GET", "/account/signup"): EVERYONE,
    ("POST", "/account/signup"): NOBODY,
    ("GET", "/account/verify"): EVERYONE,
    ("POST", "/account/verify"): NOBODY,
    ("GET", "/account/login"): EVERYONE,
    ("POST", "/account/login"): NOBODY,
    ("POST", "/account/logout"): NOBODY,
    ("GET", "/repair/notice/{ref}"): EVERYONE,
    ("GET", "/repair/apply/{ref}"): NOBODY,
    ("POST", "/repair/apply/{ref}"): NOBODY,
    ("GET", "/repair/apply-list/{entry_id}"): NOBODY,
    ("POST", "/repair/apply-list/{entry_id}"): NOBODY,
    ("GET", "/repair/applications/{number}"): NOBODY,
    ("POST", "/repair/applications/{number}/resubmit"): NOBODY,
    ("POST", "/repair/applications/{number}/withdraw"): NOBODY,
    ("GET", "/repair/progress"): EVERYONE,
    ("POST", "/repair/progress"): NOBODY,
    ("GET", "/objections/file/{ref}"): NOBODY,
    ("POST", "/objections/file/{ref}"): NOBODY,
    ("GET", "/objections/{number}"): NOBODY,
    ("POST", "/objections/{number}/withdraw"): NOBODY,
    ("GET", "/account/identity"): NOBODY,
    ("POST", "/account/identity/activation"): NOBODY,
    ("POST", "/account/identity/oidc"): NOBODY,
    ("GET", "/account/identity/oidc/callback"): NOBODY,
    ("POST", "/account/claims/{claim_id}/dispute"): NOBODY,
    ("GET", "/admin/repairs"): REPAIR_READERS,
    ("GET", "/admin/repairs/{application_id}"): REPAIR_READERS,
    ("GET", "/admin/repairs/{application_id}/evidence/{evidence_id}"): REPAIR_READERS,
    ("POST", "/admin/repairs/{application_id}/accept"): REPAIR_ACCEPTERS,
    ("POST", "/admin/repairs/{application_id}/return"): REPAIR_ACCEPTERS,
    ("POST", "/admin/repairs/{application_id}/approve"): DEPARTMENT_DECIDERS,
    ("POST", "/admin/repairs/{application_id}/refuse"): REPAIR_STAFF,
    ("POST", "/admin/repairs/{application_id}/restore"): ADMIN,  # admin:commitments:decide (违诺)
    ("GET", "/admin/objections"): REPAIR_READERS,
    ("GET", "/admin/objections/{objection_id}"): REPAIR_READERS,
    ("GET", "/admin/objections/{objection_id}/evidence/{evidence_id}"): REPAIR_READERS,
    ("POST", "/admin/objections/{objection_id}/decide"): DEPARTMENT_DECIDERS,
    # evaluation and random inspections (issue 14): every console role reads; operators keep plans, the roster and
    # results (admin:inspections:write), reviewers draw and publish (admin:inspections:decide).
    ("GET", "/account/evaluation"): NOBODY,
    ("GET", "/inspections"): EVERYONE,
    ("GET", "/inspections/{number}"): EVERYONE,
    ("GET", "/admin/evaluation"): STAFF,
    ("GET", "/admin/evaluation/runs/{run_id}"): STAFF,
    ("GET", "/admin/evaluation/subjects/{subject_id}"): STAFF,
    ("GET", "/admin/inspections"): STAFF,
    ("POST", "/admin/inspections"): WRITERS,
    ("GET", "/admin/inspections/{plan_id}"): STAFF,
    ("POST", "/admin/inspections/{plan_id}/draw"): DECIDERS,
    ("POST", "/admin/inspections/{plan_id}/publish"): DECIDERS,
    ("POST", "/admin/inspections/{plan_id}/results"): WRITERS,
    ("GET", "/admin/inspectors"): STAFF,
    ("POST", "/admin/inspectors"): WRITERS,
    ("POST", "/admin/inspectors/{inspector_id}/exclusions"): WRITERS,
    # subject accounts (issue 11): reading and issuing activation codes, revocation by the 信用办
    ("GET", "/admin/subject-accounts"): REPAIR_READERS,  # admin:subject-accounts:read
    ("POST", "/admin/subject-accounts/find"): REPAIR_READERS,
    ("POST", "/admin/subject-accounts/activation-codes"): REVEALERS,  # admin:subject-accounts:activate
    ("POST", "/admin/subject-accounts/{account_id}/revoke-identity"): ADMIN,  # admin:subject-accounts:revoke
    ("POST", "/admin/subject-accounts/{account_id}/revoke"): ADMIN,
    # credit reports (issue 15): the public download and verification, a subject's own reports (a subject's
    # sign-in), a department's key, the console's registry and a report inside a credit check
    ("GET", "/reports/public/{ref}"): EVERYONE,
    ("GET", "/reports/verify"): EVERYONE,
    ("GET", "/reports/verify/{number}"): EVERYONE,
    ("GET", "/reports/certificate.pem"): EVERYONE,
    ("GET", "/account/reports"): NOBODY,
    ("POST", "/account/reports"): NOBODY,
    ("POST", "/api/v1/reports"): NOBODY,
    ("GET", "/api/v1/changes"): NOBODY,  # feed keys only
    ("GET", "/api/v1/extracts/{record_type}"): NOBODY,
    ("GET", "/admin/reports"): STAFF,  # admin:reports:read
    ("POST", "/admin/reports"): CHECKERS,  # admin:checks:write: a report is asked inside a credit check
    # monitoring, warnings, 重错码, government integrity (issue 17)
    ("GET", "/admin/monitoring"): STAFF,
    ("GET", "/admin/monitoring/report.{kind}"): STAFF,
    ("GET", "/admin/monitoring/{month}/departments/{department_id}/{kind}"): STAFF,
    ("POST", "/admin/monitoring/warnings"): ADMIN,
    ("GET", "/admin/monitoring/quality"): STAFF,
    ("POST", "/admin/monitoring/quality/scan"): ADMIN,
    ("GET", "/admin/monitoring/quality/{issue_id}"): STAFF,
    ("POST", "/admin/monitoring/quality/{issue_id}/{action}"): ADMIN,
    # the department catalogue (部门目录清单, issue 19)
    ("GET", "/admin/intake/duties"): STAFF,
    ("POST", "/admin/intake/duties"): ADMIN,
    ("POST", "/admin/intake/duties/{duty_id}/delete"): ADMIN,
    ("GET", "/admin/alerts"): STAFF,
    ("POST", "/admin/alerts/{alert_id}/acknowledge"): CHECKERS,  # admin:alerts:acknowledge
    ("POST", "/admin/alerts/{alert_id}/resolve"): ADMIN,
    ("GET", "/admin/inbox"): SIGNED_IN,
    ("GET", "/admin/integrity"): SIGNED_IN,
    ("POST", "/admin/integrity/cases"): ADMIN,
    ("POST", "/admin/integrity/cases/{case_id}"): ADMIN,
    ("POST", "/admin/integrity/cases/{case_id}/clear"): ADMIN,
    ("POST", "/admin/integrity/sync"): ADMIN,
    ("POST", "/admin/integrity/notices"): ADMIN,
    ("POST", "/admin/integrity/notices/{notice_id}/close"): ADMIN,
    # credit commitments (issue 13): the accepting department records fulfilment and verification findings
    ("GET", "/admin/commitments"): STAFF,
    ("GET", "/admin/commitments/dashboard"): STAFF,
    ("GET", "/admin/commitments/verifications"): STAFF,
    ("POST", "/admin/commitments/verifications/{task_id}"): CHECKERS - ADMIN,
    ("GET", "/admin/commitments/{record_id}"): STAFF,
    ("POST", "/admin/commitments/{record_id}/fulfilment"): CHECKERS - ADMIN,
    ("GET", "/commitments/templates"): EVERYONE,
    ("GET", "/account/commitments"): NOBODY,
    ("GET", "/account/commitments/new/{key}"): NOBODY,
    ("POST", "/account/commitments/new/{key}"): NOBODY,
    ("GET", "/account/commitments/{online_id}"): NOBODY,
    ("GET", "/admin/exchange"): ADMIN_AUDITOR,
    ("GET", "/admin/civil-servants"): KEEPER,
    ("POST", "/admin/civil-servants"): KEEPER,
    ("POST", "/admin/civil-servants/search"): KEEPER,
    ("POST", "/admin/civil-servants/{record_id}/view"): KEEPER,
    # incentives (issue 16): 信易贷 and 信易+ on the console (信用办), the institutions' key API, the subjects' pages
    ("GET", "/admin/finance"): ADMIN,
    ("POST", "/admin/finance/institutions"): ADMIN,
    ("POST", "/admin/finance/institutions/{institution_id}/keys"): ADMIN,
    ("POST", "/admin/finance/institutions/{institution_id}/officers"): ADMIN,
    ("POST", "/admin/finance/whitelist"): ADMIN,
    # a bank's officers (role institution_officer, not one of the roles above): tests/functional/finance
    ("GET", "/admin/bank"): NOBODY,
    ("GET", "/admin/bank/subjects/{code}"): NOBODY,
    ("POST", "/admin/bank/demands/{demand_id}/take"): NOBODY,
    ("POST", "/admin/bank/demands/{demand_id}/outcome"): NOBODY,
    ("GET", "/admin/scenarios"): ADMIN,
    ("POST", "/admin/scenarios"): ADMIN,
    ("GET", "/api/v1/finance/subjects/{code}"): NOBODY,
    ("GET", "/api/v1/finance/demands"): NOBODY,
    ("POST", "/api/v1/finance/demands/{demand_id}/take"): NOBODY,
    ("POST", "/api/v1/finance/demands/{demand_id}/outcome"): NOBODY,
    ("GET", "/api/v1/finance/whitelist"): NOBODY,
    ("GET", "/api/v1/finance/whitelist.csv"): NOBODY,
    ("GET", "/api/v1/scenarios"): EVERYONE,
    ("POST", "/api/v1/scenarios/{key}/check"): NOBODY,
    ("GET", "/scenarios"): EVERYONE,
    ("GET", "/points/model"): EVERYONE,
    ("GET", "/account/finance"): NOBODY,
    ("POST", "/account/finance/consents"): NOBODY,
    ("POST", "/account/finance/consents/{consent_id}/revoke"): NOBODY,
    ("POST", "/account/finance/demands"): NOBODY,
    ("GET", "/account/points"): NOBODY,
    ("POST", "/account/points/opt-in"): NOBODY,
    ("POST", "/account/points/opt-out"): NOBODY,
}


def app_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found = set()
    for context in iter_route_contexts(app.routes):
        methods = context.methods or {"GET"}  # a mount (static files) answers GET
        for method in methods - {"HEAD", "OPTIONS"}:
            found.add((method, context.path))
    return found


def test_every_route_is_in_the_matrix(app):
    missing = sorted(app_routes(app) - set(MATRIX))
    assert not missing, f"routes without an entry in the permission matrix: {missing}"
    stale = sorted(set(MATRIX) - app_routes(app))
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"


def _expected_denial(method: str, template: str, who: str) -> tuple[int, str]:
    """(status, location prefix or text) a refused caller gets: the sign-in page of the surface for the
    anonymous, 403 with its reason for a signed-in user without the permission, 401 on the key API."""
    if template == "/metrics":
        return 403, "监控指标仅对配置的监控网段"
    if template.startswith("/admin"):
        if who == "anonymous":
            return 303, "/admin/login"
        return 403, "无权执行此操作"
    if template.startswith("/api/"):
        if who != "anonymous" and template.startswith("/api/v1/checks"):
            return 403, '"code"'  # a console session may call the check API, with its permission and CSRF token
        return 401, "not-authenticated"
    if method == "GET" or template.startswith(("/repair/apply", "/repair/applications", "/objections",
                                                "/account/identity", "/account/claims",
                                                "/account/reports", "/account/commitments", "/account/finance", "/account/points")):  # fmt: skip
        return 303, "/account/login"  # a subject's own pages: the subject sign-in
    return 403, "页面已过期"  # a portal form without the portal's form token


def _outcome(response, expected: tuple[int, str]) -> bool:  # type: ignore[no-untyped-def]
    """Whether the response is exactly the expected refusal."""
    status, mark = expected
    if response.status_code != status:
        return False
    if status == 303:
        return response.headers.get("location", "").startswith(mark)
    return mark in response.text


def _is_allowed(response, template: str) -> bool:  # type: ignore[no-untyped-def]
    """Let through: any answer but a refusal or a defect (unknown ids give 404, bad input 409/422)."""
    if response.status_code >= 500 or response.status_code in (401, 403):
        return False
    if template == "/admin/logout":  # a real logout clears the cookie
        return any(c.startswith(f'{SESSION_COOKIE}=""') for c in response.headers.get_list("set-cookie"))
    location = response.headers.get("location", "")
    return not (response.status_code == 303 and location.startswith(("/admin/login", "/account/login"))
                and template not in ("/admin/login", "/account/logout"))  # fmt: skip


def test_every_route_allows_and_denies_as_the_matrix_says(app, client, accounts, sign_in, db_session, settings,
                                                          protector):  # fmt: skip
    result = records_service.import_rows(db_session, [penalty_row()], settings=settings, protector=protector,
                                         record_type="penalty", department=accounts.dept_a, actor="test",
                                         today=ON_TIME)  # fmt: skip
    record = db_session.scalars(select(Record).where(Record.department_id == accounts.dept_a.id)).first()
    key, _ = departments_service.issue_api_key(db_session, department=accounts.dept_a, name="系统")
    db_session.commit()
    values = {"batch_id": result.batch_id, "record_id": record.id, "subject_id": record.subject_id,
              "record_type": "penalty", "department_id": accounts.dept_b.id,
              "user_id": accounts.users["operator_b"].id, "prefix": key.prefix, "code": "91330521MA00000000",
              "ref": "unknown", "entry_id": 999999, "import_id": 999999, "number": "HC20251020ZZZZZZZZ",
              "type_key": "unknown", "application_id": 999999, "evidence_id": 999999,
              "objection_id": 999999, "account_id": 999999, "claim_id": 999999, "run_id": 999999,
              "plan_id": 999999, "inspector_id": 999999, "kind": "xlsx", "month": "2025-10",
              "issue_id": 999999, "action": "merge", "alert_id": 999999, "case_id": 999999, "notice_id": 999999,
              "duty_id": 999999, "task_id": 999999, "key": "unknown", "online_id": 999999, "institution_id": 999999, "demand_id": 999999, "consent_id": 999999}  # fmt: skip
    forms = {"/admin/records/{record_id}/revoke": {"reason": "矩阵测试撤销"},
             "/admin/subjects/{subject_id}/reveal": {"reason": "矩阵测试查看"},
             "/admin/users/{user_id}": {}, "/admin/login": {"username": "auditor", "password": PASSWORD}, "/admin/departments/{department_id}/active": {"active": "1"}}  # fmt: skip

    mismatches = []
    for (method, template), allowed in sorted(MATRIX.items()):
        path = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)
        if template == "/static":
            path = "/static/admin/console.css"
        if template == "/api/docs/assets":
            path = "/api/docs/assets/swagger-ui.css"
        for who in ("anonymous", *ROLES):
            client.cookies.clear()
            csrf = ""
            if who != "anonymous":
                browser = sign_in(accounts.users[who])
                csrf = browser.csrf
            if template == "/admin/login" and method == "POST":
                csrf = "login-form-token-of-this-browser"
                client.cookies.set(LOGIN_CSRF_COOKIE, csrf)
            if method == "GET":
                response = client.get(path)
            elif template.startswith("/api/"):
                response = client.post(path, json={"rows": [], "doc_no": "x", "reason": "x"})
            else:
                response = client.post(path, data={"csrf_token": csrf, **forms.get(template, {})})
            if who in allowed:
                ok = _is_allowed(response, template)
                expected = "allowed"
            else:
                denial = _expected_denial(method, template, who)
                ok = _outcome(response, denial)
                expected = f"denied with {denial[0]} ({denial[1]})"
            if not ok:
                mismatches.append(f"{method} {template} as {who}: {response.status_code} "
                                  f"{response.headers.get('location', '')}, expected {expected}")  # fmt: skip
    assert not mismatches, "\n".join(mismatches)
