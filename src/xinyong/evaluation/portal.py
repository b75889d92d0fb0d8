"""The subject's own evaluation page: why it has its grade, each point traced to its records, and what would
change it. Only an account that proved it is the subject sees it (a mere claim is sent to prove itself); the
public sees grades only where the 信用办 turned that on."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from xinyong.accounts.deps import SignedInAccount
from xinyong.evaluation import explain
from xinyong.web.deps import AppSettings, DbSession, Today
from xinyong.web.errors import redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(include_in_schema=False)


@router.get("/account/evaluation", name="account.evaluation")
def own_evaluation(request: Request, session: DbSession, settings: AppSettings, today: Today,
                   account: SignedInAccount) -> Response:  # fmt: skip
    if not account.is_identity_verified:
        return redirect(request, "/account", flash_message="请先完成主体身份核验，再查看本主体的信用评价", kind="warning")
    subject = explain.find_subject(session, account.subject_id)
    explanation = explain.explain(session, subject, settings=settings, today=today)
    return render(request, "portal/account/evaluation.html", {"subject": subject, "e": explanation})
