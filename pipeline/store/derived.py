"""The one writer of derived data. Everything here is computed from base rows
(documents, reports, sections, cells, fetches) and can be rebuilt from them at any time:

- reports.publication and reports.is_primary: one report per publication. A detail
  page, the body derived from it and its attachments are sources of one publication
  (the detail page's URL); the best parse among the current versions is primary. A
  file ingested from disk is a publication of its own. Only a parse that is a report
  (ok, figures_inconsistent, extraction_incomplete) can be primary; list pages never.
  The same report at two URLs (same agency, year and figures) is primary once.
- reports.published where the document did not say (from the detail page's fetch)
- the region of a report whose agency names no place: the portal's (sites.adcode)
- figures: one row of key figures per report
- year_totals: the sums of figures per year, province and status (the years a refresh
  touched, recomputed at its end from `figures`)
- series_comparable: the measures old and new templates share, per agency and year
- search / search_fts: the bigram index of titles and section text
- sites.reports: primary reports per crawled site
- issues of kind continuity and cumulative: checks against the agency's previous report

`refresh(conn)` brings all of it up to date for the reports in `pending` (written since
the last refresh) and for every report whose primary status changed. `Archive.finish()`
calls it; every batch that writes ends there.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Callable

from .. import agencies, gazetteer
from .schema import FIGURES_FILL, YEAR_TOTALS_FILL, YEAR_TOTALS_GROUP, series_fill

# A complete extraction ranks the same whether or not the publisher's figures add up
# (figures_inconsistent is a finding about the report, not about the source).
STATUS_RANK = {"ok": 0, "figures_inconsistent": 0, "extraction_incomplete": 1}
REPORT_STATUSES = tuple(STATUS_RANK)
ROLE_RANK = {"attachment": 0, "body": 1, "detail": 2}
NOT_PUBLICATIONS = ("list", "home")


def _rank(d: dict) -> tuple:
    # Figures read first: a detail-page shell that parses as a table-less report must
    # not win over the body or attachment that carries the tables. Then the text: a
    # report joined from its main document and the workbook of its tables (the same
    # figures, and the six sections) wins over the workbook read alone.
    return (d["status"] not in STATUS_RANK, -(d["cells_found"] or 0), STATUS_RANK.get(d["status"], 9),
            -min(d["sections"] or 0, 6), ROLE_RANK.get(d["role"], 3), d["id"])


def publication_of(url: str | None, role: str | None, parent_url: str | None) -> str | None:
    if role in NOT_PUBLICATIONS:
        return None
    pub = parent_url if role in ("body", "attachment") and parent_url else url
    return pub[:-5] if pub and pub.endswith("#body") else pub


def assign_publications(conn: sqlite3.Connection) -> set[str]:
    """Recompute publication and is_primary of every report; returns the ids that changed."""
    cur = conn.execute("""
        SELECT r.id, d.url, d.role, COALESCE(d.fetched_at, d.stored_at), p.url, r.status, r.cells_found,
               r.publication, r.is_primary, r.agency_id, r.report_year,
               (SELECT COUNT(*) FROM sections s WHERE s.report = r.id)
        FROM reports r JOIN documents d ON d.sha256 = r.id LEFT JOIN documents p ON p.sha256 = d.parent_sha256""")
    names = ("id", "url", "role", "when", "parent_url", "status", "cells_found", "old_pub", "old_primary",
             "agency_id", "report_year", "sections")
    docs = [dict(zip(names, row)) for row in cur]
    # Only the current version of each URL competes; older versions stay, never primary.
    # Current is what the URL served when last fetched (fetches.sha256): a report changed
    # and then changed back is its first document again, though that row is the older.
    current = dict(conn.execute("SELECT url, sha256 FROM fetches WHERE sha256 IS NOT NULL"))
    newest: dict[str, dict] = {}
    for d in docs:
        if not d["url"]:
            continue
        key = (current.get(d["url"]) == d["id"], d["when"], d["id"])
        if d["url"] not in newest or key > newest[d["url"]]["key"]:
            d["key"] = key
            newest[d["url"]] = d
    groups: dict[object, list[dict]] = {}
    for d in docs:
        d["pub"] = publication_of(d["url"], d["role"], d["parent_url"])
        d["primary"] = 0
        if d["role"] in NOT_PUBLICATIONS or (d["url"] and newest[d["url"]] is not d):
            continue
        groups.setdefault(d["pub"] or ("file", d["id"]), []).append(d)
    for members in groups.values():
        best = min(members, key=_rank)
        best["primary"] = int(best["status"] in REPORT_STATUSES)
    _one_primary_per_report(conn, [d for d in docs if d["primary"]])
    changed = [d for d in docs if (d["pub"], d["primary"]) != (d["old_pub"], d["old_primary"])]
    conn.executemany("UPDATE reports SET publication = ?, is_primary = ? WHERE id = ?",
                     [(d["pub"], d["primary"], d["id"]) for d in changed])
    return {d["id"] for d in changed}


def _one_primary_per_report(conn: sqlite3.Connection, primaries: list[dict]) -> None:
    """The same report published at two URLs (two columns of one portal, a mirror page
    with other chrome) is two publications with the same figures: counted once. Same
    agency, same year and the very same figures (every table cell and old-table value,
    at least one printed) make one report; the first one fetched stays primary, the
    others stay in the archive as non-primary."""
    by_key: dict[tuple, list[dict]] = {}
    for d in primaries:
        if d["agency_id"] and d["report_year"] and d["cells_found"]:
            by_key.setdefault((d["agency_id"], d["report_year"]), []).append(d)
    for members in by_key.values():
        if len(members) < 2:
            continue
        ids = json.dumps([d["id"] for d in members])
        figures: dict[str, list] = {d["id"]: [] for d in members}
        for sql in ("SELECT report, table_no, row, col, value FROM cells WHERE report IN (SELECT value FROM json_each(?))",
                    "SELECT report, 'old', row, col, value FROM old WHERE report IN (SELECT value FROM json_each(?))"):
            for report, *cell in conn.execute(sql, (ids,)):
                figures[report].append(tuple(cell))
        seen: dict[tuple, dict] = {}
        for d in sorted(members, key=lambda d: (d["when"] or "", d["id"])):
            fp = tuple(sorted(figures[d["id"]], key=repr))
            if fp in seen:
                d["primary"] = 0
            else:
                seen[fp] = d


CHUNK = 20_000


def refresh(conn: sqlite3.Connection, progress: Callable[[int, int], None] | None = None,
            chunk: int = CHUNK) -> dict:
    """Bring every derived row up to date; returns counts for the summary line.

    Publications are assigned over the whole archive first (a new version of one URL can
    change which report of another is primary); the reports whose primary status changed
    join `pending`. The per-report rows then follow in chunks of `chunk` reports, each
    chunk one transaction that ends by taking its reports off `pending`: a refresh of a
    million reports shows progress (`progress(done, total)`), holds no hour-long write
    lock, and an interrupted one resumes where it stopped. Chunks go agency by agency, so
    the checks against the year before see an agency's reports together."""
    with conn:
        changed = assign_publications(conn)
        conn.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(i,) for i in changed])
        conn.execute("DROP TABLE IF EXISTS temp.todo")
        conn.execute("""CREATE TEMP TABLE todo AS SELECT p.report FROM pending p LEFT JOIN reports r ON r.id = p.report
                        ORDER BY r.agency_id, r.report_year, p.report""")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS touched (report TEXT PRIMARY KEY)")
    total = conn.execute("SELECT MAX(rowid) FROM temp.todo").fetchone()[0] or 0
    for start in range(0, total, chunk):
        with conn:
            conn.execute("DELETE FROM touched")
            conn.execute("INSERT OR IGNORE INTO touched SELECT report FROM temp.todo WHERE rowid > ? AND rowid <= ?",
                         (start, start + chunk))
            _refresh_touched(conn)
            conn.execute("DELETE FROM pending WHERE report IN (SELECT report FROM touched)")
        if progress:
            progress(min(start + chunk, total), total)
    with conn:
        conn.execute("DROP TABLE IF EXISTS temp.todo")
        _year_totals(conn)
        conn.execute("UPDATE sites SET reports = (SELECT COUNT(*) FROM reports r WHERE r.site = sites.name"
                     " AND r.is_primary = 1)")
        primary = conn.execute("SELECT COUNT(*) FROM reports WHERE is_primary = 1").fetchone()[0]
        publications = conn.execute("SELECT COUNT(DISTINCT COALESCE(publication, id)) FROM reports "
                                    "WHERE is_primary = 1").fetchone()[0]
    return {"refreshed": total, "primary_changed": len(changed), "primary": primary,
            "publications": publications}


