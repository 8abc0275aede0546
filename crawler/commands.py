"""`nianbao crawl`, `nianbao run`, `nianbao sites …`."""
from __future__ import annotations

import json
from pathlib import Path

import click

from . import config


def _settings(pairs: tuple[str, ...]) -> dict:
    out = {}
    for p in pairs:
        k, _, v = p.partition("=")
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def _select(sites_dirs, names, url, family) -> list[dict]:
    if url:
        from urllib.parse import urlsplit
        name = names[0] if names else config.slug(urlsplit(url).netloc)
        return [config.validate({"name": name, "home_url": url, "discover": True, "family": family or "auto"})]
    sites = config.load_sites(list(sites_dirs) or None)
    if names:
        wanted = set(names)
        sites = [s for s in sites if s["name"] in wanted]
        missing = wanted - {s["name"] for s in sites}
        if missing:
            raise click.UsageError(f"no such site: {', '.join(sorted(missing))}")
    if family:
        sites = [s for s in sites if s.get("family") == family]
    return sites


def crawl_options(f):
    for opt in reversed([
        click.option("--archive", "--db", "archive", default="archive.db", show_default=True, type=click.Path(dir_okay=False)),
        click.option("--site", "names", multiple=True, help="Site name(s) from the site configs (default: all)."),
        click.option("--sites-dir", "sites_dirs", multiple=True, type=click.Path(exists=True),
                     help="Folder or file of site YAML (default: crawler/sites)."),
        click.option("--url", help="A portal's home, 政府信息公开 or column page: find the 年报 column, no config needed."),
        click.option("--family", help="CMS family for --url, or only sites of this family."),
        click.option("--jobdir", type=click.Path(file_okay=False), help="Resumable crawl state (Scrapy JOBDIR)."),
        click.option("--fast", is_flag=True, help="No politeness delay (local mock portals only)."),
        click.option("--no-lists", is_flag=True, help="Do not keep list pages in the archive."),
        click.option("-s", "set_", multiple=True, metavar="NAME=VALUE", help="Override a Scrapy setting."),
    ]):
        f = opt(f)
    return f


def _do_crawl(archive, names, sites_dirs, url, family, jobdir, fast, no_lists, set_) -> dict:
    from .runner import crawl as run_crawl
    sites = _select(sites_dirs, names, url, family)
    if not sites:
        raise click.UsageError("no sites to crawl")
    row = run_crawl(sites, archive, jobdir=jobdir, fast=fast, overrides=_settings(set_), store_lists=not no_lists)
    click.echo(f"run {row['id']} {row['status']}: pages {row['pages']}, new {row['new']}, changed {row['changed']}, "
               f"unchanged {row['unchanged']}, failed {row['failed']}, blocked {row['blocked']}")
    import sqlite3
    con = sqlite3.connect(archive)
    try:
        for name, status, reason in con.execute("SELECT name, status, reason FROM sites WHERE last_run = ? AND status "
                                                "NOT IN ('ok') ORDER BY name", (row["id"],)):
            click.echo(f"  {name}: {status}{': ' + reason if reason else ''}")
    finally:
        con.close()
    return row


@click.command()
@crawl_options
def crawl(**kw):
    """Fetch 年报 columns and store every page and attachment in the archive."""
    _do_crawl(**kw)


@click.command()
@crawl_options
@click.option("--workers", type=int, default=None, help="Parser processes (default: all cores).")
def run(workers, **kw):
    """Crawl, then parse everything new on all cores, then pick one report per publication."""
    _do_crawl(**kw)
    from pipeline.ingest import parse_pending
    from pipeline.store import Archive

    from . import publications
    a = Archive(kw["archive"])
    try:
        summary = parse_pending(a, workers=workers, progress=True)
        pubs = publications.assign(a)
    finally:
        a.close()
    from pipeline.commands import print_summary
    print_summary(summary)
    click.echo(f"publications {pubs['publications']}, primary reports {pubs['primary']}")


@click.group()
def sites():
    """Site configs (crawler/sites/*.yaml)."""


@sites.command("list")
@click.option("--sites-dir", "sites_dirs", multiple=True, type=click.Path(exists=True))
@click.option("--archive", default=None, type=click.Path(dir_okay=False), help="Show each site's last status too.")
def sites_list(sites_dirs, archive):
    """List configured sites (and their status in an archive)."""
    status = {}
    if archive and Path(archive).exists():
        import sqlite3
        con = sqlite3.connect(archive)
        try:
            status = {r[0]: r[1:] for r in con.execute("SELECT name, status, reason, reports FROM sites")}
        except sqlite3.OperationalError:
            pass
        con.close()
    for s in config.load_sites(list(sites_dirs) or None):
        st = status.get(s["name"])
        extra = f"  [{st[0]}{': ' + st[1] if st[1] else ''}; reports {st[2]}]" if st else ""
        click.echo(f"{s['name']}\t{s.get('family')}\t{s.get('start_url') or s.get('home_url')}{extra}")


@sites.command("add")
@click.argument("url")
@click.option("--name", help="Site name (default: from the host).")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=str(config.SITES_DIR), show_default=True)
def sites_add(url, name, directory):
    """Find the 年报 column from URL and write its site YAML."""
    from .probe import ProbeError, probe_site
    try:
        site = probe_site(url, name=name)
    except ProbeError as e:
        raise click.ClickException(str(e)) from None
    path = config.write_site(site, directory)
    click.echo(f"{path}: {site['family']} column {site['start_url']}")


COMMANDS = [crawl, run, sites]
