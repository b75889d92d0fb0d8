"""Reading a portal form that carries evidence files (证明材料), for every page that takes them (credit repair,
objections): the size limits come from the settings, the files from the form's `evidence` field."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import FormData

from xinyong.config import Settings
from xinyong.web import forms


def upload_limit(settings: Settings) -> int:
    """The largest form with evidence: every file at its largest, and the envelope."""
    return settings.evidence_max_bytes * settings.evidence_max_files + forms.MULTIPART_OVERHEAD


async def read_evidence_form(request: Request, settings: Settings) -> tuple[FormData, list[Any]]:
    form = await forms.read_form(request, max_bytes=upload_limit(settings), max_files=settings.evidence_max_files + 1)
    return form, await forms.files(form, "evidence", max_bytes=settings.evidence_max_bytes,
                                   max_files=settings.evidence_max_files)  # fmt: skip
