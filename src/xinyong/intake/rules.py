"""Pure rules of the ways in: reporting frequencies, database sources and mapping files, watermarks, drop-folder
names. No session here; reading the operator's configuration files is the only I/O."""

from __future__ import annotations

import re
import stat
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from xinyong.catalog import Catalog, RecordType
from xinyong.catalog.schema import REPORTING_FREQUENCIES
from xinyong.clock import CHINA
from xinyong.errors import DomainError, InvalidInput

# ------------------------------------------------------------------------------------ 部门目录清单


# How often a department must report a type. 双公示 decisions are due within 7 working days of each decision
# (the timeliness KPI measures each one); a monthly, quarterly or yearly type is due once in its period.
WITHIN_7_WORKDAYS, MONTHLY, QUARTERLY, YEARLY = REPORTING_FREQUENCIES  # the catalogue's vocabulary (`reporting`)
FREQUENCIES = dict(zip(REPORTING_FREQUENCIES, ("作出决定后 7 个工作日内（双公示）", "每月", "每季度", "每年"), strict=True))


def default_frequency(record_type: RecordType) -> str:
    """What the catalogue declares (`reporting`, 7wd for the 双公示 types), else monthly."""
    return record_type.reporting


def check_frequency(text: str) -> str:
    value = (text or "").strip()
    if value not in FREQUENCIES:
        raise InvalidInput(reason=f"报送频次“{value[:20]}”无效（可选：{'、'.join(f'{k}（{v}）' for k, v in FREQUENCIES.items())}）")
    return value


def period_of(frequency: str, month_start: date) -> tuple[date, date] | None:
    """The reporting period that ends in the month starting `month_start`, or None when the duty is not due in
    that month. 双公示 and monthly types are due every month (a month with no decision is reported by a file holding
    only its header: 零报送); quarterly types in March, June, September and December; yearly ones in December."""
    year, month = month_start.year, month_start.month
    end = date(year + (month == 12), month % 12 + 1, 1)
    last = date.fromordinal(end.toordinal() - 1)
    if frequency in (WITHIN_7_WORKDAYS, MONTHLY):
        return month_start, last
    if frequency == QUARTERLY:
        return (date(year, month - 2, 1), last) if month % 3 == 0 else None
    if frequency == YEARLY:
        return (date(year, 1, 1), last) if month == 12 else None
    return None


# ---------------------------------------------------------------------------------------- 库对接 sources


class IntakeConfigError(DomainError):
    code = "intake-config-invalid"
    status_code = 422
    message_template = "归集配置有误（{where}）：{reason}"


class PullRefused(DomainError):
    """A pull stopped on the source's side: unreachable, disconnected, a watermark going backwards."""

    code = "pull-refused"
    status_code = 422
    message_template = "库对接“{source}”未完成：{reason}"


SOURCE_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
DRIVERS = ("postgresql", "postgresql+psycopg", "mysql+pymysql", "sqlite")
DEFAULT_CHUNK_ROWS = 5000


@dataclass(frozen=True)
class Mapping:
    """A mapping file: which catalogue type the source's rows are, and which source column fills each field."""

    record_type: str
    columns: dict[str, str]  # catalogue field code → source column
    constants: dict[str, str] = field(default_factory=dict)  # catalogue field code → a fixed value


@dataclass(frozen=True)
class Source:
    key: str
    department: str  # the department's 统一社会信用代码: rows are imported as that department
    url: str  # an SQLAlchemy URL without credentials; they come from the secrets file
    table: str
    schema: str | None
    watermark: str
    key_column: str
    mapping: Mapping
    secret: str | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS


