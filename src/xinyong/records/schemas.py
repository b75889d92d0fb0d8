from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

Cell = str | int | float | None


class BatchCreate(BaseModel):
    rows: list[dict[str, Cell]] = Field(
        ..., description="每个对象一行，键为国家标准字段代码（如 CF_WSH）或中文表头（如 行政处罚决定书文号）"
    )
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


class RevokeCreate(BaseModel):
    doc_no: str = Field(..., min_length=1, max_length=128, description="决定文书号")
    reason: str = Field(..., min_length=1, max_length=450, description="撤销理由")


class RecordRevoked(BaseModel):
    doc_no: str
    status: str
    version: int
