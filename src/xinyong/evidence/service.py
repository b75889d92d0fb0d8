"""Evidence files: checked by content, stored under a random name in the configured directory; the sender's
file name is cleaned (files.safe_filename) and only ever shown, never used as a path."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.config import Settings
from xinyong.errors import InvalidInput, NotFound
from xinyong.evidence.models import Evidence
from xinyong.files import IncomingFile, safe_filename

# suffix → (media type, magic prefixes)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
}
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(pdf|jpg|jpeg|png)$")


def check_file(incoming: IncomingFile, *, max_bytes: int) -> tuple[str, str, str]:
    """(display name, suffix, media type), or InvalidInput naming the file and the problem."""
    display = safe_filename(incoming.filename)
    if len(incoming.data) > max_bytes:
        raise InvalidInput(reason=f"文件“{display}”超过 {max_bytes // (1024 * 1024) or 1} MB 的上限")
    if not incoming.data:
        raise InvalidInput(reason=f"文件“{display}”为空")
    suffix = Path(display.lower()).suffix
    if suffix not in ALLOWED:
        raise InvalidInput(reason=f"文件“{display}”类型不受支持，只接受 PDF、JPG、PNG")
    media_type, magics = ALLOWED[suffix]
    if not incoming.data.startswith(magics):
        raise InvalidInput(reason=f"文件“{display}”的内容与其类型不符")
    return display, suffix, media_type


def check_all(files: list[IncomingFile], *, settings: Settings, required: bool) -> None:
    if required and not files:
        raise InvalidInput(reason="请上传证明材料")
    if len(files) > settings.evidence_max_files:
        raise InvalidInput(reason=f"一次最多上传 {settings.evidence_max_files} 个文件")
    for incoming in files:
        check_file(incoming, max_bytes=settings.evidence_max_bytes)


def store(session: Session, files: list[IncomingFile], *, settings: Settings, owner: str, round_: int
          ) -> list[Evidence]:  # fmt: skip
    """Check every file first, then write them. A later rollback leaves unreferenced files on disk, never
    rows without files."""
    check_all(files, settings=settings, required=False)
    directory = Path(settings.upload_dir) / "evidence"
    directory.mkdir(parents=True, exist_ok=True)
    stored = []
    for incoming in files:
        display, suffix, media_type = check_file(incoming, max_bytes=settings.evidence_max_bytes)
        name = uuid.uuid4().hex + suffix
        (directory / name).write_bytes(incoming.data)
        row = Evidence(owner=owner, round=round_, display_name=display, stored_name=name, media_type=media_type,
                       size=len(incoming.data), sha256=hashlib.sha256(incoming.data).hexdigest())  # fmt: skip
        session.add(row)
        stored.append(row)
    return stored


def list_for(session: Session, owner: str) -> list[Evidence]:
    return list(session.scalars(select(Evidence).where(Evidence.owner == owner).order_by(Evidence.id)))


def get_for(session: Session, owner: str, evidence_id: int) -> Evidence:
    row = session.get(Evidence, evidence_id)
    if row is None or row.owner != owner:
        raise NotFound(what="该材料")
    return row


def path_of(settings: Settings, row: Evidence) -> Path:
    if not STORED_NAME.match(row.stored_name):
        raise NotFound(what="该材料")
    return Path(settings.upload_dir) / "evidence" / row.stored_name
