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


def _ofd(content: str, box: str = "0 0 210 297") -> bytes:
    """A one-page A4 OFD package holding `content` (objects of one layer, mm)."""
    import zipfile

    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("OFD.xml", f"<ofd:OFD {ns}><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
                              "</ofd:DocBody></ofd:OFD>")
        z.writestr("Doc_0/Document.xml", f"<ofd:Document {ns}><ofd:CommonData><ofd:PageArea><ofd:PhysicalBox>"
                                         f"{box}</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages>"
                                         '<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
                                         "</ofd:Document>")
        z.writestr("Doc_0/Pages/Page_0/Content.xml", f"<ofd:Page {ns}><ofd:Content><ofd:Layer>{content}</ofd:Layer>"
                                                     "</ofd:Content></ofd:Page>")
    return buf.getvalue()


def test_ofd_page_is_drawn_with_the_box_on_the_figure(tmp_path):
    """An OFD cell's page: paths filled even-odd (a ring's hole stays white), a stroked
    rule, text in a CJK font, and the cell's box (points) where the figure is."""
    mm = 72 / 25.4
    ring = ('<ofd:PathObject Boundary="100 140 20 20" Fill="true" Stroke="false"><ofd:AbbreviatedData>'
            "M 0 0 L 20 0 L 20 20 L 0 20 C M 5 5 L 15 5 L 15 15 L 5 15 C</ofd:AbbreviatedData></ofd:PathObject>")
    rule = ('<ofd:PathObject Boundary="20 200 170 1" LineWidth="0.5"><ofd:AbbreviatedData>M 0 0.5 L 170 0.5'
            "</ofd:AbbreviatedData></ofd:PathObject>")
    text = ('<ofd:TextObject Boundary="20 40 100 12" Size="8"><ofd:TextCode X="0" Y="8">年度报告</ofd:TextCode>'
            "</ofd:TextObject>")
    path = tmp_path / "report.ofd"
    path.write_bytes(_ofd(ring + rule + text))
    box = [100 * mm, 140 * mm, 120 * mm, 160 * mm]
    img = Image.open(io.BytesIO(render.render(str(path), 1, 2_000_000, box))).convert("L")
    scale = render.scale_for(210 * mm, 297 * mm, 2_000_000)
    assert abs(img.width - 210 * mm * scale) <= 2 and abs(img.height - 297 * mm * scale) <= 2

    def at(x_mm: float, y_mm: float) -> int:
        return img.getpixel((round(x_mm * mm * scale), round(y_mm * mm * scale)))

    assert at(102, 150) < 100 and at(110, 142) < 100  # the ring (tinted by the box's yellow)
    assert at(110, 150) > 150  # its hole
    assert at(100, 200.5) < 100 and at(100, 205) > 200  # the rule, and white below it
    assert img.crop(tuple(round(v * mm * scale) for v in (20, 32, 60, 42))).getextrema()[0] < 80  # the text's ink
    assert render.render(str(path), 2, 1_000_000) is None


def test_ofd_page_pixels_are_capped(tmp_path):
    path = tmp_path / "huge.ofd"
    path.write_bytes(_ofd("", "0 0 5000 5000"))
    img = Image.open(io.BytesIO(render.render(str(path), 1, 500_000)))
    assert img.width * img.height <= 500_000 * 1.01
