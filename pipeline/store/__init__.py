"""The archive: archive.db (SQLite) and raw/ (every file by sha256) beside it.

This package is the only writer of both. `schema` declares every table and view,
`Archive` (archive.py) writes documents and reports, `CrawlLog` (crawl.py) the crawl
bookkeeping, and `derived` everything computed from those rows. The schema is public:
researchers' SQL depends on it, and the site's metadata (pipeline/site/metadata.py)
describes every column.
"""
from .archive import PARSER_VERSION, Archive
from .raw import RawStore, raw_root_for, sha256
from .schema import FIGURE_COLUMNS, t3_pairs, wide_name
from .timeutil import now

__all__ = ["Archive", "RawStore", "raw_root_for", "sha256", "now", "PARSER_VERSION", "FIGURE_COLUMNS",
           "t3_pairs", "wide_name"]
