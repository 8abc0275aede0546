"""Every table, index and view of archive.db, in one place.

Base data (written by `Archive` as things happen):
- documents  every file ever stored, keyed by sha256, with where it came from
- reports    the newest parse of one document (its own columns; `publication`,
             `is_primary` and a missing `published` are derived, see below)
- sections, cells, issues   the parse's sections, table cells (long), rule breaks and gaps
- failures   files or documents that could not be stored or parsed, and why
- runs, fetches, sites      crawl bookkeeping (store/crawl.py)
- frontier_*               the shared frontier's cycles, written by `nianbao archiver`
- warc_files the WARC files each run wrote (store/warc.py); documents.warc_* and
             fetches.warc_* name the response record (file, offset, length) of the bytes
- pending    reports written since the derived data was last brought up to date
- reparse_todo  the checkpoint of a running `nianbao reparse`: documents still to parse

Derived data (written only by store/derived.py, from the base data):
- reports.publication / is_primary / published, figures (one row of key figures per
  report), year_totals (their sums per year, province and status), search + search_fts
  (bigram full-text index), sites.reports
- pending_years  years whose year_totals wait for the end of a refresh
- series_comparable  the measures 2008–2018 and 2019– reports share, one row per
  agency, year and measure

Views: t3_wide, totals_by_year, agency_series, document_versions.
"""
from __future__ import annotations

import sqlite3

from .. import templates

