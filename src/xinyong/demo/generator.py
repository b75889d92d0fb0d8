"""Deterministic synthetic data: departments, subjects and 双公示 licence/penalty rows.

All randomness comes from the `random.Random` passed in. Rows are generated lazily, one dict at a
time, so benchmark files of millions of rows never sit in memory; only the subject pool does.
Uniqueness (subject names, codes, ID numbers, 文书号) holds within one call.
"""

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

from xinyong.codes.idnumber import make_id_number
from xinyong.codes.idtext import has_id_number
from xinyong.codes.uscc import ALPHABET, make_uscc

LEGAL_PERSON = "法人及非法人组织"
INDIVIDUAL_BUSINESS = "个体工商户"
NATURAL_PERSON = "自然人"
_KIND_LETTER = {LEGAL_PERSON: "O", INDIVIDUAL_BUSINESS: "I", NATURAL_PERSON: "P"}

OPEN_ENDED = "2099-12-31"
_WINDOW_DAYS = 3 * 365
# The longest span of 7 working days in 2005–2026 is 19 calendar days (Spring Festival 2020),
# so a report 20+ days after the decision is late whatever the holidays were.
_LATE_MIN_DAYS, _LATE_MAX_DAYS = 20, 60
_ON_TIME_MAX_DAYS = 5  # 5 calendar days never exceed 7 working days

# --------------------------------------------------------------------------- regions


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # GB/T 2260 county code
    province: str
    province_abbr: str  # 浙, 苏, 粤: not derivable from the name
    city: str
    county: str
    towns: tuple[str, ...]
    nearby: tuple[str, ...] = ()  # other county codes residents were born in (ID numbers)

    @property
    def county_short(self) -> str:
        return self.county[:-1] if len(self.county) > 2 else self.county

    @property
    def city_short(self) -> str:
        return self.city.removesuffix("市")

    @property
    def province_short(self) -> str:
        return self.province.removesuffix("省").removesuffix("市")


REGIONS = {
    r.code: r
    for r in (
        Region("330521", "浙江省", "浙", "湖州市", "德清县",
               ("武康街道", "舞阳街道", "阜溪街道", "下渚湖街道", "乾元镇", "新市镇", "洛舍镇", "钟管镇",
                "禹越镇", "新安镇", "雷甸镇", "莫干山镇"),
               ("330502", "330503", "330522", "330523", "330106", "330110", "330481", "330402", "331002")),
        Region("330522", "浙江省", "浙", "湖州市", "长兴县",
               ("雉城街道", "画溪街道", "太湖街道", "龙山街道", "洪桥镇", "李家巷镇", "夹浦镇", "煤山镇",
                "和平镇", "泗安镇", "虹星桥镇", "林城镇", "小浦镇", "水口乡", "吕山乡"),
               ("330502", "330503", "330521", "330523", "330110", "320582", "341523", "330481")),
        Region("330523", "浙江省", "浙", "湖州市", "安吉县",
               ("递铺街道", "昌硕街道", "灵峰街道", "孝源街道", "孝丰镇", "报福镇", "天子湖镇", "鄣吴镇",
                "杭垓镇", "梅溪镇", "溪龙乡", "上墅乡", "山川乡"),
               ("330502", "330503", "330521", "330522", "330110", "330185", "341822", "330481")),
    )
}  # fmt: skip
DEMO_REGION = "330521"  # 湖州市德清县


def get_region(region: str | Region) -> Region:
    if isinstance(region, Region):
        return region
    try:
        return REGIONS[region]
    except KeyError:
        raise ValueError(f"no demo data for region {region!r}; pass a Region instead") from None


# --------------------------------------------------------------------------- entities


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str
    short_name: str
    key: str  # selects the department's profile: what it decides and how it numbers documents


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str  # 法人及非法人组织 / 个体工商户 / 自然人
    name: str
    uscc: str | None
    id_number: str | None
    legal_representative: str | None  # 法定代表人, or the 经营者 of a 个体工商户


