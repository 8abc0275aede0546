"""Cross-checks no peer makes: continuity of carried-over requests between an agency's
years, 历年累计 against last year's, and figures stated in the text against the tables.
Each is an issue with its evidence; none changes a figure."""
from __future__ import annotations

import json

from nianbao.pipeline import prose
from nianbao.pipeline.model import Cell, Report, Section
from nianbao.pipeline.store import Archive


def _t3(carried_in, carried_out, new=10):
    return [Cell(3, "new", "total", new, str(new)), Cell(3, "carried_in", "total", carried_in, str(carried_in)),
            Cell(3, "carried_out", "total", carried_out, str(carried_out))]


def _add(a, key, year, cells, agency_id="320813:人民政府", templates=None, text=""):
    d, _ = a.add_document(f"{key}".encode(), type="html", original_name=f"{key}.html")
    a.write_report(d, Report(status="ok", agency="淮安市洪泽区人民政府", report_year=year, agency_id=agency_id,
                             adcode=agency_id.split(":")[0], cells=cells, templates=templates or {"3": "2021"},
                             sections=[Section(1, "一、总体情况", text)]))
    return d


def _issues(a, kind):
    return [dict(zip(("report", "code", "lhs", "rhs", "message", "evidence"), r)) for r in a.conn.execute(
        "SELECT report, code, lhs, rhs, message, evidence FROM issues WHERE kind = ? ORDER BY report", (kind,))]


def test_carried_over_requests_must_continue_from_last_year(archive_path):
    a = Archive(archive_path)
    y22 = _add(a, "a", 2022, _t3(0, 5))
    y23 = _add(a, "b", 2023, _t3(3, 0))
    _add(a, "c", 2024, _t3(0, 1))  # continues 2023's 0: fine
    _add(a, "d", 2023, _t3(9, 0), agency_id="320800:人民政府")  # another agency: no previous year
    a.finish()
    got = _issues(a, "continuity")
    assert [(i["report"], i["lhs"], i["rhs"]) for i in got] == [(y23, 5, 3)]
    assert json.loads(got[0]["evidence"]) == {"previous_report": y22, "previous_year": 2022}
    assert a.conn.execute("SELECT value FROM cells WHERE report = ? AND row = 'carried_in'", (y23,)).fetchone() == (3,)
    # the earlier report corrected (a re-parse of a new version): the check follows
    a.write_report(y22, Report(status="ok", agency="淮安市洪泽区人民政府", report_year=2022,
                               agency_id="320813:人民政府", cells=_t3(0, 3), templates={"3": "2021"}))
    a.finish()
    assert _issues(a, "continuity") == []
    a.close()


def test_cumulative_figures_must_add_up_over_the_years(archive_path):
    a = Archive(archive_path)

    def old(year, cum):
        return [Cell("old", "requests.total", "year", year, str(year), label="受理依申请公开信息总数", unit="件"),
                Cell("old", "requests.total", "cumulative", cum, str(cum), label="受理依申请公开信息总数", unit="件")]

    _add(a, "a", 2010, old(4, 10), templates={"old": "2008"})
    ok = _add(a, "b", 2011, old(5, 15), templates={"old": "2008"})
    bad = _add(a, "c", 2012, old(2, 20), templates={"old": "2008"})
    a.finish()
    got = _issues(a, "cumulative")
    assert [(i["report"], i["code"], i["lhs"], i["rhs"]) for i in got] == [(bad, "requests.total", 17, 20)]
    assert ok not in {i["report"] for i in got}
    a.close()


def test_figures_stated_in_the_text_are_held_against_the_tables():
    cells = _t3(3, 0, new=72) + [Cell(4, "review", c, v, str(v)) for c, v in
                                  (("upheld", 1), ("corrected", 0), ("other", 0), ("pending", 0), ("total", 1))]
    text = ("2023年，本机关共收到政府信息公开申请75件，均按时答复。因政府信息公开被申请行政复议1件。\n"
            "本机关办理行政复议案件36件（不涉及政府信息公开）。现行有效规范性文件393件。")
    issues, found = prose.check(text, cells)
    assert {f["measure"]: f["value"] for f in found} == {"requests": 75, "reviews": 1, "normative_in_force": 393}
    assert issues == []  # 75 = 72 new + 3 carried over: 「共收到」 counts both
    issues, _ = prose.check(text.replace("75件", "80件"), cells)
    assert [(i.code, i.lhs, i.rhs) for i in issues] == [("requests", 80, 72)]
    assert "共收到政府信息公开申请80件" in issues[0].evidence["sentence"]
