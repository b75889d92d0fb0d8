from __future__ import annotations

from pydantic import BaseModel, Field


class SubjectRead(BaseModel):
    ref: str = Field(description="主体引用：统一社会信用代码，或无代码主体的签名引用")
    name: str = Field(description="名称（自然人姓名按配置脱敏）")
    kind: str = Field(description="主体类别：organisation / individual_business / person")
    kind_label: str
    uscc: str | None = None
    id_masked: str | None = Field(default=None, description="自然人证件号码（始终脱敏）")
    legal_representative: str | None = None
    counts: dict[str, int] = Field(default_factory=dict, description="当前公示中的记录数，按类别")


class SubjectSearchRead(BaseModel):
    query: str
    mode: str = Field(description="code（按代码精确查询）/ name（名称包含）/ empty / too-short")
    total: int
    is_capped: bool = Field(description="为 true 时结果超过 total 条，请输入更完整的名称")
    page: int
    pages: int
    items: list[SubjectRead]


class RecordRead(BaseModel):
    ref: str
    record_type: str
    record_type_label: str
    doc_no: str
    subject_name: str
    decision_date: str
    valid_from: str | None = None
    valid_until: str | None = None
    tier: str | None = Field(default=None, description="失信程度：轻微 / 一般 / 严重")
    publish_until: str | None = Field(default=None, description="公示截止日（含当日）")
    department: str
    under_review: bool = Field(description="是否处于异议处理中")
    fields: dict[str, str] = Field(default_factory=dict, description="公示字段，按国家标准列代码")


class RecordPageRead(BaseModel):
    subject: SubjectRead
    record_type: str
    total: int
    page: int
    pages: int
    items: list[RecordRead]
