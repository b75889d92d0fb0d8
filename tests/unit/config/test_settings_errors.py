"""An operator who writes a setting in the wrong form reads one Chinese line naming it and the form it wants."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from xinyong.config import SettingsInvalid, load_settings


def test_list_settings_take_what_operators_write(monkeypatch, tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.setenv("XINYONG_CATALOG_DIRS", str(tmp_path / "a"))  # one plain path
    assert load_settings().catalog_dirs == (tmp_path / "a",)
    monkeypatch.setenv("XINYONG_CATALOG_DIRS", f"{tmp_path / 'a'}, {tmp_path / 'b'}")
    assert load_settings().catalog_dirs == (tmp_path / "a", tmp_path / "b")
    monkeypatch.setenv("XINYONG_CATALOG_DIRS", f'["{tmp_path / "b"}"]')
    assert load_settings().catalog_dirs == (tmp_path / "b",)
    monkeypatch.setenv("XINYONG_TRUSTED_PROXIES", "10.0.0.5,10.1.0.0/24")
    assert load_settings().trusted_proxies == ("10.0.0.5", "10.1.0.0/24")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("XINYONG_CATALOG_DIRS", "/nonexistent/catalog", "XINYONG_CATALOG_DIRS 的值应为以逗号分隔的列表"),
        ("XINYONG_SQLITE_CACHE_MB", "lots", "XINYONG_SQLITE_CACHE_MB 的值应为整数（不小于 2，不大于 65536）（收到“lots”）"),
        ("XINYONG_DISCLOSURE_MAX_MONTHS", "penalty:3", "XINYONG_DISCLOSURE_MAX_MONTHS 的值应为JSON 对象"),
        ("XINYONG_TRUSTED_PROXIES", "10.0.0.300", "不是 IP 地址或网段"),
        ("XINYONG_NAME_MISMATCH", "maybe", "XINYONG_NAME_MISMATCH 的值应为以下之一：error、warning"),
        ("XINYONG_SESSION_COOKIE_SECURE", "perhaps", "XINYONG_SESSION_COOKIE_SECURE 的值应为true 或 false"),
    ],
)
def test_a_setting_in_the_wrong_form_is_one_line(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsInvalid) as caught:
        load_settings()
    assert expected in caught.value.message
    assert "\n" not in caught.value.message


def test_the_command_line_says_it_in_one_line():
    variable, value = "XINYONG_SQLITE_CACHE_MB", "lots"
    expected = "XINYONG_SQLITE_CACHE_MB 的值应为整数"
    result = subprocess.run([sys.executable, "-m", "xinyong", "calendar", "deadline", "2025-09-29"],
                            capture_output=True, text=True, env={**os.environ, variable: value, "COLUMNS": "300"},
                            timeout=60, check=False)  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "pydantic" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert expected in result.stderr
