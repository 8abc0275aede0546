"""WARC for every fetch: a crawl of the mock portals (real HTTP, one portal's pages and
another's attachments sent gzip-compressed, a redirecting download) writes WARC 1.1
files that warcio reads back whole, rotated at a small size, indexed as CDXJ; every
fetches/documents row names the record holding its bytes; pywb 2.10 (its own venv,
installed by ./dev) replays every report byte for byte; the exports (warc, and a WACZ
that py-wacz validates) carry all of it."""
from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from warcio.archiveiterator import ArchiveIterator

from dbq import rows as _q
from nianbao.devkit.portals import faults as F
from nianbao.devkit.portals import start_portals, stop_portals
from nianbao.pipeline.store.warc import read_payload, read_record

pytestmark = pytest.mark.timeout(240)
ROOT = Path(__file__).resolve().parent.parent
MAX_SIZE = 150_000  # bytes per WARC file in this crawl: several files




def _raw(tmp: Path, sha: str) -> bytes:
    return (tmp / "raw" / sha[:2] / sha[2:4] / sha).read_bytes()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("warc")
    ps = start_portals(n_reports=3, n_other=1, seed=700, first_host=231)
    try:
        gz_pages, gz_files = ps[0], ps[1]
        gz_pages.faults[("detail", None)] = F.gzipped()  # compressed on the wire …
        gz_pages.faults[("list1", None)] = F.gzipped()
        gz_files.faults[("attachment", None)] = F.gzipped()
        sites = tmp / "sites"
        sites.mkdir()
        for p in ps:
            (sites / f"{p.name}.yaml").write_text(yaml.safe_dump(p.site_config(), allow_unicode=True), "utf-8")
        db = tmp / "archive.db"
        r = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--fast", "--db", str(db), "--sites", str(sites),
                            "-s", f"NIANBAO_WARC_MAX_SIZE={MAX_SIZE}"], capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stdout + r.stderr[-3000:]
        served = {p.name: [(m, path, st) for m, path, st in p.requests] for p in ps}
        yield {"tmp": tmp, "db": db, "warc": tmp / "warc", "portals": ps, "served": served,
               "gz": {gz_pages.name: {"detail"}, gz_files.name: {"attachment"}}}
    finally:
        stop_portals(ps)


def _records(path: Path) -> list[dict]:
    out = []
    with open(path, "rb") as f:
        it = ArchiveIterator(f, check_digests=True)
        for rec in it:
            payload = rec.content_stream().read()
            out.append({"type": rec.rec_type, "id": rec.rec_headers.get_header("WARC-Record-ID"),
                        "version": rec.rec_headers.protocol, "uri": rec.rec_headers.get_header("WARC-Target-URI"),
                        "warcinfo": rec.rec_headers.get_header("WARC-Warcinfo-ID"),
                        "concurrent": rec.rec_headers.get_header("WARC-Concurrent-To"),
                        "block": rec.rec_headers.get_header("WARC-Block-Digest"),
                        "payload_digest": rec.rec_headers.get_header("WARC-Payload-Digest"),
                        "passed": rec.digest_checker.passed, "problems": list(rec.digest_checker.problems),
                        "status": rec.http_headers.get_statuscode() if rec.rec_type == "response" else None,
                        "payload": payload, "offset": it.get_record_offset(), "length": it.get_record_length()})
    return out


def test_every_record_reads_back_linked_and_verified(crawled):
    files = sorted(crawled["warc"].glob("*.warc.gz"))
    assert len(files) >= 3  # rotated at MAX_SIZE
    for f in files[:-1]:
        assert f.stat().st_size >= MAX_SIZE
    recorded = {r["name"]: r for r in _q(crawled["db"], "SELECT * FROM warc_files")}
    assert set(recorded) == {f.name for f in files}
    for f in files:
        recs = _records(f)
        assert recorded[f.name]["records"] == len(recs) and recorded[f.name]["size"] == f.stat().st_size
        info = recs[0]
        assert info["type"] == "warcinfo" and b"nianbao" in info["payload"]  # one warcinfo per file, first
        assert all(r["version"] == "WARC/1.1" for r in recs)
        assert all(r["warcinfo"] == info["id"] for r in recs[1:])
        for r in recs:
            assert r["block"] and (r["payload_digest"] or r["type"] == "warcinfo"), r["type"]
            assert r["passed"] is True, (f.name, r["offset"], r["problems"])  # digests verify
        responses = {r["id"]: r for r in recs if r["type"] == "response"}
        requests = [r for r in recs if r["type"] == "request"]
        assert len(requests) == len(responses) == (len(recs) - 1) // 2
        for req in requests:  # each request names its response, same URL
            assert responses[req["concurrent"]]["uri"] == req["uri"]
        assert len({r["id"] for r in recs}) == len(recs)