# --------------------------------------------------------------------------- name parts
# Only common characters, so that every generated text is GBK-encodable.

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
# The twenty most common surnames drawn three times as often.
_SURNAME_POOL = _SURNAMES[:20] * 3 + _SURNAMES[20:]
_MALE_CHARS = "建国伟强军平明华勇杰涛斌磊波辉刚峰鹏飞浩宇俊文志海林新永春龙东亮成德荣祥福贵金根宝兴忠良发才庆洪正立晓振家学超鑫健彬毅铭嘉豪杭锋"
_FEMALE_CHARS = (
    "秀英丽芳敏静燕红霞玲娟萍婷雪梅琳兰凤洁慧颖佳倩莉艳琴云莲珍娜丹晶瑶怡欣悦璐菲蓉爱美月桂素淑芬翠彩晓雅"
)
_BRAND_CHARS = "".join(
    dict.fromkeys(
        "恒达华鑫盛兴隆源丰泰安康宏伟昌顺利成信德嘉和佳美新天正邦诚宇辉鼎科创翔瑞祥荣汇通金绿竹山水云海东南中明光"
        "晨阳春博航远卓越锦程景峰益众联合星月润禾青松溪湖江晟昊泽铭豪骏腾飞旺福万乐志精艺品尚优百富亿凯迪森林雅致圣"
        "龙凤宝庆耀"
    )
)
_INDUSTRIES = (
    "竹木制品", "建材", "科技", "贸易", "机械制造", "食品", "电子科技", "纺织", "服饰", "建筑工程", "物流", "环保科技",
    "家具", "餐饮管理", "农业开发", "生物科技", "新材料", "装饰工程", "化工", "印刷", "包装材料", "汽车配件",
    "五金制品", "文化传媒", "信息技术", "房地产开发", "物业服务", "旅游开发", "酒店管理", "茶业", "水产", "电器",
    "智能装备", "新能源", "医疗器械", "工艺品", "钢结构", "混凝土", "石材", "塑业", "照明", "劳务服务", "人力资源",
    "商贸", "实业", "电子商务", "园林绿化", "交通运输", "汽车销售", "健康管理", "教育科技", "网络科技", "置业",
    "市政工程", "水利工程", "木业", "竹业", "农产品", "旅游发展", "渔业",
)  # fmt: skip
_FACTORIES = (
    "五金厂",
    "竹制品厂",
    "服装厂",
    "木制品加工厂",
    "塑料制品厂",
    "印刷厂",
    "纸箱厂",
    "家具厂",
    "机械配件厂",
)
_SHOPS = (
    "小吃店", "便利店", "五金店", "服装店", "理发店", "水果店", "早餐店", "面馆", "超市", "副食品店", "农家乐",
    "烟酒店", "汽车修理部", "家电维修部", "日用品商店", "手机店", "茶叶店", "美容店", "快餐店", "饭店", "烧烤店",
    "建材经营部", "竹制品加工场", "足浴店", "眼镜店", "花店", "母婴用品店", "蔬菜店", "粮油店", "鞋店", "诊所",
)  # fmt: skip
_COOP_TRADES = ("竹笋", "白茶", "茶叶", "水产养殖", "葡萄", "蔬菜", "果蔬", "蚕桑", "农机", "粮油", "生猪养殖",
                "湖羊养殖", "苗木", "食用菌", "稻米", "蜜梨", "黄桃", "中药材")  # fmt: skip
_NONPROFITS = (
    "职业技能培训学校",
    "养老服务中心",
    "幼儿园",
    "社会工作服务中心",
    "文化艺术培训学校",
    "康复中心",
)
_CN_DIGITS = "零一二三四五六七八九"

_MAX_TRIES = 10_000  # a name space this full means the request exceeds what the parts can make

# Persons are born 1950–2004, fixed rather than relative to today so a seed means the same data forever.
_BIRTH_FIRST = date(1950, 1, 1).toordinal()
_BIRTH_SPAN = date(2004, 12, 31).toordinal() - _BIRTH_FIRST + 1


def _cn_number(k: int) -> str:
    """2 → 二, 12 → 十二, 31 → 三十一 (branch numbers)."""
    if k >= 100:
        return str(k)
    tens, ones = divmod(k, 10)
    prefix = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return prefix + (_CN_DIGITS[ones] if ones else "")


