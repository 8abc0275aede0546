"""`nianbao ingest` never stops on one bad path (issue 12, item 1).

A folder holds a readable report, a copy under a GBK (not UTF-8) file name, and every
kind of path that cannot or must not be read: a file and a folder without read
permission, a FIFO, a socket, a character device (a link to /dev/null), a dangling
link, a link to a folder, a hidden file and a hidden folder. The ingest must store
and parse every readable file, record every other path in `failures` (stage
"ingest") with its reason and name it in the summary, and exit 0.

Permissions are the one thing root ignores, and CI runs as root: there the ingest
runs as root without the two capabilities that override file permissions
(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, dropped from its bounding set before exec),
so chmod 000 really refuses the read; `test_chmod_000_refuses_the_ingest` proves it."""
from __future__ import annotations

import codecs
import ctypes
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

NIANBAO = [sys.executable, "-m", "nianbao"]
GBK_NAME = "年报".encode("gbk") + b".txt"  # c4 ea b1 a8: not UTF-8
ROOT = os.geteuid() == 0


def _without_dac_override() -> None:
    """preexec_fn: drop CAP_DAC_OVERRIDE (1) and CAP_DAC_READ_SEARCH (2) from the
    bounding set (prctl PR_CAPBSET_DROP = 24): the exec'd root process then obeys
    file permissions like any user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def as_user(cmd: list, **kw):
    return subprocess.run(cmd, preexec_fn=_without_dac_override if ROOT else None, **kw)


@pytest.fixture
def shared_dir(tmp_path):
    return tmp_path


def run_ingest(*args, cwd: Path, timeout=240):
    return as_user([*NIANBAO, "ingest", *map(os.fsencode, args), "--quiet", "--workers", "2"],
                   capture_output=True, timeout=timeout, cwd=cwd, env={**os.environ, "COLUMNS": "250"})


def test_chmod_000_refuses_the_ingest(tmp_path):
    f = tmp_path / "locked"
    f.write_bytes(b"x")
    f.chmod(0)
    proc = as_user([sys.executable, "-c", "import sys; open(sys.argv[1], 'rb')", str(f)], capture_output=True)
    assert proc.returncode == 1 and b"PermissionError" in proc.stderr, "the simulation must really refuse reads"


def bad_folder(base: Path, samples_dir: Path) -> Path:
    d = base / "batch"
    d.mkdir()
    report = (samples_dir / "wuzhong-jinji-2023.txt").read_bytes()
    (d / "report.txt").write_bytes(report)
    (d / os.fsdecode(GBK_NAME)).write_bytes(report + b"\n")  # other bytes: a document of its own
    (d / "locked.txt").write_bytes(b"secret")
    (d / "locked.txt").chmod(0)
    (d / "locked-folder").mkdir()
    (d / "locked-folder" / "inside.txt").write_bytes(report + b"\n\n")
    (d / "locked-folder").chmod(0)
    os.mkfifo(d / "pipe.html")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(d / "portal.sock"))
    sock.close()
    (d / "null.pdf").symlink_to("/dev/null")
    (d / "dangling.pdf").symlink_to(d / "gone.pdf")
    (d / "elsewhere").symlink_to(samples_dir)
    (d / ".hidden.txt").write_bytes(b"hidden")
    (d / ".git").mkdir()
    (d / ".git" / "HEAD").write_bytes(b"ref: refs/heads/main\n")
    (d / "sub").mkdir()
    (d / "sub" / "copy.html").write_bytes((samples_dir / "shanghai-bgt-2019.html").read_bytes())
    return d


EXPECTED = {  # path under the batch folder -> words of its reason
    "locked.txt": "unreadable file: Permission denied",
    "locked-folder": "unreadable folder: Permission denied",
    "pipe.html": "FIFO",
    "portal.sock": "socket",
    "null.pdf": "character device",
    "dangling.pdf": "dangling symbolic link",
    "elsewhere": "symbolic link to a folder",
    ".hidden.txt": "hidden",
    ".git": "hidden",
}


def test_every_bad_path_is_recorded_and_the_batch_goes_on(shared_dir, samples_dir, reliability):
    batch = bad_folder(shared_dir, samples_dir)
    db = shared_dir / "archive.db"
    proc = run_ingest(batch, "--db", db, cwd=shared_dir)
    out = proc.stdout.decode("utf-8", "replace")
    assert proc.returncode == 0, out + proc.stderr.decode("utf-8", "replace")
    con = sqlite3.connect(db)
    failures = {r[0]: r[1] for r in con.execute("SELECT original_name, reason FROM failures WHERE stage = 'ingest'")}
    for name, words in EXPECTED.items():
        path = f"{batch}/{name}"
        assert path in failures, (name, failures)
        assert words in failures[path], (name, failures[path])
        assert f"{path}: {failures[path]}" in out, f"the summary names {name} and why"
    assert len(failures) == len(EXPECTED)
    names = {r[0]: r[1] for r in con.execute(
        "SELECT d.original_name, r.status FROM documents d JOIN reports r ON r.id = d.sha256")}
    gbk = "\\xc4걨.txt"  # ea b1 a8 happens to be UTF-8 (걨); c4 is escaped
    assert set(names) == {"report.txt", gbk, "copy.html"}, names
    assert codecs.escape_decode(gbk.encode("utf-8"))[0] == GBK_NAME, "the name's bytes are recoverable"
    assert all(s in ("ok", "figures_inconsistent", "extraction_incomplete") for s in names.values()), names
    assert "stored 3 new document(s)" in out and "skipped 9 path(s)" in out
    reliability("ingest: GBK file name, chmod 000 file and folder, FIFO, socket, device, dangling link, "
                "link to folder, dotfiles", "each skipped path in failures and the summary; the rest stored "
                "and parsed; exit 0", f"{len(failures)} paths recorded, {len(names)} documents parsed, "
                f"exit {proc.returncode}" + (" (root without CAP_DAC_OVERRIDE)" if ROOT else ""))


def test_nothing_readable_exits_1(shared_dir, reliability):
    d = shared_dir / "only-bad"
    d.mkdir()
    os.mkfifo(d / "pipe.pdf")
    (d / "locked.pdf").write_bytes(b"%PDF-1.4")
    (d / "locked.pdf").chmod(0)
    proc = run_ingest(d, "--db", shared_dir / "a.db", cwd=shared_dir, timeout=120)
    assert proc.returncode == 1, proc.stdout
    assert b"no file was read" in proc.stderr
    con = sqlite3.connect(shared_dir / "a.db")
    assert con.execute("SELECT COUNT(*) FROM failures WHERE stage = 'ingest'").fetchone()[0] == 2
    assert con.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 0
    reliability("ingest of a folder with nothing readable", "exit 1, every path in failures",
                f"exit {proc.returncode}, 2 failures rows")


def test_strict_and_explicit_hidden_path(shared_dir, samples_dir):
    d = shared_dir / "s"
    d.mkdir()
    (d / ".report.txt").write_bytes((samples_dir / "wuzhong-jinji-2023.txt").read_bytes())
    os.mkfifo(d / "pipe.txt")
    proc = run_ingest(d / ".report.txt", d, "--db", shared_dir / "s.db", "--strict", cwd=shared_dir)
    assert proc.returncode == 1  # --strict: a skipped path fails the command
    con = sqlite3.connect(shared_dir / "s.db")
    assert con.execute("SELECT original_name FROM documents").fetchall() == [(".report.txt",)], \
        "a hidden file named on the command line is ingested"
    assert {r[0] for r in con.execute("SELECT reason FROM failures")} == {
        "skipped: hidden name (starts with '.'); give the path itself to ingest it", "not a regular file: a FIFO (named pipe)"}


def test_parse_a_file_with_a_gbk_name(tmp_path, samples_dir):
    import json

    f = os.path.join(os.fsencode(tmp_path), GBK_NAME)
    with open(f, "wb") as out:
        out.write((samples_dir / "wuzhong-jinji-2023.txt").read_bytes())
    proc = subprocess.run([*NIANBAO, "parse", f, "--json"], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert json.loads(proc.stdout)["report_year"] == 2023
