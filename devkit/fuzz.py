"""Fuzzing every extractor: hostile inputs through `parse_bytes`, each in a worker
process under a time limit and an address-space cap.

Portals publish whatever their CMS produced: truncated uploads, Word files re-saved by
five tools, tables with spans nobody checked. The parser's promise is "any bytes → a
Report" (a bad file is a `failed` Report with a reason, the batch goes on), so the
fuzzer checks exactly that promise:

- no crash: `parse_bytes` returns a Report whose status is one of `STATUSES`, a status
  other than `ok` carries a reason, and the Report serialises to JSON (`nianbao parse
  --json`); an exception escaping it, or a dead worker, is a failure;
- no hang: the input's parse uses no more CPU time than the limit (its own and its
  children's, e.g. LibreOffice), so the verdict does not depend on how busy the machine
  is; with OCR the limit is per page read from pixels (a multi-page TIFF, a tall image
  cut into strips: each page is seconds of recognition); a worker still running at the
  wall backstop (WALL_FACTOR × the limit; with OCR, the product's own time limit) is
  stopped (pebble) and a hang;
- memory under the cap: RLIMIT_AS in the worker; a MemoryError (even one that the
  safety net in `parse_bytes` turned into a `failed` Report) is "over memory".

Exceptions that `parse_bytes`' safety net caught ("… extractor crashed: IndexError") are
not oracle failures (the batch carries on and the reason is recorded), but they are
counted separately as `caught`: each one is a bug hidden behind the net.

Inputs come from Hypothesis strategies over a seed corpus (the real samples in
tests/fixtures/samples plus reports from `devkit.generate`): structure mutations per
container (HTML tables: spans, nesting, deleted/duplicated rows, garbage cells, huge
numbers, mixed encodings; DOCX XML inside the zip; PDF objects and content streams;
text lines) and byte-level mutations of every seed (bit flips, truncation, chunk
duplication/insertion, zero runs, splices).

API: seed_corpus(), strategy(target, seeds), draw(strategy, n, seed), Fuzzer(limits,
workers).run(target, inputs) -> Tally, minimize(...), campaign(...). Imported only by
tests and benchmarks (never by product code: it needs Hypothesis, a test extra).
"""
from __future__ import annotations

import copy
import hashlib
import io
import json
import random
import re
import resource
import struct
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hseed
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "fixtures" / "samples"
PORTAL_PAGES = ROOT / "tests" / "fixtures" / "portals"
ARTIFACTS = ROOT / "test-artifacts" / "fuzz"

TARGETS = ("html", "pdf", "docx", "doc", "txt", "ofd", "xlsx", "xls", "image")
EXT = {"html": "html", "pdf": "pdf", "docx": "docx", "doc": "doc", "txt": "txt", "ofd": "ofd", "xlsx": "xlsx",
       "xls": "xls", "image": "png"}
# Extractors that start LibreOffice for every input (about a second each): small shares.
SLOW = ("doc", "xls")
# Images are read by OCR (experimental, on with NIANBAO_OCR=1): seconds of CPU per page, so
# their inputs get a longer limit and a pool whose workers have OCR switched on.
OCR_TARGETS = ("image",)
OCR_ENV = {"NIANBAO_OCR": "1", "NIANBAO_OCR_THREADS": "1"}
OCR_TIMEOUT = 40.0
OCR_MEMORY_MB = 3072  # the product's default parse limit with OCR on (pipeline/limits.DEFAULT_OCR_MEMORY_MB)
MAX_INPUT = 4 * 1024 * 1024  # mutations that grow an input stop here (a bigger file tests the disk, not the parser)

# Outcomes. `ok` and `caught` satisfy the oracle; the others are failures.
FAILURES = ("crash", "hang", "over_memory", "died", "bad_report")
WALL_FACTOR = 4  # a loaded machine stretches wall time, not CPU time: the wall stop is only a backstop


# --------------------------------------------------------------------------- limits
@dataclass(frozen=True)
class Limits:
    """Per-input limits of a fuzz worker: CPU time (wall time × WALL_FACTOR as the
    backstop, pebble) and address space (RLIMIT_AS)."""
    timeout: float = 10.0
    memory_mb: int = 1024
    backstop: float | None = None  # wall seconds before pebble stops the worker (default: timeout × WALL_FACTOR)

    @property
    def wall(self) -> float:
        return self.backstop or self.timeout * WALL_FACTOR


def limits_for(target: str, limits: Limits) -> Limits:
    """OCR targets: at least OCR_TIMEOUT per page and OCR_MEMORY_MB (a real page takes
    seconds of recognition and the engine maps about a gigabyte), stopped at the product's
    own time limit with OCR on; the others: `limits`."""
    if target in OCR_TARGETS:
        from nianbao.pipeline.limits import DEFAULT_OCR_TIME_S

        return Limits(max(limits.timeout, OCR_TIMEOUT), max(limits.memory_mb, OCR_MEMORY_MB), DEFAULT_OCR_TIME_S)
    return limits


def worker_init(limits: Limits) -> None:
    """Pebble initializer: cap the worker's address space, then import the heavy
    extractors and the gazetteer once (outside any input's time limit).

    Stand-in for `nianbao.pipeline.limits.worker_init` (issue 12), which applies the same
    limits to `parse`, `ingest` and `reparse`; `_init` uses that one when it exists, so
    the fuzzer tests the product's own worker set-up."""
    if limits.memory_mb:
        cap = limits.memory_mb * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard if hard != resource.RLIM_INFINITY and hard < cap else cap))
    from nianbao.pipeline import document, gazetteer, parse  # noqa: F401
    from nianbao.pipeline.extract import docx, html, pdf  # noqa: F401

    gazetteer.load()


def _init(limits: Limits, env: dict[str, str] | None = None) -> None:
    import os

    os.environ.update(env or {})
    if (env or {}).get("NIANBAO_OCR") == "1":  # load the OCR models once, outside any input's clock
        from nianbao.pipeline.extract import ocr
        if ocr.available():
            ocr._engine()
    try:
        from nianbao.pipeline.limits import Limits as ProductLimits
        from nianbao.pipeline.limits import worker_init as product_worker_init
    except ImportError:  # a checkout without pipeline/limits.py
        worker_init(limits)
        return
    product_worker_init(ProductLimits(time_s=limits.timeout, memory_mb=limits.memory_mb))


# --------------------------------------------------------------------------- oracle (runs in the worker)
def _cpu() -> float:
    """CPU seconds of this worker and of the children it waited for (LibreOffice)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_rss_mb() -> float:
    """This worker's own peak resident memory. VmHWM, not ru_maxrss: Linux carries
    ru_maxrss across exec, so a spawned worker would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check_path(path: str, name: str | None) -> dict[str, Any]:
    """`check_one` of the input saved at `path` (how the pool hands inputs to workers)."""
    try:
        data = Path(path).read_bytes()
    except MemoryError:
        res = {"kind": None, "status": None, "reason": None, "outcome": "over_memory",
               "detail": "MemoryError reading the input"}
    else:
        res = check_one(data, name)
    if res["outcome"] == "over_memory":
        # As the product's workers do (limits.retire_if_out_of_memory): a worker that ran out of
        # memory is replaced, so its still-mapped memory is not charged to the next input. The
        # verdict goes by a side file, the exit code says to read it.
        Path(path + ".result").write_text(json.dumps(res, default=str), encoding="utf-8")
        from nianbao.pipeline import limits
        limits.retire_if_out_of_memory(True)
    return res


