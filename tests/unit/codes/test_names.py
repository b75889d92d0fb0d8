import pytest

from xinyong.codes import clean_display_name, mask_person_name, normalize_name


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("（北京）科技有限公司", "(北京)科技有限公司"),
        ("【北京】科技有限公司", "(北京)科技有限公司"),
        ("〔北京〕科技有限公司", "(北京)科技有限公司"),
        ("［北京］科技有限公司", "(北京)科技有限公司"),
        ("臺灣", "台湾"),
        ("北京 科技\u3000有限公司", "北京科技有限公司"),
        ("ａｂｃ科技", "ABC科技"),
        ("abc科技", "ABC科技"),
        ("买买提・艾力", "买买提·艾力"),
        ("\ufeff北京科技有限公司\u200b", "北京科技有限公司"),
    ],
)
def test_normalize_name_equates(a, b):
    assert normalize_name(a) == normalize_name(b)


def test_normalize_name_output():
    assert normalize_name("（北京）科技 有限公司") == "(北京)科技有限公司"
    assert normalize_name("臺灣ｘｙ") == "台湾XY"


def test_clean_display_name():
    assert clean_display_name("  ＡＢＣ（北京）　科技   有限公司１２ ") == "ABC（北京） 科技 有限公司12"
    assert clean_display_name("【北京】") == "【北京】"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳", "欧*"),
        ("司马光", "司马*"),
        ("张", "*"),
        ("", ""),
        (" 李四 ", "李*"),
    ],
)
def test_mask_person_name(name, masked):
    assert mask_person_name(name) == masked
