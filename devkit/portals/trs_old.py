"""TRS WCM old static generator: index.html / index_N.html (0-based), the pager written
by `document.write` from `var countPage`, details at ./YYYYMM/tYYYYMMDD_ID.html with
`<div class=TRS_Editor>` and attachments whose OLDSRC path 404s."""
from __future__ import annotations

import html

from .server import Portal, Resp


class TrsOldPortal(Portal):
    family = "trs_old"
    column_path = "/zfxxgknb/index.html"
    per_page = 5

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