class _Namer:
    """Draws names and codes, remembering what is taken so each stays unique."""

    def __init__(self, rng: random.Random, region: Region) -> None:
        self.rnd = rng.random
        self.region = region
        self.names: set[str] = set()
        self.org_bodies: set[str] = set()
        self.id_numbers: set[str] = set()

    def pick(self, seq: Sequence[str]) -> str:
        return seq[int(self.rnd() * len(seq))]

    def person_name(self, male: bool) -> str:
        chars = _MALE_CHARS if male else _FEMALE_CHARS
        given = self.pick(chars) if self.rnd() < 0.3 else self.pick(chars) + self.pick(chars)
        return self.pick(_SURNAME_POOL) + given

    def brand(self) -> str:  # 字号
        first = self.pick(_BRAND_CHARS)
        while (second := self.pick(_BRAND_CHARS)) == first:
            pass
        return first + second

    def claim(self, build: Callable[[], str]) -> str:
        for _ in range(_MAX_TRIES):
            name = build()
            if name not in self.names:
                self.names.add(name)
                return name
        raise ValueError("too many subjects of one kind for unique demo names")

    def uscc(self, dept: str, category: str, numeric_body: bool = False) -> str:
        while True:
            if numeric_body:  # 组织机构代码 issued before 2015 were 8 digits
                body = f"{int(self.rnd() * 100_000_000):08d}"
            else:
                body = "MA2" + "".join(self.pick(ALPHABET) for _ in range(5))
            if body not in self.org_bodies:
                self.org_bodies.add(body)
                return make_uscc(dept, category, self.region.code, body)

    def id_number(self, male: bool) -> str:
        region = self.region
        while True:
            born_in = region.code if self.rnd() < 0.8 or not region.nearby else self.pick(region.nearby)
            birth = date.fromordinal(_BIRTH_FIRST + int(self.rnd() * _BIRTH_SPAN))
            seq = int(self.rnd() * 500) * 2 + male  # odd sequence numbers are men (GB 11643)
            number = make_id_number(born_in, birth, f"{seq:03d}")
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def person(self) -> Subject:
        male = self.rnd() < 0.5
        name = self.claim(lambda: self.person_name(male))
        return Subject(NATURAL_PERSON, name, None, self.id_number(male), None)

    def company_name(self) -> str:
        rnd, r = self.rnd, self.region
        brand = self.brand()
        if rnd() < 0.08:  # 个人独资 workshops keep the old 厂 form
            return f"{r.county}{brand}{self.pick(_FACTORIES)}"
        industry = self.pick(_INDUSTRIES)
        form = "有限公司" if rnd() < 0.88 else ("有限责任公司" if rnd() < 0.8 else "股份有限公司")
        where = rnd()
        if where < 0.5:
            return f"{r.county}{brand}{industry}{form}"
        if where < 0.78:
            return f"{r.city_short}{brand}{industry}{form}"
        if where < 0.95:
            return f"{r.province_short}{brand}{industry}{form}"
        return f"{brand}{industry}（{r.city_short}）{form}"

    def enterprise(self) -> Subject:
        for _ in range(4):
            name = self.company_name()
            if name not in self.names:
                break
        else:
            # The name belongs to an existing company: register a branch of it, as real registers do.
            unit = "分公司" if name.endswith("公司") else "分厂"
            k = 2
            while f"{name}第{_cn_number(k)}{unit}" in self.names:
                k += 1
            name = f"{name}第{_cn_number(k)}{unit}"
        self.names.add(name)
        numeric = self.rnd() < 0.3
        return Subject(
            LEGAL_PERSON, name, self.uscc("9", "1", numeric), None, self.person_name(self.rnd() < 0.75)
        )

    def individual_business(self) -> Subject:
        r = self.region
        operator = ""

        def build() -> str:
            nonlocal operator
            operator = self.person_name(self.rnd() < 0.6)
            town = self.pick(r.towns) if self.rnd() < 0.6 else ""
            brand = operator[0] + "记" if self.rnd() < 0.35 else self.brand()
            return f"{r.county}{town}{brand}{self.pick(_SHOPS)}"

        name = self.claim(build)
        return Subject(INDIVIDUAL_BUSINESS, name, self.uscc("9", "2"), None, operator)

    def cooperative(self) -> Subject:
        r = self.region
        name = self.claim(
            lambda: (
                f"{r.county}{self.pick(r.towns) if self.rnd() < 0.5 else ''}"
                f"{self.brand()}{self.pick(_COOP_TRADES)}专业合作社"
            )
        )
        return Subject(LEGAL_PERSON, name, self.uscc("9", "3"), None, self.person_name(self.rnd() < 0.8))

    def nonprofit(self) -> Subject:  # 民办非企业单位, registered by 民政
        name = self.claim(lambda: f"{self.region.county}{self.brand()}{self.pick(_NONPROFITS)}")
        return Subject(LEGAL_PERSON, name, self.uscc("5", "2"), None, self.person_name(self.rnd() < 0.5))


def generate_subjects(
    n: int,
    rng: random.Random,
    region: str | Region = DEMO_REGION,
    person_share: float = 0.1,
    individual_business_share: float = 0.25,
) -> Iterator[Subject]:
    """Subjects with unique names and valid, unique codes; about 2% of organisations are
    农民专业合作社 (93…) and 1% 民办非企业单位 (52…), the rest enterprises (91…)."""
    if not (
        person_share >= 0 and individual_business_share >= 0 and person_share + individual_business_share <= 1
    ):
        raise ValueError("shares must be non-negative and add up to at most 1")
    namer = _Namer(rng, get_region(region))
    return _subjects(n, namer, person_share, person_share + individual_business_share)


def _subjects(n: int, namer: _Namer, person_below: float, individual_below: float) -> Iterator[Subject]:
    rnd = namer.rnd
    for _ in range(n):
        r = rnd()
        if r < person_below:
            yield namer.person()
        elif r < individual_below:
            yield namer.individual_business()
        else:
            r = rnd()
            yield namer.cooperative() if r < 0.02 else namer.nonprofit() if r < 0.03 else namer.enterprise()


# --------------------------------------------------------------------------- departments

# key, name ({c} = county), short name, licence 文书号 stem, penalty 文书号 stem ({a} = county initial),
# weight among licence rows, weight among penalty rows. 行政审批局 decides licences only.
_DEPARTMENTS = (
    ("market", "{c}市场监督管理局", "市场监管局", "{a}市监许", "{a}市监罚决", 3, 10),
    ("tax", "国家税务总局{c}税务局", "税务局", "{a}税许", "{a}税罚", 1, 3),
    ("environment", "{c}生态环境局", "生态环境局", "{a}环许", "{a}环罚", 2, 2),
    ("transport", "{c}交通运输局", "交通运输局", "{a}交许", "{a}交执罚", 2, 3),
    ("housing", "{c}住房和城乡建设局", "住建局", "{a}建许", "{a}建罚", 2, 2),
    ("emergency", "{c}应急管理局", "应急管理局", "{a}应急许", "{a}应急罚", 1, 2),
    ("health", "{c}卫生健康局", "卫生健康局", "{a}卫许", "{a}卫罚", 1, 2),
    ("approval", "{c}行政审批局", "行政审批局", "{a}审批许", None, 6, 0),
)
_PROFILES = {p[0]: p for p in _DEPARTMENTS}


def generate_departments(rng: random.Random, region: str | Region = DEMO_REGION) -> list[Department]:
    """Eight county departments; codes are those of government organs (11 + region + MB…)."""
    reg = get_region(region)
    namer = _Namer(rng, reg)
    return [
        Department(_organ_code(namer), name.format(c=reg.county), short, key)
        for key, name, short, *_ in _DEPARTMENTS
    ]


def _organ_code(namer: _Namer) -> str:
    # Organs registered by 机构编制 carry "MB" bodies where enterprises carry "MA".
    while True:
        body = "MB1" + "".join(namer.pick(ALPHABET) for _ in range(5))
        if body not in namer.org_bodies:
            namer.org_bodies.add(body)
            return make_uscc("1", "1", namer.region.code, body)


# --------------------------------------------------------------------------- what departments decide
# Penalty cases: department, weight, subject kinds (O 法人及非法人组织, I 个体工商户, P 自然人),
# 违法行为类型, 违法事实 ({when} a date, {month} a month, {town}, {x} one of the fillers), fillers,
# 处罚依据, (weight, 处罚类别) options, fine range in 元 (low, high, step), licence named by 暂扣/吊销.
# Market regulation publishes no warning-only penalties, so its cases always carry a fine.
_PENALTY_CASES: tuple[tuple[Any, ...], ...] = (
    ("market", 4, "OI", "经营超过保质期的食品",
     "经查，当事人于{when}在其位于{town}的经营场所销售超过保质期的{x}，违反了《中华人民共和国食品安全法》第三十四条第（十）项的规定。",
     ("饮料", "方便面", "饼干", "调味品", "糕点", "乳制品"),
     "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项、《中华人民共和国行政处罚法》第三十二条第（一）项",
     ((5, "罚款"), (3, "罚款;没收违法所得"), (1, "警告;罚款"), (1, "罚款;没收违法所得;吊销许可证件")),
     (2000, 50000, 500), "食品经营许可证"),
    ("market", 3, "OI", "未按规定建立并遵守进货查验记录制度",
     "经查，当事人自{when}起经营{x}，未查验供货者的许可证和产品合格证明，也未建立进货查验记录，违反了《中华人民共和国食品安全法》第五十三条的规定。",
     ("预包装食品", "散装食品", "食用农产品", "冷冻食品"),
     "《中华人民共和国食品安全法》第一百二十六条第一款第（三）项",
     ((3, "罚款"), (2, "警告;罚款")), (5000, 50000, 1000), ""),
    ("market", 2, "OI", "销售不合格产品",
     "经抽样检验，当事人于{when}销售的{x}检验结论为不合格，违反了《中华人民共和国产品质量法》第三十九条的规定。",
     ("电线电缆", "儿童服装", "塑料拖鞋", "电动自行车头盔", "LED灯具", "插座"),
     "《中华人民共和国产品质量法》第五十条",
     ((3, "罚款;没收违法所得"), (1, "罚款")), (1000, 30000, 500), ""),
    ("market", 1, "P", "未取得营业执照从事经营活动",
     "经查，当事人自{when}起在{town}未取得营业执照擅自从事{x}经营活动，违反了《无证无照经营查处办法》第二条的规定。",
     ("餐饮", "废旧物资回收", "水果零售", "服装零售"),
     "《无证无照经营查处办法》第十三条",
     ((3, "罚款"), (1, "罚款;没收违法所得")), (500, 10000, 500), ""),
    ("market", 2, "OI", "不按规定明码标价",
     "经查，当事人于{when}在经营场所销售{x}未按规定明码标价，违反了《明码标价和禁止价格欺诈规定》第四条的规定。",
     ("日用品", "蔬菜水果", "烟酒", "汽车配件"),
     "《中华人民共和国价格法》第四十二条、《价格违法行为行政处罚规定》第十三条",
     ((1, "罚款"),), (500, 5000, 100), ""),
    ("market", 1, "O", "特种设备未经定期检验继续使用",
     "经查，当事人使用的{x}检验有效期于{when}届满后未申报定期检验，仍继续使用，违反了《中华人民共和国特种设备安全法》第四十条第三款的规定。",
     ("电梯", "叉车", "压力容器", "起重机械", "锅炉"),
     "《中华人民共和国特种设备安全法》第八十四条第（一）项",
     ((1, "罚款"),), (30000, 100000, 1000), ""),
    ("market", 1, "OI", "发布违法广告",
     "经查，当事人自{when}起在其微信公众号发布含有“{x}”等绝对化用语的广告，违反了《中华人民共和国广告法》第九条第（三）项的规定。",
     ("最好", "第一品牌", "国家级", "顶级"),
     "《中华人民共和国广告法》第五十七条第（一）项、《中华人民共和国行政处罚法》第三十二条",
     ((1, "罚款"),), (10000, 200000, 5000), ""),
    ("tax", 6, "OIP", "未按照规定期限办理纳税申报和报送纳税资料",
     "当事人未按照规定期限办理{month}所属期{x}的纳税申报，违反了《中华人民共和国税收征收管理法》第二十五条第一款的规定。",
     ("增值税", "个人所得税", "印花税", "城镇土地使用税"),
     "《中华人民共和国税收征收管理法》第六十二条",
     ((1, "罚款"),), (200, 2000, 50), ""),
    ("tax", 2, "OI", "未按照规定开具发票",
     "经查，当事人于{when}销售{x}取得收入未按照规定开具发票，违反了《中华人民共和国发票管理办法》第十八条的规定。",
     ("货物", "建材", "餐饮服务"),
     "《中华人民共和国发票管理办法》第三十三条第一款第（一）项",
     ((1, "罚款"),), (500, 10000, 100), ""),
    ("tax", 1, "O", "偷税",
     "经查，当事人在{month}前后采取{x}等方式少缴税款，违反了《中华人民共和国税收征收管理法》第六十三条第一款的规定。",
     ("隐匿收入", "虚列成本", "账外经营"),
     "《中华人民共和国税收征收管理法》第六十三条第一款",
     ((1, "罚款"),), (20000, 500000, 1000), ""),
    ("environment", 2, "O", "超过水污染物排放标准排放水污染物",
     "{when}，执法人员对当事人废水排放口采样监测，{x}浓度超过国家规定的排放标准，违反了《中华人民共和国水污染防治法》第十条的规定。",
     ("化学需氧量", "氨氮", "总磷", "悬浮物"),
     "《中华人民共和国水污染防治法》第八十三条第（二）项",
     ((1, "罚款"),), (100000, 500000, 10000), ""),
    ("environment", 2, "O", "未依法报批建设项目环境影响评价文件擅自开工建设",
     "经查，当事人{x}项目未依法报批环境影响报告表，于{when}擅自开工建设，违反了《中华人民共和国环境影响评价法》第二十五条的规定。",
     ("年产5000吨竹制品", "新建喷涂生产线", "年加工2万立方米木材", "年产10万件家具"),
     "《中华人民共和国环境影响评价法》第三十一条第一款",
     ((1, "罚款"),), (20000, 200000, 1000), ""),
    ("environment", 1, "O", "未按照规定贮存危险废物",
     "{when}，执法人员现场检查发现当事人将{x}露天堆放，未设置危险废物识别标志，违反了《中华人民共和国固体废物污染环境防治法》第八十一条的规定。",
     ("废机油", "废漆渣", "废活性炭", "废包装桶"),
     "《中华人民共和国固体废物污染环境防治法》第一百一十二条第一款第（六）项",
     ((1, "罚款"),), (100000, 300000, 10000), ""),
    ("environment", 1, "OI", "夜间违法进行产生噪声的作业",
     "经查，当事人于{when}夜间在{town}进行产生噪声污染的{x}作业，违反了《中华人民共和国噪声污染防治法》第四十三条的规定。",
     ("切割", "打桩", "装卸"),
     "《中华人民共和国噪声污染防治法》第七十七条",
     ((1, "罚款"),), (10000, 100000, 1000), ""),
    ("transport", 5, "OIP", "车辆违法超限运输",
     "{when}，当事人的{x}货车在{town}经检测车货总质量超过限定标准，违反了《公路安全保护条例》第三十三条第一款的规定。",
     ("重型半挂", "重型自卸", "中型厢式", "重型厢式"),
     "《公路安全保护条例》第六十四条",
     ((1, "罚款"),), (500, 30000, 500), ""),
    ("transport", 2, "PI", "未取得道路运输经营许可擅自从事道路运输经营",
     "{when}，当事人未取得道路运输经营许可，在{town}擅自使用{x}，违反了《中华人民共和国道路运输条例》第十条的规定。",
     ("小型普通客车从事旅客运输", "轻型货车从事货物运输"),
     "《中华人民共和国道路运输条例》第六十三条",
     ((3, "罚款"), (1, "罚款;没收违法所得")), (10000, 50000, 1000), ""),
    ("transport", 2, "P", "未取得从业资格证件驾驶道路运输经营车辆",
     "当事人未取得相应的从业资格证件，于{when}驾驶车辆从事{x}，违反了《道路运输从业人员管理规定》第六条的规定。",
     ("道路货物运输经营", "道路旅客运输经营"),
     "《道路运输从业人员管理规定》第四十五条第（一）项",
     ((1, "罚款"),), (200, 2000, 100), ""),
    ("housing", 2, "O", "未取得施工许可证擅自施工",
     "经查，当事人建设的{x}项目未取得施工许可证，于{when}擅自开工建设，违反了《中华人民共和国建筑法》第七条的规定。",
     ("厂房", "综合楼", "仓库", "商住楼"),
     "《建筑工程施工许可管理办法》第十二条",
     ((1, "罚款"),), (10000, 200000, 1000), ""),
    ("housing", 3, "O", "施工工地未采取扬尘污染防治措施",
     "{when}，执法人员检查发现当事人位于{town}的施工工地存在{x}的情况，违反了《中华人民共和国大气污染防治法》第六十九条的规定。",
     ("裸露土方未覆盖", "进出车辆未冲洗", "未设置硬质围挡"),
     "《中华人民共和国大气污染防治法》第一百一十五条第一款",
     ((1, "罚款"),), (10000, 100000, 1000), ""),
    ("housing", 1, "O", "未取得商品房预售许可证预售商品房",
     "经查，当事人开发的{x}项目在未取得商品房预售许可证的情况下，于{when}向购房人收取预订款，违反了《城市房地产开发经营管理条例》第二十二条的规定。",
     ("翠湖苑", "云溪花园", "锦绣府", "观澜名邸"),
     "《城市房地产开发经营管理条例》第三十六条",
     ((1, "罚款;没收违法所得"),), (20000, 200000, 1000), ""),
    ("emergency", 3, "O", "未按照规定对从业人员进行安全生产教育和培训",
     "{when}，执法人员检查发现当事人{x}未经安全生产教育和培训即上岗作业，违反了《中华人民共和国安全生产法》第二十八条第一款的规定。",
     ("2名新入职员工", "3名一线操作工", "新招用的叉车司机"),
     "《中华人民共和国安全生产法》第九十七条第（三）项",
     ((3, "罚款"), (1, "警告;罚款")), (5000, 50000, 1000), ""),
    ("emergency", 2, "O", "未建立事故隐患排查治理制度",
     "{when}，执法人员检查发现当事人未建立事故隐患排查治理制度，{x}，违反了《中华人民共和国安全生产法》第四十一条第二款的规定。",
     ("未如实记录事故隐患排查治理情况", "车间安全出口被堵塞", "消防通道堆放杂物"),
     "《中华人民共和国安全生产法》第一百零一条第（五）项",
     ((1, "罚款"),), (10000, 100000, 1000), ""),
    ("emergency", 1, "P", "生产经营单位主要负责人未履行安全生产管理职责",
     "{when}检查发现，当事人作为所在{x}的主要负责人，未组织制定并实施本单位安全生产教育和培训计划，违反了《中华人民共和国安全生产法》第二十一条的规定。",
     ("企业", "加工厂"),
     "《中华人民共和国安全生产法》第九十四条第一款",
     ((1, "罚款"),), (20000, 50000, 1000), ""),
    ("emergency", 1, "IP", "未经许可经营烟花爆竹",
     "{when}，当事人在{town}未取得烟花爆竹经营（零售）许可证擅自销售{x}，违反了《烟花爆竹安全管理条例》第三条的规定。",
     ("烟花爆竹", "礼花弹"),
     "《烟花爆竹安全管理条例》第三十六条第二款",
     ((2, "罚款;没收非法财物"), (1, "没收违法所得;没收非法财物;罚款")), (1000, 50000, 500), ""),
    ("health", 4, "OI", "安排未获得有效健康合格证明的从业人员从事直接为顾客服务的工作",
     "{when}，卫生监督员检查发现当事人安排{x}未取得有效健康合格证明的从业人员从事直接为顾客服务的工作，违反了《公共场所卫生管理条例实施细则》第十条的规定。",
     ("1名", "2名", "3名"),
     "《公共场所卫生管理条例实施细则》第三十八条",
     ((2, "警告"), (2, "警告;罚款"), (1, "罚款")), (500, 5000, 100), ""),
    ("health", 2, "OI", "未按照规定对公共场所进行卫生检测",
     "当事人未按照规定对经营场所的{x}进行卫生检测，{when}检查时不能提供检测报告，违反了《公共场所卫生管理条例实施细则》第十九条的规定。",
     ("空气质量", "集中空调通风系统", "游泳池水质"),
     "《公共场所卫生管理条例实施细则》第三十六条第（一）项",
     ((2, "警告"), (1, "警告;罚款")), (500, 2000, 100), ""),
    ("health", 1, "OI", "使用非卫生技术人员从事医疗卫生技术工作",
     "{when}，卫生监督员检查发现当事人使用未取得{x}的人员从事医疗卫生技术工作，违反了《医疗机构管理条例》第二十七条的规定。",
     ("医师资格", "护士执业证书"),
     "《医疗机构管理条例》第四十七条",
     ((4, "罚款"), (1, "罚款;吊销许可证件")), (10000, 50000, 1000), "医疗机构执业许可证"),
    ("health", 1, "P", "非医师行医",
     "{when}，当事人未取得医师资格在{town}擅自开展{x}诊疗活动，违反了《中华人民共和国医师法》第十三条第四款的规定。",
     ("针灸", "推拿正骨", "输液"),
     "《中华人民共和国医师法》第五十九条",
     ((2, "没收违法所得;罚款"), (1, "没收违法所得;没收非法财物;罚款")), (20000, 100000, 1000), ""),
)  # fmt: skip

