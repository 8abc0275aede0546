"""A report that could not be read is never "not a report" (issue 10, status first).

Scans are made here from generated reports printed in several layouts: every page
rasterised (a whole scan), or only the pages that carry the tables (a text report
with scanned annexes). Until OCR exists the verdict must be extraction_incomplete
with a reason that says what to do, never not_a_report."""
from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from nianbao.devkit import generate
from nianbao.devkit.scan import as_scan
from nianbao.pipeline.document import parse_bytes

SEEDS = [3, 11, 29, 47]


@pytest.fixture(autouse=True)
def no_ocr(monkeypatch):
    """As on an install without the OCR engine (with it: tests/test_ocr.py)."""
    monkeypatch.setenv("NIANBAO_OCR", "0")


@pytest.fixture(scope="module")
def printed() -> list[bytes]:
    specs = [generate.random_report(s) for s in SEEDS]
    return generate.render_many_pdf(specs[:2], via="html") + generate.render_many_pdf(specs[2:], via="docx")


def test_text_pdfs_read_before_scanning(printed):
    # The control: the same documents with their text layer are reports.
    for pdf in printed:
        assert parse_bytes(pdf, "report.pdf").status != "not_a_report"


@pytest.mark.parametrize("dpi", [100, 150])
def test_whole_scan_is_incomplete_not_a_non_report(printed, dpi):
    for pdf in printed:
        r = parse_bytes(as_scan(pdf, dpi=dpi), "report.pdf")
        assert r.status == "extraction_incomplete", (r.status, r.reason)
        assert "OCR" in r.reason and "reparse" in r.reason
        assert r.cells == []  # nothing guessed


def _table_pages(pdf: bytes) -> set[int]:
    doc = pdfium.PdfDocument(pdf)
    marks = ("申请人", "行政复议", "主动公开")
    return {i + 1 for i in range(len(doc))
            if i > 0 and any(m in doc[i].get_textpage().get_text_range() for m in marks)}


def test_scanned_table_pages_in_a_text_report(printed):
    for pdf in printed:
        pages = _table_pages(pdf)
        if not pages:
            continue
        r = parse_bytes(as_scan(pdf, pages=pages), "report.pdf")
        assert r.status in ("extraction_incomplete", "figures_inconsistent"), (r.status, r.reason)
        if r.status == "extraction_incomplete":
            assert "OCR" in r.reason and str(min(pages)) in r.reason


def test_images_fail_with_what_to_do():
    png = parse_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "scan.png")
    assert png.status == "failed" and "OCR" in png.reason and "kept" in png.reason and "pip install" in png.reason
