"""One document's bytes → a validated Report. Pure: no database, no network.

This is the whole parse in one call (sniff → extract → parse → validate); `nianbao
parse FILE --json` prints its result and the batch runner calls it in worker processes.
It never raises for bad input: a document we cannot read becomes a `failed` Report
whose reason says why.
"""
from __future__ import annotations

import traceback
from collections.abc import Iterable

from .extract import ExtractError, extract
from .model import EXTRACTION_INCOMPLETE, FAILED, NOT_A_REPORT, Issue, Report
from .sniff import sniff
from .validate import validate


def parse_bytes(data: bytes, name: str | None = None, kind: str | None = None, *,
                url: str | None = None, attached: Iterable | None = None, sheets: Iterable | None = None) -> Report:
    """`url`: where the document was fetched (relative links resolve against it);
    `attached`: the images fetched as attachments of its publication (model.Attached:
    bytes or the reason there are none), for an article whose body is its report's pages
    as images; `sheets`: the workbooks attached to its publication, whose tables are the
    report's when the document itself prints none."""
    report = _parse_bytes(data, name, kind)
    if report.container == "html" and report.status != FAILED:
        try:
            report = _image_article(data, report, url, list(attached or ()), name)
        except Exception as e:  # a crash reading the pages is this document's failure, not the batch's
            return Report(status=FAILED, reason=f"page images of the article crashed the reader: {type(e).__name__}: "
                          f"{e}", container="html", title=report.title,
                          meta={"type": "html", "traceback": traceback.format_exc(limit=5)})
    books = list(sheets or ())
    if books and report.status not in (FAILED, NOT_A_REPORT) and not any(c.value is not None for c in report.cells):
        report = _with_sheets(data, name, kind, report, books)
    return report


def _with_sheets(data: bytes, name: str | None, kind: str | None, report: Report, books: list) -> Report:
    """The report's tables published as a separate workbook (「附件：统计表.xlsx」): the
    text, title and metadata are this document's, the cells the workbook's, each cell
    pointing at the workbook's document. The workbook stays a document of the same
    publication; this joined parse, which has the report's text as well as its figures,
    is the one derived.py makes primary."""
    from dataclasses import replace

    from .parse import parse_extracted

    main: list = []
    _parse_bytes(data, name, kind, ex_out=main)
    if not main:
        return report
    grids, used, notes = [], [], []
    for book in books:
        try:
            data = book.read()
            ex = extract(data, book.kind or sniff(data), book.url.rsplit("/", 1)[-1])
        except Exception as e:  # an unreadable workbook is a note, the document's own parse stands
            notes.append(f"workbook {book.url} not read: {e}")
            continue
        for g in ex.tables:
            where = {"url": book.url, **({"document": book.sha256} if book.sha256 else {})}
            g.source.update(where)
            for row in g.rows:
                for cell in row:
                    cell.source.update(where)
        if ex.tables:
            grids += ex.tables
            used.append({"url": book.url, "document": book.sha256, "type": book.kind})
    if not grids:
        if notes:
            report.meta.setdefault("warnings", []).extend(notes)
        return report
    joined = replace(main[0], tables=list(main[0].tables) + grids)
    rep = parse_extracted(joined)
    if not any(c.value is not None for c in rep.cells):
        return report
    rep.container = rep.container or joined.container
    rep.meta = {**joined.meta, **rep.meta, "type": kind, "tables_from": used}
    if joined.warnings or notes:
        rep.meta["warnings"] = list(joined.warnings) + notes
    return validate(rep)


def _parse_bytes(data: bytes, name: str | None = None, kind: str | None = None, ex_out: list | None = None) -> Report:
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
    if ex_out is not None:
        ex_out.append(extracted)
    report.container = report.container or extracted.container
    report.meta = {**extracted.meta, **report.meta, "type": kind}
    # Tables cut to stay bounded (Grid.matrix) are said, not hidden.
    clipped = [w for g in extracted.tables for w in g.clipped]
    if extracted.warnings or clipped:
        report.meta["warnings"] = list(extracted.warnings) + clipped
    return validate(report)


def _image_article(data: bytes, report: Report, url: str | None, attached: list, name: str | None) -> Report:
    """An HTML page that is not itself the report (no figures, fewer than three of its
    sections) but shows page images: the report is those pages, read in page order.
    Without OCR, or when the images were never fetched, it is `extraction_incomplete`
    with what to do — never `not_a_report`, never an `ok` without figures."""
    from .extract._decode import decode_text
    from .page_images import article_images, image_order

    if any(c.value is not None for c in report.cells) or len(report.sections) >= 3:
        return report  # the page's own text is the report; its pictures are illustrations
    text, _ = decode_text(data, None)
    order = image_order(text, url or "")
    images = sorted((im for im in attached if im.url in order), key=lambda im: order[im.url])
    if attached and not images:
        # A shell whose body is another document (gkmlpt hides it in a script, kept as
        # `…#body`): the publication's page images are read with that body, not here.
        return _incomplete(report, "page_images_elsewhere",
                           f"the figures of this publication are in the {len(attached)} image(s) of its body, read "
                           "with the article body that shows them (the page's derived body document), not here",
                           {"images": [im.url for im in attached][:20]})
    if not images:
        shown = article_images(text, url or "")
        if not shown:
            return report
        return _incomplete(report, "page_images_not_fetched",
                           f"an article whose body is {len(shown)} image(s), likely the report's pages, which were not "
                           "fetched with it: crawl the page (nianbao crawl) so its images are fetched as attachments "
                           "of the publication, then parse it again", {"images": shown[:20]})
    from .extract import article, ocr

    if not ocr.available():
        pages, skipped, gaps = article.sizes(images)
        if not pages and not gaps:
            why = (f"none of the article's {len(images)} image(s) has the size and shape of a page: "
                   + "; ".join(s["why"] for s in skipped[:3]))
            return _incomplete(report, "no_page_images", why, {"decorative": skipped})
        why = article.needs_ocr(len(pages)) + ("; " + article.gap_reason(gaps, len(pages)) if gaps else "")
        return _incomplete(report, "needs_ocr", why, {"pages": len(pages), "images": [im.url for im, _ in pages],
                                                      "decorative": skipped, "gaps": gaps})
    html_ex: list = []
    _parse_bytes(data, name, "html", ex_out=html_ex)
    ex = article.read_pages(html_ex[0], images)
    from .parse import parse_extracted

    read = parse_extracted(ex)
    read.container = "html"
    read.meta = {**ex.meta, **read.meta, "type": "html"}
    if ex.warnings:
        read.meta["warnings"] = list(ex.warnings)
    read = validate(read)
    if read.status == NOT_A_REPORT:
        # The page says it is a report; pages that do not show one were misread, not a notice.
        read.status, read.reason = EXTRACTION_INCOMPLETE, (
            f"the article's {ex.meta['page_images']['pages']} page image(s) were read by OCR but show no report "
            f"({read.reason}); the images are kept")
        read.issues.insert(0, Issue("extraction", "page_images_unread", read.reason))
        read.title, read.report_year = read.title or report.title, read.report_year or report.report_year
    return read


def _incomplete(report: Report, code: str, why: str, detail: dict) -> Report:
    report.status, report.reason = EXTRACTION_INCOMPLETE, why
    report.issues = [i for i in report.issues if i.code != "no_tables"]
    report.issues.insert(0, Issue("extraction", code, why))
    report.meta["page_images"] = {k: v for k, v in detail.items() if v}
    return report
