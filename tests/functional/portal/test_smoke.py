from __future__ import annotations

from tests.factories import records as f


def test_home_and_search(client, load):
    load([f.penalty_row(CF_XDR_MC="安吉县恒达竹木制品有限公司", CF_XDR_SHXYM=f.company_code(901))])
    home = client.get("/")
    assert home.status_code == 200
    assert "信用信息查询" in home.text
    page = client.get("/search", params={"q": "恒达"})
    assert page.status_code == 200, page.text
    assert "安吉县恒达竹木制品有限公司" in page.text