def _refresh_touched(conn: sqlite3.Connection) -> None:
    """Every per-report derived row of the reports in `touched`."""
    # A PDF rarely says when it was published; the detail page around it does.
    conn.execute("""UPDATE reports SET published = (SELECT f.published FROM fetches f WHERE f.url = reports.publication)
                    WHERE id IN (SELECT report FROM touched) AND published IS NULL AND publication IS NOT NULL""")
    _place_by_portal(conn)
    # The years a report leaves and the years it joins both need their sums again.
    years = "INSERT OR IGNORE INTO pending_years SELECT COALESCE(report_year, -1) FROM figures WHERE report IN " \
            "(SELECT report FROM touched)"
    conn.execute(years)
    conn.execute("DELETE FROM figures WHERE report IN (SELECT report FROM touched)")
    conn.execute(FIGURES_FILL + " WHERE r.id IN (SELECT report FROM touched) GROUP BY r.id")
    conn.execute(years)
    conn.execute("DELETE FROM series_comparable WHERE report IN (SELECT report FROM touched)")
    conn.execute(series_fill("SELECT report FROM touched"))
    _reindex(conn)
    _cross_checks(conn)


def _year_totals(conn: sqlite3.Connection) -> None:
    """year_totals of the years in pending_years, from figures. Once per refresh, not
    per chunk: a year's sums read all its figures rows (a second or two at a million)."""
    conn.execute("DELETE FROM year_totals WHERE report_year IN (SELECT report_year FROM pending_years)")
    conn.execute(YEAR_TOTALS_FILL + "report_year IN (SELECT report_year FROM pending_years)" + YEAR_TOTALS_GROUP)
    if conn.execute("SELECT 1 FROM pending_years WHERE report_year = -1").fetchone():
        conn.execute("DELETE FROM year_totals WHERE report_year IS NULL")
        conn.execute(YEAR_TOTALS_FILL + "report_year IS NULL" + YEAR_TOTALS_GROUP)
    conn.execute("DELETE FROM pending_years")


