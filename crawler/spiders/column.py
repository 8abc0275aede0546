"""One generic spider for every 信息公开年报 column. Each site is a dict from
crawler/sites/*.yaml: name, start_url (or home_url with discover: true), family (a
module of crawler.families, or auto), optional title_pattern, agency, region.

list page → family.parse_list → report links (by title) + further list pages
detail page → family.parse_detail → metadata, derived body, attachments
Known URLs are fetched conditionally (If-None-Match / If-Modified-Since); a 304 reuses
the stored bytes to find the attachments, so an unchanged portal costs one request
per URL and no download."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import FormRequest, Request

from pipeline.sniff import sniff
from pipeline.store import Archive

from .. import discovery, families, overrides
from ..families.base import decode, is_report_title, sane_name
from ..items import FetchedDoc, NotModified
from ..state import CrawlState

log = logging.getLogger(__name__)
DOC_KINDS = {"pdf", "doc", "docx", "ofd", "rtf", "xlsx", "zip", "wps"}
KEEP_STATUS = [304, 404, 410, 403, 500]  # callbacks see these (fallbacks, errors) instead of HttpError


def _h(response, name: str) -> str | None:
    v = response.headers.get(name)
    return v.decode("latin-1") if v else None


class ColumnSpider(scrapy.Spider):
    name = "column"

    # not `state`: with JOBDIR, Scrapy's SpiderState extension owns spider.state (a dict)
    def __init__(self, sites: list[dict], archive: str, jobdir: str | None = None, store_lists: bool = True, **kw):
        super().__init__(**kw)
        self.sites = {s["name"]: s for s in sites}
        self.hosts = {urlsplit(s.get("start_url") or s.get("home_url")).hostname: s["name"] for s in sites}
        self.crawl_state = CrawlState(Archive(archive))
        self.run_id = self.crawl_state.start_run(list(self.sites), jobdir)
        self.blocked: dict[str, str] = {}
        self.store_lists = store_lists
        self.found: dict[str, int] = {name: 0 for name in self.sites}
        for s in sites:
            self.crawl_state.set_site(s["name"], start_url=s.get("start_url") or s.get("home_url"),
                                family=s.get("family", "auto"), agency=s.get("agency"), last_run=self.run_id)

    # ------------------------------------------------------------ helpers
    def site_for_url(self, url: str) -> str | None:
        return self.hosts.get(urlsplit(url).hostname)

    def mark_blocked(self, site: str | None, reason: str, url: str) -> None:
        if not site or site in self.blocked:
            return
        self.blocked[site] = reason
        log.warning("site %s blocked at %s: %s", site, url, reason)
        self.crawl_state.set_site(site, status="blocked", reason=reason)
        self.crawl_state.count(self.run_id, "blocked")

    def family_of(self, site: dict, url: str, text: str):
        fam = site.get("family") or "auto"
        if fam == "auto":
            mod = families.detect(url, text)
            site["family"] = mod.NAME
            self.crawl_state.set_site(site["name"], family=mod.NAME)
            return mod
        return families.get(fam)

    def _req(self, url: str, callback, site: str, role: str, *, method: str = "GET", formdata=None,
             conditional: bool = False, **meta) -> Request:
        headers = {}
        if conditional:
            prev = self.crawl_state.fetch(url)
            if prev and prev["sha256"]:
                if prev["etag"]:
                    headers["If-None-Match"] = prev["etag"]
                if prev["last_modified"]:
                    headers["If-Modified-Since"] = prev["last_modified"]
        meta = {"site": site, "role": role, "handle_httpstatus_list": KEEP_STATUS, **meta}
        if method == "POST":
            return FormRequest(url, formdata=formdata or {}, callback=callback, errback=self.on_error, meta=meta,
                               headers=headers)
        return Request(url, callback=callback, errback=self.on_error, meta=meta, headers=headers)

    def _doc(self, response, role: str, **kw) -> FetchedDoc:
        url = (response.meta.get("redirect_urls") or [response.url])[0]
        return FetchedDoc(url=url, site=response.meta["site"], role=role, body=response.body,
                          type=sniff(response.body), final_url=response.url, http_status=response.status,
                          content_type=_h(response, "Content-Type"), etag=_h(response, "ETag"),
                          last_modified=_h(response, "Last-Modified"),
                          fetched_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(), **kw)

    # ------------------------------------------------------------ crawl
    async def start(self):
        for name, site in self.sites.items():
            if site.get("discover") or not site.get("start_url"):
                yield self._req(site["home_url"], self.parse_home, name, "home", dont_filter=True)
            else:
                r = self._req(site["start_url"], self.parse_list, name, "list")
                yield r.replace(dont_filter=True)

    def parse_home(self, response):
        """Discovery: home → 政府信息公开 page → 年报 column (two hops at most)."""
        site = self.sites[response.meta["site"]]
        self.crawl_state.count(self.run_id, "pages")
        if response.status != 200:
            self._fail(response, f"HTTP {response.status}")
            return
        text = decode(response.body, _h(response, "Content-Type"))
        column = discovery.find_column(response.url, text)
        if column:
            site["start_url"] = column
            self.crawl_state.set_site(site["name"], start_url=column)
            yield self._req(column, self.parse_list, site["name"], "list")
            return
        if self._is_column(response.url, text):
            # The URL given was the column itself.
            site["start_url"] = response.url
            self.crawl_state.set_site(site["name"], start_url=response.url)
            self.crawl_state.count(self.run_id, "pages", -1)
            yield from self.parse_list(response)
            return
        hops = response.meta.get("hops", 0)
        if hops < 2:
            for url in discovery.find_xxgk(response.url, text)[:3]:
                yield self._req(url, self.parse_home, site["name"], "home", hops=hops + 1)

    @staticmethod
    def _is_column(url: str, text: str) -> bool:
        fam = families.detect(url, text)
        if fam is not families.static:  # a CMS list page: its records may hide in scripts
            try:
                lp = fam.parse_list(url, text)
            except Exception:
                return False
            if lp.pages and fam.NAME == "gkmlpt":
                return True
            return any(is_report_title(link.title) for link in lp.links)
        return any(is_report_title(link.title) for link in families.base.links_in(url, text))

    def parse_list(self, response):
        site = self.sites[response.meta["site"]]
        self.crawl_state.count(self.run_id, "pages")
        if response.status != 200:
            # Probed pages (TRS new _1/_2 numbering) may not exist: only the column itself failing matters.
            if response.url == site.get("start_url"):
                self._fail(response, f"column answered HTTP {response.status}")
            return
        text = decode(response.body, _h(response, "Content-Type"))
        fam = self.family_of(site, response.url, text)
        if self.store_lists:
            yield self._doc(response, "list")
        if fam.NAME == "gkmlpt" and site.get("category"):
            page = fam.parse_list(response.url, text, category=site["category"])
        else:
            page = fam.parse_list(response.url, text)
        if site.get("list_css"):
            # Site override: only links inside these elements are column entries.
            page.links = overrides.links_within(response.url, text, site["list_css"])
        for link in page.links:
            if urlsplit(link.url).scheme not in ("http", "https"):
                continue
            if is_report_title(link.title, site.get("title_pattern")):
                yield self._req(link.url, self.parse_detail, site["name"], "detail", conditional=True,
                                list_title=link.title, list_date=link.date)
        # A column is tens of pages at most; a pager claiming thousands is a site-wide list.
        for p in page.pages[: int(site.get("max_pages", 300))]:
            yield self._req(p.url, self.parse_list, site["name"], "list", method=p.method, formdata=p.formdata,
                            fallback=[(f.url, f.method, f.formdata) for f in p.fallback or []])
        if not page.links and not page.pages:
            for url, method, formdata in response.meta.get("fallback") or []:
                yield self._req(url, self.parse_list, site["name"], "list", method=method, formdata=formdata)

    def parse_detail(self, response):
        site = self.sites[response.meta["site"]]
        self.crawl_state.count(self.run_id, "pages")
        url = (response.meta.get("redirect_urls") or [response.url])[0]
        prev = self.crawl_state.fetch(url) if response.status == 304 else None
        if prev and prev["sha256"] and prev["sha256"] in self.crawl_state.archive.raw:
            body = self.crawl_state.archive.raw.get(prev["sha256"])
            ctype = prev["content_type"]
        elif response.status == 200:
            body, ctype = response.body, _h(response, "Content-Type")
        else:
            self._fail(response, f"HTTP {response.status}")
            return
        text = decode(body, ctype)
        fam = self.family_of(site, url, text)
        d = fam.parse_detail(url, text)
        if site.get("body_css"):
            d.attachments = overrides.attachments_within(url, text, site["body_css"])
        meta = {"title": d.title or response.meta.get("list_title"), "published": d.published or response.meta.get("list_date"),
                "publisher": d.publisher, "index_no": d.index_no,
                "report_year": d.report_year or None}
        self.found[site["name"]] += 1
        if prev:
            yield NotModified(url, site["name"], "detail", meta)
        else:
            yield self._doc(response, "detail", meta=meta, original_name=sane_name(urlsplit(url).path.rsplit("/", 1)[-1]))
        if d.body_is_derived and d.body_html:
            page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{meta["title"] or ""}</title></head>'
                    f'<body><div class="article-content">{d.body_html}</div></body></html>').encode("utf-8")
            yield FetchedDoc(url=url + "#body", site=site["name"], role="body", body=page, type="html",
                             final_url=response.url, http_status=response.status, content_type="text/html; charset=utf-8",
                             fetched_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
                             original_name=sane_name(urlsplit(url).path.rsplit("/", 1)[-1].rsplit(".", 1)[0] + ".body.html"),
                             parent_url=url, meta=meta)
        for att in d.attachments:
            yield self._req(att.url, self.parse_attachment, site["name"], "attachment", conditional=True,
                            parent_url=url, fallback=att.fallback, att_name=att.name)

    def parse_attachment(self, response):
        site = response.meta["site"]
        self.crawl_state.count(self.run_id, "pages")
        url = (response.meta.get("redirect_urls") or [response.url])[0]
        if response.status == 304:
            yield NotModified(url, site, "attachment")
            return
        kind = sniff(response.body) if response.status == 200 else None
        if kind not in DOC_KINDS:
            why = f"HTTP {response.status}" if response.status != 200 else f"not a document (looks like {kind})"
            fallback = response.meta.get("fallback")
            if fallback and fallback != url:
                yield self._req(fallback, self.parse_attachment, site, "attachment", conditional=True,
                                parent_url=response.meta["parent_url"], att_name=response.meta.get("att_name"),
                                primary_url=url, first_error=why)
                return
            if response.meta.get("primary_url"):  # say what went wrong with both addresses, on the one linked
                why = f"{why} at {url}, after {response.meta['first_error']}"
                url = response.meta["primary_url"]
            self.crawl_state.record_error(url, site, "attachment", self.run_id, why)
            self.crawl_state.count(self.run_id, "failed")
            return
        name = _disposition_name(_h(response, "Content-Disposition")) or response.meta.get("att_name") \
            or unquote(urlsplit(response.url).path.rsplit("/", 1)[-1])
        if "." not in name[-6:]:
            name = f"{name}.{kind}"
        yield self._doc(response, "attachment", parent_url=response.meta["parent_url"], original_name=sane_name(name))

    # ------------------------------------------------------------ failures
    def _fail(self, response, why: str):
        url = (response.meta.get("redirect_urls") or [response.url])[0]
        self.crawl_state.record_error(url, response.meta.get("site"), response.meta.get("role"), self.run_id, why)
        self.crawl_state.count(self.run_id, "failed")
        return None

    def on_error(self, failure):
        request = failure.request
        site = request.meta.get("site")
        exc = failure.value
        msg = str(exc) or type(exc).__name__
        if isinstance(exc, IgnoreRequest):
            if "robots.txt" in msg.lower() or "Forbidden by robots" in msg:
                msg = "forbidden by robots.txt"
                if site and request.meta.get("role") in ("list", "home"):
                    self.crawl_state.set_site(site, status="robots", reason=f"robots.txt forbids {request.url}")
            elif site in self.blocked:
                msg = f"blocked: {self.blocked[site]}"
        self.crawl_state.record_error(request.url, site, request.meta.get("role"), self.run_id, msg)
        if not (isinstance(exc, IgnoreRequest) and site in self.blocked and request.meta.get("role") != "list"):
            self.crawl_state.count(self.run_id, "failed")

    def closed(self, reason: str):
        status = "finished" if reason == "finished" else "shutdown"
        for name in self.sites:
            cur = self.crawl_state.site(name) or {}
            if name in self.blocked:
                continue
            if cur.get("status") == "robots" and cur.get("last_run") == self.run_id and not self.found[name]:
                continue
            self.crawl_state.set_site(name, status="ok" if self.found[name] else "empty", reason=None, reports=self.found[name])
        self.crawl_state.finish_run(self.run_id, status, None if reason == "finished" else reason)
        self.crawl_state.archive.close()


def _disposition_name(value: str | None) -> str | None:
    if not value:
        return None
    import re
    m = re.search(r"filename\*\s*=\s*[\w-]+''([^;]+)", value) or re.search(r'filename\s*=\s*"?([^";]+)"?', value)
    return unquote(m.group(1)).strip() if m else None
