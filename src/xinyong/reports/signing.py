"""The platform's signature on its reports, and the checks anyone can run on a copy.

One key signs both forms: the PDF carries a PAdES signature (pyHanko), which a PDF reader checks offline
once it trusts the platform's certificate; the JSON carries a detached JWS (RFC 7515, appendix F)
over the canonical form of the report (joserfc), naming the certificate by its thumbprint.

The key and its certificate are configuration (`XINYONG_REPORTS_SIGNING_KEY_FILE`, `…_CERT_FILE`). When
neither file exists, an ECDSA P-256 key and a self-signed certificate valid for ten years are made on first
use (under a file lock, so that two server processes do not make two); a certificate from a certificate
authority may replace it with its key. Nothing is fetched from the network: validation trusts exactly the
configured certificate and checks no revocation online.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509  # pyHanko's certificate type
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey, import_key
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from xinyong.config import Settings
from xinyong.errors import DomainError
from xinyong.reports.rules import canonical_json

FIELD_NAME = "XinyongReportSignature"
CERT_YEARS = 10


class SigningKeyInvalid(DomainError):
    code = "report-signing-key-invalid"
    status_code = 500
    message_template = "报告签名密钥配置有误：{reason}"


@dataclass(frozen=True)
class Material:
    signer: signers.SimpleSigner
    private_jwk: ECKey | RSAKey
    public_jwk: ECKey | RSAKey
    algorithm: str  # the JWS algorithm of the key: ES256 or RS256
    cert_der: bytes
    cert_pem: bytes
    fingerprint: str  # SHA-256 of the certificate (DER), as operators publish it
    subject: str
    not_after: datetime

    @property
    def trust(self) -> ValidationContext:
        return ValidationContext(trust_roots=[asn1_x509.Certificate.load(self.cert_der)], allow_fetching=False)


def material(settings: Settings) -> Material:
    key_path = Path(settings.reports_signing_key_file)
    cert_path = Path(settings.reports_signing_cert_file)
    if not key_path.exists() and not cert_path.exists():
        _create(key_path, cert_path, settings.reports_issuer)
    if not key_path.exists() or not cert_path.exists():
        missing = key_path if not key_path.exists() else cert_path
        raise SigningKeyInvalid(reason=f"缺少 {missing}（密钥与证书须同时配置）")
    return _load(str(key_path), str(cert_path), key_path.stat().st_mtime_ns, cert_path.stat().st_mtime_ns)


def _create(key_path: Path, cert_path: Path, issuer: str) -> None:
    key_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    with open(key_path.with_name(key_path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if key_path.exists() or cert_path.exists():
            return  # another process made them while this one waited
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{issuer} 信用报告签章"[:64]),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, issuer[:64])])  # fmt: skip
        now = datetime.now(UTC)
        usage = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
                              encipher_only=False, decipher_only=False)  # fmt: skip
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=365 * CERT_YEARS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(usage, critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))  # fmt: skip
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@lru_cache(maxsize=4)
def _load(key_file: str, cert_file: str, _key_mtime: int, _cert_mtime: int) -> Material:
    key_pem = Path(key_file).read_bytes()
    cert_pem = Path(cert_file).read_bytes()
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
        cert = x509.load_pem_x509_certificate(cert_pem)
    except (ValueError, TypeError) as exc:
        raise SigningKeyInvalid(reason=f"无法读取密钥或证书（{exc}）") from None
    public = key.public_key()
    if public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != \
            cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise SigningKeyInvalid(reason="证书与私钥不匹配")
    is_ec = isinstance(key, ec.EllipticCurvePrivateKey)
    algorithm, key_type = ("ES256", "EC") if is_ec else ("RS256", "RSA")
    signer = signers.SimpleSigner.load(key_file, cert_file)
    if signer is None:
        raise SigningKeyInvalid(reason="无法载入签名密钥")
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    return Material(
        signer=signer, private_jwk=_jwk(key_pem, key_type),
        public_jwk=_jwk(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
                        key_type),
        algorithm=algorithm, cert_der=cert_der, cert_pem=cert_pem,
        fingerprint=hashlib.sha256(cert_der).hexdigest(), subject=cert.subject.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
    )  # fmt: skip


def _jwk(pem: bytes, key_type: str) -> ECKey | RSAKey:
    key = import_key(pem, "EC" if key_type == "EC" else "RSA")
    assert isinstance(key, ECKey | RSAKey)
    return key


# ------------------------------------------------------------------------------------------------- PDF


def sign_pdf(pdf: bytes, signing: Material, *, reason: str, location: str) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = PdfSignatureMetadata(field_name=FIELD_NAME, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
                                reason=reason, location=location)  # fmt: skip
    # Room for the CMS object given up front: pyHanko would otherwise sign once more only to measure it.
    output = signers.sign_pdf(writer, meta, signer=signing.signer, bytes_reserved=8192 + 2 * len(signing.cert_der))
    return output.getvalue()


@dataclass
class Check:
    is_genuine: bool
    problems: list[str] = field(default_factory=list)
    reason: str | None = None  # the signature's stated reason (it names the report number)
    report: dict[str, Any] | None = None  # a JSON report's content


def verify_pdf(data: bytes, signing: Material) -> Check:
    """Whether the PDF carries one intact signature by the platform's key covering the whole file."""
    try:
        reader = PdfFileReader(io.BytesIO(data))
        signatures = reader.embedded_signatures
        if len(signatures) != 1:
            return Check(False, [f"文件中有 {len(signatures)} 个签名，应有且仅有平台的 1 个签名"])
        signature = signatures[0]
        status = validate_pdf_signature(signature, signing.trust)
        reason = str(signature.sig_object.get("/Reason", "")) or None
    except Exception as exc:  # any failure to read an untrusted file means it is not what the platform issued
        return Check(False, [f"无法读取文件中的签名（{type(exc).__name__}）"])
    problems = []
    if not status.intact or not status.valid:
        problems.append("签名所覆盖的内容已被改动，签名无效")
    if not status.trusted:
        problems.append("签名不是由本平台的签名证书作出")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problems.append("签名之后文件又被追加或改动过")
    return Check(not problems, problems, reason)


