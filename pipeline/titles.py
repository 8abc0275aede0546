"""Whether a title names an annual report, and the year it covers: one rule for the
crawler (which list entries to follow) and the parser (is this document a report).
Pure functions over text."""
from __future__ import annotations

import re
import unicodedata

_CN_DIGITS = str.maketrans("〇零○Ｏ一二三四五六七八九", "0000123456789")

# A report names itself: 「…政府信息公开工作年度报告」, 「…政务公开年报」, 「信息公开年报」.
REPORT_NAME = re.compile(r"(政府信息公开|政务公开|信息公开).{0,12}(年度报告|年报|工作报告)|信息公开年报")
# What a list entry must say to be followed (columns abbreviate: 「2023年年报」).
REPORT_WORDS = re.compile(r"年度报告|年报")
# Entries about reports that are not reports: notices, guides, plans, readings of one.
ABOUT_REPORTS = re.compile(r"通知|要点|方案|编制|报送|流程图|指南|制度|目录|解读|征集|会议")
# Document kinds a title ends with when it is not a report.
NOTICE_END = re.compile(r"(通知|公告|通告|通报|决定|批复|函|意见|办法|方案|规定)$")
BUDGET = re.compile(r"预算|决算")
_YEAR = re.compile(r"((?:19|20)\d\d)年度?")


def squash(s: str) -> str:
    """NFKC, no whitespace: PDF text puts spaces around digits (「2023 年」)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s or ""))


def cn_years(s: str) -> str:
    """「二〇二三年」 → 「2023年」 (year numerals only, written digit by digit)."""
    return re.sub(r"[〇零○Ｏ一二三四五六七八九]{4}(?=年)", lambda m: m.group(0).translate(_CN_DIGITS), s)


def title_year(title: str | None) -> int | None:
    """The first year a title names (「2023年」, 「2023年度」, 「二〇二三年」)."""
    m = _YEAR.search(cn_years(squash(title or "")))
    return int(m.group(1)) if m else None


def is_report_title(title: str | None, pattern: str | None = None) -> bool:
    """A list entry worth following: it names a year and 年度报告/年报 and is not a
    notice about reports. A site's own `title_pattern` replaces the rule."""
    t = squash(title or "")
    if pattern:
        return re.search(pattern, t) is not None
    return bool(REPORT_WORDS.search(t)) and title_year(t) is not None and not ABOUT_REPORTS.search(t)
