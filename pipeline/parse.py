"""Extracted document → canonical Report: is it a report, whose, for which year, its six
sections and the cells of tables 2–4. Pure; the reconciliation rules and the final
status are `pipeline.validate`'s job (we set "ok", "extraction_incomplete" or
"not_a_report" from what extraction achieved).
"""
from __future__ import annotations

import re

from . import agencies, heading, old_tables, prose, tables
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


# ------------------------------------------------------------------ sections
_NUMERALS = "一二三四五六七八九十"
# What a heading's words say it is, asked in this order (「因政府信息公开申请行政复议…」
# is about reviews, not requests). Numbers as in the official template; 7 is the
# 收费及减免 section that only reports for 2008–2018 have.
SECTION_KINDS = [
    (7, ("收费", "减免")),
    (4, ("行政复议", "行政诉讼")),
    (5, ("存在的主要问题", "问题", "改进", "不足")),
    (6, ("其他需要报告", "其他事项", "其他")),
    (2, ("主动公开",)),
    (3, ("收到和处理", "依申请公开", "申请")),
    (1, ("总体情况", "概述", "基本情况", "工作概况", "总体")),
]
_HEADING = re.compile(r"^\s*(?:([一二三四五六七八九十])\s*[、.．]|第\s*([一二三四五六七八九十])\s*部\s*分\s*[、:：.]?)")


def _heading(line: str) -> tuple[int, int, str, str] | None:
    """(printed numeral, section no, title as printed, text after it on the same line)
    of a heading line. The section is told by the heading's words, not its numeral:
    reports before 2019 print 四、收费及减免 where later ones print 四、行政复议.

    A heading is the whole (short) line, or the start of a paragraph up to the first
    full stop (「一、总体情况。2019年，…」)."""
    m = _HEADING.match(line)
    if not m:
        return None
    numeral = _NUMERALS.index(m.group(1) or m.group(2)) + 1
    stripped = line.strip()
    cut = re.search(r"[。；;：:]", stripped)
    if cut:
        title, rest = stripped[: cut.start()], stripped[cut.end():].strip()
    else:
        title, rest = stripped, ""
    if len(squash(title)) > 45:
        return None
    words = squash(title)
    for no, keys in SECTION_KINDS:
        if any(k in words for k in keys):
            return numeral, no, title, rest
    return None


def sections_of(text: str) -> list[Section]:
    lines = text.splitlines()
    heads: list[tuple[int, int, int, str, str]] = []  # (line index, numeral, section no, title, rest of line)
    for i, line in enumerate(lines):
        h = _heading(line)
        # numerals run upwards and each section comes once: a list inside a section
        # (「一、…」 again) is not a new section
        if h is not None and (not heads or h[0] > heads[-1][1]) and h[1] not in {x[2] for x in heads}:
            heads.append((i, *h))
    out = []
    for k, (i, _, no, title, rest) in enumerate(heads):
        end = heads[k + 1][0] if k + 1 < len(heads) else len(lines)
        body = "\n".join([rest] + lines[i + 1: end]).strip()
        out.append(Section(no=no, title=title, text=body))
    return out


# ------------------------------------------------------------------ the parse
def unreadable(ex: Extracted) -> str | None:
    """Why the document's text could not be read, if it could not: then "not a report"
    cannot be concluded from its text, and the report is incomplete instead."""
    if ex.meta.get("scanned"):
        what = "scanned PDF" if ex.container == "pdf" else f"{ex.container.upper()} drawn as images or outlines"
        done = (ex.meta.get("ocr") or {}).get("pages")
        if done:  # OCR ran and read nothing: asking for OCR again would send the user in a circle
            small = sum(1 for d in done if d.get("too_small"))
            blank = sum(1 for d in done if d.get("blank"))
            return (f"{what}: OCR read no text on its {len(done)} page(s)"
                    + (f" ({blank} blank, {small} too small or too narrow to be a page)" if blank or small else "")
                    + ": not a readable document, or a scan too faint/damaged to read; the bytes are kept")
        return (f"{what}, without a text layer: its text and figures need OCR (experimental: "
                "NIANBAO_OCR=1 with the `ocr` extra installed, then `nianbao reparse`); the bytes are kept")
    garbled = ex.meta.get("garbled_chars", 0)
    if garbled and garbled >= 0.2 * max(1, len(ex.text.strip())):
        return (f"garbled text layer ({garbled} characters without a Unicode mapping): the text needs OCR, "
                "which is not done for a page with a text layer; the bytes are kept")
    return None


def _default_template(year: int | None) -> str:
    return "2019" if year in (2019, 2020) else "2021"


