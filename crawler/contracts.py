"""`scrapy check` on saved pages. A callback's docstring names a page saved under the
project (the folder holding scrapy.cfg) and the URL it was served from:

    @page tests/fixtures/portals/mock_trs_old_list_index.html http://127.0.0.11/zfxxgknb/index.html
    @returns requests 5

The page is read from disk (file://) and handed to the callback as if fetched from that
URL, so the check needs no network and no running portal (like city-scrapers' fixtures).
"""
from __future__ import annotations

from functools import wraps
from pathlib import Path

from scrapy.contracts import Contract
from scrapy.utils.conf import closest_scrapy_cfg


class SavedPage(Contract):
    name = "page"

    def adjust_request_args(self, args: dict) -> dict:
        rel, self.served_from = self.args
        root = Path(closest_scrapy_cfg() or ".").parent
        path = (root / rel).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"@page {rel}: no such saved page under {root} (run scrapy check in the checkout)")
        args["url"] = path.as_uri()
        return args

    def add_pre_hook(self, request, results):
        cb, url = request.callback, self.served_from

        @wraps(cb)
        def as_served(response, **kw):
            return list(cb(response.replace(url=url), **kw) or [])

        request.callback = as_served
        return request
