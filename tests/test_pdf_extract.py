"""The fast PDF extractor (pypdfium2) against the pdfplumber reference, and both
against what is actually printed.

Corpus: the real 洪泽区 report (tables split over pages, WPS page frames), PDFs printed
here by LibreOffice from HTML and DOCX written in the test (CJK, merged cells, blank
cells, a table over several pages, a page frame), a scan without text layer, a
300-page document, and broken input (empty, random, truncated, encrypted).
"""
from __future__ import annotations

import collections
import io
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from nianbao.pipeline.extract.pdf import PdfError, extract_pdf
from nianbao.devkit.pdf_reference import extract_pdf_reference, grids_equal, normalise_text, same_place
from nianbao.pipeline.model import Extracted, Grid

HONGZE = Path(__file__).resolve().parent / "fixtures" / "samples" / "huaian-hongze-2023.pdf"


# --- helpers --------------------------------------------------------------------------


def texts(g: Grid) -> list[list[str | None]]:
    return [[c.text if c else None for c in row] for row in g.matrix()]


def assert_same_extraction(fast: Extracted, ref: Extracted) -> None:
    """Cell for cell (text, spans, boxes within 2 pt), and the same text: the same
    characters, and nearly all lines identical (the two may break a line differently
    where fonts of different sizes share a baseline)."""
    assert fast.meta["pages"] == ref.meta["pages"]
    assert fast.title == ref.title
    assert len(fast.tables) == len(ref.tables)
    for i, (a, b) in enumerate(zip(fast.tables, ref.tables)):
        assert same_place(a, b), (a.source, b.source)
        assert grids_equal(a, b) == [], f"table {i} on page {a.source['page']}"
    na, nb = normalise_text(fast.text), normalise_text(ref.text)
    strip = lambda s: collections.Counter(ch for ch in s if not ch.isspace())  # noqa: E731
    assert strip(na) == strip(nb)
    la, lb = na.splitlines(), set(nb.splitlines())
    same = sum(1 for ln in la if ln in lb)
    assert same >= 0.9 * len(la), f"only {same}/{len(la)} lines agree"


def soffice_to_pdf(paths: list[Path], outdir: Path, profile: Path) -> None:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        pytest.fail("LibreOffice (soffice) not installed: ./dev setup installs it")
    by_kind: dict[str, list[Path]] = {}
    for p in paths:
        by_kind.setdefault(p.suffix, []).append(p)
    for suffix, group in by_kind.items():
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--nologo", "--nodefault", "--nolockcheck"]
        if suffix == ".html":  # a paginated Writer document, as a publisher would print it
            cmd += ["--infilter=HTML (StarWriter)", "--convert-to", "pdf:writer_pdf_Export"]
        else:
            cmd += ["--convert-to", "pdf"]
        subprocess.run(cmd + ["--outdir", str(outdir)] + [str(p) for p in group],
                       capture_output=True, timeout=180, check=False)
    for p in paths:
        assert (outdir / (p.stem + ".pdf")).exists(), f"soffice did not convert {p.name}"


LONG_ROWS = 60