# ------------------------------------------------------------------------------------------------ JSON


def sign_json(report: dict[str, Any], signing: Material) -> bytes:
    """The JSON file: `{"report": …, "signature": "<JWS header>..<signature>"}` in canonical form, so that
    every byte of the file is either part of the signed content or of the signature itself."""
    # The certificate by its SHA-256 thumbprint (RFC 7515 x5t#S256); the certificate itself is published.
    header = {"alg": signing.algorithm, "x5t#S256": _thumbprint(signing.cert_der), "typ": "xinyong-credit-report+json"}
    token = jws.serialize_compact(header, canonical_json(report), signing.private_jwk, algorithms=[signing.algorithm])
    return canonical_json({"report": report, "signature": jws.detach_content(token)})


def verify_json(data: bytes, signing: Material) -> Check:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return Check(False, ["文件不是有效的 JSON"])
    if not isinstance(document, dict) or set(document) != {"report", "signature"} \
            or not isinstance(document["report"], dict) or not isinstance(document["signature"], str):
        return Check(False, ["文件不是本平台出具的 JSON 报告（应含 report 与 signature 两项）"])  # fmt: skip
    problems = []
    if canonical_json(document) != data:
        problems.append("文件的字节与规范形式不一致：文件被改动过")
    try:
        token = jws.deserialize_compact(document["signature"], signing.public_jwk, algorithms=[signing.algorithm],
                                        payload=canonical_json(document["report"]))  # fmt: skip
        if token.headers().get("x5t#S256") != _thumbprint(signing.cert_der):
            problems.append("签名中的证书不是本平台的签名证书")
    except Exception:  # joserfc raises several types for a malformed or wrong signature; all mean "invalid"
        problems.append("签名无效：报告内容与签名不符")
    return Check(not problems, problems, report=document["report"])


def _thumbprint(cert_der: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(cert_der).digest()).rstrip(b"=").decode()


def certificate_pem(settings: Settings) -> bytes:
    return material(settings).cert_pem
