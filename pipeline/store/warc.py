"""WARC 1.1 files beside the archive: every HTTP exchange of a crawl, request and response.

The raw store keeps each file's bytes once, by sha256; the WARC files keep how they were
fetched (the request sent, the status line and headers received, when, from which IP),
in the format web archives replay (pywb, ReplayWeb.page) and preserve. warcio writes
the records; cdxj-indexer indexes each file when it is closed (`<file>.cdxj` beside it).

Layout: `warc/` beside archive.db (`other.db` → `other.warc/`), or any folder given.
Files are `nianbao-<UTC time>-<serial>-<host>-<pid>.warc.gz`, so several crawling
processes (or machines sharing the folder) never write the same file. Each file starts
with a warcinfo record that every other record names (WARC-Warcinfo-ID); a file is
closed and a new one opened once it passes `max_size` bytes.

Every record is written whole or not at all: a record pair is built in memory, appended
with a loop that survives short writes, and on any OSError (a full disk, a quota) the
file is cut back to where the pair began and the error raised. So a file is always a
sequence of complete gzip members, readable to its end, and no row of the archive points
at a record that is not there (the row is written only after the record).
"""
from __future__ import annotations

import contextlib
import heapq
import io
import os
import shutil
import socket
import tempfile
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

DEFAULT_MAX_SIZE = 1_000_000_000  # the customary 1 GB per WARC file
SUFFIX = ".warc.gz"


def warc_root_for(db_path: Path | str) -> Path:
    """WARC files live beside the database: archive.db -> warc/ (other.db -> other.warc/)."""
    p = Path(db_path)
    return p.parent / ("warc" if p.stem == "archive" else p.stem + ".warc")


@dataclass(frozen=True)
class WarcRef:
    """Where a response record is: its file (name within the WARC folder), the byte
    offset of its gzip member, and the member's length."""
    file: str
    offset: int
    length: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Exchange:
    """One HTTP request and its response, as the crawler saw them."""
    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    reason: str
    protocol: str  # HTTP/1.1
    response_headers: list[tuple[str, str]]
    body: bytes  # the payload: de-chunked, still content-encoded when the server compressed it
    ip_address: str | None = None
    date: datetime | None = None


