"""OFD packages read like PDFs: every cell, title, agency and year, with page provenance.

The OFDs are generated reports printed to PDF (from HTML and from DOCX, so table
layouts differ) and redrawn as OFD the ways producers write them (devkit.ofd
variants: text in runs or per character, borders as stroked lines, thin filled
rectangles or scaled paths under a CTM, coordinates relative to each object or to
the page, absolute or relative BaseLocs, template pages). The PDF parse of the same
document is the control: the OFD must read the same, and the spec's figures."""
from __future__ import annotations

import io
import zipfile

import pytest

from nianbao.devkit import generate
from nianbao.devkit.ofd import VARIANTS, Variant, pdf_to_ofd
from nianbao.pipeline.document import parse_bytes
from nianbao.pipeline.sniff import sniff

SEEDS = [1, 2, 5, 8, 13, 21]


@pytest.fixture(scope="module")
def printed() -> list[tuple[object, bytes]]:
    specs = [generate.random_report(s) for s in SEEDS]
    pdfs = generate.render_many_pdf(specs[:3], via="html") + generate.render_many_pdf(specs[3:], via="docx")
    return list(zip(specs, pdfs))


def _cells(report) -> dict:
    return {(str(c.table), c.row, c.col): c.value for c in report.cells}


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_ofd_reads_every_cell(printed, variant):
    for spec, pdf in printed:
        ofd = pdf_to_ofd(pdf, variant)
        assert sniff(ofd) == "ofd"
        got = parse_bytes(ofd, "report.ofd")
        want = {(str(c["table"]), c["row"], c["col"]): c["value"] for c in generate.expected_cells(spec)}
        assert got.container == "ofd"
        assert {k: _cells(got).get(k) for k in want} == want, (spec.seed, variant)
        control = parse_bytes(pdf, "report.pdf")
        assert (got.status, got.title, got.agency, got.report_year) == (
            control.status, control.title, control.agency, control.report_year), (spec.seed, variant)
        assert got.report_year == spec.report_year and got.agency == spec.agency


def test_ofd_cells_carry_their_page(printed):
    spec, pdf = printed[0]
    got = parse_bytes(pdf_to_ofd(pdf), "report.ofd")
    control = parse_bytes(pdf, "report.pdf")
    pages = {(c.table, c.row, c.col): c.source.get("page") for c in control.cells if c.source}
    assert pages and all(c.source.get("page") == pages.get((c.table, c.row, c.col)) for c in got.cells if c.source)


def test_text_drawn_as_outlines_needs_ocr(printed, monkeypatch):
    monkeypatch.delenv("NIANBAO_OCR", raising=False)
    spec, pdf = printed[1]
    got = parse_bytes(pdf_to_ofd(pdf, Variant(text="outlines")), "report.ofd")
    assert got.status == "extraction_incomplete" and "OCR" in got.reason
    assert all(c.value is None for c in got.cells)


@pytest.mark.parametrize("which", [2, 3])  # printed from HTML, rules as lines; from Word, rules as thin rectangles
def test_glyph_outlines_are_drawn_and_read_by_ocr(printed, which, monkeypatch):
    """A printer driver's OFD: every glyph a filled outline (curves, counters), no text.
    With OCR on the page is drawn and read from its pixels: title, agency and year as the
    PDF's, every figure right or NULL with a reason (never a wrong one), each with its
    page and box. Without OCR: incomplete, saying OCR is needed."""
    spec, pdf = printed[which]
    ofd = pdf_to_ofd(pdf, Variant(text="glyphs", rules="rects" if which % 2 else "lines"))
    monkeypatch.delenv("NIANBAO_OCR", raising=False)
    assert parse_bytes(ofd, "report.ofd").status == "extraction_incomplete"
    monkeypatch.setenv("NIANBAO_OCR", "1")
    got, control = parse_bytes(ofd, "report.ofd"), parse_bytes(pdf, "report.pdf")
    assert (got.title, got.agency, got.report_year) == (control.title, control.agency, control.report_year)
    want, have = _cells(control), _cells(got)
    wrong = {k: (want[k], have.get(k)) for k in want if have.get(k) is not None and have[k] != want[k]}
    assert not wrong
    right = sum(have.get(k) == want[k] for k in want)
    assert right >= 0.95 * len(want), f"{right}/{len(want)}"  # measured: 200/200 and 192/200
    assert all(c.reason for c in got.cells if c.value is None and want.get((str(c.table), c.row, c.col)) is not None)
    assert len(got.meta["ocr"]["pages"]) == control.meta["pages"]
    assert all(c.source.get("page") and c.source.get("bbox") for c in got.cells if c.value is not None)


