"""The report's own heading: its title as printed and the organ that publishes it.

Read by layout, not by sample. The title is the heading printed at the top of the
report, joined when it wraps (「淮安市洪泽区人民政府」 / 「2024 年政府信息公开工作年度
报告」 is one title); document metadata (PDF Title, <title>, ArticleTitle) is only a
fallback, because publishers leave it generic or stale. The agency is the organ the
title names, its place prefix completed from the report's opening text when the title
abbreviates it (「洪泽区人民政府」 → 「淮安市洪泽区人民政府」). Page chrome never names it:
footers (主办单位), breadcrumbs, site names and sidebars stand outside the report, and
the sentence 「本报告由…办公室编制」 names whoever compiled the report, not who publishes
it. A title that names no organ falls back to the signature (落款) at the end of the
report; two organs (联合发布), or none anywhere, leave the agency NULL with a reason.

Pure functions over the extracted text lines.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .titles import REPORT_NAME, cn_years, squash

# The report's name, at the end of its title (a parenthesised note may follow:
# 「（全文）」「（2023年度）」).
_REPORT_END = re.compile(r"(政府信息公开|政务公开|信息公开)(?:工作)?(?:年度)?(?:工作)?(?:年度报告|年报|报告)$")
_TAIL_NOTE = re.compile(r"[（(][^（()）]{1,16}[)）]$")
_YEAR = re.compile(r"(?:19|20)\d\d年度?")
_QUOTES = "《》〈〉“”\"'「」【】[]"
# Lines that are labels, navigation or page furniture, never a heading.
_LABEL = re.compile(r"^(索引号|名称|标题|文号|发文字号|主题分类|发布机构|发文机关|成文日期|发布日期|发布时间|生成日期|"
                    r"来源|信息来源|作者|浏览|访问|点击|字号|分享|打印|关闭|当前位置|您的位置|首页|主办|承办|协办|"
                    r"版权|技术支持|联系|地址|电话|邮编|网站标识码|ICP|备案|政务服务|扫一扫)")
_DATE = re.compile(r"(?:19|20)\d\d[-./年]\d{1,2}[-./月]\d{1,2}|[〇零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,3}月")
_FULL_DATE = re.compile(r"^(?:(?:19|20)\d\d年\d{1,2}月\d{1,2}日|[〇零○一二三四五六七八九]{4}年[一二三四五六七八九十]{1,3}月"
                        r"[一二三四五六七八九十]{1,3}日|(?:19|20)\d\d[-./]\d{1,2}[-./]\d{1,2})$")
# What the name of a publishing organ ends with: an office, or a place that publishes
# in its own name (「某某县2023年…」 is the county's government).
_ORGAN_END = re.compile(r"(?:人民政府|政府|办公厅|办公室|委员会|管委会|局|厅|委|署|院|办|中心|所|站|队|处|集团|公司|"
                        r"监狱|学校|大学|医院|银行|馆|社|会|省|市|县|区|旗|州|盟|镇|乡|街道|园区|开发区|新区|示范区|实验区)$")
_JOINT = re.compile(r"[、，,和与及暨/]")
# Place names that head a chain: a title starting with one of these names its organ in
# full; one starting at county level or below may abbreviate (洪泽区人民政府).
_UPPER_PLACE = re.compile(r"^[^区县旗镇乡街]{1,9}?(?:省|自治区|特别行政区|市(?!场|政|容|民|直|属|级)|自治州|州|盟|地区)"
                          r"(?![区县旗])")  # 鄞州区, 通州区: a district whose name holds 州
_PLACE_CHAIN = re.compile(r"^(?:[\u4e00-\u9fff]{1,8}?(?:省|市|自治区|自治州|州|盟|地区|县|区|旗))+$")
_BOUNDARY = set("由与和及是为对在向经据按了的、，。；：“”《》（）() \n\t") | {""}
_SENTENCE = re.compile(r"[。；;！!？?，,]")

MAX_TITLE_LINES = 3
HEAD_LINES = 120  # where a title may stand: portal pages put navigation before the article


@dataclass
class Heading:
    title: str | None  # as printed, joined over its lines
    title_from: str | None  # "heading" (printed in the document) or "metadata"
    agency: str | None  # the publishing organ in full
    agency_titled: str | None  # as the title (or signature) prints it
    agency_from: str | None  # "title" | "signature"
    reason: str | None  # why agency is NULL
    body_start: int  # index of the first line after the title
    misread: str | None = None  # the organ as OCR read it in the title, when the text prints it otherwise


def tidy(text: str) -> str:
    """Spaces that text extraction put beside CJK characters go, and so do those inside
    a figure (OCR reads a wide-set 「2016」 as 「2 016」); spaces between Latin words stay
    (「2023 年」 → 「2023年」)."""
    t = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])|(?<=\d) (?=\d)", "", t)


def _core(s: str) -> str:
    """A title without quotes, a leading 关于 and a parenthesised tail note."""
    s = squash(cn_years(s)).strip(_QUOTES)
    s = _TAIL_NOTE.sub("", s).strip(_QUOTES)
    return s[2:] if s.startswith("关于") else s


def _heading_like(line: str, limit: int = 60, shortest: int = 2) -> bool:
    s = squash(line)
    return (shortest <= len(s) <= limit and not _SENTENCE.search(s) and not _LABEL.match(s)
            and not _DATE.search(s) and not s.startswith(("http", "www")))


def _organ_line(line: str) -> bool:
    s = squash(line)
    return _heading_like(line, 40) and bool(_ORGAN_END.search(s)) and not _YEAR.search(cn_years(s)) \
        and not _REPORT_END.search(s)


def is_title(text: str) -> bool:
    """Does this (joined) text read as a whole report title: a year and the report's name at the end?"""
    core = _core(text)
    return bool(_REPORT_END.search(core)) and bool(_YEAR.search(core))


