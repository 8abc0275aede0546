"""Shared test fixtures: the real samples (in tests/fixtures), temporary archives,
artifacts, and one real Datasette over a known archive."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# The suite runs one test at a time, and most OCR tests parse one document in one child
# process: its engine may use both cores (the product's default is one thread per
# parser process, one process per core). Halves the OCR tests' time here.
os.environ.setdefault("NIANBAO_OCR_THREADS", str(min(2, os.cpu_count() or 1)))

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = FIXTURES / "samples"
PORTAL_PAGES = FIXTURES / "portals"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture
def archive_path(tmp_path) -> Path:
    return tmp_path / "archive.db"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """Real Datasette over the known archive (known_archive.py), shared by the HTTP
    and browser tests; read-only, so sharing it cannot couple them."""
    from known_archive import known_archive

    from nianbao.pipeline.site import server

    d = tmp_path_factory.mktemp("site")
    known = known_archive(d / "archive.db")
    known["archive"].close()
    proc, url = server.start(d / "archive.db")
    known["url"] = url
    known["db"] = d / "archive.db"
    yield known
    server.stop(proc)


@pytest.fixture
def reliability(request):
    """Record one row of RELIABILITY.md: `reliability(kind, expected, observed)`.

    Tests assert their expectation themselves; the row only says what was checked and
    what was seen. Rows are appended (JSON lines) to $NIANBAO_RELIABILITY_OUT when it is
    set (benchmarks/reliability.py sets it), so an ordinary test run writes nothing."""
    import json
    import os

    rows = []

    def record(kind: str, expected: str, observed: str, *, group: str = "fault", **extra) -> None:
        rows.append({"group": group, "kind": kind, "expected": expected, "observed": observed,
                     "test": request.node.nodeid, **extra})

    yield record
    out = os.environ.get("NIANBAO_RELIABILITY_OUT")
    failed = getattr(request.node, "rep_call", None)
    if out and rows:
        passed = failed is not None and failed.passed
        with open(out, "a", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps({**row, "passed": passed}, ensure_ascii=False) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Let fixtures see whether the test body passed (the reliability table's "observed").
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep
