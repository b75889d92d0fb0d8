"""Reading forms within bounds: the body's size is checked before anything parses it."""

from __future__ import annotations

from datetime import date

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from xinyong.errors import InvalidInput
from xinyong.files import IncomingFile
from xinyong.web import csrf

FORM_MAX_BYTES = 256 * 1024  # a form without files
MULTIPART_OVERHEAD = 64 * 1024  # the envelope around files of the largest accepted size


class PayloadTooLarge(InvalidInput):
    code = "payload-too-large"
    status_code = 413
    message_template = "上传内容超过 {limit} MB 的上限"


def optional_date(text: str | None, what: str) -> date | None:
    """A date field of a form: empty is None; anything but YYYY-MM-DD is a 400 naming the field."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(reason=f"{what}“{text[:20]}”不是有效日期（YYYY-MM-DD）") from None




def check_length(request: Request, max_bytes: int) -> None:
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise InvalidInput(reason="请求须注明长度（Content-Length）")
    if int(length) > max_bytes:
        raise PayloadTooLarge(limit=max(1, max_bytes // (1024 * 1024)))


async def read_form(request: Request, *, max_bytes: int = FORM_MAX_BYTES, max_files: int = 0,
                    check_csrf: bool = True) -> FormData:  # fmt: skip
    """The form, refused before parsing when the body is larger than allowed or of unknown length, and
    CSRF-checked unless the caller checks otherwise."""
    check_length(request, max_bytes)
    form = await request.form(max_files=max_files, max_fields=60)
    if check_csrf:
        value = form.get(csrf.FIELD)
        csrf.verify(request, request.headers.get(csrf.HEADER) or (value if isinstance(value, str) else None))
    return form


def text(form: FormData, name: str, limit: int = 4000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def texts(form: FormData, name: str, *, limit: int = 200, most: int = 50) -> list[str]:
    return [v[:limit] for v in form.getlist(name) if isinstance(v, str)][:most]


def upload(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


async def files(form: FormData, name: str, *, max_bytes: int, max_files: int) -> list[IncomingFile]:
    items = [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]
    if len(items) > max_files:
        raise InvalidInput(reason=f"一次最多上传 {max_files} 个文件")
    return [IncomingFile(item.filename or "", await item.read(max_bytes + 1)) for item in items]