def _table(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise IntakeConfigError(where=where, reason="须为表")
    return raw


def _identifier(raw: dict[str, Any], name: str, where: str, *, required: bool = True) -> str | None:
    value = raw.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not IDENTIFIER_RE.match(value):
        raise IntakeConfigError(where=where, reason=f"{name} 须为数据库中的表、视图或列名（字母、数字、下划线）")
    return value


def parse_mapping(raw: dict[str, Any], where: str, catalog: Catalog) -> Mapping:
    """Refuses a mapping to an unknown type, to an unknown field, or a source column that is not a plain name."""
    key = raw.get("record_type")
    if not isinstance(key, str) or key not in catalog.types:
        raise IntakeConfigError(where=where, reason=f"未知的信息类别 {key!r}（可用：{'、'.join(catalog.types)}）")
    rtype = catalog.types[key]
    columns = _table(raw.get("columns", {}), f"{where}:columns")
    constants = _table(raw.get("constants", {}), f"{where}:constants")
    if not columns:
        raise IntakeConfigError(where=where, reason="columns 须至少映射一个字段")
    unknown = sorted(set(columns) - set(rtype.by_code)) + sorted(set(constants) - set(rtype.by_code))
    if unknown:
        raise IntakeConfigError(where=where, reason=f"{rtype.name}（{key}）没有字段 {'、'.join(unknown)}")
    both = sorted(set(columns) & set(constants))
    if both:
        raise IntakeConfigError(where=where, reason=f"字段 {'、'.join(both)} 不能既取自列又是常量")
    for code, column in columns.items():
        if not isinstance(column, str) or not IDENTIFIER_RE.match(column):
            raise IntakeConfigError(where=f"{where}:columns.{code}", reason="源列名须为字母、数字、下划线")
    return Mapping(key, dict(columns), {k: str(v) for k, v in constants.items()})


def load_sources(path: Path, catalog: Catalog) -> dict[str, Source]:
    """The sources file (TOML, one `[sources.<key>]` table each); mapping files are named relative to it."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IntakeConfigError(where=path.name, reason="文件不存在") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise IntakeConfigError(where=path.name, reason=str(exc)[:200]) from None
    sources: dict[str, Source] = {}
    for key, table in _table(raw.get("sources", {}), f"{path.name}:sources").items():
        where = f"{path.name}:sources.{key}"
        if not SOURCE_KEY_RE.match(key):
            raise IntakeConfigError(where=where, reason="数据源名称须为小写字母开头的字母、数字、-、_")
        table = _table(table, where)
        url = table.get("url")
        if not isinstance(url, str) or url.split("://", 1)[0] not in DRIVERS:
            raise IntakeConfigError(where=where, reason=f"url 须为数据库地址（支持：{'、'.join(DRIVERS)}）")
        if "@" in url.split("://", 1)[-1].split("/", 1)[0]:
            raise IntakeConfigError(where=where, reason="url 中不能写用户名和密码：请写在密钥文件中（secret）")
        mapping_name = table.get("mapping")
        if not isinstance(mapping_name, str):
            raise IntakeConfigError(where=where, reason="缺少映射文件（mapping）")
        mapping_path = (path.parent / mapping_name)
        try:
            mapping_raw = tomllib.loads(mapping_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IntakeConfigError(where=where, reason=f"映射文件 {mapping_name} 不存在") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise IntakeConfigError(where=mapping_name, reason=str(exc)[:200]) from None
        department = table.get("department")
        if not isinstance(department, str) or len(department) != 18:
            raise IntakeConfigError(where=where, reason="department 须为报送部门的 18 位统一社会信用代码")
        chunk = table.get("chunk_rows", DEFAULT_CHUNK_ROWS)
        if not isinstance(chunk, int) or isinstance(chunk, bool) or not 1 <= chunk <= 100_000:
            raise IntakeConfigError(where=where, reason="chunk_rows 须为 1–100000 的整数")
        secret = table.get("secret")
        if secret is not None and not isinstance(secret, str):
            raise IntakeConfigError(where=where, reason="secret 须为密钥文件中的名称")
        sources[key] = Source(
            key=key, department=department, url=url, table=str(_identifier(table, "table", where)),
            schema=_identifier(table, "schema", where, required=False),
            watermark=str(_identifier(table, "watermark", where)), key_column=str(_identifier(table, "key", where)),
            mapping=parse_mapping(mapping_raw, mapping_name, catalog), secret=secret, chunk_rows=chunk,
        )  # fmt: skip
    return sources


def load_secret(path: Path | None, name: str | None, *, where: str) -> dict[str, str]:
    """The credentials of one source from the secrets file (TOML: `[name] username = … password = …`). The file
    must be readable by its owner only; its values are never printed nor logged."""
    if name is None:
        return {}
    if path is None:
        raise IntakeConfigError(where=where, reason=f"数据源需要密钥“{name}”，但未指定密钥文件（--secrets 或 XINYONG_INTAKE_SECRETS）")
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise IntakeConfigError(where=path.name, reason="密钥文件不存在或不可读") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise IntakeConfigError(where=path.name, reason="密钥文件只能由其所有者读写（chmod 600）")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise IntakeConfigError(where=path.name, reason="密钥文件不是有效的 TOML（内容不予显示）") from None
    entry = raw.get(name)
    if not isinstance(entry, dict):
        raise IntakeConfigError(where=path.name, reason=f"密钥文件中没有“{name}”")
    return {k: str(v) for k, v in entry.items() if k in ("username", "password")}


# ------------------------------------------------------------------------------------------- watermarks


def encode_mark(value: Any) -> str:
    """A watermark or key value as stored text, tagged with its type so that it is compared as it was read."""
    if isinstance(value, bool):
        raise InvalidInput(reason="水位列不能是布尔值")
    if isinstance(value, datetime):
        return f"datetime:{value.isoformat()}"
    if isinstance(value, date):
        return f"date:{value.isoformat()}"
    if isinstance(value, int):
        return f"int:{value}"
    if isinstance(value, Decimal | float):
        return f"decimal:{value}"
    return f"str:{value}"


def decode_mark(text: str) -> Any:
    kind, _, value = text.partition(":")
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "int":
        return int(value)
    if kind == "decimal":
        return Decimal(value)
    return value


def mark_text(text: str | None) -> str:
    """A stored watermark as an operator reads it."""
    return text.partition(":")[2] if text else "（从头开始）"


def cell_text(value: Any) -> str:
    """A database value as the pipeline reads a cell: dates in ISO form, decimals as written, None empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):  # a time with a zone is read as a date in Beijing time
        return (value.astimezone(CHINA) if value.tzinfo else value).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def scrub(text: str, secrets: dict[str, str]) -> str:
    """A driver's message with any secret value cut out (a DSN echoed in an error, say)."""
    for value in secrets.values():
        if value:
            text = text.replace(value, "******")
    return text


