"""HTML, DOCX and plain-text extractors on real bytes built here (GBK pages that lie about
their charset, Word tables with merged cells)."""
from __future__ import annotations

import io

import docx
import pytest

from nianbao.pipeline.extract.docx import DocxError, extract_docx
from nianbao.pipeline.extract.html import extract_html
from nianbao.pipeline.extract.txt import extract_txt
from nianbao.pipeline.parse import parse_extracted

PAGE = """<!DOCTYPE html><html><head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<meta name="SiteName" content="某某市人民政府"><meta name="ColumnName" content="政府信息公开年报">
<meta name="ArticleTitle" content="某某县民政局2023年政府信息公开工作年度报告">
<meta name="PubDate" content="2024-01-20"><meta name="ContentSource" content="某某县民政局">
<title>某某县民政局2023年政府信息公开工作年度报告_某某市人民政府</title>
<script>document.write("<p>不是正文</p>");</script><style>p {{color: red}}</style></head>
<body><div class="xxgk"><p><strong>索引号</strong>：000014348/2024-00001</p><p><strong>发布机构</strong>：某某县民政局</p></div>
<div class="content"><p>一、总体情况</p><p>2023年，本局认真贯彻&nbsp;《条例》。</p>
<table border="1"><tr><td rowspan="2">行政复议</td><td colspan="2">行政诉讼</td></tr>
<tr><td>直接起诉</td><td>&nbsp;</td></tr><tr><td>1</td><td>2</td><td>３</td></tr></table>
<p>六、其他需要报告的事项</p><p>无。</p></div></body></html>"""


def test_gbk_page_declaring_utf8_decodes_and_warns():
    ex = extract_html(PAGE.format(charset="utf-8").encode("gbk"), "http://example.gov.cn/a.html")
    assert "本局认真贯彻" in ex.text and "不是正文" not in ex.text and "color" not in ex.text
    assert any("utf-8" in w and "wrong" in w for w in ex.warnings)
    assert ex.title == "某某县民政局2023年政府信息公开工作年度报告"
    assert ex.meta["SiteName"] == "某某市人民政府" and ex.meta["PubDate"] == "2024-01-20"
    assert ex.meta["索引号"] == "000014348/2024-00001" and ex.meta["发布机构"] == "某某县民政局"


@pytest.mark.parametrize("charset,encoding", [("gbk", "gbk"), ("utf-8", "utf-8"), ("gb2312", "gb18030")])
def test_truthful_charsets_decode_without_warning(charset, encoding):
    ex = extract_html(PAGE.format(charset=charset).encode(encoding))
    assert "本局认真贯彻" in ex.text and ex.warnings == []


def test_utf8_bom_wins():
    ex = extract_html(b"\xef\xbb\xbf" + PAGE.format(charset="gbk").encode("utf-8"))
    assert "本局认真贯彻" in ex.text


def test_html_table_spans_and_sources():
    ex = extract_html(PAGE.format(charset="utf-8").encode())
    [g] = ex.tables
    assert [[c.text for c in row] for row in g.rows] == [["行政复议", "行政诉讼"], ["直接起诉", ""], ["1", "2", "３"]]
    assert (g.rows[0][0].rowspan, g.rows[0][1].colspan) == (2, 2)
    assert g.rows[2][1].source == {"table": 0, "row": 2, "cell": 1}
    m = g.matrix()
    assert m[1][0] is g.rows[0][0] and m[0][2] is g.rows[0][1]


def test_html_reading_order_paragraphs_and_tables():
    ex = extract_html(PAGE.format(charset="utf-8").encode())
    lines = ex.text.splitlines()
    assert lines.index("一、总体情况") < lines.index("行政复议 行政诉讼") < lines.index("六、其他需要报告的事项")


