"""One document's bytes → a validated Report. Pure: no database, no network.

This is the whole parse in one call (sniff → extract → parse → validate); `nianbao
parse FILE --json` prints its result and the batch runner calls it in worker processes.
It never raises for bad input: a document we cannot read becomes a `failed` Report
whose reason says why.
"""
from __future__ import annotations

import traceback

from .extract import ExtractError, extract
from .model import FAILED, Report
from .sniff import sniff
from .validate import validate


def parse_bytes(data: bytes, name: str | None = None, kind: str | None = None) -> Report:
    kind = kind or sniff(data)
    try:
        extracted = extract(data, kind, name)
    except ExtractError as e:
        return Report(status=FAILED, reason=str(e), container=kind, meta={"type": kind})
    except Exception as e:  # a crash in a library on hostile bytes is a failed document, not a dead batch
        return Report(status=FAILED, reason=f"{kind} extractor crashed: {type(e).__name__}: {e}",
                      container=kind, meta={"type": kind, "traceback": traceback.format_exc(limit=5)})
    from .parse import parse_extracted

    try:
        report = parse_extracted(extracted)
    except Exception as e:
        return Report(status=FAILED, reason=f"parser crashed: {type(e).__name__}: {e}", container=kind,
                      title=extracted.title, meta={"type": kind, "traceback": traceback.format_exc(limit=5)})
    report.container = report.container or extracted.container
    report.meta = {**extracted.meta, **report.meta, "type": kind}
    # Tables cut to stay bounded (Grid.matrix) are said, not hidden.
    clipped = [w for g in extracted.tables for w in g.clipped]
    if extracted.warnings or clipped:
        report.meta["warnings"] = list(extracted.warnings) + clipped
    return validate(report)
