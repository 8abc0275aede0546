"""Tiny hostile inputs cost bounded work, and gaps are never `ok` (issue 12, items 3–4).

Each case parses under the real limits (pipeline/limits.py, a child process) with a
time limit far above what the fixed parser needs and far below what it took before
(2 KB of spans: 96 s, a 37 KB DOCX of gridSpan 10^7: > 300 s and 1.5 GB)."""
from __future__ import annotations

import io
import time

import pytest

from nianbao.pipeline.document import parse_bytes
from nianbao.pipeline.limits import Limits, parse_file
from nianbao.pipeline.model import MAX_COLUMNS, MAX_POSITIONS, Grid, GridCell

BOUND = Limits(time_s=30, memory_mb=1024)
TITLE = "某某县人民政府2023年政府信息公开工作年度报告"


def span_table(kb: int, span: str = "500") -> bytes:
    """A staircase of cells each spanning span×span positions: each row starts where
    the spans above end, so the grid widens by `span` per row."""
    head = f"<html><head><title>{TITLE}</title></head><body><p>{TITLE}</p><table>"
    rows, n = "", 0
    while len(head) + len(rows) < kb * 1024:
        rows += f"<tr><td rowspan={span} colspan={span}>{n}</td></tr>"
        n += 1
    return (head + rows + "</table></body></html>").encode()


def grid_span_docx(span: int, rows: int = 40, cols: int = 3, vmerge: bool = False) -> bytes:
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d = docx.Document()
    d.add_paragraph(TITLE)
    t = d.add_table(rows=rows, cols=cols)
    for r, row in enumerate(t.rows):
        for cell in row.cells:
            cell.text = "1"
            tcpr = cell._tc.get_or_add_tcPr()
            gs = OxmlElement("w:gridSpan")
            gs.set(qn("w:val"), str(span))
            tcpr.append(gs)
            if vmerge:
                vm = OxmlElement("w:vMerge")
                if r == 0:
                    vm.set(qn("w:val"), "restart")
                tcpr.append(vm)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def timed_parse(tmp_path, name: str, data: bytes):
    f = tmp_path / name
    f.write_bytes(data)
    t0 = time.monotonic()
    report = parse_file(f, BOUND)
    return report, time.monotonic() - t0


@pytest.mark.parametrize("kb", [2, 8, 31])
def test_span_tables_are_linear_and_clipped(tmp_path, kb, reliability):
    data = span_table(kb)
    report, took = timed_parse(tmp_path, f"span{kb}.html", data)
    assert report.status != "failed", report.reason
    warnings = report.meta.get("warnings", [])
    assert any(f"clipped at {MAX_COLUMNS} columns" in w for w in warnings), warnings
    if kb >= 31:
        assert any(f"{MAX_POSITIONS} grid positions" in w for w in warnings), warnings
    assert took < 20
    reliability(f"HTML table of 500×500 spans, {kb} KB", "parses within the limit; spans clipped with a warning",
                f"{report.status} in {took:.1f} s; {len(warnings)} warning(s)", group="parse")


@pytest.mark.parametrize("exp", [7, 8])
def test_docx_huge_grid_span_is_clipped(tmp_path, exp, reliability):
    data = grid_span_docx(10 ** exp)
    report, took = timed_parse(tmp_path, f"gridspan{exp}.docx", data)
    assert report.status != "failed", report.reason  # past 1024 MB it would fail naming the limit
    assert any("column span(s) over" in w for w in report.meta.get("warnings", [])), report.meta
    assert took < 20
    reliability(f"DOCX gridSpan 10^{exp} ({len(data) // 1024} KB)", "clipped with a warning, under 1 GB",
                f"{report.status} in {took:.1f} s under a {BOUND.memory_mb} MB limit", group="parse")


def test_docx_vmerge_and_gridbefore_huge(tmp_path, reliability):
    data = grid_span_docx(10 ** 9, rows=400, cols=2, vmerge=True)
    report, took = timed_parse(tmp_path, "vmerge.docx", data)
    assert report.status != "failed", report.reason
    assert took < 20
    reliability("DOCX vMerge over 400 rows, gridSpan 10^9", "bounded", f"{report.status} in {took:.1f} s",
                group="parse")


def test_html_span_values_and_row_counts(tmp_path, reliability):
    digits = "9" * 5000  # int() refuses more than 4300 digits: must not crash the extractor
    rows = "".join(f"<tr><td rowspan={digits} colspan=99999999>{i}</td><td>1</td></tr>" for i in range(2000))
    many = "".join("<tr><td>x</td><td>1</td></tr>" for _ in range(60000))
    page = f"<html><head><title>{TITLE}</title></head><body><p>{TITLE}</p><table>{rows}</table><table>{many}</table>"
    report, took = timed_parse(tmp_path, "spans.html", page.encode())
    assert report.status != "failed", report.reason
    warnings = report.meta.get("warnings", [])
    assert any("clipped" in w for w in warnings) and any("rows dropped" in w for w in warnings), warnings
    assert took < 25
    reliability("HTML rowspan of 5000 digits, colspan 10^8, 60,000 rows", "bounded, clipped with a warning",
                f"{report.status} in {took:.1f} s", group="parse")


def test_matrix_is_bounded_for_any_grid():
    g = Grid(rows=[[GridCell(str(i), rowspan=10 ** 9, colspan=10 ** 9)] for i in range(3000)])
    t0 = time.monotonic()
    m = g.matrix()
    assert time.monotonic() - t0 < 10
    assert len(m) * len(m[0]) <= MAX_POSITIONS and len(m[0]) <= MAX_COLUMNS
    assert g.clipped