TABLES = """
CREATE TABLE IF NOT EXISTS documents (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  type TEXT NOT NULL,
  original_name TEXT,
  url TEXT,
  final_url TEXT,
  http_status INTEGER,
  content_type TEXT,
  etag TEXT,
  last_modified TEXT,
  fetched_at TEXT,
  site TEXT,
  parent_sha256 TEXT REFERENCES documents(sha256),
  role TEXT,
  stored_at TEXT NOT NULL,
  warc_file TEXT,
  warc_offset INTEGER,
  warc_length INTEGER
);
CREATE INDEX IF NOT EXISTS documents_url ON documents(url);
CREATE INDEX IF NOT EXISTS documents_site ON documents(site);
CREATE INDEX IF NOT EXISTS documents_parent ON documents(parent_sha256);

CREATE TABLE IF NOT EXISTS reports (
  id TEXT PRIMARY KEY REFERENCES documents(sha256),
  status TEXT NOT NULL,
  reason TEXT,
  agency TEXT,
  report_year INTEGER,
  title TEXT,
  agency_titled TEXT,
  agency_id TEXT,
  adcode TEXT,
  province TEXT,
  city TEXT,
  county TEXT,
  region_from TEXT,
  container TEXT,
  template_t2 TEXT,
  template_t3 TEXT,
  template_t4 TEXT,
  template_old TEXT,
  cells_found INTEGER,
  cells_missing INTEGER,
  rules_broken INTEGER,
  published TEXT,
  site TEXT,
  url TEXT,
  publication TEXT,
  is_primary INTEGER NOT NULL DEFAULT 0,
  parser_version TEXT,
  parsed_at TEXT NOT NULL,
  meta TEXT
);
CREATE INDEX IF NOT EXISTS reports_year ON reports(report_year);
CREATE INDEX IF NOT EXISTS reports_agency ON reports(agency, report_year);
CREATE INDEX IF NOT EXISTS reports_status ON reports(status);
CREATE INDEX IF NOT EXISTS reports_region ON reports(province, city, county);
CREATE INDEX IF NOT EXISTS reports_publication ON reports(publication);
CREATE INDEX IF NOT EXISTS reports_site ON reports(site, is_primary);
CREATE INDEX IF NOT EXISTS reports_agency_id ON reports(agency_id, report_year);
CREATE INDEX IF NOT EXISTS reports_adcode ON reports(adcode);

CREATE TABLE IF NOT EXISTS sections (
  report TEXT NOT NULL REFERENCES reports(id),
  no INTEGER NOT NULL,
  title TEXT,
  text TEXT,
  PRIMARY KEY (report, no)
);

CREATE TABLE IF NOT EXISTS cells (
  report TEXT NOT NULL REFERENCES reports(id),
  table_no INTEGER NOT NULL,
  row TEXT NOT NULL,
  col TEXT NOT NULL,
  value NUMERIC,
  raw TEXT,
  reason TEXT,
  source TEXT,
  PRIMARY KEY (report, table_no, row, col)
);
CREATE INDEX IF NOT EXISTS cells_code ON cells(table_no, row, col);

CREATE TABLE IF NOT EXISTS old (
  report TEXT NOT NULL REFERENCES reports(id),
  row TEXT NOT NULL,
  col TEXT NOT NULL,
  value NUMERIC,
  raw TEXT,
  reason TEXT,
  label TEXT,
  unit TEXT,
  source TEXT,
  PRIMARY KEY (report, row, col)
);
CREATE INDEX IF NOT EXISTS old_code ON old(row, col);

CREATE TABLE IF NOT EXISTS issues (
  id INTEGER PRIMARY KEY,
  report TEXT NOT NULL REFERENCES reports(id),
  kind TEXT NOT NULL,
  code TEXT NOT NULL,
  table_no INTEGER,
  row TEXT,
  col TEXT,
  lhs NUMERIC,
  rhs NUMERIC,
  message TEXT,
  cells TEXT,
  evidence TEXT
);
CREATE INDEX IF NOT EXISTS issues_report ON issues(report);
CREATE INDEX IF NOT EXISTS issues_code ON issues(kind, code);
CREATE INDEX IF NOT EXISTS issues_kind_report ON issues(kind, report);
CREATE INDEX IF NOT EXISTS issues_table_no ON issues(table_no, kind, code);

CREATE TABLE IF NOT EXISTS search (
  id INTEGER PRIMARY KEY,
  report TEXT NOT NULL REFERENCES reports(id),
  section_no INTEGER,
  heading TEXT,
  text TEXT
);
CREATE INDEX IF NOT EXISTS search_report ON search(report);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(grams, content='', tokenize='unicode61');

CREATE TABLE IF NOT EXISTS failures (
  id INTEGER PRIMARY KEY,
  sha256 TEXT,
  original_name TEXT,
  stage TEXT NOT NULL,
  reason TEXT NOT NULL,
  at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS pending (
  report TEXT PRIMARY KEY
);

CREATE TABLE IF NOT EXISTS reparse_todo (
  sha256 TEXT PRIMARY KEY,
  total INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  started TEXT NOT NULL,
  finished TEXT,
  status TEXT NOT NULL,
  sites TEXT,
  jobdir TEXT,
  pages INTEGER NOT NULL DEFAULT 0,
  new INTEGER NOT NULL DEFAULT 0,
  changed INTEGER NOT NULL DEFAULT 0,
  unchanged INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  blocked INTEGER NOT NULL DEFAULT 0,
  note TEXT,
  expected INTEGER,
  reached INTEGER
);
CREATE TABLE IF NOT EXISTS fetches (
  url TEXT PRIMARY KEY,
  site TEXT,
  role TEXT,
  sha256 TEXT,
  final_url TEXT,
  http_status INTEGER,
  content_type TEXT,
  etag TEXT,
  last_modified TEXT,
  parent_url TEXT,
  first_seen TEXT,
  last_fetched TEXT,
  last_changed TEXT,
  versions INTEGER NOT NULL DEFAULT 0,
  run_id INTEGER,
  title TEXT,
  published TEXT,
  publisher TEXT,
  index_no TEXT,
  report_year INTEGER,
  error TEXT,
  warc_file TEXT,
  warc_offset INTEGER,
  warc_length INTEGER
);
CREATE INDEX IF NOT EXISTS fetches_site ON fetches(site);
CREATE INDEX IF NOT EXISTS fetches_parent ON fetches(parent_url);
CREATE TABLE IF NOT EXISTS warc_files (
  name TEXT PRIMARY KEY,
  run_id INTEGER,
  size INTEGER,
  records INTEGER,
  closed TEXT
);
CREATE TABLE IF NOT EXISTS sites (
  name TEXT PRIMARY KEY,
  start_url TEXT,
  family TEXT,
  agency TEXT,
  status TEXT,
  reason TEXT,
  last_run INTEGER,
  last_checked TEXT,
  found INTEGER,
  reports INTEGER,
  adcode TEXT,
  expected INTEGER,
  reached INTEGER
);

-- The shared frontier (crawler/cluster): which cycle is which run, what each site's
-- workers reported in it, and which worker messages are already in the archive (the
-- archiver applies each message once, in the same transaction as its rows).
CREATE TABLE IF NOT EXISTS frontier_cycles (
  cycle TEXT PRIMARY KEY,
  run_id INTEGER NOT NULL,
  sites TEXT NOT NULL,  -- the site configs the cycle was seeded with (JSON, name → config)
  started TEXT NOT NULL,
  finished TEXT
);
CREATE TABLE IF NOT EXISTS frontier_sites (
  cycle TEXT NOT NULL,
  site TEXT NOT NULL,
  pages INTEGER NOT NULL DEFAULT 0,
  found INTEGER NOT NULL DEFAULT 0,
  detail_failed INTEGER NOT NULL DEFAULT 0,
  status TEXT,
  reason TEXT,
  gaps TEXT NOT NULL DEFAULT '[]',
  extra TEXT NOT NULL DEFAULT '{}',  -- completeness: records reached, the count stated, how the rest hides
  PRIMARY KEY (cycle, site)
);
CREATE TABLE IF NOT EXISTS frontier_applied (
  id TEXT PRIMARY KEY,
  cycle TEXT NOT NULL
);
"""


