"""Lists sent down by the province and the nation (失信被执行人, 重大税收违法失信主体 …), applied by edition.

An edition is a whole list as its source publishes it on a day. Applying it (built on the external list
import, `xinyong.lists.imports`, which reads the file, keys entries by 文书号/案号, matches subjects by code and
reports every bad row):
- the declared source must be the list type's (another source's file is refused whole), and an edition older
  than the last one applied is refused;
- rows that name an organisation by an old code (工商注册号, 组织机构代码 …) instead of a USCC are matched to
  local subjects by that code and the name: one subject whose name agrees is certain (the row is imported under
  its USCC); none, several, or a name that does not agree goes to the review queue, held back until someone
  names the subject or dismisses the row;
- entries of the type imported through this department that the edition no longer holds end (移出, with the
  edition named as the reason); rows held for review or refused for a defect keep their entries as they are.
Measures follow the list types (`xinyong.measures`), so a credit check applies an entry's measures from the
day it is imported until the edition that drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from xinyong.actors import Actor
from xinyong.catalog.schema import header_key
from xinyong.codes import (
    CodeError,
    clean_display_name,
    mask_id_numbers,
    normalize_code,
    validate_id_number,
    validate_legacy,
    validate_uscc,
)
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.departments.models import Department
from xinyong.errors import FileRejected, InvalidInput, InvalidTransition, NotFound
from xinyong.exchange.models import ListEdition, ListReview
from xinyong.lists import imports
from xinyong.lists import service as lists_service
from xinyong.lists.models import EntryState, ListEntry, ListOrigin, ListType
from xinyong.lists.rules import Action
from xinyong.protect import Protector
from xinyong.records.readers import open_table
from xinyong.subjects.models import Subject
from xinyong.subjects.service import names_agree

# Old codes an organisation may be named by, tried in this order (social organisations' numbers take any text and
# individuals' tax numbers are ID numbers: neither is matched on).
LEGACY_MATCHED = ("registration_number", "org_code", "tax_number", "institution_cert")


class OtherSource(InvalidInput):
    code = "list-other-source"
    message_template = "文件来源“{given}”与名单“{list_name}”的来源“{expected}”不一致，未导入（名单只能由其认定机关发布）"


class OlderEdition(InvalidTransition):
    code = "list-older-edition"
    message_template = "该名单已应用 {last} 的版本，不能再应用更早的 {given} 版本"


@dataclass
class EditionOutcome:
    edition_id: int
    import_id: int | None
    status: str
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    ended: int
    in_review: int
    failure: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _columns(headers: list[str]) -> dict[str, str]:
    """field (name, code, doc_no …) → the header that holds it."""
    spelling = {header_key(s): field for field, (_, names, _) in imports.COLUMNS.items() for s in (*names, field)}
    found: dict[str, str] = {}
    for header in headers:
        field = spelling.get(header_key(header))
        if field and field not in found:
            found[field] = header
    return found


def _legacy_kind(code: str) -> str | None:
    for kind in LEGACY_MATCHED:
        try:
            validate_legacy(kind, code)
        except CodeError:
            continue
        return kind
    return None


def _is_current_code(code: str) -> bool:
    for check in (validate_uscc, validate_id_number):
        try:
            check(code)
        except CodeError:
            continue
        return True
    return False


def _match_legacy(session: Session, name: str, code: str) -> tuple[Subject | None, list[int], str]:
    """(the certain subject, candidate ids, why not certain)."""
    columns = [getattr(Subject, kind) == code for kind in LEGACY_MATCHED]
    candidates = list(session.scalars(select(Subject).where(or_(*columns), Subject.merged_into_id.is_(None)).limit(10)))
    ids = [s.id for s in candidates]
    if not candidates:
        return None, ids, "主体库中没有使用该旧代码的主体"
    agreeing = [s for s in candidates if names_agree(s.name, name)]
    if len(agreeing) == 1 and agreeing[0].uscc:
        return agreeing[0], ids, ""
    if len(agreeing) > 1:
        return None, ids, "旧代码与名称对应多个主体"
    if agreeing:
        return None, ids, "匹配到的主体没有统一社会信用代码"
    return None, ids, "旧代码对应的主体名称与文件中的名称不一致"


def apply_edition(
    session: Session,
    path: Path,
    *,
    type_key: str,
    department: Department,
    source: str,
    edition_on: date,
    actor: Actor,
    settings: Settings,
    protector: Protector,
    today: date,
    filename: str | None = None,
) -> EditionOutcome:
    """Apply one edition of an imported list from a CSV/XLSX file. The caller commits (once)."""
    list_type = lists_service.get_type(session, type_key)
    if list_type.origin is not ListOrigin.IMPORTED:
        raise InvalidInput(reason=f"“{list_type.name}”是本地认定的名单，不能按版本导入")
    given = clean_display_name(source or "")
    if not given:
        raise InvalidInput(reason="请写明名单的来源（认定机关），如“人民法院”")
    if list_type.source and given != list_type.source:
        raise OtherSource(given=given[:60], list_name=list_type.name, expected=list_type.source)
    if edition_on > today:
        raise InvalidInput(reason="名单版本日期不能晚于今天")
    last = session.scalar(select(ListEdition.edition_on).where(
        ListEdition.list_type_id == list_type.id, ListEdition.department_id == department.id,
    ).order_by(ListEdition.edition_on.desc()).limit(1))  # fmt: skip
    if last is not None and edition_on < last:
        raise OlderEdition(last=last.isoformat(), given=edition_on.isoformat())

    try:
        with open_table(path, max_bytes=settings.upload_max_bytes,
                        max_xlsx_uncompressed=settings.xlsx_max_uncompressed_bytes, filename=filename) as table:  # fmt: skip
            headers = list(table.headers)
            items = [{h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers) if h.strip()}
                     for _, cells in table.rows]  # fmt: skip
    except FileRejected:
        # Unreadable: the list import records the refusal with its reason, and nothing ends.
        failed = imports.import_list_file(session, path, type_key=type_key, department=department, actor=actor,
                                          settings=settings, protector=protector, today=today, filename=filename)  # fmt: skip
        return EditionOutcome(0, failed.import_id, failed.status, 0, 0, 0, 0, 0, 0, 0, failed.failure)
    columns = _columns(headers)
    edition = ListEdition(list_type_id=list_type.id, department_id=department.id, source=given[:200],
                          edition_on=edition_on, actor=actor.label[:100], rows=len(items), ended=0, in_review=0)  # fmt: skip
    session.add(edition)
    session.flush()

    listed_doc_nos: set[str] = set()
    to_import: list[dict[str, Any]] = []
    for number, item in enumerate(items, start=1):
        doc_no = clean_display_name(item.get(columns.get("doc_no", ""), "") or "")
        if doc_no:
            listed_doc_nos.add(doc_no)
        raw = item.get(columns.get("code", ""), "") or ""
        code = normalize_code(raw)
        if code and not _is_current_code(code) and _legacy_kind(code):
            name = clean_display_name(item.get(columns.get("name", ""), "") or "")
            subject, candidates, why = _match_legacy(session, name, code)
            if subject is not None and subject.uscc:
                item = {**item, columns["code"]: subject.uscc}
            else:
                session.add(ListReview(edition_id=edition.id, row=number, name=name[:200], code=code[:40],
                                       doc_no=doc_no[:128], reason=why, candidates=candidates,
                                       values={k: mask_id_numbers(v) for k, v in item.items()},
                                       state="pending"))  # fmt: skip
                edition.in_review += 1
                continue
        to_import.append(item)

    outcome = imports.import_list_rows(session, to_import, type_key=type_key, department=department, actor=actor,
                                       protector=protector, today=today)  # fmt: skip
    edition.import_id = outcome.import_id
    if outcome.status != "completed":
        return EditionOutcome(edition.id, outcome.import_id, outcome.status, len(items), 0, 0, 0, outcome.rejected,
                              0, edition.in_review, outcome.failure)  # fmt: skip
    # What disappears from the edition ends. Guard: a file whose rows were all refused ends nothing.
    if to_import and outcome.created + outcome.updated + outcome.unchanged == 0:
        edition.ended = 0
    else:
        edition.ended = _end_missing(session, list_type.id, department.id, listed_doc_nos, edition, actor, today)
    return EditionOutcome(edition.id, outcome.import_id, "completed", len(items), outcome.created, outcome.updated,
                          outcome.unchanged, outcome.rejected, edition.ended, edition.in_review)  # fmt: skip


def _end_missing(session: Session, list_type_id: int, department_id: int, listed: set[str], edition: ListEdition,
                 actor: Actor, today: date) -> int:  # fmt: skip
    entries = session.scalars(select(ListEntry).where(
        ListEntry.list_type_id == list_type_id, ListEntry.department_id == department_id,
        ListEntry.origin == ListOrigin.IMPORTED, ListEntry.state == EntryState.PUBLISHED,
    ))  # fmt: skip
    ended = 0
    reason = f"{edition.source} {edition.edition_on.isoformat()} 版名单中已不再列出"
    for entry in entries:
        if entry.source_ref in listed:
            continue
        source = entry.state
        entry.state = EntryState.REMOVED
        entry.ended_on, entry.exit_reason, entry.updated_at = today, reason, utcnow()
        lists_service.record_step(session, entry, Action.REMOVE, source, actor=actor, today=today, note=reason,
                                  details={"edition": edition.id})  # fmt: skip
        ended += 1
    return ended


def pending_reviews(session: Session, *, limit: int = 200) -> list[ListReview]:
    return list(session.scalars(select(ListReview).where(ListReview.state == "pending")
                                .order_by(ListReview.id).limit(limit)))  # fmt: skip


def resolve_review(session: Session, review_id: int, *, code: str | None, dismiss: bool, actor: Actor,
                   protector: Protector, today: date) -> imports.ImportOutcome | None:  # fmt: skip
    """Name the subject of a held row (its USCC) and import it, or dismiss the row."""
    review = session.get(ListReview, review_id)
    if review is None:
        raise NotFound(what=f"待核对的名单记录 {review_id}")
    if review.state != "pending":
        raise InvalidTransition(state=review.state, action="核对")
    edition = session.get(ListEdition, review.edition_id)
    assert edition is not None
    review.decided_by, review.decided_at = actor.label[:100], utcnow()
    if dismiss:
        review.state = "dismissed"
        return None
    if not code:
        raise InvalidInput(reason="请给出该主体的统一社会信用代码，或选择不予导入")
    try:
        uscc = validate_uscc(normalize_code(code))
    except CodeError as exc:
        raise InvalidInput(reason=str(exc)) from None
    columns = _columns(list(review.values))
    list_type = session.get(ListType, edition.list_type_id)
    department = session.get(Department, edition.department_id)
    assert list_type is not None
    assert department is not None
    outcome = imports.import_list_rows(session, [{**review.values, columns["code"]: uscc}], type_key=list_type.key,
                                       department=department, actor=actor, protector=protector, today=today)  # fmt: skip
    review.state = "applied" if outcome.created + outcome.updated + outcome.unchanged else "pending"
    return outcome
