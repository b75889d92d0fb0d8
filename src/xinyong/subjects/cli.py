from __future__ import annotations

import typer

from xinyong.commandline import console, fail, session_factory, settings
from xinyong.db import session_scope
from xinyong.errors import DomainError
from xinyong.protect import protector
from xinyong.subjects import service

app = typer.Typer(no_args_is_help=True)


@app.command("show", help="按统一社会信用代码、旧代码或身份证号查看主体（证件号码脱敏显示）")
def show(code: str = typer.Argument(..., help="代码或证件号码")) -> None:
    try:
        with session_scope(session_factory()) as session:
            subject = service.get_subject(session, code, protector(settings()))
            console.print(f"名称：{subject.name}", highlight=False)
            console.print(f"类别：{subject.kind.label}", highlight=False)
            if subject.uscc:
                console.print(f"统一社会信用代码：{subject.uscc}", highlight=False)
            if subject.id_masked:
                console.print(f"证件号码：{subject.id_masked}", highlight=False)
            for column, label in (("registration_number", "工商注册号"), ("org_code", "组织机构代码"),
                                  ("tax_number", "税务登记号"), ("institution_cert", "事业单位证书号"),
                                  ("social_org_cert", "社会组织登记证号")):  # fmt: skip
                value = getattr(subject, column)
                if value:
                    console.print(f"{label}：{value}", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None
