"""`xinyong exchange …`: exports to the provincial platform, verifying an export, destinations."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from xinyong import clock
from xinyong.actors import Actor, Permission
from xinyong.commandline import console, fail, session_factory, settings
from xinyong.db import session_scope
from xinyong.departments import service as departments_service
from xinyong.departments.models import ApiKey
from xinyong.departments.service import key_permissions
from xinyong.errors import DomainError, InvalidInput
from xinyong.exchange import downward, extracts, service, webhooks
from xinyong.exchange.models import Destination, Webhook
from xinyong.protect import protector
from xinyong.writequeue import writing_scope

exchange_app = typer.Typer(no_args_is_help=True)


@exchange_app.command("export", help="按国家标准格式导出自上次以来新增、变更、撤销、修复的记录（上报省级平台）")
def export(
    out: Path = typer.Option(..., "--out", file_okay=False, help="输出目录（每个部门一个子目录，每个信息类别一个 CSV）"),
    export_format: str = typer.Option(service.FORMAT_NATIONAL, "--format", help="导出格式：national（国家标准字段）"),
    destination: str = typer.Option(service.DEFAULT_DESTINATION, "--destination", help="接收方名称，各接收方分别记住导出位置"),
    since: str = typer.Option(None, "--since", help="从此游标之后导出（默认：该接收方上次导出的位置；新接收方从头导出）"),
    mask: bool = typer.Option(False, "--mask-id-numbers", help="身份证件号码以遮蔽形式导出（接收方不是政务平台时使用）"),
    as_json: bool = typer.Option(False, "--json", help="输出机器可读的 JSON"),
) -> None:
    try:
        if export_format not in service.FORMATS:
            raise InvalidInput(reason=f"不支持的导出格式“{export_format[:20]}”，可用：{'、'.join(service.FORMATS)}")
        config = settings()
        with session_scope(session_factory()) as session:  # reads only, while imports go on
            result = service.export_national(
                session, out, settings=config, protector=protector(config), destination=destination, since=since,
                mask_id_numbers=mask,
            )  # fmt: skip
        with writing_scope(session_factory()) as session:
            service.remember_export(session, result, actor=Actor.system("cli"))
    except DomainError as exc:
        raise fail(exc) from None
    if as_json:
        json.dump(result.as_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    console.print(
        f"已导出 {result.records} 条记录到 {result.directory}（{len(result.files)} 个文件，撤销 {result.revocations} 条，"
        f"修复 {result.repairs} 条），接收方 {result.destination}。", highlight=False,
    )  # fmt: skip
    console.print(f"下次导出的起点（游标）：{result.cursor}", highlight=False)


@exchange_app.command("verify", help="按清单（manifest.json）核对导出目录中的文件与摘要")
def verify(directory: Path = typer.Argument(..., exists=True, file_okay=False, help="导出目录")) -> None:
    try:
        problems = service.verify_export(directory)
    except (OSError, ValueError, KeyError) as exc:
        raise fail(f"无法读取清单：{type(exc).__name__}") from None
    if problems:
        for line in problems:
            console.print(f"[red]{escape(str(line))}[/red]", highlight=False, markup=True)
        raise typer.Exit(1)
    console.print("全部文件与清单一致", highlight=False)


@exchange_app.command("destinations", help="列出导出接收方及其上次导出时间")
def destinations() -> None:
    with session_scope(session_factory()) as session:
        table = Table("接收方", "导出次数", "上次导出")
        for dest in session.scalars(select(Destination).order_by(Destination.name)):
            when = dest.exported_at.astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M") if dest.exported_at else "—"
            table.add_row(dest.name, str(dest.exports), when)
        console.print(table)


webhooks_app = typer.Typer(no_args_is_help=True)
exchange_app.add_typer(webhooks_app, name="webhooks", help="变更推送地址（Webhook）：登记、查看、恢复")


@webhooks_app.command("add", help="为订阅密钥登记推送地址；签名密钥只显示这一次")
def webhooks_add(
    key_prefix: str = typer.Option(..., "--key", help="订阅密钥的前缀（xy_<前缀>_…）"),
    url: str = typer.Option(..., "--url", help="接收变更的网址（http/https）"),
    types: str = typer.Option(None, "--types", help="信息类别，逗号分隔（默认：密钥可见的全部类别）"),
) -> None:
    try:
        config = settings()
        with writing_scope(session_factory()) as session:
            webhook, secret = webhooks.add(session, key_prefix=key_prefix, url=url, types=types, settings=config,
                                           protector=protector(config), actor=Actor.system("cli"))  # fmt: skip
            webhook_id = webhook.id
    except DomainError as exc:
        raise fail(exc) from None
    console.print(f"已登记推送地址 {webhook_id}。签名密钥（只显示这一次，请交给接收方保管）：", highlight=False)
    console.print(secret, highlight=False, soft_wrap=True)


@webhooks_app.command("list", help="列出推送地址及其状态")
def webhooks_list() -> None:
    with session_scope(session_factory()) as session:
        table = Table("编号", "网址", "类别", "状态", "连续失败", "最近错误")
        for hook in session.scalars(select(Webhook).order_by(Webhook.id)):
            state = "已暂停（多次失败）" if hook.parked_at else ("启用" if hook.is_active else "停用")
            table.add_row(str(hook.id), hook.url, "、".join(hook.types or []) or "全部", state, str(hook.failures),
                          hook.last_error or "")  # fmt: skip
        console.print(table)


@webhooks_app.command("resume", help="恢复因多次失败而暂停的推送地址（暂停的内容重新发送）")
def webhooks_resume(webhook_id: int = typer.Argument(..., help="推送地址编号")) -> None:
    try:
        with writing_scope(session_factory()) as session:
            count = webhooks.resume(session, webhook_id, actor=Actor.system("cli"))
    except DomainError as exc:
        raise fail(exc) from None
    console.print(f"已恢复推送地址 {webhook_id}，{count} 批内容将重新发送", highlight=False)


@exchange_app.command("push", help="把新的变更排入推送队列并发送到期的推送（可由定时任务每分钟运行）")
def push(limit: int = typer.Option(1000, help="本次最多发送批数")) -> None:
    config = settings()
    queued, delivered = webhooks.push(session_factory(), settings=config, protector=protector(config),
                                      today=clock.today(), limit=limit)  # fmt: skip
    console.print(f"新排队 {queued} 批，本次送达 {delivered} 批", highlight=False)


lists_app = typer.Typer(no_args_is_help=True)
exchange_app.add_typer(lists_app, name="lists", help="上级下发名单：按版本整体替换、待核对的匹配")


@lists_app.command("apply", help="应用一版下发名单（如失信被执行人）：新增、更新，新版中不再列出的移出")
def lists_apply(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV（UTF-8/GBK）或 XLSX 文件"),
    type_key: str = typer.Option(..., "--type", help="名单类型（外部导入类），如 court-dishonest-debtors"),
    department: str = typer.Option(..., "--department", help="接收该名单的部门的统一社会信用代码"),
    source: str = typer.Option(..., "--source", help="名单来源（认定机关），须与名单类型的来源一致，如“人民法院”"),
    edition: str = typer.Option(..., "--edition", help="名单版本日期 YYYY-MM-DD"),
    as_json: bool = typer.Option(False, "--json", help="输出机器可读的 JSON"),
) -> None:
    try:
        try:
            edition_on = date.fromisoformat(edition.strip())
        except ValueError:
            raise InvalidInput(reason=f"版本日期“{edition[:20]}”格式不正确，应为 YYYY-MM-DD") from None
        config = settings()
        with writing_scope(session_factory()) as session:
            dept = departments_service.get_department(session, department)
            outcome = downward.apply_edition(
                session, file, type_key=type_key, department=dept, source=source, edition_on=edition_on,
                actor=Actor.system("cli"), settings=config, protector=protector(config), today=clock.today(),
            )  # fmt: skip
    except DomainError as exc:
        raise fail(exc) from None
    if as_json:
        json.dump(outcome.as_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif outcome.status != "completed":
        console.print(f"[red]名单未导入[/red]：{escape(str(outcome.failure))}", highlight=False, markup=True)
    else:
        console.print(
            f"已应用 {edition} 版名单：共 {outcome.rows} 行，新增 {outcome.created}，更新 {outcome.updated}，"
            f"未变化 {outcome.unchanged}，拒收 {outcome.rejected}，待核对 {outcome.in_review}，移出 {outcome.ended}。",
            highlight=False,
        )  # fmt: skip
        if outcome.import_id and outcome.rejected:
            console.print(f"拒收行的问题清单见控制台“名单导入”（导入批次 {outcome.import_id}）", highlight=False)
    if outcome.status != "completed":
        raise typer.Exit(2)


@lists_app.command("reviews", help="列出待核对的名单记录（旧代码、名称不一致等无法确定主体的）")
def lists_reviews() -> None:
    with session_scope(session_factory()) as session:
        table = Table("编号", "行", "名称", "代码", "文书号/案号", "原因")
        for review in downward.pending_reviews(session):
            table.add_row(str(review.id), str(review.row), review.name, review.code, review.doc_no, review.reason)
        console.print(table)


@lists_app.command("resolve", help="核对一条待核对记录：给出主体的统一社会信用代码后导入，或不予导入")
def lists_resolve(
    review_id: int = typer.Argument(..., help="待核对记录编号"),
    code: str = typer.Option(None, "--code", help="该主体的统一社会信用代码"),
    dismiss: bool = typer.Option(False, "--dismiss", help="不予导入"),
) -> None:
    try:
        config = settings()
        with writing_scope(session_factory()) as session:
            outcome = downward.resolve_review(session, review_id, code=code, dismiss=dismiss,
                                              actor=Actor.system("cli"), protector=protector(config),
                                              today=clock.today())  # fmt: skip
    except DomainError as exc:
        raise fail(exc) from None
    console.print("已不予导入" if outcome is None else
                  f"已导入：新增 {outcome.created}，更新 {outcome.updated}，拒收 {outcome.rejected}", highlight=False)  # fmt: skip


@exchange_app.command("extract", help="批量提取请求方可见的数据用于分析（每个信息类别一个 CSV 或 Parquet 文件，附清单）")
def extract(
    out: Path = typer.Option(..., "--out", file_okay=False, help="输出目录"),
    export_format: str = typer.Option("csv", "--format", help="csv 或 parquet"),
    key_prefix: str = typer.Option(None, "--key", help="请求方访问密钥的前缀：按其可见范围提取"),
    visibility: str = typer.Option(None, "--class", help="不指定密钥时的可见范围：public（社会公开）或 shared（含政务共享）"),
    types: str = typer.Option(None, "--types", help="信息类别，逗号分隔（默认：可见的全部类别）"),
) -> None:
    try:
        config = settings()
        with session_scope(session_factory()) as session:
            if key_prefix:
                key = session.scalar(select(ApiKey).where(ApiKey.prefix == key_prefix))
                if key is None or key.revoked_at is not None:
                    raise InvalidInput(reason=f"没有有效的访问密钥“{key_prefix[:16]}”")
                permissions, requester = key_permissions(key), f"key:{key.prefix}"
            elif visibility in ("public", "shared"):
                granted = {Permission.API_CHANGES_READ}
                if visibility == "shared":
                    granted.add(Permission.API_CHANGES_SHARED)
                permissions, requester = frozenset(granted), f"class:{visibility}"
            else:
                raise InvalidInput(reason="请用 --key 指定请求方，或用 --class public|shared 指定可见范围")
            result = extracts.extract(session, out, settings=config, permissions=permissions, requester=requester,
                                      export_format=export_format, types=types, today=clock.today())  # fmt: skip
        with writing_scope(session_factory()) as session:
            extracts.record_extract(session, result, actor=Actor.system("cli"))
    except DomainError as exc:
        raise fail(exc) from None
    console.print(f"已提取 {result.rows} 条记录到 {result.directory}（{len(result.files)} 个文件，清单 manifest.json）",
                  highlight=False)  # fmt: skip
