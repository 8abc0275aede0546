"""Save a mock portal's pages as test fixtures (tests/fixtures/portals/mock_{family}_*):
its column page, the answers of its list API in the order the family's parser asks for
them, one report page with an attachment, and what a perfect crawl finds
(mock_{family}_expected.json). Offline tests then parse these bytes without a server.

    python -m nianbao.devkit.portals.snapshot tests/fixtures/portals chinatax jpaas truecms epoint
"""
from __future__ import annotations

import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

from nianbao.crawler import families
from nianbao.crawler.families import base

from . import start_portals, stop_portals

EXT = {"chinatax": ".json", "jpaas": ".json", "truecms": ".jsonp", "epoint": ".json"}


def fetch(req: base.PageRequest) -> tuple[bytes, str | None]:
    data = None
    if req.method == "POST":
        data = (req.body if req.body is not None else urllib.parse.urlencode(req.formdata or {})).encode()
    r = urllib.request.Request(req.url, data=data, headers=dict(req.headers or {}), method=req.method)
    with urllib.request.urlopen(r, timeout=10) as resp:
        return resp.read(), resp.headers.get("Content-Type")


def save(out: Path, names: list[str], *, seed: int = 700, per_page: int = 3) -> None:
    ps = start_portals(names, n_reports=4, n_other=3, seed=seed, first_host=160, forms=("docx", "html"))
    try:
        for p in ps:
            p.per_page = per_page
            fam = families.get(p.family)
            body, ctype = fetch(base.PageRequest(p.column_url))
            (out / f"mock_{p.family}_column.html").write_bytes(body)
            todo, n = list(fam.parse_list(p.column_url, base.decode(body, ctype)).pages), 0
            while todo:  # the list pages in the order the parser asks for them
                req = todo.pop(0)
                body, ctype = fetch(req)
                script = req.url.split("?")[0].endswith(".js")
                n += not script
                name = "script.js" if script else f"api_{n}{EXT[p.family]}"
                (out / f"mock_{p.family}_{name}").write_bytes(body)
                todo += fam.parse_list(req.url, base.decode(body, ctype)).pages
            exp = p.expected_reports()
            e = next(e for e in exp if e["attachment_url"])
            (out / f"mock_{p.family}_detail_attachment.html").write_bytes(fetch(base.PageRequest(e["url"]))[0])
            keep = ("url", "title", "agency", "report_year", "form", "published", "publisher", "index_no",
                    "attachment_url")
            listed = [p.base_url + p.detail_path(it) for it in p.column.items]
            (out / f"mock_{p.family}_expected.json").write_text(
                json.dumps({"reports": [{k: x[k] for k in keep} for x in exp], "column": listed,
                            "column_url": p.column_url, "per_page": per_page}, ensure_ascii=False, indent=1),
                encoding="utf-8")
    finally:
        stop_portals(ps)


if __name__ == "__main__":
    save(Path(sys.argv[1]), sys.argv[2:] or ["chinatax", "jpaas", "truecms", "epoint"])
