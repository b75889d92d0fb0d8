from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.codes import (
    RESIDENT_ID_TYPES,
    CodeError,
    mask_id_number,
    normalize_code,
    normalize_name,
    validate_id_number,
    validate_uscc,
)
from xinyong.db import Base, among, bulk_insert, utcnow
from xinyong.errors import InvalidInput, NotFound
from xinyong.protect import Protector
from xinyong.subjects import names as search_index
from xinyong.subjects.models import KIND_BY_LABEL, Subject, SubjectKind, SubjectNameChange

LEGACY_COLUMNS = ("registration_number", "org_code", "tax_number", "institution_cert", "social_org_cert")


@dataclass(slots=True)
class SubjectRef:
    """Who a row is about, as the department described it."""

    kind: SubjectKind
    name: str
    uscc: str | None = None
    id_number: str | None = None  # clear text, only in memory while the row is processed
    id_type: str | None = None
    legal_representative: str | None = None
    registration_number: str | None = None
    org_code: str | None = None
    tax_number: str | None = None
    institution_cert: str | None = None
    social_org_cert: str | None = None
    name_norm: str | None = None  # normalize_name(name)[:200] when the caller has it already


def kind_from_label(label: str) -> SubjectKind:
    return KIND_BY_LABEL[label]


def person_lookup_value(id_number: str, id_type: str | None) -> str:
    """Resident ID numbers are hashed as they are; other documents with their type, so that a passport
    number can never collide with an ID number."""
    if not id_type or id_type in RESIDENT_ID_TYPES:
        return id_number
    return f"{id_type}:{id_number}"


@dataclass(slots=True)
class Resolution:
    subject_id: int
    registered_name: str
    is_new: bool
    kind: str  # the registered subject's (SubjectKind's value)


