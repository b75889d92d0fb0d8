"""Names of subjects: a matching key, a tidied display form and masking of personal names."""

from __future__ import annotations

import sys
import threading
import unicodedata
from functools import lru_cache
from types import ModuleType

_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"

# Applied after NFKC, which has already turned （）［］ into ASCII.
_MATCH_TABLE = str.maketrans(
    {
        **dict.fromkeys("[【〔〖", "("),
        **dict.fromkeys("]】〕〗", ")"),
        # Middle dots in minority and foreign names (买买提·艾力) come in many code points.
        **dict.fromkeys("•・‧∙⋅", "·"),
        **dict.fromkeys(_INVISIBLE),
    }
)

# Full-width ASCII letters/digits and the ideographic space only; Chinese punctuation stays.
_DISPLAY_TABLE = str.maketrans(
    {
        **{chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF1A)},
        **{chr(c): chr(c - 0xFEE0) for c in range(0xFF21, 0xFF3B)},
        **{chr(c): chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)},
        "\u3000": " ",
        **dict.fromkeys(_INVISIBLE),
    }
)

_COMPOUND_SURNAMES = frozenset(
    ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
     "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "百里", "呼延", "澹台", "公冶", "太史",
     "申屠", "钟离", "闻人", "濮阳", "万俟", "司空", "赫连", "拓跋", "第五", "东郭", "单于")
)  # fmt: skip


# Names repeat within a file (a subject's rows come together) and across look-ups of the same few names, not
# across hundreds of thousands: 200,000 entries held about 100 MB in an import's validating process and, on a
# file whose every row is a new subject, were never hit.
@lru_cache(maxsize=8192)
def normalize_name(name: str) -> str:
    """Key for comparing names: NFKC, ASCII brackets, no whitespace, upper-case Latin, simplified Chinese."""
    key = unicodedata.normalize("NFKC", name)
    key = "".join(key.split()).translate(_MATCH_TABLE).upper()
    return _zhconv().convert(key, "zh-hans")


_zhconv_lock = threading.Lock()
_zhconv_module: ModuleType | None = None


def _zhconv() -> ModuleType:
    """zhconv, imported on first use (processes that never compare names need not load it).

    zhconv locates its dictionary through pkg_resources when that can be imported, and importing
    pkg_resources (deprecated; it scans every installed distribution) cost 0.3–0.9 s, most of zhconv's start.
    Without it zhconv opens the same file next to its module, so the import is made with pkg_resources
    unavailable, unless something else has already loaded it.

    The module is kept here only once its import has finished: `sys.modules` holds it while another thread is
    still running its body, and that half-made module has no `convert` yet."""
    global _zhconv_module
    module = _zhconv_module
    if module is not None:
        return module
    with _zhconv_lock:
        if _zhconv_module is None:
            blocked = "pkg_resources" not in sys.modules
            if blocked:
                sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # `from pkg_resources import` fails
            try:
                import zhconv
            finally:
                if blocked:
                    del sys.modules["pkg_resources"]
            _zhconv_module = zhconv
        return _zhconv_module


def load_conversion_tables() -> None:
    """Import zhconv and load its tables now, as normalize_name would on its first uncached call: a caller with
    time to spare (waiting for a worker process to start) takes the cost there."""
    _zhconv().convert("", "zh-hans")


def clean_display_name(name: str) -> str:
    """Tidy a name for display without changing how the department wrote it."""
    return " ".join(name.translate(_DISPLAY_TABLE).split())


def mask_person_name(name: str) -> str:
    """Keep the surname (a known 复姓 counts as one) and star the rest: 张三 → 张*, 欧阳娜娜 → 欧阳**."""
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    keep = 2 if len(name) > 2 and name[:2] in _COMPOUND_SURNAMES else 1
    return name[:keep] + "*" * (len(name) - keep)
