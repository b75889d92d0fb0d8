"""Imported lists (失信被执行人, 重大税收违法失信主体 …): decided elsewhere, loaded from a file or the API.

The file is read by the ingestion readers (CSV/XLSX, encodings, size limits) and every problem is a
`records.validation.Problem` with a stable code, stored and downloadable like an ingestion batch's report;
one bad row never loses the file. Entries are keyed by (list type, 文书号/案号): re-importing updates.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth.service import ensure_department
from xinyong.catalog.schema import header_key
from xinyong.codes import (
    CodeError,
    clean_display_name,
    find_id_numbers,
    is_individual_business,
    mask_id_numbers,
    normalize_code,
    validate_id_number,
    validate_uscc,
)
from xinyong.codes.idtext import mask_found
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.departments.models import Department
from xinyong.errors import FileRejected, InvalidInput, NotFound
from xinyong.exports import write_csv
from xinyong.lists import rules
from xinyong.lists import service as lists_service
from xinyong.lists.models import EntryState, ListEntry, ListEvent, ListImport, ListImportProblem, ListOrigin
from xinyong.lists.rules import Action
from xinyong.protect import Protector
from xinyong.records.readers import open_table
from xinyong.records.validation import Invalid, Problem, clean_text, parse_date
from xinyong.subjects.models import SubjectKind
from xinyong.subjects.service import SubjectRef, SubjectResolver

# field → (title, accepted header spellings, required)
COLUMNS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "name": ("主体名称", ("主体名称", "名称", "企业名称", "被执行人姓名/名称", "被执行人名称", "当事人名称", "失信主体名称"), True),
    "code": ("统一社会信用代码/证件号码", ("统一社会信用代码/证件号码", "统一社会信用代码", "证件号码", "身份证号码", "代码",
                                      "组织机构代码"), True),
    "kind": ("主体类别", ("主体类别", "行政相对人类别"), False),
    "doc_no": ("文书号/案号", ("文书号/案号", "文书号", "案号", "决定文书号", "执行依据文号"), True),
    "listed_on": ("列入日期", ("列入日期", "认定日期", "决定日期", "发布日期"), True),
    "valid_until": ("有效期至", ("有效期至", "截止日期", "公布截止日期"), False),
    "reasons": ("列入事由", ("列入事由", "失信情形", "违法事实", "事由"), True),
    "authority": ("认定机关", ("认定机关", "作出决定机关", "执行法院", "决定机关"), False),
    "status": ("状态", ("状态", "当前状态"), False),
}  # fmt: skip
ENDED_STATUS = frozenset({"已移出", "已撤销", "已删除", "删除", "移出", "撤销", "失效"})
KINDS = {"法人及非法人组织": SubjectKind.ORGANISATION, "法人": SubjectKind.ORGANISATION,
         "个体工商户": SubjectKind.INDIVIDUAL_BUSINESS, "自然人": SubjectKind.PERSON}  # fmt: skip


@dataclass
class ImportOutcome:
    import_id: int
    status: str
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    failure: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _header_map(headers: list[str]) -> tuple[dict[str, int], list[Problem]]:
    spelling = {header_key(s): field for field, (_, names, _) in COLUMNS.items() for s in (*names, field)}
    mapping: dict[str, int] = {}
    problems: list[Problem] = []
    for position, header in enumerate(headers):
        field = spelling.get(header_key(header)) if header.strip() else None
        if field is None:
            if header.strip():
                problems.append(Problem(1, header, "unknown-column", header, f"未识别的列“{header}”，该列内容不会导入",
                                        "warning"))  # fmt: skip
            continue
        if field in mapping:
            raise FileRejected("duplicate-column", f"列“{header}”与另一列表示同一字段（{COLUMNS[field][0]}），请删除其一")
        mapping[field] = position
    missing = [COLUMNS[f][0] for f, (_, _, required) in COLUMNS.items() if required and f not in mapping]
    if missing:
        raise FileRejected("missing-column", f"缺少必填列：{'、'.join(missing)}")
    return mapping, problems


@dataclass
class _Row:
    row: int
    ref: SubjectRef
    doc_no: str
    listed_on: date
    valid_until: date | None
    reasons: str
    authority: str | None
    is_ended: bool


def _clean(row_number: int, values: dict[str, str], today: date) -> tuple[_Row | None, list[Problem]]:
    problems: list[Problem] = []

    def problem(field: str, code: str, message: str) -> None:
        value = mask_id_numbers(values.get(field) or "")[:200]
        problems.append(Problem(row_number, COLUMNS[field][0], code, value, message))

    def free_text(field: str) -> str:
        """Free text with any ID number masked, and the department told (entries are published)."""
        value = clean_text((values.get(field) or "").strip())
        found = list(find_id_numbers(value, today=today))
        if not found:
            return value
        masked = "、".join(dict.fromkeys(hit.masked for hit in found))
        title = COLUMNS[field][0]
        if field == "doc_no":
            # The entry's key: two case numbers that differ only in the hidden digits would become one entry.
            problem(field, "id-number-in-doc-no",
                    f"{title}中含有身份证号码（{masked}），本行未导入；请填写不含个人证件号码的文书号/案号")
            return value
        problems.append(Problem(row_number, title, "id-number-in-text", masked[:200],
                                f"{title}中含有身份证号码（{masked}），已遮蔽后导入；请勿在该字段填写个人证件号码", "warning"))  # fmt: skip
        return mask_found(value, found)

    for field, (title, _, required) in COLUMNS.items():
        if required and not (values.get(field) or "").strip():
            problem(field, "required", f"“{title}”不能为空")
    if problems:
        return None, problems
    name = clean_display_name(free_text("name"))[:200]
    code = normalize_code(values["code"])
    kind_text = (values.get("kind") or "").strip()
    uscc = id_number = None
    try:
        uscc = validate_uscc(code)
    except CodeError:
        try:
            id_number = validate_id_number(code)
        except CodeError:
            problem("code", "invalid-code",
                    f"“{mask_id_numbers(values['code'])}”既不是有效的统一社会信用代码，也不是有效的居民身份证号码")
    if kind_text and kind_text not in KINDS:
        problem("kind", "invalid-kind", "主体类别应为 法人及非法人组织、个体工商户 或 自然人")
    kind = KINDS.get(kind_text) or (SubjectKind.PERSON if id_number else
                                    SubjectKind.INDIVIDUAL_BUSINESS if uscc and is_individual_business(uscc)
                                    else SubjectKind.ORGANISATION)  # fmt: skip
    if kind is SubjectKind.PERSON and uscc:
        problem("kind", "kind-code-mismatch", "自然人应填写居民身份证号码")
    if id_number and kind is not SubjectKind.PERSON:
        # A person listed as an organisation would be published by name in bulk lists: never.
        problem("kind", "kind-code-mismatch", "填写居民身份证号码的主体类别应为自然人")
    dates: dict[str, date | None] = {}
    for field in ("listed_on", "valid_until"):
        text = (values.get(field) or "").strip()
        dates[field] = None
        if text:
            try:
                dates[field] = parse_date(text)
            except Invalid as exc:
                problem(field, exc.code, exc.message)
    listed_on, valid_until = dates["listed_on"], dates["valid_until"]
    if listed_on and listed_on > today:
        problem("listed_on", "future-date", "列入日期不能晚于今天")
    if listed_on and valid_until and valid_until < listed_on:
        problem("valid_until", "end-before-start", "有效期至不能早于列入日期")
    doc_no, reasons = free_text("doc_no")[:128], free_text("reasons")
    authority = free_text("authority")[:200] or None
    if any(p.severity == "error" for p in problems) or listed_on is None:
        return None, problems
    ref = SubjectRef(kind=kind, name=name, uscc=uscc, id_number=id_number)
    status = (values.get("status") or "").strip()
    return _Row(row_number, ref, doc_no, listed_on, valid_until, reasons, authority,
                status in ENDED_STATUS), problems  # fmt: skip


def import_list_file(session: Session, path: Path, *, type_key: str, department: Department, actor: Actor,
                     settings: Settings, protector: Protector, today: date, filename: str | None = None) -> ImportOutcome:  # fmt: skip
    """Import a CSV/XLSX file of one imported list type. The caller commits (once: lists are small)."""
    try:
        with open_table(path, max_bytes=settings.upload_max_bytes,
                        max_xlsx_uncompressed=settings.xlsx_max_uncompressed_bytes, filename=filename) as table:  # fmt: skip
            mapping, problems = _header_map(table.headers)
            rows = ({f: (cells[i] if i < len(cells) else "") for f, i in mapping.items()} | {"_row": n}
                    for n, cells in table.rows)  # fmt: skip
            return _import(session, rows, problems, type_key=type_key, department=department, actor=actor,
                           protector=protector, today=today, filename=filename or path.name)  # fmt: skip
    except FileRejected as exc:
        return _failed(session, exc, type_key=type_key, department=department, actor=actor,
                       filename=filename or path.name)  # fmt: skip


def import_list_rows(session: Session, items: list[dict[str, Any]], *, type_key: str, department: Department,
                     actor: Actor, protector: Protector, today: date) -> ImportOutcome:  # fmt: skip
    """The same import from JSON objects keyed by field (name, code, doc_no …) or by a header spelling."""
    headers = sorted({str(k) for item in items for k in item})
    try:
        mapping, problems = _header_map(headers)
    except FileRejected as exc:
        return _failed(session, exc, type_key=type_key, department=department, actor=actor, filename=None)
    by_field = {f: headers[i] for f, i in mapping.items()}
    rows = ({f: "" if item.get(h) is None else str(item.get(h)) for f, h in by_field.items()} | {"_row": n}
            for n, item in enumerate(items, start=1))  # fmt: skip
    return _import(session, rows, problems, type_key=type_key, department=department, actor=actor,
                   protector=protector, today=today, filename=None)  # fmt: skip


def _check_type(session: Session, type_key: str, department: Department, actor: Actor) -> Any:
    list_type = lists_service.get_type(session, type_key, region=department.region)
    if list_type.origin is not ListOrigin.IMPORTED:
        raise InvalidInput(reason=f"“{list_type.name}”是本地认定的名单，须按列入程序办理，不能导入")
    ensure_department(actor, department.id)
    lists_service.ensure_decider(list_type, department)  # applied only from its declared source
    return list_type


def _failed(session: Session, exc: FileRejected, *, type_key: str, department: Department, actor: Actor,
            filename: str | None) -> ImportOutcome:  # fmt: skip
    list_type = _check_type(session, type_key, department, actor)
    reason = mask_id_numbers(exc.reason)  # a rejection may quote the file
    record = ListImport(list_type_id=list_type.id, department_id=department.id, actor=actor.label[:100],
                        filename=mask_id_numbers(filename or "")[:255] or None, status="failed",
                        failure=reason[:500])  # fmt: skip
    session.add(record)
    session.flush()
    session.add(ListImportProblem(import_id=record.id, row=0, column=None, code=exc.problem_code, value=None,
                                  message=reason[:500]))  # fmt: skip
    audit.record(session, AuditAction.LIST_IMPORTED, actor=actor, department_id=department.id,
                 target=f"list-import:{record.id}", details={"list_type": type_key, "status": "failed"})  # fmt: skip
    return ImportOutcome(record.id, "failed", 0, 0, 0, 0, 0, reason)


def _import(session: Session, rows: Any, problems: list[Problem], *, type_key: str, department: Department,
            actor: Actor, protector: Protector, today: date, filename: str | None) -> ImportOutcome:  # fmt: skip
    list_type = _check_type(session, type_key, department, actor)
    record = ListImport(list_type_id=list_type.id, department_id=department.id, actor=actor.label[:100],
                        filename=mask_id_numbers(filename or "")[:255] or None, status="completed")  # fmt: skip
    session.add(record)
    session.flush()  # entries and problems name it
    clean: list[_Row] = []
    seen: dict[str, int] = {}
    read = 0
    for values in rows:
        read += 1
        row_number = values.pop("_row")
        row, row_problems = _clean(row_number, values, today)
        problems.extend(row_problems)
        if row is None:
            continue
        if row.doc_no in seen:
            problems.append(Problem(row_number, COLUMNS["doc_no"][0], "duplicate-doc-no", row.doc_no,
                                    f"与第 {seen[row.doc_no]} 行的文书号/案号重复，本行未导入"))  # fmt: skip
            continue
        seen[row.doc_no] = row_number
        clean.append(row)
    resolver = SubjectResolver(session, protector)
    created = updated = unchanged = 0
    for start in range(0, len(clean), 2000):
        chunk = clean[start : start + 2000]
        subjects = resolver.resolve(r.ref for r in chunk)
        existing = {e.source_ref: e for e in session.scalars(select(ListEntry).where(
            ListEntry.list_type_id == list_type.id, ListEntry.source_ref.in_([r.doc_no for r in chunk])))}  # fmt: skip
        for row in chunk:
            owned = existing.get(row.doc_no)
            if owned is not None and owned.department_id != department.id:
                # Case numbers are public: one department must never rewrite or end another's entry.
                problems.append(Problem(row.row, COLUMNS["doc_no"][0], "doc-no-of-other-department", row.doc_no,
                                        "该文书号/案号的名单记录由其他部门导入，本部门不能修改或移出"))  # fmt: skip
                continue
            subject = subjects[resolver.key_of(row.ref)]
            valid_until = row.valid_until or rules.validity_end(row.listed_on, list_type.duration_months)
            values = {"subject_id": subject.subject_id, "subject_name": row.ref.name, "reasons": row.reasons,
                      "source": row.authority or list_type.source, "valid_from": row.listed_on,
                      "valid_until": valid_until}  # fmt: skip
            entry = existing.get(row.doc_no)
            if entry is None:
                entry = ListEntry(list_type_id=list_type.id, department_id=department.id, origin=ListOrigin.IMPORTED,
                                  state=rules.next_state(None, Action.IMPORT), basis=list_type.legal_basis,
                                  source_ref=row.doc_no, import_id=record.id, decided_on=row.listed_on,
                                  published_on=today, **values)  # fmt: skip
                session.add(entry)
                session.flush()
                _entry_event(session, entry, None, actor, today, "导入", record.id)
                created += 1
            else:
                changed = {k: v for k, v in values.items() if getattr(entry, k) != v}
                if changed:
                    for key, value in changed.items():
                        setattr(entry, key, value)
                    entry.import_id, entry.updated_at = record.id, utcnow()
                    _entry_event(session, entry, entry.state, actor, today, "导入更新", record.id)
                    updated += 1
                else:
                    unchanged += 1
            if row.is_ended and entry.state is EntryState.PUBLISHED:
                source = entry.state
                entry.state = rules.next_state(source, Action.REMOVE)
                entry.ended_on, entry.exit_reason = today, "外部认定机关已移出（导入文件标注）"
                lists_service.record_step(session, entry, Action.REMOVE, source, actor=actor, today=today,
                                     note=entry.exit_reason)  # fmt: skip
    rejected_rows = {p.row for p in problems if p.severity == "error" and p.row > 0}
    record.rows_read, record.created, record.updated, record.unchanged = read, created, updated, unchanged
    record.rejected = len(rejected_rows)
    for p in problems:
        # Values and messages quote the file (a header, a cell): ID numbers masked before the cut.
        session.add(ListImportProblem(import_id=record.id, row=p.row,
                                      column=mask_id_numbers(p.column or "")[:64] or None, code=p.code[:48],
                                      value=mask_id_numbers(p.value or "")[:200] or None,
                                      message=mask_id_numbers(p.message)[:500]))  # fmt: skip
    audit.record(session, AuditAction.LIST_IMPORTED, actor=actor, department_id=department.id,
                 target=f"list-import:{record.id}", details={"list_type": type_key, "rows": read, "created": created,
                 "updated": updated, "rejected": record.rejected})  # fmt: skip
    return ImportOutcome(record.id, "completed", read, created, updated, unchanged, record.rejected)


def _entry_event(session: Session, entry: ListEntry, source: EntryState | None, actor: Actor, today: date, note: str,
                 import_id: int) -> None:  # fmt: skip
    # Per-row events only (no audit entry per row): the import itself is audited once with its counts.
    session.add(ListEvent(entry_id=entry.id, action=Action.IMPORT.value, from_state=source.value if source else None,
                          to_state=entry.state.value, on_day=today, actor=actor.label[:100], note=note,
                          details={"import_id": import_id}))  # fmt: skip


def get_import(session: Session, import_id: int, *, actor: Actor) -> ListImport:

    record = session.get(ListImport, import_id)
    if record is None or not actor.can_reach(record.department_id, record.created_at):
        raise NotFound(what="该名单导入批次")  # another department's (bound) or county's (regional) import
    return record


def problems_of(session: Session, import_id: int) -> list[ListImportProblem]:
    return list(session.scalars(select(ListImportProblem).where(ListImportProblem.import_id == import_id)
                                .order_by(ListImportProblem.row, ListImportProblem.id)))  # fmt: skip


def problems_csv(session: Session, import_id: int) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel needs the BOM to read UTF-8
    write_csv(buffer, ["行号", "列", "问题代码", "内容", "说明"],
              ([p.row, p.column or "", p.code, p.value or "", p.message] for p in problems_of(session, import_id)))  # fmt: skip
    return buffer.getvalue()


def recent_imports(session: Session, actor: Actor, *, limit: int = 30) -> list[ListImport]:
    query = select(ListImport).order_by(ListImport.id.desc()).limit(limit)
    if (clause := actor.reach(ListImport.department_id, ListImport.created_at)) is not None:
        query = query.where(clause)
    return list(session.scalars(query))
