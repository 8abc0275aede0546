"""The archive's storage layer: raw store, idempotence, atomic replacement, search."""
from __future__ import annotations

import sqlite3

import pytest

from nianbao.pipeline.model import Cell, Issue, Report, Section
from nianbao.pipeline.search import bigrams, fts_query
from nianbao.pipeline.store import Archive


def _report(year=2023, value=21, title="淮安市洪泽区人民政府2023年政府信息公开工作年度报告"):
    return Report(status="ok", agency="淮安市洪泽区人民政府", report_year=year, title=title,
                  adcode="320813", province="江苏省", city="淮安市", county="洪泽区", agency_id="320813:人民政府",
                  templates={"3": "2021"},
                  sections=[Section(1, "一、总体情况", "全面推进政务公开，依申请公开办理及时。"),
                            Section(4, "四、政府信息公开行政复议、行政诉讼情况", "本年度发生行政复议3件，行政诉讼2件。")],
                  cells=[Cell(3, "new", "total", value, str(value), {"page": 3, "bbox": [1, 2, 3, 4]}),
                         Cell(3, "new", "natural_person", None, "", {}),
                         Cell(3, "carried_in", "total", None, None, {}, reason="row has 6 numbers for 7 columns")],
                  issues=[Issue("rule", "t4_total", "表四 不平", 4, "review", "total", 11, 0, [["review", "total"]])])


def test_same_bytes_stored_once(archive_path):
    a = Archive(archive_path)
    d1, new1 = a.add_document(b"%PDF-1.4 x", type="pdf", original_name="a.pdf")
    d2, new2 = a.add_document(b"%PDF-1.4 x", type="pdf", original_name="b.pdf")
    assert (d1, new1, new2) == (d2, True, False)
    assert a.raw.get(d1) == b"%PDF-1.4 x"
    assert a.conn.execute("select count(*) from documents").fetchone()[0] == 1
    assert archive_path.parent.joinpath("raw").is_dir()


def test_report_rows_replaced_not_duplicated(archive_path):
    a = Archive(archive_path)
    d, _ = a.add_document(b"x", type="txt")
    a.write_report(d, _report(value=21))
    a.write_report(d, _report(value=22))
    assert a.conn.execute("select count(*) from reports").fetchone()[0] == 1
    assert a.conn.execute("select value from cells where row='new' and col='total'").fetchone()[0] == 22
    assert a.conn.execute("select count(*) from issues").fetchone()[0] == 1
    # a printed blank keeps its raw text; an unreadable cell keeps its reason
    unreadable, blank = a.conn.execute(
        "select raw, reason from cells where col in ('natural_person') or row = 'carried_in' order by row").fetchall()
    assert unreadable == (None, "row has 6 numbers for 7 columns") and blank == ("", None)
    row = a.conn.execute("select adcode, city, county, region_from, agency_id, cells_found, cells_missing, rules_broken "
                         "from reports").fetchone()
    assert row == ("320813", "淮安市", "洪泽区", "agency", "320813:人民政府", 1, 1, 1)


def test_failed_write_keeps_previous_parse(archive_path):
    a = Archive(archive_path)
    d, _ = a.add_document(b"x", type="txt")
    a.write_report(d, _report(value=21))
    a.finish()
    bad = _report(value=23)
    bad.cells.append(bad.cells[0])  # same key twice is fine (replace) ...
    bad.sections.append(bad.sections[0])  # ... but a duplicate section violates the primary key
    with pytest.raises(sqlite3.IntegrityError):
        a.write_report(d, bad)
    assert a.conn.execute("select value from cells where row='new' and col='total'").fetchone()[0] == 21
    assert len(a.search("复议")) == 1


@pytest.mark.parametrize("query,hits", [("复议", 1), ("诉讼", 1), ("公开", 2), ("政务公开", 1), ("依申请公开", 1),
                                        ("洪泽区", 1), ("复议 诉讼", 1), ("复议 预算", 0), ("预算", 0), ("议行", 0)])
def test_chinese_search_two_characters_and_phrases(archive_path, query, hits):
    a = Archive(archive_path)
    d, _ = a.add_document(b"x", type="txt")
    a.write_report(d, _report())
    a.finish()
    reports_hit = {r["report"] for r in a.search(query)}
    sections_hit = a.search(query)
    assert len(reports_hit) == min(hits, 1)
    assert len(sections_hit) == hits


def test_search_survives_fts_syntax_in_queries(archive_path):
    a = Archive(archive_path)
    d, _ = a.add_document(b"x", type="txt")
    a.write_report(d, _report())
    for q in ['"', "AND", "复议 OR", "NEAR(", "*", "-复议", ""]:
        a.search(q)  # must not raise
    assert fts_query("复议") == '"复议"' and bigrams("行政复议") == "行政 政复 复议"


def test_views_give_wide_and_yearly_rows(archive_path):
    a = Archive(archive_path)
    for i, year in enumerate((2022, 2023)):
        d, _ = a.add_document(f"doc{i}".encode(), type="txt")
        a.write_report(d, _report(year=year, value=10 + i))
    a.finish()
    wide = list(a.db.query("select report_year, new__total, carried_in__total from t3_wide order by report_year"))
    assert wide == [{"report_year": 2022, "new__total": 10, "carried_in__total": None},
                    {"report_year": 2023, "new__total": 11, "carried_in__total": None}]
    series = list(a.db.query("select report_year, requests_new from agency_series where agency = ? order by 1",
                             ["淮安市洪泽区人民政府"]))
    assert [s["requests_new"] for s in series] == [10, 11]
    years = {r["report_year"]: r["requests_new"] for r in a.db.query("select * from totals_by_year")}
    assert years == {2022: 10, 2023: 11}
