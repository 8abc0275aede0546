"""One generic spider for every 信息公开年报 column. Each site is a dict from a site
YAML (crawler/config.py): name, start_url (or home_url with discover: true), family (a
module of crawler.families, or auto), optional title_pattern, list_css, body_css.

list page → family.parse_list → report links (by title) + further list pages
detail page → family.parse_detail → metadata, derived body, attachments

The spider only reads pages and yields items (items.py); the item pipeline writes the
archive. Known URLs are fetched conditionally (middlewares.ConditionalMiddleware): a
304 arrives with the stored bytes, so an unchanged portal costs one request per URL
and no download, and its attachments are still found.

    scrapy crawl column -s NIANBAO_ARCHIVE=archive.db [-a sites=DIR] [-a site=NAME]
    scrapy parse --spider column -c parse_list URL
"""
from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import FormRequest, Request
from scrapy.spidermiddlewares.httperror import HttpError

from nianbao.pipeline.sniff import sniff
from nianbao.pipeline.titles import is_report_title

from .. import config, discovery, families, overrides
from ..errors import describe
from ..families.base import decode, sane_name
from ..items import FetchedDoc, FetchFailed, NotModified, SiteUpdate
from ..soft404 import soft_404

log = logging.getLogger(__name__)
DOC_KINDS = {"pdf", "doc", "docx", "ofd", "rtf", "xlsx", "xls", "zip", "wps"}  # xls: also Kingsoft ET workbooks
KEEP_STATUS = [304, 404, 410, 403, 500]  # callbacks see these (fallbacks, errors) instead of HttpError


def _h(response, name: str) -> str | None:
    v = response.headers.get(name)
    return v.decode("latin-1") if v else None


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class SiteOutcome:
    """How a site's crawl went, for its `sites` row at the end of the run.

    A site is `ok` only when nothing it lists was lost: every list page, report page and
    attachment requested was fetched (or answered 304). Anything else is a gap, kept
    here with its reason; a site with gaps is `partial`, or `failed` when no report
    page could be read at all."""
    found: int = 0  # detail pages read
    detail_failed: int = 0
    status: str | None = None  # blocked | robots | failed, once known
    reason: str | None = None
    gaps: list[str] = field(default_factory=list)  # what is missing, and why
    list_pages: set = field(default_factory=set)  # list pages requested in this run (capped by max_pages)
    capped: bool = False
    pending: dict[int, tuple[str, str]] = field(default_factory=dict)  # ticket → (role, url) not yet answered
    # Completeness against the column's own word: the largest record count a list page
    # stated (None: it states none), the distinct records the list pages showed, and
    # how the records not reached are kept from us (a mechanism that failed or
    # answered nothing: list2.trsapi, dataproxy.jsp …, or what a family knows).
    expected: int | None = None
    totals: dict = field(default_factory=dict)  # part (None: the whole column) → the largest count it stated
    records: set = field(default_factory=set)
    lost_via: dict[str, str] = field(default_factory=dict)  # mechanism → how it failed
    empty_via: dict[str, str] = field(default_factory=dict)  # mechanism → the page that answered nothing new
    rest: str | None = None
    looped: str | None = None  # a pager that went on past the column's count, and where it was stopped
    discovering: bool = False  # started from a home page: a column must be found
    column: str | None = None

    def gap(self, role: str | None, url: str, why: str) -> None:
        self.gaps.append(f"{role or 'page'} {url}: {why}")

    @property
    def reached(self) -> int:
        return len(self.records)

    def short(self) -> str | None:
        """"10/20: older records only behind list2.trsapi (…)" when the column's list
        pages showed fewer records than it says it holds; None when it is whole (or
        states no count)."""
        if self.expected is None or self.reached >= self.expected:
            return None
        head = f"{self.reached}/{self.expected}"
        for lost in (self.lost_via, self.empty_via):
            if lost:
                via, why = next(iter(lost.items()))
                return f"{head}: older records only behind {via} ({why})"
        if self.rest:
            return f"{head}: {self.rest}"
        return f"{head}: the column states {self.expected} records, its list pages showed {self.reached}"

    def final(self) -> tuple[str, str | None]:
        if self.status:
            return self.status, self.reason
        if self.discovering and not self.column:
            return "failed", "no 年报 column found from the home page" + (
                f" ({_summary(self.gaps)})" if self.gaps else "")
        gaps = list(self.gaps)
        short = self.short()
        if short:
            # The count first: what is missing, and the mechanism that keeps it from us.
            if not self.found and not gaps:
                return "partial", short
            if self.found:
                return "partial", short + ("; " + _summary(gaps) if gaps else "")
        if self.pending:
            # A request the crawl made and never heard back about (the crawl was stopped,
            # or something dropped it): the column is not known to be complete.
            role, url = next(iter(self.pending.values()))
            gaps.append(f"{len(self.pending)} request(s) never answered, e.g. {role} {url}")
        if not self.found and self.detail_failed:
            return "failed", f"all {self.detail_failed} report pages failed: " + _summary(gaps)
        if not self.found and gaps:
            return "failed", "no report page read: " + _summary(gaps)
        if gaps:
            return "partial", _summary(gaps)
        if self.found:
            return "ok", self.looped
        return "empty", "no report found in the column" + (f"; {self.looped}" if self.looped else "")