# ---------------------------------------------------------------- figures
def t3_pairs() -> list[tuple[str, str]]:
    """Every (row, col) of table 3 in either template, in template order."""
    seen: list[tuple[str, str]] = []
    for tpl in ("2021", "2019"):
        for row, col, _ in templates.expected_cells(3, tpl):
            if (row, col) not in seen:
                seen.append((row, col))
    return seen


def wide_name(row: str, col: str) -> str:
    """The t3_wide column of a table-3 cell: row__col with dots as underscores."""
    return f"{row.replace('.', '_')}__{col}"


def _figure_columns() -> list[tuple[str, int, str, str]]:
    """(column name, table, row, col) of every figure column: the 总计 of every table-3
    row, new requests by applicant type, all of table 4."""
    out: list[tuple[str, int, str, str]] = []
    seen: set[str] = set()
    for tpl in ("2021", "2019"):
        for r in templates.table3_rows(tpl):
            name = "t3_" + r.code.replace(".", "_")
            if name not in seen:
                seen.add(name)
                out.append((name, 3, r.code, "total"))
    for c in templates.T3_COLS:
        if c.code != "total":
            out.append(("new_" + c.code, 3, "new", c.code))
    for g in templates.T4_GROUPS:
        for c in templates.T4_COLS:
            out.append((f"{g.code}_{c.code}", 4, g.code, c.code))
    return out


FIGURE_COLUMNS = _figure_columns()
# Report columns copied into figures, so that per-year and per-agency pages over a
# million reports read one short row per report and never join.
FIGURE_META = ("report_year", "agency", "agency_id", "adcode", "province", "city", "county", "status", "template_t3",
               "is_primary")
_FACET_FILTERS = ("report_year", "province", "city", "status", "template_t3", "container", "is_primary")
_FIGURE_FACETS = ("report_year", "province", "status", "template_t3")  # with is_primary, the figures page's filters

