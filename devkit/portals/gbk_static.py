"""A plain static district site in GBK: the HTTP header names no charset, pages declare
gb2312 in a meta tag (their bytes are GBK, a superset), pager links are plain `<a>`
(下一页) beside "共N条", attachments are DOCX/PDF under /uploadfiles/. Quirk "endless_pager":
pages past the last keep linking a next one; quirk "no_count": the pager states no record
count (then only max_pages bounds an endless pager); quirk "fanout": each page links the
one after the next too."""
from __future__ import annotations

import html
import re

from .server import Portal, Resp


class GbkStaticPortal(Portal):
    family = "static"
    encoding = "gbk"
    charset_header = False
    column_path = "/xxgk/nb/index.htm"
    per_page = 5

    def meta_charset(self) -> str:
        return "gb2312"

    def _pages(self):
        items = self.column.items
        return [items[i:i + self.per_page] for i in range(0, len(items), self.per_page)] or [[]]

    def detail_path(self, it) -> str:
        return f"/xxgk/nb/content_{it.id}.htm"

    def attachment_path(self, it) -> str:
        return f"/uploadfiles/{it.date[:4]}/{it.id}.{it.form}"

    def route(self, method, path, query, form):
        resp = self.route_paged(path, self._pages(), "/xxgk/nb/index.htm", "/xxgk/nb/index", "htm")
        if resp is None and "endless_pager" in self.quirks and re.fullmatch(r"/xxgk/nb/index_\d+\.htm", path):
            # A pager that never ends: every page past the last one is empty and links the next.
            k = int(path[len("/xxgk/nb/index_"):-4])
            return self.list_page([], k, k + 2)
        return resp

    def list_page(self, items, k, count) -> Resp:
        rows = "".join(f'<LI><A href="content_{it.id}.htm">{html.escape(it.title)}</A> <SPAN>[{it.date}]</SPAN></LI>'
                       + "".join(f'<LI><A href="{m}">{html.escape(it.title)}</A> <SPAN>[{it.date}]</SPAN></LI>'
                                 for m in self.mirror_paths.get(it.id, ()))  # the same report listed twice
                       for it in items)
        nav = []
        if k > 0:
            nav.append(f'<A href="{"index.htm" if k == 1 else f"index_{k - 1}.htm"}">上一页</A>')
        if k + 1 < count or "endless_pager" in self.quirks:
            nav.append(f'<A href="index_{k + 1}.htm">下一页</A>')
            nav.append(f'<A href="index_{count - 1}.htm">尾页</A>')
            if "fanout" in self.quirks:  # pages further on linked too: several wait at once (cluster tests)
                nav.append(f'<A href="index_{k + 2}.htm">{k + 3}</A>')
        stated = "" if "no_count" in self.quirks else f"共{len(self.column.items)}条 "
        body = (f'<TABLE width="100%"><TR><TD><UL class="news">{rows}</UL></TD></TR></TABLE>'
                f'<DIV class="pages">{stated}第{k + 1}页/共{count}页 {" ".join(nav)}</DIV>')
        return self.page("信息公开年报", body)

    def detail(self, it) -> Resp:
        att = f'<P>附件：<A href="{self.attachment_path(it)}">{html.escape(it.title)}.{it.form}</A></P>'
        body = (f'{self.xxgk_block(it)}<TABLE class="sj_bt"><TR><TD>{html.escape(it.title)}</TD></TR></TABLE>'
                f'<DIV class="date">发布时间：{it.date} 信息发布人：管理员</DIV>'
                f'<TABLE class="sj_nr"><TR><TD>{self.body_of(it, att)}</TD></TR></TABLE>')
        return self.page(it.title, body, self.detail_head(it))
