from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from xinyong.fields import Text


class CheckCreate(BaseModel):
    code: Text | None = Field(None, max_length=60, description="统一社会信用代码、旧代码（注册号、组织机构代码等）或居民身份证号码")
    name: Text | None = Field(None, max_length=200, description="名称（仅有名称时返回候选主体，不会自动选定）")
    matter: str = Field(
        ..., min_length=1, max_length=40, description="办理事项，须为平台配置的事项之一（如 政府采购、招标投标、行政审批）"
    )


class BatchItem(BaseModel):
    code: Text | None = Field(None, max_length=60)
    name: Text | None = Field(None, max_length=200)
    ref: Text | None = Field(None, max_length=60, description="调用方的行标识（如投标人编号），原样返回")


class BatchCheckCreate(BaseModel):
    matter: str = Field(..., min_length=1, max_length=40, description="办理事项，须为平台配置的事项之一")
    items: list[BatchItem] = Field(
        ..., min_length=1, description="要核查的主体，每项一个；一次最多个数见 maxItems（XINYONG_CHECKS_BATCH_MAX_ROWS）"
    )


class BatchCheckFileCreate(BaseModel):
    # The multipart form of a batch check by file: only described, the handler reads the form itself.
    model_config = ConfigDict(extra="forbid")

    file: bytes = Field(
        ..., description="CSV 或 XLSX 文件：列 统一社会信用代码（或 代码、证件号码）、名称、序号（可选），至少有代码或名称列"
    )
    matter: str = Field(..., min_length=1, max_length=40, description="办理事项，须为平台配置的事项之一")


class FeedbackCreate(BaseModel):
    measure_code: Text | None = Field(None, max_length=32, description="实际适用（或未适用）的措施编号")
    applied: bool = Field(..., description="是否已适用该措施")
    note: Text | None = Field(None, max_length=1000, description="未适用的理由，或适用情况说明")


class FeedbackRead(BaseModel):
    number: str
    measure_code: str | None
    applied: bool
    note: str | None


class CheckRead(BaseModel):
    """One check's result, as returned when it was made (also what is kept)."""

    number: str
    checked_at: str
    matter: str
    query: dict[str, Any]
    ref: str | None = None
    outcome: str = Field(..., description="found / not-found / candidates（仅凭名称，需确认主体）/ invalid")
    subject: dict[str, Any] | None
    hint: str | None = Field(None, description="block（拦截）/ warn（提示）/ fast_track（绿色通道）/ none（无）")
    hint_label: str | None
    memberships: list[dict[str, Any]]
    negative_records: list[dict[str, Any]]
    negative_total: int
    positive_records: list[dict[str, Any]]
    positive_total: int
    measures: list[dict[str, Any]]
    candidates: list[dict[str, Any]]
    message: str | None = None
    evaluation: dict[str, Any] | None = Field(
        None, description="最近一次公共信用综合评价：grade（等级）、grade_label、score、as_of（评价日）；未评价为 null"
    )
    extras: dict[str, Any] = Field(
        default_factory=dict,
        description="其他领域提供的核查内容，按领域分列；commitments：违诺的信用承诺（承诺编码、违诺责任、追究内容）"
        "及该事项能否适用告知承诺（不适用时说明理由与修复途径）",
    )


class BatchCheckRead(BaseModel):
    batch_no: str
    matter: str
    count: int
    results: list[dict[str, Any]]