class WarcWriter:
    """Appends request/response pairs to size-rotated WARC 1.1 files in `root`."""

    def __init__(self, root: Path | str, *, max_size: int = DEFAULT_MAX_SIZE, prefix: str = "nianbao",
                 info: dict | None = None):
        self.root = Path(root)
        self.max_size = max_size
        self.prefix = prefix
        self.info = {"software": "nianbao (warcio 1.8)", "format": "WARC File Format 1.1",
                     "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                     "hostname": socket.gethostname(), **(info or {})}
        self.files: list[Path] = []  # every file this writer opened, in order
        self.counts: dict[str, int] = {}  # records per file name
        self.records = 0
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0
        self._serial = 0
        self._warcinfo_id: str | None = None
        self._w = WARCWriter(None, gzip=True, warc_version="1.1")

    # ------------------------------------------------------------ files
    def _open(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._serial += 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")
        name = f"{self.prefix}-{stamp}-{self._serial:05d}-{socket.gethostname()}-{os.getpid()}{SUFFIX}"
        path = self.root / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        info = self._w.create_warcinfo_record(name, self.info)
        try:
            _append(fd, 0, self._serialise(info))
        except OSError:
            os.close(fd)
            path.unlink(missing_ok=True)  # not even its warcinfo fitted: leave no empty file
            raise
        self._fd, self._path, self._size = fd, path, os.fstat(fd).st_size
        self._warcinfo_id = info.rec_headers.get_header("WARC-Record-ID")
        self.files.append(path)
        self.counts[name] = 1
        self.records += 1

    def close(self) -> list[Path]:
        """Close the current file and index it; returns every file this writer wrote."""
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            index_file(self._path)
        return list(self.files)

    # ------------------------------------------------------------ records
    def _serialise(self, *records) -> bytes:
        buf = io.BytesIO()
        self._w.out = buf
        for r in records:
            self._w.write_record(r)
        return buf.getvalue()

    def write(self, ex: Exchange) -> WarcRef:
        """Append the response and request records of one exchange (in that order, the
        request naming the response in WARC-Concurrent-To); returns the response's place."""
        if self._fd is None:
            self._open()
        date = datetime_to_iso_date((ex.date or datetime.now(timezone.utc)).astimezone(timezone.utc)
                                    .replace(tzinfo=None), use_micros=True)
        common = {"WARC-Date": date, "WARC-Warcinfo-ID": self._warcinfo_id}
        resp_headers = dict(common)
        if ex.ip_address:
            resp_headers["WARC-IP-Address"] = ex.ip_address
        resp = self._w.create_warc_record(
            ex.url, "response", payload=io.BytesIO(ex.body), length=len(ex.body),
            http_headers=StatusAndHeaders(f"{ex.status} {ex.reason}".strip(), ex.response_headers,
                                          protocol=ex.protocol or "HTTP/1.1"),
            warc_headers_dict=resp_headers)
        target = _request_target(ex.url)
        req = self._w.create_warc_record(
            ex.url, "request", payload=io.BytesIO(ex.request_body), length=len(ex.request_body),
            http_headers=StatusAndHeaders(f"{ex.method} {target} HTTP/1.1", ex.request_headers, is_http_request=True),
            warc_headers_dict={**common, "WARC-Concurrent-To": resp.rec_headers.get_header("WARC-Record-ID")})
        first = self._serialise(resp)
        second = self._serialise(req)
        start = self._size
        self._size = _append(self._fd, start, first + second)
        ref = WarcRef(self._path.name, start, len(first))
        self.records += 2
        self.counts[self._path.name] += 2
        if self._size >= self.max_size:
            self.close()
        return ref


def _request_target(url: str) -> str:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    return (u.path or "/") + (f"?{u.query}" if u.query else "")


def _append(fd: int, start: int, data: bytes) -> int:
    """Write all of `data` at the end of the file (which is `start` bytes long); on any
    error cut the file back to `start`, so no partial record is ever left. Returns the
    new size."""
    view = memoryview(data)
    try:
        while view:
            n = os.write(fd, view)
            view = view[n:]
    except OSError:
        try:
            os.ftruncate(fd, start)  # gives the space back, too
        finally:
            raise
    return start + len(data)


# ------------------------------------------------------------------ reading
def read_record(root: Path | str, ref: WarcRef | dict):
    """The record at `ref` (a warcio ArcWarcRecord whose streams are loaded in memory)."""
    if isinstance(ref, dict):
        ref = WarcRef(ref["file"], ref["offset"], ref["length"])
    with open(Path(root) / ref.file, "rb") as f:
        f.seek(ref.offset)
        chunk = f.read(ref.length)
    for record in ArchiveIterator(io.BytesIO(chunk)):
        return record
    raise ValueError(f"no WARC record at {ref}")


def read_payload(root: Path | str, ref: WarcRef | dict) -> bytes:
    """The response body at `ref`, with its Content-Encoding undone: the bytes the
    crawler handed to the raw store."""
    return read_record(root, ref).content_stream().read()


# ------------------------------------------------------------------ indexing
def index_path(warc: Path) -> Path:
    return warc.with_name(warc.name + ".cdxj")


def index_file(warc: Path | str) -> Path:
    """Write `<file>.cdxj` (sorted CDXJ, SURT-keyed, as pywb and WACZ read it) beside a
    closed WARC file; written under a temporary name and renamed, so it is whole or absent."""
    CDXJIndexer = _cdxj_indexer()
    warc = Path(warc)
    out = index_path(warc)
    tmp = out.with_name(out.name + ".part")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            CDXJIndexer(output=fh, inputs=[str(warc)], sort=True).process_all()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def _cdxj_indexer():
    # cdxj-indexer imports pyamf (for Flash AMF requests), which still imports
    # pkg_resources and warns about it on every crawl; nothing of ours to act on.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        from cdxj_indexer.main import CDXJIndexer
    return CDXJIndexer


def merge_indexes(warcs: list[Path], out: Path, *, fan_in: int = 200) -> int:
    """One sorted CDXJ for several WARC files (their per-file indexes, made when missing);
    returns the number of lines. Streams a merge of the sorted per-file indexes (a
    national archive's index does not fit in memory), at most `fan_in` files open at once."""
    fan_in = max(fan_in, 2)
    indexes = []
    for w in warcs:
        idx = index_path(w)
        if not idx.exists():
            index_file(w)
        indexes.append(idx)
    tmp_dir = Path(tempfile.mkdtemp(prefix="cdxj-", dir=out.parent))
    try:
        level = 0
        while len(indexes) > fan_in:  # merge in groups first: the open-files limit
            level += 1
            groups = [indexes[i:i + fan_in] for i in range(0, len(indexes), fan_in)]
            indexes = [tmp_dir / f"{level}-{n}.cdxj" for n in range(len(groups))]
            for group, dest in zip(groups, indexes):
                _merge(group, dest)
        part = out.with_name(out.name + ".part")
        n = _merge(indexes, part)
        os.replace(part, out)
        return n
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _merge(sources: list[Path], dest: Path) -> int:
    n = 0
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(open(p, encoding="utf-8")) for p in sources]
        with open(dest, "w", encoding="utf-8") as fh:
            for line in heapq.merge(*files):
                if line.strip():
                    fh.write(line if line.endswith("\n") else line + "\n")
                    n += 1
    return n
