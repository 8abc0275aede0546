"""Archive commands: ingest, parse, reparse."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .ingest import DEFAULT_TIMEOUT, Summary

db_option = click.option("--db", "--archive", "db", default="archive.db", show_default=True, type=click.Path(dir_okay=False),
                         help="SQLite archive; the raw store is created beside it (raw/).")
workers_option = click.option("--workers", "-j", type=int, default=None, help="parser processes [default: all cores]")
timeout_option = click.option("--timeout", type=float, default=DEFAULT_TIMEOUT, show_default=True,
                              help="seconds one document may take before it is recorded as failed")


def print_summary(summary: Summary, *, err=False) -> None:
    out = click.get_text_stream("stderr" if err else "stdout")
    if summary.stored or summary.already:
        click.echo(f"stored {summary.stored} new document(s), {summary.already} already archived", file=out)
    click.echo(summary.line(), file=out)
    shown = summary.problems[:50]
    for name, status, reason in shown:
        click.echo(f"  {status:<22} {name}: {reason}", file=out)
    if len(summary.problems) > len(shown):
        click.echo(f"  … and {len(summary.problems) - len(shown)} more: SELECT * FROM reports WHERE status != 'ok'",
                   file=out)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@db_option
@workers_option
@timeout_option
@click.option("--quiet", "-q", is_flag=True, help="no progress bar")
def ingest(paths, db, workers, timeout, quiet):
    """Store files or folders (HTML, PDF, DOCX, DOC, text) in the archive and parse them.

    Every file is kept byte for byte in the raw store; the same bytes twice are stored once."""
    from .ingest import ingest_paths
    from .store import Archive

    archive = Archive(db)
    summary = ingest_paths(archive, paths, workers=workers, timeout=timeout, progress=not quiet)
    print_summary(summary)
    click.echo(f"archive: {Path(db).resolve()}  (browse it: nianbao serve {db})")


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print the whole Report as JSON")
def parse(file, as_json):
    """Parse one file and print its Report, without touching any database."""
    from .document import parse_bytes

    report = parse_bytes(Path(file).read_bytes(), Path(file).name)
    if as_json:
        json.dump(report.to_dict(), sys.stdout, ensure_ascii=False, indent=1, default=str)
        sys.stdout.write("\n")
        return
    click.echo(f"{report.status}: {report.title or '(no title)'}")
    click.echo(f"agency {report.agency}, year {report.report_year}, templates {report.templates}")
    click.echo(f"{len(report.sections)} sections, {sum(c.value is not None for c in report.cells)}/{len(report.cells)} cells read")
    for i in report.issues:
        click.echo(f"  {i.kind} {i.code}: {i.message}")
    if report.reason and report.status != "ok":
        click.echo(f"reason: {report.reason}")


@click.command()
@db_option
@workers_option
@timeout_option
@click.option("--quiet", "-q", is_flag=True)
def reparse(db, workers, timeout, quiet):
    """Parse every stored document again from the raw store (after a parser upgrade).

    A report's old rows are replaced only once its new parse is written."""
    from .ingest import reparse as run
    from .store import Archive

    if not Path(db).exists():
        raise click.ClickException(f"{db} does not exist: run `nianbao ingest PATH` or `nianbao run` first")
    summary = run(Archive(db), workers=workers, timeout=timeout, progress=not quiet)
    print_summary(summary)


COMMANDS = [ingest, parse, reparse]
