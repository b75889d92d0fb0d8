from __future__ import annotations

import pytest
from starlette.requests import Request

from xinyong.web import templating as web


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("portal.home", {}),
        ("portal.subject", {"ref": "91330521MA2B00000X"}),
        ("portal.subject", {"ref": "s12-0123456789abcdef"}),
        ("portal.subject", {"ref": "统一 代码?#%"}),
        ("portal.record", {"ref": "12-0123456789abcdef"}),
        ("portal.listing", {"record_type": "penalty.csv"}),
        ("static", {"path": "portal/site.css"}),
    ],
)
def test_remembered_url_for_gives_starlettes_urls(client, name, params):
    scope = {"type": "http", "app": client.app, "router": client.app.router, "scheme": "http", "root_path": "",
             "server": ("portal.example", 8080), "path": "/", "query_string": b"", "headers": [(b"host", b"portal.example:8080")]}  # fmt: skip
    request = Request(scope)
    expected = str(request.url_for(name, **params))
    for _ in range(2):  # looked up, then from memory
        assert web.url_for({"request": request}, name, **params) == expected


def test_a_value_with_a_slash_is_refused_as_before(client):
    scope = {"type": "http", "app": client.app, "router": client.app.router, "scheme": "http", "root_path": "",
             "server": ("testserver", 80), "path": "/", "query_string": b"", "headers": [(b"host", b"testserver")]}  # fmt: skip
    with pytest.raises(AssertionError):
        web.url_for({"request": Request(scope)}, "portal.subject", ref="a/b")
