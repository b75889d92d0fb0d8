"""`xinyong accounts …`: subject accounts from a shell — activation codes, looking accounts up, revocation.

Each command acts as the platform itself (`cli` in the audit trail), the 信用办's own tool on the server."""

from __future__ import annotations

import json
from typing import Any

import typer

from xinyong.accounts import activation, rules, service
from xinyong.actors import Actor
from xinyong.clock import CHINA
from xinyong.commandline import console, fail, session_factory, settings
from xinyong.db import session_scope
from xinyong.errors import DomainError
from xinyong.protect import protector
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)


@app.command("issue-activation", help="为主体签发激活码（只显示这一次），用于在门户核验主体身份")
def issue_activation(
    code: str = typer.Argument(..., help="主体的统一社会信用代码、旧代码或身份证号码"),
    channel: str = typer.Option("counter", help="交付方式：counter（窗口当面领取）或 post（邮寄至登记地址）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    actor = Actor.system()
    try:
        with writing_scope(session_factory()) as session:
            subject = service.find_subject(session, actor, code=code, protector=protector(settings()))
            row, secret = activation.issue(session, subject_id=subject.id, actor=actor, channel=channel,
                                           settings=settings(), protector=protector(settings()))  # fmt: skip
            name, expires = subject.name, row.expires_at.astimezone(CHINA)
    except DomainError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps({"subject": name, "activation_code": secret, "expires_at": expires.isoformat()},
                              ensure_ascii=False))  # fmt: skip
        return
    console.print(f"主体：{name}", highlight=False)
    console.print(f"激活码：{secret}", highlight=False)
    console.print(f"有效期至 {expires:%Y-%m-%d %H:%M}（北京时间），只能使用一次；此前未使用的激活码已作废。"
                  f"交付方式：{rules.ACTIVATION_CHANNELS.get(channel, channel)}。此激活码不会再次显示。", highlight=False)  # fmt: skip


@app.command("list", help="查看主体的全部账户（状态、邮箱确认、身份核验）")
def list_accounts(
    code: str = typer.Argument(..., help="主体的统一社会信用代码、旧代码或身份证号码"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    actor = Actor.system()
    try:
        with session_scope(session_factory()) as session:
            subject = service.find_subject(session, actor, code=code, protector=protector(settings()))
            _, accounts = service.accounts_of(session, actor, subject.id)
            rows: list[dict[str, Any]] = [{"id": a.id, "contact": a.contact, "status": a.status.value, "contact_confirmed": a.contact_confirmed,
                     "identity_method": a.identity_method,
                     "identity_verified_at": a.identity_verified_at.isoformat() if a.identity_verified_at else None,
                     "status_reason": a.status_reason} for a in accounts]  # fmt: skip
            name = subject.name
    except DomainError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps({"subject": name, "accounts": rows}, ensure_ascii=False))
        return
    console.print(f"主体：{name}", highlight=False)
    if not rows:
        console.print("该主体尚无账户", highlight=False)
    for r in rows:
        proof = rules.METHOD_TITLES.get(r["identity_method"] or "", "未核验") if r["identity_verified_at"] else "未核验"
        console.print(f"账户 {r['id']}：{r['contact']} · 邮箱{'已确认' if r['contact_confirmed'] else '未确认'} · "
                      f"身份{proof} · {r['status']}{'（' + r['status_reason'] + '）' if r['status_reason'] else ''}",
                      highlight=False)  # fmt: skip


@app.command("revoke-identity", help="撤销账户的主体身份核验（账户保留，可重新核验）")
def revoke_identity(
    account_id: int = typer.Argument(..., help="账户编号（见 xinyong accounts list）"),
    reason: str = typer.Option(..., "--reason", help="撤销理由，记入审计日志并通知账户邮箱"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            service.revoke_identity(session, account_id, actor=Actor.system(), reason=reason)
    except DomainError as exc:
        raise fail(exc) from None
    console.print(f"已撤销账户 {account_id} 的身份核验；通知已写入待发队列（xinyong notify deliver）", highlight=False)


@app.command("revoke", help="注销账户（不能再登录，记录保留）")
def revoke(
    account_id: int = typer.Argument(..., help="账户编号（见 xinyong accounts list）"),
    reason: str = typer.Option(..., "--reason", help="注销理由，记入审计日志并通知账户邮箱"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            service.revoke_account(session, account_id, actor=Actor.system(), reason=reason)
    except DomainError as exc:
        raise fail(exc) from None
    console.print(f"已注销账户 {account_id}；通知已写入待发队列（xinyong notify deliver）", highlight=False)