def check_one(data: bytes, name: str | None) -> dict[str, Any]:
    """Parse one input with the product entry point and judge the result."""
    from nianbao.pipeline.document import parse_bytes
    from nianbao.pipeline.model import STATUSES, Report
    from nianbao.pipeline.sniff import sniff

    t0, cpu0 = time.perf_counter(), _cpu()
    out: dict[str, Any] = {"kind": None, "status": None, "reason": None}
    try:
        kind = sniff(data)
        out["kind"] = kind
        report = parse_bytes(data, name, kind)
        out["seconds"] = time.perf_counter() - t0
        if not isinstance(report, Report):
            return {**out, "outcome": "bad_report", "detail": f"parse_bytes returned {type(report).__name__}"}
        out["status"], out["reason"] = report.status, report.reason
        if report.status not in STATUSES:
            return {**out, "outcome": "bad_report", "detail": f"unknown status {report.status!r}"}
        if report.status != "ok" and not (report.reason or "").strip():
            return {**out, "outcome": "bad_report", "detail": f"status {report.status} without a reason"}
        json.dumps(report.to_dict(), ensure_ascii=False, default=str)
    except MemoryError:
        return {**out, "outcome": "over_memory", "detail": "MemoryError", "seconds": time.perf_counter() - t0}
    except RecursionError as e:
        return {**out, "outcome": "crash", "detail": f"RecursionError: {e}", "seconds": time.perf_counter() - t0}
    except Exception as e:  # noqa: BLE001 - any exception escaping parse_bytes is the finding
        import traceback
        return {**out, "outcome": "crash", "detail": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(limit=8), "seconds": time.perf_counter() - t0}
    reason = report.reason or ""
    if isinstance(report.meta, dict) and report.meta.get("traceback"):  # where the safety net caught it
        out["traceback"] = str(report.meta["traceback"])
    out["maxrss_mb"] = _peak_rss_mb()
    out["cpu_seconds"] = _cpu() - cpu0
    ocr = report.meta.get("ocr") if isinstance(report.meta, dict) else None
    out["ocr_pages"] = len(ocr.get("pages") or ()) if isinstance(ocr, dict) else 0
    if "MemoryError" in reason:
        return {**out, "outcome": "over_memory", "detail": reason}
    if report.status == "failed" and ("crashed:" in reason):
        return {**out, "outcome": "caught", "detail": reason}
    return {**out, "outcome": "ok"}


# --------------------------------------------------------------------------- tally
@dataclass
class Tally:
    """What happened to the inputs of one target extractor."""
    target: str
    drawn: int = 0  # inputs drawn (Hypothesis repeats a few: those are judged once)
    tried: int = 0  # distinct inputs judged
    reached: int = 0  # sniffed as the target kind (the rest stopped at sniffing: "unknown", "empty"…)
    seconds: float = 0.0  # wall time of the run
    outcomes: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    max_rss_mb: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)  # one per signature, with the reproducer path
    caught: list[dict[str, Any]] = field(default_factory=list)  # one per signature
    _seen: set = field(default_factory=set, repr=False)

    @property
    def failed(self) -> int:
        return sum(self.outcomes[o] for o in FAILURES)

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "drawn": self.drawn, "tried": self.tried, "reached": self.reached,
                "seconds": round(self.seconds, 2), "inputs_per_s": round(self.tried / self.seconds, 1) if self.seconds else None,
                "outcomes": dict(self.outcomes), "statuses": dict(self.statuses), "failed": self.failed,
                "max_rss_mb": round(self.max_rss_mb, 1), "failures": self.failures, "caught": self.caught}

    def merge(self, other: Tally) -> None:
        self.drawn += other.drawn
        self.tried += other.tried
        self.reached += other.reached
        self.seconds += other.seconds
        self.outcomes.update(other.outcomes)
        self.statuses.update(other.statuses)
        self.max_rss_mb = max(self.max_rss_mb, other.max_rss_mb)
        for theirs, mine in ((other.failures, self.failures), (other.caught, self.caught)):
            known = {x["signature"]: x for x in mine}
            for x in theirs:
                if x["signature"] in known:
                    known[x["signature"]]["count"] += x["count"]
                else:
                    mine.append(x)


def signature(target: str, res: dict[str, Any]) -> str:
    """Failures with the same signature are one bug: outcome + exception type + where."""
    detail = res.get("detail") or ""
    tb = res.get("traceback") or ""
    where = re.findall(r'File "[^"]*/(?:site-packages|nianbao|pipeline)/([^"]+)", line (\d+)', tb)
    head = re.split(r"[:\n]", detail, maxsplit=1)[0] if res["outcome"] not in ("hang", "died") else ""
    if res["outcome"] == "caught":
        m = re.search(r"crashed: (\w+)", detail)
        head = m.group(1) if m else head
    return f"{target}/{res['outcome']}/{head}/{where[-1][0] + ':' + where[-1][1] if where else ''}"


# --------------------------------------------------------------------------- running
class Fuzzer:
    """A pebble process pool whose workers run `check_one` under `limits`."""

    def __init__(self, limits: Limits = Limits(), workers: int = 1, artifacts: Path | None = ARTIFACTS,
                 keep: int = 1, env: dict[str, str] | None = None):
        self.limits, self.workers, self.artifacts, self.keep, self.env = limits, workers, artifacts, keep, env
        self.pool = None

    @classmethod
    def for_target(cls, target: str, limits: Limits = Limits(), **kw) -> Fuzzer:
        """The fuzzer an extractor needs: OCR targets get OCR switched on in the workers
        and a limit of OCR_TIMEOUT (a real page takes seconds of recognition)."""
        return cls(limits_for(target, limits), env=OCR_ENV if target in OCR_TARGETS else None, **kw)

    def __enter__(self) -> Self:
        import multiprocessing
        import tempfile

        from pebble import ProcessPool

        self._tmp = tempfile.TemporaryDirectory(prefix="nianbao-fuzz-")
        self._inbox = Path(self._tmp.name)

        # Spawned, not forked: a worker must not inherit the parent's state (a test session
        # that already ran pdfium forked a worker that segfaulted on an input a fresh worker
        # reads fine), so an input's outcome depends on the input alone.
        self.pool = ProcessPool(max_workers=self.workers, max_tasks=_tasks_per_worker(),
                                initializer=_init, initargs=(self.limits, self.env),
                                context=multiprocessing.get_context("spawn"))
        self.pool.schedule(_noop).result()  # start (and warm) a worker outside the first input's clock
        return self

    def __exit__(self, *exc) -> None:
        self.pool.stop()
        self.pool.join(timeout=30)
        self._tmp.cleanup()

    def judge(self, data: bytes, name: str | None, timeout: float | None = None) -> dict[str, Any]:
        limits = Limits(timeout, self.limits.memory_mb) if timeout else self.limits
        return self._result(self._schedule(data, name, limits.wall), limits)

    def _schedule(self, data: bytes, name: str | None, wall: float):
        # The input goes by file, not through pebble's task channel: a worker whose address
        # space is nearly used up failed to receive a 4 MB task inside the channel, died
        # half-way through the message, and the other worker read garbage (the pool stalled).
        # Read in `check_path`, a MemoryError is the input's outcome like any other.
        path = self._inbox / f"{hashlib.sha256(data).hexdigest()}-{time.monotonic_ns()}"
        path.write_bytes(data)
        fut = self.pool.schedule(check_path, args=(str(path), name), timeout=wall)
        fut.side = Path(str(path) + ".result")
        fut.add_done_callback(lambda _f: path.unlink(missing_ok=True))
        return fut

    @staticmethod
    def _result(fut, limits: Limits) -> dict[str, Any]:
        try:
            # pebble stops the task at the wall backstop; past that plus a minute the pool
            # itself has stalled, which is a finding too, not a reason to wait for ever.
            res = fut.result(timeout=limits.wall + 60)
        except FutureTimeout:
            return {"outcome": "hang", "detail": f"no result within {limits.wall:g} s (the wall-time backstop)",
                    "seconds": limits.wall}
        except MemoryError as e:
            return {"outcome": "over_memory", "detail": f"MemoryError: {e}"}
        except Exception as e:  # noqa: BLE001 - pebble.ProcessExpired: the worker died (segfault, abort, killed)
            code = getattr(e, "exitcode", None)
            side = getattr(fut, "side", None)
            if side is not None and side.exists():  # out of memory, and retired on purpose (check_path)
                res = json.loads(side.read_text(encoding="utf-8"))
                side.unlink()
                return res
            return {"outcome": "died", "detail": f"{type(e).__name__}: {e}" + (f" (exit code {code})" if code else "")}
        pages = res.get("ocr_pages") or 0
        allowed = limits.timeout * max(1, pages)
        if res.get("cpu_seconds", 0) > allowed:
            per = f" ({limits.timeout:g} s for each of {pages} pages read by OCR)" if pages > 1 else ""
            res = {**res, "outcome": "hang",
                   "detail": f"{res['cpu_seconds']:.1f} s of CPU time, over the {allowed:g} s limit{per}"}
        return res

    def run(self, target: str, inputs: Iterable[bytes], *, window: int = 64, seen: set | None = None) -> Tally:
        """Judge every distinct input (up to `window` in flight) and tally the outcomes;
        `seen` (digests) carries over between runs of one campaign."""
        tally = Tally(target)
        seen = tally._seen if seen is None else seen
        t0 = time.perf_counter()
        pending: list[tuple[bytes, Any]] = []

        def drain(n: int) -> None:
            while len(pending) > n:
                data, fut = pending.pop(0)
                self._record(tally, target, data, self._result(fut, self.limits))

        name = f"fuzz.{EXT[target]}"
        for data in inputs:
            digest = hashlib.sha256(data).digest()
            tally.drawn += 1
            if digest in seen:
                continue
            seen.add(digest)
            tally.tried += 1
            pending.append((data, self._schedule(data, name, self.limits.wall)))
            drain(window)
        drain(0)
        tally.seconds = time.perf_counter() - t0
        return tally

    def _record(self, tally: Tally, target: str, data: bytes, res: dict[str, Any]) -> None:
        outcome = res["outcome"]
        if outcome == "died":  # alone, in a fresh worker: a crash of this input, or of what ran before it?
            again = self.judge(data, f"fuzz.{EXT[target]}")
            res["detail"] += ("; dies again alone in a fresh worker" if again["outcome"] == "died"
                              else f"; alone in a fresh worker: {again['outcome']} (depends on what the worker ran before)")
        tally.outcomes[outcome] += 1
        if res.get("status"):
            tally.statuses[res["status"]] += 1
        if res.get("kind") == target:
            tally.reached += 1
        tally.max_rss_mb = max(tally.max_rss_mb, res.get("maxrss_mb") or 0)
        if outcome == "ok":
            return
        sig = signature(target, res)
        bucket = tally.caught if outcome == "caught" else tally.failures
        if any(x["signature"] == sig for x in bucket):
            for x in bucket:
                if x["signature"] == sig:
                    x["count"] += 1
            return
        entry = {"signature": sig, "outcome": outcome, "detail": (res.get("detail") or "")[:500], "count": 1,
                 "size": len(data), "kind": res.get("kind")}
        if self.artifacts is not None:
            entry["path"] = str(save(self.artifacts, target, outcome, data, res))
        bucket.append(entry)


