"""Title and agency are read by layout, not by sample: every combination of how the
title wraps, where it stands, what the page around it says and what the metadata
claims, in every container, gives the title as printed and the agency it names."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from nianbao.devkit.generate import random_report, render_docx, render_html, render_many_pdf
from nianbao.pipeline.document import parse_bytes
from nianbao.pipeline.heading import find_heading, organ_of_title

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "samples"

LINES = (set(), {"title_two_lines"}, {"title_three_lines"})
AGENCIES = ("淮安市洪泽区人民政府", "苏州市吴中区教育局", "常熟市统计局", "浙江省财政厅", "南京市江宁区东山镇人民政府")


def _layouts() -> list[dict]:
    """A deterministic spread over the title variations: every wrap × year first or not,
    each with a different mix of table cell, chrome, abbreviation, metadata, compiler."""
    out = []
    extras = itertools.cycle([set(), {"title_in_table", "chrome_other_organ"}, {"title_abbrev", "meta_title_generic"},
                              {"compiled_by_office", "chrome_other_organ", "title_abbrev"},
                              {"title_in_table", "meta_title_generic", "compiled_by_office"}])
    for k, (lines, first) in enumerate(itertools.product(LINES, (False, True))):
        for j in range(2):
            var = set(lines) | next(extras) | ({"year_first_title"} if first else set())
            out.append(dict(seed=7000 + 10 * k + j, year=(2016, 2021, 2023)[(k + j) % 3],
                            agency=AGENCIES[(k + 2 * j) % len(AGENCIES)], variations=var))
    return out


SPECS = [random_report(**c) for c in _layouts()]


@pytest.fixture(scope="module")
def pdfs():
    return {"pdf-html": render_many_pdf(SPECS, via="html"), "pdf-docx": render_many_pdf(SPECS, via="docx")}


def _check(report, spec, where):
    got = (report.title, report.agency, report.agency_titled)
    want = (spec.title, spec.agency, spec.agency_titled)
    assert got == want, (where, sorted(spec.variations), spec.title_lines)


def test_the_layouts_cover_every_title_variation():
    seen = set().union(*(s.variations for s in SPECS))
    assert {"title_two_lines", "title_three_lines", "year_first_title", "title_abbrev", "title_in_table",
            "chrome_other_organ", "meta_title_generic", "compiled_by_office"} <= seen


@pytest.mark.parametrize("i", range(len(SPECS)))
def test_html_page_and_word_file(i):
    spec = SPECS[i]
    _check(parse_bytes(render_html(spec), "page.html"), spec, "html page")
    _check(parse_bytes(render_html(spec, full_page=False), "body.html"), spec, "html body")
    _check(parse_bytes(render_docx(spec), "report.docx"), spec, "docx")


@pytest.mark.slow
@pytest.mark.parametrize("via", ("pdf-html", "pdf-docx"))
def test_pdf(via, pdfs):
    for spec, pdf in zip(SPECS, pdfs[via]):
        _check(parse_bytes(pdf, "report.pdf"), spec, via)


def test_real_samples():
    hz = parse_bytes((SAMPLES / "huaian-hongze-2023.pdf").read_bytes(), "hz.pdf")
    assert (hz.title, hz.agency, hz.agency_titled) == (
        "洪泽区人民政府2023年政府信息公开工作年度报告", "淮安市洪泽区人民政府", "洪泽区人民政府")
    sh = parse_bytes((SAMPLES / "shanghai-bgt-2019.html").read_bytes(), "sh.html")
    assert (sh.title, sh.agency) == ("2019年上海市人民政府办公厅政府信息公开工作年度报告", "上海市人民政府办公厅")
    wz = parse_bytes((SAMPLES / "wuzhong-jinji-2023.txt").read_bytes(), "wz.txt")
    assert (wz.title, wz.agency) == ("宁夏吴忠金积工业园区管委会2023年政府信息公开工作年度报告", "宁夏吴忠金积工业园区管委会")


def test_next_years_report_of_the_same_agency():
    """Issue 9's reproduction: the agency on line 1, the year on line 2, a generic
    metadata title, and an opening sentence naming the office that compiled it."""
    lines = ["淮安市洪泽区人民政府", "2024 年政府信息公开工作年度报告",
             "本报告由淮安市洪泽区人民政府办公室根据《中华人民共和", "国政府信息公开条例》要求编制此报告。", "一、总体情况",
             "2024 年，洪泽区人民政府坚持以习近平新时代中国特色社会主义思想为指导。"]
    h = find_heading(lines, "政府信息公开工作年度报告")
    assert (h.title, h.agency, h.agency_titled, h.title_from) == (
        "淮安市洪泽区人民政府2024年政府信息公开工作年度报告", "淮安市洪泽区人民政府", "淮安市洪泽区人民政府", "heading")


def test_portal_chrome_naming_another_organ_is_not_the_agency():
    """A TRS article page: site name, breadcrumbs, a box of other reports and a footer
    主办单位 that names the portal's office, around the report of the zone's 管委会."""
    page = """<html><head><meta charset="utf-8"><title>平潭综合实验区2023年政府信息公开工作年度报告_福建省平潭综合实验区门户网站</title>
