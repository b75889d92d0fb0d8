"""Files as received from a client, before any domain has looked at them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IncomingFile:
    """An uploaded file: the client's name (for display only, never a path) and its bytes (read at most one
    byte past the limit the reader was given, so that an oversized file is recognised without being held
    whole)."""

    filename: str
    data: bytes
