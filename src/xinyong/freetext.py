"""Free text that people type into forms (statements, reasons, names, contacts): cleaned, bounded, and with
any ID number in it masked, for every domain that keeps such text. Escaping is the templates' job."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date

from xinyong.codes import mask_id_numbers
from xinyong.errors import InvalidInput

_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")


def new_number(prefix: str, today: date) -> str:
    """An application number: prefix, date, 6 random characters (not guessable in sequence)."""
    return f"{prefix}{today:%Y%m%d}{''.join(secrets.choice(_NUMBER_ALPHABET) for _ in range(6))}"


def clean_text(value: object, *, title: str, min_length: int = 0, max_length: int) -> str:
    """Free text as typed, minus control characters (line breaks kept) and with any ID number in it masked
    (statements, reasons and names are shown to staff and sent in notices); escaping is the templates' job."""
    text = unicodedata.normalize("NFC", str(value or ""))
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C").strip()
    text = mask_id_numbers(text)
    if len(text) < min_length:
        raise InvalidInput(reason=f"{title}至少 {min_length} 个字" if min_length > 1 else f"请填写{title}")
    if len(text) > max_length:
        raise InvalidInput(reason=f"{title}不能超过 {max_length} 个字")
    return text


def clean_phone(value: object) -> str:
    text = str(value or "").strip()
    if not PHONE_RE.match(text):
        raise InvalidInput(reason="联系电话格式不正确")
    return text


def clean_email(value: object, *, required: bool = False) -> str | None:
    text = str(value or "").strip()
    if not text and not required:
        return None
    if len(text) > 200 or not EMAIL_RE.match(text):
        raise InvalidInput(reason="电子邮箱格式不正确")
    return text