def parse_extracted(ex: Extracted) -> Report:
    rep = _parse(ex)
    # A gap is never `ok`: a page the extractor could not read to its end, or a page
    # without one readable figure that points to its attachment (the figures are
    # there; if the attachment could not be fetched or read, nothing here may stand in
    # for it). validate() keeps the status for an `extraction` issue.
    why, code = None, None
    if ex.incomplete:
        why, code = ex.incomplete, ex.meta.get("incomplete_code", "truncated")
    elif ex.meta.get("attachment_pointer") and rep.status == OK and not any(c.value is not None for c in rep.cells):
        ptr = ex.meta["attachment_pointer"]
        shown = ptr.get("text") or "附件 link"
        links = ", ".join(ptr.get("links", [])[:3])
        why = (f"no readable figures on this page, which points to an attachment ({shown}"
               f"{': ' + links if links else ''}): the figures are in the attachment")
        code = "in_attachment"
    if why:
        rep.issues.insert(0, Issue("extraction", code, why))
        if rep.status in (OK, NOT_A_REPORT):
            rep.status, rep.reason = EXTRACTION_INCOMPLETE, why
        elif rep.status == EXTRACTION_INCOMPLETE:
            rep.reason = f"{why}; {rep.reason}" if rep.reason else why
    return rep


def _parse(ex: Extracted) -> Report:
    lines = [x.strip() for x in ex.text.splitlines() if x.strip()]
    ocr_pages = {p.get("page") for p in (ex.meta.get("ocr") or {}).get("pages", []) if isinstance(p, dict)}
    head = heading.find_heading(lines, ex.title, read_by_ocr=1 in ocr_pages)
    body = "\n".join(lines[head.body_start:])  # the report after its title: no portal chrome above
    title = head.title or (ex.title or "").strip()  # a notice's own title tells it is a notice
    sections = sections_of(ex.text)
    rep = Report(status=OK, title=title or None, container=ex.container, sections=sections)
    unread = unreadable(ex)
    is_report, why = _report_signal(title, ex.text, sections)
    if unread and (not is_report or not ex.text.strip()):
        # Nothing to judge by: a scan is not evidence of a non-report. Say what to do.
        rep.status, rep.reason = EXTRACTION_INCOMPLETE, unread
        rep.issues.append(Issue("extraction", "needs_ocr", unread))
        return rep
    if not is_report:
        rep.status, rep.reason = NOT_A_REPORT, why
        return rep
    rep.title, rep.agency, rep.agency_titled = head.title, head.agency, head.agency_titled
    rep.meta.update({k: v for k, v in (("title_from", head.title_from), ("agency_from", head.agency_from)) if v})
    if head.misread:
        rep.meta["agency_ocr_read"] = head.misread
        rep.issues.append(Issue("warning", "agency_misread", f"OCR read the title's organ as 「{head.misread}」; "
                                f"the report's text prints 「{head.agency_titled}」, which is taken"))
    if head.title is None:
        rep.meta["title_reason"] = "no report title printed in the document or named in its metadata"
    if head.agency is None:
        rep.meta["agency_reason"] = head.reason
    place = agencies.identify(head.agency)
    rep.adcode, rep.province, rep.city, rep.county, rep.agency_id = (
        place["adcode"], place["province"], place["city"], place["county"], place["agency_id"])
    rep.meta.update({k: place[k] for k in ("region_reason", "renamed_from") if place.get(k)})
    rep.report_year, year_src = report_year(title, body)
    if year_src:
        rep.meta["year_from"] = year_src
    stated = years_stated(title, body)
    if len(set(stated.values())) > 1:
        rep.issues.append(Issue("warning", "year_conflict", "the report states different years: " +
                                ", ".join(f"{k} {v}" for k, v in stated.items())))

    if rep.report_year is not None and rep.report_year < 2019:
        # Before the national template: the older 统计表, when the report prints one.
        old = old_tables.interpret(ex.tables, body, rep.report_year)
        rep.cells, rep.issues = old.cells, rep.issues + old.issues
        if old.cells:
            rep.templates["old"] = old.layout
            missing = [c for c in old.cells if c.value is None and c.reason]
            if missing:
                rep.status = EXTRACTION_INCOMPLETE
                rep.reason = f"{len(missing)} of {len(old.cells)} figures of the statistics table could not be read"
        _scanned_pages(rep, ex)
        _prose(rep, body)
        return rep
    found = tables.interpret(ex.tables, ex.text)
    if not found.cells:
        table_sections = [s.no for s in sections if s.no in (2, 3, 4)]
        if not table_sections:
            # Neither a table nor a table section: the document does not claim to hold
            # them (a summary, an abridged web version); say so without failing it.
            if rep.report_year is not None and not _scanned_pages(rep, ex):
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
    _scanned_pages(rep, ex)
    _prose(rep, body)
    return rep


def _scanned_pages(rep: Report, ex: Extracted) -> bool:
    """Pages without a text layer in a text report: if anything is missing, they are
    the likely reason, and the report is incomplete (not "ok without tables")."""
    pages = ex.meta.get("pages_without_text")
    if not pages:
        return False
    missing = not rep.cells or any(c.value is None and c.reason for c in rep.cells)
    kind = "extraction" if missing else "warning"
    rep.issues.append(Issue(kind, "needs_ocr", f"pages {pages} are scans without a text layer: "
                            "their text and figures need OCR (experimental: NIANBAO_OCR=1)"))
    if missing:
        rep.status = EXTRACTION_INCOMPLETE
        rep.reason = "; ".join(filter(None, (rep.reason, rep.issues[-1].message)))
    return True


def _prose(rep: Report, body: str) -> None:
    """Figures the text states, checked against the tables (issues of kind prose)."""
    issues, found = prose.check(body, rep.cells)
    rep.issues += issues
    if found:
        rep.meta["prose_figures"] = found
