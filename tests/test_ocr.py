"""Scans and images read by OCR (issue 10): cells exact or NULL with a reason, never wrong.

Generated reports are printed to PDF and scanned (devkit.scan): whole documents, only
the pages with tables inside a text document, damaged scans (skew, JPEG, blur,
speckle, a seal over the table), and pages as PNG/TIFF attachments. The generator's
figures are the answer key. What must hold for every cell: the value is the
printed figure, or NULL with a reason; no figure is invented, and every OCR'd cell
carries its page, box and confidence. OCR is slow (seconds a page), so the corpus
is small here; benchmarks/accuracy.py --formats scan-html measures it at scale."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from nianbao.devkit import generate
from nianbao.devkit.scan import Damage, as_images, as_scan
from nianbao.pipeline.extract import ocr, raster
from nianbao.pipeline.limits import Limits, parse_file

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(autouse=True)
def ocr_on(monkeypatch):
    monkeypatch.setenv("NIANBAO_OCR", "1")  # experimental, off by default
    assert ocr.available(), "the OCR engine is a test dependency (extra `ocr`)"


@pytest.fixture
def parse(tmp_path):
    """Parse in a child process, as `nianbao parse` does: the OCR engine (ONNX Runtime
    maps over a GB of address space) stays out of the test process, whose forked
    workers other tests limit."""
    def run(data: bytes, name: str):
        path = tmp_path / name
        path.write_bytes(data)
        return parse_file(path, Limits(time_s=900, memory_mb=0))
    return run


@pytest.fixture(scope="module")
def printed() -> dict[int, tuple[object, bytes]]:
    specs = [generate.random_report(s) for s in (7, 2)]
    return {s.seed: (s, pdf) for s, pdf in zip(specs, generate.render_many_pdf(specs, via="html"))}


def _table_pages(pdf: bytes) -> set[int]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    marks = ("申请人", "行政复议", "主动公开")
    return {i + 1 for i in range(1, len(doc)) if any(m in doc[i].get_textpage().get_text_range() for m in marks)}


def _judge(spec, report, *, min_right: float) -> dict:
    want = {(str(c["table"]), c["row"], c["col"]): c["value"] for c in generate.expected_cells(spec)}
    got = {(str(c.table), c.row, c.col): c for c in report.cells}
    right = [k for k, v in want.items() if k in got and got[k].value == v]
    null = [k for k in want if k in got and got[k].value is None and got[k].reason]
    wrong = [(k, want[k], got[k].value, got[k].raw) for k in want if k not in right and k not in null]
    assert not wrong, wrong  # never a wrong figure: right, or NULL with a reason
    assert len(right) >= min_right * len(want), (len(right), len(want))
    for k in null:
        assert got[k].reason
    return {"right": len(right), "null": len(null), "of": len(want)}


def test_a_scanned_report_reads_like_its_text(printed, parse):
    spec, pdf = printed[7]
    tables = _table_pages(pdf)
    report = parse(as_scan(pdf, pages=tables, damage=Damage(dpi=200)), "scan.pdf")
    assert report.status in ("ok", "extraction_incomplete", "figures_inconsistent")
    _judge(spec, report, min_right=0.97)
    assert report.title == spec.title and report.report_year == spec.report_year
    assert [p["page"] for p in report.meta["ocr"]["pages"]] == sorted(tables)
    ocred = [c for c in report.cells if c.source.get("ocr_conf") is not None]
    assert ocred and all(c.source.get("page") in tables and len(c.source.get("bbox", [])) == 4 for c in ocred)


@pytest.mark.parametrize("damage", [Damage(dpi=200, skew=1.2, blur=0.6, speckle=0.001, jpeg=70, stamp=True, seed=5),
                                    Damage(dpi=300, skew=-1.4, blur=1.0, speckle=0.003, stamp=True, seed=11)],
                         ids=["jpeg", "speckled-300dpi"])
def test_a_damaged_scan_never_gives_a_wrong_figure(printed, parse, damage):
    """Skewed, blurred, speckled, sealed: every figure right or NULL with a reason, and
    few NULL (specks are no ink, and a speck after a figure is no decimal point)."""
    spec, pdf = printed[2]
    pages = _table_pages(pdf)
    report = parse(as_scan(pdf, pages=pages, damage=damage), "scan.pdf")
    seen = _judge(spec, report, min_right=0.95)
    assert abs(max(abs(p.get("skew", 0)) for p in report.meta["ocr"]["pages"]) - abs(damage.skew)) < 0.3
    if seen["null"]:
        assert report.status == "extraction_incomplete"


def test_a_report_as_a_multipage_tiff(printed, parse):
    spec, pdf = printed[7]
    tiff = as_images(pdf, "tiff", Damage(dpi=150))[0]
    report = parse(tiff, "report.tif")
    assert report.container == "image" and len(report.meta["ocr"]["pages"]) > 1
    _judge(spec, report, min_right=0.95)
    assert report.report_year == spec.report_year


def test_a_blank_page_is_not_read(parse):
    import io

    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument.new()
    doc.new_page(595, 842)
    buf = io.BytesIO()
    doc.save(buf)
    report = parse(as_scan(buf.getvalue(), damage=Damage(dpi=200)), "blank.pdf")
    assert report.meta["ocr"]["pages"] == [{"page": 1, "blank": True}]
    assert report.status == "extraction_incomplete" and "OCR" in report.reason


@pytest.mark.parametrize("image", ["blank", "sliver"])
def test_an_image_ocr_reads_nothing_from_says_so(image, parse):
    """An image that OCR ran on and read no text from is not a report we can read, and
    the reason says OCR ran: it must not send the user to switch OCR on (it is on)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (827, 1169) if image == "blank" else (1600, 4), 255).save(buf, "PNG", dpi=(100, 100))
    report = parse(buf.getvalue(), f"{image}.png")
    assert report.status in ("extraction_incomplete", "failed"), report.status
    assert "OCR read no text on its 1 page(s)" in report.reason, report.reason
    assert ("1 blank" if image == "blank" else "1 too small") in report.reason
    assert "NIANBAO_OCR=1" not in report.reason
    assert not any("OCR not done" in w for w in report.meta.get("warnings", [])), report.meta


