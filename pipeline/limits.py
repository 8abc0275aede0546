"""Time and memory limits for every parse of a stored or given document.

A hostile or broken file must cost one parser process a bounded time and memory, never
the batch or the machine: `nianbao parse`, `ingest`, `reparse` and the parse step of
`run`/`demo` all parse in pebble worker processes started by `worker_init(limits)`
(address-space limit, RLIMIT_AS) and scheduled with `limits.time_s` (pebble kills a
worker that overruns and starts a new one). What happened is read back by `outcome`:
a timeout, a MemoryError or a killed worker becomes a `failed` Report whose reason
names the limit. The fuzz harness reuses `pool`, `parse_path`/`parse_data` and
`outcome`, so a fuzz input is judged under exactly the limits of a real parse.

Defaults: 120 s and 2048 MB per document (a warmed worker maps ~250 MB; the largest
real reports, 300-page PDFs, stay under 600 MB); 600 s and 3072 MB with OCR on
(NIANBAO_OCR=1), where every scanned page costs 3–20 s of recognition (a 30-page scan
needs about 200 s). Override with `--timeout` /
`--memory-mb` or the environment variables NIANBAO_PARSE_TIMEOUT /
NIANBAO_PARSE_MEMORY_MB (0 turns the memory limit off).
"""
from __future__ import annotations

import os
import resource
import signal
import stat
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from .model import FAILED, Report

DEFAULT_TIME_S = 120.0
# With OCR on, a page read from pixels costs 3–4 s of CPU (a table page with 400 boxed
# words and its cells read again: up to ~20 s), so 120 s would fail an ordinary 30-page scan.
DEFAULT_OCR_TIME_S = 600.0
DEFAULT_MEMORY_MB = 2048
# With OCR on (NIANBAO_OCR=1) a worker maps ONNX Runtime and both models (~1.4 GB of
# address space before the first page) and a page's detection needs ~0.6 GB more: under
# 2 GB a worker that has read a few pages fails the next one for memory it would free.
DEFAULT_OCR_MEMORY_MB = 3072
# A worker is replaced after this many documents: the C allocator keeps much of what a big
# document made it map, so a long-lived worker creeps towards its address-space limit and
# would fail a later, ordinary document for memory an earlier one used.
TASKS_PER_WORKER = 100
# A worker that ran out of memory exits with this code right after the document, instead of
# returning its report: what it allocated stays mapped (RSS 0.9 GB after a 180 KB workbook
# bomb under 1 GB), and the next, ordinary documents it took would fail for memory too.
# `outcome` reads the code as the memory limit; pebble starts a fresh worker.
EXIT_OUT_OF_MEMORY = 86
_in_worker = False
ENV_TIME = "NIANBAO_PARSE_TIMEOUT"
ENV_MEMORY = "NIANBAO_PARSE_MEMORY_MB"


@dataclass(frozen=True)
class Limits:
    """Per-document limits: wall-clock seconds and address space in MB (0: none)."""

    time_s: float = DEFAULT_TIME_S
    memory_mb: int = DEFAULT_MEMORY_MB

    @classmethod
    def from_env(cls, time_s: float | None = None, memory_mb: int | None = None, env=os.environ) -> Limits:
        """Explicit values first, then the environment, then the defaults."""
        ocr = env.get("NIANBAO_OCR", "0") == "1"
        if time_s is None:
            time_s = float(env.get(ENV_TIME) or (DEFAULT_OCR_TIME_S if ocr else DEFAULT_TIME_S))
        if memory_mb is None:
            memory_mb = int(env.get(ENV_MEMORY) or (DEFAULT_OCR_MEMORY_MB if ocr else DEFAULT_MEMORY_MB))
        if time_s <= 0 or memory_mb < 0:
            raise ValueError(f"limits must be positive: {time_s} s, {memory_mb} MB")
        return cls(float(time_s), int(memory_mb))

    def __str__(self) -> str:
        return f"{self.time_s:g} s, " + (f"{self.memory_mb} MB" if self.memory_mb else "no memory limit")

    @property
    def time_reason(self) -> str:
        return f"parsing took longer than the {self.time_s:g} s limit (time limit: --timeout, {ENV_TIME})"

    @property
    def memory_reason(self) -> str:
        return f"parsing needed more than the {self.memory_mb} MB memory limit (--memory-mb, {ENV_MEMORY})"


