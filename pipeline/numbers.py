"""Read one printed table cell as a number.

Publishers print figures with full-width digits, thousands separators, units and
assorted blank markers. `parse_cell` returns `(value, reason)`:

- a number: `(value, None)`;
- a printed blank (「」, 「/」, 「—」, 「无」, &nbsp;): `(None, None)` — the cell is
  blank *as printed*, which is data (rules and views decide what a blank means);
- anything else: `(None, reason)` — we could not read it and say why, never a guess.
"""
from __future__ import annotations

import re
import unicodedata

# Printed markers that mean "nothing printed here". Compared after normalisation.
BLANKS = frozenset({"", "/", "\\", "-", "--", "—", "——", "–", "―", "─", "无", "空", "×", "*", "…", "...", "null", "none", "n/a"})

_COUNT_UNITS = ("件次", "人次", "件", "个", "项", "条", "次", "人", "家", "宗", "起", "篇")
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")
_MONEY_UNITS = {"亿元": 100_000_000, "万元": 10_000, "千元": 1_000, "元": 1, "亿": 100_000_000, "万": 10_000}
_TARGET_YUAN = {"yuan": 1, "10k_yuan": 10_000}


def normalize(text: str) -> str:
    """Full-width → ASCII, entity and space debris removed: what the parser compares."""
    t = text.replace("&nbsp;", " ").replace("&#160;", " ")
    t = unicodedata.normalize("NFKC", t)
    t = t.replace("−", "-").replace("﹣", "-")  # minus variants NFKC keeps
    return re.sub(r"\s+", "", t)


def _blank(s: str) -> bool:
    """`s` normalised; 「（无）」 and 「[空]」 are blanks too."""
    return s.lower() in BLANKS or (len(s) > 2 and s[0] in "([" and s[-1] in ")]" and s[1:-1].lower() in BLANKS)


def is_blank(text: str | None) -> bool:
    return text is None or _blank(normalize(text))


# No count or amount in these reports comes near it (the national budget is ~10^13 yuan);
# past it a "figure" is cells run together or garbage, and SQLite stores no integer ≥ 2^63.
MAX_FIGURE = 10**15


def _num(s: str) -> int | float | None:
    """A bare number: int, or float when printed with a decimal point."""
    if not _NUMBER.fullmatch(s):
        return None
    s = s.replace(",", "")
    return float(s) if "." in s else int(s)


def _implausible(v: int | float | None) -> bool:
    return v is not None and not abs(v) < MAX_FIGURE


def _shown(text: str, limit: int = 60) -> str:
    """The cell as quoted in a reason: a merged or corrupt cell can hold a whole table's
    text, and a reason is shown on every page and stored with every cell."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


def parse_cell(text: str | None, kind: str = "count", unit: str | None = None,
               default_unit: str | None = None) -> tuple[int | float | None, str | None]:
    """Parse one printed cell (see `_parse_cell`); a figure of 10^15 or more is NULL
    with a reason, never stored."""
    v, why = _parse_cell(text, kind, unit, default_unit)
    if _implausible(v):
        return None, f"implausible figure {_shown(text or '')} (10^15 or more)"
    return v, why


def _parse_cell(text: str | None, kind: str = "count", unit: str | None = None,
                default_unit: str | None = None) -> tuple[int | float | None, str | None]:
    """Parse one printed cell.

    kind: "count", "change" (signed: 「减少3」 → -3) or "money".
    unit (money only): what to store — "yuan" or "10k_yuan"; a unit printed in the cell
    (元/万元/亿元) is converted to it; without a printed unit the number is taken in
    `default_unit` (the column header's unit), else as printed.
    """
    if text is None:
        return None, "cell not found"
    s = normalize(text)
    if _blank(s):
        return None, None
    if re.search(r"\d\s+\d", unicodedata.normalize("NFKC", text.replace("&nbsp;", " "))):
        return None, f"digits separated by space {_shown(text)}"  # 「1 1」: two cells run together?
    if kind == "change":
        m = re.fullmatch(r"(增加|增|新增|减少|减)(.+)", s)
        if m:
            v, why = _parse_cell(m.group(2), "count")
            if v is None:
                return None, why or f"unreadable change {_shown(text)}"
            return (-v if m.group(1).startswith("减") else v), None
    if kind == "money":
        for u, factor in _MONEY_UNITS.items():
            if s.endswith(u):
                v = _num(s[: -len(u)])
                if v is None:
                    return None, f"unreadable amount {_shown(text)}"
                return _convert(v, factor, unit), None
        v = _num(s)
        if v is None:
            return None, f"unreadable amount {_shown(text)}"
        factor = _MONEY_UNITS.get(default_unit or "", None)
        return (_convert(v, factor, unit) if factor and unit else v), None
    for u in _COUNT_UNITS:
        if s.endswith(u) and len(s) > len(u):
            s = s[: -len(u)]
            break
    v = _num(s)
    if v is None:
        return None, f"unreadable {_shown(text)}"
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # 「3.0」 is the count 3
    return v, None


def _convert(v: int | float, factor: int, unit: str | None) -> int | float:
    if not unit or unit not in _TARGET_YUAN or factor == _TARGET_YUAN[unit]:
        return v
    out = round(v * factor / _TARGET_YUAN[unit], 6)
    return int(out) if out.is_integer() else out


def looks_like_value(text: str | None) -> bool:
    """Could this cell be a figure (or a printed blank)? Used to tell labels from values."""
    if is_blank(text):
        return True
    return parse_cell(text, "money")[0] is not None or parse_cell(text, "change")[0] is not None
