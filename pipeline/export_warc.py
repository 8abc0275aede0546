"""Web-archive releases of what the crawls fetched: `nianbao export --format warc|wacz`.

- warc: the WARC files (every file the archive records, or one run's) copied into the
  output folder with their per-file CDXJ indexes and one merged, sorted `index.cdxj`;
  any replay tool (pywb: `wb-manager add`) or WARC reader takes them as they are.
- wacz: one WACZ 1.1.1 package (a zip: archive/*.warc.gz, indexes/, pages/pages.jsonl,
  datapackage.json with each file's sha256, datapackage-digest.json), built by py-wacz
  (the `wacz` package, Webrecorder's own tool), that ReplayWeb.page opens directly.
  pages.jsonl lists the report pages (fetches of role `detail`) with their titles; the
  index py-wacz writes is the compressed form the spec allows (indexes/index.cdx.gz
  with its indexes/index.idx), which replay tools read without unpacking the archive.

The WARC files are read where the crawl wrote them (warc/ beside the archive, or the
folder given); the archive itself is only read.
"""
from __future__ import annotations

import contextlib
import io
import json
import shutil
import sqlite3
from pathlib import Path

from .store.warc import index_path, merge_indexes, warc_root_for


def warc_files(db_path: Path | str, warc_dir: Path | str | None = None, run: int | None = None) -> list[Path]:
    """The WARC files the archive records (of one run when `run` is given), oldest first.
    A recorded file that is missing is an error: an export must not be silently short."""
    root = Path(warc_dir) if warc_dir else warc_root_for(db_path)
    con = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        sql = "SELECT name FROM warc_files" + (" WHERE run_id = ?" if run is not None else "") + " ORDER BY name"
        names = [n for (n,) in con.execute(sql, (run,) if run is not None else ())]
    except sqlite3.OperationalError:  # an archive from before WARC
        names = []
    finally:
        con.close()
    if not names:
        raise ValueError(f"no WARC files recorded{f' for run {run}' if run is not None else ''} in {db_path}")
    paths = [root / n for n in names]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} WARC file(s) recorded in the archive are missing: {missing[0]} …")
    return paths


def export_warc(db_path: Path | str, out_dir: Path | str, *, warc_dir: Path | str | None = None,
                run: int | None = None) -> dict[str, int]:
    """Copy the WARC files and their indexes into out_dir, plus a merged index.cdxj."""
    files = warc_files(db_path, warc_dir, run)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    size = 0
    for f in files:
        merge_indexes([f], out / index_path(f).name)  # the file's own index (made if the crawl could not)
        tmp = out / (f.name + ".part")
        shutil.copyfile(f, tmp)
        tmp.replace(out / f.name)
        size += f.stat().st_size
    lines = merge_indexes([out / f.name for f in files], out / "index.cdxj")
    return {"files": len(files), "bytes": size, "index_lines": lines}


def _pages(db_path: Path | str, names: set[str]) -> list[dict]:
    con = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT url, title, warc_file FROM fetches WHERE role = 'detail' AND warc_file IS NOT NULL "
                           "ORDER BY url").fetchall()
    finally:
        con.close()
    return [{"url": url, "title": title or url} for url, title, f in rows if f in names]


def export_wacz(db_path: Path | str, out_file: Path | str, *, warc_dir: Path | str | None = None,
                run: int | None = None, title: str = "nianbao: 政府信息公开工作年度报告") -> dict[str, int]:
    """Write one WACZ of the WARC files (all, or one run's) with the report pages listed."""
    from .store.warc import _cdxj_indexer

    _cdxj_indexer()  # imported once without its pkg_resources warning (store/warc.py)
    from wacz.main import main as wacz_main

    files = warc_files(db_path, warc_dir, run)
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    pages = _pages(db_path, {f.name for f in files})
    tmp = out.with_name(out.name + ".part.wacz")
    pages_file = out.with_name(out.name + ".pages.jsonl")
    header = {"format": "json-pages-1.0", "id": "pages", "title": "Report pages"}
    pages_file.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in [header, *pages]), "utf-8")
    said = io.StringIO()
    try:
        args = ["create", "-o", str(tmp), "--title", title, *(["-p", str(pages_file)] if pages else []),
                *map(str, files)]
        with contextlib.redirect_stdout(said):  # py-wacz talks on stdout; keep it for errors
            code = wacz_main(args)
        if code:
            raise RuntimeError(f"py-wacz could not build the WACZ: {said.getvalue()[-2000:]}")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
        pages_file.unlink(missing_ok=True)
    return {"files": len(files), "pages": len(pages), "bytes": out.stat().st_size}
