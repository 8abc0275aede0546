"""Batch side of the pipeline: store files, parse stored documents on all cores.

Each document is parsed in a worker process under the same limits as every parse
(pipeline/limits.py: time and memory; pebble kills and replaces a worker that
overruns), so a pathological file costs one slot and is recorded as failed; the batch
goes on. Only the parent process writes to SQLite (one writer).

Walking the given paths never stops on one bad path either. Every path that is not
read is a `failures` row (stage "ingest") and a line of the summary, with its reason:
unreadable files and folders, FIFOs, sockets and devices (never opened), dangling
links, links to folders (not followed: loops), and hidden names (".x" inside a given
folder: version-control folders and desktop litter; a hidden path given by name is
ingested). A file name that is not UTF-8 is kept with its bytes escaped (`path_text`).
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable, Iterator

from . import limits as L
from .limits import Limits
from .sniff import sniff
from .store import Archive

DEFAULT_TIMEOUT = L.DEFAULT_TIME_S


@dataclass
class Summary:
    stored: int = 0  # new documents written to the raw store
    already: int = 0  # documents whose bytes were already archived
    statuses: Counter = field(default_factory=Counter)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (name, status, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path as text, why it was not read)
    archive: dict = field(default_factory=dict)  # Archive.finish(): primary reports, publications

    def line(self) -> str:
        s = self.statuses
        flagged = s["figures_inconsistent"] + s["extraction_incomplete"]
        return (f"parsed {s['ok'] + flagged} (ok {s['ok']}, flagged {flagged}: "
                f"{s['figures_inconsistent']} figures inconsistent, {s['extraction_incomplete']} extraction incomplete) / "
                f"not a report {s['not_a_report']} / failed {s['failed']}")


HIDDEN = "skipped: hidden name (starts with '.'); give the path itself to ingest it"
LINKED_FOLDER = "skipped: symbolic link to a folder, not followed (loops); give the path itself to ingest it"


def walk(paths: Iterable[str | Path | bytes]) -> Iterator[tuple[Path, str | None]]:
    """(path, None) for every regular file under `paths`, in sorted order, and
    (path, reason) for every path that will not be read. Never raises for a bad path."""
    for p in paths:
        yield from _walk(Path(os.fsdecode(p)), top=True)


def _walk(p: Path, top: bool) -> Iterator[tuple[Path, str | None]]:
    if not top and p.name.startswith("."):
        yield p, HIDDEN
        return
    if not top and p.is_symlink() and p.is_dir():
        yield p, LINKED_FOLDER
        return
    why = L.not_a_regular_file(p)
    if why != "not a regular file: a folder":
        yield p, why
        return
    try:
        with os.scandir(p) as it:
            names = sorted(e.name for e in it)
    except OSError as e:
        yield p, f"unreadable folder: {e.strerror or e}"
        return
    for name in names:
        yield from _walk(p / name, top=False)


def iter_files(paths: Iterable[str | Path]) -> Iterable[Path]:
    """The readable regular files under `paths` (the skipped ones are left out)."""
    return (p for p, why in walk(paths) if why is None)


def parse_documents(archive: Archive, digests: list[str], *, workers: int | None = None,
                    limits: Limits | None = None, timeout: float | None = None, progress: bool = True,
                    summary: Summary | None = None) -> Summary:
    """Parse the given stored documents under `limits`, write their reports (replacing
    older parses), then bring the archive's derived data up to date (`Archive.finish`).
    `timeout` overrides `limits.time_s` (older callers)."""
    summary = summary or Summary()
    limits = limits or Limits.from_env()
    if timeout is not None:
        limits = Limits(float(timeout), limits.memory_mb)
    if not digests:
        summary.archive = archive.finish()
        return summary
    workers = workers or os.cpu_count() or 1
    docs = {d["sha256"]: d for d in archive.db.query(
        "SELECT sha256, type, original_name, url FROM documents WHERE sha256 IN (SELECT value FROM json_each(?))",
        [json.dumps(digests)])}
    bar = _progress(progress)
    with bar, L.pool(limits, min(workers, len(digests))) as pool:
        task = bar.add_task("parsing", total=len(digests))
        futures = []
        for digest in digests:
            doc = docs[digest]
            name = doc["original_name"] or (doc["url"] or "").rsplit("/", 1)[-1] or None
            fut = pool.schedule(L.parse_path, args=(str(archive.raw.path(digest)), name, doc["type"], limits),
                                timeout=limits.time_s)
            futures.append((digest, name or digest[:12], fut))
        for digest, name, fut in futures:
            report = L.outcome(fut, limits, docs[digest]["type"])
            report.container = report.container or docs[digest]["type"]
            archive.write_report(digest, report)
            summary.statuses[report.status] += 1
            if report.status != "ok":
                summary.problems.append((name, report.status, report.reason or ""))
            bar.advance(task)
    summary.archive = archive.finish()
    return summary


def ingest_paths(archive: Archive, paths: Iterable[str | Path], **kw) -> Summary:
    """Store every file under `paths`, then parse those without a report yet. A path
    that cannot be read is recorded (failures, stage "ingest") and the batch goes on."""
    summary = Summary()
    todo: list[str] = []
    for f, why in walk(paths):
        if why is None:
            try:
                data = L.read_regular(f)
            except OSError as e:
                why = f"unreadable file: {e.strerror or e}"
        text = L.path_text(f)
        if why is not None:
            summary.skipped.append((text, why))
            archive.record_failure(None, text, "ingest", why)
            continue
        digest, new = archive.add_document(data, type=sniff(data), original_name=L.path_text(f.name))
        summary.stored += new
        summary.already += not new
        if not archive.has_report(digest) and digest not in todo:
            todo.append(digest)
    return parse_documents(archive, todo, summary=summary, **kw)


def parse_pending(archive: Archive, **kw) -> Summary:
    """Parse every stored document that has no report yet (after a crawl)."""
    todo = [r[0] for r in archive.conn.execute(
        "SELECT sha256 FROM documents WHERE sha256 NOT IN (SELECT id FROM reports) ORDER BY stored_at")]
    return parse_documents(archive, todo, **kw)


def reparse(archive: Archive, **kw) -> Summary:
    """Parse every stored document again from the raw store (after a parser change)."""
    todo = [r[0] for r in archive.conn.execute("SELECT sha256 FROM documents ORDER BY stored_at")]
    missing = [d for d in todo if d not in archive.raw]
    for d in missing:
        archive.record_failure(d, None, "reparse", "raw bytes missing from the raw store")
    return parse_documents(archive, [d for d in todo if d not in missing], **kw)


def _progress(enabled: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    disable=not enabled, transient=False)
