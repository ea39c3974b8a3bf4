"""Chinese numerals as target values (ANNOTATION.md §5): our own reader, no cn2an at run time."""
import pytest

from speechledger.numerals import cn_number


@pytest.mark.parametrize("text,value", [
    ("三", 3), ("十", 10), ("十五", 15), ("二十一", 21), ("一百零五", 105), ("三千五百", 3500),
    ("三千五", 3500), ("一万二", 12000), ("两千", 2000), ("十二万三千", 123000), ("四千零五十", 4050),
    ("一万零二", 10002), ("两亿", 200_000_000), ("一亿五千万", 150_000_000), ("三点五", 3.5),
    ("零点五", 0.5), ("二〇二五", 2025), ("1.5万", 15000), ("兩千", 2000),
])
def test_reads_chinese_numerals(text, value):
    assert cn_number(text) == value


@pytest.mark.parametrize("text", ["", "百", "三百多", "五好", "点五"])
def test_what_is_not_a_number_gives_none(text):
    assert cn_number(text) is None


def test_agrees_with_written_out_numbers():
    # every number written the usual way (一千二百三十四, 十万零五) reads back as itself
    digits = "零一二三四五六七八九"

    def write(n: int) -> str:
        if n == 0:
            return "零"
        out, zero = "", False
        for unit, name in ((100_000_000, "亿"), (10_000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, "")):
            q, n = divmod(n, unit)
            if q:
                if zero:
                    out += "零"
                out += (write(q) if unit >= 10_000 else digits[q]) + name
                zero = False
            elif out:
                zero = True
        return out[1:] if out.startswith("一十") else out

    for n in list(range(1, 1200)) + [10_005, 123_456, 7_000_800, 100_020_003]:
        assert cn_number(write(n)) == n, write(n)
