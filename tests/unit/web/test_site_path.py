"""`site_path`: a path of the site as the visitor reaches it, under a county portal's prefix."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from xinyong.web.errors import redirect, site_path


def _request(root_path: str = "") -> Request:
    return Request({"type": "http", "method": "GET", "path": root_path + "/x", "root_path": root_path,
                    "headers": [], "query_string": b""})  # fmt: skip


@pytest.mark.parametrize(("root", "url", "expected"), [
    ("/region/330522", "/account", "/region/330522/account"),
    ("/region/330522", "/region/330522/account", "/region/330522/account"),  # already under it
    ("/region/330522", "/region/330522", "/region/330522"),
    ("/region/330522", "https://cx.credit.example.cn/account", "https://cx.credit.example.cn/account"),
    ("/region/330522", "//elsewhere.example/account", "//elsewhere.example/account"),
    ("/region/330522", "progress", "progress"),
    ("", "/account", "/account"),  # the city's portal, a county's own host
])  # fmt: skip
def test_site_path(root: str, url: str, expected: str) -> None:
    assert site_path(_request(root), url) == expected


def test_redirect_keeps_the_prefix() -> None:
    response = redirect(_request("/region/330522"), "/account/login")
    assert response.status_code == 303
    assert response.headers["location"] == "/region/330522/account/login"
