"""Proving a subject's identity through the identity service in a real browser: the portal's form sends the
browser to the service (another origin) and the service sends it back, under the pages' security policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.browser.test_repair import _seed, _sign_up_and_in
from tests.functional.accounts.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider

from xinyong.config import Settings

pytestmark = pytest.mark.browser


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def live_settings(fresh_database_url: str, tmp_path: Path, provider: Provider) -> Settings:
    from tests.fixtures.keys import TEST_KEY

    secret = tmp_path / "oidc-secret"
    secret.write_text(CLIENT_SECRET)
    return Settings(database_url=fresh_database_url, secret_key=TEST_KEY, secret_key_file=tmp_path / "k",
                    portal_rate_limit_requests=0, upload_dir=tmp_path / "uploads",
                    events_file=tmp_path / "events.jsonl", account_identity_methods="activation_code,oidc",
                    oidc_discovery_url=f"{provider.url}/.well-known/openid-configuration", oidc_client_id=CLIENT_ID,
                    oidc_client_secret_file=secret, oidc_title="浙江政务服务网统一身份认证")  # fmt: skip


def test_a_company_proves_itself_at_the_identity_service(live_server, browser, provider, artifacts_dir):
    seeded = _seed(live_server.settings, CF_FR_ZJLX="身份证", CF_FR_ZJHM="330523197503080517")
    provider.id_token_claims = {"sub": "legal-rep-1", "uscc": seeded["uscc"]}
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
            else None)  # fmt: skip
    _sign_up_and_in(page, live_server.url, live_server.app, seeded)
    page.click("#oidc-start")
    page.wait_for_selector("#my-records")
    assert not blocked, blocked
    assert "主体身份核验已完成" in page.inner_text("main")
    assert seeded["doc_no"] in page.inner_text("#my-records")
    assert provider.authorize_requests
    assert provider.token_requests
    page.screenshot(path=str(artifacts_dir / "account-proven-oidc.png"), full_page=True)
    page.close()
