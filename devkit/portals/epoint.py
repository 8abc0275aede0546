"""Epoint 国泰新点 WebBuilder (EWB): the column page /dynamic/zwgk/govInfoPub.html
?categorynum=…&deptcode=… is a shell loading /js/webBuilderCommon.js, whose
`var siteInfo = {…projectName: "/EWB-FRONT", siteGuid: "…"}` the page's script uses to
POST {projectName}/rest/lightfrontaction/getgovinfolist with a JSON body
{deptcode, categorynum, siteGuid, pageIndex (0-based), pageSize} (or the same under
"params", as some sites send it) → {"custom":{"total":N,"data":[{infourl,title,realtitle,infodate,…}]},
"status":{"code":200,"text":""}}. A form-encoded body or an unknown siteGuid gets
an error status and no data. Detail pages /zwgk/{categorynum}/{yyyymmdd}/{guid}.html, body
`#mainContent`; attachments behind …/downloadZtbAttach.jspx?attachGuid=… (no file name in
the URL; Content-Disposition names it)."""
from __future__ import annotations

import html
import json
import uuid

from .server import Portal, Resp

JSON_TYPE = {"Content-Type": "application/json;charset=UTF-8"}

PROJECT = "/EWB-FRONT"
SITE_GUID = "7eb5f7f1-9041-43ad-8e13-8fcb82ea831a"
CATEGORY = "003001003"
ATTACH = "/EpointWebBuilder/WebbuilderMIS/attach/downloadZtbAttach.jspx"


class EpointPortal(Portal):
    family = "epoint"
    column_path = f"/dynamic/zwgk/govInfoPub.html?categorynum={CATEGORY}&deptcode="
    per_page = 15  # the server's cap on pageSize

    def _guid(self, it) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"epoint:{it.id}"))

    def detail_path(self, it) -> str:
        return f"/zwgk/{CATEGORY}/{it.date.replace('-', '')}/{self._guid(it)}.html"

    def attachment_path(self, it) -> str:
        return f"{ATTACH}?attachGuid={self._guid(it)[::-1]}&appUrlFlag=ztb&siteGuid={SITE_GUID}"

    def route(self, method, path, query, form):
        if path == "/dynamic/zwgk/govInfoPub.html":
            return self.list_page()
        if path == "/js/webBuilderCommon.js":
            js = (f'var siteInfo = {{\n    "projectName": "{PROJECT}",\n    "siteGuid": "{SITE_GUID}",\n'
                  f'    "siteName": "{self.site_title}",\n    "uploadUrl": "{PROJECT}/rest/uploadfile"\n}};\n'
                  'var Util = window.Util || {};\n')
            return Resp(200, js.encode(), {"Content-Type": "application/javascript"})
        if path == f"{PROJECT}/rest/lightfrontaction/getgovinfolist":
            return self.api(method)
        if path == ATTACH:
            for it in self.reports():
                if it.form != "html" and query.get("attachGuid") == self._guid(it)[::-1]:
                    resp = self.attachment(it)
                    resp.headers = {**resp.headers, "Content-Disposition": f'attachment; filename="{it.id}.{it.form}"'}
                    return resp
            return None
        for it in self.column.items:
            if path == self.detail_path(it):
                return self.detail(it)
        return None

    def api(self, method: str) -> Resp:
        try:
            body = json.loads(self.request_body() or "null")
        except json.JSONDecodeError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("params"), dict):
            body = body["params"]
        if method != "POST" or not isinstance(body, dict) or body.get("siteGuid") != SITE_GUID:
            out = {"custom": "", "status": {"code": 500, "text": "参数错误"}}
            return Resp(200, json.dumps(out, ensure_ascii=False).encode(), {"Content-Type": "application/json"}, False)
        items = self.column.items if body.get("categorynum") == CATEGORY else []
        index = max(int(body.get("pageIndex") or 0), 0)
        size = min(max(int(body.get("pageSize") or 15), 1), self.per_page)
        rows = [{"infoid": self._guid(it), "infourl": self.detail_path(it), "title": it.title[:30],
                 "realtitle": it.title, "infodate": it.date, "categorynum": CATEGORY, "zhuanzai": it.publisher}
                for it in items[index * size:(index + 1) * size]]
        out = {"custom": {"total": len(items), "data": rows}, "status": {"code": 200, "text": ""}}
        return Resp(200, json.dumps(out, ensure_ascii=False).encode(), JSON_TYPE, False)

    def list_page(self) -> Resp:
        body = ('<div class="ewb-location">当前位置：<a href="/">首页</a> &gt; 政府信息公开 &gt; 政府信息公开年报</div>'
                '<ul class="ewb-info-items" id="infolist"></ul><div class="ewb-page" id="pager"></div>'
                '<script src="/js/webBuilderCommon.js"></script>'
                '<script>var categorynum = Util.getUrlParams("categorynum");'
                'Util.ajax({url: siteInfo.projectName + "/rest/lightfrontaction/getgovinfolist",'
                'data: JSON.stringify({deptcode: Util.getUrlParams("deptcode"), categorynum: categorynum,'
                'siteGuid: siteInfo.siteGuid, pageIndex: 0, pageSize: 15}), success: render});</script>')
        return self.page("政府信息公开年报", body)

    def detail(self, it) -> Resp:
        att = (f'<p class="attach"><a href="{self.attachment_path(it)}" target="_blank">'
               f'{html.escape(it.title)}.{it.form}</a></p>')
        body = (f'<div class="ewb-article"><div class="xxgk">{self.xxgk_block(it)}</div>'
                f'<h2 class="ewb-article-tt">{html.escape(it.title)}</h2>'
                f'<div class="ewb-article-sources">发布时间：{it.date} 信息来源：{it.publisher}</div>'
                f'<div class="ewb-article-info" id="mainContent">{self.body_of(it, att)}</div></div>')
        return self.page(it.title, body, self.detail_head(it))
