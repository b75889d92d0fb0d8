"""Licence and penalty rows, generated lazily one at a time (benchmark files of millions of rows never sit in
memory; only the subject pool does), and the CSV files they are written to."""

from __future__ import annotations

import calendar
import csv
import functools
import random
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from xinyong.codes.idtext import has_id_number
from xinyong.codes.uscc import ALPHABET
from xinyong.demo.cases import (
    LICENSE_DEFECTS,
    LICENSES,
    NEEDS,
    PENALTIES,
    PENALTY_DEFECTS,
    SERIOUS_FINE,
    LicenseCase,
)
from xinyong.demo.population import (
    KIND_LETTER,
    LEGAL_PERSON,
    PROFILES,
    Department,
    Region,
    Subject,
    get_region,
)

OPEN_ENDED = "2099-12-31"
_WINDOW_DAYS = 3 * 365
# The longest span of 7 working days in 2005–2026 is 19 calendar days (Spring Festival 2020),
# so a report 20+ days after the decision is late whatever the holidays were.
_LATE_MIN_DAYS, _LATE_MAX_DAYS = 20, 60
_ON_TIME_MAX_DAYS = 5  # 5 calendar days never exceed 7 working days

# --------------------------------------------------------------------------- rows

RowTuple = tuple[dict[str, str], date, str | None]


@dataclass(slots=True)
class _Choice:
    """A case together with the subject pools it may draw from."""

    case: Any
    serial: list[int]  # licence-number counter, shared by every _Choice of the same case
    pools: tuple[list[Subject], ...]
    bounds: tuple[float, ...]  # cumulative share of each pool

    def subject(self, rnd: Callable[[], float]) -> Subject:
        pools = self.pools
        pool = pools[0]
        if len(pools) > 1:
            r, i = rnd(), 0
            while r >= self.bounds[i]:
                i += 1
            pool = pools[i]
        return pool[int(rnd() * len(pool))]


@dataclass(slots=True)
class _Desk:
    """One department deciding one type of record."""

    department: Department
    stem: str  # 文书号 before 〔year〕
    choices: list[_Choice]  # repeated by weight
    choices_for: dict[str | None, list[_Choice]]  # by NEEDS value
    defects: tuple[str, ...]
    counters: dict[str, int] = field(default_factory=dict)  # 文书号 per year


def _end_after(day: date, months: int) -> date:
    """Last day of a period of whole months starting on `day`."""
    y, m = divmod(day.month - 1 + months, 12)
    y += day.year
    end = date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))
    return end - timedelta(days=1)


