"""Hanweb 大汉 JPaaS (the new platform): the column page /col/{pageId}/index.html is a shell
whose `<script … src="/module/jpaas/AuthorizedRead/unitbuild.js" url="…" queryData="{'webId':…}">`
names the build unit; the list is GET /api-gateway/jpaas-publish-server/front/page/build/unit
?webId=&pageId=&tplSetId=&tagId=&parseType=bulidstatic&pageType=column&paramJson={"pageNo":N,"pageSize":"15"}
answering JSON {"success":true,"code":"200","data":{"html":"<ul>…</ul><div class=\"pagination\">…共N条…"}}.
As on the real platform, a bare pageNo is ignored (page 1 again) and a request without
the unit's ids answers an error JSON. Detail pages /art/{y}/{m}/{d}/art_{pageId}_{id}.html,
body `#zoom`, attachments under /module/download/… served directly."""
from __future__ import annotations

import html
import json

from .server import Portal, Resp

JSON_TYPE = {"Content-Type": "application/json;charset=UTF-8"}

WEB_ID = "3630"
PAGE_ID = "d7c1e5a0b9f44a6b8c2e3f4a5b6c7d8e"
TPL_SET = "5HrZiFGOR8vHklhTYqM4B"
TAG_ID = "当前栏目list"
API = "/api-gateway/jpaas-publish-server/front/page/build/unit"


class JpaasPortal(Portal):
    family = "jpaas"
    column_path = f"/col/{PAGE_ID}/index.html"
    per_page = 15  # the server's cap on pageSize

    def detail_path(self, it) -> str:
        y, m, d = (int(x) for x in it.date.split("-"))
        return f"/art/{y}/{m}/{d}/art_{PAGE_ID[:8]}_{it.id}.html"

    def attachment_path(self, it) -> str:
        return f"/module/download/downfile/{it.id:08x}b9f4.{it.form}"

    def route(self, method, path, query, form):
        if path == self.column_path:
            return self.list_page()
        if path == API:
            return self.unit(query)
        for it in self.column.items:
            if path == self.detail_path(it):
                return self.detail(it)
        return None

    def unit(self, query: dict) -> Resp:
        if query.get("webId") != WEB_ID or query.get("pageId") != PAGE_ID or query.get("tplSetId") != TPL_SET:
            body = {"success": False, "code": "500", "message": "参数错误", "data": None}
            return Resp(200, json.dumps(body, ensure_ascii=False).encode(), {"Content-Type": "application/json"}, False)
        try:
            pj = json.loads(query.get("paramJson") or "{}")
        except json.JSONDecodeError:
            pj = {}
        page = max(int(pj.get("pageNo") or 1), 1)  # a bare pageNo= is not read: page 1
        size = min(max(int(pj.get("pageSize") or self.per_page), 1), self.per_page)  # the server's cap
        items = self.column.items
        chosen = items[(page - 1) * size: page * size]
        pages = max(-(-len(items) // size), 1)
        lis = "".join(f'\n<li><a href="{self.detail_path(it)}" target="_blank" title="{html.escape(it.title)}">'
                      f'{html.escape(it.title[:24])}</a><span class="date">{it.date}</span></li>' for it in chosen)
        active = ' class="active"'
        pager = "".join(f'<a href="javascript:;" data-page="{p}"{active if p == page else ""}>{p}</a>'
                        for p in range(1, pages + 1))
        frag = (f'<ul class="list-ul">{lis}\n</ul><div class="pagination" id="pagination_{PAGE_ID[:6]}">'
                f'<span class="total">共<b>{len(items)}</b>条</span> <span>{page}/{pages}页</span>{pager}</div>')
        body = {"success": True, "code": "200", "message": "操作成功", "data": {"html": frag}}
        return Resp(200, json.dumps(body, ensure_ascii=False).encode(), JSON_TYPE, False)

    def list_page(self) -> Resp:
        qd = {"webId": WEB_ID, "pageId": PAGE_ID, "tplSetId": TPL_SET, "pageType": "column", "tagId": TAG_ID,
              "editType": "null"}
        qd_attr = html.escape(json.dumps(qd, ensure_ascii=False), quote=False).replace('"', "'")
        body = (f'<div class="position">当前位置：<a href="/">首页</a> &gt; 政府信息公开年报</div>'
                f'<div class="list-box" id="list_{PAGE_ID[:6]}"><script id="{PAGE_ID[:6]}" '
                f'src="/module/jpaas/AuthorizedRead/unitbuild.js" url="{API}" queryData="{qd_attr}"></script></div>')
        return self.page("政府信息公开年报", body)

    def detail(self, it) -> Resp:
        att = (f'<p><a href="{self.attachment_path(it)}" target="_blank">{html.escape(it.title)}.{it.form}</a></p>')
        body = (f'<div class="xxgk">{self.xxgk_block(it)}</div><div class="article"><h1>{html.escape(it.title)}</h1>'
                f'<div class="info">发布日期：{it.date} 信息来源：{it.publisher}</div>'
                f'<div class="article-content" id="zoom">{self.body_of(it, att)}</div></div>')
        return self.page(it.title, body, self.detail_head(it))
