"""`xinyong notify …`: deliver what the outbox holds."""

from __future__ import annotations

import typer

from xinyong.commandline import console, session_factory, settings
from xinyong.db import session_scope
from xinyong.notify import service

app = typer.Typer(no_args_is_help=True)


@app.command("deliver", help="发送待发的通知与变更事件（失败的会在下次重试）")
def deliver(limit: int = typer.Option(1000, help="本次最多发送条数")) -> None:

    with session_scope(session_factory()) as session:
        sent = service.deliver_pending(session, settings=settings(), notifier=service.notifier_for(settings()),
                                       limit=limit)  # fmt: skip
    console.print(f"已发送 {sent} 条", highlight=False)
