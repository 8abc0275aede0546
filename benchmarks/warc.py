"""What WARC for every fetch costs: the same crawl of the mock portals with WARC on and
off (NIANBAO_WARC), alternated `--rounds` times, best of each; the crawl time ratio
(baseline: WARC off, measured in the same run), and the WARC folder's size against the
raw store's. Then the exports: `nianbao export --format warc` and `--format wacz`.

    python benchmarks/warc.py [--portals 5] [--reports 20] [--rounds 2]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from nianbao.devkit.portals import start_portals, stop_portals


def du(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.exists() else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--portals", type=int, default=5)
    ap.add_argument("--reports", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    ps = start_portals(n_reports=a.reports, n_other=4, seed=300, first_host=151, count=a.portals)
    work = Path(tempfile.mkdtemp(prefix="nianbao-warc-bench-"))
    try:
        sites = work / "sites"
        sites.mkdir()
        for p in ps:
            (sites / f"{p.name}.yaml").write_text(yaml.safe_dump(p.site_config(), allow_unicode=True), "utf-8")
        best: dict[str, float] = {}
        for _ in range(a.rounds):
            for warc in ("false", "true"):
                for x in ("archive.db", "raw", "warc"):
                    shutil.rmtree(work / x, ignore_errors=True)
                    (work / x).unlink(missing_ok=True) if (work / x).is_file() else None
                for x in work.glob("archive.db-*"):
                    x.unlink()
                t = time.perf_counter()
                cmd = [sys.executable, "-m", "nianbao", "crawl", "--fast", "--db", str(work / "archive.db"),
                       "--sites", str(sites), "-s", f"NIANBAO_WARC={warc}"]
                r = subprocess.run(cmd, capture_output=True, text=True)
                took = time.perf_counter() - t
                if r.returncode:
                    raise SystemExit(r.stdout + r.stderr[-3000:])
                best[warc] = min(best.get(warc, took), took)
                print(f"WARC {warc:5}: {took:6.2f} s  {r.stdout.splitlines()[0]}")
        raw, warc = du(work / "raw"), du(work / "warc")
        files = len(list((work / "warc").glob("*.warc.gz")))
        print(f"\ncrawl time, WARC on / off (best of {a.rounds}): {best['true']:.2f} / {best['false']:.2f} s = "
              f"{best['true'] / best['false']:.2f}x")
        print(f"raw store {raw:,} bytes; WARC {warc:,} bytes in {files} file(s) (+ CDXJ) "
              f"= {warc / raw:.2f}x the raw store")
        for fmt, out in (("warc", work / "export"), ("wacz", work / "export" / "nianbao.wacz")):
            t = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "nianbao", "export", "--db", str(work / "archive.db"), "--format",
                                fmt, "--out", str(out)], capture_output=True, text=True)
            if r.returncode:
                raise SystemExit(r.stderr[-3000:])
            print(f"export --format {fmt}: {time.perf_counter() - t:.2f} s  {r.stdout.strip()}")
    finally:
        stop_portals(ps)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
