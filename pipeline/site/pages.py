"""What the site's own pages show: the report laid out like the official template,
search results with highlighted snippets, trend charts, the original document.

Pure functions turn query rows into page structures (testable without a server); the
Datasette plugin (plugins/nianbao_site.py) runs the queries and renders templates.
"""
from __future__ import annotations

import json
import re
from html import escape
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from .. import old_template, templates
from . import charts, metadata

REPORT_ID = re.compile(r"^[0-9a-f]{64}$")

# Content types we serve the raw store under; anything else is a download.
CONTENT_TYPES = {
    "pdf": "application/pdf", "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword", "txt": "text/plain; charset=utf-8", "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "wps": "application/vnd.ms-works",
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "tif": "image/tiff", "ofd": "application/ofd",
    "zip": "application/zip",
}
STATUS_LABELS = {"ok": "正常", "figures_inconsistent": "原文数字违反勾稽关系", "extraction_incomplete": "提取不完整",
                 "not_a_report": "不是年报", "failed": "解析失败"}


def highlight(snippet: str | None) -> Markup:
    """Escape a snippet and turn its [[hit]] markers into <mark>: nothing else becomes HTML."""
    text = escape(snippet or "")
    return Markup(re.sub(r"\[\[(.+?)\]\]", r"<mark>\1</mark>", text))


# ---------------------------------------------------------------- original document
def download_name(doc: dict[str, Any], report: dict[str, Any] | None) -> str:
    """A readable file name: 机关-年度.ext, falling back to the stored original name, then the hash."""
    ext = (doc.get("type") or "bin").lower()
    if report and report.get("agency") and report.get("report_year"):
        base = f"{report['agency']}-{report['report_year']}年报"
    elif doc.get("original_name"):
        base = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", doc["original_name"])
    else:
        base = doc["sha256"][:16]
    base = re.sub(r"[\\/:*?\"<>|\r\n\t]+", "_", base)[:120]
    return f"{base}.{ext}"


def raw_headers(doc: dict[str, Any], report: dict[str, Any] | None, download: bool) -> tuple[str, dict[str, str]]:
    ctype = CONTENT_TYPES.get((doc.get("type") or "").lower(), "application/octet-stream")
    name = download_name(doc, report)
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    disposition = "attachment" if download or ctype == "application/octet-stream" else "inline"
    headers = {
        "content-disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "x-content-type-options": "nosniff",
        "cache-control": "public, max-age=31536000, immutable",
    }
    if ctype != "application/pdf":  # Chromium will not show a PDF under a sandbox policy
        # A published page is third-party HTML: shown from our origin it must not run scripts.
        headers["content-security-policy"] = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
    return ctype, headers


# ---------------------------------------------------------------- report page
def number_text(v: float) -> str:
    """As printed: 251000 not 251000.0 nor 2.51e+05; 7730.28 stays."""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else f"{v:.6f}".rstrip("0").rstrip(".")
    return str(v)


def _source_text(src: Any) -> str:
    if not src:
        return "出处未记录"
    if not isinstance(src, dict):
        return json.dumps(src, ensure_ascii=False)
    if "page" in src:
        box = src.get("bbox")
        where = f"第{src['page']}页（扫描页，文字识别）" if "ocr_conf" in src else f"PDF 第{src['page']}页"
        return where + (f"，坐标 {', '.join(number_text(v) for v in box)}" if box else "")
    if "sheet" in src:
        return f"工作簿第{src['sheet'] + 1}张表 第{src.get('row')}行第{src.get('col')}列"
    if "line" in src:
        return f"文本第{src['line']}行第{src.get('cell', 0) + 1}格"
    if "table" in src:
        return f"第{src['table'] + 1}个表格 第{src.get('row', 0) + 1}行 第{src.get('cell', 0) + 1}格"
    return json.dumps(src, ensure_ascii=False)


def cell_view(cell: dict[str, Any] | None, raw_url: str, marks: dict[tuple[str, str], list[str]], row: str,
              col: str, report_id: str, table: int) -> dict[str, Any]:
    """One number as shown: value, how it was printed, where it was read, which rules it breaks."""
    broken = marks.get((row, col), [])
    if cell is None:
        return {"text": "", "cls": "absent", "title": "原文中未找到此单元格", "href": None, "broken": broken}
    src = json.loads(cell["source"]) if cell.get("source") else None
    v = cell.get("value")
    if v is None:
        text = cell.get("raw") or ""
        cls = "missing" if cell.get("reason") else "blank"
    else:
        text = number_text(v)
        cls = "num"
    title = _source_text(src)
    if cell.get("raw") not in (None, text):
        title += f"；原文「{cell['raw']}」"
    if cell.get("reason"):
        title += f"；{cell['reason']}"
    if broken:
        cls += " broken"
        title += "；违反：" + "；".join(broken)
    href = f"/report/{report_id}/cell/{table}/{row}/{col}"
    return {"text": text, "cls": cls, "title": title, "href": href, "broken": broken}


