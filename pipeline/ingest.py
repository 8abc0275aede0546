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
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from . import limits as L
from .limits import Limits
from .model import NOT_A_REPORT, Report
from .sniff import sniff
from .store import Archive


@dataclass
class Summary:
    stored: int = 0  # new documents written to the raw store
    already: int = 0  # documents whose bytes were already archived
    statuses: Counter = field(default_factory=Counter)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (name, status, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path as text, why it was not read)
    archive: dict = field(default_factory=dict)  # Archive.finish(): primary reports, publications
    resumed: int = 0  # documents an interrupted reparse had already done

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


# Reports written per transaction (one commit each would cost more than the parse), or
# after BATCH_S seconds, so a slow batch is checkpointed too. NIANBAO_PARSE_BATCH sets
# the size: smaller loses less work to a crash, larger commits less often.
BATCH = 64
BATCH_S = 2.0


def parse_documents(archive: Archive, digests: list[str], *, workers: int | None = None,
                    limits: Limits | None = None, timeout: float | None = None, progress: bool = True,
                    summary: Summary | None = None, done: int = 0,
                    on_written: Callable[[list[str]], None] | None = None) -> Summary:
    """Parse the given stored documents under `limits`, write their reports (replacing
    older parses), then bring the archive's derived data up to date (`Archive.finish`).
    `timeout` overrides `limits.time_s` (older callers).

    At most a few documents per worker are in flight and reports are written in small
    batches, so memory stays flat over 100,000 documents and an interrupted batch keeps
    what was parsed: `on_written(digests)` is called after each batch is committed (the
    reparse checkpoint), `done` is how many of the whole job an earlier run finished (the
    progress bar starts there). Ctrl-C stops the workers, writes and finishes what was
    parsed, and re-raises KeyboardInterrupt."""
    summary = summary or Summary()
    limits = limits or Limits.from_env()
    if timeout is not None:
        limits = Limits(float(timeout), limits.memory_mb)
    if not digests:
        summary.archive = _finish(archive, progress)
        return summary
    workers = min(workers or os.cpu_count() or 1, len(digests))
    bar = _progress(progress)
    written: list[tuple[str, object]] = []
    last = [time.monotonic()]
    batch = int(os.environ.get("NIANBAO_PARSE_BATCH") or BATCH)

    def flush() -> None:
        archive.write_reports(written)
        if on_written:
            on_written([d for d, _ in written])
        written.clear()
        last[0] = time.monotonic()

    try:
        pool = L.pool(limits, workers)
        with bar, pool:
            task = bar.add_task("parsing", total=done + len(digests), completed=done)
            in_flight: deque = deque()
            todo = iter(digests)
            for chunk in iter(lambda: list(islice(todo, 4 * workers)), []):
                docs = {d["sha256"]: d for d in archive.db.query(
                    "SELECT d.sha256, d.type, d.original_name, d.url, d.role, p.url AS parent_url FROM documents d "
                    "LEFT JOIN documents p ON p.sha256 = d.parent_sha256 "
                    "WHERE d.sha256 IN (SELECT value FROM json_each(?))", [json.dumps(chunk)])}
                attached = archive.attached(sorted({_publication(d) for d in docs.values()
                                                    if d["type"] in MAIN_TYPES and _publication(d)}))
                for digest in chunk:
                    doc = docs[digest]
                    name = doc["original_name"] or (doc["url"] or "").rsplit("/", 1)[-1] or None
                    if doc["type"] == "image" and doc["role"] == "attachment" and doc["parent_url"]:
                        in_flight.append((digest, name or digest[:12], "image", _page_of(doc)))
                        continue
                    images, sheets = _attached(archive, attached.get(_publication(doc), []), doc)
                    fut = pool.schedule(L.parse_path, args=(str(archive.raw.path(digest)), name, doc["type"], limits,
                                                            doc["url"], images or None, sheets or None),
                                        timeout=limits.time_s)
                    in_flight.append((digest, name or digest[:12], doc["type"], fut))
                while len(in_flight) > 4 * workers:
                    _collect(in_flight.popleft(), limits, summary, written)
                    bar.advance(task)
                    if len(written) >= batch or time.monotonic() - last[0] > BATCH_S:
                        flush()
            while in_flight:
                _collect(in_flight.popleft(), limits, summary, written)
                bar.advance(task)
    except KeyboardInterrupt:
        pool.stop()  # not close(): that would wait for every scheduled parse
        raise
    finally:
        # Also on Ctrl-C: what was parsed is written and the derived data follows it.
        if written:
            flush()
        summary.archive = _finish(archive, progress)
    return summary


