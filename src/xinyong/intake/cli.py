"""`xinyong exchange pull|watch`: the database sources (库对接) and the drop folder (前置机) from a shell or a timer."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from xinyong import clock
from xinyong.actors import Actor
from xinyong.catalog import load_catalog
from xinyong.commandline import console, err_console, fail, session_factory, settings
from xinyong.db import session_scope
from xinyong.departments import service as departments_service
from xinyong.errors import DomainError, NotFound
from xinyong.intake import drop, pull, rules, service
from xinyong.protect import protector
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)

CONFIG = typer.Option(..., "--config", envvar="XINYONG_INTAKE_SOURCES", help="数据源配置文件（TOML，见 docs/intake.md）")
SECRETS = typer.Option(None, "--secrets", envvar="XINYONG_INTAKE_SECRETS",
                       help="密钥文件（TOML，仅所有者可读写）：数据库用户名与密码，不写入配置、不输出到日志")  # fmt: skip


def _sources(config: Path) -> dict[str, rules.Source]:
    return rules.load_sources(config, load_catalog(settings().catalog_dirs))


def _pull_one(source: rules.Source, secrets: Path | None, *, as_json: bool) -> pull.PullResult:
    session = session_factory()()
    try:
        def progress(result: object, mark: str) -> None:
            if not as_json:
                err_console.print(f"  批次 {getattr(result, 'batch_id', '')} 已提交，水位 {rules.mark_text(mark)}",
                                  highlight=False)  # fmt: skip

        return pull.pull(session, source, settings=settings(), protector=protector(settings()), secrets_path=secrets,
                         today=clock.today(), on_chunk=progress)  # fmt: skip
    finally:
        session.close()


@app.command("pull", help="库对接：按水位列增量拉取一个数据源（部门的表或视图），经同一归集流程导入")
def pull_(
    source: str = typer.Argument(..., help="数据源名称（配置文件中的 [sources.<名称>]）"),
    config: Path = CONFIG,
    secrets: Path = SECRETS,
    reset: bool = typer.Option(False, "--reset", help="忘记已提交的水位，从头拉取（重复的行按内容未变处理）"),
    as_json: bool = typer.Option(False, "--json", help="输出机器可读的 JSON"),
) -> None:
    try:
        sources = _sources(config)
        if source not in sources:
            raise rules.IntakeConfigError(where=config.name, reason=f"没有数据源“{source[:64]}”（可用：{'、'.join(sources) or '无'}）")
        if reset:
            session = session_factory()()
            try:
                pull.reset(session, source)
            finally:
                session.close()
        result = _pull_one(sources[source], secrets, as_json=as_json)
    except rules.PullRefused as exc:
        raise fail(exc, code=2) from None
    except DomainError as exc:
        raise fail(exc) from None
    document = {"source": result.source, "batches": result.batches, "rows": result.rows, "created": result.created,
                "updated": result.updated, "unchanged": result.unchanged, "rejected": result.rejected,
                "watermark": rules.mark_text(result.watermark)}  # fmt: skip
    if as_json:
        json.dump(document, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    console.print(
        f"数据源 {result.source}：拉取 {result.rows} 行（{len(result.batches)} 个批次），新增 {result.created}，"
        f"更新 {result.updated}，未变化 {result.unchanged}，拒收 {result.rejected}；水位 {document['watermark']}。",
        highlight=False,
    )
    if result.rejected:
        console.print("拒收行的原因见各批次的问题报告：xinyong records report <批次号>", highlight=False)


@app.command("watch", help="定时拉取所有数据源，并导入前置机目录中的文件")
def watch(
    config: Path = typer.Option(None, "--config", envvar="XINYONG_INTAKE_SOURCES", help="数据源配置文件（可不设）"),
    secrets: Path = SECRETS,
    drop_root: Path = typer.Option(None, "--drop-root", envvar="XINYONG_DROP_ROOT",
                                   help="前置机根目录：<根目录>/<部门统一社会信用代码>/<信息类别>/文件"),
    interval: int = typer.Option(60, "--interval", min=1, max=86400, help="两次扫描之间的秒数"),
    settle: float = typer.Option(drop.DEFAULT_SETTLE_SECONDS, "--settle", min=0, max=3600,
                                 help="文件最后修改后须静止的秒数，防止导入仍在复制的文件"),
    once: bool = typer.Option(False, "--once", help="只扫描一次（供定时任务调用）"),
) -> None:
    if config is None and drop_root is None:
        raise fail("请至少指定数据源配置（--config）或前置机目录（--drop-root）")
    watcher = drop.Watcher(drop_root, settle_seconds=settle) if drop_root is not None else None
    failures = 0
    while True:
        failures = 0
        try:
            sources = _sources(config) if config is not None else {}
        except DomainError as exc:
            raise fail(exc) from None
        for source in sources.values():
            try:
                result = _pull_one(source, secrets, as_json=True)
                console.print(f"数据源 {source.key}：{result.rows} 行，水位 {rules.mark_text(result.watermark)}",
                              highlight=False)  # fmt: skip
            except DomainError as exc:  # one source failing does not stop the others
                failures += 1
                err_console.print(f"[red]错误：[/red]{escape(exc.message)}", highlight=False, markup=True)
        if watcher is not None:
            session = session_factory()()
            try:
                for outcome in watcher.scan(session, settings=settings(), protector=protector(settings()),
                                            today=clock.today()):  # fmt: skip
                    if outcome.status == drop.WAITING:
                        continue
                    failures += outcome.status == drop.FAILED
                    console.print(f"前置机 {outcome.folder}/{outcome.name}：{outcome.status}（{outcome.reason}）",
                                  highlight=False)  # fmt: skip
            except DomainError as exc:
                raise fail(exc) from None
            finally:
                session.close()
        if once:
            break
        time.sleep(interval)
    if failures:
        raise typer.Exit(2)


# ------------------------------------------------------------------------------------ 部门目录清单


@app.command("duties", help="部门目录清单：各部门应报送的信息类别及报送频度（信用监测据此考核）")
def duties_(department: str = typer.Option(None, "--department", help="只列出该部门（统一社会信用代码）")) -> None:
    try:
        with session_scope(session_factory()) as session:
            department_id = departments_service.get_department(session, department).id if department else None
            rows = service.duties(session, settings(), department_id=department_id)
            table = Table("编号", "部门", "信息类别", "报送频度", "设置者")
            for row in rows:
                table.add_row(str(row.id), row.department, f"{row.type_name}（{row.record_type}）", row.frequency_label,
                              row.set_by)  # fmt: skip
            console.print(table if rows else "目录清单为空。用 xinyong exchange duty-set 添加。", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("duty-set", help="把一个信息类别列入部门目录清单，或修改其报送频度（记入审计）")
def duty_set(
    department: str = typer.Option(..., "--department", help="部门的统一社会信用代码"),
    record_type: str = typer.Option(..., "--type", help="目录中的信息类别，如 penalty、license"),
    frequency: str = typer.Option(None, "--frequency", help=f"报送频度：{'、'.join(rules.FREQUENCIES)}（默认：双公示 "
                                  "为作出决定后 7 个工作日内，其余每月）"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            dept = departments_service.get_department(session, department)
            duty = service.set_duty(session, Actor.system("cli"), settings=settings(), department_id=dept.id,
                                    record_type=record_type, frequency=frequency)  # fmt: skip
            console.print(f"已设置：{dept.name} 报送 {duty.record_type}，"
                          f"{rules.FREQUENCIES.get(duty.frequency, duty.frequency)}。", highlight=False)  # fmt: skip
    except DomainError as exc:
        raise fail(exc) from None


@app.command("duty-remove", help="把一个信息类别移出部门目录清单（记入审计）")
def duty_remove(
    department: str = typer.Option(..., "--department", help="部门的统一社会信用代码"),
    record_type: str = typer.Option(..., "--type", help="信息类别"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            dept = departments_service.get_department(session, department)
            found = [r for r in service.duties(session, settings(), department_id=dept.id)
                     if r.record_type == record_type.strip()]  # fmt: skip
            if not found:
                raise NotFound(what=f"{dept.name}目录清单中的“{record_type.strip()[:40]}”")
            service.remove_duty(session, Actor.system("cli"), duty_id=found[0].id)
            console.print(f"已移出：{dept.name} 的 {found[0].type_name}。", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None
