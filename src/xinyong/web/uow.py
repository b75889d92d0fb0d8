"""One unit of work per request, declared once for every route.

A route's database work is one transaction, opened by its first statement and ended here, never in the
handler: committed when the handler returns; rolled back when it raises, except for errors that declare
`keeps_changes` (a wrong password or verification code is counted even though the request fails). What
the transaction put in the outbox is delivered after the commit, never before. Blocking work leaves the
event loop: a synchronous handler runs in a worker thread, and so does its commit; an async handler hands
short writes to `UnitOfWork.write`, which runs them in the SQLite writers' turn (see `writequeue`), and work
that reads, hashes or stores files before it writes (the portal's forms) to `UnitOfWork.run_as_writer`, which
runs it in a worker thread as a writer's transaction that the route then commits.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from xinyong import writequeue
from xinyong.db import begin_writing
from xinyong.errors import DomainError
from xinyong.notify import service as notify
from xinyong.web.errors import error_response

T = TypeVar("T")
log = logging.getLogger(__name__)
_FLUSHED = "uow.flushed"  # session.info: the transaction in progress has flushed changes


@event.listens_for(Session, "after_flush")
def _remember_flush(session: Session, flush_context: Any) -> None:
    session.info[_FLUSHED] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_flush(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the session's transaction, not a savepoint
        session.info.pop(_FLUSHED, None)


class UnitOfWork:
    def __init__(self, request: Request, session: Session) -> None:
        self.request = request
        self.session = session
        self._later: list[Callable[[], object]] = []
        self._outbox: list[int] = []  # the outbox items committed, delivered after (see `_deliver`)
        notify.track_pending(session)

    def write_later(self, work: Callable[[], object]) -> None:
        """Bookkeeping (a console session's last use) written once the request's work has been committed (not
        after a refusal), in a short transaction of its own in a worker thread, rather than in the request's: on
        SQLite a transaction that has read cannot start writing once another connection (an import's chunk, a
        job) committed after that read, so a page view that wrote at its end failed whenever that happened.
        Dropped, with a log line, if the database stays busy beyond its timeout."""
        self._later.append(work)

    def commit(self) -> None:
        """For the shell only (credential checks that must record a use whatever follows); handlers never
        call it: the route commits when they return."""
        self.session.commit()

    async def write(self, work: Callable[[], T]) -> T:
        """Run `work` as a transaction of its own in the writers' turn, and commit it there: at once when the
        turn is free, in a worker thread when another writer holds it. What this request read so far is
        ended first: on SQLite (WAL) a transaction that has read cannot start writing once another writer
        committed after that read."""
        self.session.commit()

        def run() -> T:
            result = work()
            self.session.commit()
            return result

        return await writequeue.run_in_turn(self.session, run)

    async def run_as_writer(self, work: Callable[[], T]) -> T:
        """For an asynchronous handler that reads and then writes (the portal's forms): `work()` in a worker
        thread, in a transaction begun there as a writer's once what the dependencies read is committed. On
        SQLite it waits there for another connection's write (an import's chunk) instead of failing when one was
        committed between its first read and its first write, and the event loop runs neither that wait nor the
        work's password hashing or file writes. Its changes are flushed there too (on PostgreSQL a row another
        transaction holds is waited for there), and the route commits them when the handler returns. The request
        must not have changed anything before (refused: that commit would keep it even if the work failed)."""

        session = self.session
        changed = session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)
        if changed or session.info.get(_FLUSHED):  # unflushed, or flushed already (by a query's autoflush)
            # What it committed first would be kept even if the work then failed.
            raise RuntimeError("run_as_writer: the request changed objects before its work; do that in the work")

        def run() -> T:
            session.commit()
            begin_writing(session)
            result = work()
            session.flush()
            return result

        return await run_in_threadpool(run)

    def write_in_thread(self, work: Callable[[], T]) -> T:
        """`write` for synchronous handlers (already in a worker thread): waits for the turn here."""
        self.session.commit()
        with writequeue.writing(self.session):
            result = work()
        return result

    def try_write_in_thread(self, work: Callable[[], object]) -> bool:
        """`write_in_thread` for bookkeeping that may be skipped (a key's last use): on SQLite, when another
        writer committed since this request read, the write is dropped instead of failing the request."""
        try:
            self.write_in_thread(work)
        except OperationalError:
            self.session.rollback()
            return False
        return True

    def _write_later(self) -> None:
        for work in self._later:
            try:
                with writequeue.writing(self.session):  # short writers (credit checks) wait in a thread meanwhile
                    work()
            except OperationalError:
                self.session.rollback()
                log.warning("bookkeeping write dropped: the database stayed busy")
        self._later.clear()

    def _finish(self) -> None:
        self.session.commit()
        self._outbox = notify.take_pending(self.session)

    def _deliver(self) -> None:
        """In a worker thread, after the commit: what the request put in the outbox (mail, inbox messages)."""
        ids, self._outbox = self._outbox, []
        notify.deliver_after_commit(self.session, self.request.app.state, ids)

    def _refuse(self, exc: DomainError) -> Response:
        self._abort(exc)
        return error_response(self.request, exc)

    def _abort(self, exc: BaseException) -> None:
        if isinstance(exc, DomainError) and exc.keeps_changes:
            self._finish()
        else:
            self.session.rollback()
            notify.forget_pending(self.session)


WRITES_FIRST = "_xinyong_writes_first"  # set by `web.deps.writes_first`


def works_off_the_loop(endpoint: Callable[..., Any]) -> bool:
    """Whether a handler's transaction is begun in a worker thread, as a writer's when it submits something
    (`web.deps.get_session`), and is ended there too (`ShellRoute`): a synchronous handler, or an asynchronous
    one marked `web.deps.writes_first`."""
    return not inspect.iscoroutinefunction(endpoint) or bool(getattr(endpoint, WRITES_FIRST, False))


class ShellRoute(APIRoute):
    """Every route of the platform: the handler runs, then its unit of work ends (see the module's doc)."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        is_async = not works_off_the_loop(self.endpoint)

        async def run(request: Request) -> Response:
            try:
                response = await handler(request)
            except DomainError as exc:
                uow = getattr(request.state, "uow", None)
                if uow is None:
                    raise
                # Rolled back, and answered here, while the session is still open: a form shown again with
                # the reason may read the objects it shows (the rollback expired them; they load again).
                refused = await _call(uow._refuse, is_async, exc)
                await _deliver(uow)  # an error that keeps its changes may have written to the outbox
                return refused
            except BaseException as exc:
                uow = getattr(request.state, "uow", None)
                if uow is not None:
                    await _call(uow._abort, is_async, exc)
                raise
            uow = getattr(request.state, "uow", None)
            if uow is not None:
                await _call(uow._finish, is_async)
                await _write_later(uow)
                await _deliver(uow)
            return response

        return run


async def _write_later(uow: UnitOfWork) -> None:
    if uow._later:  # at most once a minute for a signed-in user: the hop to a worker thread is worth it
        await run_in_threadpool(uow._write_later)


async def _deliver(uow: UnitOfWork) -> None:
    if uow._outbox:
        await run_in_threadpool(uow._deliver)


async def _call(fn: Callable[..., T], is_async: bool, *args: Any) -> T:
    # An async handler commits on the event loop: a short write, or one whose statements ran in a worker thread
    # (`UnitOfWork.run_as_writer`). A synchronous or marked one began its transaction in a worker thread, and its
    # commit, rollback or refusal's page goes there too.
    if is_async:
        return fn(*args)
    return await run_in_threadpool(fn, *args)


def router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes end their unit of work (every router of the platform is made here)."""
    return APIRouter(route_class=ShellRoute, **kwargs)