def _docx_bytes(build) -> bytes:
    d = docx.Document()
    build(d)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_merged_cells_become_spans():
    def build(d):
        d.add_paragraph("某某县民政局2023年政府信息公开工作年度报告")
        d.add_paragraph("一、总体情况")
        t = d.add_table(rows=4, cols=4)
        t.cell(0, 0).merge(t.cell(0, 1)).text = "（本列数据的勾稽关系）"
        t.cell(0, 2).merge(t.cell(0, 3)).text = "申请人情况"
        t.cell(1, 0).merge(t.cell(3, 0)).text = "三、本年度办理结果"
        for r in (1, 2, 3):
            t.cell(r, 1).text = f"行{r}"
            t.cell(r, 2).text = str(r)
            t.cell(r, 3).text = str(10 * r)
        d.add_paragraph("六、其他需要报告的事项")
    ex = extract_docx(_docx_bytes(build), "a.docx")
    [g] = ex.tables
    assert [[c.text for c in row] for row in g.rows] == [
        ["（本列数据的勾稽关系）", "申请人情况"], ["三、本年度办理结果", "行1", "1", "10"], ["行2", "2", "20"], ["行3", "3", "30"]]
    assert g.rows[0][0].colspan == 2 and g.rows[1][0].rowspan == 3
    assert g.rows[2][1].source == {"table": 0, "row": 2, "cell": 1}
    m = g.matrix()
    assert [c.text for c in m[3]] == ["三、本年度办理结果", "行3", "3", "30"]
    assert ex.title == "某某县民政局2023年政府信息公开工作年度报告"
    lines = ex.text.splitlines()
    assert lines.index("一、总体情况") < lines.index("行2 2 20") < lines.index("六、其他需要报告的事项")


def test_docx_report_parses_end_to_end():
    def build(d):
        d.add_paragraph("某某县民政局2023年政府信息公开工作年度报告")
        d.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
        t = d.add_table(rows=4, cols=15)
        t.cell(0, 0).merge(t.cell(0, 4)).text = "行政复议"
        t.cell(0, 5).merge(t.cell(0, 14)).text = "行政诉讼"
        t.cell(1, 5).merge(t.cell(1, 9)).text = "未经复议直接起诉"
        t.cell(1, 10).merge(t.cell(1, 14)).text = "复议后起诉"
        for c, name in enumerate(["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]):
            t.cell(1, c).merge(t.cell(2, c)).text = name
            t.cell(2, 5 + c).text = t.cell(2, 10 + c).text = name
        for c in range(15):
            t.cell(3, c).text = str(c)
    rep = parse_extracted(extract_docx(_docx_bytes(build)))
    assert rep.cell(4, "suit_after_review", "total").value == 14
    assert rep.cell(4, "review", "upheld").source == {"table": 0, "row": 3, "cell": 0}
    assert rep.agency == "某某县民政局" and rep.report_year == 2023


def test_docx_garbage_is_refused():
    with pytest.raises(DocxError):
        extract_docx(b"PK\x03\x04 not really a zip")


def test_txt_tabbed_runs_become_incomplete_grids():
    text = "标题2023年政府信息公开工作年度报告\n正文一行\n行政许可\t0\t\n行政处罚\t\t4\n\n结尾"
    ex = extract_txt(text.encode("gbk"), "a.txt")
    assert ex.title == "标题2023年政府信息公开工作年度报告"
    [g] = ex.tables
    assert g.complete_rows is False
    assert [c.text for c in g.rows[1]] == ["行政处罚", "", "4"]
    assert g.rows[1][2].source == {"line": 4, "cell": 2}
    assert "行政处罚  4" in ex.text


def test_docx_grid_before_keeps_columns_aligned():
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    def build(d):
        t = d.add_table(rows=2, cols=3)
        for c in range(3):
            t.cell(0, c).text = f"h{c}"
        tr = t.rows[1]._tr
        tr.remove(tr.tc_lst[0])  # the row starts one grid column in
        tr.insert(0, parse_xml(f'<w:trPr {nsdecls("w")}><w:gridBefore w:val="1"/></w:trPr>'))
        tr.tc_lst[0].xpath("./w:p")[0].append(parse_xml(f'<w:r {nsdecls("w")}><w:t>5</w:t></w:r>'))
    [g] = extract_docx(_docx_bytes(build)).tables
    m = g.matrix()
    assert [c.text for c in m[1]] == ["", "5", ""]


def test_deeply_nested_junk_markup_keeps_its_text():
    deep = "<html><body>" + "<div>" * 1000 + "深处的文字" + "</div>" * 1000 + "<p>一、总体情况</p></body></html>"
    ex = extract_html(deep.encode())
    assert ex.text.splitlines() == ["深处的文字", "一、总体情况"]
