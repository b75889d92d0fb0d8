"""Logging that never carries a full ID number.

Access logs record request lines, and a public search by ID number puts the number in the query string
(perhaps percent-encoded, in full-width digits, or with spaces, tabs or dashes between the digits, which the
portal tolerates); a notification written to the log may quote text a person typed. Every handler of the
server, and the root logger the platform's own modules log through, gets a filter that masks anything shaped
like a resident ID number before the record is written: the scanner of codes/idtext.py, taking every 15- or
18-character candidate (no province or birth-date test: masking a number in a log line costs nothing).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote_plus

from xinyong.codes.idtext import find_id_numbers, mask_id_numbers


def mask_ids(text: str) -> str:
    if "%" in text:
        # Percent-encoded separators or digits would hide a number from the scan.
        decoded = unquote_plus(text)
        if next(find_id_numbers(decoded, shape_only=True), None) is not None:
            text = decoded
    return mask_id_numbers(text, shape_only=True)


_TRACEBACKS = logging.Formatter()


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_ids(value)
    if value is None or isinstance(value, int | float):
        return value  # %d and %f need the number itself
    # Objects formatted with %s (an HTTP client logs its URL object): masked through their text.
    text = str(value)
    masked = mask_ids(text)
    return value if masked == text else masked


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
        if record.exc_info and not record.exc_text:
            # Formatters print exc_text when it is set: the traceback, whose messages may quote input, masked.
            record.exc_text = mask_ids(_TRACEBACKS.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = mask_ids(record.stack_info)
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
