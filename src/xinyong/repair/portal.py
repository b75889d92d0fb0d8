"""Portal pages of credit repair and objections: notice (两书同达), apply, track, progress lookup."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from xinyong.accounts import service as accounts_service
from xinyong.accounts import web as w
from xinyong.accounts.models import SubjectAccount
from xinyong.departments.models import Department
from xinyong.disclosure import service as disclosure
from xinyong.errors import DomainError, NotFound
from xinyong.notify import service as notify
from xinyong.objections import service as objections_service
from xinyong.objections.models import GROUNDS, Objection
from xinyong.portal import refs
from xinyong.portal.web import Today, limit
from xinyong.records.models import Record
from xinyong.repair import progress, rules, uploads
from xinyong.repair import service as repair_service
from xinyong.repair.models import RepairApplication, RepairStatus
from xinyong.web.deps import MULTIPART_OVERHEAD, AppProtector, AppSettings, DbSession

router = APIRouter(include_in_schema=False)


def _account(request: Request, session: DbSession) -> SubjectAccount | None:
    row = w.subject_session(request, session)
    return row.account if row is not None else None


def _record(session: DbSession, ref: str, protector: AppProtector) -> Record:
    record_id = refs.parse_record_ref(ref, protector)
    record = session.get(Record, record_id) if record_id else None
    if record is None:
        raise NotFound(what="该信用记录")
    return record


def _upload_limit(settings: AppSettings) -> int:
    return settings.evidence_max_bytes * settings.evidence_max_files + MULTIPART_OVERHEAD


# ------------------------------------------------------------------------------------- the notice


@router.get("/repair/notice/{ref}", name="repair.notice", dependencies=[Depends(limit)])
def notice(request: Request, ref: str, session: DbSession, settings: AppSettings, protector: AppProtector,
           today: Today) -> Response:  # fmt: skip
    """信用修复告知书, computed from the record (its tier and the configured periods), printable. Shown for
    published records, and to the signed-in subject for its own records."""
    record = _record(session, ref, protector)
    account = _account(request, session)
    is_own = accounts_service.acts_for(account, record.subject_id)  # an unproven claim sees what the public sees
    if not is_own:
        disclosure.get_published_record(session, settings=settings, record_id=record.id, today=today)
    if record.tier is None:
        raise NotFound(what="该记录的信用修复告知书（非失信信息）")
    verdict = repair_service.eligibility_of(session, record, settings=settings, today=today)
    earliest = rules.eligibility(repair_service.load_policy(settings), record_type=record.record_type,
                                 tier=record.tier, decision_date=record.decision_date, publish_until=None,
                                 categories=repair_service.record_categories(record, settings), is_active=True,
                                 today=record.decision_date)  # fmt: skip
    return w.page(request, "repair/notice.html", {
        "record": record, "ref": ref, "verdict": verdict, "earliest": earliest,
        "department": session.get(Department, record.department_id), "policy": repair_service.load_policy(settings),
        "is_own": is_own,
    })  # fmt: skip


# ----------------------------------------------------------------------------------------- apply


@router.get("/repair/apply/{ref}", name="repair.apply")
def apply_form(request: Request, ref: str, session: DbSession, settings: AppSettings, protector: AppProtector,
               today: Today) -> Response:  # fmt: skip
    account = _account(request, session)
    if account is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    record = repair_service.own_record(session, account, refs.parse_record_ref(ref, protector) or 0)
    verdict = repair_service.eligibility_of(session, record, settings=settings, today=today)
    department = session.get(Department, record.department_id)
    assert department is not None
    commitment = rules.commitment_text(subject_name=record.subject_name, doc_no=record.doc_no,
                                       department=department.name, signed_on=today)  # fmt: skip
    return w.page(request, "repair/apply.html", {"record": record, "ref": ref, "verdict": verdict, "form": {},
                                                 "commitment": commitment, "settings": settings})  # fmt: skip


def _application_input(form: Any) -> repair_service.ApplicationInput:
    return repair_service.ApplicationInput(
        contact_name=w.text(form, "contact_name", 100), contact_phone=w.text(form, "contact_phone", 40),
        contact_email=w.text(form, "contact_email", 300), statement=w.text(form, "statement", 4000),
        signer_name=w.text(form, "signer_name", 100), agrees=w.text(form, "agree", 5) == "1",
    )  # fmt: skip


def _submitted(request: Request, session: Any, number: str) -> Response:
    """Commit, then notify (never before the commit), then show where to follow the application."""
    session.commit()
    notify.deliver_after_commit(session, request.app.state)
    return w.see_other(request, f"/repair/applications/{number}",
                       f"申请已提交，申请编号 {number}，请妥善保存以便查询进度")  # fmt: skip


@router.post("/repair/apply/{ref}", name="repair.apply.submit")
async def apply(request: Request, ref: str, session: DbSession, settings: AppSettings, protector: AppProtector,
                today: Today) -> Response:  # fmt: skip
    account = _account(request, session)
    form = await w.read_form(request, max_bytes=_upload_limit(settings), max_files=settings.evidence_max_files + 1)
    w.check_csrf(request, form)
    if account is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    data = _application_input(form)
    try:
        incoming = await w.files(form, "evidence", max_bytes=settings.evidence_max_bytes,
                                 max_files=settings.evidence_max_files)  # fmt: skip
        application = repair_service.submit_application(
            session, account=account, record_id=refs.parse_record_ref(ref, protector) or 0, data=data,
            files=incoming, settings=settings, today=today, client=w.client_of(request),
        )  # fmt: skip
    except DomainError as exc:
        session.rollback()
        if isinstance(exc, NotFound):
            raise
        record = repair_service.own_record(session, account, refs.parse_record_ref(ref, protector) or 0)
        department = session.get(Department, record.department_id)
        assert department is not None
        commitment = rules.commitment_text(subject_name=record.subject_name, doc_no=record.doc_no,
                                           department=department.name, signed_on=today)  # fmt: skip
        return w.page(request, "repair/apply.html", {
            "record": record, "ref": ref, "error": exc.message, "form": data.__dict__, "commitment": commitment,
            "verdict": repair_service.eligibility_of(session, record, settings=settings, today=today),
            "settings": settings}, status_code=exc.status_code)  # fmt: skip
    return _submitted(request, session, application.number)


# --------------------------------------------------------------------------- apply: list entry (移出)


def _list_form(request: Request, session: DbSession, settings: AppSettings, account: SubjectAccount, entry_id: int,
               today: Today, *, form: dict | None = None, error: str | None = None, status_code: int = 200  # type: ignore[type-arg]
               ) -> Response:  # fmt: skip
    entry = repair_service.own_list_entry(session, account, entry_id)
    return w.page(request, "repair/apply.html", {
        "entry": entry, "list_type": repair_service.list_type_of(session, entry), "form": form or {}, "error": error,
        "verdict": repair_service.list_eligibility_of(session, entry, settings=settings, today=today),
        "commitment": repair_service.list_commitment(session, entry, today), "settings": settings,
        "action": f"/repair/apply-list/{entry.id}",
    }, status_code=status_code)  # fmt: skip


@router.get("/repair/apply-list/{entry_id}", name="repair.apply_list")
def apply_list_form(request: Request, entry_id: int, session: DbSession, settings: AppSettings, today: Today
                    ) -> Response:  # fmt: skip
    account = _account(request, session)
    if account is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    return _list_form(request, session, settings, account, entry_id, today)


@router.post("/repair/apply-list/{entry_id}", name="repair.apply_list.submit")
async def apply_list(request: Request, entry_id: int, session: DbSession, settings: AppSettings, today: Today
                     ) -> Response:  # fmt: skip
    account = _account(request, session)
    form = await w.read_form(request, max_bytes=_upload_limit(settings), max_files=settings.evidence_max_files + 1)
    w.check_csrf(request, form)
    if account is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    data = _application_input(form)
    try:
        incoming = await w.files(form, "evidence", max_bytes=settings.evidence_max_bytes,
                                 max_files=settings.evidence_max_files)  # fmt: skip
        application = repair_service.submit_list_application(
            session, account=account, entry_id=entry_id, data=data, files=incoming, settings=settings, today=today,
            client=w.client_of(request),
        )  # fmt: skip
    except DomainError as exc:
        session.rollback()
        if isinstance(exc, NotFound):
            raise
        return _list_form(request, session, settings, account, entry_id, today, form=data.__dict__,
                          error=exc.message, status_code=exc.status_code)  # fmt: skip
    return _submitted(request, session, application.number)


# ------------------------------------------------------------------------------------- applications


@router.get("/repair/applications/{number}", name="repair.application")
def application_page(request: Request, number: str, session: DbSession, settings: AppSettings,
                     protector: AppProtector) -> Response:  # fmt: skip
    account = _account(request, session)
    if account is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    application = repair_service.get_for_account(session, account, number)
    return w.page(request, "repair/application.html", _application_context(session, application, settings))


def _application_context(session: DbSession, application: RepairApplication, settings: AppSettings) -> dict:  # type: ignore[type-arg]
    entry = repair_service.entry_of(session, application)
    return {
        "a": application, "record": session.get(Record, application.record_id) if application.record_id else None,
        "entry": entry, "list_type": repair_service.list_type_of(session, entry) if entry else None,
        "events": repair_service.events(session, application), "labels": rules.ACTION_LABELS,
        "status_labels": {s.value: s.label for s in RepairStatus},
        "evidence": uploads.list_for(session, f"repair:{application.id}"),
        "commitment": repair_service.commitment_of(session, application), "settings": settings,
    }


@router.post("/repair/applications/{number}/resubmit", name="repair.application.resubmit")
async def resubmit(request: Request, number: str, session: DbSession, settings: AppSettings, today: Today) -> Response:
    account = _account(request, session)
    form = await w.read_form(request, max_bytes=_upload_limit(settings), max_files=settings.evidence_max_files + 1)
    w.check_csrf(request, form)
    if account is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    target = f"/repair/applications/{repair_service.get_for_account(session, account, number).number}"
    try:
        incoming = await w.files(form, "evidence", max_bytes=settings.evidence_max_bytes,
                                 max_files=settings.evidence_max_files)  # fmt: skip
        repair_service.resubmit_application(session, account=account, number=number,
                                            statement=w.text(form, "statement", 4000), files=incoming,
                                            settings=settings, today=today)  # fmt: skip
    except DomainError as exc:
        session.rollback()
        return w.see_other(request, target, exc.message, "error")
    session.commit()
    return w.see_other(request, target, "已补正并重新提交")


@router.post("/repair/applications/{number}/withdraw", name="repair.application.withdraw")
async def withdraw(request: Request, number: str, session: DbSession, today: Today) -> Response:
    account = _account(request, session)
    form = await w.read_form(request)
    w.check_csrf(request, form)
    if account is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    target = f"/repair/applications/{repair_service.get_for_account(session, account, number).number}"
    try:
        repair_service.withdraw_application(session, account=account, number=number, today=today)
    except DomainError as exc:
        session.rollback()
        return w.see_other(request, target, exc.message, "error")
    session.commit()
    return w.see_other(request, target, "申请已撤回")


# ---------------------------------------------------------------------------------------- progress


@router.get("/repair/progress", name="repair.progress")
def progress_form(request: Request, session: DbSession) -> Response:
    w.subject_session(request, session)
    return w.page(request, "repair/progress.html", {})


@router.post("/repair/progress", name="repair.progress.submit", dependencies=[Depends(limit)])
async def progress_lookup(request: Request, session: DbSession, protector: AppProtector) -> Response:
    """A POST, so that a code that may be an ID number never appears in a URL or an access log."""
    w.subject_session(request, session)
    form = await w.read_form(request)
    w.check_csrf(request, form)
    number = w.text(form, "number", 30)
    try:
        found = progress.lookup(session, number=number, code=w.text(form, "code", 40), protector=protector)
    except DomainError as exc:
        return w.page(request, "repair/progress.html", {"error": exc.message, "number": number[:24]},
                      status_code=exc.status_code)  # fmt: skip
    context: dict = {"number": number[:24], "found": found, "is_objection": isinstance(found, Objection)}  # type: ignore[type-arg]
    if isinstance(found, RepairApplication):
        context["events"] = repair_service.events(session, found)
        context["labels"] = rules.ACTION_LABELS
        context["status_labels"] = {s.value: s.label for s in RepairStatus}
    return w.page(request, "repair/progress.html", context)


# -------------------------------------------------------------------------------------- objections


@router.get("/objections/file/{ref}", name="objections.file")
def objection_form(request: Request, ref: str, session: DbSession, protector: AppProtector) -> Response:
    account = _account(request, session)
    if account is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    record = repair_service.own_record(session, account, refs.parse_record_ref(ref, protector) or 0)
    return w.page(request, "objections/file.html", {"record": record, "ref": ref, "grounds": GROUNDS, "form": {}})


@router.post("/objections/file/{ref}", name="objections.file.submit")
async def objection_file(request: Request, ref: str, session: DbSession, settings: AppSettings,
                         protector: AppProtector, today: Today) -> Response:  # fmt: skip
    account = _account(request, session)
    form = await w.read_form(request, max_bytes=_upload_limit(settings), max_files=settings.evidence_max_files + 1)
    w.check_csrf(request, form)
    if account is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    data = objections_service.ObjectionInput(
        ground=w.text(form, "ground", 30), reason=w.text(form, "reason", 4000),
        contact_name=w.text(form, "contact_name", 100), contact_phone=w.text(form, "contact_phone", 40),
    )  # fmt: skip
    record_id = refs.parse_record_ref(ref, protector) or 0
    try:
        incoming = await w.files(form, "evidence", max_bytes=settings.evidence_max_bytes,
                                 max_files=settings.evidence_max_files)  # fmt: skip
        objection = objections_service.file_objection(session, account=account, record_id=record_id, data=data,
                                                      files=incoming, settings=settings, today=today)  # fmt: skip
    except DomainError as exc:
        session.rollback()
        if isinstance(exc, NotFound):
            raise
        record = repair_service.own_record(session, account, record_id)
        return w.page(request, "objections/file.html", {"record": record, "ref": ref, "grounds": GROUNDS,
                                                        "form": data.__dict__, "error": exc.message},
                      status_code=exc.status_code)  # fmt: skip
    session.commit()
    notify.deliver_after_commit(session, request.app.state)
    return w.see_other(request, f"/objections/{objection.number}", f"异议已提交，编号 {objection.number}")


@router.get("/objections/{number}", name="objections.detail")
def objection_page(request: Request, number: str, session: DbSession) -> Response:
    account = _account(request, session)
    if account is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    objection = objections_service.get_for_account(session, account, number)
    return w.page(request, "objections/detail.html", {
        "o": objection, "record": session.get(Record, objection.record_id), "grounds": GROUNDS,
        "evidence": uploads.list_for(session, f"objection:{objection.id}"),
        "changes": objections_service.corrections(session, objection),
    })  # fmt: skip


@router.post("/objections/{number}/withdraw", name="objections.withdraw")
async def objection_withdraw(request: Request, number: str, session: DbSession) -> Response:
    account = _account(request, session)
    form = await w.read_form(request)
    w.check_csrf(request, form)
    if account is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    target = f"/objections/{objections_service.get_for_account(session, account, number).number}"
    try:
        objections_service.withdraw_objection(session, account=account, number=number)
    except DomainError as exc:
        session.rollback()
        return w.see_other(request, target, exc.message, "error")
    session.commit()
    return w.see_other(request, target, "异议已撤回")
