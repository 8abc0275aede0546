"""The site over HTTP: real Datasette on a known archive, checked through its JSON API
and HTML. Expected values are computed from the Report objects written into the
archive, never from the database the site reads."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict

import pytest

from nianbao.pipeline import templates
from known_archive import SAMPLES
from nianbao.pipeline.site import metadata, server




def get(site, path: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(site["url"] + path, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def get_json(site, path: str):
    status, _, body = get(site, path)
    assert status == 200, body[:500]
    return json.loads(body)


def query(site, name: str, **params) -> list[dict]:
    qs = urllib.parse.urlencode({**params, "_shape": "array"})
    return get_json(site, f"/archive/{name}.json?{qs}")


def cell(rep, table, row, col):
    c = rep.cell(table, row, col)
    return None if c is None else c.value


def sql_sum(values):
    """SQL SUM: blanks (None) are skipped; all blank is NULL."""
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def with_t3(site):
    return {d: r for d, r in site["reports"].items() if any(c.table == 3 for c in r.cells)}


# ---------------------------------------------------------------- metadata
def test_every_visible_column_has_a_chinese_label(site):
    meta = get_json(site, "/-/metadata.json")
    assert "政府信息公开" in meta["title"] and meta["license"] and meta["source"]
    tables = meta["databases"]["archive"]["tables"]
    db = get_json(site, "/archive.json")
    visible = [t["name"] for t in db["tables"] if not t["hidden"]] + [v["name"] for v in db.get("views", [])]
    assert {"reports", "cells", "issues", "figures", "t3_wide", "totals_by_year"} <= set(visible)
    for name in visible:
        cols = get_json(site, f"/archive/{name}.json?_size=1")["columns"]
        described = tables[name]["columns"]
        missing = [c for c in cols if not re.search(r"[\u4e00-\u9fff]", described.get(c, ""))]
        assert not missing, f"{name}: no Chinese label for {missing}"
        assert re.search(r"[\u4e00-\u9fff]", tables[name]["title"])


def test_table_page_shows_chinese_labels_and_hides_bookkeeping(site):
    _, _, body = get(site, "/archive/reports")
    html = body.decode()
    assert '<span class="zh-label">发布机关</span>' in html
    assert 'data-column="parser_version"' not in html  # bookkeeping column left out of the HTML table
    assert "parser_version" in get_json(site, "/archive/reports.json?_size=1")["columns"]  # but kept in JSON


# ---------------------------------------------------------------- search
def test_two_character_search_finds_the_right_report(site):
    rows = query(site, "fulltext", q="听证")
    assert rows and {r["report"] for r in rows} == {site["hongze"]}
    assert "[[听证]]" in rows[0]["snippet"]
    both = {r["report"] for r in query(site, "fulltext", q="复议")}
    assert site["hongze"] in both and len(both) > 1  # 复议 is in the synthetic texts too


def test_search_page_highlights_hits_and_escapes_text(site):
    status, _, body = get(site, "/search?q=" + urllib.parse.quote("听证"))
    html = body.decode()
    assert status == 200
    assert "<mark>听证</mark>" in html
    assert f'href="/report/{site["hongze"]}#section-1"' in html
    # The search over the <script> report's section shows its markup as text.
    _, _, body = get(site, "/search?q=" + urllib.parse.quote("正文"))
    html = body.decode()
    assert "&lt;img src=x onerror=alert(2)&gt;" in html and "<img src=x" not in html


def test_search_page_lists_each_report_once(site):
    sections = query(site, "fulltext", q="复议")
    per_report = {}
    for r in sections:
        per_report[r["report"]] = per_report.get(r["report"], 0) + 1
    assert max(per_report.values()) > 1, "the known archive has a report matching in several sections"
    _, _, body = get(site, "/search?q=" + urllib.parse.quote("复议"))
    html = body.decode()
    for report, n in per_report.items():
        assert html.count(f'class="title" href="/report/{report}') == 1
    assert f"另有 {max(per_report.values()) - 1} 处匹配" in html


def test_a_common_word_ranks_its_newest_matches_and_says_so(site):
    """Ranking half a million matches took seconds: the search ranks the newest
    SEARCH_RANKED of them, and the page says when there were more."""
    import sqlite3

    from nianbao.pipeline import search
    from nianbao.pipeline.site import metadata

    con = sqlite3.connect(site["db"])
    search.register(con)
    sql = metadata.QUERIES["fulltext"]["sql"]
    newest = [r for (r,) in con.execute("SELECT rowid FROM search_fts WHERE search_fts MATCH nianbao_fts_query('复议') "
                                        "ORDER BY rowid DESC")]
    assert len(newest) > 4
    assert f"LIMIT {metadata.SEARCH_RANKED})" in metadata.fulltext_sql(300)  # the page's query ranks as many
    narrow = sql.replace(f"LIMIT {metadata.SEARCH_RANKED})", "LIMIT 3)")
    assert narrow != sql
    got = con.execute(narrow.replace("SELECT s.report AS report", "SELECT s.id AS sid, s.report AS report"),
                      {"q": "复议"}).fetchall()
    assert sorted(r[0] for r in got) == sorted(newest[:3])
    con.close()
    _, _, body = get(site, "/search?q=" + urllib.parse.quote("复议"))
    html = body.decode()
    assert f"共 {len(newest)} 处匹配" in html and "ranked-note" not in html  # fewer than SEARCH_RANKED here


def test_search_with_odd_input_does_not_error(site):
    for q in ['"', "AND OR", "*", "复", "NEAR(", "'; drop table reports; --"]:
        status, _, _ = get(site, "/archive/fulltext.json?q=" + urllib.parse.quote(q))
        assert status == 200, q


# ---------------------------------------------------------------- facets
def test_facet_counts_and_narrowing(site):
    reps = site["reports"]
    data = get_json(site, "/archive/reports.json?_size=0")
    assert data["filtered_table_rows_count"] == len(reps)
    years = {f["value"]: f["count"] for f in data["facet_results"]["report_year"]["results"]}
    want = Counter(r.report_year for r in reps.values())
    assert years == {y: n for y, n in want.most_common(len(years))}
    assert set(data["facet_results"]) == {"report_year", "province", "status", "template_t3"}
    more = get_json(site, "/archive/reports.json?_size=0&_facet=agency&_facet=county&_facet=container")
    assert {"agency", "county", "container"} <= set(more["facet_results"])
    assert sum(f["count"] for f in more["facet_results"]["agency"]["results"]) <= len(reps)
    year, n = want.most_common(1)[0]
    narrowed = get_json(site, f"/archive/reports.json?report_year={year}&_size=max&_shape=objects")
    assert narrowed["filtered_table_rows_count"] == n < len(reps)
    assert {r["report_year"] for r in narrowed["rows"]} == {year}
    status_facet = {f["value"]: f["count"] for f in narrowed["facet_results"]["status"]["results"]}
    assert status_facet == Counter(r.status for r in reps.values() if r.report_year == year)


# ---------------------------------------------------------------- canned queries
@pytest.mark.parametrize("name", list(metadata.QUERIES))
def test_every_canned_query_runs_with_a_chinese_title(site, name):
    q = get_json(site, "/-/metadata.json")["databases"]["archive"]["queries"][name]
    assert re.search(r"[\u4e00-\u9fff]", q["title"]) and re.search(r"[\u4e00-\u9fff]", q["description"])
    params = {"q": "复议", "agency": "洪泽区", "year": "2023"}
    status, _, body = get(site, f"/archive/{name}.json?" + urllib.parse.urlencode(params))
    assert status == 200, body[:300]
    assert json.loads(body)["ok"] is not False


def test_requests_by_year_matches_the_reports(site):
    rows = {r["年度"]: r for r in query(site, "requests_by_year")}
    want_new, want_granted, want_denied = defaultdict(int), defaultdict(int), defaultdict(int)
    for rep in with_t3(site).values():
        want_new[rep.report_year] += cell(rep, 3, "new", "total") or 0
        want_granted[rep.report_year] += cell(rep, 3, "granted", "total") or 0
        want_denied[rep.report_year] += sum(cell(rep, 3, r, "total") or 0 for r in templates.t3_result_rows("2021")
                                            if r.startswith("denied."))
    assert set(rows) == set(want_new)
    for y in rows:
        assert rows[y]["新收申请"] == want_new[y]
        assert rows[y]["予以公开"] == want_granted[y]
        assert rows[y]["不予公开"] == want_denied[y]


def test_refusal_reasons_and_applicant_types(site):
    reasons = {r["年度"]: r for r in query(site, "refusal_reasons")}
    people = {r["年度"]: r for r in query(site, "applicant_types")}
    for year in reasons:
        reps = [r for r in with_t3(site).values() if r.report_year == year]
        assert reasons[year]["属于国家秘密"] == sum(cell(r, 3, "denied.state_secret", "total") or 0 for r in reps)
        assert people[year]["自然人"] == sum(cell(r, 3, "new", "natural_person") or 0 for r in reps)


def test_review_litigation_correction_rate(site):
    rows = {r["年度"]: r for r in query(site, "review_litigation")}
    assert 2023 in rows  # 洪泽区 2023 printed table 4
    for year, row in rows.items():
        reps = [r for r in site["reports"].values() if r.report_year == year and r.cell(4, "review", "total")]
        total = sql_sum(cell(r, 4, "review", "total") for r in reps)
        corrected = sql_sum(cell(r, 4, "review", "corrected") for r in reps)
        pending = sql_sum(cell(r, 4, "review", "pending") for r in reps) or 0
        assert row["复议总计"] == total and row["复议纠正"] == corrected
        denominator = (total or 0) - pending
        assert row["复议纠错率%"] == (round(100 * corrected / denominator, 1) if denominator and corrected is not None
                                    else None)


def test_broken_rules_lists_each_broken_rule(site):
    got = {(r["report"], r["规则"], r["印刷值"]) for r in query(site, "broken_rules")}
    want = {(d, i.code, i.rhs) for d, rep in site["reports"].items() for i in rep.issues if i.kind == "rule"}
    assert got == want
    assert (site["hongze"], "t4_total", 0) in got
    only_2023 = query(site, "broken_rules", year="2023")
    assert only_2023 and all(r["年度"] == 2023 for r in only_2023)


def test_agency_history(site):
    rows = query(site, "agency_history", agency="洪泽区")
    assert [(r["年度"], r["收到申请"], r["行政复议"], r["模板"]) for r in rows] == [(2023, 21, 0, "2019")]
    assert query(site, "agency_history", agency="") == []


def test_missing_reports(site):
    years = defaultdict(set)
    for rep in site["reports"].values():
        years[rep.agency].add(rep.report_year)
    for year in (2015, 2023):
        want = {a for a, ys in years.items() if min(ys) < year and year not in ys}
        got = {r["发布机关"] for r in query(site, "missing_reports", year=str(year))}
        assert got == want


def test_status_by_year(site):
    rows = {r["年度"]: r for r in query(site, "status_by_year")}
    for year, row in rows.items():
        reps = [r for r in site["reports"].values() if r.report_year == year]
        assert row["年报数"] == len(reps)
        assert row["数字不一致"] == sum(r.status == "figures_inconsistent" for r in reps)


# ---------------------------------------------------------------- report page, original document
def test_report_page_marks_broken_rules_and_links_numbers(site):
    rid = site["hongze"]
    status, _, body = get(site, f"/report/{rid}")
    html = body.decode()
    assert status == 200
    # 10 cells of table 4 take part in the two broken t4_total rules.
    assert len(re.findall(r'class="cell num broken"', html)) == 10
    assert "t4_total" in html and "各项之和11不等于总计0" in html
    assert f'href="/report/{rid}/cell/3/new/total">21</a>' in html
    assert "听证会" in html  # section text
    assert f'href="/raw/{rid}?download=1"' in html


def test_cell_provenance_page_and_page_image(site):
    rid = site["hongze"]
    status, _, body = get(site, f"/report/{rid}/cell/4/review/total")
    html = body.decode()
    assert status == 200 and "PDF 第4页" in html and "/page/4.png?box=" in html
    status, headers, png = get(site, f"/report/{rid}/page/4.png?box=497.4,452.1,511.4,466.1")
    assert status == 200 and headers["content-type"] == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_url_that_names_nothing_is_a_404_not_a_500(site):
    """No route matches these: Datasette's error handler used to crash printing them (500)."""
    rid = site["hongze"]
    for path in (f"/report/{rid}/cell/old/a/b", f"/report/{rid}/nope", "/a/b/c/d/e", "/a/b/c/d/e.json"):
        status, headers, body = get(site, path)
        assert status == 404, (path, status, body[:200])
    assert b'"status": 404' in body