FIGURES = (
    "CREATE TABLE IF NOT EXISTS figures (\n  report TEXT PRIMARY KEY REFERENCES reports(id),\n  "
    "report_year INTEGER, agency TEXT, agency_id TEXT, adcode TEXT, province TEXT, city TEXT, county TEXT, status TEXT, "
    "template_t3 TEXT, is_primary INTEGER, t3_cells INTEGER,\n  "
    + ",\n  ".join(f"{name} NUMERIC" for name, *_ in FIGURE_COLUMNS)
    + "\n);\n"
    # The figures page's facets, each read from one covering index (as for reports below).
    + "".join(f"CREATE INDEX IF NOT EXISTS figures_facet_{c} ON figures"
              f"({', '.join([c] + [x for x in _FIGURE_FACETS if x != c] + ['is_primary'])});\n" for c in _FIGURE_FACETS) +
    "CREATE INDEX IF NOT EXISTS figures_agency ON figures(agency, report_year);\n"
    "CREATE INDEX IF NOT EXISTS figures_agency_id ON figures(agency_id, report_year);\n"
    "CREATE INDEX IF NOT EXISTS figures_region ON figures(province, city, county);\n"
    "CREATE INDEX IF NOT EXISTS figures_t3 ON figures(is_primary, t3_cells);\n"
    # One covering index per faceted column, holding the columns people filter on: a
    # facet count under a filter (status = …, province = …) then reads one index and
    # never the table, whichever selectivity the planner guesses.
    + "".join(
        f"CREATE INDEX IF NOT EXISTS reports_facet_{c} ON reports({', '.join([c] + [x for x in _FACET_FILTERS if x != c])});\n"
        for c in ("report_year", "province", "city", "county", "adcode", "agency", "template_t3", "template_old",
                  "status", "container"))
)

# The figures row of each report in `WHERE` (appended by the caller), from its cells.
FIGURES_FILL = (
    "INSERT OR REPLACE INTO figures (report, " + ", ".join(FIGURE_META) + ", t3_cells, "
    + ", ".join(name for name, *_ in FIGURE_COLUMNS) + ")\n"
    "SELECT r.id, " + ", ".join("r." + m for m in FIGURE_META) + ",\n  "
    "COUNT(CASE WHEN c.table_no = 3 THEN 1 END),\n  "
    + ",\n  ".join(
        f"MAX(CASE WHEN c.table_no = {t} AND c.row = '{row}' AND c.col = '{col}' THEN c.value END)"
        for _, t, row, col in FIGURE_COLUMNS)
    + "\nFROM reports r LEFT JOIN cells c ON c.report = r.id AND c.table_no IN (3, 4)"
)


# The sums of every figure column over the primary reports, one row per year, province,
# status and whether table 3 was read. The per-year canned queries and the charts read
# a few hundred rows here instead of summing a million `figures` rows on each visit.
# A blank adds nothing (SUM ignores NULL), as in figures; `reports` counts the rows.
YEAR_TOTALS_KEY = ("report_year", "province", "status", "has_t3")
YEAR_TOTALS = (
    "CREATE TABLE IF NOT EXISTS year_totals (\n  report_year INTEGER, province TEXT, status TEXT, has_t3 INTEGER,"
    " reports INTEGER,\n  " + ",\n  ".join(f"{name} NUMERIC" for name, *_ in FIGURE_COLUMNS) + "\n);\n"
    "CREATE INDEX IF NOT EXISTS year_totals_year ON year_totals(report_year, province);\n"
    # A report without a year is kept under -1: the key of a table must not be NULL.
    "CREATE TABLE IF NOT EXISTS pending_years (report_year INTEGER PRIMARY KEY);\n"
)
# year_totals rows of the primary figures in `WHERE` (appended by the caller, after AND).
YEAR_TOTALS_FILL = (
    "INSERT INTO year_totals (" + ", ".join(YEAR_TOTALS_KEY) + ", reports, "
    + ", ".join(name for name, *_ in FIGURE_COLUMNS) + ")\n"
    "SELECT report_year, province, status, t3_cells > 0, COUNT(*), "
    + ", ".join(f"SUM({name})" for name, *_ in FIGURE_COLUMNS) + "\n"
    "FROM figures WHERE is_primary = 1 AND "
)
YEAR_TOTALS_GROUP = " GROUP BY report_year, province, status, t3_cells > 0"


