"""A full disk while writing WARC: the crawl stops at once with the reason and exit 1,
every WARC file still reads to its end (no half record), every archive row names a
record that is there, and the next crawl (space back) completes. A real tmpfs of a few
KiB when this runs as root (CI does), an ENOSPC hook in the crawl process otherwise."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from portal_faults import crawl, q, rows, site, stored_urls, write_sites
from warcio.archiveiterator import ArchiveIterator

from nianbao.devkit.portals import start_portals, stop_portals
from nianbao.pipeline.store.warc import read_payload

pytestmark = pytest.mark.timeout(300)

# Without root: os.write fails with ENOSPC, after a byte budget and half-way through a
# buffer as a full disk does, for files under the WARC folder only.
_ENOSPC_HOOK = """
import errno, os, runpy, sys
budget = [int(os.environ["NIANBAO_TEST_WARC_BUDGET"])]
real = os.write
def write(fd, data):
    try:
        warc = "/warc/" in os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        warc = False
    if warc:
        if budget[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = real(fd, bytes(data[: budget[0]]))
        budget[0] -= n
        return n
    return real(fd, data)
os.write = write
sys.argv = ["nianbao", *sys.argv[1:]]
runpy.run_module("nianbao", run_name="__main__")
"""


def _mount_tmpfs(where, size: str) -> bool:
    if os.geteuid() != 0 or os.environ.get("NIANBAO_TEST_NO_TMPFS"):
        return False
    where.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


def _read_all(path) -> int:
    """Every record of a WARC file, read to the end (raises on a cut record)."""
    n = 0
    with open(path, "rb") as f:
        for rec in ArchiveIterator(f, check_digests=True):
            rec.content_stream().read()
            assert rec.digest_checker.passed is not False, (path, rec.digest_checker.problems)
            n += 1
    return n


def test_disk_full_while_writing_warc(tmp_path, reliability):
    (p,) = start_portals(["trs_old"], n_reports=8, n_other=1, seed=640, first_host=203, forms=("html", "pdf"))
    db, warc, raw = tmp_path / "archive.db", tmp_path / "warc", tmp_path / "raw"
    sites = write_sites(tmp_path / "sites", [p])
    mounted = _mount_tmpfs(warc, "64k")  # the column and a few reports, not all
    try:
        if mounted:
            how = "tmpfs of 64 KiB under warc/"
            res = crawl(db, sites)
        else:
            how = "ENOSPC hook on the WARC folder's writes"
            res = crawl(db, sites, python=[sys.executable, "-c", _ENOSPC_HOOK],
                        env={**os.environ, "NIANBAO_TEST_WARC_BUDGET": "64000"})
        assert res.code == 1, res.out + res.err[-3000:]
        assert "crawl stopped: WARC not written: No space left on device" in res.err, res.err[-3000:]
        (run,) = rows(db, "SELECT * FROM runs")
        assert run["status"] == "failed" and "No space left on device" in run["note"]
        assert q(db, "PRAGMA integrity_check") == [("ok",)]
        files = sorted(warc.glob("*.warc.gz"))
        assert files
        records = sum(_read_all(f) for f in files)  # whole to the last byte: nothing half-written
        # Every row that names a record finds it, with the bytes the raw store holds; every
        # stored document of a fetch has its record.
        fetched = rows(db, "SELECT url, sha256, warc_file, warc_offset, warc_length FROM fetches "
                           "WHERE sha256 IS NOT NULL AND role != 'body'")
        for f in fetched:
            assert f["warc_file"], f
            data = read_payload(warc, {"file": f["warc_file"], "offset": f["warc_offset"], "length": f["warc_length"]})
            assert data == (raw / f["sha256"][:2] / f["sha256"][2:4] / f["sha256"]).read_bytes()
        assert q(db, "SELECT COUNT(*) FROM documents WHERE role != 'body' AND warc_file IS NULL") == [(0,)]
        expected = {e["url"] for e in p.expected_reports()}
        got_first = stored_urls(db, p.name, "detail")
        docs_first = q(db, "SELECT COUNT(*) FROM documents")[0][0]
        assert site(db, p.name)["status"] != "ok"  # not reported complete
        # Space comes back: the next crawl stores the rest, in WARC too.
        if mounted:
            subprocess.run(["mount", "-o", "remount,size=16m", str(warc)], check=True)
        res2 = crawl(db, sites)
        assert res2.code == 0, res2.out + res2.err[-3000:]
        assert stored_urls(db, p.name, "detail") == expected
        assert q(db, "SELECT COUNT(*) FROM documents")[0][0] > docs_first  # the first crawl stopped before the end
        assert site(db, p.name)["status"] == "ok"
        for f in sorted(warc.glob("*.warc.gz")):
            _read_all(f)
        assert q(db, "SELECT COUNT(*) FROM fetches WHERE sha256 IS NOT NULL AND role != 'body' "
                     "AND warc_file IS NULL") == [(0,)]
    finally:
        if mounted:
            subprocess.run(["umount", str(warc)], capture_output=True)
        stop_portals([p])
    reliability("disk full while writing WARC", "the crawl stops with the reason, exit 1, run failed; every WARC "
                "file whole; no row names a missing record; the next crawl completes",
                f"{how}: exit {res.code}, '{run['note'][:60]}…'; {len(files)} WARC file(s), {records} records all "
                f"readable; {len(got_first)}/{len(expected)} report pages, {docs_first} files before the stop; "
                f"after space returned: {len(expected)}/{len(expected)}, site ok")
