"""`xinyong reports …`: generate a credit report at the 信用办's counter, check a copy, show the certificate."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.markup import escape

from xinyong import clock
from xinyong.actors import Actor
from xinyong.commandline import console, err_console, fail, session_factory, settings
from xinyong.db import session_scope
from xinyong.errors import DomainError
from xinyong.protect import protector
from xinyong.reports import service
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)


@app.command("generate", help="生成信用报告（PDF，可同时生成 JSON）并登记编号；自然人的报告只能由本人在门户申请")
def generate(
    code: str = typer.Argument(..., help="统一社会信用代码或其他登记代码"),
    kind: str = typer.Option("public", "--kind", help="public（公开版）、own（主体查询版）或 special（专项信用报告）"),
    date_from: str = typer.Option(None, "--from", help="专项信用报告查询期起（YYYY-MM-DD，默认截止日前三年）"),
    date_to: str = typer.Option(None, "--to", help="专项信用报告查询期止（YYYY-MM-DD，默认今天）"),
    domains: list[str] = typer.Option([], "--domain", help="专项信用报告的领域：部门名称或代码、失信信息类别；可重复"),
    out: Path = typer.Option(..., "--out", help="PDF 文件路径"),
    json_out: Path = typer.Option(None, "--json", help="另存 JSON 文件（带签名）的路径"),
    as_json: bool = typer.Option(False, "--as-json", help="以 JSON 输出结果摘要"),
) -> None:
    current = settings()
    if not current.reports_public_url:
        err_console.print(f"提示：未配置 XINYONG_REPORTS_PUBLIC_URL，报告中的核验地址使用 {service.LOCAL_URL}",
                          highlight=False)  # fmt: skip
    actor = Actor.system("cli")
    try:
        with session_scope(session_factory()) as session:  # the subject's records read, the report drawn
            issued = service.prepare_for_platform(
                session, code, kind=kind, start=date_from, end=date_to, domains=domains, settings=current,
                protector=protector(current), today=clock.today(), now=datetime.now(UTC), base_url=None,
                formats=("pdf", "json"),
            )  # fmt: skip
        with writing_scope(session_factory()) as session:  # then registered: the look-up is recorded
            service.register(session, issued, actor=actor)
    except DomainError as exc:
        raise fail(exc) from None
    assert issued.pdf is not None
    out.write_bytes(issued.pdf)
    if json_out is not None:
        json_out.write_bytes(issued.json)
    summary = {"number": issued.number, "kind": issued.kind.value, "pdf": str(out),
               "json": str(json_out) if json_out else None, "content_sha256": issued.content_sha256,
               "pdf_sha256": issued.pdf_sha256, "verify_url": issued.content["verify_url"]}  # fmt: skip
    if as_json:
        console.print_json(json.dumps(summary, ensure_ascii=False))
        return
    console.print(f"已生成{issued.kind.label}，编号 {issued.number}", highlight=False)
    console.print(f"PDF：{out}" + (f"；JSON：{json_out}" if json_out else ""), highlight=False)
    console.print(f"核验地址：{issued.content['verify_url']}", highlight=False)


@app.command("verify", help="核验报告文件（PDF 或 JSON）：检查平台签名，并与登记的摘要比对")
def verify(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="报告文件")) -> None:
    data = path.read_bytes()
    with session_scope(session_factory()) as session:
        result = service.verify_file(session, data, settings=settings())
    if result.is_genuine:
        console.print(f"真实有效：报告 {result.number} 由本平台出具，签名有效，内容与登记的摘要一致", highlight=False)
        return
    err_console.print(f"[red]核验未通过[/red]（{escape(result.form.upper())}，编号 {escape(result.number or '—')}）：",
                      highlight=False, markup=True)  # fmt: skip
    for problem in result.problems:
        err_console.print(f"  - {problem}", highlight=False)
    raise typer.Exit(1)


@app.command("certificate", help="显示报告签名证书（首次使用时自动生成自签名证书）；--out 导出 PEM 供离线核验")
def certificate(out: Path = typer.Option(None, "--out", help="导出证书（PEM）的路径")) -> None:
    try:
        from xinyong.reports import signing  # its engine loads only for the commands that sign

        material = signing.material(settings())
    except DomainError as exc:
        raise fail(exc) from None
    console.print(f"证书主体：{material.subject}", highlight=False)
    console.print(f"有效期至：{material.not_after.date().isoformat()}", highlight=False)
    console.print(f"SHA-256 指纹：{material.fingerprint}", highlight=False)
    if out is not None:
        out.write_bytes(material.cert_pem)
        console.print(f"已导出：{out}", highlight=False)
