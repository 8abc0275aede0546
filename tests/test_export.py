"""`nianbao export`: the tidy release read back with csv and pyarrow, checked against
the Report objects that went into the archive."""
from __future__ import annotations

import csv

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from nianbao.cli import main
from known_archive import known_archive


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    k = known_archive(d / "archive.db", n_synthetic=25)
    k["archive"].close()
    k["db"] = d / "archive.db"
    return k


def n_cells(known, table):
    return sum(1 for r in known["reports"].values() for c in r.cells if c.table == table)


def test_csv_release_has_every_number_with_labels(known, tmp_path):
    res = CliRunner().invoke(main, ["export", str(known["db"]), "--format", "csv", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert {p.name for p in tmp_path.iterdir()} == {"table2.csv", "table3.csv", "table4.csv", "reports.csv", "issues.csv",
                                                    "old.csv", "series_comparable.csv"}
    with open(tmp_path / "old.csv", encoding="utf-8-sig", newline="") as f:
        old = list(csv.DictReader(f))
    assert len(old) == n_cells(known, "old") and all(r["label"] and r["col"] in ("year", "cumulative") for r in old)
    with open(tmp_path / "table3.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == n_cells(known, 3)
    hz = [r for r in rows if r["report"] == known["hongze"] and r["row"] == "new" and r["col"] == "total"]
    assert len(hz) == 1
    assert hz[0]["value"] == "21" and hz[0]["agency"] == "淮安市洪泽区人民政府" and hz[0]["report_year"] == "2023"
    assert hz[0]["row_label"] == "一、本年新收政府信息公开申请数量" and hz[0]["col_label"] == "总计"
    with open(tmp_path / "reports.csv", encoding="utf-8-sig", newline="") as f:
        reports = list(csv.DictReader(f))
    assert len(reports) == len(known["reports"])
    assert "<script>alert(1)</script>年报" in {r["title"] for r in reports}  # data exported as data
    assert f"table3.csv: {len(rows):,} rows" in res.output


def test_parquet_release_matches_csv(known, tmp_path):
    res = CliRunner().invoke(main, ["export", str(known["db"]), "--format", "parquet", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    t4 = pq.read_table(tmp_path / "table4.parquet").to_pylist()
    assert len(t4) == n_cells(known, 4)
    review_total = [r for r in t4 if r["report"] == known["hongze"] and r["row"] == "review" and r["col"] == "total"]
    assert review_total[0]["value"] == 0.0 and review_total[0]["status"] == "figures_inconsistent"
    issues = pq.read_table(tmp_path / "issues.parquet").to_pylist()
    derived = [i for i in issues if i["kind"] in ("continuity", "cumulative")]  # checks across an agency's years
    want = sum(len(r.issues) for r in known["reports"].values()) + len(derived)
    assert len(issues) == want
    series = pq.read_table(tmp_path / "series_comparable.parquet").to_pylist()
    assert {r["template"] for r in series} >= {"2008", "2014", "2019", "2021"}
    assert pq.read_table(tmp_path / "table2.parquet").schema.field("value").type == "double"


def test_unknown_format_is_refused(known, tmp_path):
    res = CliRunner().invoke(main, ["export", str(known["db"]), "--format", "xlsx", "--out", str(tmp_path)])
    assert res.exit_code != 0