def _summary(gaps: list[str], keep: int = 3) -> str:
    head = "; ".join(gaps[:keep])
    return f"{len(gaps)} gap(s): {head}" + (f"; … {len(gaps) - keep} more" if len(gaps) > keep else "")


class ColumnSpider(scrapy.Spider):
    name = "column"

    def __init__(self, sites: list[dict] | str | None = None, site: str | None = None, **kw):
        super().__init__(**kw)
        self._sites_arg, self._only = sites, site
        self.sites: dict[str, dict] = {}
        self.hosts: dict[str | None, str] = {}
        self.blocked: dict[str, str] = {}
        self.outcome: dict[str, SiteOutcome] = {}
        self.run_id: int | None = None  # set by the item pipeline once it records the run
        self._tickets = itertools.count(1)
        self.late_failures: list[FetchFailed] = []  # found outside a callback; the pipeline records them at the end

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._load_sites(crawler.settings)
        slots = spider._download_slots()
        if slots:  # settings are still open here (Scrapy applies them after from_crawler)
            crawler.settings.set("DOWNLOAD_SLOTS", {**slots, **crawler.settings.getdict("DOWNLOAD_SLOTS")},
                                 priority="spider")
        crawler.signals.connect(spider.on_dropped, signal=signals.request_dropped)
        return spider

    def _download_slots(self) -> dict[str, dict]:
        return config.download_slots(self.sites.values())

    def _load_sites(self, settings) -> None:
        given = self._sites_arg
        if not isinstance(given, list):  # `-a sites=DIR`, the NIANBAO_SITES setting, or sites/ beside the archive
            where = given or settings.get("NIANBAO_SITES") or config.default_dir(settings.get("NIANBAO_ARCHIVE"))
            given = config.load_sites([where]) if (isinstance(where, str) or where.exists()) else []
        if self._only:
            given = [s for s in given if s["name"] == self._only]
        for s in given:
            self._add_site(s)

    def _add_site(self, site: dict) -> dict:
        self.sites[site["name"]] = site
        self.hosts[urlsplit(site.get("start_url") or site.get("home_url")).hostname] = site["name"]
        self.outcome[site["name"]] = SiteOutcome()
        return site

    # ------------------------------------------------------------ helpers
    def site_for_url(self, url: str) -> str | None:
        return self.hosts.get(urlsplit(url).hostname)

    def _site(self, response) -> dict:
        """The site a response belongs to; a URL handed to `scrapy parse` gets an ad-hoc one."""
        name = response.meta.get("site") or self.site_for_url(response.url)
        if name is None:
            name = urlsplit(response.url).hostname or "site"
            self._add_site({"name": name, "start_url": response.url, "family": "auto"})
            response.meta["site"] = name
        return self.sites[name]

    def mark_blocked(self, site: str | None, reason: str, url: str) -> None:
        site = site or self.site_for_url(url)
        if not site or site in self.blocked:
            return
        self.blocked[site] = reason
        log.warning("site %s blocked at %s: %s", site, url, reason)
        if site in self.outcome:
            self.outcome[site].status, self.outcome[site].reason = "blocked", reason

    def _set_outcome(self, site: str | None, status: str, reason: str) -> None:
        if site in self.outcome and self.outcome[site].status is None:
            self.outcome[site].status, self.outcome[site].reason = status, reason

    def family_of(self, site: dict, url: str, text: str):
        fam = site.get("family") or "auto"
        if fam == "auto":
            mod = families.detect(url, text)
            site["family"] = mod.NAME
            return mod, SiteUpdate(site["name"], {"family": mod.NAME})
        return families.get(fam), None

    def _req(self, url: str, callback, site: str, role: str, *, method: str = "GET", formdata=None,
             body: str | None = None, headers: dict | None = None, conditional: bool = False, **meta) -> Request:
        # Every request carries a ticket, settled by its callback or errback: a request
        # that vanishes without either (dropped as a redirect loop, say) is a gap, not silence.
        ticket = next(self._tickets)
        if site in self.outcome:
            self.outcome[site].pending[ticket] = (role, url)
        meta = {"site": site, "role": role, "handle_httpstatus_list": KEEP_STATUS, "conditional": conditional,
                "ticket": ticket, **meta}
        if method == "POST" and body is None:
            return FormRequest(url, formdata=formdata or {}, headers=headers, callback=callback, errback=self.on_error,
                               meta=meta)
        return Request(url, method=method, body=body, headers=headers, callback=callback, errback=self.on_error,
                       meta=meta)

    def _doc(self, response, role: str, **kw) -> FetchedDoc:
        url = (response.meta.get("redirect_urls") or [response.url])[0]
        return FetchedDoc(url=url, site=response.meta["site"], role=role, body=response.body,
                          type=sniff(response.body), final_url=response.url, http_status=response.status,
                          content_type=_h(response, "Content-Type"), etag=_h(response, "ETag"),
                          last_modified=_h(response, "Last-Modified"), fetched_at=_now(), **kw)

    def _count_page(self) -> None:
        self.crawler.stats.inc_value("nianbao/pages")

    def _settle(self, meta) -> None:
        o = self.outcome.get(meta.get("site"))
        if o is not None:
            o.pending.pop(meta.get("ticket"), None)

    def counted(self, name: str) -> SiteOutcome:
        """The site's outcome, its record tally kept in the spider's state too: a crawl
        resumed from its JOBDIR (Scrapy persists `spider.state` there) does not read
        again the list pages it read before the stop, yet still knows their records."""
        o = self.outcome[name]
        state = getattr(self, "state", None)
        if isinstance(state, dict):
            saved = state.setdefault("nianbao_columns", {}).setdefault(name, {"records": set(), "expected": None})
            if saved["records"] is not o.records:
                saved["records"] |= o.records
                o.records = saved["records"]
                if saved["expected"] is not None:
                    o.expected = max(o.expected or 0, saved["expected"])
            saved["expected"] = o.expected if o.expected is not None else saved["expected"]
        return o

    def _list_req(self, site: dict, url: str, **kw):
        """A further list page, unless the site's pager has run past `max_pages` in this
        run (an endless pager): then the cap is recorded as a gap, once."""
        o = self.outcome[site["name"]]
        key = (kw.get("method", "GET"), url, tuple(sorted((kw.get("formdata") or {}).items())), kw.get("body"))
        if key in o.list_pages:  # the pager of every page links the others: ask once
            return None
        cap = int(site.get("max_pages", 300))
        allowed, first = self._count_list_page(site["name"], o, key, cap)
        if not allowed:
            if first and not o.capped:
                o.capped = True
                o.gap("list", url, f"pager did not end after {cap} list pages (max_pages); stopped there")
            return None
        o.list_pages.add(key)
        return self._req(url, self.parse_list, site["name"], "list", **kw)

    def _count_list_page(self, name: str, o: SiteOutcome, key: tuple, cap: int) -> tuple[bool, bool]:
        """(may this further list page be requested, is its refusal the cap's gap): counted
        here in this process; a frontier worker counts for the whole cluster."""
        if len(o.list_pages) >= cap:
            return False, True
        return True, False

    def on_dropped(self, request, spider=None) -> None:
        """The scheduler refused a request as one already seen. For a redirect hop back to
        a URL of its own chain that is a redirect loop; otherwise a duplicate link
        (the page is fetched once, by the first request)."""
        chain = request.meta.get("redirect_urls") or []
        site = request.meta.get("site")
        if chain and request.url in chain:
            o = self.outcome.get(site)
            if o is not None:
                role = request.meta.get("role")
                o.gap(role, chain[0], f"redirect loop ({' → '.join(chain + [request.url])})")
                if role == "detail":
                    o.detail_failed += 1
            self._settle(request.meta)
            self.late_failures.append(FetchFailed(chain[0], site, request.meta.get("role"),
                                                   f"redirect loop: {' → '.join(chain + [request.url])}",
                                                   parent_url=request.meta.get("parent_url")))
        else:
            self._settle(request.meta)

    # ------------------------------------------------------------ crawl
    async def start(self):
        for name, site in self.sites.items():
            if site.get("discover") or not site.get("start_url"):
                self.outcome[name].discovering = True
                yield self._req(site["home_url"], self.parse_home, name, "home", dont_filter=True)
            else:
                yield self._req(site["start_url"], self.parse_list, name, "list", dont_filter=True)

    def parse_home(self, response):
        """Discovery: home → 政府信息公开 page → 年报 column (two hops at most)."""
        site = self._site(response)
        self._settle(response.meta)
        self._count_page()
        if response.status != 200:
            yield from self._fail(response, f"HTTP {response.status}")
            return
        text = decode(response.body, _h(response, "Content-Type"))
        column = discovery.column_on(response.url, text)
        if column:
            if self.outcome[site["name"]].column:  # another branch of the discovery found it first
                return
            self.outcome[site["name"]].column = column
            site["start_url"] = column
            yield SiteUpdate(site["name"], {"start_url": column})
            if column == response.url:  # the URL given was the column itself
                yield from self.parse_list(response, counted=True)
            else:
                yield self._req(column, self.parse_list, site["name"], "list")
            return
        hops = response.meta.get("hops", 0)
        nxt = discovery.find_xxgk(response.url, text)[:3] if hops < 2 else []
        for url in nxt:
            yield self._req(url, self.parse_home, site["name"], "home", hops=hops + 1)
        if not nxt and hops == 0:
            self._set_outcome(site["name"], "failed", f"no 年报 column found from {response.url}")
        if not nxt:
            # A dead end of the discovery. Say so to the pipeline (which opens the run
            # with its first item): a crawl whose discovery finds nothing must still
            # end as a `failed` site, not as a crawl that recorded nothing.
            yield SiteUpdate(site["name"], {})

    def parse_list(self, response, counted: bool = False):
        """A column's list page: report entries to follow, further pages to read.

        @page tests/fixtures/portals/mock_trs_old_list_index.html http://127.0.0.11:8011/zfxxgknb/index.html
        @returns requests 4 4
        @returns items 2 2
        """
        site = self._site(response)
        self._settle(response.meta)
        if not counted:
            self._count_page()
        if response.status != 200:
            # A page the family only guessed at (TRS new numbers its pages from _1 or
            # from _2) may not exist: its 404 is expected. Any other failing list page
            # is a gap: the reports it lists were not seen.
            if response.status == 404 and response.meta.get("probe"):
                return
            yield from self._list_failed(response.meta, (response.meta.get("redirect_urls") or [response.url])[0],
                                         f"HTTP {response.status}")
            return
        text = decode(response.body, _h(response, "Content-Type"))
        fam, update = self.family_of(site, response.url, text)
        if update:
            yield update
        if self.settings.getbool("NIANBAO_STORE_LISTS", True):
            yield self._doc(response, "list")
        try:
            if fam.NAME == "gkmlpt" and site.get("category"):
                page = fam.parse_list(response.url, text, category=site["category"])
            else:
                page = fam.parse_list(response.url, text)
        except ValueError as e:
            # A list API answering something its family cannot read (an error page sent
            # with 200, cut-off JSON): the bytes are kept above, the records are a gap.
            url = (response.meta.get("redirect_urls") or [response.url])[0]
            yield from self._list_failed(response.meta, url, f"unreadable {fam.NAME} list answer ({e})")
            return
        if site.get("list_css"):
            # Site override: only links inside these elements are column entries.
            page.links = overrides.links_within(response.url, text, site["list_css"])
            page.records = None
        o = self.counted(site["name"])
        before = o.reached
        o.records.update(u for u in page.record_urls() if urlsplit(u).scheme in ("http", "https"))
        scope = response.meta.get("scope")
        if page.total is not None:
            o.totals[scope] = max(o.totals.get(scope, 0), page.total)
            # The column's count: its own, or the sum of its parts' (sub-columns, years)
            # when those say more.
            parts = sum(n for part, n in o.totals.items() if part is not None)
            o.expected = max(o.expected or 0, o.totals.get(None, 0), parts)
            self.counted(site["name"])
        if page.rest and not o.rest:
            o.rest = page.rest
        via = response.meta.get("via")
        if via and o.reached == before and not page.pages:
            # A list API that answered 200 with nothing new: where the missing records hide.
            o.empty_via.setdefault(via, f"{response.url} answered no records")
        if o.expected is not None and o.reached >= o.expected and o.reached == before and page.pages:
            # Every record the column counts is in hand and this page added none, yet it
            # links further pages: a pager that does not end. The count bounds it.
            o.looped = (f"pager went on past the column's {o.expected} records; "
                        f"stopped following it at {response.url}")
            page.pages = []
        for link in page.links:
            if urlsplit(link.url).scheme not in ("http", "https"):
                continue
            if is_report_title(link.title, site.get("title_pattern")):
                yield self._req(link.url, self.parse_detail, site["name"], "detail", conditional=True,
                                list_title=link.title, list_date=link.date)
        # A column is tens of pages at most; a pager claiming thousands (or never
        # ending) is capped at max_pages list pages per run, and the cap is a gap.
        for p in page.pages:
            req = self._list_req(site, p.url, method=p.method, formdata=p.formdata, probe=p.probe, via=p.via,
                                 scope=p.scope or scope, body=p.body, headers=p.headers,
                                 fallback=[(f.url, f.method, f.formdata, f.via) for f in p.fallback or []])
            if req is not None:
                yield req
        if not page.links and not page.pages:
            yield from self._fallbacks(site, response.meta)

    def _fallbacks(self, site: dict, meta):
        for url, method, formdata, via in meta.get("fallback") or []:
            req = self._list_req(site, url, method=method, formdata=formdata, via=via)
            if req is not None:
                yield req

    def _list_failed(self, meta, url: str, why: str):
        """A list page that could not be read: the column when it is the first page
        (the site fails), a gap otherwise, unless a fallback form of the page is known."""
        name = meta.get("site")
        site = self.sites.get(name) or {}
        if meta.get("role") == "list" and meta.get("fallback"):
            yield from self._fallbacks(site, meta)
            yield FetchFailed(url, name, "list", f"{why} (trying its fallback)", counted=False)
            return
        if meta.get("role") in ("home", "list") and url == site.get("start_url", url):
            column = meta.get("role") == "list" and why.startswith("HTTP")
            self._set_outcome(name, "failed", f"{url}: column answered {why}" if column else f"{url}: {why}")
        elif name in self.outcome:
            self.outcome[name].gap(meta.get("role"), url, why)
            if meta.get("via"):
                self.outcome[name].lost_via.setdefault(meta["via"], f"{why} at {url}")
        yield FetchFailed(url, name, meta.get("role"), why)

    def parse_detail(self, response):
        """A report's page: its metadata, its body when a script hides it, its attachments.

        @page tests/fixtures/portals/mock_gkmlpt_detail_attachment.html http://127.0.0.14:8014/gkmlpt/content/2/2000/post_2000.html
        @returns requests 1 1
        @returns items 3 3
        """
        site = self._site(response)
        self._settle(response.meta)
        self._count_page()
        url = (response.meta.get("redirect_urls") or [response.url])[0]
        not_modified = response.status == 304 and response.meta.get("known_sha256")
        if response.status != 200 and not not_modified:
            yield from self._detail_failed(response.meta, url, f"HTTP {response.status}")
            return
        text = decode(response.body, _h(response, "Content-Type"))
        why = soft_404(text, response.meta.get("list_title"))
        if why:  # 200 OK, but the page says the report is not there
            yield from self._detail_failed(response.meta, url, why)
            return
        fam, update = self.family_of(site, url, text)
        if update:
            yield update
        d = fam.parse_detail(url, text)
        if site.get("body_css"):
            d.attachments = overrides.attachments_within(url, text, site["body_css"])
            d.page_images = overrides.page_images_within(url, text, site["body_css"])
        meta = {"title": d.title or response.meta.get("list_title"),
                "published": d.published or response.meta.get("list_date"),
                "publisher": d.publisher, "index_no": d.index_no, "report_year": d.report_year or None}
        self.outcome[site["name"]].found += 1
        if not_modified:
            yield NotModified(url, site["name"], "detail", meta)
        else:
            yield self._doc(response, "detail", meta=meta, original_name=sane_name(urlsplit(url).path.rsplit("/", 1)[-1]))
        if d.body_is_derived and d.body_html and not not_modified:
            page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{meta["title"] or ""}</title></head>'
                    f'<body><div class="article-content">{d.body_html}</div></body></html>').encode("utf-8")
            yield FetchedDoc(url=url + "#body", site=site["name"], role="body", body=page, type="html",
                             final_url=response.url, http_status=response.status,
                             content_type="text/html; charset=utf-8", fetched_at=_now(),
                             original_name=sane_name(urlsplit(url).path.rsplit("/", 1)[-1].rsplit(".", 1)[0] + ".body.html"),
                             parent_url=url, meta=meta)
        for att in d.attachments:
            yield self._req(att.url, self.parse_attachment, site["name"], "attachment", conditional=True,
                            parent_url=url, fallback=att.fallback, att_name=att.name)
        if not d.attachments:
            # An article whose body is its report's pages as images: each page is an
            # attachment of the publication (the parser reads them in page order).
            for n, img in enumerate(d.page_images, 1):
                yield self._req(img, self.parse_attachment, site["name"], "attachment", conditional=True,
                                parent_url=url, page_image=n)

    def _detail_failed(self, meta, url: str, why: str):
        name = meta.get("site")
        if name in self.outcome:
            self.outcome[name].detail_failed += 1
            self.outcome[name].gap("detail", url, why)
        yield FetchFailed(url, name, "detail", why)

    def parse_attachment(self, response):
        """A document linked from a report's page, kept whatever it is once its bytes say
        it is a document (an HTML error page served as .pdf is not)."""
        site = self._site(response)["name"]
        self._settle(response.meta)
        self._count_page()
        url = (response.meta.get("redirect_urls") or [response.url])[0]
        if response.status == 304 and response.meta.get("known_sha256"):
            yield NotModified(url, site, "attachment")
            return
        kind = sniff(response.body) if response.status == 200 else None
        if kind not in DOC_KINDS and not (kind == "image" and response.meta.get("page_image")):
            why = f"HTTP {response.status}" if response.status != 200 else f"not a document (looks like {kind})"
            yield from self._attachment_failed(response.meta, url, why)
            return
        name = _disposition_name(_h(response, "Content-Disposition")) or response.meta.get("att_name") \
            or unquote(urlsplit(response.url).path.rsplit("/", 1)[-1])
        if "." not in name[-6:]:
            name = f"{name}.{kind}"
        yield self._doc(response, "attachment", parent_url=response.meta["parent_url"], original_name=sane_name(name))

    def _attachment_failed(self, meta, url: str, why: str):
        """Try the attachment's other address (TRS OLDSRC) once; then it is a failure of
        its publication (the detail page), recorded against both."""
        site = meta.get("site")
        fallback = meta.get("fallback")
        if fallback and fallback != url and not meta.get("primary_url"):
            yield self._req(fallback, self.parse_attachment, site, "attachment", conditional=True,
                            parent_url=meta["parent_url"], att_name=meta.get("att_name"),
                            primary_url=url, first_error=why)
            return
        if meta.get("primary_url"):  # say what went wrong with both addresses, on the one linked
            why = f"{why} at {url}, after {meta['first_error']}"
            url = meta["primary_url"]
        if site in self.outcome:
            self.outcome[site].gap("attachment", url, f"{why} (publication {meta.get('parent_url')})")
        yield FetchFailed(url, site, "attachment", why, parent_url=meta.get("parent_url"))

    # ------------------------------------------------------------ failures
    def _fail(self, response, why: str):
        url = (response.meta.get("redirect_urls") or [response.url])[0]
        yield from self._list_failed(response.meta, url, why)

    def on_error(self, failure):
        """Every request that failed for good (after retries) ends here: an HTTP error,
        a network error, a timeout, a size cap, robots.txt, a wall, an off-site redirect."""
        request = failure.request
        meta = request.meta
        site, role = meta.get("site"), meta.get("role")
        self._settle(meta)
        exc = failure.value
        msg = describe(exc)
        if isinstance(exc, HttpError):  # a status the callbacks are not handed (503, 502, 429 …) after retries
            msg = f"HTTP {exc.response.status}"
        elif isinstance(exc, IgnoreRequest):
            if msg.startswith("robots.txt unreachable"):
                self._set_outcome(site, "failed", f"{request.url}: {msg}")
                yield FetchFailed(request.url, site, role, msg)
                return
            if "robots.txt" in msg.lower() or "Forbidden by robots" in msg:
                if role in ("list", "home") and request.url == (self.sites.get(site) or {}).get("start_url", request.url):
                    self._set_outcome(site, "robots", f"robots.txt forbids {request.url}")
                elif site in self.outcome:
                    self.outcome[site].gap(role, request.url, "forbidden by robots.txt")
                yield FetchFailed(request.url, site, role, "forbidden by robots.txt")
                return
            if site in self.blocked:
                yield FetchFailed(request.url, site, role, f"blocked: {self.blocked[site]}", counted=role == "list")
                return
        url = (meta.get("redirect_urls") or [request.url])[0]
        if role == "detail":
            yield from self._detail_failed(meta, url, msg)
        elif role == "attachment":
            yield from self._attachment_failed(meta, url, msg)
        else:
            yield from self._list_failed(meta, url, msg)


def _disposition_name(value: str | None) -> str | None:
    if not value:
        return None
    m = re.search(r"filename\*\s*=\s*[\w-]+''([^;]+)", value) or re.search(r'filename\s*=\s*"?([^";]+)"?', value)
    return unquote(m.group(1)).strip() if m else None
