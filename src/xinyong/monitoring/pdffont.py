"""The CJK font embedded in the monthly PDF report, so that any reader shows its Chinese without fonts of its own.

The font is Debian's Noto Sans CJK SC (fonts-noto-cjk), or the file named by `XINYONG_PDF_FONT`. ReportLab embeds
TrueType outlines only, and Noto CJK has PostScript (CFF) outlines: for each report the font is cut down with
fontTools to the characters the report holds, and those few hundred glyphs are turned into TrueType outlines
(quadratic curves, `Cu2QuPen`) in memory — well under a second, where converting all 65,000 glyphs would take
minutes. A font with TrueType outlines is only cut down.

A ReportLab font is registered by name for the life of the process; the name is the digest of the characters,
so the same report (or any with the same characters) reuses it, and the registered fonts are bounded by the
distinct reports made. The subset carries that name as its PostScript name too: ReportLab takes a font whose
PostScript name it has seen for the font registered first under that name, whose characters differ."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, TTLibError, newTable
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as ReportLabFont

from xinyong.errors import DomainError

FAMILY = "Noto Sans CJK SC"  # the member of a collection chosen when there is one (Simplified Chinese forms)
# Quadratic curves may leave the cubic ones by at most this many font units (of 1,000 per em): invisible.
MAX_CURVE_ERROR = 1.0
_lock = threading.Lock()


class PdfFontUnavailable(DomainError):
    code = "pdf-font-unavailable"
    status_code = 503
    message_template = "生成 PDF 所需的中文字体不可用（{path}）：{reason}。请安装 fonts-noto-cjk，或用 XINYONG_PDF_FONT 指定字体文件"


def register(path: Path, text: str) -> str:
    """The name of a registered font holding every character of `text` that the font file has."""
    characters = "".join(sorted(set(text) | {" "}))
    name = "XinyongCJK-" + hashlib.sha256(f"{path}\0{characters}".encode()).hexdigest()[:16]
    with _lock:
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(ReportLabFont(name, io.BytesIO(_subset(path, characters, name))))
    return name


def _open(path: Path) -> TTFont:
    try:
        if path.suffix.lower() in (".ttc", ".otc"):
            members = TTCollection(str(path), lazy=True).fonts
            return next((f for f in members if f["name"].getDebugName(1) == FAMILY), members[0])
        return TTFont(str(path), lazy=True)
    except FileNotFoundError:
        raise PdfFontUnavailable(path=path, reason="文件不存在") from None
    except (OSError, TTLibError, IndexError) as exc:
        raise PdfFontUnavailable(path=path, reason=f"无法读取字体：{exc}") from None


def _subset(path: Path, characters: str, name: str) -> bytes:
    font = _open(path)
    options = subset.Options()
    options.layout_features = []  # no shaping in a report of plain horizontal text
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    cutter = subset.Subsetter(options)
    cutter.populate(text=characters)
    cutter.subset(font)
    if "CFF " in font:
        _to_truetype_outlines(font)
    for record in font["name"].names:
        if record.nameID == 6:  # the PostScript name, by which ReportLab tells fonts apart
            record.string = name
    font["name"].setName(name, 6, 3, 1, 0x409)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _to_truetype_outlines(font: TTFont) -> None:
    """Replace the CFF table by glyf/loca: each glyph drawn again with its cubic curves made quadratic."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for glyph_name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[glyph_name].draw(Cu2QuPen(pen, MAX_CURVE_ERROR, reverse_direction=True))  # TrueType winds the other way
        glyf.glyphs[glyph_name] = pen.glyph()
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]  # vertical origins belong to CFF fonts
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    font["head"].glyphDataFormat = 0
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000  # the TrueType form, with the fields below (no hinting: all but one zero)
    maxp.maxZones = 1
    for attribute in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                      "maxStackElements", "maxSizeOfInstructions", "maxComponentElements", "maxComponentDepth"):  # fmt: skip
        setattr(maxp, attribute, 0)
    post = font["post"]
    post.formatType = 3.0  # no glyph names: readers map glyphs through cmap
    font.sfntVersion = "\x00\x01\x00\x00"
