"""A small world for credit checks: a listed subject with a penalty in publication, a clean one, an honour-listed
one, and the measures that apply to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session
from tests.factories import lists as lf
from tests.factories import records as rf

from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.protect import Protector
from xinyong.records import service as records_service

TODAY = date(2025, 10, 20)
ON_TIME = date(2025, 10, 15)


@dataclass
class World:
    dept: Department
    listed_code: str  # on the serious-dishonesty list, with a penalty in publication
    clean_code: str  # in the register, nothing against it
    honor_code: str  # on the honour list


def make_world(db_session: Session, settings: Settings, protector: Protector, dept: Department) -> World:
    lf.load_types(db_session, dept)
    listed_row = rf.penalty_row(CF_XDR_MC="安吉县失信测试有限公司")
    licence = rf.license_row(XK_XDR_MC="安吉县失信测试有限公司", XK_XDR_SHXYM=listed_row["CF_XDR_SHXYM"])
    clean_row = rf.license_row(XK_XDR_MC="安吉县守法测试有限公司")
    for rows, record_type in (([listed_row], "penalty"), ([licence, clean_row], "license")):
        records_service.import_rows(db_session, rows, settings=settings, protector=protector, record_type=record_type,
                                    department=dept, actor="test", today=ON_TIME)  # fmt: skip
    lf.listed(db_session, settings, protector, dept, listed_row["CF_XDR_SHXYM"], today=TODAY)
    honor_id = lf.subject(db_session, protector, 500, name="安吉县诚信示范有限公司")
    honor_code = rf.company_code(90500)
    lf.listed(db_session, settings, protector, dept, honor_code, today=TODAY, type_key="honor")
    lf.measure(db_session, settings)  # 政府采购 / serious-dishonesty / block
    lf.measure(db_session, settings, matter="招标投标", list_types=("court-dishonest-debtors",),
               content="限制参与招标投标活动")  # fmt: skip
    lf.measure(db_session, settings, matter="行政审批", list_types=("honor",), kind="incentive", effect="fast_track",
               content="容缺受理、告知承诺", basis="国发〔2016〕33号")  # fmt: skip
    assert honor_id
    db_session.flush()
    return World(dept, listed_row["CF_XDR_SHXYM"], clean_row["XK_XDR_SHXYM"], honor_code)
