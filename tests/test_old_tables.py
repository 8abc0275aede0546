"""The 2008–2018 统计表: both layouts, every container, 本年度 and 历年累计, units kept,
and a row whose figures run together is NULL with the reason, never split by guess."""
from __future__ import annotations

import pytest

from nianbao.devkit.generate import expected_cells, random_report, render_docx, render_html, render_many_pdf, render_text
from nianbao.pipeline import old_template
from nianbao.pipeline.document import parse_bytes

SPECS = [random_report(7100 + k, year=y) for k, y in enumerate((2008, 2010, 2011, 2013, 2014, 2015, 2017, 2018))]


def _compare(report, spec, where, unreadable=()):
    got = {(c.row, c.col): c for c in report.cells if c.table == "old"}
    want = {(e["row"], e["col"]): e["value"] for e in expected_cells(spec)}
    assert set(got) == set(want), (where, set(want) ^ set(got))
    for k, v in want.items():
        c = got[k]
        if k[0] in unreadable:
            assert c.value is None and "run together" in c.reason, (where, k, c)
        else:
            assert c.value == v and c.reason is None, (where, k, v, c.value, c.raw)
            assert c.label and c.unit, (where, k)
    assert report.templates == {"old": spec.layout["old_layout"]}


def test_both_layouts_and_both_column_sets_are_drawn():
    assert {s.layout["old_layout"] for s in SPECS} == {"2008", "2014"}
    assert any("old_cumulative" in s.variations for s in SPECS)
    assert any(s.layout["old_layout"] == "2008" and "old_cumulative" not in s.variations for s in SPECS)


@pytest.mark.parametrize("i", range(len(SPECS)))
def test_html_word_and_text(i):
    spec = SPECS[i]
    _compare(parse_bytes(render_html(spec), "x.html"), spec, "html")
    _compare(parse_bytes(render_docx(spec), "x.docx"), spec, "docx")
    for sep in ("\t", "  ", " "):
        _compare(parse_bytes(render_text(spec, separator=sep), "x.txt"), spec, f"text {sep!r}")


@pytest.mark.slow
def test_pdf():
    for spec, pdf in zip(SPECS, render_many_pdf(SPECS, via="docx")):
        _compare(parse_bytes(pdf, "x.pdf"), spec, "pdf")


def test_figures_run_together_are_null_with_the_reason():
    spec = next(s for s in SPECS if "old_cumulative" in s.variations)
    rows = ("requests.total", "answers.granted")
    report = parse_bytes(render_text(spec, run_together=rows), "x.txt")
    _compare(report, spec, "run together", unreadable=rows)
    assert report.status == "extraction_incomplete"


def test_a_figure_the_extractor_doubts_is_null_with_its_reason():
    """OCR read 「.4」 (a speck before the 4) and doubted it; the old table must not store 0.4."""
    from nianbao.pipeline.model import Grid, GridCell
    from nianbao.pipeline.old_tables import interpret

    doubt = "OCR read '.4': a mark at the edge of the figure, not trusted"
    grid = Grid([[GridCell("统计指标", {}), GridCell("单位", {}), GridCell("本年度", {})],
                 [GridCell("五、行政诉讼数量", {}), GridCell("件", {}), GridCell(".4", {"doubt": doubt})],
                 [GridCell("四、行政复议数量", {}), GridCell("件", {}), GridCell("2", {})]])
    cells = {c.row: c for c in interpret([grid], "", 2012).cells}
    assert (cells["suit.total"].value, cells["suit.total"].reason) == (None, doubt)
    assert cells["review.total"].value == 2


def test_labels_match_loosely_and_by_block():
    assert old_template.row_for("（一）维持具体行政行为数", "review").code == "review.upheld"
    assert old_template.row_for("（一）维持具体行政行为或者驳回原告诉讼请求数", "suit").code == "suit.upheld"
    assert old_template.row_for("不予（否决）公开答复数", None).code == "answers.denied"
    assert old_template.row_for("其中：网站公开信息数", None).code == "proactive.website"
    assert old_template.row_for("四、行政复议数量", None).code == "review.total"
    assert old_template.row_for("全年主动公开政府信息4000余条。", None) is None


def test_old_sections_are_recognised():
    text = ("某某县2012年政府信息公开工作年度报告\n一、概述\n本县…\n二、主动公开政府信息的情况\n…\n三、依申请公开政府信息情况\n…\n"
            "四、政府信息公开的收费及减免情况\n未收费。\n五、因政府信息公开申请行政复议、提起行政诉讼的情况\n无。\n"
            "六、政府信息公开工作存在的主要问题及改进情况\n…\n七、其他需要报告的事项\n无。").encode()
    r = parse_bytes(text, "x.txt")
    assert [s.no for s in r.sections] == [1, 2, 3, 7, 4, 5, 6]
