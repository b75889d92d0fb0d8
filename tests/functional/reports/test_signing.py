"""The platform's signature: pyHanko's own validator accepts a report's PDF; one byte changed anywhere fails both
the signature and the digest the registry holds, for the PDF and for the JSON; the key is made once."""

from __future__ import annotations

import io
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel

from xinyong.reports import rules, service, signing


@pytest.fixture
def issued(db_session, world, report_settings, protector, today):  # type: ignore[no-untyped-def]
    made = service.prepare_for_platform(db_session, world.company.uscc, kind="public", settings=report_settings,
                                        protector=protector, today=today, now=datetime.now(UTC), base_url=None)  # fmt: skip
    service.register(db_session, made, actor="test")
    db_session.flush()
    return made


def test_pyhanko_validates_the_pdf_signature(issued, report_settings):
    material = signing.material(report_settings)
    reader = PdfFileReader(io.BytesIO(issued.pdf))
    assert len(reader.embedded_signatures) == 1
    signature = reader.embedded_signatures[0]
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    status = validate_pdf_signature(signature, material.trust)
    assert status.bottom_line, status.pretty_print_details()
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert report_settings.reports_issuer in status.signing_cert.subject.human_friendly
    assert issued.number in str(signature.sig_object["/Reason"])


def test_genuine_copies_pass_both_checks(db_session, issued, report_settings):
    for data, form in ((issued.pdf, "pdf"), (issued.json, "json")):
        result = service.verify_file(db_session, data, settings=report_settings)
        assert result.is_genuine, result.problems
        assert (result.form, result.number) == (form, issued.number)


def _flip(data: bytes, position: int) -> bytes:
    changed = bytearray(data)
    changed[position] = changed[position] ^ 0x01 if changed[position] not in (0x0A, 0x0D) else 0x20
    return bytes(changed)


def test_one_byte_changed_anywhere_in_the_pdf_fails(db_session, issued, report_settings):
    material = signing.material(report_settings)
    data = issued.pdf
    contents = data.index(b"/Contents <") + len(b"/Contents <")
    positions = {"content stream": len(data) // 3, "signature value": contents + 200,
                 "signature padding": data.index(b"0000000000", contents) + 4, "last byte": len(data) - 2}  # fmt: skip
    for where, position in positions.items():
        tampered = _flip(data, position)
        assert tampered != data
        offline = signing.verify_pdf(tampered, material)
        online = service.verify_file(db_session, tampered, settings=report_settings)
        assert not online.is_genuine, where
        assert any("文件摘要与平台登记的不一致" in p for p in online.problems) or online.number is None, where
        if where in ("content stream", "signature value"):
            assert not offline.is_genuine, where
            assert not _pyhanko_accepts(tampered, material), where


def _pyhanko_accepts(data: bytes, material: signing.Material) -> bool:
    reader = PdfFileReader(io.BytesIO(data))
    try:
        return bool(validate_pdf_signature(reader.embedded_signatures[0], material.trust).bottom_line)
    except SignatureValidationError:  # a signature value that no longer parses or matches its certificate
        return False


def test_one_byte_changed_in_the_json_fails_both_checks(db_session, issued, report_settings):
    material = signing.material(report_settings)
    data = issued.json
    name = data.index("安吉县报告样本".encode())
    signature = data.index(b'"signature":"') + 40
    for where, tampered in {
        "content": data[:name] + "北".encode() + data[name + 3:],
        "signature": _flip(data, signature),
        "layout": data.replace(b'{"report":', b'{ "report":', 1),
        "trailing": data + b"\n",
    }.items():  # fmt: skip
        assert not signing.verify_json(tampered, material).is_genuine, where
        assert not service.verify_file(db_session, tampered, settings=report_settings).is_genuine, where
    document = json.loads(data)
    assert document["report"]["number"] == issued.number
    assert rules.sha256(rules.canonical_json(document["report"])) == issued.content_sha256


def test_a_copy_the_registry_does_not_know_is_not_genuine(db_session, world, report_settings, protector, today):
    unregistered = service.prepare_for_platform(db_session, world.company.uscc, kind="public",
                                                settings=report_settings, protector=protector, today=today,
                                                now=datetime.now(UTC), base_url=None)  # fmt: skip
    result = service.verify_file(db_session, unregistered.pdf, settings=report_settings)
    assert not result.is_genuine
    assert any("没有出具过该编号的报告" in p for p in result.problems)


def test_a_copy_signed_by_another_key_is_not_trusted(db_session, issued, report_settings, tmp_path):
    other = report_settings.model_copy(update={"reports_signing_key_file": tmp_path / "other" / "k.pem",
                                               "reports_signing_cert_file": tmp_path / "other" / "c.pem"})  # fmt: skip
    assert not signing.verify_pdf(issued.pdf, signing.material(other)).is_genuine
    assert "签名不是由本平台的签名证书作出" in signing.verify_pdf(issued.pdf, signing.material(other)).problems
    assert not signing.verify_json(issued.json, signing.material(other)).is_genuine
    assert not service.verify_file(db_session, b"not a report at all", settings=report_settings).is_genuine


def test_the_key_and_certificate_are_made_once_on_first_use(report_settings, tmp_path):
    settings = report_settings.model_copy(update={"reports_signing_key_file": tmp_path / "new" / "key.pem",
                                                  "reports_signing_cert_file": tmp_path / "new" / "cert.pem"})  # fmt: skip
    first = signing.material(settings)
    key_file = Path(settings.reports_signing_key_file)
    assert key_file.exists()
    assert Path(settings.reports_signing_cert_file).exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert signing.material(settings).fingerprint == first.fingerprint
    assert first.cert_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert first.algorithm == "ES256"


def test_a_half_configured_or_mismatched_key_is_refused(report_settings, tmp_path):
    a = report_settings.model_copy(update={"reports_signing_key_file": tmp_path / "a" / "key.pem",
                                           "reports_signing_cert_file": tmp_path / "a" / "cert.pem"})  # fmt: skip
    b = report_settings.model_copy(update={"reports_signing_key_file": tmp_path / "b" / "key.pem",
                                           "reports_signing_cert_file": tmp_path / "b" / "cert.pem"})  # fmt: skip
    signing.material(a), signing.material(b)
    mixed = report_settings.model_copy(update={"reports_signing_key_file": a.reports_signing_key_file,
                                               "reports_signing_cert_file": b.reports_signing_cert_file})  # fmt: skip
    with pytest.raises(signing.SigningKeyInvalid, match="证书与私钥不匹配"):
        signing.material(mixed)
    half = report_settings.model_copy(update={"reports_signing_key_file": a.reports_signing_key_file,
                                              "reports_signing_cert_file": tmp_path / "missing.pem"})  # fmt: skip
    with pytest.raises(signing.SigningKeyInvalid, match="缺少"):
        signing.material(half)
