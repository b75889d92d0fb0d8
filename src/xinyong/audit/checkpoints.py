"""Checkpoints of the audit chain, published outside the database.

A checkpoint is one JSON line: the position of the chain's head (seq, entry id, count), its hash, when it was
published, and an HMAC under the audit key. The file is only ever appended to. Someone who can write the
database but not this file cannot delete entries from the end (the file names a later entry) or rewrite
entries and their successors (the file names their old hashes), even holding the audit key.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from xinyong.audit import rules
from xinyong.audit.keys import AuditKeys

log = logging.getLogger("xinyong.audit")


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    entry_id: int
    hash: str
    count: int
    published_at: str
    key_id: str
    line: int = 0  # position in the file, when read from it

    def fields(self) -> dict[str, Any]:
        return {"seq": self.seq, "entry_id": self.entry_id, "hash": self.hash, "count": self.count,
                "published_at": self.published_at, "key_id": self.key_id}  # fmt: skip


def sign(keys: AuditKeys, *, seq: int, entry_id: int, digest: str, now: datetime) -> dict[str, Any]:
    fields = Checkpoint(seq=seq, entry_id=entry_id, hash=digest, count=seq, published_at=rules.timestamp_text(now),
                        key_id=keys.current_id).fields()  # fmt: skip
    return {**fields, "mac": rules.checkpoint_mac(keys.current, fields)}


def append(path: Path, line: dict[str, Any]) -> None:
    """One line, one write, in append mode (writers in several processes never interleave), flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (rules.canonical_json(line) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


def read(path: Path, keys: AuditKeys) -> Iterator[Checkpoint | BadLine]:
    """Every line of the file, checked against the keys: a Checkpoint, or a BadLine saying what is wrong."""
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
                point = Checkpoint(seq=int(raw["seq"]), entry_id=int(raw["entry_id"]), hash=str(raw["hash"]),
                                   count=int(raw["count"]), published_at=str(raw["published_at"]),
                                   key_id=str(raw["key_id"]), line=number)  # fmt: skip
                mac = str(raw["mac"])
            except (ValueError, TypeError, KeyError):
                yield BadLine(number, "无法解析")
                continue
            key = keys.keys.get(point.key_id)
            if key is None:
                yield BadLine(number, f"的签名密钥（编号 {point.key_id}）不在本平台的审计密钥中")
            elif not rules.same_digest(rules.checkpoint_mac(key, point.fields()), mac):
                yield BadLine(number, "的签名无效（检查点被改动或伪造）")
            else:
                yield point
