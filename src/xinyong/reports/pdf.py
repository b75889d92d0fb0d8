"""A report's content printed: HTML from the print template, then PDF by WeasyPrint with the CJK font embedded
as a subset (Debian's fonts-noto-cjk), a QR code of the verification address on every page.

Every value in the content is text someone typed (a department, a subject): the template escapes it, and the
renderer fetches nothing — no file, no network — but the data: URIs the template itself makes (the QR code),
so a value that looks like markup or a URL stays text.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "reports" / "print.css"
NUMERALS = "零一二三四五六七八九十"

_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)  # fmt: skip


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十: section numbers as Chinese documents write them."""
    if n <= 10:
        return NUMERALS[n]
    tens, ones = divmod(n, 10)
    return (NUMERALS[tens] if tens > 1 else "") + "十" + (NUMERALS[ones] if ones else "")


_env.filters["chinese_number"] = chinese_number




def _fetcher() -> URLFetcher:
    """Only the data: URIs the template itself writes; any other URL is refused, never opened."""
    return URLFetcher(allowed_protocols=("data",), allow_redirects=False, timeout=1)


def qr_data_uri(text: str) -> str:
    # PNG rather than SVG: the code is printed on every page, and WeasyPrint decodes an image once per document
    # but draws an SVG's paths again on each page.
    return str(segno.make(text, error="m", micro=False).png_data_uri(scale=6, border=0, dark="#1f2a37"))


def html(content: dict[str, Any], *, content_sha256: str) -> str:
    return _env.get_template("reports/print.html").render(r=content, digest=content_sha256,
                                                          qr=qr_data_uri(content["verify_url"]))  # fmt: skip


@lru_cache(maxsize=1)
def _stylesheet() -> tuple[CSS, FontConfiguration]:
    fonts = FontConfiguration()
    return CSS(filename=str(STYLESHEET), font_config=fonts, url_fetcher=_fetcher()), fonts


# WeasyPrint's layout shares font state (fontconfig, pango) that is not safe to use from two threads at once.
_render_lock = threading.Lock()


def render(content: dict[str, Any], *, content_sha256: str) -> bytes:
    """The unsigned PDF of the content."""
    markup = html(content, content_sha256=content_sha256)
    with _render_lock:
        stylesheet, fonts = _stylesheet()
        document = HTML(string=markup, url_fetcher=_fetcher())
        return bytes(document.write_pdf(stylesheets=[stylesheet], font_config=fonts, uncompressed_pdf=False))
