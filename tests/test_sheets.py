"""Workbooks (XLSX, XLS, Kingsoft ET) and Kingsoft WPS documents read cell for cell.

Generated reports are written as workbooks the ways agencies lay them out
(devkit.sheets: everything on one sheet with headings and blank rows between the
tables, or one sheet per table; figures stored as numbers or as printed text), and
saved as XLS by LibreOffice; ET files are BIFF8 workbooks under another name, WPS
files Word binaries. The generator's figures are the answer key."""
from __future__ import annotations

import io

import pytest

from nianbao.devkit import generate
from nianbao.devkit.sheets import render_xls, render_xlsx
from nianbao.pipeline.document import parse_bytes
from nianbao.pipeline.sniff import sniff

SEEDS = [0, 3, 6, 9, 12, 15]


def _check(spec, report) -> None:
    want = {(str(c["table"]), c["row"], c["col"]): c["value"] for c in generate.expected_cells(spec)}
    got = {(str(c.table), c.row, c.col): c.value for c in report.cells}
    assert {k: got.get(k) for k in want} == want, spec.seed
    assert report.report_year == spec.report_year and report.title == spec.title


@pytest.mark.parametrize("layout", ["whole", "sheets"])
@pytest.mark.parametrize("numbers", [True, False], ids=["numbers", "text"])
def test_xlsx_reads_every_cell(layout, numbers):
    for seed in SEEDS:
        spec = generate.random_report(seed)
        data = render_xlsx(spec, layout=layout, numbers=numbers)
        assert sniff(data) == "xlsx"
        r = parse_bytes(data, "report.xlsx")
        assert r.container == "xlsx" and r.status in ("ok", "figures_inconsistent"), (seed, r.reason)
        _check(spec, r)
        if layout == "whole":
            assert r.agency == spec.agency


def test_xls_and_et_through_libreoffice():
    spec = generate.random_report(SEEDS[1])
    xls = render_xls(spec)
    assert sniff(xls) == "xls"
    for name in ("report.xls", "report.et"):
        r = parse_bytes(xls, name)
        assert r.container == "xls" and r.status == "ok", r.reason
        _check(spec, r)


def test_wps_is_read_by_the_word_importer():
    spec = generate.random_report(SEEDS[2])
    wps = generate.convert_to(generate.render_docx(spec), "docx", "doc")
    assert sniff(wps) == "doc"
    r = parse_bytes(wps, "report.wps")
    assert r.status == "ok", r.reason
    _check(spec, r)


def test_corrupt_workbooks_fail_with_the_reason():
    r = parse_bytes(b"PK\x03\x04" + b"\x00" * 200, "broken.xlsx")
    assert r.status == "failed" and r.reason
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook")
    r = parse_bytes(buf.getvalue(), "broken.xlsx")
    assert r.status == "failed" and "XLSX" in r.reason


def test_a_huge_sheet_is_cut_with_a_warning():
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "某某局2023年政府信息公开工作年度报告"
    for r in range(2, 6002):
        ws.cell(row=r, column=1, value=r)
        ws.cell(row=r, column=2, value=r * 2)
    buf = io.BytesIO()
    wb.save(buf)
    r = parse_bytes(buf.getvalue(), "big.xlsx")
    assert any("only the first" in w for w in r.meta.get("warnings", []))
