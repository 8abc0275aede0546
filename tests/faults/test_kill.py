"""kill -9 of `nianbao ingest`, `reparse` and `crawl` at seeded random moments, ×20 each,
then a run to completion: 0 documents lost, 0 duplicated, integrity_check ok.

Each trial starts one subprocess and SIGKILLs its process group (nianbao.devkit.
kill_trials) at a moment drawn from random.Random(SEED). Ingest and reparse are then
finished in this process (the gazetteer is loaded here once, so forked parser workers
start at once) and compared with a clean run of the same inputs: every document, every
parse row (cells, sections, issues, figures), the primary flags. Crawls kill a live
crawl of a mock portal (real HTTP) whose column changes between trials, so every trial
has work to interrupt; every 5th trial the crawl is resumed to completion and every
report the portal serves, in its current version, must be in the archive once."""
from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from test_crawl import sites_dir

from nianbao.devkit.kill_trials import compare, count, fingerprint, integrity, kill_at
from nianbao.pipeline.ingest import ingest_paths, parse_pending, reparse
from nianbao.pipeline.store import Archive

SEED = 12
TRIALS = 20
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def warm_parent():
    # Parser workers fork from this process: with the gazetteer loaded here they start
    # in milliseconds instead of a second, which keeps 60 trials in about two minutes.
    from nianbao.pipeline import gazetteer
    from nianbao.pipeline.limits import worker_init  # noqa: F401

    gazetteer.load()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, samples_dir) -> Path:
    d = tmp_path_factory.mktemp("kill-inputs")
    text = (samples_dir / "wuzhong-jinji-2023.txt").read_text("utf-8")
    for i, year in enumerate(range(2019, 2025)):
        (d / f"report-{year}.txt").write_text(text.replace("2023", str(year)), "utf-8")
    shutil.copy(samples_dir / "shanghai-bgt-2019.html", d)
    (d / "notice.html").write_text("<html><head><title>关于做好2024年政务公开工作的通知</title></head>"
                                   "<body><p>各乡镇人民政府：</p></body></html>", "utf-8")
    return d


@pytest.fixture(scope="module")
def clean(tmp_path_factory, inputs) -> tuple[Path, dict]:
    """The archive an uninterrupted ingest writes, and its fingerprint."""
    d = tmp_path_factory.mktemp("kill-clean")
    with Archive(d / "archive.db") as a:
        ingest_paths(a, [inputs], workers=1, progress=False)
    return d, fingerprint(d / "archive.db")


def phase(db: Path, n_docs: int) -> str:
    docs = count(db, "SELECT COUNT(*) FROM documents")
    reports = count(db, "SELECT COUNT(*) FROM reports")
    if docs == 0:
        return "before storing"
    if docs < n_docs:
        return "storing"
    if reports < n_docs or count(db, "SELECT COUNT(*) FROM pending"):
        return "parsing"
    return "finishing"


def test_kill_ingest(tmp_path, inputs, clean, reliability):
    rnd = random.Random(SEED)
    _, expected = clean
    lost = dup = 0
    where: Counter = Counter()
    for i in range(TRIALS):
        db = tmp_path / f"t{i}" / "archive.db"
        db.parent.mkdir()
        k = kill_at(["ingest", inputs, "--db", db, "--quiet", "--workers", "1"], rnd.uniform(0.2, 2.4))
        where["exited first" if k.finished else phase(db, len(expected))] += 1
        assert integrity(db) == "ok", f"trial {i}: after the kill"
        with Archive(db) as a:  # the operator runs the same command again
            ingest_paths(a, [inputs], workers=1, progress=False)
        assert integrity(db) == "ok", f"trial {i}"
        l_, d_ = compare(expected, fingerprint(db))
        lost, dup = lost + l_, dup + d_
        assert (l_, d_) == (0, 0), f"trial {i} killed at {k.after:.2f} s: lost {l_}, duplicated {d_}"
    reliability("kill -9 of nianbao ingest", "0 documents lost, 0 duplicated, integrity_check ok",
                f"{TRIALS} trials ({', '.join(f'{n} {w}' for w, n in where.items())}): lost {lost}, "
                f"duplicated {dup}, integrity ok", group="kill", trials=TRIALS, lost=lost, duplicated=dup,
                integrity="ok")


def test_kill_reparse(tmp_path, clean, reliability):
    rnd = random.Random(SEED + 1)
    base, expected = clean
    lost = dup = 0
    where: Counter = Counter()
    for i in range(TRIALS):
        d = tmp_path / f"t{i}"
        shutil.copytree(base, d)
        db = d / "archive.db"
        before = count(db, "SELECT MAX(parsed_at) FROM reports")
        k = kill_at(["reparse", "--db", db, "--quiet", "--workers", "1"], rnd.uniform(0.2, 2.4))
        rewritten = count(db, "SELECT COUNT(*) FROM reports WHERE parsed_at > ?", (before,))
        where["exited first" if k.finished else f"{min(rewritten, 9)} of {len(expected)} re-parsed"] += 1
        assert integrity(db) == "ok", f"trial {i}: after the kill"
        # Mid-reparse every report is its old or its new parse (the same rows), never
        # half of one: a report's rows are replaced in one transaction.
        assert compare(expected, fingerprint(db)) == (0, 0), f"trial {i}: a half-written report after the kill"
        with Archive(db) as a:
            reparse(a, workers=1, progress=False)
        assert integrity(db) == "ok", f"trial {i}"
        l_, d_ = compare(expected, fingerprint(db))
        lost, dup = lost + l_, dup + d_
        assert (l_, d_) == (0, 0), f"trial {i} killed at {k.after:.2f} s: lost {l_}, duplicated {d_}"
        assert count(db, "SELECT COUNT(*) FROM pending") == 0
    reliability("kill -9 of nianbao reparse", "0 reports lost, 0 duplicated, integrity_check ok",
                f"{TRIALS} trials ({', '.join(f'{n}: {w}' for w, n in sorted(where.items()))}): lost {lost}, "
                f"duplicated {dup}, integrity ok", group="kill", trials=TRIALS,
                lost=lost, duplicated=dup, integrity="ok")