# Licence cases: department, weight, subject kinds, 决定文书名称, 许可类别, 许可证书名称,
# 许可编号 pattern ({seq} {year} {yy} {ymd} {uscc}; region parts {region} {pa} {ca} {a}), 许可内容 choices,
# validity in years (0 = open-ended). A 许可编号 is published: never the holder's ID number, which some
# departments use for 从业资格证 (the platform would mask it and warn, see codes/idtext.py).
_LICENSE_CASES: tuple[tuple[Any, ...], ...] = (
    ("market", 3, "O", "准予设立登记通知书", "登记", "营业执照", "{uscc}", ("准予设立登记",), 0),
    ("market", 3, "I", "准予个体工商户设立登记通知书", "登记", "营业执照", "{uscc}", ("准予个体工商户设立登记",), 0),
    ("market", 2, "O", "准予变更登记通知书", "登记", "营业执照", "{uscc}",
     ("准予变更登记：经营范围", "准予变更登记：法定代表人", "准予变更登记：住所"), 0),
    ("market", 1, "O", "特种设备使用登记决定书", "登记", "特种设备使用登记证", "梯11{pa}{seq:05d}({yy})",
     ("乘客电梯使用登记", "叉车使用登记", "压力容器使用登记"), 0),
    ("tax", 1, "OI", "准予税务行政许可决定书", "普通", "", "",
     ("增值税专用发票最高开票限额审批：十万元", "增值税专用发票最高开票限额审批：一万元",
      "增值税专用发票最高开票限额审批：一百万元"), 0),
    ("environment", 2, "O", "排污许可决定书", "普通", "排污许可证", "{uscc}001P",
     ("排污许可：简化管理", "排污许可：重点管理"), 5),
    ("environment", 2, "O", "建设项目环境影响报告表审批意见", "普通", "", "",
     ("同意年产5000吨竹制品项目环境影响报告表", "同意新建喷涂生产线项目环境影响报告表",
      "同意年产10万件家具项目环境影响报告表"), 5),
    ("transport", 3, "OI", "道路运输经营许可决定书", "普通", "道路运输经营许可证",
     "{pa}交运管许可{ca}字{region}{seq:06d}号", ("道路普通货物运输", "道路旅客运输（县内班车客运）", "机动车维修（二类）"), 4),
    ("transport", 2, "P", "道路运输从业人员从业资格决定书", "认可", "中华人民共和国道路运输从业人员从业资格证",
     "{pa}交运管从业字{region}{seq:06d}号",
     ("道路货物运输驾驶员", "道路旅客运输驾驶员", "危险货物道路运输驾驶员"), 6),
    ("housing", 3, "O", "建筑工程施工许可决定书", "普通", "建筑工程施工许可证", "{region}{ymd}{seq:04d}",
     ("厂房新建工程", "住宅小区一期工程", "综合楼新建工程"), 0),
    ("housing", 1, "O", "商品房预售许可决定书", "普通", "商品房预售许可证", "{a}售许字（{year}）第{seq:03d}号",
     ("翠湖苑1#-5#楼商品房预售", "云溪花园二期商品房预售", "锦绣府3#楼商品房预售"), 0),
    ("housing", 1, "O", "建筑业企业资质决定书", "认可", "建筑业企业资质证书", "D3{seq:08d}",
     ("建筑工程施工总承包三级", "市政公用工程施工总承包三级", "建筑装修装饰工程专业承包二级"), 5),
    ("emergency", 2, "O", "危险化学品经营许可决定书", "普通", "危险化学品经营许可证", "{pa}{ca}{a}危化经字〔{year}〕{seq:06d}",
     ("危险化学品经营（不带储存设施）：汽油、柴油", "危险化学品经营（不带储存设施）：油漆、稀释剂"), 3),
    ("emergency", 2, "OI", "烟花爆竹经营（零售）许可决定书", "普通", "烟花爆竹经营（零售）许可证",
     "（{pa}{ca}）YH经{year}{seq:04d}", ("烟花爆竹零售",), 1),
    ("health", 2, "OI", "医疗机构执业许可决定书", "普通", "医疗机构执业许可证", "PDY{seq:05d}{region}17A1001",
     ("诊所：内科、外科", "口腔诊所：口腔科", "中医诊所：中医科"), 5),
    ("health", 2, "P", "医师执业注册决定书", "登记", "医师执业证书", "2{region}{year}{seq:05d}",
     ("执业类别：临床，执业范围：内科专业", "执业类别：中医，执业范围：中医专业", "执业类别：口腔，执业范围：口腔专业"), 0),
    ("health", 1, "O", "放射诊疗许可决定书", "普通", "放射诊疗许可证", "{pa}卫放证字〔{year}〕第{seq:06d}号",
     ("X射线影像诊断", "口腔CT"), 4),
    ("approval", 6, "OI", "食品经营许可决定书", "普通", "食品经营许可证", "JY1{region}{seq:07d}",
     ("预包装食品（含冷藏冷冻食品）销售", "热食类食品制售", "预包装食品销售；散装食品销售", "热食类食品制售；冷食类食品制售",
      "糕点类食品（含裱花蛋糕）制售"), 5),
    ("approval", 3, "OI", "公共场所卫生许可决定书", "普通", "公共场所卫生许可证", "{pa}卫公证字〔{year}〕第{region}{seq:06d}号",
     ("理发店、美容店", "宾馆", "足浴店", "游泳场所"), 4),
    ("approval", 1, "O", "药品经营许可决定书", "普通", "药品经营许可证", "{pa}CB{seq:07d}",
     ("药品零售：中成药、化学药制剂、抗生素制剂、生化药品", "药品零售：中药饮片、中成药"), 5),
    ("approval", 2, "O", "建设工程规划许可决定书", "普通", "建设工程规划许可证", "建字第{region}{year}{seq:05d}号",
     ("新建厂房", "新建办公综合楼", "新建住宅小区"), 0),
)  # fmt: skip

