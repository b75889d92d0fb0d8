"""`xinyong users …`: console accounts from the shell (the first administrator, department accounts)."""

from __future__ import annotations

import typer
from rich.table import Table

from xinyong.actors import Actor
from xinyong.auth import service
from xinyong.auth.rules import ROLE_LABELS, Role
from xinyong.commandline import console, fail, session_factory, settings
from xinyong.db import session_scope, utcnow
from xinyong.departments import service as departments_service
from xinyong.errors import DomainError
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)

ROLE_HELP = "；".join(f"{role.value} = {label}" for role, label in ROLE_LABELS.items())


def _password(password: str | None) -> str:
    if password:
        return password
    return typer.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")


@app.command("create-admin", help="创建平台管理员账户（信用办；首次部署时使用）")
def create_admin(
    username: str = typer.Option(..., "--username", help="用户名（小写字母、数字、. _ -）"),
    name: str = typer.Option("平台管理员", "--name", help="姓名或显示名"),
    password: str = typer.Option(None, "--password", help="密码（不提供则交互输入；或用环境变量 XINYONG_ADMIN_PASSWORD）",
                                 envvar="XINYONG_ADMIN_PASSWORD"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            user = service.create_user(
                session, username=username, password=_password(password), role=Role.PLATFORM_ADMIN,
                department=None, display_name=name, actor=Actor.system("cli"), settings=settings(),
            )  # fmt: skip
            console.print(f"已创建平台管理员：{user.username}", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("add", help="创建账户")
def add(
    username: str = typer.Option(..., "--username"),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    department: str = typer.Option(None, "--department", help="所属部门的统一社会信用代码（部门角色必填）"),
    name: str = typer.Option(None, "--name", help="姓名或显示名"),
    password: str = typer.Option(None, "--password", help="初始密码（不提供则生成一次性密码，首次登录须修改）"),
    region: str = typer.Option(None, "--region", help="平台级账户所属行政区划代码（如县级信用办）；不填则为全平台"),
) -> None:
    try:
        parsed_role = Role(role)
    except ValueError:
        raise fail(f"未知的角色“{role}”。可选：{ROLE_HELP}") from None
    try:
        with writing_scope(session_factory()) as session:
            dept = departments_service.get_department(session, department) if department else None
            initial = password or service.generate_password()
            user = service.create_user(
                session, username=username, password=initial, role=parsed_role, department=dept, display_name=name,
                actor=Actor.system("cli"), settings=settings(), must_change_password=password is None, region=region,
            )  # fmt: skip
            console.print(f"已创建账户：{user.username}（{parsed_role.label}）", highlight=False)
            if password is None:
                console.print("一次性初始密码（首次登录须修改，仅显示一次）：", highlight=False)
                typer.echo(initial)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("list", help="列出账户")
def list_() -> None:
    with session_scope(session_factory()) as session:
        table = Table("用户名", "姓名", "角色", "部门", "预警邮箱", "状态")
        for user in service.list_users(session, actor=Actor.system("cli")):
            state = "启用" if user.is_active else "停用"
            if user.locked_until and user.locked_until > utcnow():
                state += "（登录失败过多，暂需等待）"
            table.add_row(user.username, user.display_name, user.role.label,
                          user.department.name if user.department else "—", user.email or "—", state)  # fmt: skip
        console.print(table)


@app.command("set-email", help="设置账户的电子邮箱：预警除进入控制台收件箱外，也发送到该邮箱（--clear 清除）")
def set_email(
    username: str = typer.Argument(...),
    address: str = typer.Argument(None, help="电子邮箱"),
    clear: bool = typer.Option(False, "--clear", help="清除电子邮箱（只收控制台收件箱）"),
) -> None:
    if bool(address) == clear:
        raise fail("请给出电子邮箱，或用 --clear 清除（二者选一）")
    try:
        with writing_scope(session_factory()) as session:
            user = service.get_user_by_name(session, username)
            service.set_email(session, user.id, email=None if clear else address, actor=Actor.system("cli"))
            shown = f"为 {user.email}" if user.email else "已清除（只收控制台收件箱）"
            console.print(f"{user.username} 的预警邮箱{shown}", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("reset-password", help="重置账户密码（生成一次性密码，首次登录须修改），同时解除锁定")
def reset_password(username: str = typer.Argument(...)) -> None:
    try:
        with writing_scope(session_factory()) as session:
            user = service.get_user_by_name(session, username)
            temporary = service.reset_password(session, user.id, actor=Actor.system("cli"))
            console.print(f"已重置 {user.username} 的密码。一次性密码（仅显示一次）：", highlight=False)
            typer.echo(temporary)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("unlock", help="解除因登录失败造成的登录等待（所有客户端地址）")
def unlock(username: str = typer.Argument(...)) -> None:
    try:
        with writing_scope(session_factory()) as session:
            user = service.get_user_by_name(session, username)
            service.update_user(session, user.id, actor=Actor.system("cli"), unlock=True)
            console.print(f"已解除 {user.username} 的登录等待。", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None
