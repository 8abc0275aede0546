"""kill -9 trials: start a `nianbao` command, SIGKILL it at a chosen moment, then judge
the archive it leaves (tests/faults/test_kill.py; benchmarks may run more trials).

The whole process group is killed (the command and its parser workers), as the
kernel's OOM killer or `systemctl kill -s KILL` would: nothing gets to clean up.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

NIANBAO = [sys.executable, "-m", "nianbao"]


@dataclass
class Killed:
    after: float  # seconds after the start the signal went out
    finished: bool  # the command had already exited by itself (the kill came too late)
    returncode: int | None


def kill_at(args: list[str], after: float, *, cwd: Path | None = None, env: dict | None = None) -> Killed:
    """Run `nianbao ARGS…`; SIGKILL its process group `after` seconds from the start."""
    proc = subprocess.Popen([*NIANBAO, *map(str, args)], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, env={**os.environ, **(env or {})})
    t0 = time.monotonic()
    try:
        proc.wait(timeout=after)
        finished = True
    except subprocess.TimeoutExpired:
        finished = False
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=60)
    elapsed = time.monotonic() - t0
    if finished:
        # The leader exited by itself; its workers must not outlive the trial either.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return Killed(after=elapsed, finished=finished, returncode=proc.returncode)


def integrity(db: Path | str) -> str:
    """PRAGMA integrity_check of the archive (after the WAL is recovered): "ok" or the errors."""
    if not Path(db).exists():
        return "ok"  # killed before the archive was created: nothing to check
    con = sqlite3.connect(db)
    try:
        return "; ".join(r[0] for r in con.execute("PRAGMA integrity_check"))
    finally:
        con.close()


def count(db: Path | str, sql: str, args=()) -> int:
    if not Path(db).exists():
        return 0
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchone()[0]
    except sqlite3.OperationalError:  # the schema was not written yet
        return 0
    finally:
        con.close()


def fingerprint(db: Path | str) -> dict[str, tuple]:
    """Per stored document: what its parse wrote (status, cells, old, sections, issues).
    Two archives holding the same parses have equal fingerprints, whatever the order or
    the time they were written; a row written twice or lost shows as a difference."""
    con = sqlite3.connect(db)
    try:
        out = {}
        for (sha,) in con.execute("SELECT sha256 FROM documents"):
            r = con.execute("SELECT status, cells_found, is_primary FROM reports WHERE id = ?", (sha,)).fetchone()
            rows = tuple(con.execute(f"SELECT COUNT(*) FROM {t} WHERE report = ?", (sha,)).fetchone()[0]
                         for t in ("cells", "old", "sections", "issues", "figures"))
            out[sha] = (r, rows)
        return out
    finally:
        con.close()


def compare(expected: dict[str, tuple], got: dict[str, tuple]) -> tuple[int, int]:
    """(lost, duplicated) between two fingerprints: documents or parses missing, and
    documents or rows beyond the expected ones."""
    lost = sum(1 for k in expected if k not in got or got[k][0] is None)
    dup = sum(1 for k in got if k not in expected)
    for k in expected.keys() & got.keys():
        (e_rep, e_rows), (g_rep, g_rows) = expected[k], got[k]
        if g_rep is None:
            continue
        lost += sum(max(0, a - b) for a, b in zip(e_rows, g_rows))
        dup += sum(max(0, b - a) for a, b in zip(e_rows, g_rows))
        if e_rep != g_rep:
            lost += 1  # another status or primary flag: the parse that should be there is not
    return lost, dup