def _finish(archive: Archive, progress: bool) -> dict:
    """Archive.finish() with its own bar: over 100,000 reparsed reports the derived data
    takes minutes, and a silent pause after the parse bar reads like a hang."""
    with _progress(progress, transient=True) as bar:
        task = bar.add_task("deriving figures, search, checks", total=None)
        return archive.finish(lambda done, total: bar.update(task, completed=done, total=total))


# Documents that may be a publication's main document: the text of its report, with
# figures perhaps in its page images (HTML) or in a workbook attached beside it.
MAIN_TYPES = ("html", "pdf", "docx", "doc", "ofd", "rtf", "txt")


def _attached(archive: Archive, rows: list, doc: dict) -> tuple[list, list]:
    """What of its publication's attachments a main document is parsed with: page images
    (HTML pages only; a failed fetch is passed on as its error) and workbooks."""
    if doc["type"] not in MAIN_TYPES:
        return [], []
    images, sheets = [], []
    for url, sha, err, kind in rows:
        here = bool(sha) and sha in archive.raw
        if kind in ("xlsx", "xls"):
            if here and sha != doc["sha256"]:
                sheets.append((url, str(archive.raw.path(sha)), sha, kind))
        elif doc["type"] == "html":
            images.append((url, str(archive.raw.path(sha)) if here else None,
                           None if here else (err or "raw bytes missing"), sha))
    return images, sheets


def _publication(doc: dict) -> str | None:
    """The detail page a document belongs to (derived.publication_of, for fetched pages)."""
    url = doc["parent_url"] if doc["role"] in ("body", "attachment") and doc["parent_url"] else doc["url"]
    return url[:-5] if url and url.endswith("#body") else url


def _page_of(doc: dict) -> Report:
    """An image the crawler fetched from an article's body: one page of that article's
    report, read there in page order (document.parse_bytes), not a report on its own —
    and not OCR'd twice."""
    why = (f"an image from the body of the article {doc['parent_url']}: read there, in page order, as a page of "
           "that publication's report when it has the size and shape of a page (decorations are left out)")
    return Report(status=NOT_A_REPORT, reason=why, container="image", meta={"type": "image",
                                                                          "page_of": doc["parent_url"]})


def _collect(item, limits: Limits, summary: Summary, written: list) -> None:
    digest, name, kind, fut = item
    report = fut if isinstance(fut, Report) else L.outcome(fut, limits, kind)
    report.container = report.container or kind
    written.append((digest, report))
    summary.statuses[report.status] += 1
    if report.status != "ok" and not report.meta.get("page_of"):  # an article's page images are read with it
        summary.problems.append((name, report.status, report.reason or ""))


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
    """Parse every stored document that has no report yet (after a crawl), and again the
    main documents of publications that gained a page image or workbook since."""
    todo = [r[0] for r in archive.conn.execute(
        "SELECT sha256 FROM documents WHERE sha256 NOT IN (SELECT id FROM reports) ORDER BY stored_at")]
    seen = set(todo)
    todo += [d for d in archive.outdated_by_attachments() if d not in seen]
    return parse_documents(archive, todo, **kw)


def reparse(archive: Archive, *, restart: bool = False, **kw) -> Summary:
    """Parse every stored document again from the raw store (after a parser change).

    Resumable: the documents still to parse are the archive's `reparse_todo` (filled when
    a reparse starts, ticked off batch by batch), so after Ctrl-C, kill -9 or a power cut
    the next `reparse` goes on where it stopped; `restart` starts over. A document parsed
    twice (written, not yet ticked) is only replaced by the same parse."""
    todo, total = archive.reparse_todo(restart)
    missing = [d for d in todo if d not in archive.raw]
    for d in missing:
        archive.record_failure(d, None, "reparse", "raw bytes missing from the raw store")
    archive.reparse_done(missing)
    summary = parse_documents(archive, [d for d in todo if d not in missing], done=total - len(todo),
                              on_written=archive.reparse_done, **kw)
    summary.resumed = total - len(todo)
    return summary


def _progress(enabled: bool, transient: bool = False):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    disable=not enabled, transient=transient)
