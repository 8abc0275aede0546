"""What the spider hands to the item pipeline: the spider never writes anywhere itself,
so the same callbacks serve `nianbao crawl`, `scrapy parse` and (later) remote workers."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FetchedDoc:
    """Bytes fetched (or derived from a fetched page) to keep in the archive."""
    url: str
    site: str
    role: str  # list | detail | body (derived from a detail page's script) | attachment
    body: bytes
    type: str
    final_url: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str | None = None
    original_name: str | None = None
    parent_url: str | None = None
    meta: dict = field(default_factory=dict)  # title, published, publisher, index_no, report_year
    warc: dict | None = None  # {file, offset, length} of the WARC response record holding `body` (crawler/warc.py)


@dataclass
class NotModified:
    """A conditional request answered 304: nothing to store, the URL is still current."""
    url: str
    site: str
    role: str
    meta: dict = field(default_factory=dict)


@dataclass
class FetchFailed:
    """A URL that could not be fetched for good (after retries), and why."""
    url: str
    site: str | None
    role: str | None
    error: str
    counted: bool = True  # False for requests dropped because their site is already blocked
    parent_url: str | None = None  # an attachment's detail page: the publication it belongs to


@dataclass
class SiteUpdate:
    """Something learnt about a site while crawling: its column URL, its CMS family."""
    name: str
    cols: dict = field(default_factory=dict)


@dataclass
class StoredDoc(FetchedDoc):
    """A FetchedDoc whose bytes a worker of the shared frontier already put in the raw
    store (by their sha256): what travels to the archiver is this metadata, not the bytes."""
    sha256: str = ""
    size: int = 0
    parent_sha256: str | None = None  # the detail page the worker read the attachment link on
