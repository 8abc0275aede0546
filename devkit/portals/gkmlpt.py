"""Guangdong gkmlpt: /gkmlpt/index carries `window._CONFIG` with SID and the category
TREE; the list is JSON from /gkmlpt/api/all/{cat}?page=N&sid=SID; the detail page's
body is Unicode-escaped HTML inside `window._CONFIG.DETAIL`. Quirk "by_year": the 年报
category has one sub-category per year, each listed by the API on its own."""
from __future__ import annotations

import html
import json

from .server import Portal, Resp

SID = "662021"
CAT = 721


class GkmlptPortal(Portal):
    family = "gkmlpt"
    column_path = "/gkmlpt/index"
    per_page = 5

    def detail_path(self, it) -> str:
        return f"/gkmlpt/content/0/{it.id // 1000}/post_{it.id}.html"

    def attachment_path(self, it) -> str:
        return f"/{self.name}/attachment/0/{it.id // 1000 % 100}/{it.id}/{it.id}.{it.form}"

    def _tree(self):
        n = len(self.column.items)
        return [{"id": 700, "name": "组织机构", "children": [], "jump_url": "", "post_count": 3},
                {"id": 710, "name": "政策文件", "children": [{"id": 711, "name": "规范性文件", "children": [], "post_count": 12}],
                 "jump_url": "", "post_count": 12},
                {"id": 720, "name": "政府信息公开", "jump_url": "", "post_count": n + 4, "children": [
                    {"id": 722, "name": "政府信息公开指南", "children": [], "jump_url": "", "post_count": 1},
                    {"id": CAT, "name": "政府信息公开年报", "children": self._years(), "jump_url": "",
                     "post_count": n}]}]

    def _by_year(self) -> dict[int, list]:
        """Quirk "by_year": the 年报 category is split into one sub-category per year
        (ids CAT*10 + k), each with its own API list; the parent lists nothing itself."""
        out: dict[int, list] = {}
        if "by_year" in self.quirks:
            years = sorted({it.date[:4] for it in self.column.items}, reverse=True)
            for k, y in enumerate(years):
                out[CAT * 10 + k] = [it for it in self.column.items if it.date[:4] == y]
        return out

    def _years(self) -> list:
        return [{"id": cid, "name": f"{items[0].date[:4]}年", "children": [], "jump_url": "",
                 "post_count": len(items)} for cid, items in self._by_year().items()]

    def route(self, method, path, query, form):
        if path == "/gkmlpt/index":
            cfg = {"SID": SID, "TREE": self._tree(), "SERVICE_AREA_ID": 5, "TITLE": self.site_title}
            body = (f'<div id="app"></div><script>window._CONFIG = {json.dumps(cfg, ensure_ascii=False)};</script>'
                    '<script src="/gkmlpt/static/js/app.js"></script>')
            return self.page("政府信息公开目录", body)
        parts = self._by_year()
        if path == f"/gkmlpt/api/all/{CAT}" or path in {f"/gkmlpt/api/all/{cid}" for cid in parts}:
            if query.get("sid") != SID:
                return Resp(200, b'{"total":0,"articles":[]}', {"Content-Type": "application/json"}, False)
            page = int(query.get("page") or 1)
            items = self.column.items
            if parts:  # the parent lists nothing; each year's sub-category its own reports
                items = parts.get(int(path.rsplit("/", 1)[1]), [])
            if "one_page" in self.quirks:  # Zhaoqing-style: everything on page 1, page >= 2 is a 404
                if page >= 2:
                    return None
                chosen = items
            else:
                chosen = items[(page - 1) * self.per_page: page * self.per_page]
            arts = [{"id": it.id, "title": it.title, "url": self.base_url + self.detail_path(it),
                     "post_url": self.base_url + self.detail_path(it), "created_at": f"{it.date} 16:25:04",
                     "display_publish_time": 0, "identifier": it.index_no, "document_number": "",
                     "publisher": it.publisher, "attachment": []} for it in chosen]
            data = {"total": len(items), "classify": {"post_count": len(items)}, "articles": arts}
            return Resp(200, json.dumps(data, ensure_ascii=False).encode(), {"Content-Type": "application/json;charset=UTF-8"}, False)
        for it in self.column.items:
            if path == self.detail_path(it):
                return self.detail(it)
        return None

    def detail(self, it) -> Resp:
        att = (f'<p><a class="nfw-cms-attachment" href="{self.attachment_path(it)}">{html.escape(it.title)}.{it.form}</a></p>')
        detail = {"id": it.id, "title": it.title, "identifier": it.index_no, "publisher": it.publisher,
                  "date": f"{it.date} 16:25:04", "content": self.body_of(it, att)}
        # json.dumps escapes nothing but quotes; real gkmlpt escapes < > & as \u003C … like this:
        js = json.dumps(detail).replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
        body = (f'<div id="app"></div><script>window._CONFIG = window._CONFIG || {{}};'
                f'window._CONFIG.SID = "{SID}"; window._CONFIG.DETAIL = {js};</script>')
        return self.page(it.title, body, self.detail_head(it))
