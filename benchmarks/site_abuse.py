"""Site abuse probes (issue 12, item 5): what one anonymous client can make the server
spend, and what an ordinary page costs another client meanwhile.

    python benchmarks/site_abuse.py [--reports 300] [--only NAME ...] [--out FILE]

Each probe runs against a fresh Datasette (pipeline.site.server.start) over a small
synthetic archive; the server's peak RSS is /proc/<pid>/status VmHWM, reset before each
probe (clear_refs 5). Page images are drawn in a child process since issue 12: its
peak is measured separately with the same PDF (`render child`). Prints a table and
writes JSON (default benchmarks/site-abuse-results.json).
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from nianbao.devkit import synth
from nianbao.devkit.abuse import huge_page_pdf, nested_forms_pdf
from nianbao.pipeline import store
from nianbao.pipeline.site import server

HERE = Path(__file__).parent
# 20 MB of Han text built inside SQLite: 6,666,666 × 「中」 (3 bytes each).
BIG_TEXT = "replace(hex(zeroblob(3333333)), '0', '中')"
BIGRAMS_SQL = f"select length(nianbao_bigrams({BIG_TEXT}))"


def build_archive(d: Path, n: int) -> tuple[Path, dict[str, str]]:
    db = d / "archive.db"
    a = store.Archive(db)
    synth.load(a, synth.reports(12, n))
    ids = {"huge_page": a.add_document(huge_page_pdf(), type="pdf", original_name="huge.pdf")[0],
           "nested_forms": a.add_document(nested_forms_pdf(), type="pdf", original_name="nested.pdf")[0],
           "report": a.conn.execute("SELECT id FROM reports LIMIT 1").fetchone()[0]}
    a.close()
    return db, ids


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def reset_peak(pid: int) -> None:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def get(base: str, path: str, source: str = "127.0.0.1", timeout: float = 120) -> tuple[int, float, bytes]:
    u = urllib.parse.urlsplit(base)
    t = time.perf_counter()
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout, source_address=(source, 0))
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        return r.status, time.perf_counter() - t, body
    except (OSError, http.client.HTTPException) as e:
        return -1, time.perf_counter() - t, str(e).encode()
    finally:
        c.close()


def sql_path(sql: str) -> str:
    return "/archive.json?" + urllib.parse.urlencode({"sql": sql, "_shape": "array"})


def probe(base: str, pid: int, name: str, paths: list[str], normal: str) -> dict:
    """Send `paths` at once from 127.0.0.1 while 127.0.0.2 asks for the normal page."""
    reset_peak(pid)
    base_mb = peak_mb(pid)
    results: list[tuple[int, float, bytes]] = [None] * len(paths)  # type: ignore[list-item]

    def one(i: int) -> None:
        results[i] = get(base, paths[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(paths))]
    t = time.perf_counter()
    for th in threads:
        th.start()
    time.sleep(0.3)
    normal_s = []
    while any(th.is_alive() for th in threads) and len(normal_s) < 20:
        normal_s.append(get(base, normal, source="127.0.0.2")[1])
        time.sleep(0.2)
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    return {"probe": name, "requests": len(paths), "statuses": sorted({r[0] for r in results}),
            "seconds": round(max(r[1] for r in results), 3), "wall_s": round(wall, 3),
            "server_peak_mb": round(peak_mb(pid), 1), "server_base_mb": round(base_mb, 1),
            "normal_page_s_max": round(max(normal_s), 3) if normal_s else None,
            "normal_page_s_median": round(sorted(normal_s)[len(normal_s) // 2], 3) if normal_s else None,
            "answer": results[0][2][:160].decode("utf-8", "replace")}


def render_child_peak(pdf: bytes) -> dict | None:
    """Exit, time and peak RSS of the page-drawing child on `pdf` (where render.py exists)."""
    try:
        from nianbao.pipeline.site import limits
    except ImportError:
        return None
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        t = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "nianbao.pipeline.site.render", f.name, "1",
                              str(limits.DEFAULTS["page_image_max_pixels"]), str(limits.DEFAULTS["page_image_memory_mb"])],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        timer = threading.Timer(limits.DEFAULTS["page_image_timeout_s"], p.kill)
        timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
    return {"rc": p.returncode, "seconds": round(time.perf_counter() - t, 3), "peak_mb": round(usage.ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", type=int, default=300)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--out", type=Path, default=HERE / "site-abuse-results.json")
    ap.add_argument("--server-memory-gb", type=float, default=10,
                    help="address-space limit put on the server, so that a probe cannot take the machine")
    args = ap.parse_args(argv)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        db, ids = build_archive(Path(tmp), args.reports)
        normal = f"/report/{ids['report']}"
        probes = {
            "normal page alone": [normal],
            "bigrams 20 MB": [sql_path(BIGRAMS_SQL)],
            "bigrams 20 MB ×4": [sql_path(BIGRAMS_SQL)] * 4,
            "bigrams 200 calls × 1.5 MB": [sql_path(
                "with recursive n(i) as (select 1 union all select i + 1 from n where i < 200) "
                "select sum(length(nianbao_bigrams(replace(hex(zeroblob(250000)), '0', '中') || i))) from n")],
            "snippet 20 MB": [sql_path(f"select length(nianbao_snippet({BIG_TEXT}, '中中 公开'))")],
            "page image 14400×14400 pt": [f"/report/{ids['huge_page']}/page/1.png"],
            "page image nested forms 10^7": [f"/report/{ids['nested_forms']}/page/1.png"],
            "6 searches at once": ["/search?q=" + urllib.parse.quote("公开 申请")] * 6,
        }
        for name, paths in probes.items():
            if args.only and name not in args.only:
                continue
            proc, base = server.start(db)
            limit = int(args.server_memory_gb * 2**30)
            resource.prlimit(proc.pid, resource.RLIMIT_AS, (limit, limit))
            try:
                get(base, normal)  # warm
                row = probe(base, proc.pid, name, paths, normal)
            finally:
                server.stop(proc)
            out.append(row)
            print(f"{name:32} {row['statuses']!s:14} {row['seconds']:8.2f} s {row['server_peak_mb']:8.0f} MB "
                  f"normal page max {row['normal_page_s_max']} s", flush=True)
        for name, pdf in (("render child 14400×14400 pt", huge_page_pdf()), ("render child nested forms", nested_forms_pdf())):
            if args.only and name not in args.only:
                continue
            child = render_child_peak(pdf)
            if child:
                out.append({"probe": name, **child})
                print(f"{name:32} rc {child['rc']}  {child['seconds']:.2f} s  {child['peak_mb']:.0f} MB")
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
