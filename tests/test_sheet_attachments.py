"""A report's tables published as a separate workbook (issue 10): a detail page prints
the six sections and 「附件：统计表.xlsx」, the statistical tables are only in the
attached XLSX / XLS (Kingsoft ET is the same BIFF8 workbook). The publication's report
takes its text and metadata from the page and its cells from the workbook, each cell
pointing at the workbook's document; the workbook read alone stays a non-primary
document of the same publication (derived.py ranks figures first, then text)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from dbq import rows
from nianbao.devkit import generate
from nianbao.devkit.portals import start_portals, stop_portals
from nianbao.devkit.sheets import render_xlsx
from nianbao.pipeline.document import parse_bytes
from nianbao.pipeline.model import Attached

pytestmark = pytest.mark.timeout(300)


def _text_page(spec) -> bytes:
    page = generate.render_html(spec, encoding="utf-8").decode("utf-8")
    page = re.sub(r'(?s)<table(?! class="title")[^>]*>.*?</table>', "", page)
    return page.replace("</body>", '<p>附件：<a href="./P0_tj.xlsx">统计表.xlsx</a></p></body>').encode("utf-8")


def _judge(spec, report) -> None:
    want = {(str(c["table"]), c["row"], c["col"]): c["value"] for c in generate.expected_cells(spec)}
    got = {(str(c.table), c.row, c.col): c.value for c in report.cells}
    assert {k: v for k, v in want.items() if got.get(k) != v} == {}


@pytest.mark.parametrize("seed,year", [(3, None), (11, None), (26, None), (14, 2015)])
def test_page_text_and_workbook_cells_make_one_report(seed, year):
    spec = generate.random_report(seed, year=year)  # 2015: the older 统计表
    page = _text_page(spec)
    alone = parse_bytes(page, "page.html")
    assert not any(c.value is not None for c in alone.cells)
    book = Attached("http://x.gov.cn/nb/P0_tj.xlsx", render_xlsx(spec, layout="tables"), sha256="ab" * 32, kind="xlsx")
    rep = parse_bytes(page, "page.html", sheets=[book])
    _judge(spec, rep)
    assert rep.title == spec.title and rep.report_year == spec.report_year and rep.agency == spec.agency
    assert len(rep.sections) >= 6 and rep.status in ("ok", "figures_inconsistent")
    assert rep.meta["tables_from"] == [{"url": book.url, "document": book.sha256, "type": "xlsx"}]
    read = [c for c in rep.cells if c.value is not None]
    assert read and all(c.source["document"] == book.sha256 and "sheet" in c.source for c in read)


def test_a_text_pdf_and_its_workbook_make_one_report():
    """The main document may be a PDF attachment: its text, the workbook's cells."""
    spec = generate.random_report(14, year=2022)
    (pdf,) = generate.convert_to_pdf([("html", _text_page(spec))])
    alone = parse_bytes(pdf, "report.pdf")
    assert alone.status == "extraction_incomplete" and not any(c.value is not None for c in alone.cells)
    book = Attached("http://x.gov.cn/nb/tj.xls", render_xlsx(spec, layout="tables"), sha256="cd" * 32, kind="xlsx")
    rep = parse_bytes(pdf, "report.pdf", sheets=[book])
    _judge(spec, rep)
    assert rep.container == "pdf" and rep.title == spec.title and len(rep.sections) >= 6
    assert all(c.source["document"] == book.sha256 for c in rep.cells if c.value is not None)


def test_a_page_with_its_own_tables_keeps_them_and_a_bad_workbook_is_a_note():
    spec = generate.random_report(5)
    page = generate.render_html(spec, encoding="utf-8")
    other = generate.random_report(6)
    rep = parse_bytes(page, "page.html", sheets=[Attached("http://x/o.xlsx", render_xlsx(other), kind="xlsx")])
    _judge(spec, rep)
    assert "tables_from" not in rep.meta
    junk = Attached("http://x/b.xlsx", b"PK\x03\x04junk", kind="xlsx")
    bad = parse_bytes(_text_page(spec), "page.html", sheets=[junk])
    assert bad.status == "extraction_incomplete"
    assert any("http://x/b.xlsx" in w for w in bad.meta.get("warnings", []))


def test_crawled_page_and_workbook_are_one_primary_report(tmp_path):
    ps = start_portals(("trs_old", "hanweb"), n_reports=3, n_other=1, seed=7, forms=("xlsx", "html", "xls"),
                       first_host=95)
    try:
        d = tmp_path / "sites"
        d.mkdir()
        for p in ps:
            (d / f"{p.name}.yaml").write_text(yaml.safe_dump(p.site_config(), allow_unicode=True), encoding="utf-8")
        db = tmp_path / "archive.db"
        out = subprocess.run([sys.executable, "-m", "nianbao", "run", "--fast", "--archive", str(db), "--sites-dir",
                              str(d), "--workers", "2"], capture_output=True, text=True, timeout=600, env=os.environ)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
        expected = [e for p in ps for e in p.expected_reports()]
    finally:
        stop_portals(ps)
    assert {e["form"] for e in expected} == {"xlsx", "xls", "html"}
    for e in expected:
        prim = rows(db, "SELECT r.*, d.role FROM reports r JOIN documents d ON d.sha256 = r.id "
                        "WHERE r.publication = ? AND r.is_primary = 1", e["url"])
        assert len(prim) == 1
        r = prim[0]
        assert r["status"] == e["status"] and r["title"] == e["title"] and r["report_year"] == e["report_year"]
        got = {(str(c["table_no"]), c["row"], c["col"]): c for c in rows(db, "SELECT * FROM cells WHERE report = ?",
                                                                          r["id"])}
        wrong = [c for c in e["cells"] if got.get((str(c["table"]), c["row"], c["col"]), {}).get("value") != c["value"]]
        assert not wrong, wrong[:3]
        if e["form"] == "html":
            continue
        # The page is the report (its sections), the workbook its cells' document; the
        # workbook read alone is a non-primary document of the same publication.
        (book,) = rows(db, "SELECT d.sha256, d.type, d.url, r.is_primary, r.cells_found FROM fetches f "
                           "JOIN documents d ON d.sha256 = f.sha256 JOIN reports r ON r.id = d.sha256 "
                           "WHERE f.parent_url = ? AND f.role = 'attachment'", e["url"])
        assert book["type"] == e["form"] and book["is_primary"] == 0
        assert r["role"] == "detail" and r["cells_found"] == book["cells_found"]
        assert rows(db, "SELECT COUNT(*) AS n FROM sections WHERE report = ?", r["id"])[0]["n"] >= 6
        sources = [json.loads(c["source"]) for c in got.values() if c["value"] is not None]
        assert sources and all(s["document"] == book["sha256"] for s in sources)
        assert json.loads(r["meta"])["tables_from"][0]["url"] == book["url"]
