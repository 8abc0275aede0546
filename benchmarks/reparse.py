"""Reparse benchmark: `nianbao reparse` over a large archive of stored documents, the
real CLI on all cores, with its progress bar, peak memory and a Ctrl-C + resume.

    python benchmarks/reparse.py [--documents 100000] [--db PATH] [--rebuild] [--baseline 500]

The archive holds N stored documents (not parsed yet): generated reports as HTML (60 %),
DOCX (30 %) and PDF (10 %, printed by LibreOffice). To build 100,000 in minutes, a pool
of distinct reports per container is rendered once and each copy made unique without
changing what it says (an HTML comment, a DOCX zip comment, a PDF comment after %%EOF):
the parser does the same work as on a new file, the raw store holds N documents.

Runs, in one go:
  baseline  `nianbao reparse -j 1` on the first --baseline documents (a small archive);
  2 cores   `nianbao reparse -j 2` on all N: documents per second, peak memory of the
            process tree (parent + workers, sampled from /proc), interrupted with SIGINT at
            half way and resumed (the checkpoint), so the time includes one restart;
and prints documents/s, the ratio to the baseline, and writes benchmarks/reparse-results.json.
Not part of the test suite.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from nianbao.devkit.generate import random_report, render_docx, render_html, render_many_pdf
from nianbao.pipeline.sniff import sniff
from nianbao.pipeline.store import Archive

HERE = Path(__file__).parent
NIANBAO = [sys.executable, "-m", "nianbao"]
MIX = (("html", 0.6), ("docx", 0.3), ("pdf", 0.1))
POOL = {"html": 400, "docx": 200, "pdf": 60}  # distinct reports rendered per container


def _unique(kind: str, data: bytes, i: int) -> bytes:
    tag = f"nianbao-bench-{i}"
    if kind == "html":
        return data + f"\n<!-- {tag} -->\n".encode()
    if kind == "pdf":
        return data + f"\n% {tag}\n%%EOF\n".encode()
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as z:
        z.comment = tag.encode()
    return buf.getvalue()


_POOLS: dict[str, list[bytes]] = {}


def pools() -> dict[str, list[bytes]]:
    """The distinct reports per container, rendered once per run."""
    if not _POOLS:
        print("rendering the pools of distinct reports …", file=sys.stderr)
        _POOLS.update({
            "html": [render_html(random_report(s), encoding="utf-8") for s in range(POOL["html"])],
            "docx": [render_docx(random_report(10_000 + s)) for s in range(POOL["docx"])],
            "pdf": render_many_pdf([random_report(20_000 + s) for s in range(POOL["pdf"])]),
        })
    return _POOLS


def build(db: Path, n: int, rebuild: bool) -> None:
    if db.exists() and not rebuild:
        con = sqlite3.connect(db)
        have = con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        con.close()
        if have == n:
            print(f"reusing {db} ({have:,} documents)")
            return
    for p in db.parent.glob(db.name + "*"):
        p.unlink()
    raw = db.parent / "raw"
    if raw.exists():
        subprocess.run(["rm", "-rf", str(raw)], check=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    t = time.monotonic()
    rendered = pools()
    rng = random.Random(2026)
    kinds = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX], k=n)
    with Archive(db) as a:
        a.conn.execute("PRAGMA synchronous=OFF")
        for i, kind in enumerate(kinds):
            data = _unique(kind, rendered[kind][i % len(rendered[kind])], i)
            a.add_document(data, type=sniff(data), original_name=f"bench-{i}.{kind}")
            if (i + 1) % 5000 == 0:
                print(f"  {i + 1:,} / {n:,} documents stored", file=sys.stderr)
    print(f"built {n:,} documents in {time.monotonic() - t:.0f} s", file=sys.stderr)


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def reparse(db: Path, workers: int, interrupt_at: float | None = None) -> dict:
    """Run `nianbao reparse` (with its progress bar on stderr), sampling memory; SIGINT
    once `interrupt_at` of it is checkpointed, then run it again to finish."""
    con = sqlite3.connect(db)
    total = con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    con.close()
    t0, peak, runs = time.monotonic(), 0.0, []
    for attempt in range(2):
        proc = subprocess.Popen([*NIANBAO, "reparse", "--db", str(db), "-j", str(workers)], start_new_session=True,
                                # SIGINT not left ignored by a `cmd &` parent
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        interrupted = False
        while proc.poll() is None:
            peak = max(peak, _tree_rss_mb(proc.pid))
            if interrupt_at is not None and attempt == 0 and not interrupted:
                ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
                try:
                    left = ro.execute("SELECT COUNT(*) FROM reparse_todo").fetchone()[0]
                except sqlite3.OperationalError:
                    left = total
                ro.close()
                if 0 < left <= total * (1 - interrupt_at):
                    os.killpg(proc.pid, signal.SIGINT)
                    interrupted = True
            time.sleep(0.5)
        runs.append({"returncode": proc.returncode, "interrupted": interrupted})
        if not interrupted:
            break
    seconds = time.monotonic() - t0
    return {"documents": total, "workers": workers, "seconds": round(seconds, 1),
            "documents_per_s": round(total / seconds, 2), "peak_rss_mb": round(peak, 1), "runs": runs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--documents", type=int, default=100_000)
    ap.add_argument("--baseline", type=int, default=500, help="documents in the one-worker baseline")
    ap.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "nianbao-bench" / "reparse" / "archive.db")
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    build(args.db, args.documents, args.rebuild)
    base_db = args.db.parent.parent / "reparse-baseline" / "archive.db"
    build(base_db, min(args.baseline, args.documents), args.rebuild)
    base = reparse(base_db, 1)
    full = reparse(args.db, 2, interrupt_at=0.5)
    ok = all(r["returncode"] in (0, 130) for r in full["runs"]) and full["runs"][-1]["returncode"] == 0
    out = {"baseline_1_worker": base, "all_2_workers": full,
           "ratio_vs_baseline": round(full["documents_per_s"] / base["documents_per_s"], 2), "completed": ok,
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_avg_at_end": os.getloadavg()}
    (HERE / "reparse-results.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(f"\nbaseline (-j 1, {base['documents']:,} docs): {base['documents_per_s']} documents/s, "
          f"peak {base['peak_rss_mb']} MB")
    print(f"reparse  (-j 2, {full['documents']:,} docs, Ctrl-C at half way + resume): {full['documents_per_s']} "
          f"documents/s ({out['ratio_vs_baseline']}× the baseline), {full['seconds']:,} s, "
          f"peak {full['peak_rss_mb']} MB")
    print("completed" if ok else f"NOT completed: {full['runs']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
