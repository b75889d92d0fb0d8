"""The `xinyong` command line: operating the platform from a shell. Each domain brings its commands
(`<domain>/cli.py`); this package puts them together under one program."""

from __future__ import annotations

import sys

import typer
from sqlalchemy.exc import DBAPIError

import xinyong.models  # noqa: F401  (every table registered: a subject merge looks for references in each)
from xinyong import commandline
from xinyong.accounts.cli import app as accounts_app
from xinyong.audit import keys as audit_keys
from xinyong.audit.cli import app as audit_app
from xinyong.auth.cli import app as users_app
from xinyong.calendar.cli import app as calendar_app
from xinyong.cli.db import app as db_app
from xinyong.cli.serve import serve
from xinyong.commandline import fail
from xinyong.commitments.cli import app as commitments_app
from xinyong.demo.cli import app as demo_app
from xinyong.departments.cli import app as departments_app
from xinyong.disclosure.cli import app as disclosure_app
from xinyong.errors import DomainError
from xinyong.evaluation.cli import app as evaluation_app
from xinyong.exchange.cli import exchange_app
from xinyong.finance.cli import app as finance_app
from xinyong.inspections.cli import app as inspections_app
from xinyong.intake.cli import app as intake_app
from xinyong.jobs.cli import jobs as jobs_command
from xinyong.jobs.cli import worker as worker_command
from xinyong.lists.cli import app as lists_app
from xinyong.measures.cli import app as measures_app
from xinyong.monitoring.cli import app as monitoring_app
from xinyong.notify.cli import app as notify_app
from xinyong.records.cli import app as records_app
from xinyong.regions.cli import app as regions_app
from xinyong.repair.cli import app as repair_app
from xinyong.reports.cli import app as reports_app
from xinyong.subjects.cli import app as subjects_app

# Every command's sessions sign audit entries with the audit chain's keys.
commandline.on_session_factory(lambda factory, settings: audit_keys.attach(factory, audit_keys.load(settings)))

app = typer.Typer(
    name="xinyong",
    help="信用：公共信用信息平台 命令行工具",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_app, name="db", help="数据库：创建与迁移")
app.add_typer(departments_app, name="departments", help="部门与访问密钥")
app.add_typer(regions_app, name="regions", help="行政区划：市县信用一张网的区划树与县级门户域名")
app.add_typer(records_app, name="records", help="信用记录归集：导入、撤销、批次报告")
app.add_typer(subjects_app, name="subjects", help="信用主体库")
app.add_typer(calendar_app, name="calendar", help="工作日日历（节假日与调休）")
app.add_typer(demo_app, name="demo", help="演示与基准测试数据")
app.add_typer(disclosure_app, name="disclosure", help="信息公示：到期清理、名称检索索引")
app.add_typer(users_app, name="users", help="控制台账户与角色")
app.add_typer(audit_app, name="audit", help="审计日志：核验哈希链、发布检查点、导出")
app.add_typer(lists_app, name="lists", help="信用名单：名单类型、期满移出、外部名单导入")
app.add_typer(measures_app, name="measures", help="联合奖惩措施清单")
app.add_typer(repair_app, name="repair", help="信用修复与异议：逾期统计")
app.add_typer(notify_app, name="notify", help="通知与变更事件：发送待发消息")
app.add_typer(reports_app, name="reports", help="信用报告：生成、核验、签名证书")
app.add_typer(evaluation_app, name="evaluation", help="公共信用综合评价：评价模型、评价批次、等级解释")
app.add_typer(finance_app, name="finance", help="信易贷：金融机构与密钥、白名单、超时未答复的融资需求")
app.add_typer(inspections_app, name="inspections", help="分级分类监管：双随机抽查计划、抽取、公示与检查结果")
app.add_typer(monitoring_app, name="monitoring", help="信用监测：部门考核、月报、重错码、预警")
app.add_typer(commitments_app, name="commitments", help="信用承诺：承诺书模板、告知承诺核查任务、统计")
app.add_typer(accounts_app, name="accounts", help="信用主体账户：签发激活码、查看、撤销核验与注销")
# one `exchange` program for both directions: the ways in (库对接 pull, drop-folder watch) and the ways out
exchange = typer.Typer(no_args_is_help=True)
exchange.registered_commands += intake_app.registered_commands + exchange_app.registered_commands
exchange.registered_groups += exchange_app.registered_groups
app.add_typer(exchange, name="exchange", help="数据交换：库对接拉取与前置机目录（归集），上报省级平台、变更订阅、下发名单、批量导出")
app.command("serve", help="启动网站与接口服务")(serve)
app.command("worker", help="运行定时任务（公示期满清理、名单期满移出、通知发送等），按配置的时间表")(worker_command)
app.command("jobs", help="定时任务最近的运行记录")(jobs_command)


def main() -> None:
    """Operators meet one Chinese line, not a traceback, for what they can fix: a setting, a database that is
    not there or not migrated."""
    try:
        app()
    except DomainError as exc:
        fail(exc)  # printed as it is: a message may hold brackets (paths, names), which are not markup
        sys.exit(1)
    except DBAPIError as exc:
        text = str(exc.orig)
        if "no such table" in text or "does not exist" in text:
            message = "数据库尚未创建或未迁移到当前版本，请先运行 xinyong db upgrade"
        else:
            message = f"无法访问数据库（XINYONG_DATABASE_URL）：{text.splitlines()[0][:200]}"
        fail(message)
        sys.exit(1)
