"""Reports as a scanner or a phone delivers them, for the tests and benchmarks.

`as_scan` replaces chosen pages of a printed PDF by grey raster images of themselves,
with no text layer (the rest of the document is kept, so a file can mix text pages and
scanned pages as real uploads do); `as_images` gives the pages as image files (PNG,
JPEG, one multi-page TIFF). `Damage` is what happens on the way: resolution, skew,
blur, speckle, JPEG compression, a red seal stamped over the table (such pages are
scanned in colour), light grey borders. Everything is seeded: the same arguments give the same bytes.
"""
from __future__ import annotations

import io
import random
import threading
from dataclasses import dataclass

# pdfium is not thread-safe, not even across documents, and the mock portals print page
# images from their request threads while a test may be scanning in its own: every pdfium
# call here holds this lock, and every pdfium object is closed inside it (left to the
# garbage collector, its finaliser would call pdfium from whichever thread collects it).
PDFIUM = threading.RLock()


@dataclass(frozen=True)
class Damage:
    dpi: int = 150
    skew: float = 0.0  # degrees, counter-clockwise
    blur: float = 0.0  # Gaussian radius in pixels
    speckle: float = 0.0  # share of pixels flipped to dark or light
    jpeg: int | None = None  # JPEG quality; None keeps the page lossless
    stamp: bool = False  # a red seal over the lower right of the page (the page in colour)
    faint: bool = False  # borders and text printed light grey
    seed: int = 0
    photo: bool = False  # photographed on a desk: off-axis (perspective), unevenly lit, a dark ground around

    @classmethod
    def draw(cls, rng: random.Random, photos: float = 0.0) -> "Damage":
        """A scan as they come: 150/200/300 dpi, skew up to ±1.5°, some blur, speckle,
        JPEG quality 60–90, a seal on a third of them, `photo` pages when asked for
        (drawn last, so the other fields of a seed do not change with it)."""
        return cls(dpi=rng.choice([150, 200, 300]), skew=round(rng.uniform(-1.5, 1.5), 2),
                   blur=rng.choice([0.0, 0.0, 0.6, 1.0]), speckle=rng.choice([0.0, 0.001, 0.003]),
                   jpeg=rng.choice([None, 60, 75, 90]), stamp=rng.random() < 0.33, faint=rng.random() < 0.15,
                   seed=rng.randrange(1 << 30), photo=bool(photos) and rng.random() < photos)


def _render(src, i: int, damage: Damage):
    """Page i as a PIL image, and its size in points. Call holding PDFIUM."""
    page = src[i]
    try:
        # Colour only where a red seal needs it; scanners deliver most reports in grey.
        mode = "RGB" if damage.stamp else "L"
        bitmap = page.render(scale=damage.dpi / 72, grayscale=not damage.stamp)
        try:
            img = bitmap.to_pil().convert(mode)  # a copy: the bitmap's buffer is freed below
        finally:
            bitmap.close()
        return img, page.get_size()
    finally:
        page.close()


