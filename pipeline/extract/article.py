"""An HTML article whose body is a sequence of page images → the Extracted of one report.

The crawler fetched the images as attachments of the publication (pipeline/page_images.py
chose them by their place in the page); the batch hands them here in the page's order,
as bytes or as the reason they could not be fetched. Each image that has the size and
shape of a page is a page of the report — page N is the N-th such image — and is read
by the same image reader as an image attachment (raster.add_image), so straightening,
rules, lattices, OCR confidence and the table interpreter are shared. Icons, spacers
and QR codes among the pages are left out, and said in the meta. An image that could
not be fetched or read is a gap: the report is incomplete, the other pages still read.
"""
from __future__ import annotations

from ..model import Attached
from ..model import Extracted
from ..page_images import not_a_page
from . import ocr, raster
from .pdf_layout import ocr_verdict


def sizes(images: list[Attached]) -> tuple[list[tuple[Attached, int]], list[dict], list[dict]]:
    """(pages with their page number, images left out as decoration, gaps). Reads
    image headers only: no pixels are decoded here."""
    pages: list[tuple[Attached, int]] = []
    skipped: list[dict] = []
    gaps: list[dict] = []
    for im in images:
        if not im.here:
            gaps.append({"url": im.url, "after_page": len(pages), "why": im.error or "not fetched"})
            continue
        try:
            img = raster.open_image(im.read())
        except (ValueError, OSError) as e:
            gaps.append({"url": im.url, "after_page": len(pages), "why": str(e)})
            continue
        why = not_a_page(*img.size)
        if why:
            skipped.append({"url": im.url, "why": why})
            continue
        pages.append((im, len(pages) + 1))
    return pages, skipped, gaps


def gap_reason(gaps: list[dict], n_pages: int) -> str:
    first = gaps[0]
    where = f"after page {first['after_page']}" if first["after_page"] else "before page 1"
    more = f" (and {len(gaps) - 1} more)" if len(gaps) > 1 else ""
    return (f"{len(gaps)} image(s) of the article could not be read, e.g. {first['url']} {where}: {first['why']}"
            f"{more}; the report's other {n_pages} page image(s) were read. Crawl the page again to fetch them")


def needs_ocr(n_pages: int) -> str:
    return (f"an article whose body is {n_pages} page image(s): their text and figures need OCR (experimental: "
            "NIANBAO_OCR=1 with the `ocr` extra installed, then `nianbao reparse`); the images are kept")


def read_pages(html: Extracted, images: list[Attached]) -> Extracted:
    """The article's page images read by OCR as one document (OCR must be available).
    Title and meta tags come from the HTML page; text and tables from the pages."""
    from .pdf import Pages

    pages, skipped, gaps = sizes(images)
    book = Pages()
    done: list[dict] = []
    n = 0
    for im, _ in pages:
        before = len(book.tables)
        try:
            got, read = raster.add_image(book, im.read(), n + 1)
        except (ValueError, OSError) as e:
            gaps.append({"url": im.url, "after_page": n, "why": str(e)})
            continue
        for d in got:
            d["url"] = im.url
        done += got
        # Provenance: which of the archive's documents holds the page a cell was read on
        # (add_image gave the frame of that file: a multi-page TIFF holds several).
        for grid in book.tables[before:]:
            for row in grid.rows:
                for cell in row:
                    cell.source.update({"image": im.url, **({"document": im.sha256} if im.sha256 else {})})
        n += read
    ex = book.extracted(title=html.title, encrypted=False, n_pages=n)
    ex.container = "html"
    ex.meta = {**html.meta, **ex.meta,
               "page_images": {"pages": n, "images": [im.url for im, _ in pages],
                               **({"decorative": skipped} if skipped else {}), **({"gaps": gaps} if gaps else {})}}
    ocr_verdict(ex, ocr.ENGINE, done)  # OCR that read nothing says so, never "switch OCR on"
    ex.warnings = list(html.warnings) + list(ex.warnings)
    if gaps:
        ex.incomplete = gap_reason(gaps, n)
        ex.meta["incomplete_code"] = "page_image_missing"
    return ex
