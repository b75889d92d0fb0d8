from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReportCreate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    code: str = Field(..., max_length=60, description="统一社会信用代码或其他登记代码（不受理自然人：自然人的报告只能由本人申请）")
    matter: str = Field(..., max_length=40, description="办理事项（信用核查的事项），如 政府采购、招标投标、行政审批")
    kind: str = Field("public", max_length=20, description="public（公开版）或 special（专项信用报告）")
    date_from: str | None = Field(None, alias="from", max_length=20, description="专项信用报告查询期起（YYYY-MM-DD）")
    date_to: str | None = Field(None, alias="to", max_length=20, description="专项信用报告查询期止（YYYY-MM-DD）")
    domains: list[str] = Field(default_factory=list, max_length=50,
                               description="专项信用报告的领域：部门名称或统一社会信用代码，或失信信息类别")
    format: str = Field("json", pattern="^(json|pdf)$", description="json（带分离式签名的 JSON）或 pdf（带电子签章）")