def test_original_document_downloads_the_right_bytes(site):
    rid = site["hongze"]
    status, headers, data = get(site, f"/raw/{rid}?download=1")
    assert status == 200
    assert data == (SAMPLES / "huaian-hongze-2023.pdf").read_bytes()
    assert headers["content-type"] == "application/pdf"
    disp = headers["content-disposition"]
    assert disp.startswith("attachment;")
    assert "filename*=UTF-8''" + urllib.parse.quote("淮安市洪泽区人民政府-2023年报.pdf") in disp
    status, headers, _ = get(site, f"/raw/{rid}")
    assert headers["content-disposition"].startswith("inline;")
    assert get(site, "/raw/" + "0" * 64)[0] == 404


def test_published_html_is_sandboxed(site):
    status, headers, data = get(site, f"/raw/{site['script']}")
    assert status == 200 and b"<script>" in data  # the bytes as published…
    assert headers["content-type"].startswith("text/html")
    assert "sandbox" in headers["content-security-policy"]  # …but never run on our origin


def test_script_title_renders_as_text(site):
    for path in (f"/report/{site['script']}", "/archive/reports?agency=" + urllib.parse.quote("测试县人民政府"),
                 "/search?q=" + urllib.parse.quote("正文")):
        html = get(site, path)[2].decode()
        assert "<script>alert(1)" not in html, path
        assert "alert(1)" in html, path  # shown, as text
    assert 'href="javascript:' not in get(site, f"/report/{site['script']}")[2].decode()


