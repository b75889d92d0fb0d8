"""`xinyong reports …` at the 信用办's counter: generate, verify a copy, export the certificate."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from tests.factories import records as f
from tests.fixtures.keys import TEST_KEY
from tests.functional.reports.conftest import pdf_text
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.clock import today as china_today
from xinyong.codes import make_id_number
from xinyong.commandline import session_factory, settings
from xinyong.db import session_scope
from xinyong.records import service as records_service


@pytest.fixture
def cli_env(fresh_database_url, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("XINYONG_REPORTS_SIGNING_KEY_FILE", str(tmp_path / "keys" / "key.pem"))
    monkeypatch.setenv("XINYONG_REPORTS_SIGNING_CERT_FILE", str(tmp_path / "keys" / "cert.pem"))
    monkeypatch.setenv("XINYONG_REPORTS_PUBLIC_URL", "https://credit.example.cn")
    settings.cache_clear()
    session_factory.cache_clear()
    from xinyong.protect import protector

    today = china_today()
    person_id = make_id_number("330521", date(1990, 1, 2), "321")
    with session_scope(session_factory()) as session:
        dept = f.department(session)
        rows = [f.penalty_row(CF_XDR_SHXYM=f.company_code(1), CF_XDR_MC="安吉县命令行样本有限公司",
                              CF_WSH="安市监罚〔2026〕501号", CF_JDRQ=(today - timedelta(days=50)).isoformat()),
                f.penalty_row(CF_XDR_MC="赵命令", CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJLX="身份证",
                              CF_XDR_ZJHM=person_id, CF_JDRQ=(today - timedelta(days=50)).isoformat(), CF_FRDB="")]  # fmt: skip
        result = records_service.import_rows(session, rows, settings=settings(), protector=protector(settings()),
                                             record_type="penalty", department=dept, actor="test", today=today)  # fmt: skip
        assert result.rejected == 0
    yield {"code": f.company_code(1), "person": person_id}
    settings.cache_clear()
    session_factory.cache_clear()


def test_generate_verify_and_certificate(cli_env, tmp_path):
    runner = CliRunner()
    out, copy = tmp_path / "r.pdf", tmp_path / "r.json"
    result = runner.invoke(app, ["reports", "generate", cli_env["code"], "--kind", "special", "--out", str(out),
                                 "--json", str(copy), "--as-json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["verify_url"] == f"https://credit.example.cn/reports/verify/{summary['number']}"
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "专项信用报告" in text
    assert "安市监罚〔2026〕501号" in text
    assert json.loads(copy.read_bytes())["report"]["number"] == summary["number"]
    for path in (out, copy):
        checked = runner.invoke(app, ["reports", "verify", str(path)])
        assert checked.exit_code == 0, checked.output
        assert f"真实有效：报告 {summary['number']} 由本平台出具" in checked.output
    tampered = tmp_path / "t.pdf"
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 1
    tampered.write_bytes(bytes(data))
    checked = runner.invoke(app, ["reports", "verify", str(tampered)])
    assert checked.exit_code == 1
    assert "核验未通过" in checked.output
    assert "文件摘要与平台登记的不一致" in checked.output
    pem = tmp_path / "cert.pem"
    shown = runner.invoke(app, ["reports", "certificate", "--out", str(pem)])
    assert shown.exit_code == 0
    assert "SHA-256 指纹" in shown.output
    assert pem.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_generate_refuses_persons_bad_codes_and_bad_spans(cli_env, tmp_path):
    runner = CliRunner()
    out = tmp_path / "r.pdf"
    cases = [
        ([cli_env["person"]], "自然人的信用报告只能由本人"),
        (["123"], "不是有效的统一社会信用代码"),
        ([f.company_code(555)], "未找到该代码的信用主体"),
        ([cli_env["code"], "--kind", "special", "--from", "2030-01-01"], "晚于截止日期"),
        ([cli_env["code"], "--kind", "special", "--domain", "外星领域"], "未知的领域“外星领域”"),
        ([cli_env["code"], "--kind", "secret"], "不是可申请的报告类型"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["reports", "generate", *args, "--out", str(out)])
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, args
        assert not out.exists()
