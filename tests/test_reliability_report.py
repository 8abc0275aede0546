"""RELIABILITY.md rendering (benchmarks/reliability.py) on synthetic rows: every group
has its section, a group without rows says "not run", failures stay visible, and table
cells cannot break the Markdown."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module():
    spec = importlib.util.spec_from_file_location("reliability_benchmark", ROOT / "benchmarks" / "reliability.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ROWS = [
    {"group": "fault", "kind": "list page 3 answers 500", "expected": "retried, then a failures row; site failed",
     "observed": "3 retries, failures row, site failed", "test": "tests/faults/test_http.py::test_list_500", "passed": True},
    {"group": "fault", "kind": "gzip bomb | 1 GB", "expected": "refused", "observed": "stored 1 GB\nand parsed",
     "test": "tests/faults/test_http.py::test_gzip_bomb", "passed": False},
    {"group": "kill", "kind": "kill -9 during ingest", "expected": "0 lost, 0 duplicated, integrity ok",
     "observed": "0 lost, 0 duplicated, ok", "test": "tests/faults/test_kill.py::test_ingest", "passed": True,
     "trials": 20, "lost": 0, "duplicated": 0, "integrity": "ok"},
    {"group": "kill", "kind": "kill -9 during crawl", "expected": "0 lost", "observed": "0 lost", "passed": True,
     "test": "tests/faults/test_kill.py::test_crawl", "trials": 20, "lost": 0, "duplicated": 1, "integrity": "ok"},
    {"group": "site", "kind": "20 MB argument to nianbao_bigrams", "expected": "refused within the SQL time limit",
     "observed": "error after 0.1 s", "test": "tests/test_site_limits.py::test_bigrams", "passed": True,
     "limit": "1 MB argument"},
    {"group": "weird", "kind": "a group nobody planned", "expected": "shown", "observed": "shown", "passed": True,
     "test": "t::x"},
]
FUZZ = {"requested": 1000, "plan": {"html": 600, "pdf": 400, "docx": 0, "txt": 0, "doc": 0}, "command": "python benchmarks/reliability.py --fuzz 1000", "started": "2026-12-06 23:00 UTC",
        "finished": "2026-12-06 23:10 UTC", "commit": "abc", "workers": 1, "limits": {"timeout_s": 10, "memory_mb": 1024},
        "targets": {
            "html": {"target": "html", "tried": 600, "reached": 590, "inputs_per_s": 15.2, "failed": 1,
                     "outcomes": {"ok": 599, "hang": 1}, "max_rss_mb": 200,
                     "failures": [{"signature": "html/hang//", "outcome": "hang", "count": 1, "detail": "no result",
                                   "path": "/x/test-artifacts/fuzz/html-hang-1.html"}], "caught": []},
            "pdf": {"target": "pdf", "tried": 400, "reached": 380, "inputs_per_s": 30.0, "failed": 0,
                    "outcomes": {"ok": 398, "caught": 2}, "max_rss_mb": 150, "failures": [],
                    "caught": [{"signature": "pdf/caught/KeyError/", "count": 2, "detail": "pdf extractor crashed: KeyError"}]},
            "doc": {"target": "doc", "not_run": "no seed inputs"},
        }}


def test_every_group_is_shown_and_missing_ones_say_not_run():
    md = _module().render(ROWS, FUZZ, {"command": "python benchmarks/reliability.py", "date": "2026-12-06 23:30 UTC",
                                       "commit": "abc123", "machine": "Linux, 2 CPUs", "tests": {
                                           "present": ["tests/test_fuzz.py"], "missing": ["tests/faults"],
                                           "summary": "3 passed", "seconds": 12.0}})
    for title in ("## Fault injection", "## kill -9 trials", "## Parse limits", "## Site abuse probes",
                  "## Fuzz slice (tests/test_fuzz.py)", "## Other rows: weird", "## Fuzzing (benchmark run)"):
        assert title in md
    parse = md.split("## Parse limits")[1].split("\n## ")[0]
    assert "**not run**" in parse
    assert "`tests/faults`" in md.split("not in this checkout")[1].splitlines()[0]
    assert "2026-12-06 23:30 UTC" in md and "abc123" in md and "Linux, 2 CPUs" in md
    assert "`python benchmarks/reliability.py`" in md


def test_failures_stay_visible_and_cells_cannot_break_the_table():
    md = _module().render(ROWS, FUZZ, {})
    fault = md.split("## Fault injection")[1].split("\n## ")[0]
    bomb = next(line for line in fault.splitlines() if "gzip bomb" in line)
    assert "gzip bomb \\| 1 GB" in bomb and "| FAIL |" in bomb and "stored 1 GB and parsed" in bomb
    table = [line for line in fault.splitlines() if line.startswith("|")]
    assert len({len(re.findall(r"(?<!\\)\|", line)) for line in table}) == 1  # same column count in every row
    assert "1 of 2 pass" in md  # the summary counts the failure


def test_kill_trials_are_counted_and_limits_shown():
    md = _module().render(ROWS, FUZZ, {})
    kill = md.split("## kill -9 trials")[1].split("\n## ")[0]
    assert "Total: 40 kill -9 trials, 0 documents lost, 1 duplicated, integrity_check: ok." in kill
    site = md.split("## Site abuse probes")[1].split("\n## ")[0]
    assert "limit" in site.splitlines()[4] and "1 MB argument" in site


def test_fuzz_tally_per_extractor_with_failures_and_not_run():
    md = _module().render([], FUZZ, {})
    fz = md.split("## Fuzzing (benchmark run)")[1]
    tally = fz.split("Failures, one row")[0]
    rows = {line.split("|")[1].strip(): line for line in tally.splitlines() if line.startswith("| ")}
    assert "600" in rows["html"] and "| 1 |" in rows["html"]
    assert "not run" in rows["doc"] and "not run" in rows["docx"] and "not run" in rows["txt"]
    assert "1,000" in rows["**total**"]
    assert "html-hang-1.html" in fz and "KeyError" in fz
    assert "1,000 inputs of 1,000 requested, 1 failures" in md
    empty = _module().render([], None, {})
    assert "**not run**: no stored fuzz run" in empty


def test_rows_are_read_from_the_recorder_file(tmp_path):
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "\n", encoding="utf-8")
    assert _module().read_rows(jsonl) == ROWS
    assert _module().read_rows(tmp_path / "absent.jsonl") == []


def test_fuzz_plan_gives_every_extractor_its_share():
    from nianbao.devkit import fuzz

    plan = _module().fuzz_plan(100_000)
    assert set(plan) == set(fuzz.TARGETS) and sum(plan.values()) == 100_000
    assert plan["doc"] == plan["xls"] == 100 and plan["image"] == 200  # LibreOffice and OCR: seconds an input
    assert {k for k, v in plan.items() if v >= 16_000} == {"html", "pdf", "docx", "txt", "ofd", "xlsx"}


def test_test_files_that_record_rows_are_found_and_absent_ones_listed(tmp_path):
    mod = _module()
    assert "tests/test_fuzz.py" in mod.recording_tests()
    assert "tests/test_reliability_report.py" not in mod.recording_tests()  # renders rows, records none
    md = mod.render([], None, {"tests": {"present": ["tests/test_fuzz.py"], "missing": ["tests/faults"],
                                         "summary": "1 passed", "bench": [{"command": "benchmarks/x.py", "returncode": 2}]}})
    assert "| `benchmarks/x.py` | exit 2 |" in md
    assert md.count("**not run**") == 6  # five groups and the fuzz benchmark
