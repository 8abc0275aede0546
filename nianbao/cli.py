"""The `nianbao` command line: the one place that composes the parts.

    crawl ──→ archive ←── parse ──→ site
   (crawler)  (pipeline.store)  (pipeline)  (pipeline.site)

The crawler stores bytes and knows nothing of parsing; the parser reads the raw store
and knows nothing of crawling; the site reads the archive. Commands that do more than
one step (`run`, `demo`) call them in that order here. The demo's mock portals come
from nianbao.devkit, imported by `demo` alone.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import click

ARCHIVE = "archive.db"


def _db_option(f):
    return click.option("--db", "--archive", "db", default=ARCHIVE, show_default=True,
                        type=click.Path(dir_okay=False),
                        help="SQLite archive; the raw store lives beside it (raw/).")(f)


def _workers_option(f):
    return click.option("--workers", "-j", type=int, default=None, help="Parser processes [default: all cores].")(f)


def _limit_options(f):
    """--timeout and --memory-mb: the limits of every parse (pipeline/limits.py)."""
    from nianbao.pipeline import limits

    f = click.option("--memory-mb", type=click.IntRange(min=0), default=None,
                     show_default=f"{limits.DEFAULT_MEMORY_MB}; {limits.DEFAULT_OCR_MEMORY_MB} with NIANBAO_OCR=1",
                     envvar=limits.ENV_MEMORY, show_envvar=True,
                     help="Address space one document's parser may use (MB; 0: no limit); past it the "
                          "document is recorded as failed.")(f)
    return click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
                        show_default=f"{limits.DEFAULT_TIME_S:g}; {limits.DEFAULT_OCR_TIME_S:g} with NIANBAO_OCR=1",
                        envvar=limits.ENV_TIME, show_envvar=True,
                        help="Seconds one document may take before it is recorded as failed.")(f)


def _limits(timeout, memory_mb):
    from nianbao.pipeline.limits import Limits

    return Limits.from_env(timeout, memory_mb)


def _sites_option(f):
    return click.option("--sites", "--sites-dir", "sites_dirs", multiple=True, type=click.Path(exists=True),
                        help="Folder or file of site YAML [default: sites/ beside the archive].")(f)


def _positional_db(db_arg: str | None, db: str) -> str:
    """`nianbao serve archive.db` and `nianbao serve --db archive.db` mean the same."""
    path = db_arg or db
    if not Path(path).is_file():
        raise click.ClickException(f"{path} does not exist: build one with `nianbao ingest PATH`, "
                                   "`nianbao run` or `nianbao demo --dir DIR --no-serve`")
    return path


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nianbao")
def main() -> None:
    """nianbao: crawl, archive, parse and serve 政府信息公开工作年度报告."""


# ------------------------------------------------------------------------ parse side
def print_summary(summary) -> None:
    if summary.stored or summary.already:
        click.echo(f"stored {summary.stored} new document(s), {summary.already} already archived")
    skipped = getattr(summary, "skipped", [])
    if skipped:
        click.echo(f"skipped {len(skipped)} path(s) (recorded in failures, stage ingest):")
        for path, why in skipped[:50]:
            click.echo(f"  {'skipped':<22} {path}: {why}")
        if len(skipped) > 50:
            click.echo(f"  … and {len(skipped) - 50} more: SELECT * FROM failures WHERE stage = 'ingest'")
    click.echo(summary.line())
    shown = summary.problems[:50]
    for name, status, reason in shown:
        click.echo(f"  {status:<22} {name}: {reason}")
    if len(summary.problems) > len(shown):
        click.echo(f"  … and {len(summary.problems) - len(shown)} more: SELECT * FROM reports WHERE status != 'ok'")
    if summary.archive:
        click.echo(f"archive: {summary.archive['primary']} primary reports in {summary.archive['publications']} "
                   f"publications")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@_db_option
@_workers_option
@_limit_options
@click.option("--strict", is_flag=True, help="Exit 1 when any path was skipped or unreadable.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def ingest(paths, db, workers, timeout, memory_mb, strict, quiet):
    """Store files or folders (HTML, PDF, DOCX, DOC, text) in the archive and parse them.

    Every file is kept byte for byte in the raw store; the same bytes twice are stored once.
    Every document is parsed under the time and memory limits below.

    A path that cannot be read never stops the batch: unreadable files and folders,
    FIFOs, sockets and devices (never opened), dangling links and links to folders are
    skipped, each with a row in the `failures` table (stage ingest) and a line in the
    summary. Names starting with "." inside a folder are skipped the same way (give such
    a path itself to ingest it). A file name that is not UTF-8 is stored with its bytes
    escaped (\\xNN).

    Exit status: 0 when at least one file was read (skipped paths are in the summary and
    `failures`; with --strict they make it 1), 1 when nothing could be read."""
    from nianbao.pipeline.ingest import ingest_paths
    from nianbao.pipeline.store import Archive

    with Archive(db) as archive:
        summary = ingest_paths(archive, [os.fsencode(p) for p in paths], workers=workers,
                               limits=_limits(timeout, memory_mb), progress=not quiet)
    print_summary(summary)
    click.echo(f"archive: {Path(db).resolve()}  (browse it: nianbao serve --db {db})")
    if summary.skipped and (strict or not (summary.stored or summary.already)):
        click.echo(f"{len(summary.skipped)} path(s) could not be read"
                   + ("" if summary.stored or summary.already else "; no file was read"), err=True)
        sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the whole Report as JSON.")
@_limit_options
def parse(file, as_json, timeout, memory_mb):
    """Parse one file and print its Report, without touching any database.

    The parse runs in a child process under the time and memory limits (as in ingest);
    a FIFO, socket or device is refused without being opened. Exits 1 when the status
    is `failed` (unreadable, or past a limit)."""
    from nianbao.pipeline.limits import parse_file, path_text

    report = parse_file(os.fsencode(file), _limits(timeout, memory_mb), name=path_text(Path(file).name))
    if as_json:
        json.dump(report.to_dict(), sys.stdout, ensure_ascii=False, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        click.echo(f"{report.status}: {report.title or '(no title)'}")
        click.echo(f"agency {report.agency}, year {report.report_year}, templates {report.templates}")
        click.echo(f"{len(report.sections)} sections, {sum(c.value is not None for c in report.cells)}/"
                   f"{len(report.cells)} cells read")
        for i in report.issues:
            click.echo(f"  {i.kind} {i.code}: {i.message}")
        if report.reason and report.status != "ok":
            click.echo(f"reason: {report.reason}")
    if report.status == "failed":
        sys.exit(1)


@main.command()
@_db_option
@_workers_option
@_limit_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--restart", is_flag=True, help="Start over instead of resuming an interrupted reparse.")
def reparse(db, workers, timeout, memory_mb, quiet, restart):
    """Parse every stored document again from the raw store (after a parser upgrade).

    No request goes out. A report's old rows are replaced only once its new parse is
    written; publications, figures and the search index follow. Resumable: after Ctrl-C
    (or a crash) the next `nianbao reparse` goes on where it stopped."""
    from nianbao.pipeline.ingest import reparse as run_reparse
    from nianbao.pipeline.store import Archive

    if not Path(db).exists():
        raise click.ClickException(f"{db} does not exist: run `nianbao ingest PATH` or `nianbao run` first")
    with Archive(db) as archive:
        try:
            summary = run_reparse(archive, workers=workers, limits=_limits(timeout, memory_mb), progress=not quiet,
                                  restart=restart)
        except KeyboardInterrupt:
            left = archive.reparse_left()
            click.echo(f"interrupted: {left:,} document(s) still to parse; what was parsed is written. "
                       "Run `nianbao reparse` again to resume (`--restart` starts over).", err=True)
            sys.exit(130)
    if summary.resumed:
        click.echo(f"resumed an interrupted reparse: {summary.resumed:,} document(s) were already done")
    print_summary(summary)


# ------------------------------------------------------------------------ crawl side
def _overrides(pairs: tuple[str, ...]) -> dict:
    out = {}
    for p in pairs:
        k, _, v = p.partition("=")
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def _select_sites(db: str, sites_dirs, names, url, family) -> list[dict]:
    from urllib.parse import urlsplit

    from nianbao.crawler import config

    if url:
        name = names[0] if names else config.slug(urlsplit(url).netloc)
        return [config.validate({"name": name, "home_url": url, "discover": True, "family": family or "auto"})]
    where = list(sites_dirs) or [config.default_dir(db)]
    if not sites_dirs and not where[0].is_dir():
        raise click.UsageError(f"no site configs: {where[0]} does not exist. Add a portal with "
                               "`nianbao sites add URL`, or give --sites DIR (or --url URL)")
    try:
        sites = config.load_sites(where)
    except (OSError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    if names:
        wanted = set(names)
        sites = [s for s in sites if s["name"] in wanted]
        missing = wanted - {s["name"] for s in sites}
        if missing:
            raise click.UsageError(f"no such site: {', '.join(sorted(missing))}")
    if family:
        sites = [s for s in sites if s.get("family") == family]
    if not sites:
        raise click.UsageError(f"no sites to crawl in {', '.join(map(str, where))}")
    return sites


def _crawl_options(f):
    for opt in reversed([
        _db_option,
        _sites_option,
        click.option("--site", "names", multiple=True, help="Only these site names [default: all]."),
        click.option("--url", help="A portal's home, 政府信息公开 or column page: find the 年报 column, no config needed."),
        click.option("--family", help="CMS family for --url, or only sites of this family."),
        click.option("--jobdir", type=click.Path(file_okay=False), help="Resumable crawl state (Scrapy JOBDIR)."),
        click.option("--fast", is_flag=True, help="No politeness delay (local mock portals only)."),
        click.option("--no-lists", is_flag=True, help="Do not keep list pages in the archive."),
        click.option("-s", "set_", multiple=True, metavar="NAME=VALUE", help="Override a Scrapy setting."),
        click.option("--frontier", metavar="redis://HOST:PORT/DB",
                     help="Be a worker of the shared frontier: take requests from this Redis, put bytes in the "
                          "raw store, hand everything else to `nianbao archiver`; writes no SQLite."),
        click.option("--raw", "raw_root", type=click.Path(file_okay=False),
                     help="With --frontier: the shared raw store [default: beside --db]."),
        click.option("--idle-exit", type=float, default=0, show_default=True,
                     help="With --frontier: stop after the frontier was empty this many seconds (0: never)."),
    ]):
        f = opt(f)
    return f


# Exit codes of `nianbao crawl` / `nianbao run` (docs/operations.md).
EXIT_FAILED = 1  # a site failed (column unreachable, every report page failed), or the crawl was stopped
EXIT_INCOMPLETE = 3  # no site failed, but one is partial (pages lost), blocked or forbidden by robots.txt
INCOMPLETE = ("partial", "blocked", "robots")


def _records(site: dict) -> str:
    """" (records 10/20)": what the column says it holds against what the crawl reached."""
    if site.get("expected") is None:
        return f" (records {site['reached']}, no count stated)" if site.get("reached") else ""
    return f" (records {site['reached']}/{site['expected']})"


def _do_crawl(db, sites_dirs, names, url, family, jobdir, fast, no_lists, set_, frontier=None, raw_root=None,
              idle_exit=0) -> int:
    """Crawl and print the run; returns the exit code (0: every site complete)."""
    from nianbao.crawler.runner import crawl as run_crawl

    overrides = _overrides(set_)
    if no_lists:
        overrides["NIANBAO_STORE_LISTS"] = False
    if frontier:
        if sites_dirs or names or url or jobdir:
            raise click.UsageError("a --frontier worker takes its sites from the frontier: seed them with "
                                   "`nianbao cluster seed --sites DIR`")
        from nianbao.crawler.runner import work

        _redis(frontier)  # unreachable at start: say so plainly (once running, a worker waits it out)
        stats = work(frontier, db, raw=raw_root, fast=fast, idle_exit=idle_exit, overrides=overrides)
        click.echo(f"worker stopped ({stats.get('finish_reason')}): {stats.get('response_received_count', 0)} "
                   f"responses, {stats.get('scheduler/dequeued/redis', 0)} requests taken")
        return 0 if stats.get("finish_reason") in ("finished", "shutdown") else EXIT_FAILED
    sites = _select_sites(db, sites_dirs, names, url, family)
    run, site_rows = run_crawl(sites, db, jobdir=jobdir, fast=fast, overrides=overrides)
    records = f", records {run['reached']}/{run['expected']}" if run.get("expected") is not None else ""
    click.echo(f"run {run['id']} {run['status']}: pages {run['pages']}, new {run['new']}, changed {run['changed']}, "
               f"unchanged {run['unchanged']}, failed {run['failed']}, blocked {run['blocked']}{records}")
    if run["status"] != "finished" and run.get("note"):
        click.echo(f"crawl stopped: {run['note']}", err=True)
    for s in site_rows:
        if s["status"] != "ok" or s["reason"]:  # an ok site with a reason: a pager bounded by the column's count
            click.echo(f"  {s['name']}: {s['status']}{_records(s)}{': ' + s['reason'] if s['reason'] else ''}")
    failed = [s["name"] for s in site_rows if s["status"] == "failed"]
    incomplete = [s["name"] for s in site_rows if s["status"] in INCOMPLETE]
    if failed:
        click.echo(f"{len(failed)} site(s) failed: {', '.join(failed)} (see `nianbao sites list --db {db}`)", err=True)
    if incomplete:
        click.echo(f"{len(incomplete)} site(s) incomplete: {', '.join(incomplete)} (see `nianbao sites list --db {db}`)",
                   err=True)
    if failed or run["status"] != "finished":
        return EXIT_FAILED
    return EXIT_INCOMPLETE if incomplete else 0


@main.command()
@_crawl_options
def crawl(**kw):
    """Fetch 年报 columns and store every page and attachment in the archive.

    Exit status: 0 every site complete (ok or empty); 1 a site failed (unreachable
    column or robots.txt, every report page failed) or the crawl was stopped; 3 no site
    failed but one is incomplete (partial: a list page, report page or attachment lost;
    blocked by an anti-bot wall; forbidden by robots.txt)."""
    code = _do_crawl(**kw)
    if code:
        sys.exit(code)


@main.command()
@_crawl_options
@_workers_option
@_limit_options
def run(workers, timeout, memory_mb, **kw):
    """Crawl, then parse everything new on all cores (publications and figures follow)."""
    from nianbao.pipeline.ingest import parse_pending
    from nianbao.pipeline.store import Archive

    if kw.get("frontier"):
        raise click.UsageError("`run` crawls and parses on this machine; a frontier worker is `nianbao crawl "
                               "--frontier`, and parsing follows the archiver (`nianbao run` without --frontier "
                               "or `nianbao reparse` on the archive)")
    code = _do_crawl(**kw)
    with Archive(kw["db"]) as archive:
        summary = parse_pending(archive, workers=workers, limits=_limits(timeout, memory_mb), progress=True)
    print_summary(summary)
    if code:
        sys.exit(code)


# ------------------------------------------------------------------------ the shared frontier
def _frontier_option(f):
    return click.option("--frontier", required=True, metavar="redis://HOST:PORT/DB", envvar="NIANBAO_FRONTIER",
                        show_envvar=True, help="The Redis of the shared frontier.")(f)


def _redis(url: str):
    from nianbao.crawler.cluster import frontier

    r = frontier.connect(url)
    try:
        r.ping()
    except frontier.REDIS_ERRORS as e:
        raise click.ClickException(f"cannot reach the frontier at {url}: {e}") from None
    return r


def _print_runs(runs: list[dict], db: str) -> int:
    """The crawl summary of finished cycles; returns the crawl exit code over all of them."""
    import sqlite3

    code = 0
    con = sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro", uri=True)
    try:
        for run in runs:
            click.echo(f"run {run['id']} {run['status']}: pages {run['pages']}, new {run['new']}, "
                       f"changed {run['changed']}, unchanged {run['unchanged']}, failed {run['failed']}, "
                       f"blocked {run['blocked']}")
            rows = con.execute("SELECT name, status, reason FROM sites WHERE last_run = ? ORDER BY name",
                               (run["id"],)).fetchall()
            for name, status, reason in rows:
                if status != "ok":
                    click.echo(f"  {name}: {status}{': ' + reason if reason else ''}")
            if run["status"] != "finished" or any(st == "failed" for _, st, _ in rows):
                code = EXIT_FAILED
            elif code == 0 and any(st in INCOMPLETE for _, st, _ in rows):
                code = EXIT_INCOMPLETE
    finally:
        con.close()
    return code


@main.command()
@_frontier_option
@_db_option
@click.option("--raw", "raw_root", type=click.Path(file_okay=False), help="The raw store [default: beside --db].")
@click.option("--once", is_flag=True, help="Stop when every cycle is finished and nothing is left to apply "
                                           "(tests, cron); exit status as `nianbao crawl`.")
def archiver(frontier, db, raw_root, once):
    """The one writer of archive.db for a cluster: apply what the workers fetched.

    Takes each message off the frontier reliably (LMOVE to a processing list, commit,
    then remove); a restarted archiver first finishes what its predecessor took. When a
    cycle's requests are all done it writes each site's status and closes the run.
    Without --once it runs until SIGTERM/Ctrl-C (a systemd service)."""
    import logging

    from nianbao.crawler.cluster.archiver import Archiver

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    stop = {"now": False}

    def _stop(*_):
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    a = Archiver(_redis(frontier), db, raw_root)
    codes = []

    def finished(run):  # the crawl summary of each cycle as it ends (the service's journal)
        codes.append(_print_runs([run], db))
        sys.stdout.flush()

    try:
        a.run(once=once, should_stop=lambda: stop["now"], on_finished=finished)
    finally:
        a.close()
    code = EXIT_FAILED if EXIT_FAILED in codes else EXIT_INCOMPLETE if EXIT_INCOMPLETE in codes else 0
    if code:
        sys.exit(code)


@main.group()
def cluster():
    """The shared frontier: seed crawl cycles, see what it holds."""


@cluster.command("seed")
@_frontier_option
@_sites_option
@_db_option
@click.option("--site", "names", multiple=True, help="Only these site names [default: all].")
@click.option("--due", is_flag=True, help="Only the sites whose schedule is due (spring weekly, otherwise monthly; "
                                          "`schedule:` in a site's YAML overrides).")
def cluster_seed(frontier, sites_dirs, db, names, due):
    """Put the start requests of the configured sites on the frontier as one new cycle."""
    from datetime import datetime, timezone

    from nianbao.crawler.cluster import seed as seeding

    r = _redis(frontier)
    sites = _select_sites(db, sites_dirs, names, None, None)
    when = datetime.now(timezone.utc)
    try:
        if due:
            sites = seeding.due(sites, seeding.last_seeded(r), when)
        else:
            for s in sites:
                seeding.interval(s, when)  # a bad `schedule:` is an error now, not at the next timer
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    if not sites:
        click.echo("nothing due")
        return
    cycle, n = seeding.seed(r, sites, when=when)
    click.echo(f"cycle {cycle}: {len(sites)} site(s), {n} start request(s) on the frontier")


@cluster.command("status")
@_frontier_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def cluster_status(frontier, as_json):
    """Queue lengths, requests being worked on, workers seen, per-cycle and per-site progress."""
    from nianbao.crawler.cluster.status import status

    st = status(_redis(frontier))
    if as_json:
        click.echo(json.dumps(st, ensure_ascii=False, indent=1))
        return
    click.echo(f"queued {st['queued']}, in flight {st['inflight']}, to archive {st['items']}, "
               f"being archived {st['processing']}")
    if st["rejected"]:
        click.echo(f"  {st['rejected']} message(s) the archiver rejected: LRANGE nianbao:items:rejected 0 -1")
    for w, d in sorted(st["workers"].items()):
        click.echo(f"  worker {w}: {'alive' if d['alive'] else 'gone'}, seen {d['seen_ago']} s ago, "
                   f"{d['inflight']} in flight")
    for w, n in st["orphaned_inflight"].items():
        click.echo(f"  worker {w}: unknown, {n} in flight (put back once its heartbeat expires)")
    for c, d in st["cycles"].items():
        click.echo(f"  cycle {c}: {d['open']} request(s) open, {d['settled']} done")
        for site, pages in sorted(d["pages_by_site"].items()):
            click.echo(f"    {site}: {pages} page(s)")


@main.group()
def sites():
    """Site configs: YAML files in sites/ beside the archive (or --sites DIR)."""


@sites.command("list")
@_sites_option
@_db_option
def sites_list(sites_dirs, db):
    """List configured sites, with their last crawl status in the archive."""
    import sqlite3

    from nianbao.crawler import config

    status = {}
    if Path(db).exists():
        con = sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro", uri=True)
        try:
            con.row_factory = sqlite3.Row
            status = {r["name"]: dict(r) for r in con.execute("SELECT * FROM sites")}
        except sqlite3.OperationalError:
            pass
        finally:
            con.close()
    where = list(sites_dirs) or [config.default_dir(db)]
    for s in config.load_sites([w for w in where if Path(w).exists()]):
        st = status.get(s["name"])
        extra = ""
        if st:
            records = ""
            if st.get("expected") is not None:
                records = f"; records {st.get('reached')}/{st['expected']}"
            elif st.get("reached"):
                records = f"; records {st['reached']} (no count stated)"
            extra = (f"  [{st['status']}{': ' + st['reason'] if st['reason'] else ''}; reports {st['reports']}"
                     f"{records}]")
        click.echo(f"{s['name']}\t{s.get('family')}\t{s.get('start_url') or s.get('home_url')}{extra}")


@sites.command("add")
@click.argument("url")
@click.option("--name", help="Site name [default: from the host].")
@click.option("--sites", "--dir", "directory", type=click.Path(file_okay=False),
              help="Folder to write the YAML to [default: sites/ beside the archive].")
@_db_option
def sites_add(url, name, directory, db):
    """Find the 年报 column from URL and write its site YAML."""
    from nianbao.crawler import config
    from nianbao.crawler.probe import ProbeError, probe_site

    try:
        site = probe_site(url, name=name)
    except ProbeError as e:
        raise click.ClickException(str(e)) from None
    path = config.write_site(site, directory or config.default_dir(db))
    click.echo(f"{path}: {site['family']} column {site['start_url']}")


# ------------------------------------------------------------------------ site side
@main.command()
@click.argument("db_arg", metavar="[DB]", required=False, type=click.Path(dir_okay=False))
@_db_option
@click.option("--port", "-p", default=8001, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--raw", "raw_root", type=click.Path(file_okay=False), help="Raw store [default: beside the archive].")
@click.option("--limit", "limit_pairs", multiple=True, metavar="NAME=VALUE",
              help="Override a resource cap, e.g. --limit expensive_per_client=4 (names and defaults: "
                   "docs/operations.md).")
def serve(db_arg, db, port, host, raw_root, limit_pairs):
    """Serve the archive with Datasette (read-only, live while batches write it): tables,
    search, report pages, charts."""
    from nianbao.pipeline.site import limits, server

    path = _positional_db(db_arg, db)
    try:
        caps = limits.parse_assignments(limit_pairs)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--limit") from None
    args = server.command(Path(path), port, host, raw_root=Path(raw_root) if raw_root else None, limits=caps)
    click.echo(f"nianbao: serving {path} at http://{host}:{port}/  (Ctrl-C stops)", err=True)
    sys.stderr.flush()
    # Become Datasette: Ctrl-C and SIGTERM then reach the server itself, and no orphan is left.
    os.execv(args[0], args)


@main.command()
@click.argument("db_arg", metavar="[DB]", required=False, type=click.Path(dir_okay=False))
@_db_option
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "warc", "wacz"]), default="csv",
              show_default=True)
@click.option("--out", "out_dir", default="export", show_default=True, type=click.Path(),
              help="Output folder (for wacz: a .wacz file, or a folder to put nianbao.wacz in).")
@click.option("--run", "run_id", type=int, help="warc/wacz: only the WARC files of this crawl run [default: all].")
@click.option("--warc-dir", type=click.Path(file_okay=False),
              help="warc/wacz: where the crawls wrote their WARC files [default: warc/ beside the archive].")
def export(db_arg, db, fmt, out_dir, run_id, warc_dir):
    """Write a tidy dataset: table2/3/4 (one row per number, with report metadata), reports, issues;
    or (warc, wacz) the crawls' WARC files with their CDXJ index, or one WACZ package of them."""
    from nianbao.pipeline.export import export as run_export

    path = _positional_db(db_arg, db)
    if fmt in ("warc", "wacz"):
        from nianbao.pipeline import export_warc

        try:
            if fmt == "warc":
                got = export_warc.export_warc(path, out_dir, warc_dir=warc_dir, run=run_id)
                click.echo(f"{out_dir}: {got['files']} WARC file(s), {got['bytes']:,} bytes, "
                           f"index.cdxj {got['index_lines']:,} lines")
            else:
                out = Path(out_dir) if out_dir.endswith(".wacz") else Path(out_dir) / "nianbao.wacz"
                got = export_warc.export_wacz(path, out, warc_dir=warc_dir, run=run_id)
                click.echo(f"{out}: {got['files']} WARC file(s), {got['pages']:,} report pages, {got['bytes']:,} bytes")
        except (ValueError, OSError, RuntimeError) as e:
            raise click.ClickException(str(e)) from None
        return
    counts = run_export(path, out_dir, fmt)
    for name, n in counts.items():
        click.echo(f"{Path(out_dir) / (name + '.' + fmt)}: {n:,} rows")


