"""Extracted document → canonical Report: is it a report, whose, for which year, its six
sections and the cells of tables 2–4. Pure; the reconciliation rules and the final
status are `pipeline.validate`'s job (we set "ok", "extraction_incomplete" or
"not_a_report" from what extraction achieved).
"""
from __future__ import annotations

import re
from collections import Counter

from . import tables
from .model import EXTRACTION_INCOMPLETE, NOT_A_REPORT, OK, Extracted, Issue, Report, Section
from .titles import BUDGET, NOTICE_END, REPORT_NAME, cn_years, squash, title_year

# ------------------------------------------------------------------ report or not
_HEAD_REPORT = re.compile(r"(19|20)\d\d年度?.{0,30}?信息公开.{0,12}(年度报告|年报|工作报告)"
                          r"|本(年度)?报告.{0,80}?政府信息公开条例")
_LIST_DATE = re.compile(r"(19|20)\d\d[-./年]\d{1,2}[-./月]\d{1,2}")


def _report_signal(title: str, text: str, sections: list[Section]) -> tuple[bool, str | None]:
    t = squash(title)
    head = squash(text[:400])
    titled_other = not REPORT_NAME.search(t) and (NOTICE_END.search(t) or BUDGET.search(t))
    if len(sections) >= 3 and not titled_other:
        return True, None
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    linky = [x for x in lines if len(x) <= 80 and REPORT_NAME.search(squash(x))]
    if len(linky) >= 3 and sum(bool(_LIST_DATE.search(x)) for x in lines) >= 3:
        return False, f"a list page: {len(linky)} report titles listed, no report sections"
    if REPORT_NAME.search(t):
        if NOTICE_END.search(t) and ("关于" in t or not re.search(r"年度报告$|年报$", t)):
            return False, f"a notice about annual reports, not a report: {title!r}"
        return True, None
    if BUDGET.search(t):
        return False, f"a budget/final-accounts document, not an annual report: {title!r}"
    if NOTICE_END.search(t):
        return False, f"a notice, not an annual report: {title!r}"
    if _HEAD_REPORT.search(head):
        return True, None
    return False, "no sign of a 政府信息公开工作年度报告 in title or opening text"


# ------------------------------------------------------------------ metadata
_PERIOD = re.compile(r"((?:19|20)\d\d)年1月1日(?:起)?(?:至|到|—|-|~|－)")


def years_stated(title: str, text: str) -> dict[str, int]:
    """Every statement of the covered year: statistics period, title, opening text."""
    body = cn_years(squash(text[:3000]))
    found: dict[str, int] = {}
    m = _PERIOD.search(body)
    if m:
        found["statistics period"] = int(m.group(1))
    if title_year(title):
        found["title"] = title_year(title)
    m = re.search(r"((?:19|20)\d\d)年度?(?:政府信息公开|政务公开)", body)
    if m:
        found["opening text"] = int(m.group(1))
    return found


def report_year(title: str, text: str) -> tuple[int | None, str | None]:
    """The year the report covers: the statistics period if stated, else the title's."""
    for source, year in years_stated(title, text).items():
        return year, source
    return None, None


_REGION_CHAIN = re.compile(r"^(?:[\u4e00-\u9fff]{1,8}?(?:省|市|自治区|自治州|州|盟|地区|县|区|旗))+$")
_BOUNDARY = set("由与和及是为对在向经据按了的、，。；：“”《》（）() \n\t") | {""}


def _qualify(agency: str, text: str) -> str:
    """「洪泽区人民政府」 in the title, 「淮安市洪泽区人民政府」 in the text: take the full name.

    Accept a prefix only if it is a chain of place names standing at a word boundary, so
    「请与淮安市洪泽区…」 yields 淮安市, not 与淮安市 or 安市."""
    flat = squash(text)
    seen: Counter[str] = Counter()
    for m in re.finditer(re.escape(agency), flat):
        before = flat[max(0, m.start() - 12): m.start()]
        for k in range(2, len(before) + 1):  # the shortest place name standing at a boundary
            p = before[-k:]
            edge = before[-k - 1] if k < len(before) else ""
            if any(ch in _BOUNDARY for ch in p):
                break
            if _REGION_CHAIN.match(p) and (edge in _BOUNDARY or not "\u4e00" <= edge <= "\u9fff"):
                seen[p] += 1
                break
    if seen:
        return seen.most_common(1)[0][0] + agency
    return agency


def agency_from_title(title: str) -> str | None:
    t = cn_years(squash(title))
    t = re.sub(r"^[《〈“\"]+|[》〉”\"]+$", "", t)
    m = re.search(r"(政府信息公开|政务公开|信息公开)", t)
    if not m:
        return None
    prefix = t[: m.start()]
    prefix = re.sub(r"(?:19|20)\d\d年(?:度)?", "", prefix)
    prefix = re.sub(r"(关于|的|度)$", "", prefix).strip("-—_：:，,")
    return prefix if len(prefix) >= 2 else None


def agency_from_text(text: str) -> str | None:
    head = squash(text[:1500])
    for pat in (r"本(?:年度)?报告(?:是)?由([\u4e00-\u9fff（）()]{2,40}?)(?:根据|依据|按照|编制|依照)",
                r"^([\u4e00-\u9fff（）()]{2,40}?)(?:根据|依据|按照)《"):
        m = re.search(pat, head)
        if m:
            return m.group(1)
    return None


