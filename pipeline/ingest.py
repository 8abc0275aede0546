"""Batch side of the pipeline: store files, parse stored documents on all cores.

Each document is parsed in a worker process under a time limit (pebble kills and
replaces a worker that overruns), so a pathological file costs one slot for
`timeout` seconds and is recorded as failed; the batch goes on. Only the parent
process writes to SQLite (one writer).
"""
from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .model import FAILED, Report
from .sniff import sniff
from .store import Archive

DEFAULT_TIMEOUT = 120


@dataclass
class Summary:
    stored: int = 0  # new documents written to the raw store
    already: int = 0  # documents whose bytes were already archived
    statuses: Counter = field(default_factory=Counter)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (name, status, reason)
    archive: dict = field(default_factory=dict)  # Archive.finish(): primary reports, publications

    def line(self) -> str:
        s = self.statuses
        flagged = s["figures_inconsistent"] + s["extraction_incomplete"]
        return (f"parsed {s['ok'] + flagged} (ok {s['ok']}, flagged {flagged}: "
                f"{s['figures_inconsistent']} figures inconsistent, {s['extraction_incomplete']} extraction incomplete) / "
                f"not a report {s['not_a_report']} / failed {s['failed']}")


def iter_files(paths: Iterable[str | Path]) -> Iterable[Path]:
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and not any(
                part.startswith(".") for part in f.relative_to(p).parts))
        elif p.is_file():
            yield p
        else:
            raise FileNotFoundError(f"no such file or folder: {p}")


def _parse_path(path: str, name: str | None, kind: str) -> Report:
    from .document import parse_bytes
    return parse_bytes(Path(path).read_bytes(), name, kind)


def _warm() -> None:
    # Import the heavy extractors and load the gazetteer once per worker, not once per
    # document (and not inside a document's time limit).
    from . import document, gazetteer, parse  # noqa: F401
    from .extract import docx, html, pdf  # noqa: F401

    gazetteer.load()


def parse_documents(archive: Archive, digests: list[str], *, workers: int | None = None,
                    timeout: float = DEFAULT_TIMEOUT, progress: bool = True, summary: Summary | None = None) -> Summary:
    """Parse the given stored documents, write their reports (replacing older parses),
    then bring the archive's derived data up to date (`Archive.finish`)."""
    from pebble import ProcessPool

    summary = summary or Summary()
    if not digests:
        summary.archive = archive.finish()
        return summary
    workers = workers or os.cpu_count() or 1
    docs = {d["sha256"]: d for d in archive.db.query(
        "SELECT sha256, type, original_name, url FROM documents WHERE sha256 IN (SELECT value FROM json_each(?))",
        [__import__("json").dumps(digests)])}
    bar = _progress(progress)
    with bar, ProcessPool(max_workers=min(workers, len(digests)), initializer=_warm) as pool:
        task = bar.add_task("parsing", total=len(digests))
        futures = []
        for digest in digests:
            doc = docs[digest]
            name = doc["original_name"] or (doc["url"] or "").rsplit("/", 1)[-1] or None
            fut = pool.schedule(_parse_path, args=(str(archive.raw.path(digest)), name, doc["type"]), timeout=timeout)
            futures.append((digest, name or digest[:12], fut))
        for digest, name, fut in futures:
            try:
                report = fut.result()
            except FutureTimeout:
                report = Report(status=FAILED, reason=f"parsing took longer than the {timeout:g} s limit",
                                meta={"type": docs[digest]["type"]})
            except Exception as e:  # the worker died (segfault, out of memory): the document failed, not the batch
                report = Report(status=FAILED, reason=f"parser process died: {type(e).__name__}: {e}",
                                meta={"type": docs[digest]["type"]})
            report.container = report.container or docs[digest]["type"]
            archive.write_report(digest, report)
            summary.statuses[report.status] += 1
            if report.status != "ok":
                summary.problems.append((name, report.status, report.reason or ""))
            bar.advance(task)
    summary.archive = archive.finish()
    return summary


def ingest_paths(archive: Archive, paths: Iterable[str | Path], **kw) -> Summary:
    """Store every file under `paths`, then parse those without a report yet."""
    summary = Summary()
    todo: list[str] = []
    for f in iter_files(paths):
        data = f.read_bytes()
        digest, new = archive.add_document(data, type=sniff(data), original_name=f.name)
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
