"""Logging that never carries a full ID number.

Access logs record request lines, and a public search by ID number puts the number in the query string
(perhaps percent-encoded, perhaps with spaces or dashes between the digits, which the portal tolerates).
Every handler of the server, and the root logger the platform's own modules log through, gets a filter that
masks anything shaped like a resident ID number before the record is written.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

# 18 (or 15) digits, the last perhaps X, optionally with one separator between characters; not glued to
# other letters or digits, so codes, order numbers and timestamps keep their shape.
_ID_LIKE = re.compile(
    r"(?<![0-9A-Za-z])((?:[0-9][ \-+.]?){17}[0-9Xx]|(?:[0-9][ \-+.]?){14}[0-9])(?![0-9A-Za-z])"
)


def _mask_match(match: re.Match[str]) -> str:
    digits = re.sub(r"[ \-+.]", "", match.group(0))
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def mask_ids(text: str) -> str:
    if "%" in text:
        # Percent-encoded separators or digits would hide a number from the pattern.
        decoded = unquote_plus(text)
        if _ID_LIKE.search(decoded):
            text = decoded
    return _ID_LIKE.sub(_mask_match, text)


def _mask_value(value: Any) -> Any:
    return mask_ids(value) if isinstance(value, str) else value


class MaskIdNumbers(logging.Filter):
    """Masks the message and each of its arguments in place, so formatters that read the arguments
    themselves (uvicorn's access formatter does) still get the shape they expect."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_ids(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_mask_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _mask_value(v) for k, v in record.args.items()}
        return True


def uvicorn_log_config(level: str) -> dict[str, object]:
    """uvicorn's own configuration with the masking filter on every handler, and the root logger (where
    the platform's modules log) sent through the same masked handler."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG}
    config["filters"] = {"mask_ids": {"()": "xinyong.logs.MaskIdNumbers"}}
    config["handlers"] = {
        name: {**handler, "filters": ["mask_ids"]} for name, handler in LOGGING_CONFIG["handlers"].items()
    }
    config["loggers"] = {
        name: {**logger, "level": level.upper()} if "level" in logger else logger
        for name, logger in LOGGING_CONFIG["loggers"].items()
    }
    config["root"] = {"handlers": ["default"], "level": level.upper()}
    return config