def test_a_noisy_page_reads_a_bounded_number_of_cells(monkeypatch):
    """Speckle makes every cell of a lattice look inked, and each inked blank cell is read
    alone (~30 ms): a fuzz-found page took 46 s. Past the page's budget the cells are
    NULL-bound ("?") with a reason and a warning, not read, not silently blank."""
    from nianbao.pipeline.extract.pdf import Pages

    img = np.full((1100, 800), 255, dtype=np.uint8)
    for k in range(13):  # a 12 × 12 lattice of 50-px cells
        img[100 + 50 * k:102 + 50 * k, 100:702] = 0
        img[100:702, 100 + 50 * k:102 + 50 * k] = 0
    rng = np.random.default_rng(3)
    specks = rng.random(img.shape) < 0.02
    img[specks] = 0
    reads = []
    real = ocr.read_line
    monkeypatch.setattr(ocr, "read_line", lambda crop: reads.append(1) or real(crop))
    monkeypatch.setattr(raster, "MAX_CELL_READS", 5)
    pages = Pages()
    raster.add_page(pages, 1, img, 100)
    assert len(reads) <= 5
    assert any("more than 5 cells needed a second reading" in w for w in pages.warnings), pages.warnings
    unread = [c for g in pages.tables for row in g.rows for c in row
              if "not read: the page had more than 5" in (c.source.get("doubt") or "")]
    assert unread and all(c.text == "?" for c in unread)


@pytest.mark.parametrize("width,stated,read_at", [
    (1654, (200, 200), 200),  # A4 at 200 dpi, as stated
    (2339, (200, 200), 200),  # A4 landscape
    (827, (100.0, 100.0), 100),
    (827, (1, 1), 827 / (595 / 72)),  # fuzz-found: 1 dpi made an 827-px page 827 in wide, read scaled ×40
    (2480, (72, 72), 2480 / (595 / 72)),  # a phone photo's 72 dpi: a 34-inch "page"
    (300, (2400, 2400), 300 / (595 / 72)),  # an eighth of an inch
    (1654, (0, 0), 1654 / (595 / 72)),
    (1654, (float("nan"), 1), 1654 / (595 / 72)),
    (1654, ("x", 1), 1654 / (595 / 72)),
    (1654, (), 1654 / (595 / 72)),
])
def test_an_image_is_read_at_its_stated_dpi_only_when_that_makes_it_a_page(width, stated, read_at):
    from nianbao.pipeline.extract.raster import image_dpi

    assert image_dpi({"dpi": stated}, width) == pytest.approx(read_at)
    assert image_dpi({}, width) == pytest.approx(width / (595 / 72))