TABLES_HTML = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>测试区2023年政府信息公开工作年度报告</title></head>
<body>
<p>测试区人民政府2023年政府信息公开工作年度报告</p>
<p>一、总体情况。本报告由测试区人民政府办公室编制，统计期限自2023年1月1日起至2023年12月31日止。</p>
<table border="1" cellspacing="0" cellpadding="4" width="100%">
<tr><td rowspan="2" colspan="2">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td><td colspan="2">申请人情况</td></tr>
<tr><td>自然人</td><td>总计</td></tr>
<tr><td rowspan="3" width="12%">三、本年度办理结果</td><td>（一）予以公开</td><td>12</td><td>12</td></tr>
<tr><td>（二）部分公开（区分处理的，只计这一情形，不计其他情形）</td><td></td><td>0</td></tr>
<tr><td>（三）不予公开</td><td>3</td><td>—</td></tr>
</table>
<p>二、主动公开政府信息情况</p>
<table border="1" cellspacing="0" cellpadding="4" width="100%">
<tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>
{"".join(f"<tr><td>{i}.第{i}项规范性文件清理情况统计</td><td>{i * 7}</td><td></td><td>{'/' if i % 5 == 0 else i}</td></tr>" for i in range(1, LONG_ROWS + 1))}
</table>
<p>附表</p>
<table border="1" cellspacing="0" cellpadding="4">
<tr><td width="60">Total amount of fees</td><td>251000元</td></tr>
<tr><td width="60">Items</td><td>７</td></tr>
</table>
<p>政府集中采购 １ ９０７８１００元</p>
<p>五、存在的主要问题及改进情况。无。</p>
</body></html>"""

FRAME_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>框</title></head><body>
<div style="border: 1px solid black; padding: 8px">
<p>一、总体情况</p><p>2023年，本机关坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻落实《条例》。</p>
<p>（一）主动公开情况。主要通过政府门户网站主动公开政府文件。</p></div>
<table border="1" cellspacing="0" cellpadding="6" width="100%"><tr><td>
<p>五、存在的主要问题及改进情况</p><p>政务公开队伍建设有待加强。</p><p>六、其他需要报告的事项：无。</p>
</td></tr></table>
<table border="1" cellspacing="0" cellpadding="6" width="100%">
<tr><td>（一）主动公开情况。主要通过政府门户网站主动公开政府文件、项目审批、通知公告等各类政府信息，全年在政府网站平台主动公开政府信息一千余条，均按规定时限发布。</td>
<td>（二）依申请公开情况。进一步规范依申请公开流程，畅通依申请公开受理渠道，全年受理政府信息公开申请二十一件，均在法定期限内答复，未发生逾期答复情形。</td></tr>
<tr><td>（三）政府信息管理情况。加强区政府门户网站及政务新媒体日常管理，运用第三方检测平台实行常态化监测，严格执行信息审核发布制度，未经审核的信息一律不准发布。</td>
<td>（四）平台建设情况。加强对区政府网站、政务新媒体动态全面监管，按照管理标准定期检查，及时关停整合用户关注度低、更新不及时、无力运维的新媒体账号。</td></tr>
</table>
</body></html>"""


