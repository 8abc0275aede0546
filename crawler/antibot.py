"""Anti-bot walls a spider cannot pass without a browser. Detect, report, back off."""
from __future__ import annotations

import re

_RS = re.compile(rb"\$_ts\s*=|\$_ts\.|window\[\s*'\$_ts'\s*\]")
_JSL = re.compile(rb"__jsl_clearance|document\.cookie\s*=\s*\(?'?_'?\)?\s*\+|_jsl_")
_WZWS = re.compile(rb"wzws_cid|WZWSREL|wzwschallenge|\xe8\xaf\xb7\xe5\xbc\x80\xe5\x90\xafJavaScript\xe5\xb9\xb6\xe5\x88\xb7\xe6\x96\xb0\xe8\xaf\xa5\xe9\xa1\xb5")


def detect_wall(status: int, headers: dict[str, str], body: bytes) -> str | None:
    """The wall's name and evidence, or None. `headers`: lower-case names → joined values."""
    head = body[:20000]
    cookies = headers.get("set-cookie", "")
    location = headers.get("location", "")
    if status in (202, 412) and _RS.search(head):
        return "瑞数 (RS): HTTP %d with $_ts script" % status
    if status == 412 and re.search(r"\w{10,}[ST]=", cookies):
        return "瑞数 (RS): HTTP 412 with challenge cookie"
    if status == 521 and (_JSL.search(head) or "__jsluid" in cookies):
        return "加速乐 (jsl): HTTP 521 with __jsl_clearance cookie script"
    if "wzws_cid" in cookies or "WZWS" in location.upper() or _WZWS.search(head):
        return "WZWS: %d %s" % (status, "wzws_cid challenge" if "wzws_cid" in cookies or "WZWS" in location.upper()
                                else "「请开启JavaScript并刷新该页」")
    return None
