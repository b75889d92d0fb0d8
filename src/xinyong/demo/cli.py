from __future__ import annotations

import random
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from xinyong import clock
from xinyong.commandline import console, err_console, session_factory, settings
from xinyong.demo import generator
from xinyong.demo.loader import load_demo
from xinyong.protect import protector

app = typer.Typer(no_args_is_help=True)


@app.command("load", help="生成演示数据并经归集流程载入数据库")
def load(
    subjects: int = typer.Option(3000, "--subjects", help="主体数"),
    records: int = typer.Option(12000, "--records", help="记录数（约 40% 许可、60% 处罚）"),
    seed: int = typer.Option(1, "--seed", help="随机种子（相同种子生成相同数据）"),
    malformed_share: float = typer.Option(0.0, "--malformed-share", help="有缺陷的行所占比例"),
    late_share: float = typer.Option(0.05, "--late-share", help="迟报的行所占比例"),
    single_county: bool = typer.Option(False, "--single-county",
                                       help="只载入一个县（德清县）的数据，不登记行政区划（单一县级平台）"),
) -> None:
    session = session_factory()()
    try:
        with Progress(
            TextColumn("正在载入演示数据"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err_console, transient=True, disable=not err_console.is_terminal,
        ) as progress:  # fmt: skip
            task = progress.add_task("load", total=records)
            summary = load_demo(
                session, settings=settings(), protector=protector(settings()), subjects=subjects, records=records,
                seed=seed, late_share=late_share, malformed_share=malformed_share,
                progress=lambda n: progress.advance(task, n),
                **({"city": None, "counties": (generator.DEMO_REGION,)} if single_county else {}),  # type: ignore[arg-type]
            )  # fmt: skip
    finally:
        session.close()
    console.print(
        f"已载入演示数据：{len(summary.departments)} 个部门，新增记录 {summary.created} 条，拒收 {summary.rejected} 条。",
        highlight=False,
    )
    if summary.regions:
        console.print("行政区划（本平台为市级，各县门户见 /region/<代码>/）：", highlight=False)
        for code, name in summary.regions:
            console.print(f"  {code}  {name}  /region/{code}/", highlight=False)
    console.print("演示部门：", highlight=False)
    for code, name in summary.departments:
        console.print(f"  {code}  {name}", highlight=False)
    if summary.accounts:
        console.print("演示账号（仅供演示，密码公开，请勿用于生产环境）：管理后台 /admin", highlight=False)
        for username, password, role in summary.accounts:
            console.print(f"  {username:<10} {password:<18} {role}", highlight=False)


@app.command("generate", help="生成演示数据文件（CSV），供导入测试与基准测试使用")
def generate(
    out: Path = typer.Option(Path("var/demo"), "--out", help="输出目录"),
    subjects: int = typer.Option(3000, "--subjects", help="主体数"),
    records: int = typer.Option(12000, "--records", help="每类记录数"),
    seed: int = typer.Option(1, "--seed", help="随机种子"),
    malformed_share: float = typer.Option(0.0, "--malformed-share", help="有缺陷的行所占比例"),
    late_share: float = typer.Option(0.05, "--late-share", help="迟报的行所占比例"),
    encoding: str = typer.Option("utf-8", "--encoding", help="utf-8 或 gbk"),
    chinese_headers: bool = typer.Option(False, "--chinese-headers", help="使用中文表头"),
) -> None:

    rng = random.Random(seed)
    departments = generator.generate_departments(rng)
    pool = list(generator.generate_subjects(subjects, rng))
    out.mkdir(parents=True, exist_ok=True)
    header = "chinese" if chinese_headers else "code"
    for record_type, make, columns in (
        ("license", generator.license_rows, generator.LICENSE_COLUMNS),
        ("penalty", generator.penalty_rows, generator.PENALTY_COLUMNS),
    ):
        for dept in departments:
            if not generator.decides(dept, record_type):
                continue
            path = out / f"{record_type}-{dept.code}.csv"
            rows = make(pool, departments, records // len(departments), rng, today=clock.today(),
                        late_share=late_share, malformed_share=malformed_share, department=dept)  # fmt: skip
            count = generator.write_csv(path, rows, columns, encoding=encoding, header=header)
            console.print(f"{path}：{count} 行（{dept.name}）", highlight=False)