# ------------------------------------------------------------------------ demo
def build_demo(workdir: Path, *, seed: int = 0, n_reports: int = 8, echo=click.echo) -> Path:
    """Start the bundled mock portals, crawl them over real HTTP, parse: returns archive.db."""
    import yaml

    from nianbao.devkit.portals import start_portals, stop_portals
    from nianbao.pipeline.ingest import parse_pending
    from nianbao.pipeline.store import Archive

    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / ARCHIVE
    sites_dir = workdir / "sites"
    sites_dir.mkdir(exist_ok=True)
    echo("starting mock portals …")
    portals = start_portals(n_reports=n_reports, seed=seed)
    try:
        for p in portals:
            (sites_dir / f"{p.name}.yaml").write_text(yaml.safe_dump(p.site_config(), allow_unicode=True), "utf-8")
            echo(f"  {p.name}: {p.column_url}")
        echo("crawling …")
        # A separate process: Scrapy's reactor runs once per process, and the demo must
        # stay usable from tests that crawl too.
        subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--db", str(db), "--sites", str(sites_dir),
                        "--fast"], check=True)
    finally:
        stop_portals(portals)
    echo("parsing …")
    with Archive(db) as archive:
        summary = parse_pending(archive, progress=False)
        archive.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    echo(f"{summary.line()}; primary reports {summary.archive['primary']}")
    return db


@main.command()
@click.option("--dir", "workdir", type=click.Path(file_okay=False),
              help="Where to build the demo archive [default: a temporary folder, removed on exit].")
@click.option("--port", "-p", default=8001, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--no-serve", is_flag=True, help="Build the archive and exit (for scripts and tests).")
@click.option("--reports", "n_reports", default=8, show_default=True, help="Reports per mock portal.")
def demo(workdir, port, host, no_serve, n_reports):
    """Start the bundled mock portals, crawl them, parse, and serve the archive."""
    from nianbao.pipeline.site import server

    temp = workdir is None
    wd = Path(workdir or tempfile.mkdtemp(prefix="nianbao-demo-"))
    try:
        db = build_demo(wd, n_reports=n_reports)
        if no_serve:
            click.echo(str(db))
            return
        proc, url = server.start(db, port=port, host=host)
        click.echo(f"nianbao demo: {url}/  (Ctrl-C stops)")
        try:
            signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
            proc.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop(proc)
    finally:
        if temp and not no_serve:
            shutil.rmtree(wd, ignore_errors=True)
        elif temp:
            click.echo(f"(kept {wd})", err=True)


if __name__ == "__main__":
    main()