# ---------------------------------------------------------------- views
KEY_TOTALS = [
    ("t3_new", "requests_new"), ("t3_carried_in", "requests_carried_in"),
    ("t3_granted", "granted"), ("t3_partly_granted", "partly_granted"),
    ("t3_results_total", "results_total"), ("review_total", "reviews"),
    ("review_corrected", "reviews_corrected"), ("suit_direct_total", "suits_direct"),
    ("suit_after_review_total", "suits_after_review"),
]
# A report counts in totals and series when it is the primary parse of its publication
# (is_primary is 1 only for parses that are reports: see derived.assign_publications).
REPORTS_COUNTED = "f.is_primary = 1"


def views() -> dict[str, str]:
    cols = ",\n  ".join(
        f"(SELECT value FROM cells c WHERE c.report = r.report AND c.table_no = 3 AND c.row = '{r}' AND c.col = '{c}')"
        f" AS {wide_name(r, c)}" for r, c in t3_pairs()
    )
    # Rows come from `figures` and each column is one lookup on the cells primary key,
    # instead of grouping all of cells: a page of 50 rows stays fast at any size.
    t3_wide = f"""SELECT r.report, r.agency, r.report_year, r.province, r.city, r.county, r.template_t3, r.status,
  {cols}
FROM figures r
WHERE r.is_primary = 1 AND r.t3_cells > 0"""
    # Sums treat a blank as absent (SUM ignores NULL); `reports_with_t3` says how many
    # reports the sums rest on, so a reader can see when blanks thin a year out, and
    # `reports_unread` how many of the year's reports could not be read in full (a
    # "see attachment" page whose attachment failed, a scan without OCR): a gap, shown.
    totals_sql = ",\n  ".join(f"SUM(f.{src}) AS {name}" for src, name in KEY_TOTALS)
    series_sql = ",\n  ".join(f"f.{src} AS {name}" for src, name in KEY_TOTALS)
    # Read from year_totals (the primary reports' sums), not summed over figures per visit.
    totals = f"""SELECT f.report_year,
  SUM(f.reports) AS reports,
  SUM(CASE WHEN f.has_t3 THEN f.reports ELSE 0 END) AS reports_with_t3,
  SUM(CASE WHEN f.status IN ('extraction_incomplete', 'failed') THEN f.reports ELSE 0 END) AS reports_unread,
  {totals_sql}
FROM year_totals f
GROUP BY f.report_year"""
    series = f"""SELECT f.agency_id, f.agency, f.report_year, f.report, f.status, f.adcode, f.province, f.city, f.county,
  {series_sql}
FROM figures f
WHERE {REPORTS_COUNTED}"""
    versions = """SELECT url, sha256, role, site, http_status, etag, last_modified, fetched_at, size, parent_sha256
FROM documents WHERE url IS NOT NULL ORDER BY url, fetched_at"""
    return {"t3_wide": t3_wide, "totals_by_year": totals, "agency_series": series, "document_versions": versions}


# The measures a 2008–2018 report and a 2019/2021 report both print, and where each
# template prints them: (measure, figures column(s) summed, old row).
COMPARABLE = [
    ("requests", ("t3_new",), "requests.total"),
    ("granted", ("t3_granted",), "answers.granted"),
    ("partly_granted", ("t3_partly_granted",), "answers.partly_granted"),
    ("reviews", ("review_total",), "review.total"),
    ("lawsuits", ("suit_direct_total", "suit_after_review_total"), "suit.total"),
]


SERIES_COLUMNS = ("agency_id", "agency", "report_year", "report", "adcode", "province", "city", "county", "measure",
                  "value", "template", "source")
# A table, not a view: the union below over a million reports took seconds per visit.
SERIES = (
    "CREATE TABLE IF NOT EXISTS series_comparable (\n  agency_id TEXT, agency TEXT, report_year INTEGER, report TEXT,"
    " adcode TEXT, province TEXT, city TEXT, county TEXT, measure TEXT, value NUMERIC, template TEXT, source TEXT,\n"
    "  PRIMARY KEY (report, measure, source)\n);\n"
    "CREATE INDEX IF NOT EXISTS series_agency ON series_comparable(agency_id, report_year, measure);\n"
)


