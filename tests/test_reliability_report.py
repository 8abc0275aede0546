"""benchmarks/reliability.py turns the rows of the `reliability` fixture into RELIABILITY.md:
one table per group, numeric extras summed, a failed row marked and listed, never hidden."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import reliability as rel


def test_rows_become_tables_with_totals_and_failures_shown():
    rows = [
        {"group": "kill", "kind": "kill -9 ingest", "expected": "0 lost", "observed": "0 lost", "test": "t::a",
         "passed": True, "trials": 20, "lost": 0},
        {"group": "kill", "kind": "kill -9 crawl", "expected": "0 lost", "observed": "1 lost", "test": "t::b",
         "passed": False, "trials": 20, "lost": 1},
        {"group": "site", "kind": "huge | page", "expected": "capped", "observed": "2000×2000", "test": "t::c",
         "passed": True, "limit": "page_image_max_pixels=4000000"},
    ]
    md = rel.render(rows, [("pytest -q tests/x.py", 1, "1 failed, 2 passed")], "abc1234")
    assert "3 checked cases, 2 as expected, 1 not" in md
    assert "## kill -9 trials" in md and "totals: lost 1, trials 40" in md
    assert "| kill -9 crawl | 0 lost | 1 lost | 1 | 20 | **FAILED** |" in md
    assert "## Site abuse probes" in md and "huge \\| page" in md and "page_image_max_pixels=4000000" in md
    assert "## Not as expected" in md and "`t::b`" in md
    assert md.index("## kill -9 trials") < md.index("## Site abuse probes")


def test_finds_the_test_files_that_record_rows():
    found = rel.reliability_tests()
    assert "tests/test_site_limits.py" in found and "tests/test_site_live.py" in found
    assert "tests/test_site.py" not in found
