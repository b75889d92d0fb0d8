from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from xinyong.fields import Text

Cell = Text | int | float | None
# One row: column (code or Chinese header) → cell.
Row = Annotated[dict[Text, Cell], Field(json_schema_extra={"additionalProperties": False})]


class BatchCreate(BaseModel):
    rows: list[Row] = Field(
        ..., min_length=1,
        description="每个对象一行，键为国家标准字段代码（如 CF_WSH）或中文表头（如 行政处罚决定书文号）；"
        "一次最多行数见 maxItems（XINYONG_API_BATCH_MAX_ROWS）",
    )  # fmt: skip
    reported_on: date | None = Field(
        None, description="报送日期，默认今天。部门密钥只能报送今天；补录历史数据时填写原始报送日期，须经信用办授权"
        "（密钥具有 api:records:backdate 权限）并填写 backdate_reason，否则返回 403",
    )
    backdate_reason: str | None = Field(None, max_length=450, description="补录理由（reported_on 不是今天时必填，记入审计日志）")


class ProblemRead(BaseModel):
    row: int = Field(..., description="行号：文件中表头为第 1 行；JSON 中为对象序号（从 1 开始），0 表示整个文件")
    column: str | None
    code: str
    value: str | None
    message: str


class OmittedRead(BaseModel):
    # Problems over the batch's caps: counted by code and column, not listed one by one.

    severity: str = Field(..., description="error / warning")
    code: str
    column: str | None = Field(..., description="列代码；未识别的列（unknown-column）合并为一行，为 null")
    count: int = Field(..., description="未逐条列出的问题数")
    message: str = Field(..., description="如“另有 1,234 条同类问题未逐条列出”")


class BatchRead(BaseModel):
    batch_id: int
    record_type: str
    status: str
    filename: str | None
    reported_on: str
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    late: int
    failure: str | None
    errors: list[ProblemRead]
    warnings: list[ProblemRead]
    omitted: list[OmittedRead] = Field(
        ..., description="超出逐条记录上限的问题，按级别、代码和列计数（每列每种问题最多逐条列出的条数与每批总数见配置）"
    )


# Not only spaces (the service strips them and refuses what is left empty), and no NUL (see xinyong.fields).
SOME_TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"


class RevokeCreate(BaseModel):
    doc_no: str = Field(..., min_length=1, max_length=128, pattern=SOME_TEXT, description="决定文书号")
    reason: str = Field(..., min_length=1, max_length=450, pattern=SOME_TEXT, description="撤销理由")


class RecordRevoked(BaseModel):
    doc_no: str
    status: str
    version: int
