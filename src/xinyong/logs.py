"""Logging that never carries a full ID number.

Access logs record request lines, and a public search by ID number puts the number in the query string;
every handler of the server gets a filter that masks anything shaped like a resident ID number (15 or 18
characters, digits with a final X) before the record is written.
"""

from __future__ import annotations

import logging
import re

# Not preceded or followed by another digit, so order numbers and timestamps keep their shape unless they
# are exactly ID-shaped.
_ID_LIKE = re.compile(r"(?<![0-9])([0-9]{6})([0-9]{8}[0-9]{3}[0-9Xx]|[0-9]{6}[0-9]{3})(?![0-9Xx])")


def mask_ids(text: str) -> str:
    return _ID_LIKE.sub(lambda m: m.group(1)[:4] + "*" * (len(m.group(0)) - 8) + m.group(0)[-4:], text)


class MaskIdNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_ids(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def uvicorn_log_config(level: str) -> dict[str, object]:
    """uvicorn's own configuration with the masking filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict = {**LOGGING_CONFIG}
    config["filters"] = {"mask_ids": {"()": "xinyong.logs.MaskIdNumbers"}}
    config["handlers"] = {
        name: {**handler, "filters": ["mask_ids"]} for name, handler in LOGGING_CONFIG["handlers"].items()
    }
    config["loggers"] = {
        name: {**logger, "level": level.upper()} if "level" in logger else logger
        for name, logger in LOGGING_CONFIG["loggers"].items()
    }
    return config