def set_memory_limit(memory_mb: int) -> None:
    """Cap this process's address space (soft limit; a child it starts inherits it)."""
    if not memory_mb:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def worker_init(limits: Limits) -> None:
    """pebble initializer of every parser process: load the heavy extractors and the
    gazetteer once (not inside a document's time limit), then cap memory."""
    from . import document, gazetteer, parse  # noqa: F401
    from .extract import docx, html, pdf  # noqa: F401

    global _in_worker
    gazetteer.load()
    set_memory_limit(limits.memory_mb)
    _in_worker = True
    # Ctrl-C reaches the whole process group: the parent stops the pool and keeps what
    # was parsed; a worker dying of it would be recorded as a failed document.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def pool(limits: Limits, workers: int = 1):
    """A pebble ProcessPool whose workers run under `limits` (schedule with
    `timeout=limits.time_s`).

    Workers are spawned, not forked: a forked worker inherits its parent's address
    space (a crawl's Scrapy and Twisted, a test session's libraries), which RLIMIT_AS
    counts against the document's budget — a parse then fails for memory it never
    used — and it inherits library state (pdfium) that is not fork-safe."""
    import multiprocessing

    from pebble import ProcessPool

    return ProcessPool(max_workers=workers, max_tasks=TASKS_PER_WORKER, initializer=worker_init, initargs=(limits,),
                       context=multiprocessing.get_context("spawn"))


def not_a_regular_file(path: Path | str) -> str | None:
    """Why `path` must not be opened for reading, or None for a regular file. Checked
    with lstat-then-stat before any open(): reading a FIFO blocks for ever, a device
    never ends, a socket cannot be read."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"dangling symbolic link (to {os.readlink(path)!r})"
        return "no such file"
    except OSError as e:
        return f"cannot stat: {e.strerror or e}"
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    for test, what in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return f"not a regular file: {what}"
    return "not a regular file"


def read_regular(path: Path | str) -> bytes:
    """The bytes of a regular file. Opened non-blocking and checked on the open
    descriptor, so a path swapped for a FIFO after `not_a_regular_file` still cannot
    block the reader. Raises OSError (PermissionError, IsADirectoryError…)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"not a regular file: {os.fsdecode(path)!r}")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    finally:
        os.close(fd)


