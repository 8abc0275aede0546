"""Mock government portals: real HTTP servers imitating the CMS families a crawler meets.

API (used by tests, benchmarks/crawl.py and `nianbao demo`):

    from nianbao.devkit.portals import start_portals, FAMILIES
    portals = start_portals()            # one portal per family, each on 127.0.0.N
    start_portals(API_FAMILIES)          # the list-API families: chinatax, jpaas, truecms, epoint
    for p in portals:
        p.name, p.family                 # "mock-trs-old", "trs_old"
        p.base_url, p.column_url, p.home_url
        p.site_config()                  # dict for crawler/sites/*.yaml (name, agency, start_url, family)
        p.expected_reports()             # [{url (detail page = publication), title, agency, report_year,
                                         #   form (html|pdf|docx), attachment_url, published, publisher,
                                         #   index_no, cells (testkit.generate.expected_cells)}]
        p.requests                       # [(method, path, status)] served so far
        p.times, p.starts                # when answers went out; when requests arrived
        p.max_inflight, p.user_agents    # peak concurrency; UAs seen
        p.change(p.reports()[0])         # publish a corrected version (new bytes, same URL)
        p.flaky = 2                      # every detail page answers 503 (Retry-After: 1) twice first
        p.soft404 = True                 # first attachment: 200 with an HTML error page under .pdf/.docx
        p.faults[("list", None)] = faults.status(500)   # per-request faults, see faults.py
        p.quirks.add("from_2")           # family variants: trs_new "from_2", gkmlpt "one_page",
                                         # hanweb "page_only", trs_old "create_page" / "dynamic"
                                         # (动静结合: 10 static records + list2.trsapi) / "api_empty"
        p.per_page = 3                   # chinatax / jpaas / epoint: the server caps its page size here
    stop_portals(portals)

start_portals(families=FAMILIES, *, n_reports=8, n_other=4, seed=0, delay=0.0,
              robots="none"|"admin"|"all"|"403", wall=None|"rs"|"jsl"|"wzws",
              first_host=11, fixed_ports=False, count=None, forms=("html", "pdf", "html", "docx"))
  - portal i listens on 127.0.0.(first_host+i); port ephemeral, or 8000+first_host+i
    when fixed_ports=True (the addresses crawler/sites/mock-*.yaml name).
  - count=N starts N portals cycling through `families` (benchmarks: 20 portals).
  - delay: seconds slept before every response (per-response, concurrent requests overlap).
  - forms: how the i-th report is published, cycled: html (tables in the page body) or a
    short body plus a pdf / docx attachment; images (the pages as images in the body,
    see image_article.py); xlsx / xls (the text in the page, the tables in an attached
    workbook). forms=("html",) needs no LibreOffice.
  - every column: n_reports reports (years 2019–2024 cycled, so both templates; one
    agency each) mixed with n_other notices/news, newest first, several list pages.
  - PDFs are rendered in one LibreOffice batch before the servers start and cached on
    disk ($NIANBAO_PORTAL_CACHE, default ~/.cache/nianbao/portals) keyed by seed.
"""
from __future__ import annotations

from . import faults
from .content import Column, Item, build_column, prerender_pdfs
from .chinatax import ChinataxPortal
from .epoint import EpointPortal
from .gbk_static import GbkStaticPortal
from .gkmlpt import GkmlptPortal
from .hanweb import HanwebPortal
from .jpaas import JpaasPortal
from .server import Portal
from .trs_new import TrsNewPortal
from .trs_old import TrsOldPortal
from .truecms import TruecmsPortal

CLASSES = {"trs_old": TrsOldPortal, "trs_new": TrsNewPortal, "hanweb": HanwebPortal,
           "gkmlpt": GkmlptPortal, "static": GbkStaticPortal,
           "chinatax": ChinataxPortal, "jpaas": JpaasPortal, "truecms": TruecmsPortal, "epoint": EpointPortal}
# The default set (demo, benchmarks, the every-family crawl): the page-based families.
# The list-API families are started by name (API_FAMILIES, or ALL_FAMILIES for both).
FAMILIES = ("trs_old", "trs_new", "hanweb", "gkmlpt", "static")
API_FAMILIES = ("chinatax", "jpaas", "truecms", "epoint")
ALL_FAMILIES = FAMILIES + API_FAMILIES
NAMES = {"trs_old": "mock-trs-old", "trs_new": "mock-trs-new", "hanweb": "mock-hanweb",
         "gkmlpt": "mock-gkmlpt", "static": "mock-gbk-static", "chinatax": "mock-chinatax",
         "jpaas": "mock-jpaas", "truecms": "mock-truecms", "epoint": "mock-epoint"}


def start_portals(families=FAMILIES, *, n_reports: int = 8, n_other: int = 4, seed: int = 0, delay: float = 0.0,
                  robots: str = "none", wall: str | None = None, first_host: int = 11, fixed_ports: bool = False,
                  count: int | None = None, forms: tuple[str, ...] = ("html", "pdf", "html", "docx")) -> list[Portal]:
    families = list(families)
    count = count or len(families)
    columns = [build_column(seed + i, n_reports=n_reports, n_other=n_other, forms=forms) for i in range(count)]
    prerender_pdfs([it for c in columns for it in c.items])
    portals: list[Portal] = []
    try:
        for i in range(count):
            fam = families[i % len(families)]
            name = NAMES[fam] if count == len(families) else f"{NAMES[fam]}-{i}"
            hostno = first_host + i
            portals.append(CLASSES[fam](name, columns[i], host=f"127.0.0.{hostno}",
                                        port=(8000 + hostno) if fixed_ports else 0, delay=delay, robots=robots, wall=wall))
    except BaseException:
        stop_portals(portals)
        raise
    return portals


def stop_portals(portals) -> None:
    for p in portals:
        p.stop()


__all__ = ["faults", "start_portals", "stop_portals", "FAMILIES", "API_FAMILIES", "ALL_FAMILIES", "Portal",
            "Item", "Column", "build_column"]
