"""Pure rules of regions: GB/T 2260 codes, their levels, which code may sit under which, portal host names."""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum import numdb

LEVEL_TITLES = {"province": "省级", "city": "市级", "county": "县级"}
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
_PREFIX = re.compile(r"^/region/(\d{6})(/.*)?$")
PORTAL_PREFIX = "/region"  # a county's portal under the city's host: /region/<code>/…


class RegionCodeError(ValueError):
    """A code that is not a GB/T 2260 region code; the message is shown to the user."""


def level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


@lru_cache(maxsize=4096)
def official_name(code: str) -> str | None:
    """The region's name in GB/T 2260 (python-stdnum's table, which also holds retired codes), or None."""
    if len(code) != 6 or not code.isdigit():
        return None
    parts = numdb.get("cn/loc").info(code)
    if len(parts) < 2 or "county" not in parts[1][1]:
        return None
    name = re.sub(r"^\[[^\]]*\]", "", parts[1][1]["county"]).strip()
    return name or None


def clean_code(text: str | None) -> str:
    """A GB/T 2260 code as stored; raises RegionCodeError for anything that is not a known code."""
    code = "".join((text or "")[:32].split())
    if len(code) != 6 or not code.isdigit():
        raise RegionCodeError("行政区划代码应为 6 位数字（GB/T 2260）")
    if official_name(code) is None:
        raise RegionCodeError(f"行政区划代码 {code} 不在 GB/T 2260 代码表中")
    return code


def may_contain(parent: str, child: str) -> bool:
    """Whether `child` may sit directly or indirectly under `parent` by their codes: a province holds the codes
    that share its first two digits, a city those that share its first four; a county holds none."""
    if parent == child:
        return False
    if level(parent) == "province":
        return child[:2] == parent[:2]
    if level(parent) == "city":
        return child[:4] == parent[:4] and level(child) == "county"
    return False


def clean_host(text: str | None) -> str | None:
    """A portal host name as stored (lower case, no port, no trailing dot); None for empty; ValueError if bad."""
    host = (text or "").strip().lower().rstrip(".")
    if not host:
        return None
    if not _HOST.match(host) or host.replace(".", "").isdigit():
        raise RegionCodeError("门户域名格式不正确（如 juxian.credit.example.cn，不含端口和路径）")
    return host


def request_host(header: str | None) -> str:
    """The host a request names, as compared with the stored ones (port and case removed)."""
    host = (header or "").strip().lower()
    if host.startswith("["):  # an IPv6 literal: never a region's host
        return ""
    return host.rsplit(":", 1)[0].rstrip(".")


def split_prefix(path: str) -> tuple[str, str] | None:
    """(region code, rest of the path) for a path under the per-region prefix, else None."""
    match = _PREFIX.match(path)
    if match is None:
        return None
    return match.group(1), match.group(2) or "/"