# ---------------------------------------------------------------- PDF padding
def test_pdf_with_zeros_after_eof_parses(samples_dir, reliability):
    pdf = (samples_dir / "huaian-hongze-2023.pdf").read_bytes()
    plain = parse_bytes(pdf, "x.pdf")
    padded = parse_bytes(pdf + b"\x00" * 9 * 1024, "x.pdf")
    assert padded.status == plain.status == "figures_inconsistent", padded.reason
    assert len(padded.cells) == len(plain.cells)
    cut = parse_bytes(pdf[: len(pdf) // 2] + b"\x00" * 9 * 1024, "x.pdf")
    assert cut.status == "failed" and "truncated" in cut.reason  # padding does not hide a cut-off file
    reliability("valid PDF + 9 KB of zeros after %%EOF", "parses as without the padding; a cut-off one still fails",
                f"{padded.status}, {len(padded.cells)} cells; cut-off: {cut.status}", group="parse")


# ---------------------------------------------------------------- gaps never ok
def _deep(samples_dir, depth: int) -> bytes:
    page = (samples_dir / "shanghai-bgt-2019.html").read_text("utf-8")
    i = page.index(">", page.index("<body")) + 1
    k = page.rindex("</body>")
    return (page[:i] + "<div>" * depth + page[i:k] + "</div>" * depth + page[k:]).encode()


def test_page_nested_past_the_parser_depth_is_not_ok(samples_dir, reliability):
    shallow = parse_bytes(_deep(samples_dir, 1500), "deep.html")
    assert shallow.status in ("ok", "figures_inconsistent") and shallow.cells
    for depth in (2100, 5000):
        r = parse_bytes(_deep(samples_dir, depth), "deep.html")
        assert r.status == "extraction_incomplete", (depth, r.status, r.reason)
        assert "stopped part-way" in r.reason and "depth" in r.reason.lower()
    reliability("HTML report nested 2,100 / 5,000 elements deep", "extraction_incomplete with the parser's reason",
                f"{r.status}: {r.reason[:80]}", group="parse")


ATTACHMENT_PAGE = (f"<html><head><title>{TITLE}</title></head><body><h1>{TITLE}</h1>"
                   "<p>根据《中华人民共和国政府信息公开条例》要求，现公布本年度报告，全文详见附件。</p>"
                   '<p>附件：<a href="/files/2023-report.pdf">{name}</a></p></body></html>')


def test_page_pointing_to_attachment_without_figures_is_not_ok(reliability):
    page = ATTACHMENT_PAGE.format(name=TITLE + ".pdf").encode()
    r = parse_bytes(page, "detail.html")
    assert r.status == "extraction_incomplete", (r.status, r.reason)
    assert "attachment" in r.reason and "2023-report.pdf" in r.reason
    assert not any(c.value is not None for c in r.cells)
    reliability("detail page that says 详见附件 with 0 readable cells", "never ok: extraction_incomplete, "
                "reason names the attachment", f"{r.status}: {r.reason[:70]}", group="parse")


def test_attachment_is_primary_and_a_failed_one_counts_nothing(tmp_path, samples_dir, reliability):
    import sqlite3

    from nianbao.pipeline.ingest import parse_documents
    from nianbao.pipeline.store import Archive

    page = ATTACHMENT_PAGE.format(name="report.pdf").encode()
    pdf = (samples_dir / "huaian-hongze-2023.pdf").read_bytes()
    with Archive(tmp_path / "archive.db") as a:
        good, _ = a.add_document(page, type="html", url="http://x.gov.cn/art/1.html", role="detail")
        att, _ = a.add_document(pdf, type="pdf", url="http://x.gov.cn/files/1.pdf", role="attachment",
                                parent_sha256=good)
        bad_page = page.replace(b"2023-report", b"2022-report")
        bad, _ = a.add_document(bad_page, type="html", url="http://x.gov.cn/art/2.html", role="detail")
        a.add_document(b"<html><body>502 Bad Gateway</body></html>", type="html", url="http://x.gov.cn/files/2.pdf",
                       role="attachment", parent_sha256=bad)
        parse_documents(a, [r[0] for r in a.conn.execute("SELECT sha256 FROM documents")], workers=2,
                        limits=BOUND, progress=False)
    con = sqlite3.connect(tmp_path / "archive.db")
    rows = {r[0]: r[1:] for r in con.execute("SELECT id, status, is_primary, cells_found FROM reports")}
    assert rows[att][1] == 1 and rows[good][1] == 0, "the attachment with figures is the primary report"
    assert rows[bad][0] == "extraction_incomplete" and rows[bad][2] == 0
    counted = con.execute("SELECT COUNT(*) FROM reports WHERE is_primary = 1 AND status = 'ok'").fetchone()[0]
    assert counted == 0, "no 0-cell page is counted as an ok report"
    t3, unread = con.execute("SELECT SUM(reports_with_t3), SUM(reports_unread) FROM totals_by_year").fetchone()
    assert t3 == 1
    assert unread == rows[bad][1] == 1, "the unread page is its publication's report, counted as unread"
    reliability("attachment failed behind a 详见附件 page", "page extraction_incomplete, no figures counted; "
                "a parsed attachment stays primary", f"page {rows[bad][0]}; attachment primary {rows[att][1]}",
                group="parse")
