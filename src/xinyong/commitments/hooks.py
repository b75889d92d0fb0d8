"""Where commitments plug into other domains through their hooks: the 信用承诺 section of credit reports
(reports.sections: the public report shows what the portal shows, the subject's own report every commitment, a
special report all but the 不予公开 ones), the broken commitments in credit checks (checks.extras), with the
告知承诺 verdict for the matters configured so, and the repair workflow's 信用修复承诺 (repair.hooks), kept as
信用修复型 commitments and broken with it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from xinyong.catalog import Catalog
from xinyong.checks import extras
from xinyong.commitments import rules, service
from xinyong.errors import NotFound
from xinyong.repair import hooks as repair_hooks
from xinyong.reports import sections


def commitments_section(session: Session, scope: sections.Scope) -> list[sections.Group]:
    found = service.published_for_subject(session, scope.subject_id, settings=scope.settings, today=scope.today,
                                          public=scope.kind == "public", start=scope.start, end=scope.end)  # fmt: skip
    if scope.kind == "special":
        found = [c for c in found if c.openness != rules.PRIVATE]
    items = []
    for c in found:
        rows = [("承诺编码", c.code), ("承诺类型", c.kind), ("承诺事由", c.reason),
                ("承诺作出日期", c.record.decision_date.isoformat()), ("承诺受理单位", c.authority or c.department),
                ("履行状态", c.status)]  # fmt: skip
        if c.is_broken:
            rows += [("违诺责任", c.liability), ("未履行的承诺内容", c.unfulfilled),
                     ("违诺责任追究内容", c.pursued or "—"), ("认定日期", c.determined_on)]  # fmt: skip
        items.append(sections.Item(title=f"{c.kind}：{c.reason}", rows=rows, marks=["违诺"] if c.is_broken else []))
    return [sections.Group("信用承诺", items)] if items else []


def _claimed(catalog: Catalog) -> list[str]:
    try:
        return [rules.commitment_type(catalog).key]
    except NotFound:
        return []


sections.register("commitments", commitments_section, claims=_claimed)


def commitments_in_check(session: Session, query: extras.ExtrasQuery) -> dict[int, Any]:
    cfg = service.config(query.settings)
    decides = query.matter in cfg.refuse_matters
    found = service.broken_for_check(session, query.subject_ids, settings=query.settings,
                                     department_id=query.department_id, today=query.today,
                                     with_serious=decides)  # fmt: skip
    result: dict[int, Any] = {}
    for subject_id in query.subject_ids:
        item = found.get(subject_id, service.SubjectCommitments())
        if not (item.broken_total or decides):
            continue
        value: dict[str, Any] = {"broken": item.broken, "broken_total": item.broken_total}
        if decides:
            value["notice_commitment"] = service.notice_commitment_verdict(item, cfg)
        result[subject_id] = value
    return result


extras.register("commitments", commitments_in_check)


repair_hooks.register(on_signed=service.keep_repair_commitment, on_broken=service.break_repair_commitment)