def _rule_marks(issues: list[dict[str, Any]], table: int) -> dict[tuple[str, str], list[str]]:
    marks: dict[tuple[str, str], list[str]] = {}
    for i in issues:
        if i.get("table_no") != table:
            continue
        involved = json.loads(i["cells"]) if i.get("cells") else ([[i["row"], i["col"]]] if i.get("row") else [])
        for r, c in involved:
            marks.setdefault((r, c), []).append(f"{i['code']}：{i.get('message') or ''}")
    return marks


def _infer_template(cells: dict[tuple[int, str, str], dict], table: int, printed: str | None) -> str:
    if printed in ("2019", "2021"):
        return printed
    if table == 3:
        return "2021" if any(k[1].startswith("other.") for k in cells if k[0] == 3) else "2019"
    if table == 2:
        return "2019" if any(k[2] in ("made", "prev_items") for k in cells if k[0] == 2) else "2021"
    return "2021"


def table2(cells, template, marks, raw_url, rid) -> list[dict[str, Any]]:
    """Table 2 as printed: one block per 第二十条 item, its rows, its columns."""
    out = []
    for block, (rows, cols) in templates.table2_layout(template).items():
        out.append({"block": block, "cols": [c.label for c in cols], "rows": [
            {"label": r.label, "cells": [cell_view(cells.get((2, r.code, c.code)), raw_url, marks, r.code, c.code, rid, 2)
                                         for c in cols]} for r in rows]})
    return out


def table3(cells, template, marks, raw_url, rid) -> list[dict[str, Any]]:
    """Table 3 rows with the official label columns: a top heading (一…四), a block
    （三）不予公开 spanning its items, and the item; `spans` say how cells merge."""
    rows = templates.table3_rows(template)
    out = []
    top_results = [r for r in rows if r.block == "三、本年度办理结果" or r.block.startswith("（")]
    for r in rows:
        entry: dict[str, Any] = {"code": r.code, "labels": []}
        if r.block == "" and r.code in ("new", "carried_in", "carried_out"):
            entry["labels"].append({"text": r.label, "colspan": 3, "rowspan": 1})
        else:
            if r is top_results[0]:
                entry["labels"].append({"text": "三、本年度办理结果", "colspan": 1, "rowspan": len(top_results)})
            if r.block.startswith("（"):
                group = [x for x in rows if x.block == r.block]
                if r is group[0]:
                    entry["labels"].append({"text": r.block, "colspan": 1, "rowspan": len(group)})
                entry["labels"].append({"text": r.label, "colspan": 1, "rowspan": 1})
            else:
                entry["labels"].append({"text": r.label, "colspan": 2, "rowspan": 1})
        entry["cells"] = [cell_view(cells.get((3, r.code, c.code)), raw_url, marks, r.code, c.code, rid, 3)
                          for c in templates.T3_COLS]
        out.append(entry)
    return out


def table4(cells, marks, raw_url, rid) -> list[dict[str, Any]]:
    return [cell_view(cells.get((4, g.code, c.code)), raw_url, marks, g.code, c.code, rid, 4)
            for g in templates.T4_GROUPS for c in templates.T4_COLS]


CROSS_CHECK_KINDS = ("continuity", "prose", "cumulative")


def old_table(old_rows: list[dict]) -> list[dict[str, Any]]:
    """The 2008–2018 统计表 as read: one row per indicator, in the vocabulary's order."""
    order = {r.code: i for i, r in enumerate(old_template.ROWS)}
    rows: dict[str, dict[str, Any]] = {}
    for c in old_rows:
        row = rows.setdefault(c["row"], {"code": c["row"], "label": c["label"] or old_template.LABELS.get(c["row"]),
                                         "unit": c["unit"] or "", "year": None, "cumulative": None})
        text = number_text(c["value"]) if c["value"] is not None else (c["raw"] or "")
        row[c["col"]] = {"text": text, "missing": c["value"] is None and bool(c["reason"]), "reason": c["reason"]}
    return sorted(rows.values(), key=lambda r: order.get(r["code"], 999))


