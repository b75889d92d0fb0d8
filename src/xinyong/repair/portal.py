"""Portal pages of credit repair: the notice (两书同达), the application, tracking, the progress look-up."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from xinyong.accounts import service as accounts_service
from xinyong.accounts.deps import OptionalAccount, SignedInAccount
from xinyong.accounts.models import SubjectAccount
from xinyong.departments.models import Department
from xinyong.disclosure import service as disclosure
from xinyong.errors import NotFound
from xinyong.evidence import service as evidence
from xinyong.evidence.forms import read_evidence_form
from xinyong.objections.models import Objection
from xinyong.records.models import Record
from xinyong.repair import progress, rules
from xinyong.repair import service as repair_service
from xinyong.repair.models import RepairApplication, RepairStatus
from xinyong.subjects import refs
from xinyong.web import forms
from xinyong.web.deps import AppProtector, AppSettings, Client, DbSession, Id, Today, UoW
from xinyong.web.errors import on_error_redirect, on_error_render, redirect
from xinyong.web.ratelimit import Limited
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(include_in_schema=False)


def _record(session: Session, ref: str, protector: AppProtector) -> Record:
    record_id = refs.parse_record_ref(ref, protector)
    record = session.get(Record, record_id) if record_id else None
    if record is None:
        raise NotFound(what="该信用记录")
    return record


# ------------------------------------------------------------------------------------- the notice


@router.get("/repair/notice/{ref}", name="repair.notice", dependencies=[Limited])
def notice(request: Request, ref: str, session: DbSession, settings: AppSettings, protector: AppProtector,
           today: Today, account: OptionalAccount) -> Response:  # fmt: skip
    """信用修复告知书, computed from the record (its tier and the configured periods), printable. Shown for
    published records, and to the signed-in subject for its own records."""
    record = _record(session, ref, protector)
    is_own = accounts_service.acts_for(account, record.subject_id)  # an unproven claim sees what the public sees
    if not is_own:
        disclosure.get_published_record(session, settings=settings, record_id=record.id, today=today)
    if not repair_service.is_negative(record, settings):
        raise NotFound(what="该记录的信用修复告知书（非失信信息）")
    policy = repair_service.load_policy(settings)
    verdict = repair_service.eligibility_of(session, record, settings=settings, today=today)
    earliest = rules.eligibility(policy, record_type=record.record_type,
                                 tier=record.tier, decision_date=record.decision_date, publish_until=None,
                                 categories=repair_service.record_categories(record, settings), is_active=True,
                                 today=record.decision_date)  # fmt: skip
    return render(request, "portal/repair/notice.html", {
        "record": record, "ref": ref, "verdict": verdict, "earliest": earliest,
        "type_name": repair_service.type_name(record, settings),
        "department": session.get(Department, record.department_id), "policy": policy,
        "is_own": is_own,
    })  # fmt: skip


# ----------------------------------------------------------------------------------------- apply


def _record_form(session: Session, settings: AppSettings, account: SubjectAccount, record_id: int, ref: str,
                 today: Today, form: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    record = accounts_service.own_record(session, account, record_id)
    department = session.get(Department, record.department_id)
    assert department is not None
    commitment = rules.commitment_text(subject_name=record.subject_name,
                                       type_name=repair_service.type_name(record, settings), doc_no=record.doc_no,
                                       department=department.name, signed_on=today)  # fmt: skip
    return {"record": record, "ref": ref, "form": form or {}, "commitment": commitment, "settings": settings,
            "verdict": repair_service.eligibility_of(session, record, settings=settings, today=today)}  # fmt: skip


@router.get("/repair/apply/{ref}", name="repair.apply")
def apply_form(request: Request, ref: str, session: DbSession, settings: AppSettings, protector: AppProtector,
               today: Today, account: SignedInAccount) -> Response:  # fmt: skip
    record_id = refs.parse_record_ref(ref, protector) or 0
    return render(request, "portal/repair/apply.html", _record_form(session, settings, account, record_id, ref, today))


def _application_input(form: FormData) -> repair_service.ApplicationInput:
    return repair_service.ApplicationInput(
        contact_name=forms.text(form, "contact_name", 100), contact_phone=forms.text(form, "contact_phone", 40),
        contact_email=forms.text(form, "contact_email", 300), statement=forms.text(form, "statement", 4000),
        signer_name=forms.text(form, "signer_name", 100), agrees=forms.text(form, "agree", 5) == "1",
    )  # fmt: skip


def _submitted(request: Request, number: str) -> Response:
    return redirect(request, f"/repair/applications/{number}",
                    flash_message=f"申请已提交，申请编号 {number}，请妥善保存以便查询进度")  # fmt: skip


@router.post("/repair/apply/{ref}", name="repair.apply.submit")
async def apply(request: Request, ref: str, uow: UoW, settings: AppSettings, protector: AppProtector,
                today: Today, client: Client, account: SignedInAccount) -> Response:  # fmt: skip
    session = uow.session
    form, incoming = await read_evidence_form(request, settings)
    record_id = refs.parse_record_ref(ref, protector) or 0
    data = _application_input(form)

    def work() -> RepairApplication:
        # The form again with the reason if refused; an unknown or foreign record is a plain 404.
        on_error_render(request, "portal/repair/apply.html",
                        _record_form(session, settings, account, record_id, ref, today, data.__dict__))  # fmt: skip
        return repair_service.submit_application(session, account=account, record_id=record_id, data=data,
                                                 files=incoming, settings=settings, today=today, client=client)  # fmt: skip

    application = await uow.run_as_writer(work)
    return _submitted(request, application.number)


# --------------------------------------------------------------------------- apply: list entry (移出)


def _list_form(session: Session, settings: AppSettings, account: SubjectAccount, entry_id: int, today: Today,
               form: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    entry = repair_service.own_list_entry(session, account, entry_id)
    return {
        "entry": entry, "list_type": repair_service.list_type_of(session, entry), "form": form or {},
        "verdict": repair_service.list_eligibility_of(session, entry, settings=settings, today=today),
        "commitment": repair_service.list_commitment(session, entry, today), "settings": settings,
        "action": f"/repair/apply-list/{entry.id}",
    }


@router.get("/repair/apply-list/{entry_id}", name="repair.apply_list")
def apply_list_form(request: Request, entry_id: Id, session: DbSession, settings: AppSettings, today: Today,
                    account: SignedInAccount) -> Response:  # fmt: skip
    return render(request, "portal/repair/apply.html", _list_form(session, settings, account, entry_id, today))


@router.post("/repair/apply-list/{entry_id}", name="repair.apply_list.submit")
async def apply_list(request: Request, entry_id: Id, uow: UoW, settings: AppSettings, today: Today,
                     client: Client, account: SignedInAccount) -> Response:  # fmt: skip
    session = uow.session
    form, incoming = await read_evidence_form(request, settings)
    data = _application_input(form)

    def work() -> RepairApplication:
        on_error_render(request, "portal/repair/apply.html",
                        _list_form(session, settings, account, entry_id, today, data.__dict__))  # fmt: skip
        return repair_service.submit_list_application(session, account=account, entry_id=entry_id, data=data,
                                                      files=incoming, settings=settings, today=today, client=client)  # fmt: skip

    application = await uow.run_as_writer(work)
    return _submitted(request, application.number)


# ------------------------------------------------------------------------------------- applications


@router.get("/repair/applications/{number}", name="repair.application")
def application_page(request: Request, number: str, session: DbSession, settings: AppSettings,
                     account: SignedInAccount) -> Response:  # fmt: skip
    application = repair_service.get_for_account(session, account, number)
    entry = repair_service.entry_of(session, application)
    return render(request, "portal/repair/application.html", {
        "a": application, "record": session.get(Record, application.record_id) if application.record_id else None,
        "entry": entry, "list_type": repair_service.list_type_of(session, entry) if entry else None,
        "events": repair_service.events(session, application), "labels": rules.ACTION_LABELS,
        "status_labels": {s.value: s.label for s in RepairStatus},
        "evidence": evidence.list_for(session, f"repair:{application.id}"),
        "commitment": repair_service.commitment_of(session, application), "settings": settings,
    })  # fmt: skip


@router.post("/repair/applications/{number}/resubmit", name="repair.application.resubmit")
async def resubmit(request: Request, number: str, uow: UoW, settings: AppSettings, today: Today,
                   account: SignedInAccount) -> Response:  # fmt: skip
    session = uow.session
    form, incoming = await read_evidence_form(request, settings)

    def work() -> str:
        target = f"/repair/applications/{repair_service.get_for_account(session, account, number).number}"
        on_error_redirect(request, target)
        repair_service.resubmit_application(session, account=account, number=number,
                                            statement=forms.text(form, "statement", 4000), files=incoming,
                                            settings=settings, today=today)  # fmt: skip
        return target

    return redirect(request, await uow.run_as_writer(work), flash_message="已补正并重新提交")


@router.post("/repair/applications/{number}/withdraw", name="repair.application.withdraw")
async def withdraw(request: Request, number: str, uow: UoW, today: Today, account: SignedInAccount
                   ) -> Response:  # fmt: skip
    session = uow.session
    await forms.read_form(request)

    def work() -> str:
        target = f"/repair/applications/{repair_service.get_for_account(session, account, number).number}"
        on_error_redirect(request, target)
        repair_service.withdraw_application(session, account=account, number=number, today=today)
        return target

    return redirect(request, await uow.run_as_writer(work), flash_message="申请已撤回")


# ---------------------------------------------------------------------------------------- progress


@router.get("/repair/progress", name="repair.progress")
def progress_form(request: Request, account: OptionalAccount) -> Response:
    return render(request, "portal/repair/progress.html", {})


@router.post("/repair/progress", name="repair.progress.submit", dependencies=[Limited])
async def progress_lookup(request: Request, session: DbSession, protector: AppProtector,
                          account: OptionalAccount) -> Response:  # fmt: skip
    """A POST, so that a code that may be an ID number never appears in a URL or an access log."""
    form = await forms.read_form(request)
    number = forms.text(form, "number", 30)
    on_error_render(request, "portal/repair/progress.html", {"number": number[:24]})

    def work() -> dict[str, Any]:
        found = progress.lookup(session, number=number, code=forms.text(form, "code", 40), protector=protector)
        context: dict[str, Any] = {"number": number[:24], "found": found, "is_objection": isinstance(found, Objection)}
        if isinstance(found, RepairApplication):
            context["events"] = repair_service.events(session, found)
            context["labels"] = rules.ACTION_LABELS
            context["status_labels"] = {s.value: s.label for s in RepairStatus}
        return context

    return render(request, "portal/repair/progress.html", await run_in_threadpool(work))