def write_docx(path: Path) -> None:
    """Table 4 as Word users build it: merged header cells, one data row."""
    from docx import Document

    doc = Document()
    doc.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    t = doc.add_table(rows=4, cols=15)
    t.style = "Table Grid"
    t.cell(0, 0).merge(t.cell(0, 4)).text = "行政复议"
    t.cell(0, 5).merge(t.cell(0, 14)).text = "行政诉讼"
    for c, label in enumerate(["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]):
        t.cell(1, c).merge(t.cell(2, c)).text = label
        t.cell(2, 5 + c).text = label
        t.cell(2, 10 + c).text = label
    t.cell(1, 5).merge(t.cell(1, 9)).text = "未经复议直接起诉"
    t.cell(1, 10).merge(t.cell(1, 14)).text = "复议后起诉"
    for c, v in enumerate([10, 1, 0, 0, 11, 0, 0, 0, 0, 0, 5, 0, 0, 0, 5]):
        t.cell(3, c).text = str(v)
    doc.add_paragraph("五、存在的主要问题及改进情况")
    doc.save(str(path))


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, bytes]:
    """PDFs printed by LibreOffice from documents written here (one soffice run per
    input type), plus a scan without text layer made with pdfium."""
    tmp = tmp_path_factory.mktemp("pdfsrc")
    (tmp / "tables.html").write_text(TABLES_HTML, encoding="utf-8")
    (tmp / "frame.html").write_text(FRAME_HTML, encoding="utf-8")
    write_docx(tmp / "merged.docx")
    out = tmp / "out"
    out.mkdir()
    soffice_to_pdf([tmp / "tables.html", tmp / "frame.html", tmp / "merged.docx"], out,
                   tmp / "lo-profile")
    docs = {p.stem: p.read_bytes() for p in out.glob("*.pdf")}
    docs["scan"] = make_scan(docs["tables"])
    return docs


def make_scan(pdf_bytes: bytes) -> bytes:
    """A page as a scanner delivers it: one image, no text layer."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(pdf_bytes)
    pil = src[0].render(scale=1).to_pil()
    doc = pdfium.PdfDocument.new()
    page = doc.new_page(595, 842)
    img = pdfium.PdfImage.new(doc)
    img.set_bitmap(pdfium.PdfBitmap.from_pil(pil))
    img.set_matrix(pdfium.PdfMatrix().scale(595, 842))
    page.insert_obj(img)
    page.gen_content()
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def hongze() -> bytes:
    if not HONGZE.exists():
        pytest.fail(f"sample not found: {HONGZE}")
    return HONGZE.read_bytes()


# --- the real sample ------------------------------------------------------------------


def test_hongze_fast_matches_reference(hongze):
    assert_same_extraction(extract_pdf(hongze), extract_pdf_reference(hongze))


def test_hongze_tables_as_printed(hongze):
    e = extract_pdf(hongze)
    assert e.meta == {"pages": 5, "pdf_title": "洪泽区人民政府2023年政府信息公开工作年度报告",
                      "encrypted": False}
    # Pages 1 and 5 hold only body text in WPS line frames: no table there.
    assert [g.source["page"] for g in e.tables] == [2, 3, 3, 4, 4]
    t2a, t2b, t3a, t3b, t4 = e.tables
    # Tables 2 and 3 run over a page break; table 4 starts under its own heading.
    assert [g.source.get("continues_previous", False) for g in e.tables] == [False, True, False, True, False]
    assert texts(t2a)[1] == ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
    assert texts(t2a)[3] == ["行政规范性文件", "0", "5", "5"]
    assert texts(t2b)[-1] == ["行政事业性收费", "7730.28"]
    # Table 3 is cut by the page break without a bottom rule: its last row on page 3
    # must still be there.
    m3 = texts(t3a)
    assert m3[-1] == ["三、本年度办理结果", "（四）无法提供", "2.没有现成信息需要另行制作",
                      "3", "0", "0", "0", "0", "0", "3"]
    # Wrapped label joined without spaces; lost characters stay lost (as printed).
    assert m3[6][1] == "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
    assert m3[8][2] == "2.其他法律行政止公开"
    label = t3a.matrix()[5][0]
    assert label is not None and label.rowspan == 12 and label is t3a.matrix()[16][0]
    assert texts(t3a)[2][3:] == ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    assert texts(t3b)[0][2:] == ["3.补正后申请内容仍不明确", "0", "0", "0", "0", "0", "0", "0"]
    assert texts(t3b)[-1][0] == "四、结转下年度继续办理"
    # Table 4 as printed, including the publisher's wrong totals (0 where 11 and 5).
    m4 = texts(t4)
    assert m4[-1] == ["10", "1", "0", "0", "0", "0", "0", "0", "0", "0", "5", "0", "0", "0", "0"]
    assert t4.rows[0][0].text == "行政复议" and t4.rows[0][0].colspan == 5
    assert t4.rows[0][1].text == "行政诉讼" and t4.rows[0][1].colspan == 10
    assert m4[1][4] == "总计" and t4.matrix()[1][4] is t4.matrix()[2][4]


def test_hongze_cell_provenance(hongze):
    """Every cell box lies inside its table's box, and the printed figure 7730.28 is
    where pdfplumber finds those characters."""
    import pdfplumber

    e = extract_pdf(hongze)
    for g in e.tables:
        gx0, gt, gx1, gb = g.source["bbox"]
        for row in g.rows:
            for c in row:
                x0, t, x1, b = c.source["bbox"]
                assert c.source["page"] == g.source["page"]
                assert gx0 - 0.5 <= x0 < x1 <= gx1 + 0.5 and gt - 0.5 <= t < b <= gb + 0.5
    cell = e.tables[1].rows[-1][1]
    assert cell.text == "7730.28"
    with pdfplumber.open(HONGZE) as pdf:
        words = [w for w in pdf.pages[cell.source["page"] - 1].extract_words() if w["text"] == "7730.28"]
    x0, t, x1, b = cell.source["bbox"]
    assert any(x0 <= w["x0"] and w["x1"] <= x1 and t <= w["top"] and w["bottom"] <= b for w in words)


def test_rotated_page_reads_as_displayed(hongze):
    """A landscape page stored the usual way: portrait content turned by the content
    matrix on a page with /Rotate 90. Read in the displayed orientation, its tables
    are the original's, cell for cell and box for box."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(hongze)
    dst = pdfium.PdfDocument.new()
    for i in range(len(src)):
        obj = src.page_as_xobject(i, dst).as_pageobject()
        page = dst.new_page(842, 595)
        obj.set_matrix(pdfium.PdfMatrix(0, 1, -1, 0, 842, 0))  # (x, y) -> (842 - y, x)
        page.insert_obj(obj)
        page.gen_content()
        page.set_rotation(90)
    buf = io.BytesIO()
    dst.save(buf)
    turned, original = extract_pdf(buf.getvalue()), extract_pdf(hongze)
    assert len(turned.tables) == len(original.tables) == 5
    for a, b in zip(turned.tables, original.tables):
        assert grids_equal(a, b) == []
    ref = extract_pdf_reference(buf.getvalue())
    assert len(ref.tables) == 5 and all(same_place(a, b) for a, b in zip(ref.tables, turned.tables))


def drawn_table(style: str, bold: bool = False) -> bytes:
    """A 3×3 table of figures drawn with pdfium: borders as thin filled rectangles
    ("fill", as Word's PDF export draws them) or a stroked rectangle per cell
    ("rects", as some report generators do)."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    doc = pdfium.PdfDocument.new()
    page = doc.new_page(595, 842)
    xs, ys = [100, 200, 300, 400], [700, 670, 640, 610]  # PDF space, y up
    shapes = []
    if style == "fill":
        shapes += [(x - 0.25, ys[-1] - 0.25, 0.5, ys[0] - ys[-1] + 0.5) for x in xs]
        shapes += [(xs[0] - 0.25, y - 0.25, xs[-1] - xs[0] + 0.5, 0.5) for y in ys]
    else:
        shapes += [(xs[j], ys[i + 1], xs[j + 1] - xs[j], ys[i] - ys[i + 1]) for i in range(3) for j in range(3)]
    for box in shapes:
        r = raw.FPDFPageObj_CreateNewRect(*box)
        if style == "fill":
            raw.FPDFPageObj_SetFillColor(r, 0, 0, 0, 255)
            raw.FPDFPath_SetDrawMode(r, raw.FPDF_FILLMODE_WINDING, 0)
        else:
            raw.FPDFPageObj_SetStrokeColor(r, 0, 0, 0, 255)
            raw.FPDFPageObj_SetStrokeWidth(r, 0.8)
            raw.FPDFPath_SetDrawMode(r, raw.FPDF_FILLMODE_NONE, 1)
        raw.FPDFPage_InsertObject(page.raw, r)
    # Fake bold: every figure printed twice, the copy 0.4 pt right and 0.3 pt up.
    copies = [(0.0, 0.0), (0.4, 0.3)] if bold else [(0.0, 0.0)]
    for i in range(3):
        for j in range(3):
            for dx, dy in copies:
                t = raw.FPDFPageObj_NewTextObj(doc.raw, b"Helvetica", 10.0)
                s = f"{(i + 1) * 10 + j}\x00".encode("utf-16-le")
                raw.FPDFText_SetText(t, ctypes.cast(ctypes.c_char_p(s), ctypes.POINTER(ctypes.c_ushort)))
                raw.FPDFPageObj_Transform(t, 1, 0, 0, 1, xs[j] + 10 + dx, ys[i + 1] + 10 + dy)
                raw.FPDFPage_InsertObject(page.raw, t)
    raw.FPDFPage_GenerateContent(page.raw)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("style, bold", [("fill", False), ("rects", False), ("fill", True)])
def test_drawn_borders(style, bold):
    data = drawn_table(style, bold)
    e = extract_pdf(data)
    assert [texts(g) for g in e.tables] == [[["10", "11", "12"], ["20", "21", "22"], ["30", "31", "32"]]]
    assert e.tables[0].source == {"page": 1, "bbox": [100.0, 142.0, 400.0, 232.0]}
    assert e.text == "10 11 12\n20 21 22\n30 31 32"
    assert_same_extraction(e, extract_pdf_reference(data))


def drawn_pages(pages: list[list[tuple[list[float], list[float], list[list[str]]]]],
                lines: dict[int, list[tuple[float, str]]] | None = None) -> bytes:
    """Pages of ruled tables drawn with pdfium, borders as thin filled rectangles: per
    page a list of (xs, ys, texts) in PDF space (y up), and text lines (y, text)."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    doc = pdfium.PdfDocument.new()

    def put(page, text: str, x: float, y: float) -> None:
        t = raw.FPDFPageObj_NewTextObj(doc.raw, b"Helvetica", 10.0)
        s = f"{text}\x00".encode("utf-16-le")
        raw.FPDFText_SetText(t, ctypes.cast(ctypes.c_char_p(s), ctypes.POINTER(ctypes.c_ushort)))
        raw.FPDFPageObj_Transform(t, 1, 0, 0, 1, x, y)
        raw.FPDFPage_InsertObject(page.raw, t)

    for p, tables in enumerate(pages):
        page = doc.new_page(595, 842)
        for xs, ys, cells in tables:
            shapes = [(x - 0.25, ys[-1] - 0.25, 0.5, ys[0] - ys[-1] + 0.5) for x in xs]
            shapes += [(xs[0] - 0.25, y - 0.25, xs[-1] - xs[0] + 0.5, 0.5) for y in ys]
            for box in shapes:
                r = raw.FPDFPageObj_CreateNewRect(*box)
                raw.FPDFPageObj_SetFillColor(r, 0, 0, 0, 255)
                raw.FPDFPath_SetDrawMode(r, raw.FPDF_FILLMODE_WINDING, 0)
                raw.FPDFPage_InsertObject(page.raw, r)
            for i, row in enumerate(cells):
                for j, text in enumerate(row):
                    put(page, text, xs[j] + 5, ys[i + 1] + 8)
        for y, text in (lines or {}).get(p, []):
            put(page, text, 100, y)
        raw.FPDFPage_GenerateContent(page.raw)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


XS = [100.0, 250.0, 350.0, 450.0]
LAST_ROWS = [["head", "items", "amount"], ["rules", "1", "2"], ["fees", "3", "4"]]


@pytest.mark.parametrize("extract", [extract_pdf, extract_pdf_reference], ids=["fast", "reference"])
def test_last_row_alone_on_the_next_page_is_kept(extract):
    """Word/LibreOffice push a table's last row alone onto the next page: a one-row
    lattice, which on its own would be taken for a page frame."""
    data = drawn_pages([[(XS, [200, 180, 160, 140], LAST_ROWS[:3])],
                        [(XS, [760, 740], [["procurement", "5", "6"]])]])
    e = extract(data)
    assert [texts(g) for g in e.tables] == [LAST_ROWS, [["procurement", "5", "6"]]]
    assert [g.source.get("continues_previous", False) for g in e.tables] == [False, True]


@pytest.mark.parametrize("extract", [extract_pdf, extract_pdf_reference], ids=["fast", "reference"])
@pytest.mark.parametrize("case", ["text-between", "other-width", "other-columns", "not-first", "no-table-before"])
def test_one_row_boxes_that_continue_nothing_are_dropped(extract, case):
    one = [["procurement", "5", "6"]]
    first = [(XS, [200, 180, 160, 140], LAST_ROWS[:3])]
    second = {"text-between": [(XS, [760, 740], one)],
              "other-width": [([100.0, 250.0, 350.0, 500.0], [760, 740], one)],
              "other-columns": [([100.0, 300.0, 450.0], [760, 740], [["procurement", "5"]])],
              "not-first": [(XS, [760, 700, 680], [["a", "1", "2"], ["b", "3", "4"]]), (XS, [600, 580], one)],
              "no-table-before": [(XS, [760, 740], one)]}[case]
    lines = {1: [(770, "Heading between the two")]} if case == "text-between" else None
    data = drawn_pages([[] if case == "no-table-before" else first, second], lines)
    e = extract(data)
    assert all(len(g.rows) >= 2 for g in e.tables)
    assert "procurement" in e.text


@pytest.mark.parametrize("extract", [extract_pdf, extract_pdf_reference], ids=["fast", "reference"])
def test_first_row_alone_at_the_foot_of_a_page_is_kept(extract):
    """The mirror case: a table without header rows whose first row is all that fits
    at the foot of a page; the rest opens the next page, its label column cut finer."""
    data = drawn_pages([[(XS, [120, 100], [["new", "1", "2"]])],
                        [([100.0, 175.0, 250.0, 350.0, 450.0], [760, 740, 720],
                          [["carried", "in", "3", "4"], ["result", "x", "5", "6"]])]])
    e = extract(data)
    assert [texts(g)[0] for g in e.tables] == [["new", "1", "2"], ["carried", "in", "3", "4"]]
    assert [g.source.get("continues_previous", False) for g in e.tables] == [False, True]
    # the same row with text under it, or over the next table, is a box of its own
    for lines in ({0: [(80, "Footnote under the box")]}, {1: [(770, "A heading")]}):
        e = extract(drawn_pages([[(XS, [120, 100], [["new", "1", "2"]])],
                                 [([100.0, 175.0, 250.0, 350.0, 450.0], [760, 740, 720],
                                   [["carried", "in", "3", "4"], ["result", "x", "5", "6"]])]], lines))
        assert [len(g.rows) for g in e.tables] == [2] and not e.tables[0].source.get("continues_previous")


def test_last_row_alone_fast_matches_reference():
    data = drawn_pages([[(XS, [200, 180, 160, 140], LAST_ROWS[:3])],
                        [(XS, [760, 740], [["procurement", "5", "6"]])]])
    assert_same_extraction(extract_pdf(data), extract_pdf_reference(data))


# --- printed here ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tables", "frame", "merged"])
def test_printed_fast_matches_reference(printed, name):
    assert_same_extraction(extract_pdf(printed[name]), extract_pdf_reference(printed[name]))


def test_printed_tables_content(printed):
    e = extract_pdf(printed["tables"])
    assert e.title == "测试区2023年政府信息公开工作年度报告"
    merged, *rest = e.tables
    m = texts(merged)
    assert m[0] == ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"] * 2 + ["申请人情况"] * 2
    assert merged.rows[0][0].rowspan == 2 and merged.rows[0][0].colspan == 2
    assert m[2:] == [
        ["三、本年度办理结果", "（一）予以公开", "12", "12"],
        ["三、本年度办理结果", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "", "0"],
        ["三、本年度办理结果", "（三）不予公开", "3", "—"],
    ]
    # The long table runs over page breaks: every row exactly once, in order, each
    # with its blank third cell, and on more than one page.
    long_parts = [g for g in rest if texts(g)[0][0] in ("信息内容",) or texts(g)[0][0][0].isdigit()]
    rows = [r for g in long_parts for r in texts(g)]
    assert rows[0] == ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
    assert rows[1:] == [[f"{i}.第{i}项规范性文件清理情况统计", str(i * 7), "", "/" if i % 5 == 0 else str(i)]
                        for i in range(1, LONG_ROWS + 1)]
    assert len({g.source["page"] for g in long_parts}) >= 2
    assert [g.source.get("continues_previous", False) for g in long_parts] == [False] + [True] * (len(long_parts) - 1)
    assert not merged.source.get("continues_previous")
    # Latin words wrapped in a narrow cell are joined with a space, a number wrapped
    # before its CJK unit is not.
    small = [g for g in rest if texts(g)[-1][0] == "Items"]
    assert len(small) == 1 and texts(small[0]) == [["Total amount of fees", "251000元"], ["Items", "７"]]


def test_fullwidth_figures_are_not_joined_to_labels(printed):
    """Full-width digits are not CJK words: the spaces between a label and its
    figures stay (joined, 「采购１９０７８１００」 would read as one number), while
    full-width punctuation still closes up with the CJK text around it."""
    from nianbao.pipeline.extract.pdf_layout import normalise_cell_text, tidy_page_text

    assert tidy_page_text("政府集中采购 １ ９０７８１００元") == "政府集中采购 １ ９０７８１００元"
    assert tidy_page_text("号 ， 邮 编 ： （ 万 元 ）") == "号，邮编：（万元）"
    assert normalise_cell_text("行政 许可 ２３") == "行政许可 ２３"
    assert normalise_cell_text("１９\n５９") == "１９５９"  # a full-width figure wrapped in its cell
    for extract in (extract_pdf, extract_pdf_reference):
        assert "政府集中采购 １ ９０７８１００元" in extract(printed["tables"]).text.splitlines()


def test_page_frame_is_not_a_table(printed):
    """A bordered box around text, a one-cell table holding paragraphs, and a 2×2
    grid of paragraphs: frames, not tables; their text stays in the text."""
    e = extract_pdf(printed["frame"])
    assert e.tables == []
    assert "政务公开队伍建设有待加强。" in e.text
    assert "未发生逾期答复情形。" in e.text.replace("\n", "")


def test_docx_merged_cells(printed):
    e = extract_pdf(printed["merged"])
    assert len(e.tables) == 1
    g = e.tables[0]
    assert [(c.text, c.colspan) for c in g.rows[0]] == [("行政复议", 5), ("行政诉讼", 10)]
    m = texts(g)
    assert m[1][:5] == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    assert g.matrix()[1][0] is g.matrix()[2][0]
    assert m[1][5] == "未经复议直接起诉" and m[1][10] == "复议后起诉"
    assert m[2][5:] == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2
    assert m[3] == ["10", "1", "0", "0", "11", "0", "0", "0", "0", "0", "5", "0", "0", "0", "5"]


def test_scan_without_text_layer(printed, monkeypatch):
    monkeypatch.setenv("NIANBAO_OCR", "0")  # what the text path says of a scan (OCR: tests/test_ocr.py)
    e = extract_pdf(printed["scan"])
    assert e.text == "" and e.tables == []
    assert e.meta["scanned"] is True and e.meta["pages"] == 1
    assert any("OCR" in w for w in e.warnings)


def test_scanned_page_in_a_text_document(printed, hongze, monkeypatch):
    monkeypatch.setenv("NIANBAO_OCR", "0")
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(hongze)
    doc.import_pages(pdfium.PdfDocument(printed["scan"]))
    buf = io.BytesIO()
    doc.save(buf)
    e = extract_pdf(buf.getvalue())
    assert "scanned" not in e.meta and e.meta["pages_without_text"] == [6]
    assert len(e.tables) == 5 and "洪泽区" in e.text
    assert extract_pdf_reference(buf.getvalue()).meta == e.meta


# --- broken input ---------------------------------------------------------------------


def encrypt(data: bytes, tmp_path: Path, user_pw: str) -> bytes:
    qpdf = shutil.which("qpdf")
    if not qpdf:
        pytest.fail("qpdf not installed: ./dev setup installs it (apt-get install qpdf)")
    src, dst = tmp_path / "in.pdf", tmp_path / "out.pdf"
    src.write_bytes(data)
    subprocess.run([qpdf, "--encrypt", user_pw, "owner-secret", "256", "--", str(src), str(dst)],
                   check=True, capture_output=True, timeout=60)
    return dst.read_bytes()


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda d: b"", "not a PDF"),
        (lambda d: random.Random(1).randbytes(20000), "not a PDF"),
        (lambda d: b"<html><body>404 Not Found</body></html>", "not a PDF"),
        (lambda d: b"%PDF-1.7\n" + random.Random(2).randbytes(20000) + b"\n%%EOF\n", "corrupt PDF"),
        (lambda d: d[: len(d) // 2], "truncated"),
        (lambda d: d[:-200], "truncated"),
    ],
    ids=["empty", "random", "html", "garbage-with-header", "half", "tail-cut"],
)
def test_bad_input_raises_pdf_error(hongze, make, reason):
    with pytest.raises(PdfError) as exc:
        extract_pdf(make(hongze))
    assert reason in exc.value.reason


