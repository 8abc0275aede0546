"""The site draws the page an OCR'd figure was read from, for image reports too (a scan
sent as PNG/TIFF): the box lands where the figure is on the page."""
from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from nianbao.pipeline.site import render


def _page(dpi: int, fmt: str, frames: int = 1) -> tuple[bytes, list[float]]:
    """An A4 page at `dpi` with a black mark at a known place (in points, top-left)."""
    box_pt = [300.0, 400.0, 330.0, 414.0]
    px = [round(v * dpi / 72) for v in box_pt]
    pages = []
    for _ in range(frames):
        img = Image.new("L", (round(595 * dpi / 72), round(842 * dpi / 72)), 255)
        ImageDraw.Draw(img).rectangle(px, fill=0)
        pages.append(img)
    out = io.BytesIO()
    pages[0].save(out, fmt, dpi=(dpi, dpi), save_all=frames > 1, append_images=pages[1:])
    return out.getvalue(), box_pt


@pytest.mark.parametrize("dpi, fmt", [(150, "PNG"), (300, "TIFF"), (200, "JPEG")])
def test_image_page_is_drawn_with_the_box_on_the_figure(tmp_path, dpi, fmt):
    data, box = _page(dpi, fmt)
    path = tmp_path / "scan.img"
    path.write_bytes(data)
    png = render.render(str(path), 1, 2_000_000, box)
    img = Image.open(io.BytesIO(png)).convert("RGB")
    scale = render.scale_for(595, 842, 2_000_000)
    assert abs(img.width - 595 * scale) <= 2 and abs(img.height - 842 * scale) <= 2
    # The red outline is drawn 3 px outside the box; inside it, the black mark (tinted yellow).
    x0, top, x1, bottom = (v * scale for v in box)
    r, g, b = img.getpixel((round(x0 - 3), round((top + bottom) / 2)))
    assert r > 180 and g < 60 and b < 60
    inside = img.getpixel((round((x0 + x1) / 2), round((top + bottom) / 2)))
    assert max(inside) < 140


def test_image_frames_are_pages_and_a_missing_page_is_none(tmp_path):
    data, box = _page(150, "TIFF", frames=2)
    path = tmp_path / "scan.tif"
    path.write_bytes(data)
    assert render.render(str(path), 2, 1_000_000, box)[:8] == b"\x89PNG\r\n\x1a\n"
    assert render.render(str(path), 3, 1_000_000, box) is None


def test_image_pixels_are_capped(tmp_path):
    data, _ = _page(600, "PNG")  # 4961 × 7016 px
    path = tmp_path / "big.png"
    path.write_bytes(data)
    img = Image.open(io.BytesIO(render.render(str(path), 1, 500_000)))
    assert img.width * img.height <= 500_000 * 1.01
