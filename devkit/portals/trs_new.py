"""TRS new template: list.shtml / list_N.shtml paged by `createPageHTML('page_div', total,
cur, 'list', 'shtml', records)`. Extra pages here are numbered from _1 (other sites use
_2: the spider probes both). Attachments in `insertfileTag` with OLDSRC; for one report
the href is dead and only OLDSRC answers, as on some real sites."""
from __future__ import annotations

import html

from .server import Portal, Resp


class TrsNewPortal(Portal):
    family = "trs_new"
    column_path = "/xxgk/zfxxgknb/list.shtml"
    per_page = 4

    def _pages(self):
        items = self.column.items
        return [items[i:i + self.per_page] for i in range(0, len(items), self.per_page)] or [[]]

    def detail_path(self, it) -> str:
        d = it.date.replace("-", "")
        return f"/xxgk/zfxxgknb/{d[:6]}/t{d}_{it.id}.shtml"

    def _dead_href(self, it) -> bool:
        atts = [x for x in self.reports() if x.form != "html"]
        return bool(atts) and it is atts[-1]

    def attachment_path(self, it) -> str:
        d = it.date.replace("-", "")
        name = f"P0{d}{it.id}.{it.form}"
        if self._dead_href(it):
            return f"/protect/P0{d[:6]}/{name}"
        return f"/xxgk/zfxxgknb/{d[:6]}/{name}"

    def route(self, method, path, query, form):
        base = "/xxgk/zfxxgknb/"
        # some sites call the second page list_2 (quirk "from_2"), others list_1
        return self.route_paged(path, self._pages(), base + "list.shtml", base + "list", "shtml",
                                offset=1 if "from_2" in self.quirks else 0)

    def list_page(self, items, k, count) -> Resp:
        lis = "".join(f'<li><a href="./{self.detail_path(it)[len("/xxgk/zfxxgknb/"):]}" title="{html.escape(it.title)}">'
                      f'{html.escape(it.title[:22])}</a><span>{it.date}</span></li>' for it in items)
        body = (f'<div class="list_right"><ul class="list">{lis}</ul><div id="page_div"></div>'
                f"<script>createPageHTML('page_div', {count}, {k + 1}, 'list', 'shtml', {len(self.column.items)});</script></div>"
                '<script src="/common/js/createPageHTML.js"></script>')
        return self.page("政府信息公开年报", body)

    def detail(self, it) -> Resp:
        d = it.date.replace("-", "")
        name = f"P0{d}{it.id}.{it.form}"
        href = f"./{name}" if not self._dead_href(it) else f"./{name}"
        att = (f'<p class="insertfileTag"><a appendix="true" href="{href}" '
               f'OLDSRC="/protect/P0{d[:6]}/{name}">{html.escape(it.title)}.{it.form}</a></p>')
        body = (f'<div class="xxgk_info">{self.xxgk_block(it)}</div><div class="article"><h2>{html.escape(it.title)}</h2>'
                f'<div class="trs_editor_view TRS_UEDITOR trs_paper_default trs_web">{self.body_of(it, att)}</div></div>')
        return self.page(it.title, body, self.detail_head(it))
