"""Start real Datasette on an archive: the one way `nianbao serve`, the demo, the tests
and the benchmark all launch the site, so they all see the same settings.

Live, read-only mode: Datasette opens the archive with `mode=ro`, never `immutable=1`.
The archive is in WAL mode (pipeline/store/archive.py sets it on every open), so a
`nianbao run` or `ingest` may write the same file while the site serves it: each query
reads one committed snapshot, and table counts, facets and views are computed from the
file as it is now. (Immutable mode, used before, let SQLite skip locking and trust the
file never to change: a concurrent write then gave "database disk image is malformed"
and counts frozen at the last `datasette inspect`.) See docs/operations.md.

Only when the archive's folder is not writable (a release on read-only media, where no
batch can write either and SQLite could not create the WAL index) is it opened immutable.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from ..store import Archive, raw_root_for
from . import metadata

HERE = Path(__file__).parent
SETTINGS = {
    "sql_time_limit_ms": 5000,  # canned queries over 100k reports take well under this
    "facet_time_limit_ms": 1000,
    "facet_suggest_time_limit_ms": 200,
    "suggest_facets": "off",  # suggestions run a query per column on every table page
    "default_facet_size": 20,
    "max_returned_rows": 2000,
    "default_page_size": 50,
    "num_sql_threads": 4,
    "allow_facet": "on",
}


def _side_dir(db: Path) -> Path:
    """Where generated files live: beside the archive, or in a temp folder when that is read-only."""
    if os.access(db.parent, os.W_OK):
        return db.parent
    d = Path(tempfile.gettempdir()) / "nianbao-site" / hashlib.sha256(str(db).encode()).hexdigest()[:16]
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_metadata(db: Path, workdir: Path, raw_root: Path | None = None,
                   limits: dict[str, Any] | None = None) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "metadata.json"
    meta = metadata.build(db.stem, str((raw_root or raw_root_for(db)).resolve()), limits)
    path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def live(db: Path) -> bool:
    """Serve live (mode=ro, WAL) unless the folder is read-only: see the module docstring."""
    return os.access(db.parent, os.W_OK)


def prepare(db: Path) -> None:
    """Before serving a writable archive: WAL mode (in rollback-journal mode the site's
    readers and a batch's writer lock each other out: pages fail with "database is
    locked" while a batch commits), and the tables, views and derived tables of today's
    schema (an archive an older nianbao wrote has no `year_totals`, which the per-year
    queries read). Opening the Archive does both; it writes no report."""
    if not db.is_file():
        return  # Datasette reports the missing file itself
    Archive(db).conn.close()  # not close(): finishing a running batch is that batch's job


def command(db: Path, port: int, host: str = "127.0.0.1", raw_root: Path | None = None,
            workdir: Path | None = None, limits: dict[str, Any] | None = None) -> list[str]:
    db = Path(db).resolve()
    workdir = workdir or _side_dir(db) / (db.name + ".site")
    if live(db):
        prepare(db)
        target = [str(db)]
    else:
        target = ["--immutable", str(db)]
    args = [sys.executable, "-m", "datasette", "serve", *target,
            "--host", host, "--port", str(port),
            "--metadata", str(write_metadata(db, workdir, raw_root, limits)),
            "--plugins-dir", str(HERE / "plugins"),
            "--template-dir", str(HERE / "templates"),
            "--static", f"static:{HERE / 'static'}"]
    for k, v in SETTINGS.items():
        args += ["--setting", k, str(v)]
    return args


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"datasette exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/-/versions.json", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"datasette did not answer at {url}")


def start(db: Path, port: int | None = None, host: str = "127.0.0.1", quiet: bool = True,
          **kw) -> tuple[subprocess.Popen, str]:
    """Launch Datasette in the background; returns (process, base URL) once it answers."""
    port = port or free_port(host)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    out = subprocess.DEVNULL if quiet else None
    proc = subprocess.Popen(command(Path(db), port, host, **kw), stdout=out, stderr=out, env=env)
    url = f"http://{host}:{port}"
    try:
        wait_until_up(url, proc)
    except Exception:
        proc.terminate()
        raise
    return proc, url


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
