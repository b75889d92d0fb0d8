"""The structure the web shell relies on: every router a domain declares is mounted, every route is a shell route
(which commits for the handler), and no handler commits by itself."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

from fastapi import APIRouter
from fastapi.routing import APIRoute, iter_route_contexts

import xinyong
from xinyong.app import ROUTERS, create_app
from xinyong.web.uow import ShellRoute

SRC = Path(xinyong.__file__).parent


def _router_modules() -> dict[str, tuple[APIRouter, Path]]:
    """Every module of the package that holds a router with routes (a package that re-exports one counts once)."""
    found: dict[str, tuple[APIRouter, Path]] = {}
    for info in pkgutil.walk_packages([str(SRC)], prefix="xinyong."):
        if ".migrations" in info.name or info.name == "xinyong.__main__":
            continue
        module = importlib.import_module(info.name)
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter) and router.routes and module.__file__:
            found[info.name] = (router, Path(module.__file__))
    return found


def test_every_router_a_module_declares_is_mounted(settings):
    """A domain's new router shows up by being listed in xinyong.app.ROUTERS (or included by a listed one)."""
    declared = _router_modules()
    assert len(declared) >= 20  # the domains' pages and APIs
    served = {(context.path, context.name) for context in iter_route_contexts(create_app(settings).routes)}
    missing = [name for name, (router, _) in declared.items()
               if any(isinstance(r, APIRoute) and (r.path, r.name) not in served for r in router.routes)]  # fmt: skip
    assert missing == [], f"routes not served (add the router to xinyong.app.ROUTERS): {missing}"
    assert all(any(router is listed for listed in ROUTERS) or name.count(".") > 2
               for name, (router, _) in declared.items() if name.endswith((".api", ".admin", ".portal")))  # fmt: skip


def test_every_route_is_a_shell_route(settings):
    contexts = list(iter_route_contexts(create_app(settings).routes))
    routes = [c.original_route for c in contexts if isinstance(c.original_route, APIRoute)]
    assert len(routes) > 150
    plain = [route.path for route in routes if not isinstance(route, ShellRoute)]
    assert plain == []


def test_no_handler_module_commits_or_rolls_back():
    """Route modules leave the transaction to the shell; only services' own scopes and the CLI commit."""
    offenders = []
    for name, (_, path) in _router_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("commit", "rollback"):
                offenders.append(f"{name}:{node.lineno}")
    assert offenders == []