def series_fill(reports: str | None = None) -> str:
    """The series_comparable rows of the reports `reports` selects (an SQL subquery of
    report ids), or of every report: one row per agency, year and measure over
    2008–2025, with the template (2008, 2014, 2019, 2021) and cell it was read from."""
    only_f = f" AND f.report IN ({reports})" if reports else ""
    only_r = f" AND r.id IN ({reports})" if reports else ""
    place = "agency_id, agency, report_year, report, adcode, province, city, county"
    new = " UNION ALL ".join(
        f"""SELECT f.{place.replace(', ', ', f.')}, '{m}' AS measure, {' + '.join('f.' + c for c in cols)} AS value,
  f.template_t3 AS template, '{"+".join(cols)}' AS source
FROM figures f WHERE f.is_primary = 1 AND f.t3_cells > 0{only_f}""" for m, cols, _ in COMPARABLE)
    cases = " ".join(f"WHEN '{row}' THEN '{m}'" for m, _, row in COMPARABLE)
    old = f"""SELECT r.{place.replace(', ', ', r.').replace('r.report,', 'r.id AS report,')}, CASE o.row {cases} END AS measure,
  o.value, r.template_old AS template, 'old:' || o.row AS source
FROM old o JOIN reports r ON r.id = o.report
WHERE r.is_primary = 1 AND o.col = 'year' AND o.row IN ({', '.join(repr(row) for _, _, row in COMPARABLE)}){only_r}"""
    return f"INSERT INTO series_comparable ({', '.join(SERIES_COLUMNS)})\n" + new + " UNION ALL " + old


def create(conn: sqlite3.Connection) -> None:
    """Create what is missing, and bring views to the current definitions (they hold no
    data, so an archive written by an older version gets today's views)."""
    # Columns added since an archive was written come first: the scripts index them.
    _add_missing_columns(conn, "sites", {"found": "INTEGER", "adcode": "TEXT",
                                         "expected": "INTEGER", "reached": "INTEGER"})
    _add_missing_columns(conn, "runs", {"expected": "INTEGER", "reached": "INTEGER"})
    _add_missing_columns(conn, "reports", {"agency_titled": "TEXT", "agency_id": "TEXT", "adcode": "TEXT",
                                           "region_from": "TEXT", "template_old": "TEXT"})
    _add_missing_columns(conn, "issues", {"evidence": "TEXT"})
    warc = {"warc_file": "TEXT", "warc_offset": "INTEGER", "warc_length": "INTEGER"}
    _add_missing_columns(conn, "documents", warc)
    _add_missing_columns(conn, "fetches", warc)
    _add_missing_columns(conn, "figures", {"agency_id": "TEXT", "adcode": "TEXT"})
    conn.executescript(TABLES)
    conn.executescript(FIGURES)
    conn.executescript(YEAR_TOTALS)
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = 'series_comparable'").fetchone():
        conn.execute("DROP VIEW series_comparable")  # a table now, filled by derived.catch_up
    conn.executescript(SERIES)
    conn.execute("DROP INDEX IF EXISTS figures_totals")  # totals_by_year reads year_totals now
    conn.execute("DROP INDEX IF EXISTS figures_year")  # figures_facet_report_year begins with it
    conn.execute("DROP TRIGGER IF EXISTS figures_follow_reports")  # before derived.py owned figures
    for name, sql in views().items():
        old = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", (name,)).fetchone()
        new = f"CREATE VIEW {name} AS\n{sql}"
        if old is None or old[0] != new:
            conn.execute(f"DROP VIEW IF EXISTS {name}")
            conn.execute(new)
    conn.commit()


def _add_missing_columns(conn: sqlite3.Connection, table: str, cols: dict[str, str]) -> None:
    have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
    if not have:  # a new archive: the table is created whole
        return
    for name, kind in cols.items():
        if name not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
