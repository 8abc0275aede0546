"""One report per publication. A detail page, its derived body and its attachments are
sources of the same publication (the detail page URL); the best parse is primary.
Older versions of a URL are never primary: the archive keeps them for history."""
from __future__ import annotations

from pipeline.store import Archive

# A complete extraction ranks the same whether or not the publisher's figures add up
# (figures_inconsistent is a finding about the report, not about the source).
STATUS_RANK = {"ok": 0, "figures_inconsistent": 0, "extraction_incomplete": 1}
ROLE_RANK = {"attachment": 0, "body": 1, "detail": 2}


def _rank(r: dict) -> tuple:
    # Figures read first: a detail-page shell that parses as a table-less report must
    # not win over the body or attachment that carries the tables.
    is_report = r["status"] in STATUS_RANK
    return (not is_report, -(r["cells_found"] or 0), STATUS_RANK.get(r["status"], 9), ROLE_RANK.get(r["role"], 3))


def assign(archive: Archive) -> dict:
    """Set reports.publication and reports.is_primary for every crawled document.
    Returns {"publications": n, "primary": n}."""
    conn = archive.conn
    rows = conn.execute("""
        SELECT d.sha256, d.url, d.role, d.fetched_at, d.stored_at, p.url AS parent_url, r.status, r.cells_found
        FROM documents d JOIN reports r ON r.id = d.sha256
        LEFT JOIN documents p ON p.sha256 = d.parent_sha256
        WHERE d.role IN ('detail', 'body', 'attachment')""").fetchall()
    cols = ["sha256", "url", "role", "fetched_at", "stored_at", "parent_url", "status", "cells_found"]
    docs = [dict(zip(cols, r)) for r in rows]
    # Only the newest version of each URL competes; older versions stay, not primary.
    newest: dict[str, dict] = {}
    for d in docs:
        key = d["url"]
        if key not in newest or (d["fetched_at"] or d["stored_at"]) > (newest[key]["fetched_at"] or newest[key]["stored_at"]):
            newest[key] = d
    groups: dict[str, list[dict]] = {}
    updates = []
    for d in docs:
        pub = d["url"] if d["role"] == "detail" else (d["parent_url"] or d["url"])
        if pub and pub.endswith("#body"):
            pub = pub[:-5]
        d["publication"] = pub
        if newest.get(d["url"]) is d:
            groups.setdefault(pub, []).append(d)
        else:
            updates.append((pub, 0, d["sha256"]))
    primary = 0
    for pub, members in groups.items():
        best = min(members, key=_rank)
        for d in members:
            is_best = d is best and d["status"] not in ("not_a_report", "failed")
            primary += is_best
            updates.append((pub, 1 if is_best else 0, d["sha256"]))
    with conn:
        conn.executemany("UPDATE reports SET publication = ?, is_primary = ? WHERE id = ?", updates)
        # List pages are fetched and kept, but they are nobody's report.
        conn.execute("UPDATE reports SET is_primary = 0, publication = NULL "
                     "WHERE id IN (SELECT sha256 FROM documents WHERE role = 'list')")
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'fetches'").fetchone():
            # A PDF rarely says when it was published; the detail page around it does.
            conn.execute("UPDATE reports SET published = (SELECT f.published FROM fetches f WHERE f.url = reports.publication) "
                         "WHERE published IS NULL AND publication IS NOT NULL")
    return {"publications": len(groups), "primary": primary}
