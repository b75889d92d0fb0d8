"""The subject's own page on the portal (我的信用信息, `/account`): its records with what can be done about each
(repair, objection), its list entries, its applications and objections, its latest evaluation grade, and
other claims on its subject. It gathers from many domains, so it lives with the portal, above them."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from xinyong.accounts import identity, rules
from xinyong.accounts import service as accounts_service
from xinyong.accounts.deps import SignedInAccount
from xinyong.disclosure import service as disclosure
from xinyong.evaluation import service as evaluation_service
from xinyong.lists import service as lists_service
from xinyong.objections import service as objections_service
from xinyong.repair import service as repair_service
from xinyong.subjects import refs
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Today
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/account", include_in_schema=False)


@router.get("", name="account.home")
def home(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector, today: Today,
         account: SignedInAccount) -> Response:  # fmt: skip
    if not account.is_identity_verified:  # a claim sees how to prove itself, and nothing of the subject's own
        return render(request, "portal/account/identity.html", identity.page_context(session, settings, protector, account))
    subject = accounts_service.subject_of(session, account)
    own = accounts_service.own_records(session, account, settings=settings, protector=protector)
    published = _published_ids(session, settings, subject, [o.record.id for o in own], today)
    under_objection = objections_service.open_record_ids(session, [o.record.id for o in own])
    items = [{
        "own": o, "ref": refs.record_ref(o.record.id, protector), "is_published": o.record.id in published,
        "under_objection": o.record.id in under_objection,
        "eligibility": repair_service.eligibility_of(session, o.record, settings=settings, today=today)
        if o.record.tier else None,
        "open_repair": repair_service.open_application_for(session, o.record.id),
    } for o in own]  # fmt: skip
    memberships = [{
        "m": m, "eligibility": repair_service.list_eligibility_of(
            session, lists_service.get_entry(session, m.entry_id), settings=settings, today=today),
        "open_repair": repair_service.open_application_for_entry(session, m.entry_id),
    } for m in lists_service.memberships(session, [subject.id], today=today).get(subject.id, [])]  # fmt: skip
    return render(request, "portal/account/home.html", {
        "subject": subject, "account": account, "items": items, "memberships": memberships,
        "applications": repair_service.for_subject(session, subject.id),
        "objections": objections_service.for_subject(session, subject.id),
        "evaluation": evaluation_service.latest_grade(session, subject.id, settings=settings),
        "claims": accounts_service.other_claims(session, account), "mask_contact": rules.mask_contact,
    })  # fmt: skip


def _published_ids(session: Session, settings: AppSettings, subject, record_ids: list[int], today) -> set[int]:  # type: ignore[no-untyped-def]
    if not record_ids:
        return set()
    return disclosure.published_among(session, record_ids, settings=settings, today=today,
                                      subject_kind=subject.kind.value)  # fmt: skip