def _damage(img, d: Damage, page: int):
    import numpy as np
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    rng = np.random.default_rng(d.seed + page)
    if d.faint:
        a = np.asarray(img).astype(np.float32)
        img = Image.fromarray((255 - (255 - a) * 0.45).astype(np.uint8), img.mode)
    if d.stamp:
        w, h = img.size
        r = int(0.09 * w)
        cx, cy = int(w * 0.68), int(h * rng.uniform(0.45, 0.8))
        layer = Image.new("RGB", img.size, (255, 255, 255))
        draw = ImageDraw.Draw(layer)
        red = (215, 40, 45)
        for k in range(max(2, r // 25)):
            draw.ellipse([cx - r + k, cy - r + k, cx + r - k, cy + r - k], outline=red)
        draw.regular_polygon((cx, cy, r // 4), 5, fill=red)
        img = ImageChops.multiply(img, layer)  # ink over ink: black print stays black under the seal
    if d.skew:
        img = img.rotate(d.skew, resample=Image.BICUBIC, expand=False,
                         fillcolor=(255, 255, 255) if img.mode == "RGB" else 255)
    if d.photo:
        img, _ = photograph(img, rng)
    if d.blur:
        img = img.filter(ImageFilter.GaussianBlur(d.blur))
    if d.speckle:
        a = np.asarray(img).copy()
        mask = rng.random(a.shape[:2]) < d.speckle
        a[mask] = rng.choice(np.array([0, 255], dtype=np.uint8), size=int(mask.sum()))[:, None] \
            if a.ndim == 3 else rng.choice(np.array([0, 255], dtype=np.uint8), size=int(mask.sum()))
        img = Image.fromarray(a, img.mode)
    return img


def photograph(img, rng, tilt: float = 0.045, margin: float = 0.07):
    """The page as a phone sees it on a desk: each corner off where a square-on shot
    puts it by up to `tilt` of the page's size (perspective), on a darker textured
    ground `margin` wide, lit unevenly (a quarter darker on one side). The image grows
    by the margin on both axes alike, so a PDF page that holds it keeps its shape.
    Returns the photograph and where the page's corners landed (TL, TR, BR, BL)."""
    import cv2
    import numpy as np
    from PIL import Image

    a = np.asarray(img)
    h, w = a.shape[:2]
    mx, my = int(margin * w), int(margin * h)
    size = (w + 2 * mx, h + 2 * my)
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    moved = corners + [mx, my] + rng.uniform(-tilt, tilt, size=(4, 2)) * [w, h]
    m = cv2.getPerspectiveTransform(corners, moved.astype(np.float32))
    page = cv2.warpPerspective(a, m, size, flags=cv2.INTER_LINEAR, borderValue=0)
    inside = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, size, flags=cv2.INTER_NEAREST) > 0
    ground = rng.integers(35, 130) + rng.normal(0, 6, size=(size[1], size[0]))
    if a.ndim == 3:
        inside, ground = inside[..., None], np.repeat(ground[..., None], 3, axis=2)
    out = np.where(inside, page, ground)
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:size[1], 0:size[0]]
    along = (xs * np.cos(angle) + ys * np.sin(angle)) / max(size)
    light = 1.0 - 0.25 * (along - along.min()) / max(1e-6, np.ptp(along))
    out = out * (light[..., None] if a.ndim == 3 else light)
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), img.mode), moved


def _encode(img, d: Damage, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "jpeg" or (fmt == "pdf" and d.jpeg):
        img.save(buf, "JPEG", quality=d.jpeg or 85, dpi=(d.dpi, d.dpi))
    else:
        img.save(buf, fmt.upper(), dpi=(d.dpi, d.dpi))
    return buf.getvalue()


def as_scan(pdf: bytes, *, pages: set[int] | None = None, dpi: int = 150, damage: Damage | None = None) -> bytes:
    """`pages` are 1-based; None scans every page."""
    import pypdfium2 as pdfium

    d = damage or Damage(dpi=dpi)
    with PDFIUM:
        src, out, bitmaps = pdfium.PdfDocument(pdf), pdfium.PdfDocument.new(), []
        try:
            for i in range(len(src)):
                if pages is not None and i + 1 not in pages:
                    out.import_pages(src, [i])
                    continue
                img, (w, h) = _render(src, i, d)
                img = _damage(img, d, i)
                page = out.new_page(w, h)
                pimg = pdfium.PdfImage.new(out)
                if d.jpeg:
                    pimg.load_jpeg(io.BytesIO(_encode(img, d, "jpeg")), inline=True)
                else:
                    bitmaps.append(pdfium.PdfBitmap.from_pil(img))
                    pimg.set_bitmap(bitmaps[-1])
                pimg.set_matrix(pdfium.PdfMatrix().scale(w, h))
                page.insert_obj(pimg)
                page.gen_content()
                page.close()
            buf = io.BytesIO()
            out.save(buf)
        finally:
            out.close()  # closes the pages and images it owns, here and not in a later finaliser
            src.close()
            for bitmap in bitmaps:
                bitmap.close()
    return buf.getvalue()


def as_images(pdf: bytes, fmt: str = "png", damage: Damage | None = None) -> list[bytes]:
    """Every page as an image file; "tiff" gives one multi-page file."""
    import pypdfium2 as pdfium

    d = damage or Damage()
    with PDFIUM:
        src = pdfium.PdfDocument(pdf)
        try:
            imgs = [_render(src, i, d)[0] for i in range(len(src))]
        finally:
            src.close()
    imgs = [_damage(img, d, i) for i, img in enumerate(imgs)]
    if fmt == "tiff":
        buf = io.BytesIO()
        imgs[0].save(buf, "TIFF", save_all=True, append_images=imgs[1:], dpi=(d.dpi, d.dpi), compression="tiff_lzw")
        return [buf.getvalue()]
    return [_encode(img, d, fmt) for img in imgs]
