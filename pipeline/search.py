"""Chinese full-text search that finds two-character words.

SQLite's unicode61 tokenizer sees a run of Han characters as one token, and trigram
drops terms shorter than three characters. We index overlapping character bigrams
instead (the CJK analyzer approach): 「行政复议」 is stored as 「行政 政复 复议」, so any
term of two or more characters becomes a phrase of its bigrams and matches exactly the
texts that contain it as a substring. One-character terms use a bigram prefix query.
Latin words and numbers stay whole words. The same two functions run at index time
and, registered as SQL functions, at query time (Datasette search page).
"""
from __future__ import annotations

import re
import sqlite3

_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[A-Za-z0-9]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _grams(run: str) -> list[str]:
    if not _HAN.match(run):
        return [run.lower()]
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def bigrams(text: str | None) -> str:
    """The indexed form of `text`: space-separated bigrams and latin words."""
    if not text:
        return ""
    out: list[str] = []
    for m in _RUNS.finditer(text):
        out.extend(_grams(m.group()))
    return " ".join(out)


def fts_query(q: str | None) -> str:
    """Turn what a user typed into an FTS5 MATCH expression over `bigrams` text.

    Whitespace-separated terms are ANDed; a term is matched as a phrase, so
    「政府信息公开」 finds only that substring. Never raises on odd input: characters
    FTS5 would treat as syntax never reach it. An empty query matches nothing."""
    terms = []
    for term in (q or "").split():
        grams: list[str] = []
        for m in _RUNS.finditer(term):
            grams.extend(_grams(m.group()))
        if not grams:
            continue
        if len(grams) == 1 and _HAN.match(grams[0]) and len(grams[0]) == 1:
            terms.append(f'"{grams[0]}" *')  # lone Han character: any bigram starting with it
        else:
            terms.append('"' + " ".join(grams) + '"')
    return " AND ".join(terms) if terms else '""'


def snippet(text: str | None, q: str | None, width: int = 40) -> str:
    """Plain-text context around the first hit, the hit wrapped in [[ ]] markers.

    FTS5's own snippet() would show bigrams, so we cut from the original text."""
    if not text:
        return ""
    terms = [t for t in (q or "").split() if t]
    best = None
    for t in terms:
        i = text.find(t)
        if i >= 0 and (best is None or i < best[0]):
            best = (i, t)
    if best is None:
        return text[: 2 * width] + ("…" if len(text) > 2 * width else "")
    i, t = best
    start, end = max(0, i - width), min(len(text), i + len(t) + width)
    s = text[start:end]
    for term in terms:
        s = s.replace(term, f"[[{term}]]")
    return ("…" if start else "") + s.replace("\n", " ") + ("…" if end < len(text) else "")


def register(conn: sqlite3.Connection) -> None:
    """Make nianbao_fts_query(q), nianbao_bigrams(text), nianbao_snippet(text, q) available in SQL."""
    conn.create_function("nianbao_fts_query", 1, fts_query, deterministic=True)
    conn.create_function("nianbao_bigrams", 1, bigrams, deterministic=True)
    conn.create_function("nianbao_snippet", 2, snippet, deterministic=True)
