"""Say why a fetch failed in words an operator reads in `fetches.error` and
`sites.reason`, not as a repr of nested Twisted failures."""
from __future__ import annotations

# Exceptions whose own text says little or nothing.
PLAIN = {
    "ConnectionLost": "connection lost mid-answer (reset or closed by the server)",
    "ConnectionDone": "connection closed by the server before an answer",
    "ResponseDataLossError": "body cut short: the connection closed before the length the server declared "
                             "(truncated body or wrong Content-Length)",
    "_DataLoss": "body cut short: the connection closed before the declared length",
    "ResponseNeverReceived": "no answer received",
    "ResponseFailed": "answer broken off",
}


def describe(exc: BaseException) -> str:
    """One line: what went wrong, with the underlying network error when wrapped."""
    name = type(exc).__name__
    reasons = getattr(exc, "reasons", None)  # Twisted's ResponseFailed & co. wrap a list of Failures
    if reasons:
        inner = "; ".join(dict.fromkeys(describe(getattr(r, "value", r)) for r in reasons))
        return f"{PLAIN.get(name, name)}: {inner}"
    text = str(exc).strip()
    cause = exc.__cause__ or exc.__context__
    if cause is not None and (not text or text.startswith("[<")):
        return describe(cause)  # Scrapy's DownloadFailedError around a Twisted failure list: say the inner one
    if name in PLAIN:
        return f"{PLAIN[name]} ({name})"
    return text or name
