"""Reconciliation rules (勾稽关系, templates.md) and the report's final status.

The figures are stored as printed; a broken rule becomes an Issue naming the rule, the
cells involved and both sides. A rule is only judged when every cell it needs was
read: a rule over a cell we failed to extract says nothing about the publisher, so
it is skipped (the extraction issue already says why). Printed blanks are not zeros
here either: a rule touching a printed-blank cell is skipped too. The report's
`meta["rules_not_judged"]` counts both kinds, so a reader can tell "every rule holds"
from "few rules could be judged".
"""
from __future__ import annotations

from .model import (EXTRACTION_INCOMPLETE, FAILED, FIGURES_INCONSISTENT, NOT_A_REPORT, OK, Cell, Issue,
                    Report)
from .templates import T3_COLS, T4_COLS, T4_GROUPS, col_kind, t3_result_rows, table3_rows

EPS = 1e-6


def _values(report: Report) -> dict[tuple[int, str, str], Cell]:
    return {(c.table, c.row, c.col): c for c in report.cells}


class NotJudged(str):
    """Why a rule was not judged: "blank" (a cell printed blank) or "unreadable"."""


def _check(cells, parts: list[tuple[int, str, str]], whole: tuple[int, str, str] | list[tuple[int, str, str]],
           code: str, message: str, table: int, row: str | None, col: str | None) -> Issue | NotJudged | None:
    """Sum(parts) == Sum(whole): None when it holds, an Issue when broken, NotJudged
    when a cell it needs has no value."""
    wholes = whole if isinstance(whole, list) else [whole]
    needed = parts + wholes
    if any(k not in cells or cells[k].value is None for k in needed):
        unreadable = any(k not in cells or cells[k].reason for k in needed if k not in cells or cells[k].value is None)
        return NotJudged("unreadable" if unreadable else "blank")
    lhs = sum(cells[k].value for k in parts)
    rhs = sum(cells[k].value for k in wholes)
    if abs(lhs - rhs) <= EPS:
        return None
    return Issue(kind="rule", code=code, message=f"{message}: {_num(lhs)} ≠ {_num(rhs)}", table=table, row=row,
                 col=col, lhs=lhs, rhs=rhs, cells=[[k[1], k[2]] for k in needed])


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) or not x.is_integer() else str(int(x))


def rule_issues(report: Report) -> list[Issue]:
    return [i for i in _judge(report) if isinstance(i, Issue)]


def _judge(report: Report) -> list[Issue | NotJudged | None]:
    cells = _values(report)
    out: list[Issue] = []
    tpl3 = report.templates.get("3")
    if tpl3:
        codes = [r.code for r in table3_rows(tpl3)]
        results = list(t3_result_rows(tpl3))
        for col in (c.code for c in T3_COLS):
            out.append(_check(cells, [(3, "new", col), (3, "carried_in", col)],
                              [(3, "results_total", col), (3, "carried_out", col)],
                              "t3_balance", "表三 第一项加第二项之和应等于第三项加第四项之和", 3, None, col))
            out.append(_check(cells, [(3, r, col) for r in results], (3, "results_total", col),
                              "t3_results_sum", "表三 各项办理结果之和应等于（七）总计", 3, "results_total", col))
        for row in codes:
            parts = [(3, row, c.code) for c in T3_COLS if c.code != "total"]
            out.append(_check(cells, parts, (3, row, "total"),
                              "t3_row_total", "表三 各类申请人之和应等于总计", 3, row, "total"))
    if report.templates.get("4"):
        for g in T4_GROUPS:
            parts = [(4, g.code, c.code) for c in T4_COLS if c.code != "total"]
            out.append(_check(cells, parts, (4, g.code, "total"),
                              "t4_total", f"表四 {g.label} 维持+纠正+其他+尚未审结应等于总计", 4, g.code, "total"))
    for c in report.cells:
        if c.value is None:
            continue
        kind = ("money" if c.unit in ("万元", "元") else "count") if c.table == "old" else col_kind(c.table, c.row, c.col)
        bad = (c.value < 0 and kind != "change") or (kind == "count" and not float(c.value).is_integer())
        if kind == "change" and not float(c.value).is_integer():
            bad = True
        if bad:
            out.append(Issue(kind="rule", code="nonneg", message=f"应为非负{'整数' if kind != 'money' else '数'}：{c.raw}",
                             table=c.table, row=c.row, col=c.col, rhs=c.value, cells=[[c.row, c.col]]))
    return out


def validate(report: Report) -> Report:
    """Add rule issues and settle the status. Idempotent: old rule issues are replaced."""
    if report.status in (NOT_A_REPORT, FAILED):
        return report
    judged = _judge(report)
    report.issues = [i for i in report.issues if i.kind != "rule"] + [i for i in judged if isinstance(i, Issue)]
    skipped = [i for i in judged if isinstance(i, NotJudged)]
    if skipped:
        report.meta["rules_not_judged"] = {k: skipped.count(k) for k in ("blank", "unreadable") if k in skipped}
    else:
        report.meta.pop("rules_not_judged", None)
    missing = any(c.value is None and c.reason for c in report.cells) or any(
        i.kind == "extraction" for i in report.issues)
    if missing:
        report.status = EXTRACTION_INCOMPLETE
        report.reason = report.reason or _first(report.issues, "extraction")
    elif any(i.kind == "rule" for i in report.issues):
        report.status = FIGURES_INCONSISTENT
        report.reason = _first(report.issues, "rule")
    else:
        report.status = OK
    return report


def _first(issues: list[Issue], kind: str) -> str | None:
    for i in issues:
        if i.kind == kind:
            return i.message
    return None