def _yuan_in_words(yuan: int) -> str:
    """5000 → 五千元, 12000 → 一万两千元: amounts as some departments type them."""
    digits = "零一两三四五六七八九"
    wan, qian = divmod(max(1, min(yuan // 1000, 99)), 10)
    return (f"{digits[wan]}万" if wan else "") + (f"{digits[qian]}千" if qian else "") + "元"


@functools.cache  # fines repeat: a few thousand distinct amounts over millions of rows
def _wan(yuan: int) -> str:
    """元 → 万元 as a plain decimal: 2000 → 0.2, 15000 → 1.5, 500 → 0.05."""
    whole, rest = divmod(yuan, 10_000)
    return str(whole) if not rest else f"{whole}.{rest:04d}".rstrip("0")


class _Batch:
    """Everything one call of license_rows / penalty_rows draws from."""

    def __init__(
        self,
        record: str,
        subjects: Iterable[Subject],
        departments: Sequence[Department],
        rng: random.Random,
        today: date,
        late_share: float,
        malformed_share: float,
        department: Department | None,
        region: str | Region | None,
    ) -> None:
        if not (0 <= late_share <= 1 and 0 <= malformed_share <= 1):
            raise ValueError("late_share and malformed_share must be between 0 and 1")
        self.rnd = rnd = rng.random
        self.today = today
        self.late_share = late_share
        self.malformed_share = malformed_share
        pools: dict[str, list[Subject]] = {"O": [], "I": [], "P": []}
        for s in subjects:
            pools[KIND_LETTER[s.kind]].append(s)
        self.coded = pools["O"] + pools["I"]
        chosen = [department] if department else list(departments)
        if not chosen:
            raise ValueError("no departments")
        self.region = get_region(region if region is not None else chosen[0].code[2:8])
        self.desks = self._desks(record, chosen, pools, department is not None)
        self._dates(rnd)

    def _desks(
        self, record: str, chosen: list[Department], pools: dict[str, list[Subject]], explicit: bool
    ) -> list[_Desk]:
        licence = record == "license"
        cases: tuple[Any, ...] = LICENSES if licence else PENALTIES
        defects = LICENSE_DEFECTS if licence else PENALTY_DEFECTS
        r = self.region
        desks: list[_Desk] = []
        for dept in chosen:
            profile = PROFILES.get(dept.key)
            if profile is None:
                raise ValueError(f"unknown department profile {dept.key!r}")
            stem, weight = (profile[3], profile[5]) if licence else (profile[4], profile[6])
            if stem is None:
                if explicit:
                    raise ValueError(f"{dept.name} does not decide {'licences' if licence else 'penalties'}")
                continue
            choices_for: dict[str | None, list[_Choice]] = {need: [] for need in (None, *NEEDS.values())}
            for case in cases:
                if case.key != dept.key:
                    continue
                if licence:
                    number = case.number.replace("{region}", r.code).replace("{pa}", r.province_abbr)
                    number = number.replace("{ca}", r.city[0]).replace("{a}", r.county[0])
                    case = replace(case, number=number)
                serial = [0]
                for need in choices_for:
                    kinds = (
                        case.kinds if need in (None, "fine") else "".join(k for k in case.kinds if k in need)
                    )
                    if need == "fine" and (licence or not case.fine_options):
                        continue
                    available = [pools[k] for k in kinds if pools[k]]
                    if not available:
                        continue
                    total = sum(map(len, available))
                    bounds = tuple(sum(map(len, available[: i + 1])) / total for i in range(len(available)))
                    choice = _Choice(case, serial, tuple(available), bounds)
                    choices_for[need].extend([choice] * case.weight)
            if not choices_for[None]:
                continue
            usable = tuple(
                d for d in defects
                if choices_for[NEEDS.get(d)] and (d != "name-code-mismatch" or len(self.coded) > 1)
            )  # fmt: skip
            stem = stem.format(a=r.county[0])
            desk = _Desk(dept, stem, choices_for[None], choices_for, usable)
            desks.extend([desk] * (1 if explicit else weight))
        if not desks:
            raise ValueError("no department can decide any record for these subjects")
        return desks

    def _dates(self, rnd: Callable[[], float]) -> None:
        t = self.today.toordinal()
        first = t - _WINDOW_DAYS + 1
        # Decisions fall on working days; a few on weekends (overtime, 调休).
        self.days = [o for o in range(first, t + 1) if (o - 1) % 7 < 5 or rnd() < 0.05]
        self.late_days = self.days[: bisect_right(self.days, t - _LATE_MAX_DAYS)] or self.days
        self.base = base = first - 130  # room for 违法事实 dates before the first decision
        days = [date.fromordinal(o) for o in range(base, t + 1)]
        self.iso = [d.isoformat() for d in days]
        self.cn_day = [f"{d.year}年{d.month}月{d.day}日" for d in days]
        self.cn_month = [f"{d.year}年{d.month}月" for d in days]
        self._ends: dict[int, str] = {}

    def decision(self) -> tuple[int, date]:
        """A decision day (ordinal) and the day it was reported."""
        rnd = self.rnd
        if self.late_share and rnd() < self.late_share:
            o = self.late_days[int(rnd() * len(self.late_days))]
            return o, date.fromordinal(
                o + _LATE_MIN_DAYS + int(rnd() * (_LATE_MAX_DAYS - _LATE_MIN_DAYS + 1))
            )
        o = self.days[int(rnd() * len(self.days))]
        return o, date.fromordinal(min(o + int(rnd() * (_ON_TIME_MAX_DAYS + 1)), self.today.toordinal()))

    def end(self, o: int, months: int) -> str:
        key = o * 1000 + months
        iso = self._ends.get(key)
        if iso is None:
            iso = self._ends[key] = _end_after(date.fromordinal(o), months).isoformat()
        return iso

    def defect(self, desk: _Desk) -> str | None:
        if self.malformed_share and self.rnd() < self.malformed_share:
            return desk.defects[int(self.rnd() * len(desk.defects))]
        return None

    def spoil(self, row: dict[str, str], p: str, defect: str, subject: Subject, o: int, yuan: int) -> None:
        """Give the row exactly the one named defect (p is the column prefix)."""
        rnd = self.rnd
        code = row[p + "XDR_SHXYM"]
        if defect == "uscc-bad-check":
            wrong = ALPHABET[(ALPHABET.index(code[17]) + 1 + int(rnd() * 30)) % 31]
            row[p + "XDR_SHXYM"] = code[:17] + wrong
        elif defect == "uscc-letter-io":
            # Typists put O for 0 and I for 1; only the 组织机构代码 body (pos 9–16) is touched.
            spots = [i for i in range(8, 16) if code[i] in "01"] or list(range(8, 16))
            i = spots[int(rnd() * len(spots))]
            letter = "I" if code[i] == "1" or (code[i] != "0" and rnd() < 0.5) else "O"
            row[p + "XDR_SHXYM"] = code[:i] + letter + code[i + 1 :]
        elif defect == "missing-required":
            row["CF_SY" if p == "CF_" else "XK_NR"] = ""
        elif defect == "future-date":
            row[p + "JDRQ"] = (self.today + timedelta(days=1 + int(rnd() * 30))).isoformat()
        elif defect == "validity-reversed":
            row["XK_YXQZI"] = date.fromordinal(o - 1 - int(rnd() * 365)).isoformat()
        elif defect == "amount-not-numeric":
            row["CF_NR_FK"] = _yuan_in_words(yuan)
        elif defect == "unknown-penalty-category":
            cats = row["CF_CFLB"]
            row["CF_CFLB"] = cats.replace("罚款", "罚金") if "罚款" in cats else "罚金"
        elif defect == "person-without-id":
            row[p + "XDR_ZJHM"] = ""
        elif defect == "individual-as-legal-person":
            row[p + "XDR_LB"] = LEGAL_PERSON
        elif defect == "name-code-mismatch":
            while (other := self.coded[int(rnd() * len(self.coded))]) is subject:
                pass
            row[p + "XDR_MC"] = other.name
        elif defect == "invalid-date":
            row[p + "JDRQ"] = row[p + "JDRQ"][:4] + "-02-30"
        else:
            raise ValueError(f"unknown defect {defect!r}")


def _licence_number(case: LicenseCase, choice: _Choice, day: str, s: Subject, today: date) -> str:
    # An 18-digit 施工许可证编号 (region + date + serial) passes an ID number's check digit about one time in
    # eleven, and the platform then masks it as one; the demo skips those serials, so that its only warnings
    # are the intended ones.
    while True:
        choice.serial[0] += 1
        number = case.number.format(seq=choice.serial[0], year=day[:4], yy=day[2:4], ymd=day.replace("-", ""),
                                    uscc=s.uscc)  # fmt: skip
        if not has_id_number(number, today=today):
            return number


def license_rows(
    subjects: Iterable[Subject],
    departments: Sequence[Department],
    n: int,
    rng: random.Random,
    *,
    today: date,
    late_share: float = 0.05,
    malformed_share: float = 0.0,
    department: Department | None = None,
    region: str | Region | None = None,
) -> Iterator[RowTuple]:
    """n 行政许可 rows as (row keyed by XK_ column codes, reported_on, defect name or None).

    Rows are spread over departments by how many licences each decides, or come from
    `department` alone. `region` defaults to the one in the first department's code.
    """
    batch = _Batch(
        "license", subjects, departments, rng, today, late_share, malformed_share, department, region
    )
    return _license_rows(batch, n)


def _license_rows(b: _Batch, n: int) -> Iterator[RowTuple]:
    rnd, desks, iso, base = b.rnd, b.desks, b.iso, b.base
    n_desks, malformed = len(desks), b.malformed_share
    for _ in range(n):
        desk = desks[int(rnd() * n_desks)]
        defect = b.defect(desk) if malformed else None
        choices = desk.choices if defect is None else desk.choices_for[NEEDS.get(defect)]
        choice = choices[int(rnd() * len(choices))]
        case, s = choice.case, choice.subject(rnd)
        o, reported = b.decision()
        day = iso[o - base]
        year = day[:4]
        desk.counters[year] = seq = desk.counters.get(year, 0) + 1
        number = ""
        if case.number:
            number = _licence_number(case, choice, day, s, b.today)
        dept = desk.department
        row = {
            "XK_XDR_MC": s.name,
            "XK_XDR_LB": s.kind,
            "XK_XDR_SHXYM": s.uscc or "",
            "XK_XDR_ZJLX": "身份证" if s.id_number else "",
            "XK_XDR_ZJHM": s.id_number or "",
            "XK_FRDB": s.legal_representative or "",
            "XK_XKWS": case.document,
            "XK_WSH": f"{desk.stem}〔{year}〕{seq:04d}号",
            "XK_XKLB": case.category,
            "XK_XKZS": case.certificate,
            "XK_XKBH": number,
            "XK_NR": case.contents[int(rnd() * len(case.contents))],
            "XK_JDRQ": day,
            "XK_YXQZ": day,
            "XK_YXQZI": b.end(o, case.years * 12) if case.years else OPEN_ENDED,
            "XK_XKJG": dept.name,
            "XK_XKJGDM": dept.code,
            "XK_ZT": "1",
            "XK_LYDW": dept.name,
            "XK_LYDWDM": dept.code,
            "XK_BZ": "",
        }
        if defect is not None:
            b.spoil(row, "XK_", defect, s, o, 0)
        yield row, reported, defect


def penalty_rows(
    subjects: Iterable[Subject],
    departments: Sequence[Department],
    n: int,
    rng: random.Random,
    *,
    today: date,
    late_share: float = 0.05,
    malformed_share: float = 0.0,
    department: Department | None = None,
    region: str | Region | None = None,
) -> Iterator[RowTuple]:
    """n 行政处罚 rows as (row keyed by CF_ column codes, reported_on, defect name or None);
    otherwise as license_rows."""
    batch = _Batch(
        "penalty", subjects, departments, rng, today, late_share, malformed_share, department, region
    )
    return _penalty_rows(batch, n)


def _penalty_rows(b: _Batch, n: int) -> Iterator[RowTuple]:
    rnd, desks, iso, base = b.rnd, b.desks, b.iso, b.base
    n_desks, malformed = len(desks), b.malformed_share
    cn_day, cn_month, towns, region = b.cn_day, b.cn_month, b.region.towns, b.region.code
    for _ in range(n):
        desk = desks[int(rnd() * n_desks)]
        defect = b.defect(desk) if malformed else None
        choices = desk.choices if defect is None else desk.choices_for[NEEDS.get(defect)]
        choice = choices[int(rnd() * len(choices))]
        case, s = choice.case, choice.subject(rnd)
        o, reported = b.decision()
        i = o - base
        day = iso[i]
        year = day[:4]
        desk.counters[year] = seq = desk.counters.get(year, 0) + 1
        options = case.options if defect != "amount-not-numeric" else case.fine_options
        opt = options[int(rnd() * len(options))]
        yuan = case.fine_low + int(rnd() * case.fine_steps) * case.fine_step if opt.has_fine else 0
        if defect == "amount-not-numeric":
            yuan = max(1, min(yuan // 1000, 99)) * 1000  # a round sum, as people write in words
        gain = 100 + int(rnd() * 400) * 50 if opt.has_gain else 0
        seen = i - 15 - int(rnd() * 100)  # the offence came weeks or months before the decision
        fact = case.fact.format(
            when=cn_day[seen], month=cn_month[seen], town=towns[int(rnd() * len(towns))],
            x=case.fillers[int(rnd() * len(case.fillers))],
        )  # fmt: skip
        months = 36 if yuan >= SERIOUS_FINE else opt.publicity_months
        end = b.end(o, months)
        dept = desk.department
        row = {
            "CF_XDR_MC": s.name,
            "CF_XDR_LB": s.kind,
            "CF_XDR_SHXYM": s.uscc or "",
            "CF_XDR_ZJLX": "身份证" if s.id_number else "",
            "CF_XDR_ZJHM": s.id_number or "",
            "CF_FRDB": s.legal_representative or "",
            "CF_WSH": f"{desk.stem}〔{year}〕{seq}号",
            "CF_WFXW": case.offence,
            "CF_SY": fact,
            "CF_YJ": case.basis,
            "CF_CFLB": opt.label,
            "CF_NR": opt.content.format(fine=yuan, gain=gain),
            "CF_NR_FK": _wan(yuan) if yuan else "",
            "CF_NR_WFFF": _wan(gain) if gain else "",
            "CF_NR_ZKDX": opt.seized.format(no=f"{region}{seq:06d}") if opt.seized else "",
            "CF_JDRQ": day,
            "CF_YXQ": end,
            "CF_GSJZQ": end,
            "CF_CFJG": dept.name,
            "CF_CFJGDM": dept.code,
            "CF_SJLY": dept.name,
            "CF_SJLYDM": dept.code,
            "CF_BZ": "",
        }
        if defect is not None:
            b.spoil(row, "CF_", defect, s, o, yuan)
        yield row, reported, defect


# --------------------------------------------------------------------------- files

LICENSE_COLUMNS = [
    "XK_XDR_MC", "XK_XDR_LB", "XK_XDR_SHXYM", "XK_XDR_ZJLX", "XK_XDR_ZJHM", "XK_FRDB", "XK_XKWS", "XK_WSH",
    "XK_XKLB", "XK_XKZS", "XK_XKBH", "XK_NR", "XK_JDRQ", "XK_YXQZ", "XK_YXQZI", "XK_XKJG", "XK_XKJGDM", "XK_ZT",
    "XK_LYDW", "XK_LYDWDM", "XK_BZ",
]  # fmt: skip
PENALTY_COLUMNS = [
    "CF_XDR_MC", "CF_XDR_LB", "CF_XDR_SHXYM", "CF_XDR_ZJLX", "CF_XDR_ZJHM", "CF_FRDB", "CF_WSH", "CF_WFXW",
    "CF_SY", "CF_YJ", "CF_CFLB", "CF_NR", "CF_NR_FK", "CF_NR_WFFF", "CF_NR_ZKDX", "CF_JDRQ", "CF_YXQ",
    "CF_GSJZQ", "CF_CFJG", "CF_CFJGDM", "CF_SJLY", "CF_SJLYDM", "CF_BZ",
]  # fmt: skip

_SUBJECT_TITLES = {
    "XDR_MC": "行政相对人名称", "XDR_LB": "行政相对人类别", "XDR_SHXYM": "统一社会信用代码",
    "XDR_GSZC": "工商注册号", "XDR_ZZJG": "组织机构代码", "XDR_SWDJ": "税务登记号", "XDR_SYDW": "事业单位证书号",
    "XDR_SHZZ": "社会组织登记证号", "FRDB": "法定代表人", "FR_ZJLX": "法定代表人证件类型",
    "FR_ZJHM": "法定代表人证件号码", "XDR_ZJLX": "证件类型", "XDR_ZJHM": "证件号码", "BZ": "备注",
}  # fmt: skip
# Chinese headers of the national 双公示 templates (domain reference §3), by column code.
COLUMN_TITLES = {
    **{f"XK_{code}": title for code, title in _SUBJECT_TITLES.items()},
    **{f"CF_{code}": title for code, title in _SUBJECT_TITLES.items()},
    "XK_XKWS": "决定文书名称", "XK_WSH": "决定文书号", "XK_XKLB": "许可类别", "XK_XKZS": "许可证书名称",
    "XK_XKBH": "许可编号", "XK_NR": "许可内容", "XK_JDRQ": "许可决定日期", "XK_YXQZ": "有效期自",
    "XK_YXQZI": "有效期至", "XK_XKJG": "许可机关", "XK_XKJGDM": "许可机关统一社会信用代码", "XK_ZT": "当前状态",
    "XK_LYDW": "数据来源单位", "XK_LYDWDM": "数据来源单位统一社会信用代码",
    "CF_WSH": "决定书文号", "CF_WFXW": "违法行为类型", "CF_SY": "违法事实", "CF_YJ": "处罚依据",
    "CF_CFLB": "处罚类别", "CF_NR": "处罚内容", "CF_NR_FK": "罚款金额（万元）",
    "CF_NR_WFFF": "没收违法所得、没收非法财物的金额（万元）", "CF_NR_ZKDX": "暂扣或吊销证照名称及编号",
    "CF_JDRQ": "处罚决定日期", "CF_YXQ": "处罚有效期", "CF_GSJZQ": "公示截止期", "CF_CFJG": "处罚机关",
    "CF_CFJGDM": "处罚机关统一社会信用代码", "CF_SJLY": "数据来源单位", "CF_SJLYDM": "数据来源单位统一社会信用代码",
}  # fmt: skip


def write_csv(
    path: str | Path,
    rows: Iterable[dict[str, str] | RowTuple],
    columns: Sequence[str],
    encoding: str = "utf-8",
    header: str = "code",
) -> int:
    """Stream rows to a CSV file and return how many were written.

    `header` "code" writes the column codes, "chinese" the template's Chinese titles. Items may
    be the tuples license_rows/penalty_rows yield; only the row dict is written.
    """
    if header not in ("code", "chinese"):
        raise ValueError("header must be 'code' or 'chinese'")
    titles = list(columns) if header == "code" else [COLUMN_TITLES.get(c, c) for c in columns]
    count = 0
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(titles)
        for item in rows:
            row = item[0] if isinstance(item, tuple) else item
            writer.writerow([row.get(c, "") for c in columns])
            count += 1
    return count


def decides(department: Department, record_type: str) -> bool:
    """Whether a demo department decides licences ("license") or penalties ("penalty")."""
    profile = PROFILES[department.key]
    return (profile[3] if record_type == "license" else profile[4]) is not None
