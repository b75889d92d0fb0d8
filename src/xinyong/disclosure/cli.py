"""`xinyong disclosure …`: the daily sweep and the search index rebuild."""

from __future__ import annotations

import json
from datetime import date

import typer

from xinyong.audit.cli import publish_daily_checkpoint
from xinyong.catalog import load_catalog
from xinyong.commandline import console, session_factory, settings
from xinyong.db import session_scope
from xinyong.disclosure import service
from xinyong.subjects import names as search

app = typer.Typer(no_args_is_help=True)


@app.command("sweep", help="记录已停止公示的信息（公示期满、撤销）；可每日定时运行，重复运行无副作用")
def sweep(
    today: str = typer.Option(None, help="按此日期计算（YYYY-MM-DD，默认北京时间今天）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    day = date.fromisoformat(today) if today else service.today_in_china()
    counts = service.sweep_beside_writers(session_factory(), settings=settings(), today=day)
    publish_daily_checkpoint()
    if as_json:
        typer.echo(json.dumps({"today": day.isoformat(), "withdrawn": counts}, ensure_ascii=False))
        return
    labels = {"expired": "公示期满", "revoked": "已撤销"}
    total = sum(counts.values())
    detail = "，".join(f"{labels.get(k, k)} {v} 条" for k, v in sorted(counts.items())) or "无"
    console.print(f"{day.isoformat()}：新停止公示 {total} 条（{detail}）", highlight=False)


@app.command("reindex", help="重建信用主体名称检索索引和公示规则所用的类别字段（批量导入主体或新增信息类别后运行）")
def reindex() -> None:

    with session_scope(session_factory()) as session:
        rows = search.rebuild_index(session)
        categories = service.refill_categories(session, load_catalog(settings().catalog_dirs))
    console.print(f"名称索引已重建：{rows} 条；类别字段已更新：{categories} 条", highlight=False)
