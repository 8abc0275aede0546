"""Figures a report states in its text, checked against its own tables.

「共收到政府信息公开申请75件」, 「因政府信息公开被申请行政复议36件」, 「现行有效规范性文件
393件」: a report's prose repeats its key figures, and when prose and table disagree one
of them is wrong. Each figure is kept with its sentence; a disagreement becomes an issue
of kind `prose` with both numbers and the sentence as evidence. The check never changes
a figure, and says nothing when the table does not print the figure it would need.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Cell, Issue
from .titles import cn_years

_N = r"(\d{1,7})"
# (measure, pattern with one figure, the sentence must also name …); a figure told of
# one channel (「通过门户网站主动公开…」) is not the total the table prints
_CHANNEL = re.compile(r"网站|门户|公报|微博|微信|新媒体|公开栏|客户端")
PATTERNS: list[tuple[str, re.Pattern, str | None]] = [
    ("requests", re.compile(r"(?:共|累计|全年)?(?:新收|新收到|收到|受理|接收|办理)(?:各类|群众|公民、法人或者其他组织)?(?:的)?"
                            r"(?:政府信息公开|依申请公开(?:政府信息)?)申请(?:共|合计)?(?:计)?" + _N + r"(?:件|个|份|宗)"), None),
    ("reviews", re.compile(r"(?:被申请|申请|发生|提起|收到)?行政复议(?:案件|申请)?(?:共|合计)?" + _N + r"(?:件|起|宗)"),
     "信息公开"),
    ("lawsuits", re.compile(r"(?:被提起|提起|发生|被起诉|应诉)?行政诉讼(?:案件)?(?:共|合计)?" + _N + r"(?:件|起|宗)"), "信息公开"),
    ("normative_in_force", re.compile(r"现行有效(?:的)?(?:行政)?规范性文件(?:共|合计)?" + _N + r"件"), None),
    ("proactive", re.compile(r"主动公开(?:各类)?(?:政府)?信息(?:共|合计)?" + _N + r"条"), None),
]
LABELS = {"requests": "收到的政府信息公开申请", "reviews": "行政复议", "lawsuits": "行政诉讼",
          "normative_in_force": "现行有效规范性文件", "proactive": "主动公开政府信息"}


_UNIT = {"proactive": "条"}


@dataclass
class Stated:
    measure: str
    value: int
    sentence: str


def stated(text: str) -> list[Stated]:
    """Every figure of PATTERNS the text states, with its sentence (first statement of each)."""
    out: dict[str, Stated] = {}
    flat = re.sub(r"[ \t\u3000]+", "", cn_years(text or ""))
    for sentence in re.split(r"(?<=[。；;！!\n])", flat):
        for measure, pat, needs in PATTERNS:
            if measure in out or (needs and needs not in sentence):
                continue
            m = pat.search(sentence)
            if m and measure == "proactive" and _CHANNEL.search(sentence[: m.start()]):
                continue
            if m:
                out[measure] = Stated(measure, int(m.group(1)), sentence.strip())
    return list(out.values())


def _table_values(measure: str, cells: dict[tuple, Cell]) -> list[float]:
    """What the tables print for a measure: the values the prose may match."""
    def v(*key):
        c = cells.get(key)
        return None if c is None else c.value

    def total(group):  # a printed 总计, or the sum of its parts when the 总计 is blank
        t = v(4, group, "total")
        parts = [v(4, group, c) for c in ("upheld", "corrected", "other", "pending")]
        out = [t] if t is not None else []
        if all(p is not None for p in parts):
            out.append(sum(parts))
        return out

    if measure == "requests":
        new, carried = v(3, "new", "total"), v(3, "carried_in", "total")
        out = [x for x in (new, v("old", "requests.total", "year")) if x is not None]
        if new is not None and carried is not None:
            out.append(new + carried)  # 「共收到…75件（含上年结转3件）」
        return out
    if measure == "reviews":
        return total("review") + [x for x in (v("old", "review.total", "year"),) if x is not None]
    if measure == "lawsuits":
        a, b = total("suit_direct"), total("suit_after_review")
        out = sorted({x + y for x in a for y in b})
        return out + [x for x in (v("old", "suit.total", "year"),) if x is not None]
    if measure == "normative_in_force":
        return [x for x in (v(2, "normative_docs", "in_force"),) if x is not None]
    if measure == "proactive":
        return [x for x in (v("old", "proactive.total", "year"),) if x is not None]
    return []


def check(text: str, cells: list[Cell]) -> tuple[list[Issue], list[dict]]:
    """(issues for figures the prose and the tables disagree on, every stated figure)."""
    by_key = {(c.table, c.row, c.col): c for c in cells}
    issues, found = [], []
    for s in stated(text):
        found.append({"measure": s.measure, "value": s.value, "sentence": s.sentence})
        table = _table_values(s.measure, by_key)
        if table and s.value not in table:
            issues.append(Issue(
                "prose", s.measure, f"正文称{LABELS[s.measure]}{s.value}{_UNIT.get(s.measure, '件')}，"
                f"表中为{'或'.join(_fmt(x) for x in table)}",
                lhs=s.value, rhs=table[0], evidence={"sentence": s.sentence, "table": table}))
    return issues, found


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
