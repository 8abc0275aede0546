"""Derived data has one owner (pipeline/store/derived.py): whatever sequence of ingest,
crawl, run, reparse and re-crawl built an archive, its primary reports, figures, views,
search index and site counts equal those of a fresh build from the same raw store.

The unit tests at the top drive the Archive directly; the property test at the bottom
drives the real CLI against mock portals over HTTP."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nianbao.pipeline.ingest import parse_documents
from nianbao.pipeline.model import Cell, Report, Section
from nianbao.pipeline.store import Archive, raw_root_for


def _report(status="ok", year=2023, new=5, agency="洪泽区人民政府"):
    cells = [Cell(3, "new", "total", new, str(new), {}), Cell(4, "review", "total", 1, "1", {})] if new else []
    return Report(status=status, agency=agency, report_year=year, title=f"{agency}{year}年政府信息公开工作年度报告",
                  sections=[Section(1, "一、总体情况", f"行政复议{new}件")], cells=cells)


def _primary(a: Archive) -> set[tuple]:
    return set(a.conn.execute("SELECT id, publication FROM reports WHERE is_primary = 1").fetchall())


def test_a_written_report_counts_only_after_finish_and_reparse_keeps_the_counts(archive_path):
    a = Archive(archive_path)
    detail, _ = a.add_document(b"<html>detail</html>", type="html", url="http://x/d.html", role="detail", site="s")
    att, _ = a.add_document(b"%PDF att", type="pdf", url="http://x/a.pdf", role="attachment", site="s",
                            parent_sha256=detail)
    lst, _ = a.add_document(b"<html>list</html>", type="html", url="http://x/index.html", role="list", site="s")
    a.write_report(detail, _report(new=0))  # the page says "see the attachment": no figures
    a.write_report(att, _report(new=7))
    a.write_report(lst, _report(status="not_a_report", year=None, new=0))
    assert a.conn.execute("SELECT COUNT(*) FROM figures").fetchone()[0] == 0  # derived rows wait for finish()
    first = a.finish()
    assert first["primary"] == 1 and _primary(a) == {(att, "http://x/d.html")}
    totals = a.conn.execute("SELECT * FROM totals_by_year").fetchall()
    # What `nianbao reparse` does: every document parsed again, written again.
    for _ in range(2):
        a.write_reports([(detail, _report(new=0)), (att, _report(new=7)),
                         (lst, _report(status="not_a_report", year=None, new=0))])
        a.finish()
        assert _primary(a) == {(att, "http://x/d.html")}
        assert a.conn.execute("SELECT * FROM totals_by_year").fetchall() == totals
    assert a.conn.execute("SELECT COUNT(*) FROM figures WHERE is_primary = 1").fetchone()[0] == 1
    assert a.conn.execute("SELECT report_year FROM totals_by_year").fetchall() == [(2023,)]  # no NULL-year row


def test_a_newer_version_takes_over_once_parsed_and_figures_follow(archive_path):
    a = Archive(archive_path)
    old, _ = a.add_document(b"v1", type="html", url="http://x/d.html", role="detail", fetched_at="2024-01-01T00:00:00")
    a.write_report(old, _report(new=3))
    a.finish()
    new, _ = a.add_document(b"v2", type="html", url="http://x/d.html", role="detail", fetched_at="2024-02-01T00:00:00")
    a.finish()  # a crawl stored the new version but nothing parsed it yet: the old one still counts
    assert _primary(a) == {(old, "http://x/d.html")}
    a.write_report(new, _report(new=4))
    a.finish()
    assert _primary(a) == {(new, "http://x/d.html")}
    figs = dict(a.conn.execute("SELECT report, is_primary FROM figures").fetchall())
    assert figs == {old: 0, new: 1}
    assert a.conn.execute("SELECT requests_new FROM totals_by_year").fetchall() == [(4,)]


def test_ingested_files_are_their_own_publications_and_non_reports_never_count(archive_path):
    a = Archive(archive_path)
    r1, _ = a.add_document(b"one", type="pdf", original_name="a.pdf")
    r2, _ = a.add_document(b"two", type="pdf", original_name="b.pdf")
    notice, _ = a.add_document(b"three", type="html", original_name="notice.html")
    a.write_reports([(r1, _report(new=1)), (r2, _report(new=2, agency="淮安市人民政府")),
                     (notice, _report(status="not_a_report", new=0))])
    a.finish()
    assert {r for r, _ in _primary(a)} == {r1, r2}
    assert a.conn.execute("SELECT requests_new FROM totals_by_year").fetchall() == [(3,)]


def test_search_index_follows_a_reparse(archive_path):
    a = Archive(archive_path)
    d, _ = a.add_document(b"x", type="txt")
    a.write_report(d, _report(new=5))
    a.finish()
    assert [r["report"] for r in a.search("复议5件")] == [d]
    a.write_report(d, _report(new=6))
    a.finish()
    assert a.search("复议5件") == [] and [r["report"] for r in a.search("复议6件")] == [d]
    assert a.conn.execute("SELECT COUNT(*) FROM search WHERE report = ?", (d,)).fetchone()[0] == 2  # title, 1 section


def test_close_finishes_an_unfinished_batch(archive_path):
    a = Archive(archive_path)
    d, _ = a.add_document(b"x", type="txt")
    a.write_report(d, _report(new=5))
    a.close()  # a batch that forgot finish(), or was cut short: the next close (or finish) catches up
    b = Archive(archive_path)
    assert b.conn.execute("SELECT COUNT(*) FROM pending").fetchone()[0] == 0
    assert _primary(b) == {(d, None)}
    b.close()


def _synthetic(path: Path, n: int = 90) -> Archive:
    from nianbao.devkit import synth

    a = Archive(path)
    a.write_reports([(a.add_document(synth.document_bytes(r, i), type="html")[0], r)
                     for i, r in enumerate(synth.reports(7, n, n_agencies=12))])
    return a


def _checks(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    rows = sorted(con.execute("SELECT report, kind, code, row, col, lhs, rhs, message, evidence FROM issues "
                              "WHERE kind IN ('continuity', 'cumulative')").fetchall(), key=repr)
    con.close()
    return rows


def test_a_refresh_in_chunks_and_an_interrupted_one_end_where_one_pass_does(tmp_path):
    """The per-report rows follow in chunks, each its own transaction: chunk size and a
    Ctrl-C between chunks change nothing in what the archive ends up holding."""
    from nianbao.pipeline.store import derived

    whole = _synthetic(tmp_path / "whole.db")
    derived.refresh(whole.conn, chunk=1000)
    whole.close()
    assert _checks(tmp_path / "whole.db"), "the synthetic agencies must give continuity/cumulative findings"

    seen = []
    small = _synthetic(tmp_path / "small.db")  # agencies' years fall on both sides of a chunk's edge
    derived.refresh(small.conn, lambda done, total: seen.append((done, total)), chunk=4)
    small.close()
    assert seen[-1] == (90, 90) and len(seen) == 23

    cut = _synthetic(tmp_path / "cut.db")

    def stop(done, total):
        if done >= 21:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        derived.refresh(cut.conn, stop, chunk=7)
    assert cut.conn.execute("SELECT COUNT(*) FROM pending").fetchone()[0] == 90 - 21
    steps = []
    derived.refresh(cut.conn, lambda done, total: steps.append((done, total)), chunk=7)
    assert steps[-1] == (69, 69) and len(steps) == 10
    cut.close()
    for db in ("small.db", "cut.db"):
        assert derived_state(tmp_path / db) == derived_state(tmp_path / "whole.db"), db
        assert _checks(tmp_path / db) == _checks(tmp_path / "whole.db"), db


def test_year_totals_and_series_follow_whatever_moved(tmp_path):
    """year_totals is what summing figures gives, and series_comparable holds the
    primary reports with table 3, after reports moved year, lost their year, stopped
    being primary or lost table 3, and after an archive from before these tables is opened."""
    from nianbao.pipeline.store import FIGURE_COLUMNS

    a = _synthetic(tmp_path / "a.db")
    a.finish()
    ids = [r[0] for r in a.conn.execute("SELECT id FROM reports WHERE is_primary = 1 ORDER BY id LIMIT 4")]
    moved = [_report(year=2011, new=7), _report(year=None, new=3), _report(status="not_a_report", new=0),
             _report(new=0)]
    for rid, rep in zip(ids, moved):
        a.write_report(rid, rep)
    a.finish()
    cols = ", ".join(f"SUM({n})" for n, *_ in FIGURE_COLUMNS)
    want = sorted(a.conn.execute(f"SELECT report_year, province, status, t3_cells > 0, COUNT(*), {cols} FROM figures "
                                 "WHERE is_primary = 1 GROUP BY report_year, province, status, t3_cells > 0"),
                  key=repr)
    got = lambda: sorted(a.conn.execute("SELECT * FROM year_totals"), key=repr)  # noqa: E731
    assert got() == want
    assert {r[0] for r in want} >= {None, 2011} and {r[3] for r in want} == {0, 1}
    series = lambda: sorted(a.conn.execute("SELECT * FROM series_comparable"), key=repr)  # noqa: E731
    before = series()
    assert {r[3] for r in before} >= set(ids[:2])
    assert not {r[3] for r in before} & set(ids[2:])  # not a report, no table 3: no series
    a.conn.execute("DELETE FROM year_totals")  # an archive written before these were tables
    a.conn.execute("DELETE FROM series_comparable")
    a.conn.commit()
    a.close()
    a = Archive(tmp_path / "a.db")
    assert got() == want and series() == before
    a.close()


# ---------------------------------------------------------------- the property, end to end

def nb(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, timeout=300)
    if check:
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return p


def fresh_build(src_db: Path, dst_db: Path) -> None:
    """A new archive from the same raw store: the documents and crawl records as stored,
    every document parsed once, derived data computed once."""
    src = sqlite3.connect(src_db)
    src.row_factory = sqlite3.Row
    with Archive(dst_db, raw_root=raw_root_for(src_db)) as a:
        for d in src.execute("SELECT * FROM documents ORDER BY rowid"):
            facts = {k: d[k] for k in d.keys() if k not in ("sha256", "size", "type", "original_name", "stored_at")}
            a.add_document(a.raw.get(d["sha256"]), type=d["type"], original_name=d["original_name"], **facts)
        for f in src.execute("SELECT * FROM fetches"):
            cols = {k: f[k] for k in f.keys() if k not in ("url", "sha256", "run_id", "first_seen", "last_fetched",
                                                            "last_changed", "versions")}
            a.crawl.record_fetch(f["url"], run_id=None, sha256=f["sha256"], changed=True, **cols)
        for s in src.execute("SELECT name, start_url, family, adcode FROM sites"):
            a.crawl.set_site(s["name"], start_url=s["start_url"], family=s["family"], adcode=s["adcode"])
        parse_documents(a, [r[0] for r in a.conn.execute("SELECT sha256 FROM documents")], workers=2, progress=False)
    src.close()


def derived_state(db: Path) -> dict:
    con = sqlite3.connect(db)
    from nianbao.pipeline import search

    search.register(con)
    q = lambda sql: sorted(map(tuple, con.execute(sql).fetchall()), key=repr)  # noqa: E731
    state = {
        "primary": q("SELECT id, publication, status, agency, report_year, published, adcode, agency_id, region_from "
                      "FROM reports WHERE is_primary = 1"),
        "not_primary": q("SELECT id, publication FROM reports WHERE is_primary = 0"),
        "figures": q("SELECT * FROM figures"),
        "totals_by_year": q("SELECT * FROM totals_by_year"),
        "year_totals": q("SELECT * FROM year_totals"),
        "series_comparable": q("SELECT * FROM series_comparable"),
        "agency_series": q("SELECT * FROM agency_series"),
        "t3_wide": q("SELECT * FROM t3_wide"),
        "search": q("SELECT report, section_no, heading, text FROM search"),
        "sites": q("SELECT name, reports FROM sites"),
        "pending": q("SELECT * FROM pending"),
    }
    for term in ("复议", "政府信息公开", "年度报告", "依申请"):
        state[f"match {term}"] = q(
            "SELECT s.report, s.section_no FROM search_fts JOIN search s ON s.id = search_fts.rowid "
            f"WHERE search_fts MATCH nianbao_fts_query('{term}')")
    con.close()
    return state


@pytest.fixture(scope="module")
def ingest_dir(tmp_path_factory) -> Path:
    """Files a researcher ingests beside the crawl: a generated report as HTML and DOCX."""
    from nianbao.devkit.generate import random_report, render_docx, render_html

    d = tmp_path_factory.mktemp("files")
    spec = random_report(4242)
    (d / "report.html").write_bytes(render_html(spec))
    (d / "report.docx").write_bytes(render_docx(random_report(4243)))
    (d / "notes.txt").write_text("会议纪要：讨论下一年度的工作安排。", encoding="utf-8")
    return d


OPS = ("crawl", "run", "ingest", "reparse", "change")


@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(st.sampled_from(OPS), min_size=1, max_size=4))
@example(ops=["run", "reparse", "reparse"])  # the reproduction in issue 8
@example(ops=["ingest", "crawl", "change", "run", "reparse", "reparse"])
def test_any_sequence_leaves_what_a_fresh_build_gives(ops, ingest_dir, tmp_path_factory):
    from nianbao.devkit.portals import start_portals, stop_portals

    tmp = tmp_path_factory.mktemp("seq")
    db, sites = tmp / "archive.db", tmp / "sites"
    sites.mkdir()
    portals = start_portals(["trs_old", "gkmlpt"], n_reports=3, n_other=1, seed=300, first_host=71,
                            forms=("html", "pdf", "docx"))
    try:
        import yaml

        for p in portals:
            (sites / f"{p.name}.yaml").write_text(yaml.safe_dump(p.site_config(), allow_unicode=True), "utf-8")
        crawl = ("--db", str(db), "--sites", str(sites), "--fast")
        for op in [*ops, "run"]:  # every sequence ends as a scheduled run does: crawl, parse what is new
            if op == "crawl":
                nb("crawl", *crawl)
            elif op == "run":
                nb("run", *crawl, "--workers", "2")
            elif op == "ingest":
                nb("ingest", str(ingest_dir), "--db", str(db), "-q", "-j", "2")
            elif op == "reparse" and db.exists():
                nb("reparse", "--db", str(db), "-q", "-j", "2")
            elif op == "change":
                p = portals[0]
                p.change(next(it for it in p.reports() if it.form == "html"))
    finally:
        stop_portals(portals)
    fresh = tmp / "fresh.db"
    fresh_build(db, fresh)
    got, want = derived_state(db), derived_state(fresh)
    for key in want:
        assert got[key] == want[key], (ops, key)
    assert want["primary"] and want["figures"] and not want["pending"]
    # one primary report per publication, and every expected report is one of them
    pubs = [p for _, p, *_ in want["primary"] if p]
    assert len(pubs) == len(set(pubs))
    expected = {e["url"] for p in portals for e in p.expected_reports()}
    assert expected <= set(pubs), json.dumps(sorted(expected - set(pubs)))