# ---------------------------------------------------------------- a whole report in one tall image
def _profile(rng, width: int, pages: int, *, gaps: bool, table_across: bool):
    """Ink per row of a tall image: lines of text (ink, then a blank line gap), now and
    then a paragraph gap, ruled tables (verticals keep every row inked; each rule a
    full-width row), page gaps between stitched scans or none (a long screenshot)."""

    rows: list[int] = []
    length = int(width * 2 ** 0.5)
    for p in range(pages):
        start = len(rows)
        while len(rows) - start < length:
            kind = rng.random()
            if kind < 0.15 or (table_across and p == 1 and len(rows) - start < 50):
                for _ in range(rng.randrange(3, 30)):  # a table: rule, then a row's height of verticals and text
                    rows += [width - rng.randrange(0, 40)] * rng.randrange(1, 4)
                    rows += [rng.randrange(12, 200) for _ in range(rng.randrange(18, 50))]
                rows += [width - 10] * 2
            else:
                rows += [rng.randrange(20, width // 2) for _ in range(rng.randrange(12, 30))]
                rows += [rng.randrange(0, 3) for _ in range(rng.randrange(4, 12 if kind < 0.9 else 60))]
        if gaps:
            rows += [0] * rng.randrange(10, 120)
    return np.array(rows)


@pytest.mark.parametrize("seed", range(60))
def test_a_tall_image_is_cut_between_lines_or_on_a_rule(seed):
    """Generated ink profiles (text, paragraph gaps, ruled tables that run across page
    boundaries, stitched pages with or without gaps, widths of phone screenshots and
    scans): the strips cover the image in order, each at most 1.1 pages long, each cut in
    a blank band or on a full-width rule that both strips keep."""
    import random

    from nianbao.pipeline.extract.raster import strips

    rng = random.Random(seed)
    width = rng.choice([720, 827, 1080, 1240, 1654])
    ink = _profile(rng, width, rng.randrange(2, 7), gaps=seed % 3 != 0, table_across=seed % 2 == 0)
    cuts = strips(ink, width)
    length = int(width * 2 ** 0.5)
    assert cuts[0][0] == 0 and cuts[-1][1] == len(ink)
    assert len(cuts) >= len(ink) // int(1.1 * length)
    for (t0, b0), (t1, b1) in zip(cuts, cuts[1:]):
        assert b0 - t0 <= 1.1 * length + 1 and t0 < t1 <= b0 < b1
        if t1 == b0:  # cut in a blank band
            assert ink[b0] <= max(2, width // 500)
        else:  # on a rule, kept in both strips
            assert all(ink[r] >= width // 2 for r in range(t1, b0))
    assert cuts[-1][1] - cuts[-1][0] <= 1.1 * length + 1


def test_a_tall_image_without_blank_or_rule_is_cut_at_a_page_length():

    from nianbao.pipeline.extract.raster import strips

    cuts = strips(np.full(5000, 40), 1000)
    assert cuts == [(0, 1414), (1414, 2828), (2828, 4242), (4242, 5000)]
    assert strips(np.full(1500, 40), 1000) == [(0, 1500)]  # a page and a bit: one strip


@pytest.mark.parametrize("margins", ["kept", "cropped"])
def test_a_whole_report_in_one_tall_image(printed, parse, margins):
    """Scanned pages stitched into one PNG (margins kept), or a long screenshot (page
    margins cropped, so a table runs on across the page boundary). Read whole, the
    detector would shrink it to 2,000 px; read in page-long strips it reads as the
    pages do, and each cell's box is on the image file."""
    import io

    from PIL import Image

    spec, pdf = printed[7]
    imgs = [np.asarray(Image.open(io.BytesIO(b)).convert("L")) for b in as_images(pdf, "png", Damage(dpi=100))]
    if margins == "cropped":  # to the ink, 4 px to spare: the pages' contents almost touch
        imgs = [a[max(0, rows[0] - 4):rows[-1] + 5] for a in imgs for rows in [np.flatnonzero((a < 160).any(axis=1))]]
    tall = np.concatenate(imgs)
    buf = io.BytesIO()
    Image.fromarray(tall).save(buf, "PNG", dpi=(100, 100))
    report = parse(buf.getvalue(), "report.png")
    pages = report.meta["ocr"]["pages"]
    assert len(pages) >= len(imgs) - 1 and all(p["frame"] == 1 and "strip" in p for p in pages), pages
    seen = _judge(spec, report, min_right=0.95)
    assert report.report_year == spec.report_year
    boxed = [c for c in report.cells if c.source and "frame_box" in c.source]
    assert boxed and all(0 <= c.source["frame_box"][1] < tall.shape[0] * 72 / 100 for c in boxed)
    assert seen["right"] >= 0.95 * seen["of"]


@pytest.mark.parametrize("damage", [Damage(dpi=200),
                                    Damage(dpi=300, skew=0.97, blur=1.0, speckle=0.001, stamp=True, seed=9)],
                         ids=["clean", "blurred-speckled-sealed"])
def test_slash_blanks_are_read_as_blanks(parse, damage):
    """「/」 marks a blank in many reports' tables; lone in its cell the page's detector
    often misses it, and the cell read alone must come out blank, not unreadable. Blurred
    and speckled, the recogniser reads it as "", "#", "1" or "/." with little confidence:
    its shape tells (the crop cut to the stroke, not to the specks around it)."""
    spec = generate.random_report(6, variations=["blank_slash"], year=2022)
    pdf = generate.render_many_pdf([spec], via="html")[0]
    report = parse(as_scan(pdf, pages=_table_pages(pdf), damage=damage), "scan.pdf")
    _judge(spec, report, min_right=0.95)
    assert sum(c.raw == "/" for c in report.cells) >= 20


@pytest.mark.parametrize("font", ["NotoSansCJK-Regular.ttc", "NotoSerifCJK-Regular.ttc"])
@pytest.mark.parametrize("size", [18, 28, 44])
@pytest.mark.parametrize("tilt", [-2.0, 0.0, 2.0])
def test_a_blank_mark_is_told_from_figures_by_its_shape(font, size, tilt):
    """A cell whose ink is a 「/」 or a 「—」 is blank by its shape alone: never a 1, l, I,
    丨, 7, backslash or any other digit, nor a slash beside a figure, in serif and sans, at
    three sizes, on a page straightened to within 2°, sharp or blurred with specks."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    face = ImageFont.truetype(f"/usr/share/fonts/opentype/noto/{font}", size)
    marks = [("/", "/"), ("／", "/"), ("/.", "/"), ("—", "—"), ("一", "—"), ("l", None), ("I", None),
             ("丨", None), ("\\", None), ("1/", None), ("//", None), ("-1", None), ("1", None)] + \
        [(d, None) for d in "023456789"] + ([("-", "—")] if size > 18 else [])  # smaller: a speck's size
    rng = np.random.default_rng(size)
    for ch, want in marks:
        img = Image.new("L", (size * 3, size * 3), 255)
        ImageDraw.Draw(img).text((size, size // 2), ch, fill=0, font=face)
        img = img.rotate(tilt, fillcolor=255, resample=Image.Resampling.BILINEAR)
        for blur in (0.0, 1.0):  # a scan's blur greys a thin stroke; specks stand around it
            crop = np.asarray(img.filter(ImageFilter.GaussianBlur(blur)) if blur else img).copy()
            if blur:
                crop[rng.random(crop.shape) < 0.002] = 120
            assert raster._mark(crop) == want, (ch, font, size, tilt, blur)


def test_specks_are_no_ink_and_a_trailing_speck_no_point():
    """A blank cell a noisy scanner dusted with one- and two-pixel specks is blank, not
    ink OCR cannot read. A speck after a figure is whitened from the crop read alone (a
    point there changes no figure); one before it (「.4」) or between digits is kept."""
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(3)
    cell = np.full((90, 120), 255, np.uint8)
    ys, xs = rng.integers(0, 90, 60), rng.integers(0, 120, 60)
    cell[ys, xs] = 90
    cell[ys[:10], np.minimum(xs[:10] + 1, 119)] = 90  # some two pixels long
    assert raster._cell_ink(cell) is None
    face = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 28)
    img = Image.fromarray(cell)
    ImageDraw.Draw(img).text((45, 25), "40", fill=0, font=face)
    glyphs = np.asarray(img).copy()
    ink = glyphs < 200
    right = int(np.flatnonzero(ink[25:65].any(axis=0)).max())
    for dx, kept in ((6, False), (-50, True)):  # after the figure; before it
        region = glyphs.copy()
        x = right + dx if dx > 0 else 45 + dx + 12
        region[55:58, x:x + 3] = 0  # a 3×3 speck on the baseline: a point
        crop = raster._cell_ink(region)
        assert crop is not None and crop.shape[0] < 60, crop.shape  # cut to the glyphs, not the specks
        (t, b, x0, x1), specks = raster._glyph_box(region < 200)
        assert specks[55:58, x:x + 3].all() is not kept, dx


def test_a_rules_remnant_is_no_blank_mark():
    """A horizontal stroke across the whole cell, or along its top or bottom, is what is
    left of a ruling line, not a 「—」 printed in the cell."""
    for rows, cols in [((28, 31), (2, 118)), ((3, 6), (40, 80)), ((53, 56), (40, 80))]:
        crop = np.full((60, 120), 255, np.uint8)
        crop[slice(*rows), slice(*cols)] = 0
        assert raster._mark(crop) is None, (rows, cols)
    crop = np.full((60, 120), 255, np.uint8)
    crop[28:31, 40:80] = 0
    assert raster._mark(crop) == "—"


def test_a_borders_remnant_along_a_cells_edge_is_not_ink():
    """A rule a few pixels off the lattice line lies along the crop's edge from end to
    end: whitened, so an empty cell stays empty; a glyph in the cell is kept, also one
    touching the edge but not spanning it."""
    crop = np.full((60, 120), 255, np.uint8)
    crop[:, 1] = 0  # a vertical border's remnant
    crop[58, :] = 0  # a horizontal one
    assert (raster._without_edge_rules(crop) < 200).sum() == 0
    crop[20:40, 0:3] = 0  # a glyph's stroke at the edge, a third of the height
    crop[20:40, 50:54] = 0  # a "1" in the middle
    out = raster._without_edge_rules(crop)
    assert (out[20:40, 50:54] == 0).all() and (out[20:40, 2] == 0).all()
    full = np.full((60, 120), 255, np.uint8)
    full[:, 60] = 0  # a full-height stroke in the middle is not at an edge: kept
    assert (raster._without_edge_rules(full) < 200).sum() == 60


def test_a_minus_sign_ocr_left_out_makes_the_figure_doubtful():
    """「-4」 printed faint: the recogniser reads 「4」. A short level stroke left of the
    digits, across their middle, is a sign it did not read: the figure is not trusted.
    A figure alone, one with a dash below or above it, or with specks, is."""
    from PIL import Image, ImageDraw, ImageFont

    face = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 28)
    for text, ink, want in [("-4", 180, True), ("－4", 60, True), ("4", 60, False), ("14", 150, False)]:
        img = Image.new("L", (140, 60), 255)
        ImageDraw.Draw(img).text((40, 6), text, fill=ink if "-" in text else 150, font=face)
        region = np.asarray(img).copy()
        assert raster._sign_unread(region) is want, text
    region = np.asarray(Image.new("L", (140, 60), 255)).copy()
    ImageDraw.Draw(img := Image.fromarray(region)).text((60, 6), "4", fill=0, font=face)
    region = np.asarray(img).copy()
    region[52:54, 30:50] = 0  # a stroke below the line (an underline's remnant), not before the middle
    region[5, 10] = region[30, 12] = 0  # specks
    assert raster._sign_unread(region) is False


def _page_image(pdf: bytes, page: int, dpi: int, mode: str = "L"):
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    return doc[page - 1].render(scale=dpi / 72).to_pil().convert(mode)


@pytest.mark.parametrize("seed,mode,tilt,margin", [(0, "L", 0.045, 0.07), (1, "L", 0.02, 0.04), (2, "RGB", 0.045, 0.1),
                                                   (3, "L", 0.06, 0.07), (4, "RGB", 0.01, 0.07), (5, "L", 0.03, 0.04)])
def test_a_photographed_page_is_found_and_seen_square_on(printed, seed, mode, tilt, margin):
    """Perspective of every strength, grey and colour, narrow and wide desk, light from
    any side: the page's corners are found where they landed, and the page seen
    square-on lies over the printed page."""
    import cv2

    from nianbao.devkit.scan import photograph

    _, pdf = printed[7]
    page = _page_image(pdf, min(_table_pages(pdf)), 150, mode)
    photo, corners = photograph(page, np.random.default_rng(seed), tilt=tilt, margin=margin)
    pixels = np.asarray(photo)
    grey = pixels if pixels.ndim == 2 else pixels.min(axis=2)
    quad = raster.page_quad(grey)
    assert quad is not None
    assert np.abs(quad - corners).max() < 0.01 * max(page.size), (quad.round(), corners.round())
    flat, back = raster.unwarp(pixels, quad)
    assert flat.ndim == pixels.ndim
    flat = cv2.resize(flat if flat.ndim == 2 else flat.min(axis=2), page.size, interpolation=cv2.INTER_AREA)
    want = np.asarray(page.convert("L")) < 160
    got = cv2.dilate((flat < 160).astype(np.uint8), np.ones((11, 11), np.uint8)) > 0  # corners found within 1%
    assert got[want].mean() > 0.9  # the print lies where it was printed
    corner = cv2.perspectiveTransform(np.float32([[[0, 0]]]), back)[0, 0]
    assert np.abs(corner - quad[0]).max() < 1.0


@pytest.mark.parametrize("case", ["scan", "skewed", "faint", "shadow_edge", "dark_table"])
def test_a_page_that_fills_its_image_is_not_taken_for_a_photograph(printed, case):
    from PIL import Image, ImageDraw

    _, pdf = printed[7]
    page = _page_image(pdf, min(_table_pages(pdf)), 150)
    if case == "skewed":
        page = page.rotate(1.5, fillcolor=255)
    elif case == "faint":
        page = Image.fromarray((255 - (255 - np.asarray(page).astype(np.float32)) * 0.4).astype(np.uint8))
    elif case == "shadow_edge":  # a scanner lid's shadow down one side
        ImageDraw.Draw(page).rectangle([0, 0, 40, page.height], fill=60)
    elif case == "dark_table":  # a grey-shaded block of the table
        ImageDraw.Draw(page).rectangle([200, 300, page.width - 200, 900], fill=120)
    assert raster.page_quad(np.asarray(page)) is None


def test_a_photographed_report_reads_like_its_scan(printed, parse):
    """Its table pages photographed (as phone scanning apps put them in a PDF): the
    figures come back, and each cell's box on the page as given (the site draws it
    there) lies over its figure, not where the page seen square-on has it."""
    spec, pdf = printed[7]
    tables = _table_pages(pdf)
    scan = as_scan(pdf, pages=tables, damage=Damage(dpi=200, photo=True, seed=3))
    report = parse(scan, "scan.pdf")
    assert [p["photographed"] for p in report.meta["ocr"]["pages"]] == [True] * len(tables)
    _judge(spec, report, min_right=0.95)
    pages = {n: np.asarray(_page_image(scan, n, 200)) for n in tables}
    px, checked = 200 / 72, 0
    for c in report.cells:
        if not c.value or "ocr_conf" not in c.source:
            continue
        x0, t, x1, b = (round(v * px) for v in c.source["frame_box"])
        assert (x0, t) != tuple(round(v * px) for v in c.source["bbox"][:2])
        dy, dx = (b - t) // 8, (x1 - x0) // 8
        ink = pages[c.source["page"]][t + dy:b - dy, x0 + dx:x1 - dx] < 128
        # The figure's ink inside, and no rule across: the box is on its own cell. (The
        # box on the page seen square-on fails this for about a third of the cells.)
        assert ink.any() and not (ink.mean(axis=1) > 0.6).any() and not (ink.mean(axis=0) > 0.6).any(), \
            (c.table, c.row, c.col, c.value)
        checked += 1
    assert checked > 20


@pytest.mark.parametrize("font", ["NotoSansCJK-Regular.ttc", "NotoSerifCJK-Regular.ttc"])
@pytest.mark.parametrize("size", [22, 30, 40])
def test_a_dash_reading_is_a_blank_only_where_the_ink_is_level(monkeypatch, font, size):
    """The recogniser names a thin 「1」 「一」 (at 0.6): a cell read as a dash is a blank
    mark only when its ink is a level stroke; an upright stroke is a figure not read,
    NULL with a reason, never a blank."""
    from types import SimpleNamespace

    from PIL import Image, ImageDraw, ImageFont

    face = ImageFont.truetype(f"/usr/share/fonts/opentype/noto/{font}", size)
    for reading in ("一", "-", "—"):
        monkeypatch.setattr(ocr, "read_line", lambda crop, r=reading: (r, 0.7))
        for ink, want in (("1", "?"), ("—", "—"), ("一", "—")):
            page = Image.new("L", (400, 200), 255)
            ImageDraw.Draw(page).rectangle([100, 40, 300, 160], outline=0, width=2)
            ImageDraw.Draw(page).text((190, 100 - size // 2), ink, fill=0, font=face)
            cell = SimpleNamespace(text="", source={"bbox": [100 * 0.36, 40 * 0.36, 300 * 0.36, 160 * 0.36]})
            doubted = raster._missed(cell, np.asarray(page), 0.36, [10])
            assert (cell.text, doubted) == (want, int(want == "?")), (reading, ink, font, size)
            if want == "?":
                assert "not a level stroke" in cell.source["doubt"]


@pytest.mark.parametrize("font", ["NotoSansCJK-Regular.ttc", "NotoSerifCJK-Regular.ttc"])
def test_faint_print_is_ink_and_jpeg_noise_is_not(font):
    """A light copy, blurred and saved as JPEG, leaves a thin figure above grey 200 at
    its darkest: it is still ink to read (else the cell would pass for blank, a wrong
    figure), while the same cell with nothing printed, JPEG noise and specks and all,
    is blank."""
    import io

    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    face = ImageFont.truetype(f"/usr/share/fonts/opentype/noto/{font}", 30)
    rng = np.random.default_rng(1)
    # A narrow cell, and a wide one (table 2's merged cells): a lone thin 「1」 is ink in both.
    for text, width in itertools.product(("7", "1", "4", ""), (220, 800)):
        for grey, blur, quality in ((205, 0.6, 60), (195, 1.2, 75), (190, 1.0, 60)):  # all above 200 once blurred
            img = Image.new("L", (width, 82), 255)
            ImageDraw.Draw(img).text((width // 2 - 10, 20), text, fill=grey, font=face)
            img = img.filter(ImageFilter.GaussianBlur(blur))
            noisy = np.asarray(img).copy()
            assert noisy.min() >= 190 or not text  # the figure at its darkest: about the 194 of a real faint copy
            noisy[rng.random(noisy.shape) < 0.001] = 0
            buf = io.BytesIO()
            Image.fromarray(noisy).save(buf, "JPEG", quality=quality)
            region = np.asarray(Image.open(buf))
            found = raster._cell_ink(region)
            assert (found is not None) == bool(text), (text, grey, blur, quality, int(region.min()))


def test_a_labels_numbering_read_unsure_is_no_doubtful_figure():
    """「4.保护第三方合法权益」 read at 0.87 is a label: doubted as a figure it stood among
    the row's figures, one too many, and the whole row was lost. A figure read unsure,
    alone or beside a label's words (a lost rule), is still doubted."""
    from types import SimpleNamespace

    for text, doubted in (("4.保护第三方合法权益", 0), ("（2）行政许可", 0), ("1、本年新收政府信息公开申请数量", 0),
                          ("12", 1), ("3件", 1), ("行政许可 544", 1), ("2.兼职人员数 10", 1), ("4.", 1)):
        cell = SimpleNamespace(text=text, source={"bbox": [0, 0, 100, 20]})
        assert raster._judge(cell, [(0.87, [(50, 10)])]) == doubted, text
        assert ("doubt" in cell.source) == bool(doubted), text


def test_a_labels_edge_mark_is_no_doubtful_figure():
    """A speck after a label read as a point (「5.属于三类内部事务信息.」) or a label's own
    colon (「（七）总计：」) made the label a doubtful figure, one cell too many: the row
    was lost. Figures with a mark at an edge are still doubted, however confident."""
    from types import SimpleNamespace

    for text, doubted in (("5.属于三类内部事务信息.", 0), ("（七）总计：", 0), ("（二）部分公开..", 0), ("·其他", 0),
                          (".4", 1), ("25.", 1), ("·12", 1), ("0.", 1), ("3,122.", 1)):
        cell = SimpleNamespace(text=text, source={"bbox": [0, 0, 100, 20]})
        assert raster._judge(cell, [(0.97, [(50, 10)])]) == doubted, text


_FONTS = ["opentype/noto/NotoSansCJK-Regular.ttc", "opentype/noto/NotoSerifCJK-Regular.ttc",
          "opentype/noto/NotoSansCJK-Bold.ttc", "truetype/dejavu/DejaVuSans.ttf", "truetype/dejavu/DejaVuSerif.ttf",
          "truetype/dejavu/DejaVuSansMono.ttf", "truetype/dejavu/DejaVuSerifCondensed.ttf"]


@pytest.mark.parametrize("font", _FONTS)
def test_a_zero_is_told_by_its_ring_and_no_other_figure_is(font):
    """A lone 「0」 the recogniser reads unsure is trusted when its ink is one ring of a
    figure's height around a centred hole. No other figure passes that, in sans, serif,
    bold, mono and condensed faces at five sizes, sharp or blurred: 1–9, 10, 00, 0.5;
    nor 〇 or 。 where the face has them. Most 0s pass (a 0 that does not stays in doubt)."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    others = [*"123456789", "10", "00", "0.5", "06"] + (["〇", "。"] if "Noto" in font else [])
    zeros = passed = 0
    for size in (18, 24, 28, 36, 44):
        face = ImageFont.truetype(f"/usr/share/fonts/{font}", size)

        def ink(text: str, blur: float) -> np.ndarray:
            img = Image.new("L", (size * 4, size * 2), 255)
            ImageDraw.Draw(img).text((size, size // 3), text, fill=0, font=face)
            return np.asarray(img.filter(ImageFilter.GaussianBlur(blur)) if blur else img)

        (top, bottom, _, _), _ = raster._glyph_box(ink("8", 0.0) < 200)
        digit = bottom - top + 1
        for blur in (0.0, 0.6, 1.0, 1.4):
            for text in others:
                assert not raster._ring(ink(text, blur), digit), (text, size, blur)
            zeros += 1
            passed += raster._ring(ink("0", blur), digit)
    assert passed >= 0.85 * zeros, (passed, zeros)


def test_a_zero_read_unsure_is_trusted_only_with_its_ring():
    """The recogniser's unsure 「0」 (or 「o」, 「Q」) becomes 0 when the ink is a ring, with
    the reason kept in the cell's provenance; with a 6's ink, or no page figures to size
    it against, it stays in doubt."""
    from types import SimpleNamespace

    from PIL import Image, ImageDraw, ImageFont

    face = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 28)
    for printed, read, digit, want in (("0", "0", 21.0, True), ("0", "o", 21.0, True), ("0", "Q", 21.0, True),
                                       ("6", "0", 21.0, False), ("0", "0", None, False), ("0", "6", 21.0, False),
                                       ("0", "0", 40.0, False)):
        page = Image.new("L", (200, 100), 255)
        ImageDraw.Draw(page).text((80, 30), printed, fill=0, font=face)
        cell = SimpleNamespace(text=read, source={"bbox": [40 * 0.36, 10 * 0.36, 160 * 0.36, 90 * 0.36],
                                                  "doubt": "unsure"})
        assert raster._zero_by_shape(cell, np.asarray(page), 0.36, digit) == want, (printed, read, digit)
        assert (cell.text, "doubt" in cell.source, "shape" in cell.source) == \
            (("0", False, True) if want else (read, True, False))


def test_a_speckled_scan_keeps_its_thin_rules(printed, parse):
    """A 3×3 median takes salt-and-pepper specks off a page, and 1-px rules with them: a
    row lost its lower border and two rows of figures were read as one. The rules are
    found on the page as scanned; every row of the tables is found."""
    spec, pdf = printed[2]
    report = parse(as_scan(pdf, pages=_table_pages(pdf), damage=Damage(dpi=200, skew=0.88, speckle=0.003, seed=3)),
                   "scan.pdf")
    assert not [c for c in report.cells if c.reason and ("row" in c.reason or "column" in c.reason)]
    _judge(spec, report, min_right=0.97)


def test_a_rule_a_seal_hid_is_joined_and_a_gap_in_paper_is_not():
    """A seal's ring running along a rule takes the rule with it when its red is dropped:
    the two pieces are one rule again where the seal's ink covers the gap (or the rule
    shows). Where paper shows on the line (the side of a merged cell), the gap stays."""
    pt = 72 / 200
    gray = np.full((600, 400), 255, np.uint8)
    seal = np.zeros_like(gray, dtype=bool)
    gray[:, 200] = 0
    gray[250:350, 200] = 255  # the rule gone where the ring ran along it
    pieces = [(200 * pt, 0.0, 250 * pt), (200 * pt, 350 * pt, 600 * pt)]
    assert raster._under_seal_joined(pieces, seal, gray, pt, vertical=True) == pieces  # no seal: a gap
    seal[240:360, 195:206] = True
    joined = raster._under_seal_joined(pieces, seal, gray, pt, vertical=True)
    assert (200 * pt, 250 * pt, 350 * pt) in joined
    seal[290:330, :] = False  # paper on the line for 40 px: nothing hid the rule there
    assert raster._under_seal_joined(pieces, seal, gray, pt, vertical=True) == pieces
    across = [(300 * pt, 0.0, 150 * pt), (300 * pt, 250 * pt, 400 * pt)]  # a horizontal rule, the same
    seal[:] = False
    gray2 = np.full((600, 400), 255, np.uint8)
    gray2[300, :150], gray2[300, 250:] = 0, 0
    seal[295:306, 140:260] = True
    assert (300 * pt, 150 * pt, 250 * pt) in raster._under_seal_joined(across, seal, gray2, pt, vertical=False)


def test_a_figure_part_of_which_a_seal_may_hide_is_doubted():
    """A seal's red, dropped from the page, takes what it covered: a stroke across a
    figure's whole line, on it or a figure's width beside it, could hide a 「1」; red low
    between its glyphs, a point. A ring passing above the figure or far beside it hides
    nothing of it, and the figure stands."""
    from types import SimpleNamespace

    from PIL import Image, ImageDraw, ImageFont

    face = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 28)
    pt = 72 / 200
    page = Image.new("L", (400, 100), 255)
    ImageDraw.Draw(page).text((170, 30), "2369", fill=0, font=face)
    gray = np.asarray(page)
    (t, b, x0, x1), _ = raster._glyph_box(gray < 200)

    def doubted(red: tuple[slice, slice]) -> bool:
        seal = np.zeros_like(gray, dtype=bool)
        seal[red] = True
        cell = SimpleNamespace(text="2369", source={"bbox": [20 * pt, 5 * pt, 380 * pt, 95 * pt]})
        return raster._seal_on_figure(cell, seal, gray, pt) and "doubt" in cell.source

    assert doubted((slice(t - 5, b + 5), slice(x1 + 4, x1 + 8)))  # down the line just after it: a 「1」 could hide
    assert doubted((slice(t - 5, b + 5), slice(x0 - 8, x0 - 4)))  # or just before it
    assert doubted((slice(b - 3, b + 1), slice((x0 + x1) // 2 - 2, (x0 + x1) // 2 + 2)))  # low inside: a point
    assert not doubted((slice(t - 20, t - 8), slice(x0 - 30, x1 + 30)))  # a ring passing above
    assert not doubted((slice(t - 5, b + 5), slice(x1 + 40, x1 + 46)))  # well beside it
    assert not doubted((slice(t, t + 3), slice(x0 - 10, x1 + 10)))  # across the tops of the glyphs only
