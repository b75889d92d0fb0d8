"""Files as received from a client, before any domain has looked at them, and the names they may be shown
under."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from xinyong.codes import mask_id_numbers


@dataclass(frozen=True)
class IncomingFile:
    """An uploaded file: the client's name (for display only, never a path) and its bytes (read at most one
    byte past the limit the reader was given, so that an oversized file is recognised without being held
    whole)."""

    filename: str
    data: bytes


_UNSAFE = re.compile(r"[^\w\u4e00-\u9fff.()（）\- ]+")


def safe_filename(raw: str | None) -> str:
    """The name to show and store for an uploaded file: its last path segment (either slash), no control
    characters, no leading dots, ID numbers masked, at most 120 characters. Never used as a path on disk."""
    name = unicodedata.normalize("NFKC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE.sub("_", mask_id_numbers(name)).strip(" .")
    if len(name) > 120:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[: 110] + dot + suffix[:8]) if dot else name[:120]
    return name or "upload"
