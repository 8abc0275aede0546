"""Datasette plugin of the nianbao archive (loaded with --plugins-dir).

Registers the bigram search functions on every connection (size-capped, see
pipeline/site/limits.py), the site's own pages (report, cell provenance, original
document, search, charts), Chinese column labels on table pages, links from report ids
to report pages, and the per-client limit on expensive requests.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

import datasette.handle_exception as default_errors
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape
from nianbao.pipeline.site import limits, metadata, pages, render
from nianbao.pipeline.store import RawStore, raw_root_for

# Datasette's own error page prints every exception with rich, locals and all: for a URL
# that no route matches it prints outside an `except` block, where rich raises, and the
# visitor got a 500 instead of a 404; and it is work any visitor can order by the
# thousand. Without rich it renders the same page and prints a plain traceback for
# server errors only (datasette is pinned exactly: this is its module's switch).
default_errors.rich = None


def _config(datasette) -> dict:
    return datasette.plugin_config("nianbao") or {}


def _db(datasette):
    name = _config(datasette).get("db")
    return datasette.get_database(name) if name else datasette.get_database()


def _limits(datasette) -> dict:
    return limits.configured(_config(datasette))


def _raw(datasette) -> RawStore:
    root = _config(datasette).get("raw_root")
    return RawStore(root or raw_root_for(_db(datasette).path))


async def _one(db, sql: str, params) -> dict | None:
    rows = (await db.execute(sql, params)).rows
    return dict(rows[0]) if rows else None


async def _all(db, sql: str, params) -> list[dict]:
    return [dict(r) for r in (await db.execute(sql, params)).rows]


@hookimpl
def prepare_connection(conn, datasette):
    limits.register_functions(conn, _limits(datasette), datasette.setting("sql_time_limit_ms"))


@hookimpl
def asgi_wrapper(datasette):
    caps = _limits(datasette)
    return lambda app: limits.concurrency_limiter(app, caps)


@hookimpl
def extra_css_urls():
    return ["/static/nianbao.css"]


@hookimpl
def extra_template_vars(template, database, table, datasette):
    labels = metadata.column_labels().get(table or "", {})
    return {
        "nianbao_labels": {c: lab for c, (lab, _) in labels.items()},
        "nianbao_hidden": metadata.HIDDEN_COLUMNS.get(table or "", []),
        "nianbao_db": _db(datasette).name,
        "nianbao_queries": [(k, q["title"], q["description"]) for k, q in metadata.QUERIES.items()],
    }


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    # Report ids link to the report page; search snippets get their hits marked.
    if column == "snippet" and isinstance(value, str):
        return pages.highlight(value)
    if column in ("report", "年报") and isinstance(value, str) and pages.REPORT_ID.match(value):
        return Markup(f'<a href="/report/{value}">{value[:12]}…</a>')
    if table == "reports" and column == "title" and value is not None:
        try:
            rid = row["id"]
        except (IndexError, KeyError):
            return None
        return Markup(f'<a href="/report/{escape(rid)}">{escape(value)}</a>')
    return None


@hookimpl
def menu_links(datasette, actor):
    return [{"href": "/search", "label": "全文检索"}, {"href": "/charts", "label": "趋势图"},
            {"href": f"/{_db(datasette).name}", "label": "数据表与查询"}]


# ---------------------------------------------------------------- pages
async def report_page(request, datasette):
    rid = request.url_vars["id"]
    db = _db(datasette)
    report = await _one(db, "SELECT * FROM reports WHERE id = ?", [rid])
    if report is None:
        raise NotFound("没有这份年报")
    doc = await _one(db, "SELECT * FROM documents WHERE sha256 = ?", [rid])
    cells = await _all(db, "SELECT table_no, row, col, value, raw, reason, source FROM cells WHERE report = ?", [rid])
    issues = await _all(db, "SELECT * FROM issues WHERE report = ? ORDER BY id", [rid])
    sections = await _all(db, "SELECT no, title, text FROM sections WHERE report = ? ORDER BY no", [rid])
    old = await _all(db, "SELECT row, col, value, raw, reason, label, unit FROM old WHERE report = ?", [rid])
    ctx = pages.report_context(report, doc, cells, issues, sections, old)
    ctx["raw_available"] = rid in _raw(datasette)
    ctx["database"] = db.name
    return Response.html(await datasette.render_template("nianbao_report.html", ctx, request=request))


# Document types whose pages the site draws (render.py): a cell read there shows its page.
PAGE_DRAWN = ("pdf", "image", "ofd")


async def cell_page(request, datasette):
    v = request.url_vars
    db = _db(datasette)
    report = await _one(db, "SELECT id, title, agency, report_year, container FROM reports WHERE id = ?", [v["id"]])
    cell = await _one(db, "SELECT * FROM cells WHERE report = ? AND table_no = ? AND row = ? AND col = ?",
                      [v["id"], int(v["table"]), v["row"], v["col"]])
    if report is None or cell is None:
        raise NotFound("没有这个单元格")
    doc = await _one(db, "SELECT type FROM documents WHERE sha256 = ?", [v["id"]]) or {}
    src = json.loads(cell["source"]) if cell.get("source") else {}
    ctx = {"report": report, "cell": cell, "source": src, "where": pages._source_text(src),
           "row_label": pages.templates.ROW_LABELS.get((cell["table_no"], cell["row"]), cell["row"]),
           "col_label": pages.templates.COL_LABELS.get((cell["table_no"], cell["col"]), cell["col"]),
           "page_image": doc.get("type") in PAGE_DRAWN and "page" in src and v["id"] in _raw(datasette),
           "database": db.name, "source_table": None, "page_doc": v["id"],
           # An image's frame (a tall one was read in strips, each a page of the report).
           "page_no": src.get("frame", src.get("page")), "page_box": src.get("frame_box") or src.get("bbox")}
    raw = _raw(datasette)
    if src.get("document") and "page" in src and src["document"] in raw:
        # Read on another document of the publication (an article's page image): draw that one.
        other = await _one(db, "SELECT type FROM documents WHERE sha256 = ?", [src["document"]]) or {}
        if other.get("type") in PAGE_DRAWN:
            ctx.update(page_image=True, page_doc=src["document"], page_no=src.get("frame", src["page"]))
    if doc.get("type") in ("html", "htm") and "table" in src and v["id"] in raw:
        data = await asyncio.get_running_loop().run_in_executor(None, raw.get, v["id"])
        ctx["source_table"] = pages.source_table_html(data, src)
    return Response.html(await datasette.render_template("nianbao_cell.html", ctx, request=request))


def _render_page(path: Path, page: int, box: list[float] | None, caps: dict) -> Response:
    """Draw in a child process (render.py) under the pixel, memory and time caps."""
    args = [sys.executable, "-m", "nianbao.pipeline.site.render", str(path), str(page),
            str(int(caps["page_image_max_pixels"])), str(int(caps["page_image_memory_mb"])),
            ",".join(str(b) for b in box) if box else ""]
    timeout = float(caps["page_image_timeout_s"])
    try:
        done = subprocess.run(args, check=False, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:  # run() has killed the child
        return _refused(f"这一页无法在 {timeout:g} 秒内绘制完成。This page could not be drawn within {timeout:g} s.")
    if done.returncode == render.NO_SUCH_PAGE:
        raise NotFound("没有这一页")
    if done.returncode != 0 or not done.stdout:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return _refused(f"这一页无法在资源限制内绘制。This page could not be drawn within the site's limits: {reason[0][:200]}")
    return Response(done.stdout, content_type="image/png")


def _refused(message: str) -> Response:
    # 422: the request is understood, but this document's page is beyond what the site draws.
    return Response.text(message, status=422)


async def page_image(request, datasette):
    v = request.url_vars
    raw = _raw(datasette)
    if v["id"] not in raw:
        raise NotFound("原始文件不在本地存储中")
    box = None
    if request.args.get("box"):
        try:
            box = [float(x) for x in request.args["box"].split(",")][:4]
        except ValueError:
            box = None
    return await asyncio.get_running_loop().run_in_executor(
        None, _render_page, raw.path(v["id"]), int(v["page"]), box, _limits(datasette))


async def raw_document(request, datasette):
    sha = request.url_vars["sha"]
    db = _db(datasette)
    doc = await _one(db, "SELECT * FROM documents WHERE sha256 = ?", [sha])
    raw = _raw(datasette)
    if doc is None or sha not in raw:
        raise NotFound("原始文件不在本地存储中")
    report = await _one(db, "SELECT agency, report_year FROM reports WHERE id = ?", [sha])
    ctype, headers = pages.raw_headers(doc, report, bool(request.args.get("download")))
    data = await asyncio.get_running_loop().run_in_executor(None, raw.get, sha)
    return Response(data, content_type=ctype, headers=headers)


# The page shows one entry per report: read more section hits than it shows, so that
# fifty reports survive the grouping even when each matches in several sections.
SEARCH_PAGE_SQL = metadata.fulltext_sql(300)


async def search_page(request, datasette):
    q = (request.args.get("q") or "").strip()[:200]
    db = _db(datasette)
    results, matches = [], 0
    if q:
        results = pages.one_hit_per_report(await _all(db, SEARCH_PAGE_SQL, {"q": q}))
        for r in results:
            r["snippet_html"] = pages.highlight(r["snippet"])
        matches = (await _one(db, "SELECT COUNT(*) AS n FROM search_fts WHERE search_fts MATCH nianbao_fts_query(?)",
                              [q]))["n"]
    ctx = {"q": q, "results": results, "database": db.name, "matches": matches, "ranked": metadata.SEARCH_RANKED,
           "canned": f"/{db.name}/fulltext"}
    return Response.html(await datasette.render_template("nianbao_search.html", ctx, request=request))


async def agency_page(request, datasette):
    """One agency over the years: every primary report under its agency_id, whatever
    the name it printed, with the comparable figures of 2008–2025 and its cross-checks."""
    aid = urllib.parse.unquote(request.url_vars["agency_id"])
    db = _db(datasette)
    reports = await _all(db, """SELECT id, title, agency, report_year, status, template_t3, template_old, province, city,
                                       county, adcode FROM reports WHERE agency_id = ? AND is_primary = 1
                                ORDER BY report_year""", [aid])
    if not reports:
        raise NotFound("没有这个机关的年报")
    series = await _all(db, "SELECT report_year, measure, value, template FROM series_comparable WHERE agency_id = ?",
                        [aid])
    checks = await _all(db, """SELECT i.report, i.kind, i.message, r.report_year FROM issues i JOIN reports r
                               ON r.id = i.report WHERE r.agency_id = ? AND r.is_primary = 1
                               AND i.kind IN ('continuity', 'prose', 'cumulative') ORDER BY r.report_year""", [aid])
    ctx = {**pages.agency_context(aid, reports, series, checks), "database": db.name}
    return Response.html(await datasette.render_template("nianbao_agency.html", ctx, request=request))


async def charts_page(request, datasette):
    db = _db(datasette)
    params = {"province": request.args.get("province") or "", "agency": request.args.get("agency") or ""}
    rows = await _all(db, pages.chart_sql(bool(params["agency"])), params)
    provinces = [r["province"] for r in await _all(
        db, "SELECT DISTINCT province FROM year_totals WHERE province IS NOT NULL ORDER BY province", [])]
    ctx = {**pages.charts_context(rows), **params, "provinces": provinces, "database": db.name}
    return Response.html(await datasette.render_template("nianbao_charts.html", ctx, request=request))


@hookimpl
def register_routes():
    h = "[0-9a-f]{64}"
    return [
        (rf"^/report/(?P<id>{h})$", report_page),
        (rf"^/report/(?P<id>{h})/cell/(?P<table>[234])/(?P<row>[a-z_.]+)/(?P<col>[a-z_0-9]+)$", cell_page),
        (rf"^/report/(?P<id>{h})/page/(?P<page>\d{{1,4}})\.png$", page_image),
        (rf"^/raw/(?P<sha>{h})$", raw_document),
        (r"^/search$", search_page),
        (r"^/charts$", charts_page),
        (r"^/agency/(?P<agency_id>[0-9]{6}(?::|%3[Aa])[^/]{1,400})$", agency_page),
    ]
