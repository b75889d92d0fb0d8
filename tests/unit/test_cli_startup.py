"""Every `xinyong` command starts by loading the command line; what only `serve`, a credit report or a monthly PDF
needs (the web application, the PDF and signing engines, about two seconds) is loaded by those commands alone. So are
the monthly report's workbook and chart engines and the webhooks' HTTP client: an import's storing process is the
command line's, and they held 32 MB of it."""

import subprocess
import sys

HEAVY = ("xinyong.app", "fastapi", "uvicorn", "weasyprint", "pyhanko", "xinyong.reports.pdf", "openpyxl", "reportlab",
         "httpx")


def test_the_command_line_starts_without_the_web_application_or_the_pdf_engines():
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, xinyong.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout.split()  # fmt: skip
    assert loaded == []
