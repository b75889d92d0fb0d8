from pathlib import Path

from xinyong.config import Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"XINYONG_{name.upper()}" not in text]
    assert not missing, f"settings missing from docs/configuration.md: {missing}"
