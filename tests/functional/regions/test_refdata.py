"""Reference data set per region, inherited from the parent (xinyong.regions.inherit): list types, measures,
local calendar days, the evaluation model and the commitment templates of 湖州市 (the platform's), 德清县 and
长兴县."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session
from tests.factories import lists as lf
from tests.factories.evaluation import load_builtin_model
from tests.factories.records import company_code
from tests.fixtures.console import PASSWORD
from tests.fixtures.regions import CHANGXING, CITY, DEQING, Regional
from typer.testing import CliRunner

from xinyong.actors import Actor
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.calendar import service as calendar_service
from xinyong.checks import service as checks_service
from xinyong.commitments import service as commitments_service
from xinyong.config import Settings
from xinyong.errors import InvalidInput, NotFound, PermissionDenied
from xinyong.evaluation import service as evaluation_service
from xinyong.lists import service as lists_service
from xinyong.measures import service as measures_service
from xinyong.measures.rules import MeasureDraft
from xinyong.regions import inherit
from xinyong.repair import service as repair_service

SYSTEM = Actor.system("test")
TYPE = "serious-dishonesty"
MONDAY = date(2025, 10, 20)
COUNTY_NAMES = {DEQING: "德清县", CHANGXING: "长兴县"}


def _actor(regional: Regional, key: str) -> Actor:
    return auth_service.actor_for_user(regional.users[key])


def _override(session: Session, region: str | None, *, actor: Actor = SYSTEM, workdays: int = 10) -> None:
    spec = lists_service.ListTypeSpec.from_mapping({
        "key": TYPE, "name": f"{COUNTY_NAMES.get(region or '', '本县')}严重失信主体名单", "nature": "dishonesty", "legal_basis": "《德清县公共信用信息管理办法》",
        "entry_criteria": "经依法认定的严重失信行为", "exit_conditions": "期满或信用修复",
        "remedy_route": "向认定部门申请信用修复", "objection_workdays": workdays,
    })  # fmt: skip
    lists_service.save_list_type(session, spec, actor=actor, region=region)


@pytest.fixture
def types(regional: Regional, db_session: Session) -> Regional:
    lf.load_types(db_session, regional.accounts.dept_a, regional.dept_c)
    db_session.commit()
    return regional


def test_the_region_chain_is_nearest_first_and_the_root_is_the_platforms_own(regional: Regional,
                                                                              db_session: Session) -> None:  # fmt: skip
    assert inherit.chain(db_session, DEQING) == (DEQING, None)
    assert inherit.chain(db_session, CITY) == (None,)
    assert inherit.chain(db_session, None) == (None,)
    assert inherit.chain(db_session, "330523") == (None,)  # a department's unregistered region reads the platform's
    assert inherit.owner(db_session, CITY) is None
    assert inherit.owner(db_session, f" {DEQING} ") == DEQING


def test_a_county_without_its_own_list_types_inherits_the_citys(types: Regional, db_session: Session) -> None:
    platform = lists_service.get_type(db_session, TYPE)
    assert platform.region_code is None
    assert lists_service.get_type(db_session, TYPE, region=DEQING) is platform
    assert lists_service.get_type(db_session, TYPE, region=CHANGXING) is platform
    keys = [t.key for t in lists_service.list_types(db_session, region=CHANGXING)]
    assert keys == [t.key for t in lists_service.list_types(db_session, region=None)]


def test_a_county_list_type_wins_in_that_county_only(types: Regional, db_session: Session, protector,
                                                     console_settings: Settings) -> None:  # fmt: skip
    _override(db_session, DEQING)
    db_session.commit()
    own = lists_service.get_type(db_session, TYPE, region=DEQING)
    platform = lists_service.get_type(db_session, TYPE, region=CHANGXING)
    assert own.region_code == DEQING
    assert own.name == "德清县严重失信主体名单"
    assert platform.region_code is None
    assert platform is lists_service.get_type(db_session, TYPE, region=CITY)
    # the override keeps the deciders of the type it overrides; one row per key in each region's effective set
    assert own.deciding_departments == platform.deciding_departments
    assert [t.id for t in lists_service.list_types(db_session, region=DEQING) if t.key == TYPE] == [own.id]
    assert len(lists_service.list_types(db_session)) == len(lists_service.list_types(db_session, region=None)) + 1

    # a listing procedure of a 德清县 department runs on 德清县's type (10 working days to object) …
    lf.subject(db_session, protector, 1)
    lf.subject(db_session, protector, 2)
    entry_a = lists_service.propose(db_session, type_key=TYPE, subject_code=company_code(90001), reasons="多次严重违法经营",
                                    basis=None, department=types.accounts.dept_a, actor=SYSTEM, protector=protector,
                                    today=MONDAY)  # fmt: skip
    entry_c = lists_service.propose(db_session, type_key=TYPE, subject_code=company_code(90002), reasons="多次严重违法经营",
                                    basis=None, department=types.dept_c, actor=SYSTEM, protector=protector,
                                    today=MONDAY)  # fmt: skip
    assert entry_a.list_type_id == own.id
    assert entry_a.basis == "《德清县公共信用信息管理办法》"
    assert entry_c.list_type_id == platform.id  # … 长兴县's on the platform's
    lists_service.notify(db_session, entry_a.id, rights=None, actor=SYSTEM, settings=console_settings, today=MONDAY)
    assert entry_a.objection_deadline == date(2025, 11, 3)  # ten working days after Monday 2025-10-20
    # memberships and measures read the key: a county's list is the same list
    lists_service.decide(db_session, entry_a.id, decision_no="德信列〔2025〕1号", answer=None, actor=SYSTEM,
                         settings=console_settings, today=date(2025, 11, 20))  # fmt: skip
    lists_service.publish(db_session, entry_a.id, actor=SYSTEM, today=date(2025, 11, 20))
    members = lists_service.memberships(db_session, [entry_a.subject_id], today=date(2025, 11, 21))
    assert [m.type_key for m in members[entry_a.subject_id]] == [TYPE]
    # the public list of the key shows the entry made on the county's type; the counts sum the key's types
    later = date(2025, 11, 21)
    shown, rows, total = lists_service.public_entries(db_session, TYPE, today=later, offset=0, limit=10)
    assert shown is platform
    assert (total, [e.id for e, _ in rows]) == (1, [entry_a.id])
    assert lists_service.public_entries(db_session, TYPE, today=later, offset=0, limit=10, region=DEQING)[0] is own
    assert {t.key: n for t, n in lists_service.public_type_counts(db_session, today=later)}[TYPE] == 1


def test_local_calendar_days_apply_to_the_county_and_below_only(regional: Regional, db_session: Session) -> None:
    wednesday, thursday = date(2025, 10, 22), date(2025, 10, 23)
    calendar_service.set_override(db_session, day=thursday, is_workday=False, note="全市停工")
    calendar_service.set_override(db_session, day=wednesday, is_workday=False, note="德清县地方休息日", region=DEQING)
    calendar_service.set_override(db_session, day=thursday, is_workday=True, note="长兴县照常上班", region=CHANGXING)
    db_session.commit()
    deqing = calendar_service.load_calendar(db_session, region=DEQING)
    changxing = calendar_service.load_calendar(db_session, region=CHANGXING)
    city = calendar_service.load_calendar(db_session, region=CITY)
    assert (deqing.is_workday(wednesday), deqing.is_workday(thursday)) == (False, False)
    assert (changxing.is_workday(wednesday), changxing.is_workday(thursday)) == (True, True)
    assert (city.is_workday(wednesday), city.is_workday(thursday)) == (True, False)
    assert deqing.add_workdays(MONDAY, 2) == date(2025, 10, 24)
    assert changxing.add_workdays(MONDAY, 2) == wednesday
    assert [o.day for o in calendar_service.list_overrides(db_session, region=DEQING)] == [wednesday]
    assert [o.day for o in calendar_service.list_overrides(db_session)] == [thursday]
    assert calendar_service.remove_override(db_session, day=wednesday, region=DEQING)
    db_session.commit()
    assert calendar_service.load_calendar(db_session, region=DEQING).is_workday(wednesday)


def _measure(session: Session, settings: Settings, content: str, *, region: str | None = None,
             actor: Actor = SYSTEM) -> str:  # fmt: skip
    draft = MeasureDraft("政府采购", content, (TYPE,), "《中华人民共和国政府采购法》第二十二条", "国家", "sanction", "block")
    return measures_service.create_measure(session, draft, actor=actor, settings=settings, region=region).code


def test_a_credit_check_applies_the_measures_of_the_checking_departments_region(
        types: Regional, db_session: Session, protector, console_settings: Settings) -> None:  # fmt: skip
    platform = _measure(db_session, console_settings, "依法限制参加政府采购活动")
    local = _measure(db_session, console_settings, "德清县：限制参与县级政府投资项目招标", region=DEQING)
    lf.subject(db_session, protector, 3)
    lf.listed(db_session, console_settings, protector, types.accounts.dept_a, company_code(90003), today=MONDAY)
    db_session.commit()
    assert {m.code for m in measures_service.current_for_matter(db_session, "政府采购", region=DEQING)} == {platform, local}
    assert {m.code for m in measures_service.current_for_matter(db_session, "政府采购", region=CHANGXING)} == {platform}

    def measures_seen_by(user: str) -> set[str]:
        docs, _ = checks_service.prepare_checks(
            db_session, [checks_service.CheckItem(code=company_code(90003))], matter="政府采购",
            actor=_actor(types, user), settings=console_settings, protector=protector, today=MONDAY, detail=False)  # fmt: skip
        return {m["code"] for m in docs[0]["measures"]}

    assert measures_seen_by("operator") == {platform, local}  # a 德清县 department
    assert measures_seen_by("operator_c") == {platform}  # 长兴县: the sibling's measure never applies


def test_a_county_admin_edits_its_own_regions_entries_only(types: Regional, db_session: Session,
                                                           console_settings: Settings) -> None:  # fmt: skip
    county, other = _actor(types, "county_admin"), _actor(types, "county_admin_c")
    city = _actor(types, "platform_admin")
    _override(db_session, DEQING, actor=county)
    _override(db_session, None, actor=county)  # its own region by default: the same row
    own = [t for t in lists_service.list_types(db_session) if t.region_code == DEQING]
    assert [t.name for t in own] == ["本县严重失信主体名单"]
    for region in (CITY, CHANGXING):
        with pytest.raises(PermissionDenied):
            _override(db_session, region, actor=county)
        with pytest.raises(PermissionDenied):
            calendar_service.set_override(db_session, day=MONDAY, is_workday=False, region=region, actor=county)
    with pytest.raises(PermissionDenied):  # the platform's type, and another county's, are not its to set
        lists_service.set_deciding_departments(db_session, TYPE, codes=[], actor=county, region=CITY)
    city_measure = _measure(db_session, console_settings, "依法限制参加政府采购活动", actor=city)
    other_measure = _measure(db_session, console_settings, "长兴县：限制参与县级招标", actor=other)
    own_measure = _measure(db_session, console_settings, "德清县：限制参与县级招标", actor=county)
    assert measures_service.current_version(db_session, city_measure).region_code is None
    assert measures_service.current_version(db_session, other_measure).region_code == CHANGXING
    for code in (city_measure, other_measure):
        with pytest.raises(PermissionDenied):
            measures_service.retire_measure(db_session, code, reason="本县不再适用", actor=county)
    measures_service.retire_measure(db_session, own_measure, reason="本县不再适用", actor=county)
    # the city's 信用办 edits any region's
    _override(db_session, CHANGXING, actor=city)
    measures_service.retire_measure(db_session, other_measure, reason="长兴县不再适用", actor=city)


def test_a_county_admin_sees_no_other_countys_measure_in_the_console(types: Regional, db_session: Session,
                                                                      console_settings: Settings, sign_in) -> None:  # fmt: skip
    platform = _measure(db_session, console_settings, "依法限制参加政府采购活动")
    other = _measure(db_session, console_settings, "长兴县：限制参与县级招标", region=CHANGXING)
    db_session.commit()
    browser = sign_in(types.users["county_admin"])
    page = browser.get("/admin/measures")
    assert page.status_code == 200
    assert "依法限制参加政府采购活动" in page.text
    assert "长兴县：限制参与县级招标" not in page.text
    assert browser.get(f"/admin/measures/{platform}").status_code == 200
    assert browser.get(f"/admin/measures/{other}").status_code == 404
    # a new measure from the county's console is the county's own
    form = {"matter": "政府采购", "content": "德清县：限制参与县级政府投资项目", "list_types": TYPE, "basis": "县政府令",
            "level": "县级", "kind": "sanction", "effect": "block"}  # fmt: skip
    browser.post("/admin/measures", data=form)
    db_session.expire_all()
    created = [m for m in measures_service.current_measures(db_session) if m.content == "德清县：限制参与县级政府投资项目"]
    assert [m.region_code for m in created] == [DEQING]
    assert sign_in(types.users["platform_admin"]).get(f"/admin/measures/{other}").status_code == 200
    # an account of the city's own region is platform-wide: every county's measures
    city_admin = auth_service.create_user(db_session, username="city-admin", password=PASSWORD,
                                          role=Role.PLATFORM_ADMIN, department=None, display_name="湖州市信用办",
                                          actor=SYSTEM, settings=console_settings, region=CITY)  # fmt: skip
    db_session.commit()
    city = sign_in(city_admin)
    assert "长兴县：限制参与县级招标" in city.get("/admin/measures").text
    assert city.get(f"/admin/measures/{other}").status_code == 200


def test_the_list_types_page_shows_a_county_its_own_types(types: Regional, db_session: Session, sign_in) -> None:
    _override(db_session, CHANGXING)
    db_session.commit()
    assert "长兴县严重失信主体名单" not in sign_in(types.users["county_admin"]).get("/admin/lists/types").text
    page = sign_in(types.users["county_admin_c"]).get("/admin/lists/types")
    assert page.status_code == 200
    assert "长兴县严重失信主体名单（330522 本区划）" in page.text
    assert "严重失信主体名单" in sign_in(types.users["platform_admin"]).get("/admin/lists/types").text


def test_unknown_or_malformed_region_codes_are_refused_clearly(types: Regional, db_session: Session) -> None:
    with pytest.raises(NotFound, match="330523"):  # 安吉县: a GB/T 2260 code this platform never registered
        _override(db_session, "330523")
    with pytest.raises(InvalidInput):
        _override(db_session, "999999")
    with pytest.raises(NotFound):
        calendar_service.set_override(db_session, day=MONDAY, is_workday=False, region="330523")


def test_the_evaluation_model_and_commitment_templates_are_chosen_per_region(
        types: Regional, db_session: Session, console_settings: Settings) -> None:  # fmt: skip
    load_builtin_model(db_session, console_settings)
    key = evaluation_service.list_models(db_session)[0].key
    assert evaluation_service.region_model(db_session, DEQING) is None  # the latest loaded model
    evaluation_service.set_region_model(db_session, CITY, key, actor=SYSTEM)
    assert evaluation_service.region_model(db_session, DEQING) == key  # inherited from the city
    with pytest.raises(NotFound):
        evaluation_service.set_region_model(db_session, CHANGXING, "no-such-model", actor=SYSTEM)
    with pytest.raises(PermissionDenied):
        evaluation_service.set_region_model(db_session, CHANGXING, key, actor=_actor(types, "county_admin"))

    every = [t.key for t in commitments_service.templates(console_settings)]
    assert len(every) >= 2
    commitments_service.set_region_templates(db_session, DEQING, [every[0]], actor=SYSTEM, settings=console_settings)
    db_session.commit()
    shown = {r: [t.key for t in commitments_service.templates(console_settings, db_session, region=r)]
             for r in (DEQING, CHANGXING, None)}  # fmt: skip
    assert shown == {DEQING: [every[0]], CHANGXING: every, None: every}
    commitments_service.set_region_templates(db_session, DEQING, None, actor=SYSTEM, settings=console_settings)
    assert [t.key for t in commitments_service.templates(console_settings, db_session, region=DEQING)] == every
    with pytest.raises(NotFound):
        commitments_service.set_region_templates(db_session, DEQING, ["no-such-template"], actor=SYSTEM,
                                                 settings=console_settings)  # fmt: skip


def test_the_commands_take_a_region(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fixtures.keys import TEST_KEY

    from xinyong.cli import app
    from xinyong.commandline import session_factory, settings

    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("COLUMNS", "400")
    settings.cache_clear()
    session_factory.cache_clear()
    runner = CliRunner()
    try:
        for code in (CITY, DEQING, CHANGXING):
            assert runner.invoke(app, ["regions", "add", code]).exit_code == 0
        result = runner.invoke(app, ["calendar", "set", "2025-10-22", "--holiday", "--region", DEQING])
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["calendar", "deadline", "2025-10-20", "--workdays", "2", "--region", DEQING])
        assert "2025-10-23" in result.output, result.output
        result = runner.invoke(app, ["calendar", "deadline", "2025-10-20", "--workdays", "2", "--region", CHANGXING])
        assert "2025-10-22" in result.output, result.output
        result = runner.invoke(app, ["calendar", "set", "2025-10-22", "--holiday", "--region", "330523"])
        assert result.exit_code == 1
        assert "330523" in result.output
        assert runner.invoke(app, ["lists", "load-types"]).exit_code == 0
        result = runner.invoke(app, ["lists", "types", "--region", DEQING])
        assert result.exit_code == 0, result.output
        assert TYPE in result.output
        assert "全平台" in result.output
        result = runner.invoke(app, ["measures", "list", "--region", "abc"])
        assert result.exit_code == 1, result.output
        result = runner.invoke(app, ["commitments", "templates", "--region", CHANGXING])
        assert result.exit_code == 0, result.output
    finally:
        settings.cache_clear()
        session_factory.cache_clear()


def test_a_county_inherits_its_citys_entries_under_a_provincial_root(db_session: Session) -> None:
    from xinyong.regions import service as regions_service

    for code in ("330000", CITY, DEQING, "330200"):  # 浙江省 (the platform's own), 湖州市, 德清县, 宁波市
        regions_service.add_region(db_session, code=code, actor=SYSTEM)
    wednesday = date(2025, 10, 22)
    calendar_service.set_override(db_session, day=wednesday, is_workday=False, note="湖州市地方休息日", region=CITY)
    db_session.commit()
    assert inherit.chain(db_session, DEQING) == (DEQING, CITY, None)
    assert not calendar_service.load_calendar(db_session, region=DEQING).is_workday(wednesday)  # from its city
    assert calendar_service.load_calendar(db_session, region="330200").is_workday(wednesday)  # another city
    assert calendar_service.load_calendar(db_session).is_workday(wednesday)  # the province's own


def test_repair_deadlines_count_the_department_regions_working_days(regional: Regional, db_session: Session) -> None:
    wednesday = date(2025, 10, 22)
    calendar_service.set_override(db_session, day=wednesday, is_workday=False, note="德清县地方休息日", region=DEQING)
    assert not repair_service._calendar_of(db_session, regional.accounts.dept_a.id).is_workday(wednesday)
    assert repair_service._calendar_of(db_session, regional.dept_c.id).is_workday(wednesday)
