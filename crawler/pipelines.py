"""Everything fetched goes to the raw store and the documents table, and each URL's
current version, validators and metadata to `fetches` (crawler/state.py)."""
from __future__ import annotations

from .items import FetchedDoc, NotModified


class ArchivePipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        spider = self.crawler.spider
        state, run = spider.crawl_state, spider.run_id
        if isinstance(item, NotModified):
            state.record_fetch(item.url, run_id=run, sha256=None, changed=False, http_status=304, error=None,
                               **_meta(item.meta))
            state.count(run, "unchanged")
            return item
        if not isinstance(item, FetchedDoc):
            return item
        prev = state.fetch(item.url)
        parent_sha = None
        if item.parent_url:
            parent = state.fetch(item.parent_url)
            parent_sha = parent["sha256"] if parent else None
        digest, _ = state.archive.add_document(
            item.body, type=item.type, original_name=item.original_name, url=item.url, final_url=item.final_url,
            http_status=item.http_status, content_type=item.content_type, etag=item.etag,
            last_modified=item.last_modified, fetched_at=item.fetched_at, site=item.site,
            parent_sha256=parent_sha, role=item.role)
        changed = prev is None or prev["sha256"] != digest
        state.record_fetch(item.url, run_id=run, sha256=digest, changed=changed, site=item.site, role=item.role,
                           final_url=item.final_url, http_status=item.http_status, content_type=item.content_type,
                           etag=item.etag, last_modified=item.last_modified, parent_url=item.parent_url, error=None,
                           **_meta(item.meta))
        if item.role != "list":
            state.count(run, "new" if prev is None or not prev["sha256"] else "changed" if changed else "unchanged")
        return item


def _meta(meta: dict) -> dict:
    keys = ("title", "published", "publisher", "index_no", "report_year")
    return {k: meta.get(k) for k in keys if meta.get(k) is not None}