<meta name="SiteName" content="平潭综合实验区门户网站"></head><body>
<div class="top">福建省平潭综合实验区管理委员会</div>
<div class="crumb">当前位置：首页 &gt; 政务公开 &gt; 政府信息公开年报</div>
<div class="right"><ul><li><a href="a.htm">平潭综合实验区2022年政府信息公开工作年度报告</a></li>
<li><a href="b.htm">平潭综合实验区经济发展局2023年政府信息公开工作年度报告</a></li></ul></div>
<div class="xl-bt">平潭综合实验区2023年政府信息公开工作年度报告</div>
<div class="TRS_Editor"><p>本报告依据《中华人民共和国政府信息公开条例》编制，由平潭综合实验区党工委管委会办公室负责。</p>
<p>一、总体情况</p><p>2023年，平潭综合实验区坚持以公开为常态、不公开为例外，全面推进政务公开。</p>
<p>二、主动公开政府信息情况</p><p>三、收到和处理政府信息公开申请情况</p></div>
<div class="foot">主办单位：福建省平潭综合实验区管理委员会办公室 承办：平潭综合实验区电子政务中心 网站标识码：3599000001</div>
</body></html>""".encode()
    r = parse_bytes(page, "t20240120_1.htm")
    assert (r.title, r.agency, r.agency_titled) == ("平潭综合实验区2023年政府信息公开工作年度报告", "平潭综合实验区",
                                                   "平潭综合实验区")


@pytest.mark.parametrize("title,agency,reason", [
    ("XX市人民政府办公室、XX市政务服务数据管理局2023年政府信息公开工作年度报告", None, "more than one organ"),
    ("2023年政府信息公开工作年度报告", None, "names no organ"),
    ("某某县交通运输局2023年政府信息公开工作年度报告", "某某县交通运输局", None),
])
def test_titles_that_name_two_organs_or_none(title, agency, reason):
    organ, why = organ_of_title(title)
    assert organ == agency and (reason is None or reason in why)


def test_a_report_without_a_title_says_so():
    text = "一、总体情况\n2023年，本局认真贯彻《条例》。\n二、主动公开政府信息情况\n三、收到和处理政府信息公开申请情况\n".encode()
    r = parse_bytes(text, "x.txt")
    assert r.title is None and r.agency is None
    assert r.meta["title_reason"] and r.meta["agency_reason"]


ORGANS = ["绵阳市涪城区应急管理局", "淮安市洪泽区人民政府", "国家税务总局杭州市税务局", "北京市朝阳区三间房乡人民政府"]


def _lost_one(name: str, i: int) -> str:
    return name[:i] + name[i + 1:]


@pytest.mark.parametrize("organ", ORGANS)
@pytest.mark.parametrize("wrap", [False, True])
def test_a_character_ocr_lost_in_the_title_is_taken_from_the_text(organ, wrap):
    """OCR drops a glyph of the title's organ (any one of them); the opening, the body
    and the signature print the name whole: the name is taken from the text, the title
    completed, and what OCR read is kept. Not when the text was typed (no OCR)."""
    for i in range(1, len(organ) - 1):
        misread = _lost_one(organ, i)
        title = [misread, "2023年政府信息公开工作年度报告"] if wrap else [f"{misread}2023年政府信息公开工作年度报告"]
        body = ["本报告根据《条例》要求，由" + organ + "编制。", "一、总体情况",
                f"2023年，{organ}坚持公开为常态。如有疑问请与{misread}联系。", organ, "2024年1月20日"]
        h = find_heading(title + body, read_by_ocr=True)
        assert (h.agency_titled, h.misread) == (organ, misread), (i, h)
        assert h.title.replace(" ", "") == f"{organ}2023年政府信息公开工作年度报告"
        typed = find_heading(title + body)
        assert typed.misread is None and organ not in typed.title.replace(" ", "")  # typed: as printed


@pytest.mark.parametrize("organ", ORGANS)
def test_a_typed_title_from_the_metadata_is_kept_when_the_pages_were_ocrd(organ):
    """An image article: its pages were read by OCR but print no title, and the title
    comes from the article's HTML, typed. A longer name in the text does not change it."""
    misread = _lost_one(organ, 2)
    body = ["一、总体情况", f"2023年，{organ}坚持公开为常态。", f"{organ}推进公开。", organ, "2024年1月20日"]
    h = find_heading(body, fallback_title=f"{misread}2023年政府信息公开工作年度报告", read_by_ocr=True)
    assert h.title_from == "metadata" and h.misread is None
    assert h.agency_titled == misread and organ not in h.title.replace(" ", "")


