"""Notification e-mails link to the portal of the county the object belongs to: a county with a host name by that
host, another county by the platform's address with the county's prefix, the city's own departments by the
platform's address; without a platform address, only a county with a host name gets a link."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from tests.factories.records import department
from tests.fixtures.regions import CITY, Regional
from tests.fixtures.subject_accounts import (  # noqa: F401  (fixtures: penalties through the pipeline, accounts)
    PDF,
    penalty,
    subject_account,
    today,
)

from xinyong.actors import Actor
from xinyong.auth.service import actor_for_user
from xinyong.codes import make_uscc
from xinyong.config import Settings
from xinyong.files import IncomingFile
from xinyong.notify import service as notify
from xinyong.objections import service as objections_service
from xinyong.regions import service as regions_service
from xinyong.repair import service as repair_service

PUBLIC = "https://credit.example.cn"
HOST = "cx.credit.example.cn"  # 长兴县's own portal


@pytest.fixture
def console_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={
        "portal_rate_limit_requests": 0, "upload_max_bytes": 256 * 1024, "login_rate_limit_attempts": 1000,
        "upload_dir": tmp_path / "uploads", "events_file": tmp_path / "events.jsonl", "evidence_max_bytes": 64 * 1024,
        "evidence_max_files": 3, "reports_public_url": PUBLIC + "/",
    })  # fmt: skip


@pytest.fixture
def with_host(db_session: Session, regional: Regional) -> None:
    regions_service.update_region(db_session, "330522", host=HOST, actor=Actor.system("test"))
    db_session.commit()


def _sent(db_session: Session, settings: Settings) -> list[dict[str, str]]:
    notifier = notify.ConsoleNotifier()
    notify.deliver_pending(db_session, settings=settings, notifier=notifier)
    db_session.commit()
    return list(notifier.sent)


def _objection(db_session, settings, today, penalty, subject_account, dept, doc_no):  # type: ignore[no-untyped-def]  # noqa: F811
    record = penalty(department=dept, CF_WSH=doc_no)
    return objections_service.file_objection(
        db_session, account=subject_account(record), record_id=record.id, today=today, settings=settings,
        data=objections_service.ObjectionInput("wrong-data", "罚款金额应为一千元，决定书记载有误。", "李经理", "13800000000"),
        files=[],
    )  # fmt: skip


def test_objection_mails_link_to_the_countys_portal(db_session, console_settings, regional, with_host, today, penalty,  # type: ignore[no-untyped-def]  # noqa: F811
                                                    subject_account) -> None:  # noqa: F811
    city_dept = department(db_session, code=make_uscc("1", "1", CITY, "00000009"), name="湖州市发展和改革委员会")
    deqing = _objection(db_session, console_settings, today, penalty, subject_account, regional.accounts.dept_a,
                        "德市监罚〔2025〕301号")  # fmt: skip
    changxing = _objection(db_session, console_settings, today, penalty, subject_account, regional.dept_c,
                           "长市监罚〔2025〕302号")  # fmt: skip
    city = _objection(db_session, console_settings, today, penalty, subject_account, city_dept, "湖发改罚〔2025〕303号")
    db_session.commit()
    bodies = {m["title"]: m["body"] for m in _sent(db_session, console_settings)}
    assert bodies[f"异议申请已受理（{deqing.number}）"].endswith(
        f"\n查看详情：{PUBLIC}/region/330521/objections/{deqing.number}")
    assert bodies[f"异议申请已受理（{changxing.number}）"].endswith(f"\n查看详情：https://{HOST}/objections/{changxing.number}")
    assert bodies[f"异议申请已受理（{city.number}）"].endswith(f"\n查看详情：{PUBLIC}/objections/{city.number}")

    # The decision's mail links the same way.
    objections_service.decide_objection(db_session, changxing.id, actor=actor_for_user(regional.users["reviewer_c"]),
                                        outcome="uphold", reason="经核实，记录无误", today=today)  # fmt: skip
    db_session.commit()
    [decided] = _sent(db_session, console_settings)
    assert decided["title"] == f"异议处理结果（{changxing.number}）"
    assert decided["body"].endswith(f"\n查看详情：https://{HOST}/objections/{changxing.number}")


def test_repair_mails_link_to_the_countys_portal(db_session, console_settings, regional, with_host, today, penalty,  # type: ignore[no-untyped-def]  # noqa: F811
                                                 subject_account) -> None:  # noqa: F811
    made = {}
    for key, dept, doc_no in (("deqing", regional.accounts.dept_a, "德市监罚〔2025〕311号"),
                              ("changxing", regional.dept_c, "长市监罚〔2025〕312号")):  # fmt: skip
        record = penalty(department=dept, CF_WSH=doc_no)
        made[key] = repair_service.submit_application(
            db_session, account=subject_account(record), record_id=record.id, settings=console_settings, today=today,
            data=repair_service.ApplicationInput("李经理", "13800000000", "", "已缴纳罚款，整改完毕。", "张三", True),
            files=[IncomingFile("a.pdf", PDF)],
        )  # fmt: skip
    db_session.commit()
    sent = [m for m in _sent(db_session, console_settings) if m["title"].startswith("信用修复申请")]
    assert len(sent) == 2
    links = {m["body"].rsplit("查看详情：", 1)[1] for m in sent}
    assert links == {f"{PUBLIC}/region/330521/repair/applications/{made['deqing'].number}",
                     f"https://{HOST}/repair/applications/{made['changxing'].number}"}  # fmt: skip
    assert all(m["body"].count("查看详情：") == 1 for m in sent)


def test_without_a_platform_address_only_a_host_name_gives_a_link(db_session, console_settings, regional, with_host,  # type: ignore[no-untyped-def]
                                                                  today, penalty, subject_account) -> None:  # noqa: F811
    settings = console_settings.model_copy(update={"reports_public_url": ""})
    deqing = _objection(db_session, settings, today, penalty, subject_account, regional.accounts.dept_a, "德市监罚〔2025〕321号")
    changxing = _objection(db_session, settings, today, penalty, subject_account, regional.dept_c, "长市监罚〔2025〕322号")
    db_session.commit()
    bodies = {m["title"]: m["body"] for m in _sent(db_session, settings)}
    assert "查看详情" not in bodies[f"异议申请已受理（{deqing.number}）"]  # no address the platform is known by
    assert bodies[f"异议申请已受理（{changxing.number}）"].endswith(f"\n查看详情：https://{HOST}/objections/{changxing.number}")


def test_the_portal_address_of_each_region(db_session, console_settings, regional, with_host) -> None:  # type: ignore[no-untyped-def]
    url = regions_service.portal_url
    assert url(db_session, console_settings, None) == PUBLIC
    assert url(db_session, console_settings, CITY) == PUBLIC
    assert url(db_session, console_settings, "330521") == f"{PUBLIC}/region/330521"
    assert url(db_session, console_settings, "330522") == f"https://{HOST}"
    assert url(db_session, console_settings, "330523") == PUBLIC  # not registered: the platform's own portal
    plain = console_settings.model_copy(update={"reports_public_url": "http://10.0.0.8:8000"})
    assert url(db_session, plain, "330522") == f"http://{HOST}"  # the platform's scheme


def test_the_linked_pages_are_the_countys_portal(db_session, console_settings, regional, with_host, today, penalty,  # type: ignore[no-untyped-def]  # noqa: F811
                                                 subject_account, client) -> None:  # noqa: F811
    deqing = _objection(db_session, console_settings, today, penalty, subject_account, regional.accounts.dept_a,
                        "德市监罚〔2025〕331号")  # fmt: skip
    db_session.commit()
    # Signed out, the linked page asks for the subject's sign-in on the same county's portal.
    page = client.get(f"/region/330521/objections/{deqing.number}", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/region/330521/account/login")
    login = client.get(page.headers["location"])
    assert login.status_code == 200
    assert "德清县" in login.text
    page = client.get("/objections/YY0", headers={"host": HOST}, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/account/login")
    login = client.get("/account/login", headers={"host": HOST})
    assert login.status_code == 200
    assert "长兴县" in login.text