# ---------------------------------------------------------------- charts, exports from Datasette
def test_charts_page_draws_the_four_trends(site):
    html = get(site, "/charts")[2].decode()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 5
    for label in ("新收政府信息公开申请", "办理结果构成", "不予公开理由", "行政复议结果", "行政诉讼结果"):
        assert label in html
    assert "http://" not in re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", html.split("<svg", 1)[1])


def test_datasette_csv_export(site):
    status, _headers, body = get(site, "/archive/requests_by_year.csv")
    assert status == 200
    assert body.decode("utf-8").splitlines()[0].startswith("年度,年报数,新收申请")


def test_html_provenance_redraws_the_published_table(site):
    rid = site["shanghai"]
    html = get(site, f"/report/{rid}")[2].decode()
    assert f'href="/report/{rid}/cell/2/procurement/amount">251000</a>' in html
    page = get(site, f"/report/{rid}/cell/2/procurement/amount")[2].decode()
    assert "「251000元」" in page
    assert re.findall(r'<td[^>]* class="hit" id="hit">([^<]*)</td>', page) == ["251000元"]
    assert "<script" not in page.split('class="source-table-wrap"')[1].split("</div>")[0]


def test_front_page_offers_search_and_every_canned_query(site):
    html = get(site, "/")[2].decode()
    assert 'action="/search"' in html
    for name, q in metadata.QUERIES.items():
        assert f'href="/archive/{name}">{q["title"]}</a>' in html


