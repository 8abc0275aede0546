"""National-ministry 集约化 site (国家税务总局): the column page
/chinatax/n810214/c102384r/index.html?tab=gknb is a shell naming its channel
(`var channelId = "…"`); the records come from POST /getFileListByCodeId (form codeId,
channelId, page, size, relateSubChannels), JSON {"code":200,"results":{"data":{"total":N,
"results":[…]}}}; a GET, or an unknown channel, answers an empty result like the real one.
Detail pages /chinatax/n810214/c102384r/c{id}/content.html, body `#zoomcon`
(older pages `#fontzoom`), attachments /chinatax/n810214/c102384r/c{id}/files/{name}."""
from __future__ import annotations

import html
import json

from .server import Portal, Resp

JSON_TYPE = {"Content-Type": "application/json;charset=UTF-8"}

CHANNEL = "61eaab3127b040d4950fff177f09e561"
COLUMN = "/chinatax/n810214/c102384r"


class ChinataxPortal(Portal):
    family = "chinatax"
    column_path = f"{COLUMN}/index.html?tab=gknb"
    per_page = 20  # the server's cap on `size`

    def detail_path(self, it) -> str:
        return f"{COLUMN}/c{it.id}/content.html"

    def attachment_path(self, it) -> str:
        return f"{COLUMN}/c{it.id}/files/{it.id:x}{'3f1c0a'}.{it.form}"

    def route(self, method, path, query, form):
        if path == f"{COLUMN}/index.html":
            return self.list_page()
        if path == "/getFileListByCodeId":
            return self.api(method, form)
        for it in self.column.items:
            if path == self.detail_path(it):
                return self.detail(it)
        return None

    def api(self, method: str, form: dict) -> Resp:
        items = self.column.items
        if method != "POST" or form.get("channelId") != CHANNEL:
            data = {"code": 200, "results": {"data": {"total": 0, "results": []}}}
        else:
            page = max(int(form.get("page") or 1), 1)
            size = min(max(int(form.get("size") or 20), 1), self.per_page)  # the server's cap
            chosen = items[(page - 1) * size: page * size]
            rows = [{"id": f"c{it.id}", "titleHtml": self._title_html(it), "title": it.title,
                     "url": self.base_url + self.detail_path(it), "redirectUrl": "",
                     "publishedTimeStr": f"{it.date} 10:00:00", "publishedTime": 0, "channelId": CHANNEL,
                     "domainMetaList": [{"resultList": [{"key": "source", "value": it.publisher},
                                                        {"key": "wh", "value": ""}]}]} for it in chosen]
            data = {"code": 200, "results": {"data": {"total": len(items), "page": page, "size": size,
                                                      "results": rows}}}
        return Resp(200, json.dumps(data, ensure_ascii=False).encode(), JSON_TYPE, False)

    def _title_html(self, it) -> str:
        # The real titleHtml sometimes carries markup (a highlighted year): the text is the title.
        t = html.escape(it.title)
        year = str(it.spec.report_year) if it.spec else None
        return t.replace(year, f'<font color="red">{year}</font>', 1) if year and year in t else t

    def list_page(self) -> Resp:
        body = (f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; 政府信息公开 &gt; 政府信息公开年报</div>'
                f'<div class="list-tab"><a href="?tab=gknb" class="on">政府信息公开年报</a></div>'
                f'<ul class="list" id="list"></ul><div class="page" id="page"></div>'
                f'<script>var codeId = ""; var channelId = "{CHANNEL}"; var pageSize = 20;'
                f'$.ajax({{url:"/getFileListByCodeId",type:"POST",data:{{codeId:codeId,channelId:channelId,page:1,'
                f'size:pageSize,relateSubChannels:true}},success:function(d){{render(d.results.data);}}}});</script>')
        return self.page("政府信息公开年报", body)

    def detail(self, it) -> Resp:
        att = f'<p><a href="./files/{it.id:x}3f1c0a.{it.form}">{html.escape(it.title)}.{it.form}</a></p>'
        # older pages (every third item) keep the #fontzoom body of the previous template
        zoom = "fontzoom" if it.id % 3 == 0 else "zoomcon"
        body = (f'<div class="xxgk">{self.xxgk_block(it)}</div><h1 class="title">{html.escape(it.title)}</h1>'
                f'<div class="info">来源：{it.publisher} 发布时间：{it.date}</div>'
                f'<div class="article-content" id="{zoom}">{self.body_of(it, att)}</div>'
                f'<div class="related"><a href="{COLUMN}/index.html?tab=gknb">返回列表</a></div>')
        return self.page(it.title, body, self.detail_head(it))