def test_cdxj_lists_every_url_each_portal_answered(crawled):
    lines = []
    for idx in crawled["warc"].glob("*.warc.gz.cdxj"):
        lines += idx.read_text("utf-8").splitlines()
    assert len(lines) == sum(len(ps) for ps in crawled["served"].values())  # one line per response, no more
    indexed = {}
    import json
    for ln in lines:
        key, ts, js = ln.split(" ", 2)
        j = json.loads(js)
        indexed.setdefault(j["url"], []).append(j)
    for p in crawled["portals"]:
        for method, path, status in crawled["served"][p.name]:
            url = p.base_url + path
            assert url in indexed, url
            assert str(status) in {j["status"] for j in indexed[url]}, (url, status)


def test_fetches_and_documents_point_at_their_bytes(crawled):
    tmp, warc = crawled["tmp"], crawled["warc"]
    rows = _q(crawled["db"], "SELECT url, role, site, sha256, warc_file, warc_offset, warc_length FROM fetches "
                             "WHERE sha256 IS NOT NULL")
    assert rows
    gz_seen = 0
    for f in rows:
        if f["role"] == "body":  # derived from a page's script: no response carried these bytes
            assert f["warc_file"] is None
            continue
        ref = {"file": f["warc_file"], "offset": f["warc_offset"], "length": f["warc_length"]}
        assert f["warc_file"], f
        rec = read_record(warc, ref)
        assert rec.rec_type == "response"
        assert read_payload(warc, ref) == _raw(tmp, f["sha256"]), f["url"]
        if f["role"] in crawled["gz"].get(f["site"], ()) and not f["url"].endswith("/robots.txt"):
            # What the server sent is kept: the gzip stream, Content-Encoding header and all.
            assert rec.http_headers.get_header("Content-Encoding") == "gzip"
            gz_seen += 1
    assert gz_seen >= 3
    docs = _q(crawled["db"], "SELECT sha256, role, warc_file, warc_offset, warc_length FROM documents")
    for d in docs:
        if d["role"] == "body":
            continue
        ref = {"file": d["warc_file"], "offset": d["warc_offset"], "length": d["warc_length"]}
        assert hashlib.sha256(read_payload(warc, ref)).hexdigest() == d["sha256"]
    # Offsets are exact: the bytes at [offset, offset+length) are one whole gzip member.
    f = rows[0]
    with open(warc / f["warc_file"], "rb") as fh:
        fh.seek(f["warc_offset"])
        assert fh.read(2) == b"\x1f\x8b"


# ---------------------------------------------------------------- replay with pywb

