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


def test_text_drawn_as_outlines_needs_ocr(printed):
    spec, pdf = printed[1]
    got = parse_bytes(pdf_to_ofd(pdf, Variant(text="outlines")), "report.ofd")
    assert got.status == "extraction_incomplete" and "OCR" in got.reason
    assert all(c.value is None for c in got.cells)


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
