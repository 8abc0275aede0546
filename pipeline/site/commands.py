"""`nianbao serve`, `nianbao export`, `nianbao demo`."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import yaml

from . import server


@click.command()
@click.argument("db", default="archive.db", type=click.Path(exists=True, dir_okay=False))
@click.option("--port", "-p", default=8001, show_default=True, type=int)
@click.option("--host", "-h", default="127.0.0.1", show_default=True)
@click.option("--raw", "raw_root", type=click.Path(file_okay=False), help="Raw store (default: beside DB).")
def serve(db, port, host, raw_root):
    """Serve the archive with Datasette (read-only): tables, search, report pages, charts."""
    args = server.command(Path(db), port, host, raw_root=Path(raw_root) if raw_root else None)
    click.echo(f"nianbao: serving {db} at http://{host}:{port}/  (Ctrl-C stops)", err=True)
    sys.stderr.flush()
    # Become Datasette: Ctrl-C and SIGTERM then reach the server itself, and no orphan is left.
    os.execv(args[0], args)


@click.command()
@click.argument("db", default="archive.db", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
@click.option("--out", "out_dir", default="export", show_default=True, type=click.Path(file_okay=False))
def export(db, fmt, out_dir):
    """Write a tidy dataset: table2/3/4 (one row per number, with report metadata), reports, issues."""
    from ..export import export as run_export

    counts = run_export(db, out_dir, fmt)
    for name, n in counts.items():
        click.echo(f"{Path(out_dir) / (name + '.' + fmt)}: {n:,} rows")


def build_demo(workdir: Path, *, seed: int = 0, n_reports: int = 8, echo=click.echo) -> Path:
    """Start the bundled mock portals, crawl them over real HTTP, parse: returns archive.db."""
    try:
        from testkit.portals import start_portals, stop_portals
    except ImportError as e:  # pragma: no cover - the portals ship with the package
        raise click.ClickException(f"mock portals unavailable: {e}")
    from crawler import publications
    from pipeline.ingest import parse_pending
    from pipeline.store import Archive

    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "archive.db"
    sites_dir = workdir / "sites"
    sites_dir.mkdir(exist_ok=True)
    echo("starting mock portals …")
    portals = start_portals(n_reports=n_reports, seed=seed)
    try:
        for p in portals:
            (sites_dir / f"{p.name}.yaml").write_text(yaml.safe_dump(p.site_config(), allow_unicode=True), "utf-8")
            echo(f"  {p.name}: {p.column_url}")
        echo("crawling …")
        # A separate process: Scrapy's reactor can run once per process, and the demo
        # must stay usable from tests that crawl too.
        subprocess.run([sys.executable, "-m", "pipeline.cli", "crawl", "--archive", str(db),
                        "--sites-dir", str(sites_dir), "--fast"], check=True)
    finally:
        stop_portals(portals)
    echo("parsing …")
    a = Archive(db)
    try:
        summary = parse_pending(a, progress=False)
        pubs = publications.assign(a)
        a.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        a.close()
    echo(f"{summary.line() if hasattr(summary, 'line') else summary}; primary reports {pubs['primary']}")
    return db


@click.command()
@click.option("--dir", "workdir", type=click.Path(file_okay=False),
              help="Where to build the demo archive (default: a temporary folder, removed on exit).")
@click.option("--port", "-p", default=8001, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--no-serve", is_flag=True, help="Build the archive and exit (for scripts and tests).")
@click.option("--reports", "n_reports", default=8, show_default=True, help="Reports per mock portal.")
def demo(workdir, port, host, no_serve, n_reports):
    """Start the bundled mock portals, crawl them, parse, and serve the archive."""
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


COMMANDS = [serve, export, demo]
