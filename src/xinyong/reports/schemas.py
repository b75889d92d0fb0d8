from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from xinyong.fields import Text

Domain = Annotated[Text, Field(max_length=200)]


class ReportCreate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    code: Text = Field(..., min_length=1, max_length=60,
                       description="统一社会信用代码或其他登记代码（不受理自然人：自然人的报告只能由本人申请）")
    matter: str = Field(..., min_length=1, max_length=40,
                        description="办理事项（信用核查的事项），须为平台配置的事项之一，如 政府采购、招标投标、行政审批")
    kind: Literal["public", "special"] = Field("public", description="public（公开版）或 special（专项信用报告）")
    date_from: Text | None = Field(None, alias="from", max_length=20, description="专项信用报告查询期起（YYYY-MM-DD）")
    date_to: Text | None = Field(None, alias="to", max_length=20, description="专项信用报告查询期止（YYYY-MM-DD）")
    domains: list[Domain] = Field(default_factory=list, max_length=50,
                                  description="专项信用报告的领域：部门名称或统一社会信用代码，或失信信息类别")
    format: Literal["json", "pdf"] = Field("json", description="json（带分离式签名的 JSON）或 pdf（带电子签章）")


class SignedReport(BaseModel):
    """The JSON form of a report: its content and the platform's detached JWS over the content's canonical form."""

    report: dict[str, Any] = Field(..., description="报告内容（number、kind、subject、sections …）")
    signature: str = Field(..., description="JWS（RFC 7515 附录 F，分离式载荷），签名对象为 report 的规范形式")
