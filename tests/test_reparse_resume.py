"""`nianbao reparse` over a large archive is resumable: Ctrl-C or kill -9 in the middle,
run it again, and it finishes the rest; the result equals an uninterrupted reparse.

Real CLI processes, real signals, a real archive of generated reports."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nianbao.devkit.generate import random_report, render_html

NIANBAO = [sys.executable, "-m", "nianbao"]
N_DOCS = 60

pytestmark = pytest.mark.slow


def nb(*args, check=True):
    proc = subprocess.run([*NIANBAO, *map(str, args)], capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"nianbao {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def left(db: Path) -> int | None:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM reparse_todo").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return None


def snapshot(db: Path) -> dict:
    """What a reparse produces, without its timestamps."""
    con = sqlite3.connect(db)
    try:
        return {
            "reports": con.execute(
                "SELECT id, status, reason, agency, report_year, title FROM reports ORDER BY id").fetchall(),
            "cells": con.execute(
                "SELECT report, table_no, row, col, value, reason FROM cells ORDER BY 1, 2, 3, 4").fetchall(),
            "figures": con.execute("SELECT * FROM figures ORDER BY report").fetchall(),
            "primary": con.execute("SELECT id FROM reports WHERE is_primary ORDER BY id").fetchall(),
            "todo": con.execute("SELECT COUNT(*) FROM reparse_todo").fetchone()[0],
            "pending": con.execute("SELECT COUNT(*) FROM pending").fetchone()[0],
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, dict]:
    d = tmp_path_factory.mktemp("reparse")
    docs = d / "docs"
    docs.mkdir()
    for i in range(N_DOCS):
        (docs / f"r{i:03d}.html").write_bytes(render_html(random_report(500 + i), encoding="utf-8"))
    db = d / "archive.db"
    nb("ingest", docs, "--db", db, "-q", "-j", "2")
    nb("reparse", "--db", db, "-q", "-j", "2")
    return db, snapshot(db)


def _interrupt(db: Path, sig: int) -> subprocess.CompletedProcess:
    """Start a reparse, send `sig` once part of it is checkpointed, return the finished process."""
    # Its own process group, signalled as a whole, as a terminal's Ctrl-C is: the workers get it too.
    # Checkpoints of 4 reports: a fast machine would otherwise parse all 60 in one batch.
    # SIGINT back to its default first: under `cmd &` (a CI runner) it is inherited ignored, and
    # Python then never turns it into KeyboardInterrupt; a terminal's Ctrl-C always reaches it.
    proc = subprocess.Popen([*NIANBAO, "reparse", "--db", str(db), "-q", "-j", "2"], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NIANBAO_PARSE_BATCH": "4"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        n = left(db)
        if n is not None and 0 < n < N_DOCS:
            break
        time.sleep(0.01)
    assert proc.poll() is None, f"the reparse ended before it could be interrupted: {proc.communicate()}"
    os.killpg(proc.pid, sig)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_interrupted_reparse_resumes_and_equals_a_whole_one(archive, sig, reliability):
    db, whole = archive
    stopped = _interrupt(db, sig)
    if sig == signal.SIGINT:
        assert stopped.returncode == 130, stopped
        assert "Run `nianbao reparse` again to resume" in stopped.stderr
    else:
        assert stopped.returncode == -signal.SIGKILL
    remaining = left(db)
    assert 0 < remaining < N_DOCS, remaining
    resumed = nb("reparse", "--db", db, "-q", "-j", "2")
    done_before = N_DOCS - remaining
    assert f"resumed an interrupted reparse: {done_before:,} document(s) were already done" in resumed.stdout
    assert f"parsed {remaining}" in resumed.stdout  # only the rest was parsed again
    assert snapshot(db) == whole
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT COUNT(*) FROM failures WHERE stage != 'ingest'").fetchone()[0] == 0
    con.close()
    reliability(f"reparse interrupted ({'Ctrl-C' if sig == signal.SIGINT else 'kill -9'}), run again",
                "the next reparse parses only what was left and the archive equals an uninterrupted reparse",
                f"{done_before}/{N_DOCS} done before the stop, {remaining} parsed on resume; archive equal, "
                "integrity ok, 0 failures", group="kill", trials=1, lost=0, duplicated=0, integrity="ok")


def test_restart_starts_over(archive):
    db, whole = archive
    stopped = _interrupt(db, signal.SIGINT)
    assert stopped.returncode == 130
    again = nb("reparse", "--db", db, "-q", "-j", "2", "--restart")
    assert "resumed" not in again.stdout and f"parsed {N_DOCS}" in again.stdout
    assert snapshot(db) == whole