# 处罚类别 that put a penalty in the 严重 publicity tier.
_SERIOUS = frozenset(("吊销许可证件", "责令停产停业", "责令关闭", "限制从业", "降低资质等级"))
_SERIOUS_FINE = 100_000  # 元; larger fines are published for the 严重 tier's 3 years


@dataclass(frozen=True, slots=True)
class _Option:
    label: str  # 处罚类别, ";"-separated
    content: str  # 处罚内容 template: {fine}, {gain}
    has_fine: bool
    has_gain: bool
    seized: str  # 暂扣或吊销证照名称 template: {no}
    publicity_months: int  # 公示截止期: 轻微 3, 一般 12, 严重 36 (信用修复管理办法)


def _option(label: str, cert: str) -> _Option:
    cats = label.split(";")
    phrases = {
        "罚款": "罚款人民币{fine}元",
        "没收违法所得": "没收违法所得人民币{gain}元",
        "吊销许可证件": f"吊销{cert}",
        "暂扣许可证件": f"暂扣{cert}三个月",
    }
    seized = f"{cert}（{{no}}）" if {"吊销许可证件", "暂扣许可证件"} & set(cats) else ""
    months = 36 if _SERIOUS & set(cats) else 3 if set(cats) <= {"警告", "通报批评"} else 12
    content = "；".join(phrases.get(c, c) for c in cats)
    return _Option(label, content, "罚款" in cats, "没收违法所得" in cats, seized, months)