class SubjectResolver:
    """Finds or creates the subjects of a chunk of rows in a few round trips. New subjects' names are indexed in
    the same transaction, or, with `defer_index`, queued for the name indexer (names.index_pending), which an
    import runs outside its chunks' transactions."""

    def __init__(self, session: Session, protector: Protector, *, defer_index: bool = False) -> None:
        self.session = session
        self.protector = protector
        self.defer_index = defer_index

    def key_of(self, ref: SubjectRef) -> str:
        if ref.kind is SubjectKind.PERSON or not ref.uscc:
            assert ref.id_number is not None
            return "id:" + self.protector.lookup_hash(person_lookup_value(ref.id_number, ref.id_type))
        return "uscc:" + ref.uscc

    def resolve(self, refs: Iterable[SubjectRef]) -> dict[str, Resolution]:
        """Map each ref's key to its subject; creates the missing ones (first description wins)."""
        return self.resolve_keyed((self.key_of(ref), ref) for ref in refs)

    def resolve_keyed(self, keyed: Iterable[tuple[str, SubjectRef]]) -> dict[str, Resolution]:
        """`resolve` for refs whose `key_of` the caller already has."""
        wanted: dict[str, SubjectRef] = {}
        for key, ref in keyed:
            wanted.setdefault(key, ref)
        found: dict[str, Resolution] = {}
        usccs = [k[5:] for k in wanted if k.startswith("uscc:")]
        hashes = [k[3:] for k in wanted if k.startswith("id:")]
        table = Subject.__table__
        for start in range(0, max(len(usccs), len(hashes)), 900):
            part_u, part_h = usccs[start : start + 900], hashes[start : start + 900]
            conditions = []
            if part_u:
                conditions.append(among(self.session, table.c.uscc, part_u))
            if part_h:
                conditions.append(among(self.session, table.c.id_hash, part_h))
            if not conditions:
                continue
            rows = self.session.execute(
                select(table.c.id, table.c.uscc, table.c.id_hash, table.c.name, table.c.kind).where(or_(*conditions))
            )
            for row in rows:
                key = f"uscc:{row.uscc}" if row.uscc and f"uscc:{row.uscc}" in wanted else f"id:{row.id_hash}"
                found[key] = Resolution(row.id, row.name, False, str(row.kind))
        missing = [(key, ref) for key, ref in wanted.items() if key not in found]
        if missing:
            now = utcnow()
            values = [self._new_subject_values(key, ref, now) for key, ref in missing]
            # A plain executemany and one look-up beat INSERT … RETURNING, which SQLite runs row by row.
            bulk_insert(self.session, table, values)
            created = self._ids_by_key([key for key, _ in missing])
            for key, ref in missing:
                found[key] = Resolution(created[key], ref.name, True, ref.kind.value)
            if self.defer_index:
                search_index.queue_subjects(self.session, [(found[k].subject_id, str(v["kind"]))
                                                           for (k, _), v in zip(missing, values, strict=True)])  # fmt: skip
            else:
                search_index.index_subjects(self.session, [(found[k].subject_id, str(v["kind"]), str(v["name_norm"]))
                                                           for (k, _), v in zip(missing, values, strict=True)])  # fmt: skip
        return found

    def _ids_by_key(self, keys: list[str]) -> dict[str, int]:
        table = Subject.__table__
        ids: dict[str, int] = {}
        usccs = [k[5:] for k in keys if k.startswith("uscc:")]
        hashes = [k[3:] for k in keys if k.startswith("id:")]
        for column, prefix, values in ((table.c.uscc, "uscc:", usccs), (table.c.id_hash, "id:", hashes)):
            for start in range(0, len(values), 900):
                part = values[start : start + 900]
                found = self.session.execute(select(table.c.id, column).where(among(self.session, column, part)))
                for subject_id, value in found:
                    ids[prefix + value] = subject_id
        return ids

    def _new_subject_values(self, key: str, ref: SubjectRef, now: datetime) -> dict[str, object]:
        values: dict[str, object] = {
            "kind": ref.kind.value,
            "name": ref.name,
            "name_norm": normalize_name(ref.name)[:200] if ref.name_norm is None else ref.name_norm,
            "uscc": ref.uscc if key.startswith("uscc:") else None,
            "id_hash": key[3:] if key.startswith("id:") else None,
            "id_sealed": self.protector.seal(ref.id_number) if key.startswith("id:") and ref.id_number else None,
            # Other documents (passports, permits) run to 40 characters; the column holds an ID card's 18.
            "id_masked": mask_id_number(ref.id_number)[-18:] if key.startswith("id:") and ref.id_number else None,
            "legal_representative": ref.legal_representative,
            "created_at": now,
            "updated_at": now,
        }
        for column in LEGACY_COLUMNS:
            values[column] = getattr(ref, column)
        return values


def names_agree(registered: str, reported: str) -> bool:
    return normalize_name(registered) == normalize_name(reported)


# ------------------------------------------------------------------------------------------- look-ups


def find_by_code(session: Session, code: str, protector: Protector) -> Subject | None:
    """A subject by USCC, any legacy code, or ID number (hashed for the look-up, never stored in clear)."""
    normalized = normalize_code(code)
    if not normalized:
        return None
    try:
        uscc = validate_uscc(normalized)
    except CodeError:
        uscc = None
    if uscc:
        return session.scalar(select(Subject).where(Subject.uscc == uscc))
    try:
        id_number = validate_id_number(normalized)
    except CodeError:
        id_number = None
    if id_number:
        return session.scalar(select(Subject).where(Subject.id_hash == protector.lookup_hash(id_number)))
    columns = [getattr(Subject, c) for c in LEGACY_COLUMNS]
    return session.scalar(select(Subject).where(or_(*(c == normalized for c in columns))).limit(1))


def get_subject(session: Session, code: str, protector: Protector) -> Subject:
    subject = find_by_code(session, code, protector)
    if subject is None:
        raise NotFound(what="该信用主体")
    return subject


def reveal_id_number(subject: Subject, protector: Protector) -> str | None:
    """The full ID number, for roles allowed to see it; callers must record the look-up."""
    return protector.unseal(subject.id_sealed) if subject.id_sealed else None



# ------------------------------------------------------------------------------------ name changes, merges

