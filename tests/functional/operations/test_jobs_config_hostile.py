"""A jobs configuration file (XINYONG_JOBS_CONFIG) that is wrong is refused by `xinyong worker` and
`xinyong jobs --schedule` with one line saying what is wrong, never a traceback nor a job left on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.functional.operations.test_backup_hostile import Xinyong, xinyong  # noqa: F401  (the fixture)

CASES = {
    "not-tables": ("jobs = 3\n", "定时任务配置 {path} 应由 [jobs.<任务名>] 表组成"),
    "enabled-string-false": ('[jobs.notify-deliver]\nevery = "1m"\nenabled = "false"\n',
                             "定时任务 notify-deliver 的 enabled 应为 true 或 false（不加引号）"),
    "enabled-string-no": ('[jobs.notify-deliver]\nevery = "1m"\nenabled = "no"\n',
                          "定时任务 notify-deliver 的 enabled 应为 true 或 false（不加引号）"),
    "enabled-number": ('[jobs.notify-deliver]\nevery = "1m"\nenabled = 0\n',
                       "定时任务 notify-deliver 的 enabled 应为 true 或 false（不加引号）"),
    "interval-overflow": ('[jobs.notify-deliver]\nevery = "99999999999999d"\n', "时间间隔“99999999999999d”过长，最长 366 天"),
    "interval-past-a-year": ('[jobs.disclosure-sweep]\ndaily = "01:30"\nlease = "367d"\n', "时间间隔“367d”过长，最长 366 天"),
    "interval-5000-digits": (f'[jobs.notify-deliver]\nevery = "{"9" * 5000}s"\n', f"时间间隔“{'9' * 20}”过长，最长 366 天"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", [("worker", "--once"), ("jobs", "--schedule")])
def test_a_wrong_jobs_file_is_one_line(xinyong: Xinyong, fresh_database_url: str, tmp_path: Path,  # noqa: F811
                                       case: str, command: tuple[str, ...]) -> None:  # fmt: skip
    content, message = CASES[case]
    config = tmp_path / "jobs.toml"
    config.write_text(content, encoding="utf-8")
    code, output = xinyong(fresh_database_url, *command, jobs_config=config)
    assert (code, output) == (1, f"错误：输入有误：{message.format(path=config)}\n")


@pytest.mark.parametrize("command", [("worker",), ("worker", "--once"), ("jobs", "--schedule")])
def test_a_jobs_file_not_in_utf8_is_one_line(xinyong: Xinyong, fresh_database_url: str, tmp_path: Path,  # noqa: F811
                                             command: tuple[str, ...]) -> None:  # fmt: skip
    config = tmp_path / "jobs.toml"
    config.write_bytes('# 每日公示清理\n[jobs.disclosure-sweep]\ndaily = "01:30"\n'.encode("gbk"))
    code, output = xinyong(fresh_database_url, *command, jobs_config=config)
    assert (code, output) == (1, f"错误：输入有误：定时任务配置 {config} 须为 UTF-8 编码\n")


def test_booleans_and_the_longest_interval_are_taken(xinyong: Xinyong, fresh_database_url: str,  # noqa: F811
                                                     tmp_path: Path) -> None:  # fmt: skip
    config = tmp_path / "jobs.toml"
    config.write_text('[jobs.notify-deliver]\nevery = "366d"\nenabled = false\n\n'
                      '[jobs.lists-expire]\ndaily = "00:30"\nenabled = true\n', encoding="utf-8")  # fmt: skip
    code, output = xinyong(fresh_database_url, "jobs", "--schedule", "--json", jobs_config=config)
    assert code == 0, output
    planned = {row["job"]: row for row in json.loads(output)}
    assert planned["notify-deliver"]["schedule"] == "每 366 天（已停用）"
    assert planned["notify-deliver"]["enabled"] is False
    assert planned["lists-expire"]["enabled"] is True
