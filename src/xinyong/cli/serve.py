from __future__ import annotations

import typer

from xinyong.commandline import settings
from xinyong.logs import uvicorn_log_config


def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址"),
    port: int = typer.Option(8000, help="端口"),
    workers: int = typer.Option(1, help="工作进程数"),
) -> None:
    import uvicorn

    # Imported here: the web application (its routes, templates and PDF engine) costs every other command about
    # two seconds of start-up that it never uses.
    from xinyong import heap
    from xinyong.app import create_app

    log_config = uvicorn_log_config(settings().log_level)
    # uvicorn would take X-Forwarded-For from any local peer; the platform reads it itself, from the
    # configured proxies only (XINYONG_TRUSTED_PROXIES, see xinyong.web.client).
    options = {"host": host, "port": port, "log_config": log_config, "proxy_headers": False,
               "server_header": False}  # fmt: skip
    if workers > 1:
        uvicorn.run("xinyong.app:app_from_env", factory=True, workers=workers, **options)  # type: ignore[arg-type]
    else:
        app = create_app(settings())
        heap.settle()  # what the app built, out of the garbage collector's full passes
        uvicorn.run(app, **options)  # type: ignore[arg-type]
