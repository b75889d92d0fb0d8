"""Reading a batch-check upload (CSV/XLSX) into check items, with problems as data."""

from __future__ import annotations

from xinyong.catalog.schema import header_key
from xinyong.checks.service import CheckItem
from xinyong.config import Settings
from xinyong.errors import FileRejected
from xinyong.records.readers import open_table_bytes
from xinyong.records.validation import Problem

CODE_HEADERS = ("统一社会信用代码", "代码", "证件号码", "统一社会信用代码/证件号码", "code", "USCC")
NAME_HEADERS = ("名称", "主体名称", "企业名称", "投标人", "投标人名称", "供应商名称", "name")
REF_HEADERS = ("序号", "编号", "行标识", "ref")


def read_items(data: bytes, *, filename: str | None, settings: Settings) -> tuple[list[CheckItem], list[Problem]]:
    """One item per non-empty row; a file without a code or name column is refused as a whole."""
    problems: list[Problem] = []
    items: list[CheckItem] = []
    try:
        with open_table_bytes(data, max_bytes=settings.upload_max_bytes,
                              max_xlsx_uncompressed=settings.xlsx_max_uncompressed_bytes, filename=filename) as table:  # fmt: skip
            keys = [header_key(h) for h in table.headers]

            def find(names: tuple[str, ...]) -> int | None:
                wanted = {header_key(n) for n in names}
                return next((i for i, k in enumerate(keys) if k in wanted), None)

            code_at, name_at, ref_at = find(CODE_HEADERS), find(NAME_HEADERS), find(REF_HEADERS)
            if code_at is None and name_at is None:
                raise FileRejected("missing-column", "文件须包含“统一社会信用代码”或“名称”列")
            for number, cells in table.rows:
                def cell(i: int | None, cells: list[str] = cells) -> str | None:
                    return cells[i].strip() if i is not None and i < len(cells) and cells[i].strip() else None

                code, name = cell(code_at), cell(name_at)
                if not code and not name:
                    problems.append(Problem(number, None, "empty-row", None, "该行既无代码也无名称，已跳过", "warning"))
                    continue
                items.append(CheckItem(code=code, name=name, ref=cell(ref_at) or str(number)))
                if len(items) > settings.checks_batch_max_rows:
                    raise FileRejected("too-many-rows", f"一次最多核查 {settings.checks_batch_max_rows} 个主体，请分批提交")
    except FileRejected as exc:
        return [], [Problem(0, None, exc.problem_code, None, exc.reason)]
    return items, problems
