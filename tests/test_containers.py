"""Containers beyond the everyday ones: legacy Word through LibreOffice, and zip bombs.

A legacy .doc must come out with the same cells as the DOCX it was saved from; a
DOCX-shaped zip bomb must be refused before anything inflates it."""
from __future__ import annotations

import io
import zipfile

import pytest

from nianbao.pipeline.document import parse_bytes
from nianbao.pipeline.extract import convert_with_libreoffice
from nianbao.pipeline.sniff import sniff
from nianbao.devkit.generate import expected_cells, random_report, render_docx


@pytest.mark.slow
def test_legacy_doc_parses_like_its_docx():
    spec = random_report(7, year=2022, variations={"merged_cells"})
    doc = convert_with_libreoffice(render_docx(spec), "docx", "doc")
    assert sniff(doc) == "doc"
    report = parse_bytes(doc, "report.doc")
    assert report.container == "doc" and report.status in ("ok", "figures_inconsistent")
    got = {(c.table, c.row, c.col): c.value for c in report.cells}
    want = {(e["table"], e["row"], e["col"]): e["value"] for e in expected_cells(spec)}
    assert got == want


def test_zip_bomb_is_refused_without_inflating():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document>" + b" " * (300 * 1024 * 1024) + b"</w:document>")
    data = buf.getvalue()
    assert len(data) < 2 * 1024 * 1024 and sniff(data) == "docx"
    report = parse_bytes(data, "bomb.docx")
    assert report.status == "failed" and "zip bomb" in report.reason


def test_corrupt_docx_and_unknown_types_fail_with_reasons():
    assert parse_bytes(b"PK\x03\x04" + b"\x00" * 100, "x.docx").status == "failed"
    png = parse_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "scan.png")
    assert png.status == "failed" and "image" in png.reason
    ofd = io.BytesIO()
    with zipfile.ZipFile(ofd, "w") as z:
        z.writestr("OFD.xml", "<ofd:OFD/>")
    r = parse_bytes(ofd.getvalue(), "report.ofd")
    assert r.status == "failed" and "OFD" in r.reason


def test_a_docx_with_broken_xml_or_deflate_is_corrupt_not_a_crash():
    """Found by fuzzing: a cut document.xml (lxml XMLSyntaxError) or a damaged deflate
    stream (zlib.error) came out as "docx extractor crashed"."""
    from nianbao.devkit import generate

    src = zipfile.ZipFile(io.BytesIO(generate.render_docx(generate.random_report(1))))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            out.writestr(info.filename, data[: len(data) // 2] if info.filename == "word/document.xml" else data)
    r = parse_bytes(buf.getvalue(), "cut.docx")
    assert r.status == "failed" and r.reason.startswith("corrupt DOCX"), r.reason
    raw = bytearray(buf.getvalue())
    at = raw.index(b"word/document.xml") + 40  # inside that member's deflate stream
    raw[at:at + 64] = bytes(64)
    r = parse_bytes(bytes(raw), "damaged.docx")
    assert r.status == "failed" and "crashed" not in r.reason, r.reason


@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("render", ["html", "text"])
def test_utf16_files_with_a_bom_parse_like_utf8(enc, render):
    """Notepad's and Word's "Unicode" save is UTF-16 with a BOM: it was `unknown`, failed."""
    from nianbao.devkit.generate import render_html, render_text

    spec = random_report(77)
    utf8 = render_html(spec, encoding="utf-8") if render == "html" else render_text(spec)
    text = utf8.decode("utf-8")
    if render == "html":
        text = text.replace('charset="utf-8"', 'charset="utf-16"').replace("charset=utf-8", "charset=utf-16")
    data = ("\ufeff" + text).encode(enc)
    assert sniff(data) == ("html" if render == "html" else "txt")
    want, got = parse_bytes(utf8), parse_bytes(data)
    assert got.status == want.status and got.status != "failed", got.reason
    assert {(c.table, c.row, c.col, c.value) for c in got.cells} == {(c.table, c.row, c.col, c.value) for c in want.cells}
    assert got.title == want.title and got.agency == want.agency and got.report_year == want.report_year
