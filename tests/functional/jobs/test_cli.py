"""`xinyong worker --once` runs the platform's jobs that are due; `xinyong jobs` lists what they did."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.commandline import session_factory, settings


def test_worker_once_and_jobs(fresh_database_url, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    from tests.fixtures.keys import TEST_KEY

    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("COLUMNS", "300")
    settings.cache_clear()
    session_factory.cache_clear()
    runner = CliRunner()
    try:
        result = runner.invoke(app, ["worker", "--once"])
        assert result.exit_code == 0, result.output
        for line in ("disclosure-sweep：成功", "lists-expire：成功（期满移出 0 条名单记录）", "notify-deliver：成功",
                     "repair-overdue：成功", "monitoring-warnings：成功", "jobs-prune：成功",
                     "commitments-tasks：成功（新建核查任务 0 个；待核查 0 个，其中逾期 0 个）",
                     "finance-overdue：成功（超过服务时限未答复的融资需求 0 件）",
                     "exchange-push：成功（新排队 0 批，本次送达 0 批）"):  # fmt: skip
            assert line in result.output
        again = runner.invoke(app, ["worker", "--once"])
        assert again.exit_code == 0
        assert "没有到期的任务" in again.output
        forced = runner.invoke(app, ["worker", "--once", "--job", "lists-expire", "--force"])
        assert forced.exit_code == 0
        assert "lists-expire：成功" in forced.output

        listed = json.loads(runner.invoke(app, ["jobs", "--json", "--job", "lists-expire"]).output)
        assert [(r["job"], r["outcome"]) for r in listed] == [("lists-expire", "ok")] * 2
        assert listed[0]["finished_at"] is not None
        table = runner.invoke(app, ["jobs"])
        assert "公示" in table.output or "disclosure-sweep" in table.output
        assert "成功" in table.output

        planned = {r["job"]: r for r in json.loads(runner.invoke(app, ["jobs", "--schedule", "--json"]).output)}
        assert planned["disclosure-sweep"]["schedule"] == "每日 00:10（北京时间）"
        assert planned["notify-deliver"]["last_outcome"] == "ok"
        assert planned["notify-deliver"]["next_due"] > planned["notify-deliver"]["last_started_at"]
        table = runner.invoke(app, ["jobs", "--schedule"])
        assert "每 1 分钟" in table.output
        assert "发送通知与变更事件" in table.output

        unknown = runner.invoke(app, ["worker", "--once", "--job", "nothing"])
        assert unknown.exit_code == 1
        assert "未知的定时任务：nothing" in unknown.output
        misuse = runner.invoke(app, ["worker", "--force"])
        assert misuse.exit_code == 1
        assert "--force 须与 --once 和 --job 一起使用" in misuse.output

        config = tmp_path / "jobs.toml"
        config.write_text('[jobs.no-such-job]\nevery = "5m"\n')
        monkeypatch.setenv("XINYONG_JOBS_CONFIG", str(config))
        settings.cache_clear()
        bad = runner.invoke(app, ["worker", "--once"])
        assert bad.exit_code == 1
        assert "定时任务配置中有未知的任务：no-such-job" in bad.output
    finally:
        settings.cache_clear()
        session_factory.cache_clear()
