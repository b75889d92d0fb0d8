"""Builders for evaluation and inspection tests: records of chosen tiers through the real pipeline, the
built-in model, runs."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories.records import company_code, individual_code, license_row, penalty_row

from xinyong.accounts import activation
from xinyong.accounts import service as accounts_service
from xinyong.actors import Actor
from xinyong.auth.rules import ROLE_PERMISSIONS, Role
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.evaluation import service as evaluation_service
from xinyong.evaluation.models import EvaluationRun
from xinyong.files import IncomingFile
from xinyong.notify.models import OutboxItem
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.repair import service as repair_service
from xinyong.subjects.models import Subject

SYSTEM = "test"
TIER_CATEGORIES = {"严重": "吊销许可证件", "一般": "罚款", "轻微": "警告"}
_serial = itertools.count(1)


def company(n: int, *, individual: bool = False) -> tuple[str, str]:
    """(USCC, name) of a test company or individual business."""
    if individual:
        return individual_code(700 + n), f"德清县个体{n}号小吃店"
    return company_code(70000 + n), f"德清县评价测试{n}号有限公司"


def penalty(session: Session, settings: Settings, protector: Protector, dept: Department, subject: tuple[str, str], *,
            tier: str = "一般", decided: date, today: date, individual: bool = False, fine: str | None = None,
            doc_no: str | None = None) -> Record:  # fmt: skip
    """A penalty of `tier` on `subject`, imported through the pipeline (which sets its tier and publicity)."""
    categories = TIER_CATEGORIES[tier] if fine is None else f"{TIER_CATEGORIES[tier]};罚款"
    if "罚款" in categories and fine is None:
        fine = "0.2"
    doc_no = doc_no or f"德评罚〔{decided.year}〕{next(_serial)}号"
    row = penalty_row(CF_XDR_MC=subject[1], CF_XDR_SHXYM=subject[0], CF_WSH=doc_no, CF_CFLB=categories,
                      CF_NR_FK=fine or "", CF_JDRQ=decided.isoformat(),
                      CF_XDR_LB="个体工商户" if individual else "法人及非法人组织", CF_CFJG=dept.name, CF_CFJGDM=dept.code,
                      CF_SJLY=dept.name, CF_SJLYDM=dept.code)  # fmt: skip
    result = records_service.import_rows(session, [row], settings=settings, protector=protector, record_type="penalty",
                                         department=dept, actor=SYSTEM, today=today)  # fmt: skip
    assert result.created == 1, result
    record = session.scalar(select(Record).where(Record.doc_no == doc_no))
    assert record is not None
    assert record.tier == tier, (record.tier, tier)
    return record


def licence(session: Session, settings: Settings, protector: Protector, dept: Department, subject: tuple[str, str], *,
            decided: date, today: date, until: date | None = None, certificate: str = "食品经营许可证",
            individual: bool = False) -> Record:  # fmt: skip
    doc_no = f"德评许〔{decided.year}〕{next(_serial)}号"
    row = license_row(XK_XDR_MC=subject[1], XK_XDR_SHXYM=subject[0], XK_WSH=doc_no, XK_JDRQ=decided.isoformat(),
                      XK_YXQZ=decided.isoformat(), XK_YXQZI=(until or date(2030, 12, 31)).isoformat(),
                      XK_XKZS=certificate, XK_XDR_LB="个体工商户" if individual else "法人及非法人组织")  # fmt: skip
    result = records_service.import_rows(session, [row], settings=settings, protector=protector, record_type="license",
                                         department=dept, actor=SYSTEM, today=today)  # fmt: skip
    assert result.created == 1, result
    record = session.scalar(select(Record).where(Record.doc_no == doc_no))
    assert record is not None
    return record


def subject_id(session: Session, uscc: str) -> int:
    found = session.scalar(select(Subject.id).where(Subject.uscc == uscc))
    assert found is not None, uscc
    return found


def load_builtin_model(session: Session, settings: Settings) -> None:
    evaluation_service.load_model_file(session, evaluation_service.BUILTIN_MODEL, actor=SYSTEM, settings=settings)


def run(session: Session, settings: Settings, as_of: date, **kwargs: str) -> EvaluationRun:
    return evaluation_service.run_evaluation(session, as_of=as_of, actor=SYSTEM, settings=settings, **kwargs)




PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def repair(session: Session, settings: Settings, protector: Protector, record: Record, *, today: date) -> None:
    """The whole repair of `record` through the repair service: the subject applies from its verified account,
    the platform accepts, the owning department's reviewer approves (publication stops from `today`)."""
    subject = session.get(Subject, record.subject_id)
    assert subject is not None
    assert subject.uscc
    account = accounts_service.sign_up(session, code=subject.uscc, name=subject.name, contact=f"e{subject.id}@example.cn",
                                       password="Subject-pass-2025", protector=protector, settings=settings)  # fmt: skip
    message = session.scalars(select(OutboxItem).where(OutboxItem.topic == "message").order_by(OutboxItem.id.desc())).first()
    assert message is not None
    accounts_service.verify(session, account_id=account.id, code=message.payload["body"].split("验证码为 ")[1][:6],
                            protector=protector)  # fmt: skip
    platform = Actor("user:platform", "user", ROLE_PERMISSIONS[Role.PLATFORM_ADMIN])
    _, code = activation.issue(session, subject_id=subject.id, actor=platform, channel="counter", settings=settings,
                               protector=protector)  # fmt: skip
    activation.redeem(session, account, code=code, settings=settings, protector=protector)
    data = repair_service.ApplicationInput("王经理", "0572-8888888", "", "已缴清罚款并完成整改，整改报告附后。", "王经理", True)
    application = repair_service.submit_application(session, account=account, record_id=record.id, data=data,
                                                    files=[IncomingFile("缴款凭证.pdf", PDF)], settings=settings,
                                                    today=today)  # fmt: skip
    repair_service.accept_application(session, application.id, actor=platform, settings=settings, today=today)
    reviewer = Actor("user:reviewer", "user", ROLE_PERMISSIONS[Role.REVIEWER], department_id=record.department_id,
                     is_department_bound=True)  # fmt: skip
    repair_service.approve_application(session, application.id, actor=reviewer, opinion="已履行义务，同意修复", today=today)
