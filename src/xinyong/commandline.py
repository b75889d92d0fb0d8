"""What every command of the `xinyong` command line shares: the settings, the database, the terminal.

Each command is a boundary: it opens one session, calls services, and commits once (an import commits chunk
by chunk, by design). Output is Chinese for people and JSON with `--json` for programs. The commands
themselves live in each domain's `cli.py`; `xinyong.cli` puts them together."""

from __future__ import annotations

from functools import lru_cache

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from xinyong.audit import keys as audit_keys
from xinyong.config import Settings, load_settings
from xinyong.db import make_engine, make_sessionmaker
from xinyong.errors import DomainError

console = Console()
err_console = Console(stderr=True)


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def session_factory() -> sessionmaker[Session]:
    """The database's sessions, carrying the audit chain's keys (every command that writes records audit)."""
    current = settings()
    factory = make_sessionmaker(make_engine(current.database_url, sqlite_cache_mb=current.sqlite_cache_mb))
    return audit_keys.attach(factory, audit_keys.load(current))


def fail(error: DomainError | str, code: int = 1) -> typer.Exit:
    message = error.message if isinstance(error, DomainError) else error
    err_console.print(f"[red]错误：[/red]{message}", highlight=False)
    return typer.Exit(code)