@dataclass(frozen=True, slots=True)
class _PenaltyCase:
    key: str
    weight: int
    kinds: str
    offence: str
    fact: str
    fillers: tuple[str, ...]
    basis: str
    options: tuple[_Option, ...]  # repeated by weight
    fine_options: tuple[_Option, ...]
    fine_low: int
    fine_steps: int
    fine_step: int


def _penalty_case(spec: tuple[Any, ...]) -> _PenaltyCase:
    key, weight, kinds, offence, fact, fillers, basis, options, fine, cert = spec
    expanded = tuple(_option(label, cert) for w, label in options for _ in range(w))
    low, high, step = fine
    fine_options = tuple(o for o in expanded if o.has_fine)
    steps = (high - low) // step + 1
    return _PenaltyCase(
        key, weight, kinds, offence, fact, fillers, basis, expanded, fine_options, low, steps, step
    )


@dataclass(frozen=True, slots=True)
class _LicenseCase:
    key: str
    weight: int
    kinds: str
    document: str
    category: str
    certificate: str
    number: str
    contents: tuple[str, ...]
    years: int


_PENALTIES = tuple(_penalty_case(c) for c in _PENALTY_CASES)
_LICENSES = tuple(_LicenseCase(*c) for c in _LICENSE_CASES)

# --------------------------------------------------------------------------- defects