# ---------------------------------------------------------------- crawl
def _sha(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return hashlib.sha256(r.read()).hexdigest()


def _crawl(db: Path, sites: Path, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--fast", "--db", str(db), "--sites", str(sites),
                           *map(str, extra)], capture_output=True, text=True, timeout=180)


def _duplicates(db: Path) -> int:
    # The same bytes stored twice, or the same page version twice under one URL.
    return count(db, "SELECT COUNT(*) FROM (SELECT url, sha256 FROM documents WHERE url IS NOT NULL "
                     "GROUP BY url, sha256 HAVING COUNT(*) > 1)")


def test_kill_crawl(tmp_path, reliability):
    from nianbao.devkit.portals import start_portals, stop_portals

    rnd = random.Random(SEED + 2)
    ps = start_portals(["trs_old"], n_reports=4, n_other=1, seed=1212, first_host=212, delay=0.08, forms=("html",))
    try:
        portal = ps[0]
        sites = sites_dir(tmp_path, [portal])
        db, jobdir = tmp_path / "archive.db", tmp_path / "job"
        lost = dup = resumed = 0
        where: Counter = Counter()
        items = portal.reports()
        for i in range(TRIALS):
            # With --jobdir, as the scheduled crawl in docs/operations.md runs.
            k = kill_at(["crawl", "--fast", "--db", db, "--sites", sites, "--jobdir", jobdir,
                         "-s", "CONCURRENT_REQUESTS=1"], rnd.uniform(0.3, 3.0))
            where["exited first" if k.finished else "killed mid-crawl"] += 1
            assert integrity(db) == "ok", f"trial {i}: after the kill"
            dup += _duplicates(db)
            if i % 5 == 4:
                p = _crawl(db, sites, "--jobdir", jobdir)
                assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
                resumed += 1
                assert integrity(db) == "ok"
                stored = {r for r in sqlite3.connect(db).execute(
                    "SELECT url, sha256 FROM documents WHERE role = 'detail'")}
                for e in portal.expected_reports():  # every report, in the version served now
                    if (e["url"], _sha(e["url"])) not in stored:
                        lost += 1
                dup += _duplicates(db)
                assert (lost, dup) == (0, 0), f"after trial {i}: lost {lost}, duplicated {dup}"
            portal.change(items[i % len(items)])  # the next trial has a corrected report to fetch
        with Archive(db) as a:  # parse what the crawls stored: one primary report per publication
            parse_pending(a, workers=1, progress=False)
        con = sqlite3.connect(db)
        pubs = con.execute("SELECT publication, SUM(is_primary) FROM reports WHERE publication IS NOT NULL "
                           "GROUP BY publication").fetchall()
        assert sorted(p for p, n in pubs if n == 1) == sorted(e["url"] for e in portal.expected_reports())
        assert all(n <= 1 for _, n in pubs), "a publication with two primary reports"
        assert integrity(db) == "ok"
    finally:
        stop_portals(ps)
    reliability("kill -9 of nianbao crawl (mock portal, column changing between trials)",
                "0 reports lost, 0 duplicated, integrity_check ok; resumed crawls store every current report once",
                f"{TRIALS} trials ({', '.join(f'{n} {w}' for w, n in where.items())}), resumed to completion "
                f"{resumed}×: lost {lost}, duplicated {dup}, integrity ok", group="kill", trials=TRIALS, lost=lost,
                duplicated=dup, integrity="ok")


# Found by these trials: a JOBDIR kept after a finished crawl hid every detail page from
# the next one (no run row, RuntimeError, a corrected report never fetched again).
def test_crawl_again_with_the_same_jobdir(tmp_path):
    from nianbao.devkit.portals import start_portals, stop_portals

    ps = start_portals(["trs_old"], n_reports=2, n_other=0, seed=1213, first_host=215, forms=("html",))
    try:
        portal = ps[0]
        sites = sites_dir(tmp_path, [portal])
        db, jobdir = tmp_path / "archive.db", tmp_path / "job"
        assert _crawl(db, sites, "--jobdir", jobdir).returncode == 0
        item = portal.reports()[0]
        portal.change(item)  # a corrected version at the same URL, as operations.md schedules for
        p = _crawl(db, sites, "--jobdir", jobdir)
        assert p.returncode == 0, p.stderr[-1500:]
        url = next(e["url"] for e in portal.expected_reports() if e["title"] == item.title)
        assert (url, _sha(url)) in set(sqlite3.connect(db).execute("SELECT url, sha256 FROM documents"))
    finally:
        stop_portals(ps)
