"""Generate RELIABILITY.md: what was tried against nianbao, what had to happen, what did.

    python benchmarks/reliability.py                  # run the reliability tests, reuse the stored fuzz run
    python benchmarks/reliability.py --fuzz 100000    # also fuzz every extractor with 100,000 inputs first
    python benchmarks/reliability.py --no-tests       # only re-render from the stored fuzz run (no pytest)

1. Runs the reliability test files that exist in this checkout (TEST_FILES) with
   NIANBAO_RELIABILITY_OUT set: each fault/limit/site/kill/fuzz test records rows
   (group, kind, expected, observed, test, passed, extras such as trials, lost,
   duplicated, integrity, limit) through the `reliability` fixture of tests/conftest.py.
2. With --fuzz N, fuzzes every extractor (nianbao.devkit.fuzz: Hypothesis structure and
   byte mutations, each input in a worker under a time limit and an address-space cap)
   and stores the tally in benchmarks/fuzz-results.json (committed: the run takes the
   better part of an hour, so later regenerations reuse it and say from when it is).
3. Writes RELIABILITY.md: the fault table, the kill -9 trials, the parse limits, the site
   abuse probes, the fuzz tally; with the date, machine, commit and this command. A group
   without rows says "not run" rather than disappearing.

Exit status 1 when a test failed or the fuzz run found a failure (the table still shows
them): a gap is the main result, not a footnote.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUZZ_RESULTS = ROOT / "benchmarks" / "fuzz-results.json"
OUT = ROOT / "RELIABILITY.md"
TEST_FILES = ["tests/faults", "tests/test_site_limits.py", "tests/test_site_live.py", "tests/test_ingest_paths.py",
              "tests/test_limits.py", "tests/test_parse_bounds.py", "tests/test_fuzz.py", "tests/test_probe_robots.py",
              "tests/test_reparse_resume.py", "tests/test_cluster.py"]
STANDARD = ("group", "kind", "expected", "observed", "test", "passed")
# The sections of the report, in order: group → (title, what the group is).
GROUPS = {
    "fault": ("Fault injection", "real HTTP against the mock portals with a fault per request, and storage faults"),
    "kill": ("kill -9 trials", "crawl/ingest/reparse killed at seeded random points, then resumed"),
    "parse": ("Parse limits", "time and memory limits on every parse of a stored document"),
    "site": ("Site abuse probes", "anonymous requests that try to exhaust the Datasette site"),
    "fuzz": ("Fuzz slice (tests/test_fuzz.py)", "seeded fuzzing of every extractor inside the test suite"),
}
FUZZ_COLUMNS = ("crash", "hang", "over_memory", "died", "bad_report")


# --------------------------------------------------------------------------- running
def recording_tests(root: Path = ROOT) -> list[str]:
    """Test files that record rows (call the `reliability` fixture), wherever they are:
    a new fault test is in the table without editing TEST_FILES."""
    out = []
    for p in sorted((root / "tests").rglob("test_*.py")):
        if re.search(r"\breliability\(", p.read_text(encoding="utf-8", errors="replace")):
            out.append(str(p.relative_to(root)))
    return out


def run_tests(files: list[str], jsonl: Path, python: str = sys.executable) -> dict[str, Any]:
    present = [f for f in files if (ROOT / f).exists()]
    missing = [f for f in files if f not in present]
    inside = tuple(f.rstrip("/") + "/" for f in present)
    present += [f for f in recording_tests() if f not in present and not f.startswith(inside)]
    result: dict[str, Any] = {"present": present, "missing": missing, "returncode": None, "summary": "not run",
                              "seconds": 0.0}
    if not present:
        return result
    cmd = [python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfEX", *present]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "NIANBAO_RELIABILITY_OUT": str(jsonl)},
                          capture_output=True, text=True, check=False)
    result["seconds"] = time.perf_counter() - t0
    result["returncode"] = proc.returncode
    tail = [x for x in proc.stdout.strip().splitlines() if x.strip()]
    result["summary"] = tail[-1].strip("= ") if tail else f"pytest exited {proc.returncode}"
    result["command"] = " ".join(["python", "-m", "pytest", *present])
    if proc.returncode not in (0, 5):
        sys.stdout.write(proc.stdout[-5000:])
    return result


def read_rows(jsonl: Path) -> list[dict[str, Any]]:
    if not jsonl.exists():
        return []
    rows = []
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def run_fuzz(n: int, *, workers: int, timeout: float, memory_mb: int, seed: int, minutes: float | None = None,
             chunk: int = 200, minimize_s: float = 60, progress: bool = True, command: str = "") -> dict[str, Any]:
    """Fuzz `n` distinct inputs over the extractors (fuzz_plan), a chunk per extractor in
    turn, so a run cut short by `minutes` still covers every extractor evenly. The tally
    is written to FUZZ_RESULTS after every round (a killed run leaves its partial count)."""
    from nianbao.devkit import fuzz

    plan = fuzz_plan(n)
    seeds = fuzz.seed_corpus()
    limits = fuzz.Limits(timeout=timeout, memory_mb=memory_mb)
    out: dict[str, Any] = {"requested": n, "plan": plan, "limits": {"timeout_s": timeout, "memory_mb": memory_mb},
                           "workers": workers, "seed": seed, "seeds": {k: len(v) for k, v in seeds.items()},
                           "started": _now(), "command": command, "commit": commit(), "machine": machine(),
                           "targets": {}}
    for t in plan:
        if t not in seeds:
            out["targets"][t] = {"target": t, "not_run": "no seed inputs (LibreOffice missing?)"}
    todo = [t for t in plan if t in seeds]
    tallies = {t: fuzz.Tally(t) for t in todo}
    strategies = {t: fuzz.strategy(t, seeds) for t in todo}
    stop_at = time.monotonic() + minutes * 60 if minutes else None
    t0 = last = time.perf_counter()
    rnd = 0
    stale = dict.fromkeys(todo, 0)  # rounds in a row that drew nothing new (a small search space is exhausted)
    with contextlib.ExitStack() as stack:
        # One pool for the extractors that share the limits; OCR targets get their own (OCR on, longer limit).
        shared = stack.enter_context(fuzz.Fuzzer(limits, workers=workers))
        fuzzers = {t: shared if fuzz.limits_for(t, limits) == limits else
                   stack.enter_context(fuzz.Fuzzer.for_target(t, limits, workers=workers)) for t in todo}
        out["limits_by_target"] = {t: {"timeout_s": f.limits.timeout, "memory_mb": f.limits.memory_mb,
                                       "wall_s": f.limits.wall}
                                   for t, f in fuzzers.items() if f is not shared}
        def draw_fresh(t: str, rnd: int) -> list[bytes]:
            size = min(chunk if t not in fuzz.SLOW + fuzz.OCR_TARGETS else 5, plan[t] - tallies[t].tried)
            fresh = []
            try:
                drawn = fuzz.draw(strategies[t], max(size, 20), seed * 100003 + rnd)
            except Exception as e:  # noqa: BLE001 - a bug of the generator (devkit/fuzz.py), not of the product:
                # counted and shown, and the run goes on with the next round's seed
                out.setdefault("generator_errors", []).append(f"{t} round {rnd}: {type(e).__name__}: {e}"[:300])
                print(f"generator error ({t}, round {rnd}): {type(e).__name__}: {e}", file=sys.stderr, flush=True)
                return []
            for data in drawn:
                if len(fresh) < size and hashlib.sha256(data).digest() not in tallies[t]._seen:
                    fresh.append(data)
            return fresh

        # Drawing (Hypothesis and the mutations, in this process) takes about as long as judging
        # (in the workers): the next batch is drawn in a thread while the workers judge this one.
        with ThreadPoolExecutor(1, thread_name_prefix="draw") as drawer:
            while True:
                left = [t for t in todo if tallies[t].tried < plan[t] and stale[t] < 3]
                if not left or (stop_at and time.monotonic() > stop_at):
                    break
                ahead = {left[0]: drawer.submit(draw_fresh, left[0], rnd)}
                for i, t in enumerate(left):
                    if stop_at and time.monotonic() > stop_at:
                        break
                    if i + 1 < len(left):
                        ahead[left[i + 1]] = drawer.submit(draw_fresh, left[i + 1], rnd)
                    fresh = ahead.pop(t).result()
                    stale[t] = 0 if fresh else stale[t] + 1
                    tallies[t].merge(fuzzers[t].run(t, fresh, seen=tallies[t]._seen))
                for fut in ahead.values():
                    fut.cancel()
                rnd += 1
                out["targets"].update({t: tally.to_dict() for t, tally in tallies.items()})
                FUZZ_RESULTS.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
                if progress and time.perf_counter() - last > 30:
                    last = time.perf_counter()
                    done = sum(x.tried for x in tallies.values())
                    print(f"{_now()}  {done:,}/{n:,} inputs, {sum(x.failed for x in tallies.values())} failures, "
                          f"{done / (last - t0):.1f}/s  " + " ".join(f"{t}:{x.tried}" for t, x in tallies.items()),
                          flush=True)
        short = [t for t in todo if tallies[t].tried < plan[t]]
        out["stopped"] = None if not short else (
            "time budget" if stop_at and time.monotonic() > stop_at else "search space (Hypothesis drew no new inputs)")
        if minimize_s:
            for tally in tallies.values():
                for f in tally.failures:
                    try:
                        _minimize(fuzzers[tally.target], fuzz, tally.target, f, minimize_s)
                    except Exception as e:  # noqa: BLE001 - a failed shrink must not lose the run's tally
                        f["minimal_error"] = f"{type(e).__name__}: {e}"
        out["targets"].update({t: tally.to_dict() for t, tally in tallies.items()})
    out["finished"] = _now()
    return out


def _minimize(fz, fuzz, target: str, failure: dict[str, Any], budget_s: float) -> None:
    """Shrink one failure's saved input (delta debugging on lines, then bytes) and save
    the smallest that still fails the same way beside it. Zip containers are skipped:
    cutting bytes out of a zip only breaks the zip."""
    path = Path(failure.get("path") or "")
    if target in ("docx", "doc") or not path.exists():
        return
    small = fuzz.minimize(fz, target, path.read_bytes(), failure["outcome"], budget_s=budget_s,
                          timeout=min(4.0, fz.limits.timeout))
    res = fz.judge(small, f"x.{target}")
    if res["outcome"] == failure["outcome"]:
        failure["minimal"] = str(fuzz.save(path.parent, target, failure["outcome"], small, res, suffix="-min"))
        failure["minimal_size"] = len(small)


def fuzz_plan(n: int) -> dict[str, int]:
    """Inputs per extractor. DOC and XLS go through LibreOffice (about a second an
    input): one input in a thousand each (at least 10); images through OCR (seconds an
    input): one in five hundred (at least 10); the others share the rest evenly."""
    from nianbao.devkit import fuzz

    small = {t: (max(10, n // 1000) if n >= 100 else min(n, 2)) for t in fuzz.SLOW}
    small |= {t: (max(10, n // 500) if n >= 100 else min(n, 2)) for t in fuzz.OCR_TARGETS}
    rest = n - sum(small.values())
    targets = [t for t in fuzz.TARGETS if t not in small]
    plan = {t: rest // len(targets) for t in targets}
    plan["html"] += rest - sum(plan.values())
    return plan | small


# --------------------------------------------------------------------------- rendering
def _cell(v: Any) -> str:
    s = "" if v is None else str(v)
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def _table(head: list[str], body: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in body]
    return lines


def _verdict(row: dict[str, Any]) -> str:
    if row.get("xfail"):
        return f"FAIL (known: {row['xfail']})"
    return "pass" if row.get("passed") else "FAIL"


def render(rows: list[dict[str, Any]], fuzz: dict[str, Any] | None, meta: dict[str, Any]) -> str:
    """RELIABILITY.md from the recorded rows, the fuzz tally and the run's metadata.
    Pure: tests/test_reliability_report.py renders synthetic rows with it."""
    by_group: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_group.setdefault(r.get("group") or "fault", []).append(r)
    failed_rows = sum(1 for r in rows if not r.get("passed"))
    out = ["# Reliability", "",
           (f"Generated by `{meta.get('command', 'python benchmarks/reliability.py')}` on {meta.get('date', '?')}; "
            f"commit `{meta.get('commit', '?')}`; machine: {meta.get('machine', '?')}."), "",
           ("Each row is one checked case: what must happen, what was observed, and whether the test that "
            "checks it passed. Nothing here is written by hand; a group with no rows says \"not run\"."), ""]
    tests = meta.get("tests") or {}
    out += ["## Summary", ""]
    summary = [["checked cases (rows)", f"{len(rows)} ({len(rows) - failed_rows} pass, {failed_rows} fail)"]]
    if tests:
        summary.append(["test files run", ", ".join(f"`{f}`" for f in tests.get("present", [])) or "none"])
        summary.append(["test files not in this checkout (not run)",
                        ", ".join(f"`{f}`" for f in tests.get("missing", [])) or "none"])
        summary.append(["pytest", f"{tests.get('summary', 'not run')}"
                        + (f" ({tests['seconds']:.0f} s)" if tests.get("seconds") else "")])
        for b in tests.get("bench", []):
            summary.append([f"`{b['command']}`", f"exit {b['returncode']}"])
    for g, (title, _what) in GROUPS.items():
        rs = by_group.get(g, [])
        summary.append([title, f"{sum(1 for r in rs if r.get('passed'))} of {len(rs)} pass" if rs else "not run"])
    summary.append(["Fuzzing (benchmark run)", _fuzz_line(fuzz)])
    out += _table(["", ""], summary) + [""]

    for g, (title, what) in GROUPS.items():
        out += [f"## {title}", "", what + ".", ""]
        rs = by_group.get(g, [])
        if not rs:
            out += ["**not run**: no test recorded a row for this group in this run.", ""]
            continue
        if g == "kill":
            out += _kill_table(rs)
        else:
            out += _rows_table(rs)
        out.append("")
    others = {g: rs for g, rs in by_group.items() if g not in GROUPS}
    for g, rs in sorted(others.items()):
        out += [f"## Other rows: {g}", ""] + _rows_table(rs) + [""]

    out += ["## Fuzzing (benchmark run)", ""] + _fuzz_section(fuzz)
    return "\n".join(out).rstrip() + "\n"


def _extras(rs: list[dict[str, Any]], skip: tuple[str, ...] = ()) -> list[str]:
    keys: list[str] = []
    for r in rs:
        for k in r:
            if k not in STANDARD and k not in skip and k != "xfail" and k not in keys:
                keys.append(k)
    return keys


def _rows_table(rs: list[dict[str, Any]]) -> list[str]:
    extra = _extras(rs)
    head = ["kind", "expected", "observed", *extra, "result", "test"]
    body = [[r.get("kind"), r.get("expected"), r.get("observed"), *[r.get(k, "") for k in extra], _verdict(r),
             f"`{r.get('test', '')}`"] for r in rs]
    return _table(head, body)


def _kill_table(rs: list[dict[str, Any]]) -> list[str]:
    extra = _extras(rs, skip=("trials", "lost", "duplicated", "integrity"))
    head = ["kind", "trials", "documents lost", "duplicated", "integrity_check", "expected", "observed", *extra,
            "result", "test"]
    body = [[r.get("kind"), r.get("trials", "?"), r.get("lost", "?"), r.get("duplicated", "?"), r.get("integrity", "?"),
             r.get("expected"), r.get("observed"), *[r.get(k, "") for k in extra], _verdict(r), f"`{r.get('test', '')}`"]
            for r in rs]
    lines = _table(head, body)
    nums = [r for r in rs if isinstance(r.get("trials"), int)]
    if nums:
        lines += ["", f"Total: {sum(r['trials'] for r in nums)} kill -9 trials, "
                      f"{sum(int(r.get('lost') or 0) for r in nums)} documents lost, "
                      f"{sum(int(r.get('duplicated') or 0) for r in nums)} duplicated, integrity_check: "
                      + ", ".join(sorted({str(r.get('integrity', '?')) for r in nums})) + "."]
    return lines


def _num(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else "?"


def _fuzz_line(fuzz: dict[str, Any] | None) -> str:
    if not fuzz or not fuzz.get("targets"):
        return "not run"
    ts = [t for t in fuzz["targets"].values() if "tried" in t]
    tried = sum(t["tried"] for t in ts)
    failed = sum(t.get("failed", 0) for t in ts)
    of = f" of {fuzz['requested']:,} requested" if isinstance(fuzz.get("requested"), int) else ""
    return f"{tried:,} inputs{of}, {failed} failures ({fuzz.get('started', '?')[:10]})"


def _fuzz_section(fuzz: dict[str, Any] | None) -> list[str]:
    if not fuzz or not fuzz.get("targets"):
        return ["**not run**: no stored fuzz run (`python benchmarks/reliability.py --fuzz 100000` makes one).", ""]
    lim = fuzz.get("limits", {})
    lines = [f"Command: `{fuzz.get('command', '?')}`; started {fuzz.get('started', '?')}, finished "
             f"{fuzz.get('finished', 'not finished (partial results)')}; commit `{fuzz.get('commit', '?')}`; "
             f"{fuzz.get('workers', '?')} worker(s); per input: {lim.get('timeout_s', '?')} s, "
             f"{lim.get('memory_mb', '?')} MB address space (RLIMIT_AS)"
             + "".join(f"; {t}: {v['timeout_s']:g} s per page read by OCR"
                       + (f" (stopped at {v['wall_s']:g} s)" if "wall_s" in v else "") + ", "
                       f"{v['memory_mb']} MB with OCR on"
                       for t, v in (fuzz.get("limits_by_target") or {}).items())
             + f". Requested {fuzz.get('requested', '?'):,} inputs"
             + (f"; **stopped by the {fuzz['stopped']}** before every extractor had its share." if fuzz.get("stopped")
                else ".") if isinstance(fuzz.get("requested"), int) else "", "",
             ("Oracle: `parse_bytes` returns a Report with a known status (and a reason when not `ok`) that serialises "
             "to JSON; no exception escapes, the worker does not die, the input finishes within the time limit and "
             "without a MemoryError under the cap. *Reached* = sniffed as that container (the rest stopped at "
             "sniffing, e.g. `unknown`). *Caught* = an exception inside an extractor that `parse_bytes` turned into a "
             "`failed` Report: not an oracle failure, but a bug behind the safety net. *Worker max RSS* = the high-water "
              "mark of the worker process (VmHWM; shared by the extractors of one pool), not a per-input figure; the "
              "per-input bound is the address-space cap."), ""]
    head = ["extractor", "planned", "inputs tried", "reached", "inputs/s", *FUZZ_COLUMNS, "failures", "caught", "worker max RSS MB"]
    body = []
    order = ("html", "pdf", "docx", "doc", "txt", "ofd", "xlsx", "xls", "image")
    for name in (*order, *[k for k in fuzz["targets"] if k not in order]):
        t = fuzz["targets"].get(name)
        if not t or "tried" not in t:
            body.append([name, (fuzz.get("plan") or {}).get(name, ""), "not run", *[""] * (len(head) - 3)])
            continue
        oc = t.get("outcomes", {})
        body.append([name, f"{(fuzz.get('plan') or {}).get(name, 0):,}", f"{t['tried']:,}", f"{t.get('reached', 0):,}", t.get("inputs_per_s"),
                     *[oc.get(c, 0) for c in FUZZ_COLUMNS], t.get("failed", 0), oc.get("caught", 0), t.get("max_rss_mb")])
    ts = [t for t in fuzz["targets"].values() if "tried" in t]
    body.append(["**total**", f"{sum((fuzz.get('plan') or {}).values()):,}", f"{sum(t['tried'] for t in ts):,}", f"{sum(t.get('reached', 0) for t in ts):,}", "",
                 *[sum(t.get("outcomes", {}).get(c, 0) for t in ts) for c in FUZZ_COLUMNS],
                 sum(t.get("failed", 0) for t in ts), sum(t.get("outcomes", {}).get("caught", 0) for t in ts), ""])
    lines += _table(head, body) + [""]
    found = [(t["target"], f) for t in ts for f in t.get("failures", [])]
    caught = [(t["target"], f) for t in ts for f in t.get("caught", [])]
    if found:
        lines += [("Failures, one row per signature (reproducer under `test-artifacts/fuzz/`, minimal one beside it "
                   "when minimisation finished):"), ""]
        lines += _table(["extractor", "outcome", "count", "detail", "reproducer"],
                        [[tg, f["outcome"], f["count"], f.get("detail", "")[:200],
                          (f"`{Path(f['path']).name}` ({_num(f.get('size'))} bytes)" if f.get("path") else "")
                          + (f"; minimal: `{Path(f['minimal']).name}` ({_num(f.get('minimal_size'))} bytes)"
                             if f.get("minimal") else "")] for tg, f in found]) + [""]
    if caught:
        lines += ["Exceptions caught by the safety net (`failed` with the exception as reason), one row per signature:", ""]
        lines += _table(["extractor", "count", "detail"],
                        [[tg, f["count"], f.get("detail", "")[:200]] for tg, f in caught]) + [""]
    return lines


# --------------------------------------------------------------------------- metadata
def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                               text=True, check=False).stdout.strip()
        return head + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}){mem}, "
            f"Python {platform.python_version()}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fuzz", type=int, default=0, metavar="N", help="fuzz N inputs first (stored in %(default)s → "
                    "benchmarks/fuzz-results.json); 0 reuses the stored run")
    ap.add_argument("--workers", type=int, default=1, help="fuzz worker processes (default 1)")
    ap.add_argument("--timeout", type=float, default=10.0, help="fuzz time limit per input, seconds (default 10)")
    ap.add_argument("--memory-mb", type=int, default=1024, help="fuzz address-space cap per worker, MB (default 1024)")
    ap.add_argument("--seed", type=int, default=20261206, help="fuzz seed")
    ap.add_argument("--minutes", type=float, default=None,
                    help="stop fuzzing after this many minutes (every extractor gets its share of what fits)")
    ap.add_argument("--minimize-s", type=float, default=60,
                    help="seconds of delta debugging per failure signature after the fuzz run (0: none)")
    ap.add_argument("--bench", action="append", default=[], metavar="'SCRIPT ARGS'",
                    help="also run a benchmark script that appends rows to $NIANBAO_RELIABILITY_OUT (repeatable), "
                         "e.g. 'benchmarks/site_abuse.py'")
    ap.add_argument("--no-tests", action="store_true", help="do not run pytest (the table then shows test groups as not run)")
    ap.add_argument("--rows", type=Path, default=None, metavar="FILE",
                    help="keep the tests' rows in FILE (JSON lines); with --no-tests, render from the rows kept there "
                         "(a long fuzz run then need not wait for the tests, nor the tests for it)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    command = "python benchmarks/reliability.py" + (" " + shlex.join(argv if argv is not None else sys.argv[1:])
                                                      if (argv if argv is not None else sys.argv[1:]) else "")
    fuzz = None
    if args.fuzz:
        fuzz = run_fuzz(args.fuzz, workers=args.workers, timeout=args.timeout, memory_mb=args.memory_mb, seed=args.seed,
                        minutes=args.minutes, minimize_s=args.minimize_s, command=command)
        FUZZ_RESULTS.write_text(json.dumps(fuzz, ensure_ascii=False, indent=1), encoding="utf-8")
    elif FUZZ_RESULTS.exists():
        fuzz = json.loads(FUZZ_RESULTS.read_text(encoding="utf-8"))
    tests: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    if not args.no_tests:
        with tempfile.TemporaryDirectory(prefix="nianbao-reliability-") as tmp:
            jsonl = args.rows or Path(tmp) / "rows.jsonl"
            jsonl.unlink(missing_ok=True)
            tests = run_tests(TEST_FILES, jsonl)
            for bench in args.bench:
                proc = subprocess.run([sys.executable, *shlex.split(bench)], cwd=ROOT, check=False,
                                      env={**os.environ, "NIANBAO_RELIABILITY_OUT": str(jsonl)})
                tests.setdefault("bench", []).append({"command": bench, "returncode": proc.returncode})
            rows = read_rows(jsonl)
            if args.rows:
                args.rows.with_suffix(".tests.json").write_text(json.dumps(tests), encoding="utf-8")
    elif args.rows:
        rows = read_rows(args.rows)
        kept = args.rows.with_suffix(".tests.json")
        tests = json.loads(kept.read_text(encoding="utf-8")) if kept.exists() else {}
    text = render(rows, fuzz, {"command": command, "date": _now(), "commit": commit(), "machine": machine(),
                               "tests": tests})
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(rows)} rows; tests: {tests.get('summary', 'not run')}; fuzz: {_fuzz_line(fuzz)})")
    bad = (tests.get("returncode") not in (None, 0, 5)) or any(b["returncode"] for b in tests.get("bench", [])) or any(not r.get("passed") for r in rows) or (
        fuzz is not None and any(t.get("failed") for t in fuzz.get("targets", {}).values()))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