@pytest.mark.parametrize("organ", ORGANS)
def test_a_title_the_text_does_not_contradict_is_kept(organ):
    """The title's organ stands when the text prints no longer name, prints one only
    once, or prints the title's reading as often: an abbreviation is not a misreading."""
    title = f"{organ}2023年政府信息公开工作年度报告"
    longer = organ[:2] + "新" + organ[2:]
    for body in (["一、总体情况", f"{organ}坚持公开。"],
                 ["一、总体情况", f"{longer}坚持公开。", f"{organ}推进公开。"],
                 ["一、总体情况", f"{longer}坚持公开。", f"{longer}推进。", f"{organ}落实。", f"{organ}。"]):
        h = find_heading([title] + body, read_by_ocr=True)
        assert (h.agency_titled, h.misread) == (organ, None), body


@pytest.mark.parametrize("organ", ORGANS)
@pytest.mark.parametrize("year", ["2 016", "20 16", "2 0 1 6", "201 6 "])
@pytest.mark.parametrize("wrap", [False, True])
def test_a_year_ocr_read_with_spaces_inside_is_one_figure_in_the_title(organ, year, wrap):
    """OCR reads a wide-set year with spaces inside it (「2 016 年」): the title has the
    year whole, on one line or wrapped after the organ, year first or last."""
    for first in (False, True):
        head = [f"{year} 年{organ}政府信息公开工作年度报告"] if first else \
            ([organ, f"{year} 年政府信息公开工作年度报告"] if wrap else [f"{organ}{year} 年政府信息公开工作年度报告"])
        h = find_heading(head + ["一、总体情况", f"2016年，{organ}坚持公开为常态。"], read_by_ocr=True)
        want = f"2016年{organ}政府信息公开工作年度报告" if first else f"{organ}2016年政府信息公开工作年度报告"
        assert (h.title, h.agency_titled) == (want, organ), (head, h)