def report_context(report: dict, doc: dict | None, cell_rows: list[dict], issues: list[dict],
                   sections: list[dict], old_rows: list[dict] | None = None) -> dict[str, Any]:
    rid = report["id"]
    cells = {(c["table_no"], c["row"], c["col"]): c for c in cell_rows}
    raw_url = f"/raw/{rid}"
    t2 = _infer_template(cells, 2, report.get("template_t2"))
    t3 = _infer_template(cells, 3, report.get("template_t3"))
    known = {(2, r, c) for r, c, _ in templates.expected_cells(2, t2)} | \
            {(3, r, c) for r, c, _ in templates.expected_cells(3, t3)} | \
            {(4, r, c) for r, c, _ in templates.expected_cells(4, "2021")}
    stray = [dict(c, label=templates.ROW_LABELS.get((c["table_no"], c["row"]), c["row"]) + "·" +
                  templates.COL_LABELS.get((c["table_no"], c["col"]), c["col"]))
             for k, c in sorted(cells.items()) if k not in known]
    meta = json.loads(report["meta"]) if report.get("meta") else {}
    has = {t: any(k[0] == t for k in cells) for t in (2, 3, 4)}
    return {
        "report": report, "doc": doc or {}, "meta": meta, "raw_url": raw_url,
        "status_label": STATUS_LABELS.get(report.get("status"), report.get("status")),
        "download_name": download_name(doc or {"sha256": rid}, report),
        "rules": [i for i in issues if i["kind"] == "rule"],
        "cross_checks": [dict(i, evidence=json.loads(i["evidence"]) if i.get("evidence") else {})
                         for i in issues if i["kind"] in CROSS_CHECK_KINDS],
        "other_issues": [i for i in issues if i["kind"] != "rule" and i["kind"] not in CROSS_CHECK_KINDS],
        "old": old_table(old_rows or []),
        "old_cumulative": any(c["col"] == "cumulative" for c in old_rows or []),
        "has": has, "tpl2": t2, "tpl3": t3,
        "t2": table2(cells, t2, _rule_marks(issues, 2), raw_url, rid),
        "t3": table3(cells, t3, _rule_marks(issues, 3), raw_url, rid),
        "t3_cols": templates.T3_COLS,
        "t4": table4(cells, _rule_marks(issues, 4), raw_url, rid),
        "t4_groups": templates.T4_GROUPS, "t4_cols": templates.T4_COLS,
        "stray": stray, "sections": sections,
    }


# ---------------------------------------------------------------- agencies
MEASURES = [("requests", "收到申请"), ("granted", "予以公开"), ("partly_granted", "部分公开"),
            ("reviews", "行政复议"), ("lawsuits", "行政诉讼")]


def agency_context(agency_id: str, reports: list[dict], series: list[dict], checks: list[dict]) -> dict[str, Any]:
    years = sorted({r["report_year"] for r in reports if r["report_year"] is not None})
    by = {(s["report_year"], s["measure"]): s for s in series}
    rows = [{"year": y, "template": next((by[(y, m)]["template"] for m, _ in MEASURES if (y, m) in by), ""),
             "figures": [number_text(by[(y, m)]["value"]) if (y, m) in by and by[(y, m)]["value"] is not None else ""
                        for m, _ in MEASURES],
             "reports": [r for r in reports if r["report_year"] == y]} for y in years]
    first = reports[-1]
    names = sorted({r["agency"] for r in reports if r["agency"]})
    chart = charts.lines("历年收到申请与行政复议", years,
                         {"收到申请": [_num(by.get((y, "requests"))) for y in years],
                          "行政复议": [_num(by.get((y, "reviews"))) for y in years]}) if years else ""
    return {"agency_id": agency_id, "names": names, "place": [first["province"], first["city"], first["county"]],
            "adcode": first["adcode"], "measures": [label for _, label in MEASURES], "rows": rows,
            "checks": checks, "chart": chart,
            "missing_years": [y for y in range(years[0], years[-1] + 1) if y not in years] if years else []}


def _num(s: dict | None) -> float | None:
    return None if s is None else s["value"]


