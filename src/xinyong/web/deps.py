from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from xinyong.config import Settings
from xinyong.departments import service as departments_service
from xinyong.departments.models import ApiKey
from xinyong.errors import NotAuthenticated
from xinyong.protect import Protector


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_protector(request: Request) -> Protector:
    return request.app.state.protector


def get_session(request: Request) -> Iterator[Session]:
    """One session per request. Write handlers commit once, at the end; anything raised rolls back."""
    session = request.app.state.session_factory()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session)]
AppSettings = Annotated[Settings, Depends(get_settings)]
AppProtector = Annotated[Protector, Depends(get_protector)]


def require_api_key(scope: str):  # type: ignore[no-untyped-def]
    """A department's key with the given scope: `Authorization: Bearer xy_…`. No key, no access."""

    def dependency(request: Request, session: DbSession) -> ApiKey:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("请在 Authorization 头中提供部门访问密钥（Bearer xy_…）")
        key = departments_service.authenticate_api_key(session, token.strip(), scope=scope)
        session.commit()  # records last_used_at even if the handler fails later
        return key

    return Depends(dependency)