# ------------------------------------------------------------------------------------- the drop folder


DROP_SUFFIXES = (".csv", ".xlsx")
# Names that copying programs give files still being written.
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".filepart", ".uploading")
SAFE_NAME_RE = re.compile(r"^[\w\u3000-\u9fff\uff00-\uffef（）()\[\]【】 .+-]{1,200}$")
RESERVED = ("done", "failed", "processing")


def name_problem(name: str) -> tuple[str, str] | None:
    """Why a dropped file's name is refused, as (problem code, message), or None when it may be imported."""
    if ".." in name or "\\" in name or "/" in name or not SAFE_NAME_RE.match(name):
        return "unsafe-name", "文件名含有不允许的字符或路径（如 ..、\\、/、控制字符），已拒收"
    if not name.lower().endswith(DROP_SUFFIXES):
        return "unsupported-format", f"不支持的文件类型（只接收 {'、'.join(DROP_SUFFIXES)}），已拒收"
    return None


def is_partial(name: str) -> bool:
    """A file a copying program is still writing: its temporary suffix, an Office lock file, or a hidden name
    (rsync and others write `.name.XXXXXX` and rename it when done)."""
    lower = name.lower()
    return lower.endswith(PARTIAL_SUFFIXES) or name.startswith(("~$", "."))