def find_agency(title: str, text: str, meta: dict) -> str | None:
    """The publishing organ: as named in the title, else the page's 发布机构, else the
    opening sentence (which may name the office that compiled the report)."""
    a = (agency_from_title(title) or meta.get("发布机构") or agency_from_text(text)
         or meta.get("ContentSource"))
    return _qualify(a, text) if a else None


def _title(ex: Extracted) -> str:
    """The extractor's title if it names a report; else the document's first lines up to
    the one that does (PDF titles wrap: 「洪泽区人民政府」 / 「2023 年…年度报告」); else
    whatever title there is. PDF metadata titles are often 「Microsoft Word - 文档1」."""
    given = (ex.title or "").strip()
    if "报告" in given or "年报" in given:
        return given
    lines = [x.strip() for x in ex.text.splitlines() if x.strip()][:3]
    for k in range(1, len(lines) + 1):
        joined = " ".join(lines[:k])
        if ("报告" in joined or "年报" in joined) and len(joined) <= 80:
            return joined
    return given or (lines[0] if lines else "")


# ------------------------------------------------------------------ sections
_NUMERALS = "一二三四五六"
_SECTION_KEYS = {
    1: ("总体情况", "概述", "基本情况"),
    2: ("主动公开",),
    3: ("收到和处理", "依申请公开"),
    4: ("行政复议", "行政诉讼"),
    5: ("存在的主要问题", "问题", "改进"),
    6: ("其他需要报告", "其他事项", "其他"),
}


_HEADING = re.compile(r"^\s*(?:([一二三四五六])\s*[、.．]|第\s*([一二三四五六])\s*部\s*分\s*[、:：.]?)")


def _heading(line: str) -> tuple[int, str, str] | None:
    """(section no, title as printed, text after it on the same line) of a heading line.

    A heading is the whole (short) line, or the start of a paragraph up to the first
    full stop (「一、总体情况。2019年，…」)."""
    m = _HEADING.match(line)
    if not m:
        return None
    no = _NUMERALS.index(m.group(1) or m.group(2)) + 1
    stripped = line.strip()
    cut = re.search(r"[。；;：:]", stripped)
    if cut:
        title, rest = stripped[: cut.start()], stripped[cut.end():].strip()
    else:
        title, rest = stripped, ""
    if len(squash(title)) > 45:
        return None
    return (no, title, rest) if any(k in squash(title) for k in _SECTION_KEYS[no]) else None


def sections_of(text: str) -> list[Section]:
    lines = text.splitlines()
    heads: list[tuple[int, int, str, str]] = []  # (line index, section no, title, rest of line)
    for i, line in enumerate(lines):
        h = _heading(line)
        if h is not None and (not heads or h[0] > heads[-1][1]):
            heads.append((i, *h))
    out = []
    for k, (i, no, title, rest) in enumerate(heads):
        end = heads[k + 1][0] if k + 1 < len(heads) else len(lines)
        body = "\n".join([rest] + lines[i + 1: end]).strip()
        out.append(Section(no=no, title=title, text=body))
    return out


# ------------------------------------------------------------------ the parse
def _default_template(year: int | None) -> str:
    return "2019" if year in (2019, 2020) else "2021"


def parse_extracted(ex: Extracted) -> Report:
    title = _title(ex)
    sections = sections_of(ex.text)
    rep = Report(status=OK, title=title or None, container=ex.container, sections=sections)
    is_report, why = _report_signal(title, ex.text, sections)
    if not is_report:
        rep.status, rep.reason = NOT_A_REPORT, why
        return rep
    rep.report_year, year_src = report_year(title, ex.text)
    if year_src:
        rep.meta["year_from"] = year_src
    stated = years_stated(title, ex.text)
    if len(set(stated.values())) > 1:
        rep.issues.append(Issue("warning", "year_conflict", "the report states different years: " +
                                ", ".join(f"{k} {v}" for k, v in stated.items())))
    rep.agency = find_agency(title, ex.text, ex.meta)

    found = tables.interpret(ex.tables, ex.text)
    if rep.report_year is not None and rep.report_year < 2019:
        if found.cells:
            rep.meta["tables_ignored"] = "report predates the 2019 template"
        return rep  # a free-text report: no standard tables to look for
    if not found.cells:
        table_sections = [s.no for s in sections if s.no in (2, 3, 4)]
        if not table_sections:
            # Neither a table nor a table section: the document does not claim to hold
            # them (a summary, an abridged web version); say so without failing it.
            if rep.report_year is not None:
                rep.issues.append(Issue("warning", "no_tables",
                                        "no statistical tables and no table sections (二、三、四) in the document"))
            return rep
    rep.cells, rep.issues, rep.templates = found.cells, found.issues, dict(found.templates)
    default = rep.templates.get("2") or rep.templates.get("3") or _default_template(rep.report_year)
    for t in (2, 3, 4):
        if str(t) not in rep.templates:
            miss = tables.missing_table(t, default if t == 4 else _default_template(rep.report_year))
            rep.cells += miss.cells
            rep.issues += miss.issues
            rep.templates.update(miss.templates)
    missing = [c for c in rep.cells if c.value is None and c.reason]
    if missing:
        rep.status = EXTRACTION_INCOMPLETE
        rep.reason = f"{len(missing)} of {len(rep.cells)} cells could not be read"
    return rep
