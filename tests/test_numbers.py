"""Reading one printed cell: figures as printed, blanks as blanks, garbage with a reason."""
from __future__ import annotations

import pytest

from nianbao.pipeline.numbers import is_blank, looks_like_value, parse_cell


@pytest.mark.parametrize("text,value", [
    ("0", 0), ("21", 21), ("４１１９", 4119), ("1,234", 1234), ("1，234", 1234), ("１，２３４", 1234),
    (" 12 ", 12), ("12件", 12), ("3.0", 3), ("\u3000195\u3000", 195),
])
def test_counts(text, value):
    assert parse_cell(text) == (value, None)


@pytest.mark.parametrize("text", ["", " ", "\xa0", "&nbsp;", "/", "／", "—", "——", "-", "－", "无", "\\", "（无）", "(/)"])
def test_printed_blanks_are_none_without_reason(text):
    assert parse_cell(text) == (None, None)
    assert is_blank(text)


@pytest.mark.parametrize("text", ["见附件", "1 1", "12（其中3件）", "abc", "1.2.3"])
def test_unreadable_has_reason(text):
    value, reason = parse_cell(text)
    assert value is None and reason and text.strip() in reason


def test_missing_cell_has_reason():
    assert parse_cell(None) == (None, "cell not found")


@pytest.mark.parametrize("text,value", [("-3", -3), ("－3", -3), ("减少3", -3), ("减3", -3), ("增加2", 2), ("+2", 2)])
def test_change_is_signed(text, value):
    assert parse_cell(text, "change") == (value, None)


@pytest.mark.parametrize("text,unit,default,value", [
    ("251000元", "yuan", None, 251000),
    ("25.1万元", "yuan", None, 251000),
    ("1.5亿元", "yuan", None, 150000000),
    ("251000", "yuan", None, 251000),  # no unit anywhere: as printed
    ("25.1", "yuan", "万元", 251000),  # the header said 万元
    ("7730.28", "10k_yuan", None, 7730.28),
    ("7730.28万元", "10k_yuan", None, 7730.28),
    ("5000元", "10k_yuan", None, 0.5),
    ("1,234.5", "10k_yuan", None, 1234.5),
    ("7730.28万", "10k_yuan", None, 7730.28),
    ("25.1万", "yuan", None, 251000),
])
def test_money_units(text, unit, default, value):
    assert parse_cell(text, "money", unit, default) == (value, None)


def test_money_garbage():
    value, reason = parse_cell("约25万元", "money", "yuan")
    assert value is None and "约25万元" in reason


def test_looks_like_value_tells_labels_from_figures():
    assert looks_like_value("0") and looks_like_value("") and looks_like_value("251000元")
    assert not looks_like_value("2.重复申请") and not looks_like_value("（七）总计")
    assert not looks_like_value("行政许可")


def test_reason_quotes_at_most_a_line_of_a_huge_cell():
    """A cell holding a whole table's text (a merged or corrupt cell) is named in its reason
    by its start and its length: the reason is stored with the cell and shown on every page."""
    huge = "一、本年新收政府信息公开申请数量 44 0 3 " * 5000
    value, why = parse_cell(huge)
    assert value is None
    assert len(why) < 200 and f"({len(huge)} characters)" in why and why.startswith("digits separated by space")
    assert parse_cell("1 1") == (None, "digits separated by space '1 1'")


@pytest.mark.parametrize("text,kind", [("99999999999999999999999", "count"), ("1,000,000,000,000,000", "count"),
                                       ("增加10000000000000000000", "change"), ("9223372036854775808", "money"),
                                       ("1000000000000000万元", "money")])
def test_implausible_figures_are_null_with_a_reason(text, kind):
    """A figure of 10^15 or more is cells run together or garbage (and SQLite stores no
    integer of 2^63 or more): NULL with a reason, never stored as a figure."""
    value, why = parse_cell(text, kind, unit="yuan" if kind == "money" else None)
    assert value is None and "implausible figure" in why


def test_large_but_plausible_figures_are_kept():
    assert parse_cell("999999999999999") == (999999999999999, None)
    assert parse_cell("1,234,567") == (1234567, None)