def organ_of_title(title: str) -> tuple[str | None, str | None]:
    """(organ as the title prints it, or None and why)."""
    organ = _title_prefix(title)
    if organ is None:
        return None, "the title does not name a 政府信息公开 report"
    if not organ:
        return None, "the title names no organ"
    parts = [p for p in _JOINT.split(organ) if p]
    if len(parts) > 1 and sum(bool(_ORGAN_END.search(p)) for p in parts) > 1:
        return None, f"the title names more than one organ (联合发布): {'、'.join(parts)}"
    if not _ORGAN_END.search(organ):
        return None, f"the title's prefix 「{organ}」 does not read as an organ"
    return organ, None


def _title_prefix(title: str) -> str | None:
    """What the title prints before (or after) its year: the organ's place in it. None
    when the title does not name the report."""
    core = _core(title)
    m = _REPORT_END.search(core)
    if not m:
        return None
    head = core[: m.start()]
    years = list(_YEAR.finditer(head))
    if years:  # 「某局2023年…」 or 「2023年某局…」: the organ stands before or after the year
        before, after = head[: years[0].start()], head[years[-1].end():]
        head = before or after
    return re.sub(r"(?:关于|的|度|年)$", "", head).strip("-—_：:，, ")


def find_heading(lines: list[str], fallback_title: str | None = None, read_by_ocr: bool = False) -> Heading:
    """The title printed at the top of the report and the organ it names. `read_by_ocr`:
    the page the heading stands on was read from pixels, where a character of the organ
    can be lost (`attested`)."""
    title, start, end = _printed_title(lines)
    title_from = "heading" if title else None
    if not title and fallback_title and REPORT_NAME.search(squash(fallback_title)):
        title, title_from = tidy(fallback_title), "metadata"
    organ, reason = organ_of_title(title) if title else (None, "no report title printed, none in the metadata")
    agency_from = "title" if organ else None
    if organ is None and not (reason or "").startswith("the title names more than one organ"):
        signed = signature(lines[end:])
        if signed:
            organ, reason, agency_from = signed, None, "signature"
    misread = None
    # Only a heading read from the page: a title from the metadata (an image article's
    # HTML <title>, a document's properties) was typed, and is kept as typed.
    from_pixels = read_by_ocr and title_from == "heading"
    read = (organ if agency_from == "title" else _title_prefix(title)) if from_pixels else None
    above = squash(lines[start - 1]) if read == "" and start > 0 and title_from == "heading" else None
    better = attested(read or above or "", "\n".join(lines[end:])) if read or above else None
    if better and _ORGAN_END.search(better):
        # A lost character can leave the reading no organ at all (「…人民府」), and the
        # organ's own line above 「2023年…报告」 then no longer joins the title.
        misread, organ, agency_from, reason = read or above, better, "title", None
        title = better + title if above else _replace_squashed(title, misread, better)
    opening = "\n".join(_opening(lines[end:]))
    full = complete(organ, opening) if organ else None
    return Heading(title=title, title_from=title_from, agency=full, agency_titled=organ,
                   agency_from=agency_from, reason=None if organ else reason, body_start=end, misread=misread)


