"""Draw one page of a PDF, an OFD or an image report (a scan sent as JPG/PNG/TIFF, every
frame a page) as PNG in a child process, within a pixel, memory and time budget.

A PDF of a few hundred bytes can declare a page of 14400 × 14400 points (or draw
millions of nested forms): drawn at a fixed scale in the server that cost 28 s and
3.7 GB. Here the scale shrinks until the image has at most `max_pixels` pixels, and the
drawing runs in its own process under an address-space limit, which the server kills
when it overruns its time (pdfium cannot be interrupted from another thread).

    python -m nianbao.pipeline.site.render FILE PAGE MAX_PIXELS MEMORY_MB [x0,top,x1,bottom]

The box is in points from the page's top-left corner, as cell sources store it (for an
image: at the resolution the OCR read it at, `raster.image_dpi`).

writes the PNG to stdout; exit 3: no such page; any other failure: non-zero exit.
"""
from __future__ import annotations

import io
import math
import resource
import sys

SCALE = 1.5  # the scale a normal page is drawn at (an A4 page: 893 × 1263 px)
NO_SUCH_PAGE = 3


def scale_for(width: float, height: float, max_pixels: int, scale: float = SCALE) -> float:
    """SCALE, or less when the page would have more than max_pixels pixels."""
    area = max(width, 1.0) * max(height, 1.0)
    return min(scale, math.sqrt(max_pixels / area))


def render(path: str, page: int, max_pixels: int, box: list[float] | None = None) -> bytes | None:
    with open(path, "rb") as f:
        head = f.read(1024)
    draw = _pdf_page if b"%PDF-" in head else _ofd_page if head.startswith(b"PK") else _image_page
    img, scale = draw(path, page, max_pixels)
    if img is None:
        return None
    if box and len(box) == 4:
        from PIL import ImageDraw

        draw = ImageDraw.Draw(img, "RGBA")
        x0, top, x1, bottom = (b * scale for b in box)
        draw.rectangle([x0 - 3, top - 3, x1 + 3, bottom + 3], outline=(220, 0, 0, 255), width=3,
                       fill=(255, 230, 0, 70))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _pdf_page(path: str, page: int, max_pixels: int):
    """(the page drawn, pixels per point)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        if not 1 <= page <= len(pdf):
            return None, 0.0
        pg = pdf[page - 1]
        scale = scale_for(*pg.get_size(), max_pixels)
        return pg.render(scale=scale).to_pil().convert("RGB"), scale
    finally:
        pdf.close()


def _ofd_page(path: str, page: int, max_pixels: int):
    """(the OFD page drawn, pixels per point)."""
    from nianbao.pipeline.extract import ofd_render

    with open(path, "rb") as f:
        data = f.read()
    size = ofd_render.page_size(data, page)
    if size is None:
        return None, 0.0
    scale = scale_for(*size, max_pixels)
    return ofd_render.render(data, page, scale).convert("RGB"), scale


def _image_page(path: str, page: int, max_pixels: int):
    """(frame `page` of the image scaled to the PDF pages' size, pixels per point)."""
    from PIL import Image

    from nianbao.pipeline.extract.raster import MAX_PIXELS, image_dpi

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS * 4  # as the OCR reads it: past this, a decompression bomb
    img = Image.open(path)
    if not 1 <= page <= getattr(img, "n_frames", 1):
        return None, 0.0
    img.seek(page - 1)
    pt = 72.0 / image_dpi(img.info, img.width)  # points per pixel of the file
    scale = scale_for(img.width * pt, img.height * pt, max_pixels)
    size = (max(1, round(img.width * pt * scale)), max(1, round(img.height * pt * scale)))
    return img.convert("RGB").resize(size, Image.Resampling.LANCZOS), scale


def main(argv: list[str]) -> int:
    path, page, max_pixels, memory_mb = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    box = [float(x) for x in argv[4].split(",")][:4] if len(argv) > 4 and argv[4] else None
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    png = render(path, page, max_pixels, box)
    if png is None:
        return NO_SUCH_PAGE
    sys.stdout.buffer.write(png)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
