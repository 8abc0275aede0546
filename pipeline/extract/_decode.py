"""Bytes → str for text-like containers whose encoding nobody declared reliably.

Chinese government files are UTF-8, GBK/GB18030 or (rarely) Big5. Strict UTF-8 almost
never succeeds on GBK bytes, so try it first, then GB18030 (a superset of GBK/GB2312),
then let charset-normalizer guess.
"""
from __future__ import annotations

import codecs

import charset_normalizer


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, list[str]]:
    """Return (text, warnings). `declared` (a meta/HTTP charset) is tried first and
    kept only if it decodes cleanly; a wrong declaration is reported as a warning."""
    warnings: list[str] = []
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace"), warnings
    candidates: list[str] = []
    if declared:
        try:
            candidates.append(codecs.lookup(declared).name)
        except LookupError:
            warnings.append(f"unknown declared charset {declared!r}")
    for enc in ("utf-8", "gb18030"):
        if codecs.lookup(enc).name not in candidates:
            candidates.append(enc)
    if candidates and candidates[0] in ("gbk", "gb2312", "euc_cn"):
        candidates[0] = "gb18030"  # GB18030 decodes every GBK byte sequence and more
    if candidates and _single_byte(candidates[0]) and any(b > 0x7F for b in data):
        # A single-byte charset decodes anything, so it proves nothing: a Chinese page
        # "declared" latin-1 is really UTF-8 or GBK. Try those first.
        candidates.append(candidates.pop(0))
    if candidates[0] != "utf-8" and any(b > 0x7F for b in data):
        # Non-ASCII bytes that are valid UTF-8 are UTF-8: GBK text almost never is.
        candidates.remove("utf-8")
        candidates.insert(0, "utf-8")
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if declared and enc != _canon(declared):
            warnings.append(f"declared charset {declared!r} is wrong; decoded as {enc}")
        return text, warnings
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        if declared:
            warnings.append(f"declared charset {declared!r} is wrong; guessed {best.encoding}")
        else:
            warnings.append(f"charset guessed as {best.encoding}")
        return str(best), warnings
    warnings.append("undecodable bytes replaced")
    return data.decode(candidates[0] if candidates else "utf-8", errors="replace"), warnings


def _single_byte(enc: str) -> bool:
    return enc in ("ascii", "latin-1", "iso8859-1", "cp1252") or enc.startswith("iso8859")


def _canon(enc: str) -> str:
    try:
        name = codecs.lookup(enc).name
    except LookupError:
        return enc
    return "gb18030" if name in ("gbk", "gb2312", "euc_cn") else name