def test_encrypted_with_password(hongze, tmp_path):
    with pytest.raises(PdfError, match=r"encrypted PDF \(password required\)"):
        extract_pdf(encrypt(hongze, tmp_path, "user-secret"))


def test_encrypted_without_user_password_is_read(hongze, tmp_path):
    """Many government PDFs are 'encrypted' only to forbid copying (empty user
    password): they must be read, and flagged."""
    e = extract_pdf(encrypt(hongze, tmp_path, ""))
    assert e.meta["encrypted"] is True
    assert [texts(g) for g in e.tables] == [texts(g) for g in extract_pdf(hongze).tables]


# --- size and time --------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_pdf(hongze) -> bytes:
    """300 pages: the 5-page report 60 times over, built with pdfium."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(hongze)
    doc = pdfium.PdfDocument.new()
    for _ in range(60):
        doc.import_pages(src)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_300_pages(long_pdf, hongze):
    t = time.perf_counter()
    e = extract_pdf(long_pdf)
    elapsed = time.perf_counter() - t
    print(f"\n300 pages: {elapsed:.2f} s ({300 / elapsed:.0f} pages/s)")
    assert e.meta["pages"] == 300
    one = extract_pdf(hongze)
    assert len(e.tables) == 60 * len(one.tables)
    assert [texts(g) for g in e.tables[-5:]] == [texts(g) for g in one.tables]
    assert e.tables[-1].source["page"] == 299
    assert elapsed < 45, "300 pages should take seconds, not minutes"


def test_timeout_is_a_pdf_error(long_pdf):
    with pytest.raises(PdfError, match="timeout"):
        extract_pdf(long_pdf, timeout=0.0)


def test_page_with_too_many_paths_gives_up_tables_not_text(hongze, monkeypatch):
    import nianbao.pipeline.extract.pdf as pdfmod

    monkeypatch.setattr(pdfmod, "MAX_PATHS", 100)  # pages 3 and 4 draw 166 and 165 paths
    e = extract_pdf(hongze)
    assert [g.source["page"] for g in e.tables] == [2]
    assert [w for w in e.warnings if "vector paths" in w] == [
        "page 3: more than 100 vector paths, tables not searched",
        "page 4: more than 100 vector paths, tables not searched",
    ]
    assert "7730.28" in e.text


def test_garbled_text_layer_is_flagged():
    """Fonts without ToUnicode come out as private-use code points (seen in WPS files
    with embedded subset fonts): counted and warned about, so OCR can be aimed."""
    from nianbao.pipeline.extract.pdf_layout import garble_verdict

    meta: dict = {}
    warnings: list[str] = []
    garble_verdict("一、总体情况\n\ue3a1\ue3a2\ufffd 2023", meta, warnings)
    assert meta == {"garbled_chars": 3} and len(warnings) == 1
    meta, warnings = {}, []
    garble_verdict("一、总体情况 2023", meta, warnings)
    assert meta == {} and warnings == []


def _open_ends_pairwise(v, h, tol=3.0):
    """close_open_ends as first written, every rule against every other: the definition
    the indexed version must keep."""
    def closed(x, y):
        return any(abs(hy - y) <= tol and hx0 - tol <= x <= hx1 + tol for hy, hx0, hx1 in h)

    def continued(x, y, down):
        return any(abs(vx - x) <= tol and ((vt <= y + tol and vb > y + tol) if down else (vb >= y - tol and vt < y - tol))
                   for vx, vt, vb in v)

    out = []
    for end, down in ((2, True), (1, False)):
        opens = sorted((e[end], e[0]) for e in v if not closed(e[0], e[end]) and not continued(e[0], e[end], down))
        group = []
        for item in opens + [(float("inf"), 0.0)]:
            if group and item[0] - group[0][0] > tol:
                if len(group) >= 2:
                    ys = [g[0] for g in group]
                    y = max(ys) if down else min(ys)
                    xs = [e[0] for e in v if abs(e[end] - y) <= tol]
                    out.append((y, min(xs), max(xs)))
                group = []
            group.append(item)
    return out


@pytest.mark.parametrize("seed", range(300))
def test_open_ends_indexed_as_pairwise(seed):
    """Rules on a coarse grid (so ends meet within the tolerance, and exactly on its
    edge) and at random; the indexed search finds what comparing every pair finds."""
    from nianbao.pipeline.extract.pdf_layout import close_open_ends

    rng = random.Random(seed)
    at = (lambda: rng.choice(range(0, 200, 3)) + rng.choice([0, 0, 1.5, 3.0, -3.0])) if seed % 2 else \
        (lambda: rng.uniform(0, 200))
    v = [(at(), *sorted((at(), at()))) for _ in range(rng.randrange(0, 40))]
    h = [(at(), *sorted((at(), at()))) for _ in range(rng.randrange(0, 40))]
    assert close_open_ends(v, h) == _open_ends_pairwise(v, h)

