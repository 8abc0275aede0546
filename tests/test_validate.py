"""Reconciliation rules: each rule fires on the cells it names and only when judgeable."""
from __future__ import annotations

from nianbao.pipeline.model import Cell, Report
from nianbao.pipeline.templates import expected_cells
from nianbao.pipeline.validate import rule_issues, validate


def _full(template="2021", value=0):
    cells = [Cell(t, r, c, value, str(value)) for t in (3, 4) for r, c, _ in expected_cells(t, template)]
    return Report(status="ok", templates={"3": template, "4": template}, cells=cells)


def _set(rep, table, row, col, value):
    c = rep.cell(table, row, col)
    c.value, c.raw = value, "" if value is None else str(value)


def test_consistent_zero_report_is_ok():
    assert validate(_full()).status == "ok"


def test_table4_total_mismatch_is_flagged_with_both_sides():
    rep = _full()
    for col, v in (("upheld", 10), ("corrected", 1)):
        _set(rep, 4, "review", col, v)
    validate(rep)
    assert rep.status == "figures_inconsistent"
    (issue,) = [i for i in rep.issues if i.code == "t4_total"]
    assert (issue.table, issue.row, issue.col, issue.lhs, issue.rhs) == (4, "review", "total", 11, 0)
    assert ["review", "total"] in issue.cells


def test_table3_rules_each_column_and_row():
    rep = _full("2019")
    _set(rep, 3, "new", "natural_person", 5)  # breaks row total, balance (natural_person) ...
    codes = sorted({(i.code, i.col) for i in rule_issues(rep)})
    assert ("t3_row_total", "total") in codes
    assert ("t3_balance", "natural_person") in codes
    _set(rep, 3, "new", "total", 5)
    _set(rep, 3, "other", "natural_person", 5)
    _set(rep, 3, "other", "total", 5)
    _set(rep, 3, "results_total", "natural_person", 5)
    _set(rep, 3, "results_total", "total", 5)
    assert rule_issues(rep) == []


def test_blank_cells_are_not_zeros():
    rep = _full()
    _set(rep, 3, "results_total", "total", None)  # printed blank: the rule cannot be judged
    _set(rep, 3, "new", "total", 7)
    assert not [i for i in rule_issues(rep) if i.col == "total" and i.code in ("t3_balance", "t3_results_sum")]
    assert validate(rep).status == "figures_inconsistent"  # the row-total rule still can


def test_unreadable_cell_makes_extraction_incomplete_even_if_rules_break():
    rep = _full()
    _set(rep, 4, "review", "upheld", 3)
    rep.cell(3, "carried_in", "commercial").reason = "6 numbers for 7 columns"
    _set(rep, 3, "carried_in", "commercial", None)
    assert validate(rep).status == "extraction_incomplete"


def test_negative_counts_flagged_but_negative_change_allowed():
    rep = Report(status="ok", templates={"2": "2019"}, cells=[
        Cell(2, "licensing", "change", -3, "-3"), Cell(2, "penalty", "decisions", -1, "-1"),
        Cell(2, "rules", "made", 1.5, "1.5"), Cell(2, "procurement", "amount", 251000.5, "251000.5元")])
    bad = {(i.row, i.col) for i in rule_issues(rep) if i.code == "nonneg"}
    assert bad == {("penalty", "decisions"), ("rules", "made")}


def test_rules_not_judged_are_counted_by_why():
    r = Report(status="ok", templates={"4": "2021"}, cells=[
        Cell(4, "review", c, v, "" if v is None else str(v), {}, reason=why)
        for c, v, why in (("upheld", 1, None), ("corrected", None, None), ("other", 0, None), ("pending", 0, None),
                          ("total", 1, None))] + [
        Cell(4, "suit_direct", c, v, "" if v is None else str(v), {}, reason=why)
        for c, v, why in (("upheld", None, "unreadable"), ("corrected", 0, None), ("other", 0, None),
                          ("pending", 0, None), ("total", 0, None))])
    validate(r)
    # review: a blank part; suit_direct: an unreadable part; suit_after_review: not found at all
    assert r.meta["rules_not_judged"] == {"blank": 1, "unreadable": 2}
    assert not [i for i in r.issues if i.kind == "rule"]
