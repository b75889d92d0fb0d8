"""Synthetic subjects and departments of a demo county: regions, names, codes and ID numbers.

All randomness comes from the `random.Random` passed in; uniqueness (names, codes, ID numbers) holds within
one call."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from xinyong.codes.idnumber import make_id_number
from xinyong.codes.uscc import ALPHABET, make_uscc

LEGAL_PERSON = "法人及非法人组织"
INDIVIDUAL_BUSINESS = "个体工商户"
NATURAL_PERSON = "自然人"
KIND_LETTER = {LEGAL_PERSON: "O", INDIVIDUAL_BUSINESS: "I", NATURAL_PERSON: "P"}


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
PROFILES = {p[0]: p for p in _DEPARTMENTS}


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
