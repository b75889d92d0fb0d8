"""The PDF report's font: a subset of Debian's Noto Sans CJK per report, with TrueType outlines ReportLab embeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.pdfbase import pdfmetrics

from xinyong.config import Settings
from xinyong.monitoring import pdffont

FONT = Settings.model_fields["pdf_font"].default


@pytest.fixture
def noto() -> Path:
    if not FONT.exists():
        pytest.skip("fonts-noto-cjk is not installed (scripts/install-system-deps.sh)")
    return FONT


def test_each_set_of_characters_gets_a_font_of_its_own(noto):
    first = pdffont.register(noto, "信用监测月报")
    second = pdffont.register(noto, "近几个月均无数据")
    assert first != second
    assert pdffont.register(noto, "月报监测信用") == first  # the same characters: the same font
    faces = {name: pdfmetrics.getFont(name).face for name in (first, second)}
    # Registered one after the other, each keeps its own glyphs (not the first font's under the second name).
    assert ord("近") in faces[second].charToGlyph
    assert ord("近") not in faces[first].charToGlyph
    assert ord("报") in faces[first].charToGlyph
    assert faces[second].name != faces[first].name


def test_a_missing_or_unreadable_font_file_is_refused_with_the_reason(tmp_path):
    with pytest.raises(pdffont.PdfFontUnavailable, match="文件不存在"):
        pdffont.register(tmp_path / "none.ttc", "信用")
    broken = tmp_path / "broken.ttc"
    broken.write_bytes(b"not a font")
    with pytest.raises(pdffont.PdfFontUnavailable, match="无法读取字体"):
        pdffont.register(broken, "信用")
