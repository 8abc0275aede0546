"""Start real Datasette on an archive: the one way `nianbao serve`, the demo, the tests
and the benchmark all launch the site, so they all see the same settings.

Immutable mode with an inspect file: Datasette then trusts the file not to change, takes
table counts from the inspect file instead of counting 20 million cells per page view,
and may open it from several threads at once.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ..store import raw_root_for
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


def inspect_file(db: Path) -> Path:
    """Counts per table, recomputed when the database changed since the last run."""
    out = _side_dir(db) / (db.name + ".inspect.json")
    if not out.exists() or out.stat().st_mtime < db.stat().st_mtime:
        subprocess.run([sys.executable, "-m", "datasette", "inspect", str(db), "--inspect-file", str(out)],
                       check=True, stdout=subprocess.DEVNULL)
    return out


def write_metadata(db: Path, workdir: Path, raw_root: Path | None = None) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "metadata.json"
    meta = metadata.build(db.stem, str((raw_root or raw_root_for(db)).resolve()))
    path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def checkpoint(db: Path) -> None:
    """Move WAL pages into the main file: immutable mode reads the main file only."""
    wal = db.with_name(db.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        con = sqlite3.connect(db)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()


def command(db: Path, port: int, host: str = "127.0.0.1", raw_root: Path | None = None,
            workdir: Path | None = None, inspect: bool = True) -> list[str]:
    db = Path(db).resolve()
    checkpoint(db)
    workdir = workdir or _side_dir(db) / (db.name + ".site")
    args = [sys.executable, "-m", "datasette", "serve", "--immutable", str(db),
            "--host", host, "--port", str(port),
            "--metadata", str(write_metadata(db, workdir, raw_root)),
            "--plugins-dir", str(HERE / "plugins"),
            "--template-dir", str(HERE / "templates"),
            "--static", f"static:{HERE / 'static'}"]
    if inspect:
        args += ["--inspect-file", str(inspect_file(db))]
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