def test_nianbao_serve_command(site, tmp_path):
    import shutil
    import subprocess
    import sys

    db = tmp_path / "archive.db"
    shutil.copy(site["db"], db)  # serve writes its metadata beside the archive
    port = server.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nianbao", "serve", str(db), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server.wait_until_up(f"http://127.0.0.1:{port}", proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/archive/reports.json?_size=0") as r:
            assert json.loads(r.read())["filtered_table_rows_count"] == len(site["reports"])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/settings.json") as r:
            settings = json.loads(r.read())
        assert settings["sql_time_limit_ms"] == server.SETTINGS["sql_time_limit_ms"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/databases.json") as r:
            assert json.loads(r.read())[0]["is_mutable"] is True  # live: mode=ro on the WAL archive (issue 12)
    finally:
        server.stop(proc)


# ---------------------------------------------------------------- 2008–2018 and agencies
def _old_report(site):
    return next((d, r) for d, r in site["reports"].items() if "old" in r.templates)


def test_old_report_page_shows_its_statistics_table(site):
    d, rep = _old_report(site)
    status, _, body = get(site, f"/report/{d}")
    html = body.decode()
    assert status == 200 and 'class="official old"' in html
    c = next(c for c in rep.cells if c.table == "old" and c.col == "year" and c.row == "requests.total")
    assert f'data-row="requests.total"' in html and f">{c.value}<" in html
    assert f'href="/agency/{urllib.parse.quote(rep.agency_id)}"' in html


def test_agency_page_lines_up_the_years_of_one_agency(site):
    by_id = defaultdict(list)
    for r in site["reports"].values():
        if r.agency_id and r.status != "not_a_report":
            by_id[r.agency_id].append(r)
    aid, reps = max(by_id.items(), key=lambda kv: len({r.report_year for r in kv[1]}))
    status, _, body = get(site, f"/agency/{urllib.parse.quote(aid)}")
    html = body.decode()
    assert status == 200 and aid in html
    for r in reps:
        assert f'data-year="{r.report_year}"' in html
    old = [r for r in reps if "old" in r.templates]
    for r in old:  # its older figures are in the comparable series, marked with their template
        v = next(c.value for c in r.cells if c.table == "old" and c.row == "requests.total" and c.col == "year")
        rows = query(site, "comparable_series", agency_id=aid, year=str(r.report_year))
        assert {(x["指标"], x["数值"], x["模板"]) for x in rows} >= {("requests", v, r.templates["old"])}
    assert get(site, "/agency/" + urllib.parse.quote("999999:没有的机关"))[0] == 404


def test_cross_checks_are_listed_and_shown_with_their_evidence(site):
    rows = query(site, "cross_checks", kind="cumulative")
    assert rows and all(r["类别"] == "cumulative" and "previous_report" in r["依据"] for r in rows)
    status, _, body = get(site, f"/report/{rows[0]['report']}")
    assert status == 200 and 'id="cross-checks"' in body.decode()
