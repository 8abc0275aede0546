"""A small archive whose every figure is known, for the site's tests and screenshots:
the real 洪泽区 PDF and 上海 HTML samples with their read-by-eye cells, a report titled
with a <script> tag, and seeded synthetic reports (nianbao.devkit.synth)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nianbao.devkit.synth import reports, document_bytes
from nianbao.pipeline import agencies, store, templates
from nianbao.pipeline.model import FIGURES_INCONSISTENT, OK, Cell, Issue, Report, Section

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "samples"
# Where 淮安市洪泽区 2023 prints table 4 (page 4, pdfplumber word boxes): x0 of each of the 15 numbers.
_HONGZE_T4_X = [86.2, 121.2, 152.4, 183.6, 213.2, 241.6, 269.9, 295.3, 324.4, 354.8, 383.6, 412.0, 440.4, 468.7, 497.4]
HONGZE_TEXT = ("2023年，洪泽区人民政府坚持以公开为常态，组织重大行政决策听证会2场，"
               "因政府信息公开工作被申请行政复议11件，提起行政诉讼5件。")


def hongze_report() -> Report:
    """淮安市洪泽区 2023 as read by eye (samples/*.expected.json), with its printed table-4 errors."""
    exp = json.loads((SAMPLES / "huaian-hongze-2023.expected.json").read_text("utf-8"))
    cells = []
    t4 = [(g.code, c.code) for g in templates.T4_GROUPS for c in templates.T4_COLS]
    for c in exp["cells"]:
        if c["table"] == 4:
            x0 = _HONGZE_T4_X[t4.index((c["row"], c["col"]))]
            src = {"page": 4, "bbox": [x0, 452.1, x0 + 14, 466.1]}
        else:
            src = {"page": c["table"]}
        v = c["value"]
        cells.append(Cell(c["table"], c["row"], c["col"], v, "" if v is None else str(v), src))
    rep = Report(status=OK, agency=exp["agency"], report_year=exp["report_year"],
                 title="淮安市洪泽区人民政府2023年政府信息公开工作年度报告", container="pdf",
                 templates={"2": "2021", "3": "2019", "4": "2021"}, cells=cells,
                 sections=[Section(1, "一、总体情况", HONGZE_TEXT),
                           Section(5, "五、存在的主要问题及改进情况", "政策解读的形式还不够丰富。")],
                 meta={"published": "2024-01-18", "pages": 5})
    for group in ("review", "suit_after_review"):
        total = rep.cell(4, group, "total").value
        parts = sum(rep.cell(4, group, c).value for c in ("upheld", "corrected", "other", "pending"))
        if parts != total:
            rep.issues.append(Issue("rule", "t4_total", f"表四{templates.ROW_LABELS[(4, group)]}：各项之和{parts}不等于总计{total}",
                                    4, group, "total", lhs=parts, rhs=total,
                                    cells=[[group, c] for c in ("upheld", "corrected", "other", "pending", "total")]))
            rep.status = FIGURES_INCONSISTENT
    return rep


def shanghai_report(html: bytes) -> Report:
    """上海市人民政府办公厅 2019 (HTML) as read by eye; 采购总金额 carries where the HTML
    extractor finds it printed (「251000元」), so its provenance can be shown."""
    from nianbao.pipeline.extract.html import extract_html

    exp = json.loads((SAMPLES / "shanghai-bgt-2019.expected.json").read_text("utf-8"))
    where = next((c.source for g in extract_html(html).tables for row in g.rows for c in row if "251000" in c.text), {})
    cells = []
    for c in exp["cells"]:
        v = c["value"]
        if (c["row"], c["col"]) == ("procurement", "amount"):
            cells.append(Cell(2, "procurement", "amount", v, "251000元", where))
        else:
            cells.append(Cell(c["table"], c["row"], c["col"], v, "" if v is None else str(v), {}))
    return Report(status=OK, agency=exp["agency"], report_year=exp["report_year"],
                  title="上海市人民政府办公厅2019年政府信息公开工作年度报告", container="html",
                  templates={"2": "2019", "3": "2019", "4": "2019"}, cells=cells,
                  sections=[Section(1, "一、总体情况", "2019年，市政府办公厅深入推进政务公开。")])


def _placed(rep: Report) -> Report:
    """The place and identity the parser gives a report of this agency."""
    p = agencies.identify(rep.agency)
    rep.adcode, rep.province, rep.city, rep.county, rep.agency_id = (
        p["adcode"], p["province"], p["city"], p["county"], p["agency_id"])
    return rep


def known_archive(db_path: Path | str, n_synthetic: int = 40, seed: int = 11) -> dict[str, Any]:
    """A small archive whose every figure is known: the real 洪泽区 PDF and 上海 HTML with
    their read-by-eye cells, a report titled with a <script> tag, and seeded synthetic
    reports. Returns {"archive": Archive, "hongze", "shanghai", "script": sha256,
    "reports": {sha256: Report}}."""
    a = store.Archive(db_path)
    out: dict[str, Any] = {"archive": a, "reports": {}}
    pdf = (SAMPLES / "huaian-hongze-2023.pdf").read_bytes()
    d, _ = a.add_document(pdf, type="pdf", original_name="P020240118.pdf",
                          url="http://www.hongze.gov.cn/hzqrmzf/zfxxgknb/P020240118.pdf", site="mock-hongze",
                          content_type="application/pdf", http_status=200, fetched_at=store.now())
    rep = _placed(hongze_report())
    a.write_report(d, rep)
    out["hongze"], out["reports"][d] = d, rep
    html = (SAMPLES / "shanghai-bgt-2019.html").read_bytes()
    d, _ = a.add_document(html, type="html", original_name="shanghai.html",
                          url="https://www.shanghai.gov.cn/nw12344/20200327/shanghai.html")
    rep = _placed(shanghai_report(html))
    a.write_report(d, rep)
    out["shanghai"], out["reports"][d] = d, rep
    evil = _placed(Report(status=OK, agency="测试县人民政府", report_year=2022, title="<script>alert(1)</script>年报",
                  container="html", sections=[Section(1, "<b>一、总体情况</b>", "<img src=x onerror=alert(2)>正文")]))
    d, _ = a.add_document(b"<html><script>alert(3)</script>evil</html>", type="html", original_name="evil.html",
                          url="javascript:alert(4)")
    a.write_report(d, evil)
    out["script"], out["reports"][d] = d, evil
    for r in reports(seed, n_synthetic, n_agencies=6):
        d, _ = a.add_document(document_bytes(r), type=r.container or "html",
                              original_name=f"{r.report_year}.{r.container}")
        a.write_report(d, r)
        out["reports"][d] = r
    a.finish()
    return out