def _package(files: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
ROOT = f'<ofd:OFD {NS}><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>'
DOC = (f'<ofd:Document {NS}><ofd:CommonData><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox>'
       f'</ofd:PageArea></ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>'
       f'</ofd:Pages></ofd:Document>')


@pytest.mark.parametrize("files, why", [
    ({"OFD.xml": f"<ofd:OFD {NS}/>"}, "no document"),
    ({"OFD.xml": ROOT}, "lacks Doc_0/Document.xml"),
    ({"OFD.xml": ROOT, "Doc_0/Document.xml": DOC}, "lacks Doc_0/Pages/Page_0/Content.xml"),
    ({"OFD.xml": ROOT, "Doc_0/Document.xml": DOC[:-20]}, "not well-formed"),
])
def test_broken_packages_fail_with_the_reason(files, why):
    r = parse_bytes(_package(files), "broken.ofd")
    assert r.status == "failed" and why in r.reason


def test_entities_are_not_expanded():
    evil = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            f'<ofd:Page {NS}><ofd:Content><ofd:Layer><ofd:TextObject Boundary="0 0 100 10" Size="5">'
            '<ofd:TextCode X="0" Y="5">&x;</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>')
    r = parse_bytes(_package({"OFD.xml": ROOT, "Doc_0/Document.xml": DOC, "Doc_0/Pages/Page_0/Content.xml": evil}),
                    "evil.ofd")
    assert "root:" not in repr(r)


def test_ofd_zip_bomb_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", ROOT)
        z.writestr("Doc_0/Document.xml", DOC.encode() + b" " * (300 * 1024 * 1024))
    r = parse_bytes(buf.getvalue(), "bomb.ofd")
    assert r.status == "failed" and "zip bomb" in r.reason


def test_the_site_draws_an_ofd_cells_page_with_its_box(printed, tmp_path):
    """A figure read from an OFD links to its page drawn as an image, boxed where it is."""
    import urllib.request

    from nianbao.pipeline import store
    from nianbao.pipeline.site import server

    pdf = next(pdf for spec, pdf in printed if spec.report_year >= 2019)  # the site links tables 2–4
    ofd = pdf_to_ofd(pdf)
    archive = store.Archive(tmp_path / "archive.db")
    sha, _ = archive.add_document(ofd, type="ofd", original_name="report.ofd")
    report = parse_bytes(ofd, "report.ofd")
    archive.write_report(sha, report)
    archive.finish()
    archive.close()
    cell = next(c for c in report.cells if c.table == 3 and c.value is not None and c.source.get("bbox"))
    proc, url = server.start(tmp_path / "archive.db")
    try:
        html = urllib.request.urlopen(f"{url}/report/{sha}/cell/{cell.table}/{cell.row}/{cell.col}").read().decode()
        page = cell.source["page"]
        assert f"/report/{sha}/page/{page}.png?box=" in html
        box = ",".join(str(v) for v in cell.source["bbox"])
        with urllib.request.urlopen(f"{url}/report/{sha}/page/{page}.png?box={box}") as r:
            assert r.headers["content-type"] == "image/png" and r.read()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        server.stop(proc)
