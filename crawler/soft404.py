"""Soft 404s: a portal answering 200 OK with an error page where a report was.

Chinese CMSs rarely send a 404: a removed article answers 200 with 「页面不存在」,
「您访问的页面不存在或已被删除」 or a bare "404" page. Stored as the report's page it
would become a publication without a report, and the gap would look like success.
The test is deliberately narrow: a short page whose title or heading says it is an
error, and that does not carry the report title the column listed."""
from __future__ import annotations

import re

from .families.base import plain_text

_ERROR = re.compile(r"页面不存在|页面找不到|找不到(该|此)?页面|您(所)?访问的(页面|文章|信息|内容|文件)?(不存在|已被?删除|已过期)"
                    r"|信息不存在|文章不存在|内容不存在|已被删除")
_HEAD_ERROR = re.compile(_ERROR.pattern + r"|^\W*404\b|\b404\W*$|not\s+found|错误", re.I)
_TITLE = re.compile(r"(?is)<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>")


def soft_404(text: str, listed_title: str | None = None) -> str | None:
    """Why this 200 page is an error page, or None."""
    body = plain_text(text)
    if len(body.strip()) > 3000:  # a real article page is longer than any error page
        return None
    if listed_title and re.sub(r"\s+", "", listed_title)[:12] in re.sub(r"\s+", "", body):
        return None
    heads = " ".join(a or b for a, b in _TITLE.findall(text))
    m = _HEAD_ERROR.search(plain_text(heads).strip()) or _ERROR.search(body)
    return f"soft 404: HTTP 200 with an error page ({m.group(0).strip()!r})" if m else None