def _pywb_bin() -> Path:
    where = Path(os.environ.get("NIANBAO_PYWB_VENV", ROOT / ".venv-pywb")) / "bin"
    if not (where / "wayback").exists():
        pytest.fail(f"pywb is not installed in {where.parent}: run ./dev setup (it creates .venv-pywb)")
    return where


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, dict, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def test_pywb_replays_every_report_byte_for_byte(crawled, tmp_path):
    import gzip

    bin_ = _pywb_bin()
    work = tmp_path / "pywb"
    work.mkdir()
    subprocess.run([bin_ / "wb-manager", "init", "nianbao"], cwd=work, check=True, capture_output=True, timeout=60)
    files = sorted(str(f) for f in crawled["warc"].glob("*.warc.gz"))
    subprocess.run([bin_ / "wb-manager", "add", "nianbao", *files], cwd=work, check=True, capture_output=True,
                   timeout=60)
    port = _free_port()
    log = open(tmp_path / "wayback.log", "wb")
    proc = subprocess.Popen([bin_ / "wayback", "-b", "127.0.0.1", "-p", str(port)], cwd=work, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while True:
            try:
                _get(port, "/")
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise AssertionError((tmp_path / "wayback.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        rows = _q(crawled["db"], "SELECT url, final_url, sha256, warc_file, warc_offset, warc_length FROM fetches "
                                 "WHERE role IN ('detail', 'attachment') AND sha256 IS NOT NULL")
        assert len(rows) >= 20
        for f in rows:
            rec = read_record(crawled["warc"], {"file": f["warc_file"], "offset": f["warc_offset"],
                                                "length": f["warc_length"]})
            ts = "".join(ch for ch in rec.rec_headers.get_header("WARC-Date") if ch.isdigit())[:14]
            url = rec.rec_headers.get_header("WARC-Target-URI")
            assert url == (f["final_url"] or f["url"])
            status, headers, body = _get(port, f"/nianbao/{ts}id_/{url}")
            assert status == 200, (url, status)
            if headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            assert body == _raw(crawled["tmp"], f["sha256"]), url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


# ---------------------------------------------------------------- exports

def test_export_warc_and_wacz(crawled, tmp_path):
    db = crawled["db"]
    out = tmp_path / "warc-export"
    r = subprocess.run([sys.executable, "-m", "nianbao", "export", "--db", str(db), "--format", "warc", "--out",
                        str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    files = sorted(crawled["warc"].glob("*.warc.gz"))
    for f in files:
        assert (out / f.name).read_bytes() == f.read_bytes()
        assert (out / (f.name + ".cdxj")).exists()
    merged = (out / "index.cdxj").read_text("utf-8").splitlines()
    assert merged == sorted(merged) and len(merged) == sum(len(ps) for ps in crawled["served"].values())

    wacz = tmp_path / "nianbao.wacz"
    r = subprocess.run([sys.executable, "-m", "nianbao", "export", "--db", str(db), "--format", "wacz", "--out",
                        str(wacz)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(wacz) as z:
        names = set(z.namelist())
        assert {f"archive/{f.name}" for f in files} <= names
        assert {"datapackage.json", "datapackage-digest.json", "pages/pages.jsonl"} <= names
        assert any(n.startswith("indexes/") for n in names)
        pages = z.read("pages/pages.jsonl").decode("utf-8").splitlines()
    detail = _q(db, "SELECT COUNT(*) AS n FROM fetches WHERE role = 'detail' AND warc_file IS NOT NULL")[0]["n"]
    assert len(pages) == detail + 1  # the header line, then every report page
    wacz_cli = shutil.which("wacz", path=str(Path(sys.executable).parent))
    v = subprocess.run([wacz_cli, "validate", "-f", str(wacz)], capture_output=True, text=True, timeout=120)
    assert v.returncode == 0 and "is valid" in v.stdout, v.stdout + v.stderr

    # One run only: its files, and an empty run is an error, not an empty export.
    r = subprocess.run([sys.executable, "-m", "nianbao", "export", "--db", str(db), "--format", "warc", "--run", "99",
                        "--out", str(tmp_path / "none")], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "no WARC files recorded for run 99" in r.stderr


def test_request_records_say_what_was_sent(crawled):
    """The request record holds the headers Scrapy sent (User-Agent, Accept-Encoding,
    validators of a conditional request) and the Host Twisted adds."""
    f = sorted(crawled["warc"].glob("*.warc.gz"))[0]
    with open(f, "rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type == "request":
                h = rec.http_headers
                assert h.get_header("User-Agent", "").startswith("nianbao/")
                assert "gzip" in h.get_header("Accept-Encoding", "")
                assert h.get_header("Host") == urlsplit(rec.rec_headers.get_header("WARC-Target-URI")).netloc
                assert h.protocol in ("GET", "POST")
                return
    raise AssertionError("no request record")


def test_an_old_archive_gains_the_warc_columns(tmp_path):
    """An archive written before WARC: its tables get the columns (NULL: no record)."""
    from nianbao.pipeline.store import Archive

    import re

    from nianbao.pipeline.store import schema

    db = tmp_path / "archive.db"
    con = sqlite3.connect(db)
    # Today's tables as they were before WARC: without the warc_* columns and warc_files.
    old = re.sub(r",\n  warc_file TEXT,\n  warc_offset INTEGER,\n  warc_length INTEGER", "", schema.TABLES)
    old = re.sub(r"CREATE TABLE IF NOT EXISTS warc_files \(.*?\);", "", old, flags=re.S)
    assert "warc" not in old
    con.executescript(old)
    con.execute("INSERT INTO fetches (url, sha256) VALUES ('http://x/a', 'ab')")
    con.commit()
    con.close()
    Archive(db).close()
    for table in ("fetches", "documents"):
        cols = {r[1] for r in sqlite3.connect(db).execute(f"PRAGMA table_info({table})")}
        assert {"warc_file", "warc_offset", "warc_length"} <= cols
    assert _q(db, "SELECT warc_file FROM fetches") == [{"warc_file": None}]
    assert _q(db, "SELECT name FROM warc_files") == []


def test_a_second_crawl_records_its_304s_and_keeps_the_refs(crawled, tmp_path):
    """Runs after the others (it crawls the same archive again): the unchanged reports
    answer 304, which is recorded in the second run's WARC, while each URL keeps pointing
    at the record of its bytes; `export --run` takes one run's files."""
    db = crawled["db"]
    before = {f["url"]: f for f in _q(db, "SELECT url, warc_file, warc_offset FROM fetches WHERE role = 'detail' "
                                          "AND sha256 IS NOT NULL")}
    first = {f.name for f in crawled["warc"].glob("*.warc.gz")}
    r = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--fast", "--db", str(db), "--sites",
                        str(crawled["tmp"] / "sites")], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    run2 = _q(db, "SELECT id, unchanged FROM runs ORDER BY id DESC LIMIT 1")[0]
    assert run2["unchanged"] >= len(before)
    after = {f["url"]: f for f in _q(db, "SELECT url, warc_file, warc_offset FROM fetches WHERE role = 'detail' "
                                         "AND sha256 IS NOT NULL")}
    assert after == before  # a 304 brought no bytes: the ref stays on the 200 that did
    new = {r["name"] for r in _q(db, "SELECT name FROM warc_files WHERE run_id = ?", run2["id"])}
    assert new and not new & first
    statuses = []
    for name in new:
        with open(crawled["warc"] / name, "rb") as fh:
            statuses += [rec.http_headers.get_statuscode() for rec in ArchiveIterator(fh) if rec.rec_type == "response"]
    assert statuses.count("304") >= len(before)
    out = tmp_path / "run2"
    r = subprocess.run([sys.executable, "-m", "nianbao", "export", "--db", str(db), "--format", "warc", "--run",
                        str(run2["id"]), "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert {p.name for p in out.glob("*.warc.gz")} == new