def path_text(path: Path | str | bytes) -> str:
    """A path as text that SQLite and a terminal accept: bytes that are not UTF-8 (a
    GBK file name from a Windows share) as backslash escapes, e.g. `\\xc4\\xea`; the
    bytes are recoverable with `codecs.escape_decode`."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _memory_checked(report: Report, limits: Limits) -> Report:
    if report.status == FAILED and "MemoryError" in (report.reason or ""):
        report.reason = f"{limits.memory_reason} ({report.reason})"
    return report


def retire_if_out_of_memory(out_of_memory: bool) -> None:
    """In a pool worker that ran out of memory: exit now (EXIT_OUT_OF_MEMORY), so no
    further document runs in a process whose address space is still taken."""
    if out_of_memory and _in_worker:
        os._exit(EXIT_OUT_OF_MEMORY)


def parse_data(data: bytes, name: str | None, kind: str | None, limits: Limits, **context) -> Report:
    """Runs in a worker: one document's bytes → Report (`context`: its url and
    attached page images, see document.parse_bytes)."""
    from .document import parse_bytes

    try:
        report = _memory_checked(parse_bytes(data, name, kind, **context), limits)
    except MemoryError:
        report = Report(status=FAILED, reason=limits.memory_reason, container=kind, meta={"type": kind})
    retire_if_out_of_memory(report.status == FAILED and (report.reason or "").startswith(limits.memory_reason))
    return report


def parse_path(path: str, name: str | None, kind: str | None, limits: Limits, url: str | None = None,
               attached: list[tuple[str, str | None, str | None, str | None]] | None = None,
               sheets: list[tuple[str, str, str, str]] | None = None) -> Report:
    """Runs in a worker: read a regular file (never a FIFO or device) and parse it.
    `attached`: (url, raw path or None, error or None, sha256) of the images fetched as
    attachments of the document's publication (an article of page images); `sheets`:
    (url, raw path, sha256, type) of the workbooks attached to it (its tables)."""
    why = not_a_regular_file(path)
    if why:
        return Report(status=FAILED, reason=why, container=kind, meta={"type": kind})
    try:
        data = read_regular(path)
    except MemoryError:
        retire_if_out_of_memory(True)
        return Report(status=FAILED, reason=limits.memory_reason, container=kind, meta={"type": kind})
    except OSError as e:
        return Report(status=FAILED, reason=f"cannot read the file: {e.strerror or e}", container=kind,
                      meta={"type": kind})
    from .model import Attached

    # The bytes stay on disk until read (Attached.read): one page image at a time.
    books = [Attached(s_url, sha256=sha, kind=s_kind, path=s_path) for s_url, s_path, sha, s_kind in sheets or ()]
    images = [Attached(a_url, error=error or "not fetched") if a_path is None
              else Attached(a_url, sha256=sha, path=a_path) for a_url, a_path, error, sha in attached or ()]
    return parse_data(data, name, kind, limits, url=url, attached=images, sheets=books)


def outcome(future, limits: Limits, kind: str | None = None) -> Report:
    """The Report of a scheduled parse, or a `failed` one naming the limit it hit."""
    from pebble import ProcessExpired

    meta = {"type": kind}
    try:
        return future.result()
    except FutureTimeout:
        return Report(status=FAILED, reason=limits.time_reason, container=kind, meta=meta)
    except MemoryError:
        return Report(status=FAILED, reason=limits.memory_reason, container=kind, meta=meta)
    except ProcessExpired as e:
        code = e.exitcode
        if code == EXIT_OUT_OF_MEMORY:
            return Report(status=FAILED, reason=f"{limits.memory_reason} (the parser process was replaced after it)",
                          container=kind, meta=meta)
        how = f"killed by {signal.Signals(-code).name}" if code and code < 0 else f"exit code {code}"
        if limits.memory_mb:
            # A C library that cannot allocate under RLIMIT_AS aborts instead of raising.
            how += (f"; it ran under the {limits.memory_mb} MB memory limit (--memory-mb, {ENV_MEMORY}): "
                    "a library that cannot allocate aborts, and the kernel kills a process out of memory")
        return Report(status=FAILED, reason=f"parser process died ({how})", container=kind, meta=meta)
    except Exception as e:  # the worker died otherwise: the document failed, not the batch
        return Report(status=FAILED, reason=f"parser process died: {type(e).__name__}: {e}", container=kind, meta=meta)


def parse_file(path: Path | str, limits: Limits | None = None, name: str | None = None,
               kind: str | None = None) -> Report:
    """Parse one file in a child process under `limits` (`nianbao parse`, the fuzzer).
    A FIFO, socket, device or folder is refused before anything opens it."""
    limits = limits or Limits.from_env()
    path = os.fsdecode(path)
    why = not_a_regular_file(path)
    if why:
        return Report(status=FAILED, reason=why, container=kind, meta={"type": kind})
    with pool(limits) as p:
        fut = p.schedule(parse_path, args=(str(path), name or Path(path).name, kind, limits), timeout=limits.time_s)
        return outcome(fut, limits, kind)