# What a merged subject may still be named by: history that stays with the row. Anything else referring to
# it (a list entry, a repair, an objection, an account) is a case in progress that must move first.
HISTORY_TABLES = frozenset({"audit_entries", "credit_checks", "subject_name_changes", "subject_grams",
                            "records", "record_versions", "subjects"})  # fmt: skip
TABLE_LABELS = {"list_entries": "信用名单", "repair_applications": "信用修复申请", "repair_commitments": "信用修复承诺",
                "objections": "异议", "subject_accounts": "主体账户"}  # fmt: skip


def record_name_change(session: Session, subject_id: int, *, name: str, note: str | None, actor: Actor) -> bool:
    """Record that the subject has carried `name` (更名 or a known variant). False if already recorded."""
    name_norm = normalize_name(name)
    exists = session.scalar(select(SubjectNameChange.id).where(SubjectNameChange.subject_id == subject_id,
                                                               SubjectNameChange.name_norm == name_norm))  # fmt: skip
    if exists is not None or not name_norm:
        return False
    session.add(SubjectNameChange(subject_id=subject_id, name=name[:200], name_norm=name_norm[:200],
                                  note=(note or "")[:500] or None, recorded_by=actor.label[:100]))  # fmt: skip
    return True


def known_names(session: Session) -> dict[int, set[str]]:
    """Recorded names per subject (normalised), besides the registered one."""
    names: dict[int, set[str]] = {}
    for subject_id, name_norm in session.execute(select(SubjectNameChange.subject_id, SubjectNameChange.name_norm)):
        names.setdefault(subject_id, set()).add(name_norm)
    return names


def open_references(session: Session, subject_id: int) -> list[str]:
    """Labels of what, besides history, refers to the subject (cases in progress)."""
    found = []
    for table in Base.metadata.sorted_tables:  # every domain's tables: the entry points import xinyong.models
        if table.name in HISTORY_TABLES:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == "subjects" and fk.column.name == "id":
                count = session.scalar(select(func.count()).select_from(table).where(fk.parent == subject_id))
                if count:
                    found.append(TABLE_LABELS.get(table.name, table.name))
    return found


def check_mergeable(session: Session, *, keep_id: int, merge_id: int) -> tuple[Subject, Subject]:
    """(kept, merged) if `merge_id` may be merged into `keep_id`; InvalidInput naming the reason otherwise."""
    if keep_id == merge_id:
        raise InvalidInput(reason="不能把主体合并到它自己")
    keep, merge = session.get(Subject, keep_id), session.get(Subject, merge_id)
    if keep is None or merge is None:
        raise NotFound(what="要合并的信用主体")
    if keep.merged_into_id is not None or merge.merged_into_id is not None:
        raise InvalidInput(reason="该主体已被合并过，不能再次合并")
    if keep.kind != merge.kind:
        raise InvalidInput(reason=f"不能合并不同类别的主体（{keep.kind.label}与{merge.kind.label}）")
    blocking = open_references(session, merge.id)
    if blocking:
        raise InvalidInput(reason=f"被合并的主体尚有{'、'.join(blocking)}，须先办结或转移后再合并")
    return keep, merge


def retire_merged(session: Session, *, keep: Subject, merge: Subject, actor: Actor, reason: str) -> None:
    """The last step of a merge, after the other domains moved their rows to `keep`: the merged subject keeps
    its row for history but no longer answers to its codes, and its name is recorded as one of `keep`'s."""
    record_name_change(session, keep.id, name=merge.name, note=f"合并自主体 #{merge.id}：{reason}", actor=actor)
    details = {"kept": keep.id, "merged": merge.id, "merged_uscc": merge.uscc, "merged_name": merge.name}
    merge.merged_into_id = keep.id
    merge.uscc = None
    merge.id_hash = None
    for column in LEGACY_COLUMNS:
        setattr(merge, column, None)
    merge.updated_at = utcnow()
    search_index.unindex_subject(session, merge.id)
    audit.record(session, AuditAction.SUBJECTS_MERGED, actor=actor, subject_id=keep.id, target=f"subject:{merge.id}",
                 reason=reason, details=details)  # fmt: skip
