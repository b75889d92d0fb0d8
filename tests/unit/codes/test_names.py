import subprocess
import sys

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


_FIRST_USE_IN_THREADS = """
import sys, threading
from xinyong.codes.names import normalize_name
start = threading.Barrier(8)
errors = []
def compare(n):
    try:
        start.wait()
        assert normalize_name(f"長興縣{n}") == f"长兴县{n}"
    except BaseException as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=compare, args=(n,)) for n in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(errors)
sys.exit(1 if errors else 0)
"""


def test_first_use_from_many_threads_at_once():
    """The conversion module is imported on first use; threads that ask while another is still importing it
    wait for the whole module rather than take the half-made one (seen as "no attribute 'convert'")."""
    for _ in range(5):  # a fresh interpreter each time: the import happens once per process
        done = subprocess.run([sys.executable, "-c", _FIRST_USE_IN_THREADS], capture_output=True, text=True,
                              timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
