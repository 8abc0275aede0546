"""Hanweb 大汉 JCMS: column /col/colNNN/index.html whose first records sit in
`<script type="text/xml">` CDATA; the rest come from POST
/module/web/jpage/dataproxy.jsp?startrecord=&endrecord=&perpage= (XML datastore);
attachments via /module/download/downfile.jsp?filename=… answering 302 to /attach/…."""
from __future__ import annotations

import html
from urllib.parse import quote

from .server import Portal, Resp

COLUMN_ID = 33718
UNIT_ID = 212860


class HanwebPortal(Portal):
    family = "hanweb"
    column_path = f"/col/col{COLUMN_ID}/index.html"
    per_page = 4

    def detail_path(self, it) -> str:
        y, m, d = (int(x) for x in it.date.split("-"))
        return f"/art/{y}/{m}/{d}/art_{COLUMN_ID}_{it.id}.html"

    def _file(self, it) -> str:
        return f"{it.id:08x}{'4e59a3178dec41fda94e6a596e'}.{it.form}"

    def attachment_path(self, it) -> str:
        return f"/attach/0/{self._file(it)}"

    def _record(self, it) -> str:
        return (f"<record><![CDATA[<li><a href='{self.detail_path(it)}' title='{html.escape(it.title)}' target='_blank'>"
                f"{html.escape(it.title)}</a><span class='bt-data-time'>{it.date}</span></li>]]></record>")

    def route(self, method, path, query, form):
        items = self.column.items
        if path == self.column_path:
            return self.list_page()
        if path == "/module/web/jpage/dataproxy.jsp":
            if str(form.get("columnid") or query.get("columnid")) != str(COLUMN_ID):
                return Resp(200, b"<datastore><totalrecord>0</totalrecord></datastore>", {"Content-Type": "text/xml"}, False)
            if method == "POST" and "startrecord" in query and "page_only" in self.quirks:
                start, end = 1, 0  # this site ignores startrecord: an empty recordset
            elif method == "POST" and "startrecord" in query:
                start, end = int(query["startrecord"]), int(query["endrecord"])
            elif "page" in query:  # some sites honour only page=
                p = int(query["page"])
                start, end = (p - 1) * self.per_page + 1, p * self.per_page
            else:
                return Resp(200, b"<datastore></datastore>", {"Content-Type": "text/xml"}, False)
            chosen = items[max(start - 1, 0):end]
            xml = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><datastore><totalrecord>{len(items)}</totalrecord>"
                   f"<totalpage>{-(-len(items) // self.per_page)}</totalpage><recordset>"
                   + "".join(self._record(it) for it in chosen) + "</recordset></datastore>")
            return Resp(200, xml.encode(), {"Content-Type": "text/xml;charset=UTF-8"}, False)
        if path == "/module/download/downfile.jsp":
            for it in self.reports():
                if it.form != "html" and query.get("filename") == self._file(it):
                    return Resp(302, b"", {"Location": self.attachment_path(it)}, False)
            return None
        for it in items:
            if path == self.detail_path(it):
                return self.detail(it)
        return None

    def list_page(self) -> Resp:
        items = self.column.items
        webname = quote(quote(self.site_title))
        first = "".join(self._record(it) for it in items[:self.per_page])
        body = f"""<div class="bt-position">您当前的位置：<a href="/">首页</a> &gt; 政府信息公开年报</div>
<div id="{UNIT_ID}"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=1&path=/&columnid={COLUMN_ID}&unitid={UNIT_ID}&webname={webname}&permissiontype=0"></a>]]></nextgroup>
<recordset>{first}</recordset></datastore></script></div>
<script language="javascript">var param_{UNIT_ID}={{col:1,webid:1,path:'/',columnid:{COLUMN_ID},sourceContentType:1,unitid:'{UNIT_ID}',webname:'{webname}',permissiontype:0}};
$('#{UNIT_ID}').jpage({{totalRecord:{len(items)},perPage:{self.per_page},groupSize:3,proxyUrl:'/module/web/jpage/dataproxy.jsp',ajaxParam:param_{UNIT_ID},dataBefore:'<ul>',dataAfter:'</ul>'}});</script>"""
        return self.page("政府信息公开年报", body)

    def detail(self, it) -> Resp:
        att = (f'<p><a href="/module/download/downfile.jsp?classid=0&filename={self._file(it)}">'
               f'{html.escape(it.title)}.{it.form}</a></p>')
        head = self.detail_head(it) + (f'<meta name="Maketime" content="{it.date} 17:18:00">'
                                       f'<meta name="i_columnid" content="{COLUMN_ID}"><meta content="{it.id}" name="i_articleid">')
        body = (f'<div class="xxgk">{self.xxgk_block(it)}</div><div class="title">{html.escape(it.title)}</div>'
                f'<div class="info">信息来源：<!--<$[信息来源]>begin-->{it.publisher}<!--<$[信息来源]>end--> 发布日期：{it.date}</div>'
                f'<div id="zoom"><!--ZJEG_RSS.content.begin--><meta name="ContentStart">{self.body_of(it, att)}'
                f'<meta name="ContentEnd"><!--ZJEG_RSS.content.end--></div>')
        return self.page(it.title, body, head)
