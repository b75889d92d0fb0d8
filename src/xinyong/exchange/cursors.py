"""Opaque cursors: a position in the change log, bound to one destination and signed (HMAC-SHA256 under a key
derived from the platform's master key). A cursor is text a partner keeps; the platform keeps no state for it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

from xinyong.changelog.service import Position
from xinyong.errors import InvalidInput

VERSION = 1
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{4,200}\.[A-Za-z0-9_-]{22}$")


class CursorInvalid(InvalidInput):
    code = "cursor-malformed"
    status_code = 400
    message_template = "游标无效：{reason}"


class CursorOtherDestination(CursorInvalid):
    code = "cursor-other-destination"
    message_template = "该游标不是签发给“{destination}”的，不能用于此处（请使用本接收方上次得到的游标）"


class CursorInFuture(CursorInvalid):
    code = "cursor-in-future"
    status_code = 409
    message_template = "该游标指向尚不存在的变更位置（平台当前位置之后），可能来自其他平台或已恢复的备份，请从头同步"


class CursorExpired(CursorInvalid):
    code = "cursor-expired"
    status_code = 410
    message_template = ("该游标之后的部分变更已超过保留期限被清理，无法接续；请用批量导出重新全量同步，"
                        "再从最新游标继续订阅")  # fmt: skip


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest()[:16])


def encode(position: Position, destination: str, key: bytes) -> str:
    body = _b64(json.dumps({"v": VERSION, "d": destination, "s": position.seq, "i": position.id},
                           separators=(",", ":")).encode())  # fmt: skip
    return f"{body}.{_sign(key, body)}"


def decode(text: str, destination: str, key: bytes) -> Position:
    """The position a cursor names. Raises CursorInvalid (malformed, altered, unknown version) or
    CursorOtherDestination; whether it lies in the future is the caller's check (it needs the log's head)."""
    text = (text or "").strip()
    if not _SHAPE.match(text):
        raise CursorInvalid(reason="格式不正确")
    body, signature = text.split(".", 1)
    if not hmac.compare_digest(_sign(key, body), signature):
        raise CursorInvalid(reason="签名不符（游标被修改或不是本平台签发的）")
    try:
        data = json.loads(_unb64(body))
        version, owner, seq, last = data["v"], data["d"], data["s"], data["i"]
    except (ValueError, KeyError, TypeError):
        raise CursorInvalid(reason="内容无法解析") from None
    if version != VERSION or not isinstance(seq, int) or not isinstance(last, int) or seq < 0 or last < 0:
        raise CursorInvalid(reason="版本或位置不正确")
    if owner != destination:
        raise CursorOtherDestination(destination=destination.split(":", 1)[-1])
    return Position(seq, last)
