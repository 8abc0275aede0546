"""TrueCMS (南通 / 上海人大 style): the column page /{site}/zfxxgknb/zfxxgknb.html renders the
first group of records into a hidden `#initData` list and sets up the jQuery jpage pager
(totalRecord, perPage, groupSize, proxyUrl /TrueCMS/messageController/getMessage.do,
ajaxParam {columnId}). The API answers JSONP
`callback({"result":"<datastore><totalrecord>N</totalrecord><recordset><record><![CDATA[<li>…</li>]]></record>…"})`,
and, like the real sites: 404 without a Referer (如皋), an empty recordset for a window
wider than perPage × groupSize (南通), plain JSON when no callback is named. Detail pages
/{site}/zfxxgknb/content/{uuid}.html, body `#zoom`, attachments /u/cms/{site}/{yyyymm}/{name}."""
from __future__ import annotations

import html
import json
import uuid

from .server import Portal, Resp

SITE = "ntsrmzf"
COLUMN_ID = "593f0397-04d7-44c3-8339-240a77a793ce"
API = "/TrueCMS/messageController/getMessage.do"


class TruecmsPortal(Portal):
    family = "truecms"
    column_path = f"/{SITE}/zfxxgknb/zfxxgknb.html"
    per_page = 2
    group_size = 2

    def _uuid(self, it) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"truecms:{it.id}"))

    def detail_path(self, it) -> str:
        return f"/{SITE}/zfxxgknb/content/{self._uuid(it)}.html"

    def attachment_path(self, it) -> str:
        return f"/u/cms/{SITE}/{it.date[:4]}{it.date[5:7]}/{self._uuid(it)[:8]}.{it.form}"

    def _li(self, it) -> str:
        return (f'<li><a href="{self.detail_path(it)}" target="_blank" title="{html.escape(it.title)}">'
                f'{html.escape(it.title[:26])}</a><span>{it.date}</span></li>')

    def route(self, method, path, query, form):
        if path == self.column_path:
            return self.list_page()
        if path.lower() == API.lower():
            return self.api(query)
        for it in self.column.items:
            if path == self.detail_path(it):
                return self.detail(it)
        return None

    def api(self, query: dict) -> Resp:
        if not self.request_header("Referer"):
            return Resp(404, b"<html><body><h1>404 Not Found</h1></body></html>", {"Content-Type": "text/html"}, False)
        items = self.column.items
        if query.get("columnId") != COLUMN_ID:
            chosen, total = [], 0
        else:
            start, end = int(query.get("startrecord") or 1), int(query.get("endrecord") or 0)
            wide = end - start + 1 > self.per_page * self.group_size
            chosen, total = ([] if wide else items[max(start - 1, 0):end]), len(items)
        xml = (f"<datastore><totalrecord>{total}</totalrecord><recordset>"
               + "".join(f"<record><![CDATA[{self._li(it)}]]></record>" for it in chosen) + "</recordset></datastore>")
        data = json.dumps({"result": xml}, ensure_ascii=False)
        cb = query.get("callback")
        if cb:
            return Resp(200, f"{cb}({data});".encode(), {"Content-Type": "text/javascript;charset=UTF-8"}, False)
        return Resp(200, data.encode(), {"Content-Type": "application/json;charset=UTF-8"}, False)

    def list_page(self) -> Resp:
        items = self.column.items
        first = items[: self.per_page * self.group_size]
        body = ('<div class="location">当前位置：<a href="/">首页</a> &gt; 政府信息公开年报</div>'
                '<div id="msgList"></div><div id="initData" style="display:none"><ul>'
                + "".join(self._li(it) for it in first) + '</ul></div>'
                "<script type=\"text/javascript\">$(function(){var initData = '<datastore><totalrecord>"
                f"{len(items)}</totalrecord><recordset>';"
                "$('#initData ul').each(function(){"
                "initData += '<record><![CDATA[' + $(this).html() + ']]></record>';});"
                "initData += '</recordset></datastore>';\n"
                f"$('#msgList').jpage({{\n  cache:false,\n  dataStore:initData,\n  totalRecord:{len(items)},\n"
                f"  dataBefore:'<ul class=\"list\">',\n  dataAfter:'</ul>',\n  proxyUrl:'{API}',\n"
                f"  perPage:{self.per_page},\n  groupSize:{self.group_size},\n  barPosition:'bottom',\n"
                f"  ajaxParam:{{\n    columnId:'{COLUMN_ID}'\n  }}\n}});}});</script>")
        return self.page("政府信息公开年报", body)

    def detail(self, it) -> Resp:
        att = (f'<p><a href="{self.attachment_path(it)}">{html.escape(it.title)}.{it.form}</a></p>')
        body = (f'<div class="xxgk">{self.xxgk_block(it)}</div><div class="detail"><h1>{html.escape(it.title)}</h1>'
                f'<div class="source">发布时间：{it.date} 来源：{it.publisher}</div>'
                f'<div id="zoom" class="content">{self.body_of(it, att)}</div></div>')
        return self.page(it.title, body, self.detail_head(it))