def _place_by_portal(conn: sqlite3.Connection) -> None:
    """A report whose agency names no place (or a place several divisions share) lies
    in the region of the portal that published it."""
    rows = conn.execute("""SELECT r.id, r.agency, s.adcode FROM reports r JOIN sites s ON s.name = r.site
                           WHERE r.id IN (SELECT report FROM touched) AND r.adcode IS NULL
                           AND s.adcode IS NOT NULL""").fetchall()
    for rid, agency, within in rows:
        place = agencies.identify(agency, within)
        if place["adcode"] is None:
            portal = gazetteer.load().by_code.get(within)
            if portal is None:
                continue
            place.update(adcode=portal.adcode, province=portal.province, city=portal.city, county=portal.county,
                         agency_id=f"{portal.adcode}:{place['organ']}" if place["organ"] else None)
        conn.execute("UPDATE reports SET adcode = ?, province = ?, city = ?, county = ?, agency_id = ?, "
                     "region_from = 'portal' WHERE id = ?",
                     (place["adcode"], place["province"], place["city"], place["county"], place["agency_id"], rid))


CROSS_CHECKS = ("continuity", "cumulative")


def _cross_checks(conn: sqlite3.Connection) -> None:
    """Issues that compare a report with the same agency's report of the year before,
    for every agency a touched report belongs to (its neighbours' checks change too):
    - continuity: this year's 上年结转 (table 3) against last year's 结转下年度;
    - cumulative: an old table's 历年累计 against last year's 历年累计 plus this year's.
    They flag, never edit a figure.

    Both read agency by agency from the touched agencies (CROSS JOINs fix that order,
    INDEXED BY the index): left to itself, the planner of an archive not yet ANALYZEd
    scanned every primary report per chunk, a quadratic refresh at a million reports."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS touched_agencies (agency_id TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM touched_agencies")
    conn.execute("""INSERT OR IGNORE INTO touched_agencies SELECT agency_id FROM reports
                    WHERE id IN (SELECT report FROM touched) AND agency_id IS NOT NULL""")
    conn.execute(f"""DELETE FROM issues WHERE kind IN {CROSS_CHECKS}
                     AND report IN (SELECT id FROM reports WHERE agency_id IN (SELECT agency_id FROM touched_agencies))""")
    conn.execute("""
        INSERT INTO issues (report, kind, code, table_no, row, col, lhs, rhs, message, cells, evidence)
        SELECT cur.report, 'continuity', 't3_carried', 3, 'carried_in', 'total', prev.t3_carried_out, cur.t3_carried_in,
               '上年结转' || cur.t3_carried_in || '件，而上年报告结转下年度' || prev.t3_carried_out || '件',
               '[["carried_in", "total"]]',
               json_object('previous_report', prev.report, 'previous_year', prev.report_year)
        FROM touched_agencies t
        CROSS JOIN figures cur INDEXED BY figures_agency_id ON cur.agency_id = t.agency_id
        CROSS JOIN figures prev INDEXED BY figures_agency_id
          ON prev.agency_id = cur.agency_id AND prev.report_year = cur.report_year - 1 AND prev.is_primary = 1
        WHERE cur.is_primary = 1
          AND cur.t3_carried_in IS NOT NULL AND prev.t3_carried_out IS NOT NULL
          AND cur.t3_carried_in != prev.t3_carried_out
          AND prev.report = (SELECT MIN(p.report) FROM figures p INDEXED BY figures_agency_id
                             WHERE p.agency_id = cur.agency_id AND p.report_year = cur.report_year - 1
                             AND p.is_primary = 1)""")
    conn.execute("""
        INSERT INTO issues (report, kind, code, table_no, row, col, lhs, rhs, message, cells, evidence)
        SELECT cur.id, 'cumulative', oc.row, NULL, oc.row, 'cumulative', op.value + oy.value, oc.value,
               COALESCE(oc.label, oc.row) || '：历年累计' || oc.value || '，上年累计' || op.value || '加本年' || oy.value
                 || '为' || (op.value + oy.value),
               json_array(json_array(oc.row, 'cumulative')),
               json_object('previous_report', prev.id, 'previous_year', prev.report_year)
        FROM touched_agencies t
        CROSS JOIN reports cur INDEXED BY reports_agency_id ON cur.agency_id = t.agency_id
        CROSS JOIN old oc ON oc.report = cur.id AND oc.col = 'cumulative' AND oc.value IS NOT NULL
        CROSS JOIN old oy ON oy.report = cur.id AND oy.row = oc.row AND oy.col = 'year' AND oy.value IS NOT NULL
        CROSS JOIN reports prev INDEXED BY reports_agency_id
          ON prev.agency_id = cur.agency_id AND prev.report_year = cur.report_year - 1 AND prev.is_primary = 1
        CROSS JOIN old op ON op.report = prev.id AND op.row = oc.row AND op.col = 'cumulative' AND op.value IS NOT NULL
        WHERE cur.is_primary = 1
          AND abs(op.value + oy.value - oc.value) > 1e-6
          AND prev.id = (SELECT MIN(p.id) FROM reports p INDEXED BY reports_agency_id WHERE p.agency_id = cur.agency_id
                         AND p.report_year = cur.report_year - 1 AND p.is_primary = 1)""")


def _reindex(conn: sqlite3.Connection) -> None:
    """Search rows of the touched reports: title first, then each section with text.
    The FTS table is contentless, so a delete must hand back the indexed bigrams."""
    conn.execute("""INSERT INTO search_fts (search_fts, rowid, grams)
                    SELECT 'delete', id, nianbao_bigrams(text) FROM search WHERE report IN (SELECT report FROM touched)""")
    conn.execute("DELETE FROM search WHERE report IN (SELECT report FROM touched)")
    conn.execute("""INSERT INTO search (report, section_no, heading, text)
                    SELECT id, NULL, '标题', title FROM reports
                    WHERE id IN (SELECT report FROM touched) AND COALESCE(title, '') != ''
                    ORDER BY id""")
    conn.execute("""INSERT INTO search (report, section_no, heading, text)
                    SELECT report, no, title, text FROM sections
                    WHERE report IN (SELECT report FROM touched) AND COALESCE(text, '') != ''
                    ORDER BY report, no""")
    conn.execute("""INSERT INTO search_fts (rowid, grams)
                    SELECT id, nianbao_bigrams(text) FROM search WHERE report IN (SELECT report FROM touched)""")


def mark_all(conn: sqlite3.Connection) -> None:
    """Queue every report for a refresh (an archive from before `figures`, a rebuild)."""
    with conn:
        conn.execute("INSERT OR IGNORE INTO pending SELECT id FROM reports")


def catch_up(conn: sqlite3.Connection) -> None:
    """An archive written before year_totals or series_comparable were tables: fill them
    from the figures it has (on open, so the site never reads them empty)."""
    if not conn.execute("SELECT 1 FROM figures LIMIT 1").fetchone():
        return
    with conn:
        if not conn.execute("SELECT 1 FROM year_totals LIMIT 1").fetchone():
            conn.execute("INSERT OR IGNORE INTO pending_years SELECT DISTINCT COALESCE(report_year, -1) FROM figures")
            _year_totals(conn)
        if not conn.execute("SELECT 1 FROM series_comparable LIMIT 1").fetchone():
            conn.execute(series_fill())
