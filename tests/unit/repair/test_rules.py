from __future__ import annotations

from datetime import date

import pytest

from xinyong import freetext
from xinyong.catalog import load_catalog
from xinyong.config import Settings
from xinyong.errors import InvalidInput, InvalidTransition
from xinyong.evidence import service as uploads
from xinyong.repair import rules
from xinyong.repair.models import RepairStatus

POLICY = rules.policy_from_settings(Settings(secret_key="x" * 40), load_catalog())
DECIDED = date(2025, 1, 31)


def verdict(tier: str | None = "一般", today: date = date(2025, 6, 1), policy=POLICY, **kw):  # type: ignore[no-untyped-def]
    args = {"record_type": "penalty", "tier": tier, "decision_date": DECIDED, "publish_until": date(2026, 1, 30),
            "categories": ("罚款",), "is_active": True, "today": today, **kw}  # fmt: skip
    return rules.eligibility(policy, **args)


def test_every_pair_outside_the_table_is_illegal() -> None:
    actions = {a for _, a in rules.TRANSITIONS} | {"submit"}
    for status in RepairStatus:
        for action in actions:
            if (status, action) in rules.TRANSITIONS:
                assert rules.next_status(status, action) == rules.TRANSITIONS[(status, action)]
            else:
                with pytest.raises(InvalidTransition):
                    rules.next_status(status, action)


def test_terminal_states_have_no_way_out_except_breach() -> None:
    assert rules.allowed_actions(RepairStatus.REFUSED) == set()
    assert rules.allowed_actions(RepairStatus.WITHDRAWN) == set()
    assert rules.allowed_actions(RepairStatus.RESTORED) == set()
    assert rules.allowed_actions(RepairStatus.APPROVED) == {"restore"}


def test_minimum_period_by_tier_with_month_end_clamping() -> None:
    assert verdict(today=date(2025, 4, 29)).code == "not-yet"
    assert verdict(today=date(2025, 4, 29)).earliest == date(2025, 4, 30)  # 31 Jan + 3 months, clamped
    assert verdict(today=date(2025, 4, 30)).is_eligible
    assert verdict(tier="轻微", today=DECIDED).is_eligible  # no minimum
    serious = verdict(tier="严重", today=date(2026, 1, 30), publish_until=date(2028, 1, 30))
    assert serious.code == "not-yet"
    assert serious.earliest == date(2026, 1, 31)


def test_ended_revoked_non_negative_and_configured_cases() -> None:
    assert verdict(today=date(2026, 2, 1)).code == "ended"
    assert verdict(is_active=False).code == "revoked"
    assert verdict(tier=None).code == "not-negative"
    strict = rules.policy_from_settings(
        Settings(secret_key="x" * 40, repair_not_repairable_categories=("吊销许可证件",),
                 repair_min_months={"penalty": {"一般": 6}}), load_catalog())  # fmt: skip
    assert verdict(policy=strict, categories=("吊销许可证件",)).code == "not-repairable"
    assert verdict(policy=strict, today=date(2025, 6, 1)).code == "not-yet"
    assert verdict(policy=strict, today=date(2025, 7, 31)).is_eligible
    never = rules.policy_from_settings(Settings(secret_key="x" * 40, repair_min_months={"penalty": {"一般": 13}}),
                                       load_catalog())  # fmt: skip
    assert verdict(policy=never).code == "not-repairable"  # the minimum outlasts the period
    with pytest.raises(InvalidInput):
        rules.policy_from_settings(Settings(secret_key="x" * 40, repair_min_months={"license": {"一般": 1}}),
                                   load_catalog())  # fmt: skip


def test_non_negative_types_are_never_repaired() -> None:
    assert verdict(record_type="license").code == "not-negative"
    assert set(POLICY.min_months) == set(load_catalog().negative_keys)


def test_the_repair_page_states_each_negative_types_periods_from_the_catalogue() -> None:
    periods = {p.type_name: p for p in rules.publicity_periods(load_catalog())}
    assert {"行政处罚", "行政强制", "失信被执行人", "经营异常名录"} <= set(periods)  # every public negative type
    assert "行政许可" not in periods
    penalty = periods["行政处罚"]
    assert dict(penalty.tiers) == {"轻微": "可不予公示，或最长公示 3 个月", "一般": "最短公示 3 个月，最长公示 1 年",
                                   "严重": "最短公示 1 年，最长公示 3 年"}  # fmt: skip
    assert [rules.months_text(m) for m in (0, 3, 12, 18, 24)] == ["0 个月", "3 个月", "1 年", "18 个月", "2 年"]


def test_the_commitment_names_the_record_type() -> None:
    text = rules.commitment_text(subject_name="甲公司", type_name="行政强制", doc_no="安强〔2025〕1号", department="乙局",
                                 signed_on=date(2025, 10, 20))  # fmt: skip
    assert "就乙局作出的行政强制决定（安强〔2025〕1号）申请信用修复" in text
    assert "已经全面履行行政强制决定规定的义务" in text


def test_text_cleaning() -> None:
    assert freetext.clean_text(" a\x00b\u202ec\nd ", title="x", max_length=10) == "abc\nd"
    with pytest.raises(InvalidInput):
        freetext.clean_text("x" * 11, title="x", max_length=10)
    with pytest.raises(InvalidInput):
        freetext.clean_text("", title="x", min_length=1, max_length=10)
    assert freetext.clean_phone("0572-5123456") == "0572-5123456"
    with pytest.raises(InvalidInput):
        freetext.clean_phone("<script>")
    assert freetext.clean_email("") is None
    with pytest.raises(InvalidInput):
        freetext.clean_email("a@b")


def test_numbers_are_unpredictable() -> None:
    numbers = {freetext.new_number("XF", date(2025, 10, 20)) for _ in range(200)}
    assert len(numbers) == 200
    assert all(n.startswith("XF20251020") and len(n) == 16 for n in numbers)


@pytest.mark.parametrize(("name", "data", "ok"), [
    ("a.pdf", b"%PDF-1.7", True), ("a.PNG", b"\x89PNG\r\n\x1a\nxx", True), ("a.jpeg", b"\xff\xd8\xff\xe0", True),
    ("a.pdf", b"MZ", False), ("a.svg", b"<svg/>", False), ("a.png", b"%PDF-", False), ("a.pdf", b"", False),
    ("a.pdf", b"%PDF-" + b"0" * 100, False),
])  # fmt: skip
def test_upload_checks(name: str, data: bytes, ok: bool) -> None:
    incoming = uploads.IncomingFile(name, data)
    if ok:
        assert uploads.check_file(incoming, max_bytes=100)[0] == name
    else:
        with pytest.raises(InvalidInput):
            uploads.check_file(incoming, max_bytes=100)


def test_path_tricks_are_cut_from_names() -> None:
    assert uploads.check_file(uploads.IncomingFile("../../x/evil.pdf", b"%PDF-"), max_bytes=10)[0] == "evil.pdf"
    assert uploads.check_file(uploads.IncomingFile("..\\..\\evil.pdf", b"%PDF-"), max_bytes=10)[0] == "evil.pdf"


def test_free_text_has_its_id_numbers_masked() -> None:
    statement = "已缴清罚款。经办人身份证号 330521 19800517 1230，联系电话13800138000。"
    assert freetext.clean_text(statement, title="情况说明", max_length=200) == (
        "已缴清罚款。经办人身份证号 3305**********1230，联系电话13800138000。"
    )