DEFECTS = (
    "uscc-bad-check",  # last character of the USCC wrong
    "uscc-letter-io",  # I or O typed for 1 or 0 in the USCC
    "missing-required",  # 违法事实 (penalty) / 许可内容 (licence) empty
    "future-date",  # decision date after today
    "validity-reversed",  # 有效期至 before 有效期自 (licences only)
    "amount-not-numeric",  # 罚款金额 written in words (penalties only)
    "unknown-penalty-category",  # 罚金, a criminal penalty (penalties only)
    "person-without-id",  # 自然人 without 证件号码
    "individual-as-legal-person",  # a 92… code marked 法人及非法人组织
    "name-code-mismatch",  # another subject's name with this code
    "invalid-date",  # YYYY-02-30
)
LICENSE_DEFECTS = tuple(d for d in DEFECTS if d not in ("amount-not-numeric", "unknown-penalty-category"))
PENALTY_DEFECTS = tuple(d for d in DEFECTS if d != "validity-reversed")
# Which subjects (kind letters) or cases a defect needs.
_NEEDS = {
    "uscc-bad-check": "OI",
    "uscc-letter-io": "OI",
    "name-code-mismatch": "OI",
    "person-without-id": "P",
    "individual-as-legal-person": "I",
    "amount-not-numeric": "fine",
}

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
    choices_for: dict[str | None, list[_Choice]]  # by _NEEDS value
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
            pools[_KIND_LETTER[s.kind]].append(s)
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
        cases: tuple[Any, ...] = _LICENSES if licence else _PENALTIES
        defects = LICENSE_DEFECTS if licence else PENALTY_DEFECTS
        r = self.region
        desks: list[_Desk] = []
        for dept in chosen:
            profile = _PROFILES.get(dept.key)
            if profile is None:
                raise ValueError(f"unknown department profile {dept.key!r}")
            stem, weight = (profile[3], profile[5]) if licence else (profile[4], profile[6])
            if stem is None:
                if explicit:
                    raise ValueError(f"{dept.name} does not decide {'licences' if licence else 'penalties'}")
                continue
            choices_for: dict[str | None, list[_Choice]] = {need: [] for need in (None, *_NEEDS.values())}
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
                if choices_for[_NEEDS.get(d)] and (d != "name-code-mismatch" or len(self.coded) > 1)
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


def _licence_number(case: _LicenseCase, choice: _Choice, day: str, s: Subject, today: date) -> str:
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
        choices = desk.choices if defect is None else desk.choices_for[_NEEDS.get(defect)]
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
        choices = desk.choices if defect is None else desk.choices_for[_NEEDS.get(defect)]
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
        months = 36 if yuan >= _SERIOUS_FINE else opt.publicity_months
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
    profile = _PROFILES[department.key]
    return (profile[3] if record_type == "license" else profile[4]) is not None
