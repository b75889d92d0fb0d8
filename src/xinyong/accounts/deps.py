"""FastAPI dependencies for the subjects' portal accounts: the signed-in subject's session (looked up once per
request), `OptionalAccount` for pages anyone may see, `SignedInAccount` for pages that need a sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts_service
from xinyong.accounts.models import SubjectAccount, SubjectSession
from xinyong.web.deps import SUBJECT_COOKIE, DbSession
from xinyong.web.errors import SignInRequired


def load_subject_session(request: Request, session: Session) -> SubjectSession | None:
    """The signed-in subject's portal session, looked up once per request."""
    if not hasattr(request.state, "subject_session"):
        token = request.cookies.get(SUBJECT_COOKIE, "")
        row = accounts_service.load_session(session, token) if token else None
        request.state.subject_session = row
        request.state.account_signed_in = row is not None
        if row is not None:
            request.state.session_csrf = row.csrf_token
    return request.state.subject_session  # type: ignore[no-any-return]


def get_optional_account(request: Request, session: DbSession) -> SubjectAccount | None:
    row = load_subject_session(request, session)
    return row.account if row is not None else None


def get_account(account: Annotated[SubjectAccount | None, Depends(get_optional_account)]) -> SubjectAccount:
    if account is None:
        raise SignInRequired()
    return account


OptionalAccount = Annotated[SubjectAccount | None, Depends(get_optional_account)]
SignedInAccount = Annotated[SubjectAccount, Depends(get_account)]
