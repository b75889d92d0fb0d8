"""Settings, read from the environment (prefix ``XINYONG_``) and passed in, never read at import time."""

from __future__ import annotations

import ipaddress
import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from xinyong.errors import DomainError

PREFIX = "XINYONG_"


def _list_from_env(value: Any) -> Any:
    """A list setting as operators write it: items separated by commas (one plain path is a list of one),
    or a JSON list."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return value


TextList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_list_from_env)]
PathList = Annotated[tuple[Path, ...], NoDecode, BeforeValidator(_list_from_env)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/xinyong.db",
        description="SQLAlchemy URL of the database (SQLite or PostgreSQL).",
    )
    read_database_url: str | None = Field(
        default=None,
        description="URL of a read-only copy of the database (on PostgreSQL a streaming replica) that the public "
        "portal and the public API read from. Unset: they read the primary, as everything else always does.",
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
    name_index_seconds: float = Field(
        default=5.0, ge=0,
        description="While an import runs, how often (at most) the names of the subjects it created are added to "
        "the name index, after a chunk commits; the import always indexes them when it ends.",
    )
    problems_max_per_column: int = Field(
        default=1_000, ge=1,
        description="Problems of one code in one column a batch stores one by one (all unknown columns count as "
        "one column); the rest are counted and reported as one line.",
    )
    problems_max_per_batch: int = Field(
        default=10_000, ge=1,
        description="Problems a batch stores one by one in all; the rest are counted by code and column.",
    )
    parallel_min_bytes: int = Field(
        default=4 * 1024 * 1024,
        description="Files at least this large are read and validated in a second process while storing.",
    )
    catalog_dirs: PathList = Field(
        default=(), description="Extra folders of catalogue entries (*.toml) beside the built-in types."
    )
    log_level: str = Field(default="INFO")
    trusted_proxies: TextList = Field(
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
    disclosure_warning_categories: TextList = Field(
        default=("警告",), description="处罚类别 values that make a penalty 'warning-only' when nothing else is set."
    )
    disclosure_department_classes: dict[str, str] = Field(
        default_factory=dict,
        description="Department USCC → classification (e.g. 'market'), for per-class publicity periods.",
    )
    disclosure_market_name_markers: TextList = Field(
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
    portal_strict_hosts: bool = Field(
        default=False,
        description="Whether the portal answers only host names it knows (a region's portal host, or the host of "
        "XINYONG_REPORTS_PUBLIC_URL) and a 404 page to any other; off: any other host (an IP address, an intranet "
        "alias) is served the platform's own portal.",
    )

    # --- accounts, sessions and the admin console ----------------------------------------------------
    session_cookie_secure: bool = Field(
        default=False, description="Send the console session cookie only over HTTPS (set true in production)."
    )
    session_idle_minutes: int = Field(default=30, description="A console session ends after this much inactivity.")
    session_max_hours: int = Field(default=12, description="A console session ends this long after sign-in.")
    login_max_failures: int = Field(
        default=5, ge=1,
        description="Consecutive failed sign-ins for one account (from one client, or from all) answered without "
        "delay; from then on each further attempt must wait a growing delay.",
    )
    login_delay_seconds: int = Field(
        default=5, ge=1, description="First delay after login_max_failures; each further failure doubles it."
    )
    login_client_account_max_delay_minutes: int = Field(
        default=60, ge=0, description="Longest delay for one account from one client address (0: no delay)."
    )
    login_account_max_delay_seconds: int = Field(
        default=30, ge=0,
        description="Longest delay for one account from all clients together: short, so that nobody can keep "
        "an account (the administrator's included) out for long from elsewhere (0: no delay).",
    )
    login_rate_limit_attempts: int = Field(
        default=30, ge=0,
        description="Failed or refused sign-in attempts per client address per window, whatever the account; "
        "beyond it the address is refused until the window ends. 0 disables the limit.",
    )
    login_rate_limit_window_minutes: int = Field(default=15, ge=1, description="Window of login_rate_limit_attempts.")
    password_min_length: int = Field(default=10, description="Shortest accepted password for console accounts.")

    # --- the audit trail ------------------------------------------------------------------------------------
    audit_key_generation: int = Field(
        default=1, ge=1,
        description="Generation of the audit chain's key (derived from the master key); raise it to rotate the key. "
        "Entries keep the key they were signed with; earlier generations stay derivable for verification.",
    )
    audit_former_key_files: tuple[Path, ...] = Field(
        default=(),
        description="Files of former master keys, read only to verify audit entries signed before a master-key "
        "change.",
    )
    audit_checkpoint_file: Path = Field(
        default=Path("var/audit-checkpoints.jsonl"),
        description="Append-only file where signed checkpoints of the audit chain's head are published; keep it "
        "out of reach of the database's administrators (another disk, host or WORM storage).",
    )
    audit_checkpoint_every: int = Field(
        default=1000, ge=0, description="Publish a checkpoint after every this many audit entries (0: only on demand)."
    )

    # --- credit lists, the measure list and credit checks ----------------------------------------------
    lists_objection_workdays: int = Field(
        default=5, ge=1, le=60,
        description="Working days a subject has to object after the prior notice (a list type may set its own).",
    )
    lists_publish_workdays: int = Field(
        default=7, ge=1, le=30, description="Working days after a listing decision within which it is published."
    )
    check_matters: TextList = Field(
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
    repair_not_repairable_tiers: TextList = Field(
        default=(), description="Tiers whose records cannot be repaired early (they run their full period)."
    )
    repair_not_repairable_categories: TextList = Field(
        default=(), description="处罚类别 values that make a penalty non-repairable."
    )
    repair_required_materials: TextList = Field(
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
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="How long a partner's webhook endpoint may take to answer."
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=50, description="Failed deliveries of one webhook payload before it is parked."
    )
    webhook_backoff_seconds: float = Field(
        default=30.0, ge=0, description="Wait after a webhook's first failed delivery; doubled after each further one."
    )
    webhook_backoff_max_seconds: float = Field(
        default=6 * 3600.0, ge=0, description="The longest wait between two deliveries of one webhook payload."
    )
    verification_code_minutes: int = Field(default=15, description="How long a sign-up verification code is valid.")
    subject_session_hours: int = Field(default=2, description="A subject's portal session ends this long after sign-in.")
    # --- proving who a subject account is (主体身份核验) ----------------------------------------------------
    account_identity_methods: TextList = Field(
        default=("activation_code",),
        description="Ways a subject account proves the identity of its subject, comma-separated: "
        "activation_code (issued by the 信用办 or a department), oidc (the province's identity service).",
    )
    account_max_open_claims: int = Field(
        default=5, ge=1, le=50,
        description="Unproven accounts one subject may have at once; a further sign-up closes the oldest.",
    )
    activation_code_days: int = Field(default=30, ge=1, le=365, description="How long an activation code is valid.")
    activation_max_failures: int = Field(
        default=5, ge=1, le=100, description="Wrong activation codes after which an account must wait."
    )
    activation_lockout_minutes: int = Field(default=60, ge=1, description="How long that wait is.")
    activation_client_attempts: int = Field(
        default=20, ge=0, description="Activation code entries per client address per hour; 0 disables the limit."
    )
    oidc_discovery_url: str | None = Field(
        default=None, description="OpenID Connect discovery document of the identity service "
        "(…/.well-known/openid-configuration).",
    )
    oidc_client_id: str | None = Field(default=None, description="This platform's client id at the identity service.")
    oidc_client_secret_file: Path | None = Field(default=None, description="File holding the client secret.")
    oidc_scopes: TextList = Field(
        default=("openid",), description="Scopes asked for, comma-separated (openid is always included)."
    )
    oidc_code_claim: str = Field(
        default="uscc", min_length=1, max_length=100,
        description="The claim (ID token or userinfo) carrying the unified social credit code or ID number.",
    )
    oidc_redirect_uri: str | None = Field(
        default=None, description="Callback URL registered at the identity service; by default derived from the "
        "request (set it behind a proxy).",
    )
    oidc_title: str = Field(default="统一身份认证", max_length=40, description="The identity service's name on pages.")
    oidc_timeout_seconds: float = Field(default=10, gt=0, le=60, description="Timeout of each call to the service.")
    # --- credit repair of list entries (名单信用修复，提前移出) ---------------------------------------------
    repair_list_min_months: dict[str, int] = Field(
        # 市场监管总局令第44号: 列入严重违法失信名单满一年, 可申请提前移出.
        default_factory=lambda: {"serious-dishonesty": 12},
        description="Months on a list (from its validity start) before early removal by repair can be applied "
        "for: list type key → months; a type not named here can be repaired once published.",
    )
    repair_list_not_repairable_types: TextList = Field(
        default=(), description="Local list types whose entries cannot be removed early by repair."
    )
    # --- monitoring (信用监测) and government integrity (政务诚信) -----------------------------------------
    monitoring_config: Path | None = Field(
        default=None,
        description="TOML file of the KPI definitions, weights, thresholds and warning rules; the built-in "
        "monitoring/kpis.toml when unset.",
    )
    pdf_font: Path = Field(
        default=Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
        description="Font file whose CJK glyphs are embedded in PDF reports (a collection: its Noto Sans CJK SC "
        "member, else its first); Debian's fonts-noto-cjk by default.",
    )
    commitments_config: Path | None = Field(
        default=None,
        description="TOML file of the 信用承诺 settings (违诺 publicity period, verification deadlines per matter, the "
        "check matters where 告知承诺 is refused, the templates subjects commit to); the built-in "
        "commitments/commitments.toml when unset. The 违诺 publicity period of imported rows is the built-in one.",
    )
    integrity_config: Path | None = Field(
        default=None,
        description="TOML file of the 政务诚信 settings (government code pairs, case kinds, clearing period, ageing "
        "buckets, civil servants' file categories); the built-in integrity/integrity.toml when unset.",
    )

    # --- credit reports (信用报告) ---------------------------------------------------------------------------
    reports_signing_key_file: Path = Field(
        default=Path("var/reports/signing-key.pem"),
        description="Private key (PEM, unencrypted) the platform signs credit reports with: the PDF's PAdES "
        "signature and the JSON's detached JWS. With neither this file nor the certificate present, an ECDSA "
        "P-256 key and a self-signed certificate are made on first use.",
    )
    reports_signing_cert_file: Path = Field(
        default=Path("var/reports/signing-cert.pem"),
        description="The certificate (PEM) of the signing key; one issued by a certificate authority may replace "
        "the self-signed one (with its key).",
    )
    reports_issuer: str = Field(
        default="公共信用信息平台", description="Who issues the reports: printed on them and named in the self-signed certificate."
    )
    reports_public_url: str = Field(
        default="",
        description="The portal's public address (e.g. https://credit.example.gov.cn), printed in each report's QR "
        "code and verification link, and the base of the links in notification e-mails (a county without a host "
        "name of its own adds /region/<code>). Empty: the address a request came to; the command line then prints "
        "http://127.0.0.1:8000; e-mails link only to counties with a host name.",
    )
    reports_max_items: int = Field(
        default=500, ge=1, le=5000, description="Most records a report lists per record type; the others are counted."
    )

    # --- evaluation (公共信用综合评价) and graded supervision (分级分类监管, 双随机、一公开) -------------------
    evaluation_public_grades: bool = Field(
        default=False, description="Whether the portal shows the public each organisation's latest evaluation grade."
    )
    evaluation_keep_detail_runs: int = Field(
        default=12, ge=1,
        description="Completed evaluation runs whose per-indicator points and records are kept; older runs keep "
        "each subject's score and grade only.",
    )
    inspections_default_ratios: dict[str, Decimal] = Field(
        default_factory=lambda: {"A": Decimal(2), "B": Decimal(5), "C": Decimal(100), "D": Decimal(100)},
        description="Sampling ratio (percent) per evaluation grade when a plan does not set its own.",
    )
    inspections_inspectors_per_subject: int = Field(
        default=2, ge=1, le=10, description="Inspectors paired with each drawn subject (at least two by law)."
    )
    inspections_publicity_days: int = Field(
        default=365, ge=1, le=3650,
        description="Days after a plan's period ends during which its plan, draw and results stay on the portal.",
    )
    changelog_retention_days: int = Field(
        default=400, ge=0, le=36500,
        description="Days the change log keeps a change (0: for ever). Older changes are pruned by the "
        "changelog-prune job, never one a registered webhook has not yet been sent; a feed cursor older than the "
        "pruned horizon answers 410, and a destination behind it gets a full export.",
    )
    inspections_sectors_file: Path | None = Field(
        default=None,
        description="TOML file of sectors and special domains (catalogue filters) replacing the built-in one.",
    )

    # --- operations: the worker, metrics -------------------------------------------------------------------
    jobs_config: Path | None = Field(
        default=None,
        description="TOML file of the scheduled jobs' schedules ([jobs.<name>] every/daily, Beijing time); jobs it "
        "does not name keep their defaults (docs/operations.md).",
    )
    worker_poll_seconds: float = Field(
        default=30, gt=0, le=3600, description="How often `xinyong worker` looks for due jobs."
    )
    metrics_networks: TextList = Field(
        default=("127.0.0.1", "::1"),
        description="Addresses or networks (CIDR) of the monitoring systems allowed to read /metrics (the client's "
        "address as worked out behind XINYONG_TRUSTED_PROXIES).",
    )
    metrics_token: str | None = Field(
        default=None, min_length=16,
        description="A token that opens /metrics from anywhere (Authorization: Bearer …); unset: networks only.",
    )

    @field_validator("catalog_dirs")
    @classmethod
    def _directories(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        missing = [str(path) for path in value if not Path(path).is_dir()]
        if missing:
            raise ValueError(f"目录不存在：{'、'.join(missing)}")
        return value

    @model_validator(mode="after")
    def _identity_methods_usable(self) -> Settings:
        known = {"activation_code", "oidc"}
        unknown = [m for m in self.account_identity_methods if m not in known]
        if unknown or not self.account_identity_methods:
            raise ValueError(f"XINYONG_ACCOUNT_IDENTITY_METHODS 应为以下一项或多项：{'、'.join(sorted(known))}"
                             f"（收到“{'、'.join(self.account_identity_methods)}”）")  # fmt: skip
        if "oidc" in self.account_identity_methods:
            missing = [f"XINYONG_{n.upper()}" for n in ("oidc_discovery_url", "oidc_client_id", "oidc_client_secret_file")
                       if not getattr(self, n)]  # fmt: skip
            if missing:
                raise ValueError(f"使用 oidc 身份核验须同时配置 {'、'.join(missing)}")
        return self

    @model_validator(mode="after")
    def _replica_like_primary(self) -> Settings:
        if self.read_database_url is not None and not self.read_database_url.strip():
            self.read_database_url = None
        if self.read_database_url and self.read_database_url.startswith("sqlite") != self.is_sqlite:
            raise ValueError("XINYONG_READ_DATABASE_URL 应与 XINYONG_DATABASE_URL 为同一种数据库（只读副本）")
        return self

    @field_validator("trusted_proxies", "metrics_networks")
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


# ------------------------------------------------------------------------------- reading the settings


class SettingsInvalid(DomainError):
    code = "settings-invalid"
    status_code = 500
    message_template = "配置有误：{problems}"


def _form_of(name: str) -> str:
    """What a setting's value must look like, in words."""
    field = Settings.model_fields.get(name)
    if field is None:
        return "有效的值"
    annotation = field.annotation
    pattern = next((m.pattern for m in field.metadata if getattr(m, "pattern", None)), None)
    if pattern:
        return "以下之一：" + "、".join(pattern.strip("^$()").split("|"))
    if annotation is bool:
        return "true 或 false"
    if annotation is int:
        bounds = [f"不小于 {m.ge}" for m in field.metadata if getattr(m, "ge", None) is not None]
        bounds += [f"不大于 {m.le}" for m in field.metadata if getattr(m, "le", None) is not None]
        return "整数" + (f"（{'，'.join(bounds)}）" if bounds else "")
    if annotation is float:
        return "数字"
    if annotation is Path:
        return "文件或目录路径"
    if get_origin(annotation) is tuple or tuple in get_args(annotation):
        return "以逗号分隔的列表（如 a,b）或 JSON 列表（如 [\"a\", \"b\"]）"
    if get_origin(annotation) is dict:
        return "JSON 对象（如 {\"键\": 值}）"
    return "文本"


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment; a value in the wrong form is one Chinese line naming the
    variable and the form it wants, not a validation traceback."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if not error.get("loc"):  # a rule over several settings: its message names them
                problems.append(str(error.get("ctx", {}).get("error") or error.get("msg", "")))
                continue
            name = str(error["loc"][0])
            given = error.get("input")
            shown = f"（收到“{str(given)[:60]}”）" if isinstance(given, str | int | float) else ""
            reason = error.get("ctx", {}).get("error") if error.get("type") == "value_error" else None
            detail = f"：{reason}" if reason else ""
            problems.append(f"{PREFIX}{name.upper()} 的值应为{_form_of(name)}{shown}{detail}")
        raise SettingsInvalid(problems="；".join(problems)) from None
    except SettingsError as exc:
        # pydantic-settings could not decode a JSON value; its message names the field.
        text = str(exc)
        name = text.split('"')[1] if '"' in text else ""
        raise SettingsInvalid(problems=f"{PREFIX}{name.upper()} 的值应为{_form_of(name)}") from None
