"""Reports as a scanner delivers them: every chosen page of a PDF replaced by a grey
raster image of itself, with no text layer. The rest of the document is kept as it
was, so a file can mix text pages and scanned pages as real uploads do."""
from __future__ import annotations

import io


def as_scan(pdf: bytes, *, pages: set[int] | None = None, dpi: int = 150) -> bytes:
    """`pages` are 1-based; None scans every page."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(pdf)
    out = pdfium.PdfDocument.new()
    for i in range(len(src)):
        if pages is not None and i + 1 not in pages:
            out.import_pages(src, [i])
            continue
        page = src[i]
        w, h = page.get_size()
        pil = page.render(scale=dpi / 72, grayscale=True).to_pil()
        new = out.new_page(w, h)
        img = pdfium.PdfImage.new(out)
        img.set_bitmap(pdfium.PdfBitmap.from_pil(pil))
        img.set_matrix(pdfium.PdfMatrix().scale(w, h))
        new.insert_obj(img)
        new.gen_content()
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()
