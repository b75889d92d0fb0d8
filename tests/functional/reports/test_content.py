"""Each kind of report, for a subject with records in every section and for an empty one: the PDF's text (read
by pdftotext) holds the sections, the marks and the "nothing found" lines, and nothing unpublished leaks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.factories import records as f
from tests.functional.reports.conftest import COMPANY, EMPTY_COMPANY, pdf_text

from xinyong.reports import content, rules, sections, service
from xinyong.reports.sections import Group, Item

SECTION_TITLES = ["基础信息", "行政管理", "诚实守信", "严重失信主体名单", "重点关注名单", "信用承诺", "信用评价",
                  "司法判决", "其他", "信用状况提升建议"]  # fmt: skip


def _platform(session, code, settings, protector, today, **kwargs):  # type: ignore[no-untyped-def]
    return service.prepare_for_platform(session, code, settings=settings, protector=protector, today=today,
                                        now=datetime.now(UTC), base_url="https://credit.example.cn/", **kwargs)  # fmt: skip


def test_public_report_prints_what_the_portal_publishes(db_session, world, report_settings, protector, today,
                                                         tmp_path):  # fmt: skip
    issued = _platform(db_session, world.company.uscc, report_settings, protector, today, kind="public")
    text = pdf_text(issued.pdf, tmp_path)
    assert "公共信用信息报告" in text
    assert "公开版" in text
    assert COMPANY in text
    assert world.company.uscc in text
    assert issued.number in text
    for number, title in zip("一二三四五六七八九十", SECTION_TITLES, strict=True):
        assert f"{number}、{title}" in text
    # 行政管理: grouped by the catalogue's names, published records only
    assert "行政许可（1条）" in text
    assert "行政处罚（3条）" in text
    for role in ("licence", "disputed", "repairing", "tax"):
        assert world.records[role].doc_no in text, role
    for role in ("repaired", "unpublished", "old"):  # repaired, a withheld warning, past its publicity period
        assert world.records[role].doc_no not in text.replace("信用状况提升建议", ""), role
    assert "【异议处理中】" in text
    assert "【修复申请中】" not in text
    assert "【已修复】" not in text
    # lists: public ones in force; the watch list is not public
    assert "守信激励对象名单（红名单）" in text
    assert "严重失信主体名单（1条）" in text
    assert "守信激励对象" in text
    assert "失信惩戒对象" in text
    assert "重点关注对象" not in text
    # sections no domain fills yet
    assert text.count(rules.EMPTY_TEXT) >= 5  # 重点关注名单, 信用承诺, 信用评价, 司法判决, 其他
    # 信用状况提升建议: when and how each negative record can be repaired
    assert "已满最短公示期，可申请信用修复" in text
    assert "信用修复不收取任何费用" in text
    # the verification address and the content's digest
    assert f"https://credit.example.cn/reports/verify/{issued.number}" in text
    assert issued.content_sha256 in text


def test_own_report_adds_unpublished_records_restricted_fields_and_every_mark(db_session, world, report_settings,
                                                                              protector, today, tmp_path):  # fmt: skip
    account = world.accounts["company"]
    issued = service.prepare_for_account(db_session, account, kind="own", settings=report_settings,
                                         protector=protector, today=today, now=datetime.now(UTC), base_url=None)  # fmt: skip
    text = pdf_text(issued.pdf, tmp_path)
    assert "主体查询版" in text
    assert "受限信息" in text
    for role in ("licence", "disputed", "repairing", "repaired", "unpublished", "old", "tax"):
        assert world.records[role].doc_no in text, role
    assert "【异议处理中】" in text
    assert "【修复申请中】" in text
    assert "【已修复】" in text
    assert "【未公示】" in text
    assert "【公示中】" in text
    assert "法定代表人证件号码（受限）" not in text  # none was reported, so none is opened
    assert "重点关注名单（1条）" in text
    assert "【不公开】" in text
    assert "重点关注对象" in text


def test_own_report_opens_restricted_fields_for_the_subject_only(db_session, world, report_settings, protector, today,
                                                                 tmp_path):  # fmt: skip
    from tests.functional.reports.conftest import _import, penalty

    from xinyong.codes import make_id_number

    legal_id = make_id_number("330521", datetime(1975, 3, 9).date(), "456")
    _import(db_session, report_settings, protector, [penalty(
        world.market, world.company.uscc, COMPANY, today - timedelta(days=5), "安市监罚〔2026〕19号",
        CF_FR_ZJLX="身份证", CF_FR_ZJHM=legal_id)], record_type="penalty", department=world.market, today=today)  # fmt: skip
    own = pdf_text(service.prepare_for_account(db_session, world.accounts["company"], kind="own",
                                               settings=report_settings, protector=protector, today=today,
                                               now=datetime.now(UTC), base_url=None).pdf, tmp_path)  # fmt: skip
    public = pdf_text(_platform(db_session, world.company.uscc, report_settings, protector, today, kind="public").pdf,
                      tmp_path)  # fmt: skip
    assert f"法定代表人证件号码（受限）{legal_id}" in own
    assert legal_id not in public
    assert "（受限）" not in public


def test_special_report_says_per_domain_what_it_found(db_session, world, report_settings, protector, today, tmp_path):
    issued = _platform(db_session, world.company.uscc, report_settings, protector, today, kind="special",
                       domains=[world.market.name, world.tax.code, "行政处罚"])  # fmt: skip
    text = pdf_text(issued.pdf, tmp_path)
    start = (today - timedelta(days=365 * 3)).isoformat()[:4]
    assert "专项信用报告" in text
    assert "查询期" in text
    assert start in text
    assert f"在{world.market.name}，查询期内发现违法违规记录4条" in text  # disputed, repairing, repaired, unpublished
    assert f"在{world.tax.name}，查询期内发现违法违规记录1条" in text
    assert "在行政处罚，查询期内发现违法违规记录5条" in text
    assert world.records["old"].doc_no not in text  # decided before the span
    assert world.records["licence"].doc_no not in text  # not a violation
    assert "【已修复】" in text
    assert "【异议处理中】" in text
    assert "查询期内曾被列入严重失信主体名单1次" in text
    assert "守信激励对象名单" not in text.split("查询范围")[1]  # the body speaks of violations only
    # 行政强制 is in the shipped catalogue now: the report covers it rather than saying it is not collected.
    assert "本平台信用信息目录尚未归集" not in text
    assert "行政强制" in text.split("查询内容")[1].split("。")[0]
    assert "简易程序" in text


def test_special_report_over_five_years_reaches_the_old_record(db_session, world, report_settings, protector, today,
                                                               tmp_path):  # fmt: skip
    start = (today - timedelta(days=365 * 5 - 2)).isoformat()
    issued = _platform(db_session, world.company.uscc, report_settings, protector, today, kind="special",
                       start=start, end=today.isoformat())  # fmt: skip
    assert world.records["old"].doc_no in pdf_text(issued.pdf, tmp_path)


def test_reports_of_an_empty_subject_say_nothing_was_found(db_session, world, report_settings, protector, today,
                                                            tmp_path):  # fmt: skip
    public = pdf_text(_platform(db_session, world.empty.uscc, report_settings, protector, today, kind="public").pdf,
                      tmp_path)  # fmt: skip
    assert EMPTY_COMPANY in public
    assert public.count(rules.EMPTY_TEXT) >= 10  # each section but 基础信息, and the overview's explanation
    assert "无守信激励、失信惩戒标识" in public
    special = pdf_text(_platform(db_session, world.empty.uscc, report_settings, protector, today, kind="special",
                                 domains=[world.market.code]).pdf, tmp_path)  # fmt: skip
    assert f"在{world.market.name}，查询期内未发现违法违规记录" in special
    assert "查询期内未被列入严重失信主体名单" in special


def test_a_registered_provider_fills_its_section(db_session, world, report_settings, protector, today, tmp_path):
    seen = []

    def commitments(session, scope):  # type: ignore[no-untyped-def]
        seen.append((scope.subject_id, scope.kind))
        return [Group("信用承诺", [Item("证明事项告知承诺", [("承诺事由", "食品经营许可"), ("履约状态", "全部履行")])])]

    sections.register("commitments", commitments)
    try:
        text = pdf_text(_platform(db_session, world.company.uscc, report_settings, protector, today,
                                  kind="public").pdf, tmp_path)  # fmt: skip
    finally:
        sections.unregister(commitments)
    assert seen == [(world.company.id, "public")]
    assert "六、信用承诺" in text
    assert "证明事项告知承诺" in text
    assert "全部履行" in text
    with pytest.raises(ValueError, match="cannot take providers"):
        sections.register("basic", commitments)


def test_record_types_are_grouped_by_their_catalogue_declaration(db_session, world, report_settings, protector, today):
    """The groups are the catalogue's public types, named and ordered as declared: nothing in the report knows a
    type by its key."""
    from xinyong.catalog import load_catalog

    catalog = load_catalog(report_settings.catalog_dirs)
    body = _platform(db_session, world.company.uscc, report_settings, protector, today, kind="public",
                     formats=("json",)).content  # fmt: skip
    administration = next(s for s in body["sections"] if s["key"] == "administration")
    titles = [g["title"] for g in administration["groups"]]  # a type the subject has no record of is left out
    assert titles == [t.name for t in catalog.public_types if t.name in titles]
    assert titles[:2] == ["行政许可", "行政处罚"]


def test_unknown_domains_and_bad_spans_are_refused(db_session, world, report_settings, protector, today):
    from xinyong.errors import InvalidInput

    cases = [
        ({"domains": ["不存在的部门"]}, "未知的领域“不存在的部门”"),
        ({"domains": ["行政许可"]}, "不是违法失信类信息"),
        ({"start": (today - timedelta(days=365 * 5 + 3)).isoformat()}, "查询期最长 5 年"),
        ({"start": today.isoformat(), "end": (today - timedelta(days=1)).isoformat()}, "晚于截止日期"),
        ({"end": (today + timedelta(days=1)).isoformat()}, "晚于今天"),
        ({"start": "2025-02-30"}, "不是有效日期"),
    ]
    for kwargs, message in cases:
        with pytest.raises(InvalidInput, match=message):
            _platform(db_session, world.company.uscc, report_settings, protector, today, kind="special", **kwargs)
    with pytest.raises(InvalidInput, match="不是可申请的报告类型"):
        _platform(db_session, world.company.uscc, report_settings, protector, today, kind="everything")


def test_codes_and_persons_are_checked_before_anything_is_made(db_session, world, report_settings, protector, today):
    from xinyong.errors import InvalidInput, NotFound

    with pytest.raises(InvalidInput, match="不是有效的统一社会信用代码"):
        _platform(db_session, "12<34", report_settings, protector, today, kind="public")
    with pytest.raises(InvalidInput, match="统一社会信用代码有误"):
        _platform(db_session, world.company.uscc[:-1] + ("0" if world.company.uscc[-1] != "0" else "1"),
                  report_settings, protector, today, kind="public")  # fmt: skip
    with pytest.raises(NotFound):
        _platform(db_session, f.company_code(99999), report_settings, protector, today, kind="public")
    with pytest.raises(rules.SubjectRefused):
        _platform(db_session, world.person_id_number, report_settings, protector, today, kind="public")


def test_domains_resolve_by_code_name_or_catalogue(db_session, world, report_settings):
    found = content.resolve_domains(db_session, [world.market.code, world.tax.name, "penalty", " ", world.tax.name],
                                    settings=report_settings)  # fmt: skip
    assert [d.label for d in found] == [world.market.name, world.tax.name, "行政处罚"]
