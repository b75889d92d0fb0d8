from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from xinyong.codes import (
    RESIDENT_ID_TYPES,
    CodeError,
    mask_id_number,
    normalize_code,
    normalize_name,
    validate_id_number,
    validate_uscc,
)
from xinyong.db import bulk_insert, utcnow
from xinyong.errors import NotFound
from xinyong.protect import Protector
from xinyong.subjects import names as search_index
from xinyong.subjects.models import KIND_BY_LABEL, Subject, SubjectKind

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


class SubjectResolver:
    """Finds or creates the subjects of a chunk of rows in a few round trips."""

    def __init__(self, session: Session, protector: Protector) -> None:
        self.session = session
        self.protector = protector

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
                conditions.append(table.c.uscc.in_(part_u))
            if part_h:
                conditions.append(table.c.id_hash.in_(part_h))
            if not conditions:
                continue
            rows = self.session.execute(
                select(table.c.id, table.c.uscc, table.c.id_hash, table.c.name).where(or_(*conditions))
            )
            for row in rows:
                key = f"uscc:{row.uscc}" if row.uscc and f"uscc:{row.uscc}" in wanted else f"id:{row.id_hash}"
                found[key] = Resolution(row.id, row.name, False)
        missing = [(key, ref) for key, ref in wanted.items() if key not in found]
        if missing:
            values = [self._new_subject_values(key, ref) for key, ref in missing]
            # A plain executemany and one look-up beat INSERT … RETURNING, which SQLite runs row by row.
            bulk_insert(self.session, table, values)
            created = self._ids_by_key([key for key, _ in missing])
            for key, ref in missing:
                found[key] = Resolution(created[key], ref.name, True)
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
                for subject_id, value in self.session.execute(select(table.c.id, column).where(column.in_(part))):
                    ids[prefix + value] = subject_id
        return ids

    def _new_subject_values(self, key: str, ref: SubjectRef) -> dict[str, object]:

        now = utcnow()
        values: dict[str, object] = {
            "kind": ref.kind.value,
            "name": ref.name,
            "name_norm": normalize_name(ref.name)[:200],
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

