"""Settings, read from the environment (prefix ``XINYONG_``) and passed in, never read at import time."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XINYONG_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/xinyong.db",
        description="SQLAlchemy URL of the database (SQLite or PostgreSQL).",
    )
    sqlite_cache_mb: int = Field(
        default=64, ge=2, le=65536,
        description="SQLite only: page cache of each database connection, in MB (the server uses few).",
    )
    secret_key_file: Path = Field(
        default=Path("var/secret.key"),
        description="File holding the platform's master key; created on first use if missing.",
    )
    secret_key: str | None = Field(
        default=None,
        description="The master key itself (overrides secret_key_file). At least 32 characters.",
    )
    upload_max_bytes: int = Field(default=200 * 1024 * 1024, description="Largest accepted upload or file.")
    xlsx_max_uncompressed_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024, description="Largest total uncompressed size of an XLSX archive."
    )
    api_batch_max_rows: int = Field(default=10_000, description="Most rows in one JSON batch request.")
    api_max_body_bytes: int = Field(default=32 * 1024 * 1024, description="Largest request body under /api/.")
    name_mismatch: str = Field(
        default="error",
        pattern="^(error|warning)$",
        description="Whether a name that disagrees with the register rejects the row or only warns.",
    )
    report_deadline_workdays: int = Field(default=7, description="Working days a department has to report.")
    import_chunk_rows: int = Field(default=5_000, description="Rows validated and stored per transaction.")
    parallel_min_bytes: int = Field(
        default=4 * 1024 * 1024,
        description="Files at least this large are read and validated in a second process while storing.",
    )
    catalog_dirs: tuple[Path, ...] = Field(
        default=(), description="Extra folders of catalogue entries (*.toml) beside the built-in types."
    )
    log_level: str = Field(default="INFO")
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="Addresses or networks (CIDR) of the reverse proxies in front of the server, as a JSON list; "
        "X-Forwarded-For is read only from these. Empty: the header is ignored.",
    )
    # --- public portal and disclosure (公示) -----------------------------------------------------------
    portal_mask_person_names: bool = Field(
        default=True, description="Whether natural persons' names are masked on the portal and public API (张*)."
    )
    disclosure_publish_person_warnings: bool = Field(
        default=False, description="Publish penalties on natural persons whose only category is a warning."
    )
    disclosure_publish_market_warnings: bool = Field(
        default=False,
        description="Publish warning-only penalties decided by market-regulation departments (class 'market').",
    )
    disclosure_warning_categories: tuple[str, ...] = Field(
        default=("警告",), description="处罚类别 values that make a penalty 'warning-only' when nothing else is set."
    )
    disclosure_department_classes: dict[str, str] = Field(
        default_factory=dict,
        description="Department USCC → classification (e.g. 'market'), for per-class publicity periods.",
    )
    disclosure_market_name_markers: tuple[str, ...] = Field(
        default=("市场监督管理",),
        description="A department whose name contains one of these is classified 'market' unless listed above.",
    )
    disclosure_max_months: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="Shorter publicity periods: key 'record_type' or 'record_type:class' → {tier: months}; "
        "0 means not published. Never longer than the catalogue's maximum.",
    )
    portal_rate_limit_requests: int = Field(
        default=60, description="Search/profile requests per client per window; 0 disables the limit."
    )
    portal_rate_limit_window_seconds: int = Field(default=60, description="Length of the rate-limit window.")
    portal_page_size: int = Field(default=20, description="Results per page on the portal.")

    # --- accounts, sessions and the admin console ----------------------------------------------------
    session_cookie_secure: bool = Field(
        default=False, description="Send the console session cookie only over HTTPS (set true in production)."
    )
    session_idle_minutes: int = Field(default=30, description="A console session ends after this much inactivity.")
    session_max_hours: int = Field(default=12, description="A console session ends this long after sign-in.")
    login_max_failures: int = Field(
        default=5, description="Consecutive wrong passwords after which an account is locked for a while."
    )
    login_lockout_minutes: int = Field(
        default=15, description="First lockout length; each further failure doubles it, up to a day."
    )
    login_rate_limit_attempts: int = Field(
        default=30, description="Sign-in attempts per client address per 15 minutes; 0 disables the limit."
    )
    password_min_length: int = Field(default=10, description="Shortest accepted password for console accounts.")

    # --- credit lists, the measure list and credit checks ----------------------------------------------
    lists_objection_workdays: int = Field(
        default=5, ge=1, le=60,
        description="Working days a subject has to object after the prior notice (a list type may set its own).",
    )
    lists_publish_workdays: int = Field(
        default=7, ge=1, le=30, description="Working days after a listing decision within which it is published."
    )
    check_matters: tuple[str, ...] = Field(
        default=("行政审批", "政府采购", "招标投标", "财政资金支持", "评先评优", "告知承诺适用", "公共资源交易",
                 "国有土地出让", "职业资格", "融资信贷"),
        description="The business matters (事项) credit checks and measures may name.",
    )
    checks_batch_max_rows: int = Field(default=10_000, ge=1, description="Most subjects in one batch check.")
    checks_positive_limit: int = Field(
        default=20, ge=0, description="Most positive records (licences …) a check returns per subject."
    )
    reference_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a server process keeps list types, measures and department names."
    )

    # --- credit repair (信用修复), objections (异议) and subject accounts -------------------------------------
    upload_dir: Path = Field(
        default=Path("var/uploads"), description="Directory where evidence uploads are stored under server-chosen names."
    )
    evidence_max_bytes: int = Field(default=10 * 1024 * 1024, description="Largest accepted evidence file.")
    evidence_max_files: int = Field(default=5, description="Most evidence files in one submission.")
    repair_platform_workdays: int = Field(
        default=10, description="Working days within which the platform answers a repair application."
    )
    repair_department_workdays: int = Field(
        default=3, description="Working days within which the owning department decides an accepted application."
    )
    repair_min_months: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="Special minimum periods before repair: record_type → {tier: months}; replaces the "
        "catalogue's minimum for that tier.",
    )
    repair_not_repairable_tiers: tuple[str, ...] = Field(
        default=(), description="Tiers whose records cannot be repaired early (they run their full period)."
    )
    repair_not_repairable_categories: tuple[str, ...] = Field(
        default=(), description="处罚类别 values that make a penalty non-repairable."
    )
    repair_required_materials: tuple[str, ...] = Field(
        default=("已履行行政处罚决定规定义务的证明材料（如罚没款缴纳凭证、整改完成情况说明）",),
        description="What an application must include besides the commitment; shown on notices and forms.",
    )
    objection_verify_workdays: int = Field(
        default=10, description="Working days within which the owning department answers an objection."
    )
    notifier: str = Field(
        default="console", pattern="^(console|email)$", description="How subjects are notified: console or email."
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server of the email notifier.")
    smtp_port: int = Field(default=25, description="SMTP port of the email notifier.")
    smtp_sender: str = Field(default="noreply@localhost", description="From address of notification emails.")
    events_file: Path = Field(
        default=Path("var/events.jsonl"),
        description="Change events for sharing systems are appended here (one JSON object a line) on delivery.",
    )
    verification_code_minutes: int = Field(default=15, description="How long a sign-up verification code is valid.")
    subject_session_hours: int = Field(default=2, description="A subject's portal session ends this long after sign-in.")
    # --- credit repair of list entries (名单信用修复，提前移出) ---------------------------------------------
    repair_list_min_months: dict[str, int] = Field(
        # 市场监管总局令第44号: 列入严重违法失信名单满一年, 可申请提前移出.
        default_factory=lambda: {"serious-dishonesty": 12},
        description="Months on a list (from its validity start) before early removal by repair can be applied "
        "for: list type key → months; a type not named here can be repaired once published.",
    )
    repair_list_not_repairable_types: tuple[str, ...] = Field(
        default=(), description="Local list types whose entries cannot be removed early by repair."
    )
    # --- monitoring (信用监测) and government integrity (政务诚信) -----------------------------------------
    monitoring_config: Path | None = Field(
        default=None,
        description="TOML file of the KPI definitions, weights, thresholds and warning rules; the built-in "
        "monitoring/kpis.toml when unset.",
    )
    integrity_config: Path | None = Field(
        default=None,
        description="TOML file of the 政务诚信 settings (government code pairs, case kinds, clearing period, ageing "
        "buckets, civil servants' file categories); the built-in integrity/integrity.toml when unset.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"“{entry}”不是 IP 地址或网段（如 10.0.0.1 或 10.0.0.0/24）") from None
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
