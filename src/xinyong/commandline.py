"""What every command of the `xinyong` command line shares: the settings, the database, the terminal.

Each command is a boundary: it opens one session, calls services, and commits once (an import commits chunk
by chunk, by design). Output is Chinese for people and JSON with `--json` for programs. The commands
themselves live in each domain's `cli.py`; `xinyong.cli` puts them together."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.orm import Session, sessionmaker

from xinyong.config import Settings, load_settings
from xinyong.db import make_engine, make_sessionmaker
from xinyong.errors import DomainError

# Markup off: what the commands print holds names, paths, file headers and messages from the input, in which
# brackets are text. A line that styles itself passes markup=True and escapes what it quotes.
console = Console(markup=False)
err_console = Console(stderr=True, markup=False)
# What the program (xinyong.cli) adds to every session of its factory: the audit chain's keys. Registered by
# the program rather than imported here, so that no domain's commands depend on another domain through this.
SessionSetup = Callable[[sessionmaker[Session], Settings], sessionmaker[Session]]
_session_setups: list[SessionSetup] = []


def on_session_factory(setup: SessionSetup) -> None:
    _session_setups.append(setup)
    session_factory.cache_clear()


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def session_factory() -> sessionmaker[Session]:
    """The database's sessions, with what the program registered (the audit chain's keys)."""
    current = settings()
    factory = make_sessionmaker(make_engine(current.database_url, sqlite_cache_mb=current.sqlite_cache_mb))
    for setup in _session_setups:
        factory = setup(factory, current)
    return factory


def fail(error: DomainError | str, code: int = 1) -> typer.Exit:
    """Say why the command stops, in one line, and the exit to raise. The message is printed as it is: paths,
    names and reasons from the input or from the system are not Rich markup (`[jobs.<任务名>]`, `bk/[x]/a.bak`)."""
    message = error.message if isinstance(error, DomainError) else error
    err_console.print(f"[red]错误：[/red]{escape(message)}", highlight=False, soft_wrap=True, markup=True)
    return typer.Exit(code)