# ---------------------------------------------------------------- charts
CHART_SQL = f"""SELECT report_year,
  SUM(t3_new) AS new, SUM(t3_granted) AS granted, SUM(t3_partly_granted) AS partly,
  {metadata._sum(*metadata._DENIED)} AS denied, {metadata._sum(*metadata._UNAVAIL)} AS unavailable,
  {metadata._sum(*metadata._NOTPROC)} AS not_processed, {metadata._sum(*metadata._OTHER)} AS other,
  {', '.join(f'SUM({c}) AS {c}' for c in metadata._DENIED)},
  {', '.join(f'SUM(review_{c}) AS review_{c}, SUM(suit_direct_{c}) + SUM(suit_after_review_{c}) AS suit_{c}'
             for c in ('upheld', 'corrected', 'other', 'pending'))}
FROM {{source}}
GROUP BY report_year ORDER BY report_year"""


def chart_sql(agency: bool) -> str:
    """One agency's charts sum its own figures rows; every other chart sums year_totals."""
    source = ("figures WHERE is_primary = 1 AND t3_cells > 0 AND agency = :agency" if agency
              else "year_totals WHERE has_t3 = 1")
    return CHART_SQL.replace("{source}", source + " AND report_year IS NOT NULL"
                                                  " AND (:province = '' OR province = :province)")


def charts_context(rows: list[dict]) -> dict[str, Any]:
    years = [r["report_year"] for r in rows]
    col = lambda k: [r[k] for r in rows]
    outcome = {"予以公开": "granted", "部分公开": "partly", "不予公开": "denied", "无法提供": "unavailable",
               "不予处理": "not_processed", "其他处理": "other"}
    results = {
        "requests": charts.lines("新收政府信息公开申请（件）", years, {"新收申请": col("new")}),
        "outcomes": charts.stacked("办理结果构成（%）", years, {k: col(v) for k, v in outcome.items()}, percent=True),
        "refusals": charts.bars("不予公开理由（全部年度合计，件）", [
            (metadata.short_label(c), sum(r[c] or 0 for r in rows)) for c in metadata._DENIED]),
        "reviews": charts.stacked("行政复议结果（件）", years, {
            "维持": col("review_upheld"), "纠正": col("review_corrected"), "其他": col("review_other"),
            "尚未审结": col("review_pending")}),
        "suits": charts.stacked("行政诉讼结果（件）", years, {
            "维持": col("suit_upheld"), "纠正": col("suit_corrected"), "其他": col("suit_other"),
            "尚未审结": col("suit_pending")}),
    }
    return {"charts": {k: Markup(v) for k, v in results.items()}, "years": years, "rows": rows}


# ---------------------------------------------------------------- HTML provenance
def source_table_html(data: bytes, src: dict[str, Any]) -> Markup | None:
    """The published HTML table a number was read from, redrawn from its text (nothing of
    the publisher's markup survives) with the cell at src {"table", "row", "cell"} marked.

    Tables are counted exactly as pipeline.extract.html counts them (after dropping
    script/style/head), so the indexes in `source` point at the same cell."""
    import lxml.html
    from lxml import etree

    from ..extract import html as xh

    try:
        text, _ = xh.decode_text(data, xh._declared_charset(data))
        text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
        root = lxml.html.document_fromstring(text or "<html></html>", parser=lxml.html.HTMLParser(huge_tree=True))
    except (ValueError, UnicodeError, LookupError, etree.LxmlError):  # the link to the original still works
        return None
    for el in root.xpath(xh._DROP):
        el.drop_tree()
    tables = list(root.iter("table"))
    if not isinstance(src.get("table"), int) or not 0 <= src["table"] < len(tables):
        return None
    table = tables[src["table"]]
    trs = [tr for tr in table.iter("tr") if next(tr.iterancestors("table"), None) is table]
    out = ['<table class="official source-table">']
    for r, tr in enumerate(trs):
        out.append("<tr>")
        for c, td in enumerate(x for x in tr if isinstance(x.tag, str) and x.tag in xh._CELL):
            hit = r == src.get("row") and c == src.get("cell")
            spans = "".join(f' {k}="{min(xh._span(td.get(k)), 50)}"' for k in ("rowspan", "colspan") if td.get(k))
            mark = ' class="hit" id="hit"' if hit else ""
            out.append(f"<td{spans}{mark}>{escape(xh._clean(td.text_content()))}</td>")
        out.append("</tr>")
    out.append("</table>")
    return Markup("".join(out))


def one_hit_per_report(rows: list[dict], limit: int = 50) -> list[dict]:
    """Section hits (best first) grouped by report: the best section stands for the
    report, `more_hits` counts its other matching sections."""
    best: dict[str, dict] = {}
    for r in rows:
        if r["report"] in best:
            best[r["report"]]["more_hits"] += 1
        elif len(best) < limit:
            best[r["report"]] = {**r, "more_hits": 0}
    return list(best.values())
