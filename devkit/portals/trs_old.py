"""TRS WCM old static generator: index.html / index_N.html (0-based), the pager written
by `document.write` from `var countPage` (and `var countnum`, the record count, as
Handan's), details at ./YYYYMM/tYYYYMMDD_ID.html with `<div class=TRS_Editor>` and
attachments whose OLDSRC path 404s.

Quirk "dynamic": the 动静结合 pager of Fujian's TRS sites, as a saved real column
(平潭综合实验区 政府信息公开年报) has it: the column is index.htm, only pages
0 … `maxStaticIndex` (1 here) exist as files (index.htm, index_1.htm), the page's
configuration says `recordCount: '20'`, `prepage`, `chnlid`, and every page (1-based)
is served as JSON by the list API the page loads through `list2.trsapi`
(GET /trsapi/list2?chnlid=&page=&prepage=). What the real API answers is not on
record here: the JSON is this project's reconstruction (recordCount + data[title,
url, time]). Quirk "api_empty": the API answers 200 with no records (a broken
backend); break it otherwise with a fault on API_PATH."""
from __future__ import annotations

import html
import json

from .server import Portal, Resp

API_PATH = "/trsapi/list2"
CHNLID = "23512"
MAX_STATIC = 1


class TrsOldPortal(Portal):
    family = "trs_old"
    per_page = 5

    @property
    def column_path(self) -> str:
        return "/zfxxgknb/index.htm" if "dynamic" in self.quirks else "/zfxxgknb/index.html"

    def _pages(self):
        items = self.column.items
        return [items[i:i + self.per_page] for i in range(0, len(items), self.per_page)] or [[]]

    def detail_path(self, it) -> str:
        d = it.date.replace("-", "")
        return f"/zfxxgknb/{d[:6]}/t{d}_{it.id}.html"

    def attachment_path(self, it) -> str:
        d = it.date.replace("-", "")
        return f"/zfxxgknb/{d[:6]}/P0{d}{it.id}.{it.form}"

    def route(self, method, path, query, form):
        if "dynamic" in self.quirks:
            return self._route_dynamic(path, query)
        pages = self._pages()
        if path in ("/zfxxgknb/", "/zfxxgknb/index.html") or (path.startswith("/zfxxgknb/index_") and path.endswith(".html")):
            k = 0 if not path.startswith("/zfxxgknb/index_") else int(path[len("/zfxxgknb/index_"):-5] or -1)
            if not 0 <= k < len(pages):
                return None
            return self.list_page(pages[k], k, len(pages))
        for it in self.column.items:
            if path == self.detail_path(it):
                return self.detail(it)
        return None

    def list_page(self, items, k, count) -> Resp:
        rows = "".join(
            f'<tr><td class="gl_title"><a href="./{self.detail_path(it)[len("/zfxxgknb/"):]}" target="_blank">'
            f'{html.escape(it.title)}</a></td><td class="gl_date">{it.date}</td></tr>' for it in items)
        pager = f"""<script language="JavaScript">
var currentPage = {k};//所在页从0开始
var prevPage = currentPage-1//上一页
var nextPage = currentPage+1//下一页
var countPage = {count}//共多少页
document.write("共"+countPage+"页&nbsp;&nbsp;");
if(countPage>1&&currentPage!=0&&currentPage!=1)
 document.write("<a href=\\"index"+"_" + prevPage + "."+"html\\">上一页</a>&nbsp;");
else if(countPage>1&&currentPage!=0&&currentPage==1)
 document.write("<a href=\\"index.html\\">上一页</a>&nbsp;");
if(countPage>1&&currentPage!=(countPage-1))
 document.write("<a href=\\"index"+"_" + nextPage + "."+"html\\">下一页</a>");
</script>"""
        if "create_page" in self.quirks:  # the other TRS pager: createPageHTML(count, cur, prefix, ext)
            pager = f'<script type="text/javascript">createPageHTML({count}, {k}, "index", "html");</script>'
        else:
            pager = pager.replace("var currentPage", f"var countnum= {len(self.column.items)};\nvar currentPage", 1)
        body = (f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="./">信息公开年报</a></div>'
                f'<table class="gl_list" width="100%">{rows}</table><div class="page">{pager}</div>'
                f'<form action="http://{self.host}/was40/search.jsp" method="post"><input name="searchword"></form>')
        return self.page("信息公开年报", body)

    def detail(self, it) -> Resp:
        name = self.attachment_path(it).rsplit("/", 1)[1]
        att = (f'<p class="insertfileTag" style="line-height: 16px; color: #0066cc; font-size: 12px">'
               f'<img border="0" src="/images/icon_pdf.gif"><a appendix="true" href="./{name}" '
               f'OLDSRC="/protect/P0{it.date.replace("-", "")[:6]}/{name}">{html.escape(it.title)}.{it.form}</a></p>')
        body = (f'<div class="xxgk_head">{self.xxgk_block(it)}</div><h1 class="title">{html.escape(it.title)}</h1>'
                f'<div class=TRS_Editor>{self.body_of(it, att)}</div>')
        return self.page(it.title, body, self.detail_head(it))

    # ------------------------------------------------------------ 动静结合 (quirk "dynamic")
    def _route_dynamic(self, path, query) -> Resp | None:
        pages = self._pages()
        if path in ("/zfxxgknb/", "/zfxxgknb/index.htm"):
            return self._dynamic_page(pages[0], 0)
        if path.startswith("/zfxxgknb/index_") and path.endswith(".htm"):
            k = path[len("/zfxxgknb/index_"):-4]
            # Only pages 1 … maxStaticIndex were generated as files.
            if k.isdigit() and 1 <= int(k) <= MAX_STATIC and int(k) < len(pages):
                return self._dynamic_page(pages[int(k)], int(k))
            return None
        if path == API_PATH:
            return self._api(query)
        for it in self.column.items:
            if path == self.detail_path(it):
                return self.detail(it)
        return None

    def _entry(self, it) -> str:
        href = "./" + self.detail_path(it)[len("/zfxxgknb/"):]
        return (f'<li><a href="{href}" target="_blank"><div class="li-text">{html.escape(it.title)}</div>'
                f'<div class="li-btn">{it.date}</div></a></li>')

    def _dynamic_page(self, items, k) -> Resp:
        n = len(self.column.items)
        rows = "".join(self._entry(it) for it in items)
        # The avalon template the API fills, beside the records the generator wrote.
        template = '<li ms-repeat="list"><a ms-attr-href="el.url"><div class="li-text">{{el.title}}</div></a></li>'
        body = (f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zfxxgk/">政府信息公开</a> &gt; '
                f'<a href="./">政府信息公开年报</a></div>'
                f'<div class="left-menu"><a href="/zfxxgk/zfxxgkzn/">政府信息公开指南</a>'
                f'<a href="/zfxxgk/zfxxgknb/nlist.htm">政府信息公开年报</a></div>'
                f'<div class="gl-list"><ul class="gl-ul">{rows}{template}</ul>'
                f'<div class="pagebar" id="pagebar"></div></div>'
                f"<script>require(['list2.trsapi'], function () {{ listModel({{ chnlid: '{CHNLID}', "
                f"maxStaticIndex: {MAX_STATIC}, currentIndex: {k}, url: '{API_PATH}', "
                f"pagebar: {{ prepage: {self.per_page}, recordCount: '{n}' }} }}); }});</script>")
        return self.page("政府信息公开年报", body)

    def _api(self, query) -> Resp:
        items = self.column.items
        if query.get("chnlid") != CHNLID:
            return Resp(200, b'{"recordCount":"0","data":[]}', {"Content-Type": "application/json"}, False)
        p = int(query.get("page") or 1)
        per = int(query.get("prepage") or self.per_page)
        chosen = [] if "api_empty" in self.quirks else items[(p - 1) * per: p * per]
        data = {"recordCount": str(len(items)), "page": p, "prepage": per,
                "data": [{"title": it.title, "url": self.detail_path(it), "time": it.date} for it in chosen]}
        return Resp(200, json.dumps(data, ensure_ascii=False).encode(),
                    {"Content-Type": "application/json;charset=UTF-8"}, False)