def attested(organ: str, body: str) -> str | None:
    """The organ's name as the report's text prints it, when OCR lost one character of it
    in the title: the recogniser drops a glyph now and then (「绵阳市涪城区…」 read as
    「绵阳市城区…」), rarely the same one in every line. A name one character longer that
    holds the title's reading in order, printed at least twice and more often than the
    reading itself, is the name. None when the text does not say otherwise."""
    flat = squash(body)
    found: Counter[str] = Counter()
    for i in range(1, len(organ)):
        pattern = re.escape(organ[:i]) + "[\u4e00-\u9fff]" + re.escape(organ[i:])
        found.update(m.group(0) for m in re.finditer(pattern, flat))
    if not found:
        return None
    name, n = found.most_common(1)[0]
    return name if n >= 2 and n > flat.count(organ) else None


def _replace_squashed(title: str, old: str, new: str) -> str:
    """`title` with `old` (as found in its squashed form) replaced by `new`."""
    if old in title:
        return title.replace(old, new, 1)
    flat = squash(title)
    return flat.replace(old, new, 1) if old in flat else title


def _printed_title(lines: list[str]) -> tuple[str | None, int, int]:
    """(title, first line, line after it). The title is the last heading-like window of
    1–3 lines that reads as a whole title before the report's body begins: sidebars and
    'related reports' boxes stand before the article or after its body."""
    found: tuple[str, int, int] | None = None
    limit = min(len(lines), HEAD_LINES)
    for i in range(limit):
        if found and _body_begins(lines[i]):
            break
        for n in range(1, MAX_TITLE_LINES + 1):
            window = lines[i: i + n]
            # a wrapped title may leave a single character on its last line (「…年度报」/「告」)
            if len(window) < n or not all(_heading_like(x, shortest=2 if k == 0 else 1) for k, x in enumerate(window)):
                break
            joined = "".join(squash(x) for x in window)
            if is_title(joined):
                start = i
                organ, _ = organ_of_title(joined)
                if organ is None and i > 0 and _organ_line(lines[i - 1]):
                    start = i - 1  # 「淮安市洪泽区人民政府」 above 「2024 年政府信息公开工作年度报告」
                if found is None or start >= found[1]:
                    found = (tidy("".join(lines[start: i + n])), start, i + n)
                break
    return found if found else (None, 0, 0)


def _opening(body: list[str], limit: int = 12) -> list[str]:
    """The report's opening text: its first lines up to the second section heading,
    without labelled page furniture (a short page's footer follows the report closely)."""
    out, heads = [], 0
    for line in body[:limit]:
        s = squash(line)
        if re.match(r"^(?:[一二三四五六七八九十]+[、.．]|第[一二三四五六]部分)", s):
            heads += 1
            if heads == 2:
                break
        if not _LABEL.match(s):
            out.append(line)
    return out


def _body_begins(line: str) -> bool:
    """The report's own text has started: a sentence, or the first section heading."""
    s = squash(line)
    return len(s) > 60 or "。" in s or bool(re.match(r"^(?:[一二三四五六七八九十]+[、.．]|第[一二三四五六]部分|（一）)", s))


def signature(lines: list[str]) -> str | None:
    """The organ signing the report: a name line followed by a full date (落款)."""
    found = None
    for a, b in zip(lines, lines[1:]):
        if _organ_line(a) and _FULL_DATE.match(squash(b)):
            found = squash(a)
    return found


def complete(agency: str, opening: str) -> str:
    """「洪泽区人民政府」 in the title, 「淮安市洪泽区人民政府」 in the opening text: the full
    name. Only a title that starts below the prefecture level abbreviates; the prefix
    must be a chain of place names standing at a word boundary (「请与淮安市…」 gives
    淮安市, not 与淮安市 or 安市)."""
    if _UPPER_PLACE.match(agency):
        return agency
    flat = squash(opening)
    seen: Counter[str] = Counter()
    for m in re.finditer(re.escape(agency), flat):
        before = flat[max(0, m.start() - 12): m.start()]
        for k in range(2, len(before) + 1):  # the shortest place chain standing at a boundary
            p = before[-k:]
            edge = before[-k - 1] if k < len(before) else ""
            if any(ch in _BOUNDARY for ch in p):
                break
            if _PLACE_CHAIN.match(p) and (edge in _BOUNDARY or not "\u4e00" <= edge <= "\u9fff"):
                seen[p] += 1
                break
    return seen.most_common(1)[0][0] + agency if seen else agency