def _tasks_per_worker() -> int:
    """Workers are replaced as often as the product's (pipeline/limits.TASKS_PER_WORKER)."""
    try:
        from nianbao.pipeline.limits import TASKS_PER_WORKER
    except ImportError:  # a checkout from before it
        return 0
    return TASKS_PER_WORKER


def _noop() -> None:
    return None


def probe_sleep(seconds: float = 60) -> None:
    """A task that never finishes in time (tests of the harness itself)."""
    time.sleep(seconds)


def probe_allocate(mb: int) -> int:
    """A task that allocates `mb` MB at once (tests of the memory cap)."""
    return len(b"x" * (mb * 1024 * 1024))


def save(folder: Path, target: str, outcome: str, data: bytes, res: dict[str, Any], suffix: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()[:12]
    path = folder / f"{target}-{outcome}-{digest}{suffix}.{EXT[target]}"
    path.write_bytes(data)
    path.with_suffix(path.suffix + ".json").write_text(json.dumps(
        {k: v for k, v in res.items() if k != "traceback"} | {"traceback": res.get("traceback")},
        ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return path


def minimize(fuzzer: Fuzzer, target: str, data: bytes, outcome: str, *, budget_s: float = 120.0,
             timeout: float | None = None) -> bytes:
    """Delta debugging (ddmin) over lines, then bytes: the smallest input found within
    `budget_s` that still gives `outcome`. Hangs are judged with `timeout` (shorter
    than the fuzz limit, so the search fits its budget)."""
    deadline = time.monotonic() + budget_s
    name = f"fuzz.{EXT[target]}"

    def bad(candidate: bytes) -> bool:
        return bool(candidate) and fuzzer.judge(candidate, name, timeout)["outcome"] == outcome

    for split in (lambda b: b.splitlines(keepends=True), lambda b: [bytes([x]) for x in b]):
        parts = split(data)
        n = 2
        while len(parts) >= 2 and time.monotonic() < deadline:
            size = max(1, len(parts) // n)
            chunks = [parts[i:i + size] for i in range(0, len(parts), size)]
            for i in range(len(chunks)):
                if time.monotonic() > deadline:
                    break
                rest = [p for j, c in enumerate(chunks) if j != i for p in c]
                if bad(b"".join(rest)):
                    parts, n = rest, max(n - 1, 2)
                    break
            else:
                if n >= len(parts):
                    break
                n = min(len(parts), n * 2)
            if len(parts) > 20000:  # bytes of a big input: ddmin would not finish in the budget
                break
        data = b"".join(parts)
    return data


# --------------------------------------------------------------------------- seeds
def seed_corpus(targets: Iterable[str] = TARGETS, *, generated: int = 3, cache: Path | None = ARTIFACTS / "seeds",
                soffice: bool = True) -> dict[str, list[bytes]]:
    """Seed inputs per target: the real samples, portal pages, and `generated` reports
    from devkit.generate per container. PDF and DOC seeds printed by LibreOffice are
    cached in `cache` (soffice takes seconds); without soffice they are left out."""
    from nianbao.devkit import generate as g

    targets = set(targets)
    specs = [g.random_report(1000 + i) for i in range(generated)]
    seeds: dict[str, list[bytes]] = {t: [] for t in targets}
    if "html" in targets:
        seeds["html"].append((SAMPLES / "shanghai-bgt-2019.html").read_bytes())
        seeds["html"] += [g.render_html(s, encoding=("gbk" if i % 2 else None)) for i, s in enumerate(specs)]
        page = PORTAL_PAGES / "mock_gkmlpt_detail_html.html"
        if page.exists():
            seeds["html"].append(page.read_bytes())
    if "txt" in targets:
        seeds["txt"].append((SAMPLES / "wuzhong-jinji-2023.txt").read_bytes())
        seeds["txt"] += [g.render_text(s) for s in specs]
    if "docx" in targets or "doc" in targets:
        docx = [g.render_docx(s) for s in specs]
        if "docx" in targets:
            seeds["docx"] += docx
    if "pdf" in targets:
        seeds["pdf"] += sorted(p.read_bytes() for p in SAMPLES.glob("*.pdf"))
    if "doc" in targets and soffice:
        from nianbao.pipeline.extract import convert_with_libreoffice

        seeds["doc"] += _cached(cache, "doc", specs[:2],
                                lambda: [convert_with_libreoffice(d, "docx", "doc") for d in docx[:2]])
    if "xlsx" in targets or "xls" in targets:
        from nianbao.devkit import sheets

        if "xlsx" in targets:
            seeds["xlsx"] += [sheets.render_xlsx(sp, layout=("whole", "sheets")[i % 2], numbers=i % 3 != 2)
                              for i, sp in enumerate(specs)]
        if "xls" in targets and soffice:
            seeds["xls"] += _cached(cache, "xls", specs[:2], lambda: [sheets.render_xls(sp) for sp in specs[:2]])
    printed = _cached(cache, "pdf", specs[:2], lambda: g.render_many_pdf(specs[:2])) if soffice and generated else []
    if "ofd" in targets and printed:
        from nianbao.devkit import ofd

        # Every producer variant (text runs/chars/outlines, rules as lines/rects/boxes, origins).
        variants = ofd.VARIANTS + [ofd.Variant("outlines", "lines", "boundary", False)]
        seeds["ofd"] += [ofd.pdf_to_ofd(printed[i % len(printed)], v) for i, v in enumerate(variants)]
    if "image" in targets and printed:
        seeds["image"] += _image_seeds(printed[0])
    if "pdf" in targets:
        seeds["pdf"] += printed
    return {t: v for t, v in seeds.items() if v}


def _image_seeds(pdf: bytes) -> list[bytes]:
    """A report's title page and a table page as a scanner delivers them (100 dpi, so one
    input costs seconds of OCR, not tens), as PNG, JPEG and a one-page scanned PDF."""
    import pypdfium2 as pdfium

    from nianbao.devkit import scan

    n = len(pdfium.PdfDocument(pdf))
    table_page = min(n, 3)
    grey = scan.Damage(dpi=100)
    noisy = scan.Damage(dpi=100, skew=0.8, speckle=0.002, jpeg=70, seed=7)
    png = scan.as_images(pdf, "png", grey)
    jpeg = scan.as_images(pdf, "jpeg", noisy)
    one = pdfium.PdfDocument.new()
    one.import_pages(pdfium.PdfDocument(pdf), [table_page - 1])
    buf = io.BytesIO()
    one.save(buf)
    return [png[0], png[table_page - 1], jpeg[table_page - 1], scan.as_scan(buf.getvalue(), dpi=100)]


def _cached(cache: Path | None, ext: str, specs, make: Callable[[], list[bytes]]) -> list[bytes]:
    key = hashlib.sha256(repr([(s.seed, s.agency, s.report_year) for s in specs]).encode()).hexdigest()[:10]
    paths = [cache / f"seed-{key}-{i}.{ext}" for i in range(len(specs))] if cache else []
    if paths and all(p.exists() for p in paths):
        return [p.read_bytes() for p in paths]
    try:
        out = make()
    except Exception:  # noqa: BLE001 - no LibreOffice: fuzz the real samples only (the tally says how many seeds)
        return []
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
        for p, d in zip(paths, out):
            p.write_bytes(d)
    return out


# --------------------------------------------------------------------------- byte-level mutations
_POS = st.integers(0, 2**31 - 1)  # a position, taken modulo the input length (shrinks towards 0)
_INTERESTING_BYTES = [0x00, 0xFF, 0x7F, 0x80, 0x30, 0x39, 0x3C, 0x3E, 0x28, 0x29, 0x2F, 0x0A, 0x0D, 0x22, 0x25]

_BYTE_OP = st.one_of(
    st.tuples(st.just("flip"), _POS, st.integers(0, 7)),
    st.tuples(st.just("truncate"), _POS),
    st.tuples(st.just("dup"), _POS, st.integers(1, 4096), _POS),
    st.tuples(st.just("repeat"), _POS, st.integers(1, 64), st.integers(2, 2000)),
    st.tuples(st.just("insert"), _POS, st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("zeros"), _POS, st.integers(1, 16384), st.booleans()),
    st.tuples(st.just("byte"), _POS, st.sampled_from(_INTERESTING_BYTES)),
    st.tuples(st.just("splice"), st.integers(0, 63), _POS, st.integers(1, 8192), _POS),
)


def apply_byte_ops(data: bytes, ops: list[tuple], others: list[bytes]) -> bytes:
    b = bytearray(data)
    for op in ops:
        if not b and op[0] not in ("insert", "zeros", "splice"):
            continue
        n = max(1, len(b))
        kind = op[0]
        if kind == "flip":
            b[op[1] % n] ^= 1 << op[2]
        elif kind == "truncate":
            del b[op[1] % n:]
        elif kind == "dup":
            start = op[1] % n
            chunk = b[start:start + op[2]]
            at = op[3] % n
            b[at:at] = chunk
        elif kind == "repeat":
            start = op[1] % n
            chunk = bytes(b[start:start + op[2]])
            b[start:start] = chunk * op[3]
        elif kind == "insert":
            at = op[1] % n
            b[at:at] = op[2]
        elif kind == "zeros":
            at = op[1] % n
            if op[3]:
                b[at:at + op[2]] = bytes(min(op[2], len(b) - at))
            else:
                b[at:at] = bytes(op[2])
        elif kind == "byte":
            b[op[1] % n] = op[2]
        elif kind == "splice" and others:
            src = others[op[1] % len(others)]
            start = op[2] % max(1, len(src))
            at = op[4] % n
            b[at:at] = src[start:start + op[3]]
        if len(b) > MAX_INPUT:
            del b[MAX_INPUT:]
    return bytes(b)


def _seeded(seeds: list[bytes], op: st.SearchStrategy, max_ops: int, apply: Callable[..., bytes],
            *plans: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    """A seed, 1..max_ops operations and one draw of each plan, applied: the shape of
    every mutation strategy here (structure and byte level)."""
    @st.composite
    def mutated(draw) -> bytes:
        data = seeds[draw(st.integers(0, len(seeds) - 1))]
        return apply(data, draw(st.lists(op, min_size=1, max_size=max_ops)), *(draw(p) for p in plans))
    return mutated()


def byte_strategy(seeds: list[bytes], all_seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return _seeded(seeds, _BYTE_OP, 8, lambda data, ops: apply_byte_ops(data, ops, all_seeds))


# --------------------------------------------------------------------------- text values
_SPAN_VALUES = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", "3", "500", "501", "65535", "1000000", "10000000", "999999999999",
                     "4294967297", "abc", "3.5", "1e9", " 7", "", "２", "0x10", "+4", "2147483648", "-2147483649"]),
    st.integers(0, 1000).map(str),
)
_NUMBERS = st.one_of(
    st.integers(-10**40, 10**40).map(str),
    st.integers(0, 10**6).map(lambda v: f"{v:,}"),
    st.sampled_from(["1e308", "1e-308", "NaN", "inf", "-0", "０", "１２３４５", "Ⅳ", "一百二十三", "12,34,5", "--", "—",
                     "1.2.3", "99999999999999999999999999999999", "(12)", "12%", "12万", "0.5件", "——", "/", "无"]),
)
_GARBAGE = st.one_of(
    _NUMBERS,
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200),
    st.sampled_from(["\u202e\u2066", "\ufeff", "\x00", "\x0b\x0c", "&nbsp;", "<td>", "]]>", "\U0001F600" * 30,
                     "政府信息公开", "行政复议", "总计", "本年新收政府信息公开申请数量", "一、总体情况"]),
)
_ENCODINGS = ["utf-8", "gbk", "gb18030", "big5", "utf-16", "utf-8-sig", "shift_jis", "latin-1"]
_SEL = st.integers(0, 10**6)


def _encode(text: str, enc: str) -> bytes:
    return text.encode(enc, errors="replace") if enc != "utf-16" else text.encode("utf-16")


def _encode_mixed(text: str, plan: tuple) -> bytes:
    """Encode all of `text` in one codec, or split it and encode the halves differently
    (pages pasted together from two systems)."""
    enc, other, cut = plan
    if other is None:
        return _encode(text, enc)
    at = cut % max(1, len(text))
    return _encode(text[:at], enc) + _encode(text[at:], other)


# Mostly one common codec (so most inputs reach the extractor), sometimes a rare one or two mixed.
_ENCODING_PLAN = st.tuples(st.sampled_from(["utf-8"] * 4 + ["gbk"] * 3 + _ENCODINGS),
                           st.sampled_from([None] * 6 + _ENCODINGS), _SEL)


# --------------------------------------------------------------------------- HTML structure
def _delete_or_copy(el, kind: str, op) -> None:
    """The element removed ("del_…") or repeated op[2] times after itself ("dup_…")."""
    parent = el.getparent()
    if parent is None:  # the document element: neither removable nor repeatable
        return
    if kind.startswith("del"):
        parent.remove(el)
        return
    for _ in range(op[2]):
        el.addnext(copy.deepcopy(el))


_HTML_OP = st.one_of(
    st.tuples(st.just("span"), _SEL, st.sampled_from(["rowspan", "colspan"]), _SPAN_VALUES),
    st.tuples(st.just("nest"), _SEL, _SEL, st.integers(1, 6)),
    st.tuples(st.just("del_row"), _SEL),
    st.tuples(st.just("dup_row"), _SEL, st.integers(1, 200)),
    st.tuples(st.just("del_cell"), _SEL),
    st.tuples(st.just("dup_cell"), _SEL, st.integers(1, 200)),
    st.tuples(st.just("text"), _SEL, _GARBAGE),
    st.tuples(st.just("deep"), _SEL, st.integers(1, 6000), st.sampled_from(["div", "table", "span", "td", "font"])),
    st.tuples(st.just("unclose"), _SEL, st.sampled_from(["</td>", "</tr>", "</table>", "<tbody>", "</p>"])),
    st.tuples(st.just("charset"), st.sampled_from(["utf-8", "gbk", "gb2312", "big5", "bogus", "utf-16", "x-user-defined", ""])),
)


def _html_apply(data: bytes, ops: list[tuple], enc_plan: tuple) -> bytes:
    import lxml.html
    from lxml import etree

    doc = lxml.html.fromstring(data.decode("utf-8", errors="replace") if not _is_gbk(data) else data.decode("gbk", "replace"))
    string_ops = []
    for op in ops:
        tables = list(doc.iter("table"))
        rows = [tr for t in tables for tr in t.iter("tr")]
        cells = [c for r in rows for c in r if isinstance(c.tag, str) and c.tag in ("td", "th")]
        kind = op[0]
        if kind == "span" and cells:
            cells[op[1] % len(cells)].set(op[2], op[3])
        elif kind == "nest" and cells and tables:
            cell = cells[op[1] % len(cells)]
            inner = copy.deepcopy(tables[op[2] % len(tables)])
            for _ in range(op[3] - 1):
                wrap = etree.SubElement(etree.SubElement(etree.Element("table"), "tr"), "td")
                wrap.append(inner)
                inner = wrap.getparent().getparent()
            cell.append(inner)
        elif kind in ("del_row", "dup_row") and rows:
            _delete_or_copy(rows[op[1] % len(rows)], kind, op)
        elif kind in ("del_cell", "dup_cell") and cells:
            _delete_or_copy(cells[op[1] % len(cells)], kind, op)
        elif kind == "text" and cells:
            c = cells[op[1] % len(cells)]
            for child in list(c):
                c.remove(child)
            c.text = _xml_safe(op[2])
        else:
            string_ops.append(op)
    text = lxml.html.tostring(doc, encoding="unicode")
    charset = None
    for op in string_ops:
        kind = op[0]
        if kind == "deep":
            at = op[1] % max(1, len(text))
            text = text[:at] + f"<{op[3]}>" * op[2] + "x" + text[at:]
        elif kind == "unclose":
            hits = [m.start() for m in re.finditer(re.escape(op[2]), text)]
            if hits:
                at = hits[op[1] % len(hits)]
                text = text[:at] + text[at + len(op[2]):]
        elif kind == "charset":
            charset = op[1]
    if charset is not None:
        text = re.sub(r"<meta[^>]*charset[^>]*>", "", text, flags=re.IGNORECASE)
        text = text.replace("<head>", f'<head><meta charset="{charset}">', 1) if "<head>" in text \
            else f'<meta charset="{charset}">' + text
    return _encode_mixed(text, enc_plan)[:MAX_INPUT]


def _is_gbk(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(s: str) -> str:
    return _XML_BAD.sub("\ufffd", s)


def html_strategy(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return _seeded(seeds, _HTML_OP, 6, _html_apply, _ENCODING_PLAN)


# --------------------------------------------------------------------------- zip containers
def _zip_members(data: bytes) -> tuple[dict[str, bytes], list[str]]:
    zin = zipfile.ZipFile(io.BytesIO(data))
    members = {i.filename: zin.read(i.filename) for i in zin.infolist()}
    return members, list(members)


def _zip_write(members: dict[str, bytes], order: list[str], zip_ops: list[tuple], main: str) -> bytes:
    """The package written again after the zip-level operations (members dropped,
    `main` truncated, members duplicated, a member's bytes replaced, a member that
    inflates 1,000-fold): what every zip container (DOCX, XLSX, OFD) shares."""
    extra = []
    for op in zip_ops:
        kind = op[0]
        name = order[op[1] % len(order)] if order else main
        if kind == "zip_drop" and name in members:
            del members[name]
            order.remove(name)
        elif kind == "zip_truncate_xml":
            d = members.get(main, b"")
            if d:
                members[main] = d[:op[1] % len(d)]
        elif kind == "zip_dup_member":
            extra.append((name, members.get(name, b"")))
        elif kind == "zip_garbage_member" and name in members:
            members[name] = op[2]
        elif kind == "zip_inflate" and name in members:
            members[name] = members[name] + b" " * (op[2] * 1024 * 1024)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate names are the point
            for n in order:
                # Level 1 for the inflated members: level 6 on hundreds of MB of spaces costs the drawing seconds.
                z.writestr(n, members[n], compresslevel=1 if len(members[n]) > MAX_INPUT else None)
            for n, d in extra:
                z.writestr(n, d)
    return out.getvalue()


_ZIP_OP = st.one_of(
    st.tuples(st.just("zip_drop"), _SEL),
    st.tuples(st.just("zip_truncate_xml"), _SEL),
    st.tuples(st.just("zip_dup_member"), _SEL),
    st.tuples(st.just("zip_garbage_member"), _SEL, st.binary(max_size=256)),
    # Below and above the bomb check (200 MB unpacked, or 200:1 past 20 MB).
    st.tuples(st.just("zip_inflate"), _SEL, st.sampled_from([1, 8, 19, 30, 210])),
)


# --------------------------------------------------------------------------- DOCX structure
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DOCX_OP = st.one_of(
    st.tuples(st.just("gridspan"), _SEL, _SPAN_VALUES),
    st.tuples(st.just("vmerge"), _SEL, st.sampled_from(["restart", "continue", "", None, "bogus"])),
    st.tuples(st.just("del_tr"), _SEL),
    st.tuples(st.just("dup_tr"), _SEL, st.integers(1, 200)),
    st.tuples(st.just("del_tc"), _SEL),
    st.tuples(st.just("dup_tc"), _SEL, st.integers(1, 200)),
    st.tuples(st.just("nest"), _SEL, _SEL, st.integers(1, 6)),
    st.tuples(st.just("text"), _SEL, _GARBAGE),
    st.tuples(st.just("drop_grid"), _SEL),
    st.tuples(st.just("gridcols"), _SEL, st.integers(0, 5000)),
    st.tuples(st.just("deep"), st.integers(1, 3000)),
    _ZIP_OP,
)


def _docx_apply(data: bytes, ops: list[tuple]) -> bytes:
    from lxml import etree

    members, order = _zip_members(data)
    root = etree.fromstring(members["word/document.xml"])
    w = f"{{{_W}}}"
    zip_ops = []
    for op in ops:
        tbls = list(root.iter(w + "tbl"))
        trs = list(root.iter(w + "tr"))
        tcs = list(root.iter(w + "tc"))
        kind = op[0]
        if kind in ("gridspan", "vmerge") and tcs:
            tc = tcs[op[1] % len(tcs)]
            tcpr = tc.find(w + "tcPr")
            if tcpr is None:
                tcpr = etree.Element(w + "tcPr")
                tc.insert(0, tcpr)
            tag = w + ("gridSpan" if kind == "gridspan" else "vMerge")
            el = tcpr.find(tag)
            if op[2] is None:
                if el is not None:
                    tcpr.remove(el)
                continue
            if el is None:
                el = etree.SubElement(tcpr, tag)
            el.set(w + "val", op[2])
        elif kind in ("del_tr", "dup_tr") and trs:
            _delete_or_copy(trs[op[1] % len(trs)], kind, op)
        elif kind in ("del_tc", "dup_tc") and tcs:
            _delete_or_copy(tcs[op[1] % len(tcs)], kind, op)
        elif kind == "nest" and tcs and tbls:
            tc = tcs[op[1] % len(tcs)]
            for _ in range(op[3]):
                tc.append(copy.deepcopy(tbls[op[2] % len(tbls)]))
                tc.append(etree.Element(w + "p"))
        elif kind == "text":
            ts = list(root.iter(w + "t"))
            if ts:
                ts[op[1] % len(ts)].text = _xml_safe(op[2])
        elif kind == "drop_grid" and tbls:
            g = tbls[op[1] % len(tbls)].find(w + "tblGrid")
            if g is not None:
                g.getparent().remove(g)
        elif kind == "gridcols" and tbls:
            g = tbls[op[1] % len(tbls)].find(w + "tblGrid")
            if g is not None:
                for _ in range(op[2]):
                    etree.SubElement(g, w + "gridCol").set(w + "w", "1")
        elif kind == "deep":
            body = root.find(w + "body")
            if body is not None and len(body):
                el = body[0]
                for _ in range(op[1]):
                    el = etree.SubElement(el, w + "sdt")
                    el = etree.SubElement(el, w + "sdtContent")
                etree.SubElement(etree.SubElement(etree.SubElement(el, w + "p"), w + "r"), w + "t").text = "深"
        else:
            zip_ops.append(op)
    members["word/document.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return _zip_write(members, order, zip_ops, "word/document.xml")


def docx_strategy(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return _seeded(seeds, _DOCX_OP, 6, lambda data, ops: _docx_apply(data, ops)[:MAX_INPUT])


# --------------------------------------------------------------------------- XML inside packages (OFD, XLSX)
_XML_NUMBERS = ["0", "-1", "1e308", "-1e308", "NaN", "inf", "", "  ", "1e7", "9999999", "0.0000001", "abc", "1,2",
                "3 4 5 6 7 8 9 10 11 12", "g 100000000 1", "g -5 1", "g 3", "g g g", "1 " * 2000]
_LOCS = ["", "/", ".", "..", "../../../../etc/passwd", "/etc/passwd", "Doc_0/Document.xml", "OFD.xml", "Doc_0/",
         "Doc_0/Pages/Page_0/Content.xml", "C:\\Windows\\win.ini", "a" * 5000, "Doc_0/Pages/../../OFD.xml"]
# Entity expansion and external entities: the extractors' XML parsers must refuse both.
_XML_HOSTILE = [
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
    b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
    b'<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]><r>&h;</r>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><r>&x;</r>',
    b'<?xml version="1.0" encoding="GB18030"?><r>\xd5\xfe</r>',
    b"<r>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</r>",
]


def _xml_ops(root, ops: list[tuple], names: dict[str, list[str]]) -> list[tuple]:
    """Apply the element-level operations shared by OFD and XLSX to one XML tree:
    attributes set to hostile values, elements deleted/repeated/nested deep, text
    replaced. `names` maps an operation to the local names it may touch. Returns the
    operations it did not handle."""
    rest = []
    for op in ops:
        kind = op[0]
        if kind not in names:
            rest.append(op)
            continue
        els = [e for e in root.iter() if isinstance(e.tag, str) and e.tag.rsplit("}", 1)[-1] in names[kind]]
        if not els:
            continue
        el = els[op[1] % len(els)]
        if kind in ("num", "loc", "ref"):
            attrs = [a for a in el.attrib if a.rsplit("}", 1)[-1] in names["attrs_" + kind]] or list(el.attrib)
            if attrs:
                el.set(attrs[op[2] % len(attrs)], _xml_safe(op[3]))
        elif kind in ("del_el", "dup_el"):
            _delete_or_copy(el, kind, op)
        elif kind == "text":
            el.text = _xml_safe(op[2])
        elif kind == "deep":
            inner = el
            for _ in range(op[2]):
                inner = _sub(inner, el.tag)
    return rest


def _sub(parent, tag: str):
    from lxml import etree
    return etree.SubElement(parent, tag)


def _xml_tree(data: bytes):
    from lxml import etree
    try:
        return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, recover=True))
    except etree.XMLSyntaxError:
        return None


def _xml_bytes(root) -> bytes:
    from lxml import etree
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _package_apply(data: bytes, ops: list[tuple], names: dict[str, list[str]], main: str) -> bytes:
    """Element operations on one XML member of a zip package (chosen per operation),
    then hostile XML and the zip-level operations."""
    try:
        members, order = _zip_members(data)
    except (zipfile.BadZipFile, ValueError):
        return data
    xml_parts = [n for n in order if n.endswith(".xml") or n.endswith(".rels")]
    zip_ops, trees = [], {}
    for op in ops:
        kind = op[0]
        if kind == "hostile" and xml_parts:
            part = xml_parts[op[1] % len(xml_parts)]
            trees.pop(part, None)
            members[part] = _XML_HOSTILE[op[2] % len(_XML_HOSTILE)]
        elif kind.startswith("zip_"):
            zip_ops.append(op)
        elif xml_parts:
            part = xml_parts[op[-1] % len(xml_parts)] if op[-1] % 3 else main  # a third of them on the main part
            if part not in trees:
                trees[part] = _xml_tree(members.get(part, b""))
            if trees[part] is not None:
                _xml_ops(trees[part], [op[:-1]], names)
    for part, root in trees.items():
        if root is not None:
            members[part] = _xml_bytes(root)
    return _zip_write(members, order, zip_ops, main)[:MAX_INPUT]


def _package_op(names: dict[str, list[str]], texts: st.SearchStrategy[str]) -> st.SearchStrategy[tuple]:
    """Operations of `_package_apply`; the last element of each picks the XML part."""
    part = _SEL
    return st.one_of(
        st.tuples(st.just("num"), _SEL, _SEL, st.sampled_from(_XML_NUMBERS), part),
        st.tuples(st.just("del_el"), _SEL, part),
        st.tuples(st.just("dup_el"), _SEL, st.integers(1, 3000), part),
        st.tuples(st.just("text"), _SEL, texts, part),
        st.tuples(st.just("deep"), _SEL, st.integers(1, 3000), part),
        *([st.tuples(st.just("loc"), _SEL, _SEL, st.sampled_from(_LOCS), part)] if "loc" in names else []),
        *([st.tuples(st.just("ref"), _SEL, _SEL, st.sampled_from(_CELL_REFS), part)] if "ref" in names else []),
        st.tuples(st.just("hostile"), _SEL, _SEL),
        _ZIP_OP,
    )


# OFD: positions, sizes, transforms, repeats, page references, path data.
_OFD_NAMES = {
    "num": ["TextObject", "PathObject", "TextCode", "PhysicalBox", "Page", "ImageObject"],
    "attrs_num": ["Boundary", "CTM", "DeltaX", "DeltaY", "X", "Y", "Size", "LineWidth"],
    "del_el": ["TextObject", "PathObject", "TextCode", "Page", "Layer", "DocBody", "Template", "TemplatePage"],
    "dup_el": ["TextObject", "PathObject", "TextCode", "Page", "Layer", "TemplatePage", "Template"],
    "text": ["TextCode", "AbbreviatedData", "PhysicalBox", "DocRoot", "Title"],
    "deep": ["Layer", "TextObject", "PageBlock"],
    "loc": ["Page", "TemplatePage", "Template", "DocRoot"],
    "attrs_loc": ["BaseLoc", "TemplateID"],
}
_OFD_TEXT = st.one_of(_GARBAGE, st.sampled_from(["M 0 0 " + "L 1 1 " * 100000, "M " * 50000, "C " * 50000,
                                                   "g 100000000 1", "0 0 1e7 1e7", "/", "Doc_0/Document.xml"]))


def ofd_strategy(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return _seeded(seeds, _package_op(_OFD_NAMES, _OFD_TEXT), 6,
                   lambda data, ops: _package_apply(data, ops, _OFD_NAMES, "Doc_0/Pages/Page_0/Content.xml"))


# XLSX: cell references, merged ranges, dimensions, cell types and values, shared strings, sheets.
_CELL_REFS = ["A1:XFD1048576", "A1:A1048576", "A1:XFD1", "B2:A1", "ZZZZ1:A1", "A0:B0", "A1", "", "A1:B2:C3",
              "XFD1048576", "A-1", "1A", "AAAAAAAAAAA99999999999", "A1:A1", "C3:C3"]
_XLSX_NAMES = {
    "num": ["row", "c", "col", "sheetFormatPr", "pageSetup", "si"],
    "attrs_num": ["r", "s", "t", "spans", "min", "max", "width", "count", "uniqueCount", "ht"],
    "del_el": ["row", "c", "mergeCell", "sheet", "si", "v", "sheetData", "definedName"],
    "dup_el": ["row", "c", "mergeCell", "sheet", "si", "definedName"],
    "text": ["v", "t", "f", "definedName"],
    "deep": ["sheetData", "row", "si", "r"],
    "ref": ["mergeCell", "dimension", "c", "row", "selection", "autoFilter"],
    "attrs_ref": ["ref", "r", "sqref", "spans", "activeCell"],
}
_XLSX_TEXT = st.one_of(_GARBAGE, st.sampled_from(["999999", "-1", "1e400", "#DIV/0!", "=1/0", "SUM(A1:XFD1048576)",
                                                    "true", "2023-13-45", "1" * 400]))


def xlsx_strategy(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return _seeded(seeds, _package_op(_XLSX_NAMES, _XLSX_TEXT), 6,
                   lambda data, ops: _package_apply(data, ops, _XLSX_NAMES, "xl/worksheets/sheet1.xml"))


# --------------------------------------------------------------------------- images (OCR)
_IMAGE_OP = st.one_of(
    st.tuples(st.just("resize"), st.sampled_from([(1, 1), (1, 20000), (20000, 1), (8000, 8000), (30, 30), (200, 60),
                                                   (3000, 40), (12000, 16000)])),
    st.tuples(st.just("scale"), st.floats(0.2, 2.5)),
    st.tuples(st.just("rotate"), st.floats(-30, 30)),
    st.tuples(st.just("crop"), _SEL, _SEL, st.floats(0.05, 1.0)),
    st.tuples(st.just("noise"), _SEL, st.floats(0.0, 0.6)),
    st.tuples(st.just("invert"),),
    st.tuples(st.just("mode"), st.sampled_from(["1", "L", "P", "RGB", "RGBA", "CMYK", "I;16", "F", "LA"])),
    st.tuples(st.just("tile"), st.integers(2, 6), st.integers(1, 4)),
    st.tuples(st.just("blank"), st.sampled_from([0, 255, 128])),
)


def _image_apply(data: bytes, ops: list[tuple], fmt: str, frames: int) -> bytes:
    """Pixel-level damage, odd sizes and modes, then saved in one of the formats a
    portal serves (PNG, JPEG, GIF, BMP, TIFF with `frames` pages, WebP)."""
    import numpy as np
    from PIL import Image, ImageOps

    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception:  # noqa: BLE001 - a seed that is a scanned PDF: only byte mutations apply to it
        return data
    img = img.convert("L")
    for op in ops:
        kind = op[0]
        if kind == "resize":
            img = img.resize(op[1])
        elif kind == "scale":
            img = img.resize((max(1, int(img.width * op[1])), max(1, int(img.height * op[1]))))
        elif kind == "rotate":
            img = img.rotate(op[1], expand=True, fillcolor=255)
        elif kind == "crop":
            w, h = max(1, int(img.width * op[3])), max(1, int(img.height * op[3]))
            x, y = op[1] % max(1, img.width - w + 1), op[2] % max(1, img.height - h + 1)
            img = img.crop((x, y, x + w, y + h))
        elif kind == "noise" and img.width * img.height <= 20_000_000:
            a = np.asarray(img.convert("L"), dtype=np.uint8).copy()
            rng = np.random.default_rng(op[1])
            mask = rng.random(a.shape) < op[2]
            a[mask] = rng.integers(0, 256, int(mask.sum()), dtype=np.uint8)
            img = Image.fromarray(a)
        elif kind == "invert":
            img = ImageOps.invert(img.convert("L"))
        elif kind == "mode":
            img = img.convert(op[1])
        elif kind == "tile":
            w, h = img.width, img.height
            if w * h * op[1] * op[2] <= 50_000_000:
                big = Image.new(img.mode, (w * op[1], h * op[2]))
                for i in range(op[1]):
                    for j in range(op[2]):
                        big.paste(img, (i * w, j * h))
                img = big
        elif kind == "blank":
            img = Image.new("L", img.size, op[1])
    out = io.BytesIO()
    try:
        if fmt == "TIFF" and frames > 1:
            img.save(out, "TIFF", save_all=True, append_images=[img] * (frames - 1))
        else:
            if fmt in ("JPEG", "BMP", "GIF", "WEBP") and img.mode not in ("1", "L", "RGB", "P"):
                img = img.convert("L")
            if fmt == "WEBP" and max(img.size) > 16383:
                fmt = "PNG"
            img.save(out, fmt)
    except (OSError, ValueError, struct.error):  # e.g. GIF stores sizes in 16 bits: a 70,000 px side cannot be saved
        return data
    return out.getvalue()[:MAX_INPUT]


def image_strategy(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return _seeded(seeds, _IMAGE_OP, 4, _image_apply, st.sampled_from(["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"]),
                   st.sampled_from([1] * 6 + [2, 3]))


# --------------------------------------------------------------------------- PDF structure
_OBJ = re.compile(rb"(\d+)\s+(\d+)\s+obj\b(.*?)\bendobj", re.DOTALL)
_NUM = re.compile(rb"(?<![\w/.])-?\d+(?:\.\d+)?(?![\w.])")
_REF = re.compile(rb"\b(\d+)\s+(\d+)\s+R\b")
_NAME = re.compile(rb"/[A-Za-z][A-Za-z0-9]*")
_EXTREME = [b"0", b"-1", b"1", b"2147483648", b"1e10", b"99999999", b"-99999", b"0.0001", b"3.4e38", b"1000000",
            b"65536", b"-0", b"4294967295", b"NaN"]
_NAMES = [b"/FlateDecode", b"/LZWDecode", b"/DCTDecode", b"/ASCIIHexDecode", b"/ASCII85Decode", b"/RunLengthDecode",
          b"/JBIG2Decode", b"/CCITTFaxDecode", b"/Type0", b"/Page", b"/Pages", b"/XObject", b"/Image", b"/Font",
          b"/Identity-H", b"/Catalog", b"/Null"]
_CONTENT_OP = st.sampled_from(["number", "repeat", "nest_q", "garbage", "truncate", "huge_text", "font_size"])
_PDF_OP = st.one_of(
    st.tuples(st.just("num"), _SEL, _SEL, st.sampled_from(_EXTREME)),
    st.tuples(st.just("ref"), _SEL, _SEL, _SEL),
    st.tuples(st.just("del"), _SEL),
    st.tuples(st.just("dup"), _SEL),
    st.tuples(st.just("name"), _SEL, _SEL, st.sampled_from(_NAMES)),
    st.tuples(st.just("content"), _SEL, _CONTENT_OP, _SEL, st.integers(1, 20000)),
    st.tuples(st.just("stream_bytes"), _SEL, _SEL, st.binary(min_size=1, max_size=32)),
    st.tuples(st.just("length"), _SEL, st.sampled_from(_EXTREME)),
    st.tuples(st.just("mediabox"), _SEL, st.sampled_from([b"[0 0 1e7 1e7]", b"[0 0 0 0]", b"[0 0 -595 842]",
                                                          b"[0 0 14400 14400]", b"[]", b"[0 0 3e38 3e38]"])),
    st.tuples(st.just("trailer_zeros"), st.integers(1, 20000)),
)


def _pdf_objects(data: bytes) -> tuple[list[list], int | None]:
    objs = [[int(m.group(1)), int(m.group(2)), m.group(3)] for m in _OBJ.finditer(data)]
    root = None
    for num, _gen, body in objs:
        if b"/Catalog" in body[:2000]:
            root = num
    return objs, root


def _split_stream(body: bytes) -> tuple[bytes, bytes | None]:
    i = body.find(b"stream")
    if i < 0:
        return body, None
    j = body.rfind(b"endstream")
    start = i + len(b"stream")
    if body[start:start + 2] == b"\r\n":
        start += 2
    elif body[start:start + 1] in (b"\n", b"\r"):
        start += 1
    return body[:i], body[start:j if j > start else len(body)]


def _join_stream(head: bytes, stream: bytes | None, fix_length: bool = True) -> bytes:
    if stream is None:
        return head
    if fix_length:
        head = re.sub(rb"/Length\s+\d+(\s+\d+\s+R)?", b"/Length %d" % len(stream), head, count=1)
    return head + b"stream\n" + stream + b"\nendstream\n"


def _mutate_content(content: bytes, how: str, sel: int, n: int) -> bytes:
    if how == "number":
        nums = list(_NUM.finditer(content))
        if nums:
            m = nums[sel % len(nums)]
            return content[:m.start()] + _EXTREME[n % len(_EXTREME)] + content[m.end():]
    elif how == "repeat":
        bts = [m.start() for m in re.finditer(rb"BT\b", content)]
        if bts:
            s = bts[sel % len(bts)]
            e = content.find(b"ET", s)
            seg = content[s:e + 2] if e > 0 else content[s:s + 200]
            return content + b"\n" + seg * min(n, 5000)
    elif how == "nest_q":
        return b"q " * n + content + b" Q" * (n // 2)
    elif how == "garbage":
        rng = random.Random(sel)
        at = sel % max(1, len(content))
        return content[:at] + bytes(rng.getrandbits(8) for _ in range(min(n, 512))) + content[at:]
    elif how == "truncate":
        return content[:sel % max(1, len(content))]
    elif how == "huge_text":
        return content + b"\nBT /F1 12 Tf 72 720 Td (" + b"9" * n + b") Tj ET\n"
    elif how == "font_size":
        return re.sub(rb"(\S+)(\s+Tf)", lambda m: _EXTREME[n % len(_EXTREME)] + m.group(2), content, count=1)
    return content


def _pdf_apply(data: bytes, ops: list[tuple], rebuild: bool) -> bytes:
    objs, root = _pdf_objects(data)
    if not objs:
        return data
    objs = [o for o in objs if b"/XRef" not in o[2][:300]]  # the xref stream is rebuilt below
    zeros = 0
    for op in ops:
        if not objs:
            break
        kind = op[0]
        o = objs[op[1] % len(objs)] if kind != "trailer_zeros" else None
        if kind == "num":
            head, stream = _split_stream(o[2])
            nums = list(_NUM.finditer(head))
            if nums:
                m = nums[op[2] % len(nums)]
                head = head[:m.start()] + op[3] + head[m.end():]
                o[2] = _join_stream(head, stream, fix_length=False)
        elif kind == "ref":
            head, stream = _split_stream(o[2])
            refs = list(_REF.finditer(head))
            if refs:
                m = refs[op[2] % len(refs)]
                target = objs[op[3] % len(objs)][0] if op[3] % 3 else o[0]  # a third of them point at themselves
                head = head[:m.start()] + b"%d 0 R" % target + head[m.end():]
                o[2] = _join_stream(head, stream, fix_length=False)
        elif kind == "del":
            objs.remove(o)
        elif kind == "dup":
            objs.append(list(o))
        elif kind == "name":
            head, stream = _split_stream(o[2])
            names = list(_NAME.finditer(head))
            if names:
                m = names[op[2] % len(names)]
                o[2] = _join_stream(head[:m.start()] + op[3] + head[m.end():], stream, fix_length=False)
        elif kind == "content":
            head, stream = _split_stream(o[2])
            if stream is not None:
                try:
                    content = zlib.decompress(stream) if b"/FlateDecode" in head else stream
                except zlib.error:
                    content = stream
                content = _mutate_content(content, op[2], op[3], op[4])[:MAX_INPUT]
                if b"/FlateDecode" in head:
                    content = zlib.compress(content)
                o[2] = _join_stream(head, content)
        elif kind == "stream_bytes":
            head, stream = _split_stream(o[2])
            if stream:
                at = op[2] % len(stream)
                o[2] = _join_stream(head, stream[:at] + op[3] + stream[at + len(op[3]):], fix_length=False)
        elif kind == "length":
            head, stream = _split_stream(o[2])
            if stream is not None:
                head = re.sub(rb"/Length\s+\d+(\s+\d+\s+R)?", b"/Length " + op[2], head, count=1)
                o[2] = _join_stream(head, stream, fix_length=False)
        elif kind == "mediabox":
            pages = [x for x in objs if re.search(rb"/Type\s*/Page\b", x[2][:2000])]
            if pages:
                p = pages[op[1] % len(pages)]
                head, stream = _split_stream(p[2])
                if b"/MediaBox" in head:
                    head = re.sub(rb"/MediaBox\s*\[[^\]]*\]", b"/MediaBox " + op[2], head, count=1)
                else:
                    head = head.replace(b"<<", b"<</MediaBox " + op[2], 1)
                p[2] = _join_stream(head, stream, fix_length=False)
        elif kind == "trailer_zeros":
            zeros = op[1]
    out = io.BytesIO()
    out.write(data[:data.find(b"\n") + 1] if data.startswith(b"%PDF") else b"%PDF-1.7\n")
    offsets: dict[int, int] = {}
    for num, gen, body in objs:
        offsets[num] = out.tell()
        out.write(b"%d %d obj" % (num, gen) + body + b"endobj\n")
    size = max(offsets, default=0) + 1
    xref = out.tell()
    if rebuild:
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        for i in range(1, size):
            out.write(b"%010d 00000 n \n" % offsets[i] if i in offsets else b"0000000000 65535 f \n")
    else:  # no xref table and a wrong startxref: the reader must rebuild it from the objects
        xref = 0
    out.write(b"trailer\n<</Size %d" % size + (b" /Root %d 0 R" % root if root is not None else b"") + b">>\n")
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    out.write(bytes(zeros))
    return out.getvalue()[:MAX_INPUT]


def pdf_strategy(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return _seeded(seeds, _PDF_OP, 5, _pdf_apply, st.booleans())


# --------------------------------------------------------------------------- text structure
_TXT_OP = st.one_of(
    st.tuples(st.just("del_line"), _SEL),
    st.tuples(st.just("dup_line"), _SEL, st.integers(1, 2000)),
    st.tuples(st.just("swap"), _SEL, _SEL),
    st.tuples(st.just("row"), _SEL, st.lists(_GARBAGE, min_size=1, max_size=40)),
    st.tuples(st.just("long_line"), _SEL, st.integers(1000, 1_000_000), st.sampled_from(["9", "一", "\t", " 1", "　"])),
    st.tuples(st.just("separators"), st.sampled_from(["\t", "  ", " ", "|", "\u3000", ""])),
    st.tuples(st.just("newlines"), st.sampled_from(["\n", "\r\n", "\r", "\u2028", "\x0c"])),
)


def _txt_apply(data: bytes, ops: list[tuple], enc_plan: tuple) -> bytes:
    text = data.decode("utf-8", "replace") if not _is_gbk(data) else data.decode("gb18030", "replace")
    lines = text.split("\n")
    nl = "\n"
    for op in ops:
        kind = op[0]
        i = op[1] % max(1, len(lines)) if len(op) > 1 and isinstance(op[1], int) else 0
        if kind == "del_line" and lines:
            del lines[i]
        elif kind == "dup_line" and lines:
            lines[i:i] = [lines[i]] * op[2]
        elif kind == "swap" and lines:
            j = op[2] % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "row":
            lines.insert(i, "\t".join(op[2]))
        elif kind == "long_line":
            lines.insert(i, op[3] * (op[2] // len(op[3])))
        elif kind == "separators":
            lines = [x.replace("\t", op[1]) for x in lines]
        elif kind == "newlines":
            nl = op[1]
    return _encode_mixed(nl.join(lines), enc_plan)[:MAX_INPUT]


def txt_strategy(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return _seeded(seeds, _TXT_OP, 6, _txt_apply, _ENCODING_PLAN)


# --------------------------------------------------------------------------- campaigns
_STRUCTURE = {"html": html_strategy, "docx": docx_strategy, "pdf": pdf_strategy, "txt": txt_strategy,
              "ofd": ofd_strategy, "xlsx": xlsx_strategy, "image": image_strategy}


def strategy(target: str, seeds: dict[str, list[bytes]], *, structure_share: int = 1) -> st.SearchStrategy[bytes]:
    """Inputs for one extractor: structure mutations (where the container has a
    structure we model) and byte-level mutations of its seeds, about evenly."""
    mine = seeds[target]
    every = [s for v in seeds.values() for s in v]
    byte = byte_strategy(mine, every)
    if target not in _STRUCTURE:
        return byte
    return st.one_of(*([_STRUCTURE[target](mine)] * structure_share), byte)


def draw(strat: st.SearchStrategy[bytes], n: int, seed: int) -> list[bytes]:
    """`n` inputs from a strategy, deterministically for a seed (Hypothesis generation
    phase only: shrinking happens in `minimize`, on the bytes, where the oracle is)."""
    out: list[bytes] = []

    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False)
    @hseed(seed)
    @given(strat)
    def collect(x: bytes) -> None:
        out.append(x)

    collect()
    return out


def campaign(fuzzer: Fuzzer, target: str, seeds: dict[str, list[bytes]], n: int, *, seed: int = 0,
             chunk: int = 250, progress: Callable[[Tally], None] | None = None) -> Tally:
    """`n` inputs for `target`, drawn and judged in chunks (bounded memory)."""
    strat = strategy(target, seeds)
    total = Tally(target)
    done = 0
    k = 0
    while done < n:
        batch = draw(strat, min(chunk, n - done), seed * 100003 + k)
        k += 1
        if not batch:
            break
        total.merge(fuzzer.run(target, batch, seen=total._seen))
        done += len(batch)
        if progress:
            progress(total)
    return total
