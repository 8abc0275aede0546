"""The compiled loops (pipeline/extract/_pdffast.c) against the Python loops they
replace, value for value: every character box and every ruling line on every page,
every page's text, and whole extractions, on the real sample, LibreOffice-printed
reports, and PDFs drawn here for the rare branches (text-matrix-scaled fonts as WPS
writes them, fake bold, blank and generated spaces, pages wrapped in form XObjects,
borders as stroked and filled rectangles). And random character soups for the line
and word rules of chars_to_text."""
from __future__ import annotations

import ctypes
import dataclasses
import io
import os
import random
from pathlib import Path

import pytest

from pipeline.extract import pdf

SHARED = Path(os.environ.get("NIANBAO_SHARED") or Path(__file__).resolve().parents[2] / "shared")
HONGZE = SHARED / "samples" / "reports" / "huaian-hongze-2023.pdf"


def test_compiled_helper_is_built():
    assert pdf._pdffast is not None, (
        "pipeline/extract/_pdffast was not built: install a C compiler and the Python headers "
        "(./dev setup does), then `pip install -e .` again")


def scaled_font_pdf() -> bytes:
    """Text set as WPS does it: a 199-point font shrunk 20x by the text matrix, next to
    ordinary 12-point text, a fake-bold word and a wide-spaced line; then a page of
    blanks."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    doc = pdfium.PdfDocument.new()
    page = doc.new_page(595, 842)

    def put(text: str, size: float, a: float, x: float, y: float) -> None:
        t = raw.FPDFPageObj_NewTextObj(doc.raw, b"Helvetica", size)
        s = (text + "\x00").encode("utf-16-le")
        raw.FPDFText_SetText(t, ctypes.cast(ctypes.c_char_p(s), ctypes.POINTER(ctypes.c_ushort)))
        raw.FPDFPageObj_Transform(t, a, 0, 0, a, x, y)
        raw.FPDFPage_InsertObject(page.raw, t)

    put("Scaled 2023 report", 199.0, 0.05, 72, 780)
    put("plain 12 pt  text   with gaps", 12.0, 1.0, 72, 750)
    put("Bold", 12.0, 1.0, 72, 720)
    put("Bold", 12.0, 1.0, 72.4, 720.3)
    put("tiny", 3.0, 1.0, 300, 720)
    put("huge", 90.0, 1.0, 72, 600)
    raw.FPDFPage_GenerateContent(page.raw)
    page = doc.new_page(595, 842)  # a page of blanks only: no text, as a scan's page
    put("    ", 12.0, 1.0, 72, 750)
    raw.FPDFPage_GenerateContent(page.raw)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def as_forms(data: bytes) -> bytes:
    """Every page wrapped in a form XObject and turned, as imposition tools write them."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(data)
    dst = pdfium.PdfDocument.new()
    for i in range(len(src)):
        obj = src.page_as_xobject(i, dst).as_pageobject()
        page = dst.new_page(842, 595)
        obj.set_matrix(pdfium.PdfMatrix(0, 1, -1, 0, 842, 0))
        page.insert_obj(obj)
        page.gen_content()
        page.set_rotation(90)
    buf = io.BytesIO()
    dst.save(buf)
    return buf.getvalue()


def boxes_pdf() -> bytes:
    """Borders every way a generator draws them: stroked cell rectangles, thin and
    thick filled rectangles, a stroked diagonal, an invisible path, a thick bar."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    doc = pdfium.PdfDocument.new()
    page = doc.new_page(595, 842)
    for x0, y0, w, h, mode in [(100, 600, 100, 30, "stroke"), (200, 600, 100, 30, "stroke"),
                               (100, 630, 200, 0.5, "fill"), (100, 570, 0.6, 90, "fill"),
                               (100, 400, 200, 40, "fill"), (100, 300, 200, 9, "stroke"),
                               (100, 200, 200, 1, "none")]:
        r = raw.FPDFPageObj_CreateNewRect(x0, y0, w, h)
        if mode == "stroke":
            raw.FPDFPageObj_SetStrokeColor(r, 0, 0, 0, 255)
            raw.FPDFPageObj_SetStrokeWidth(r, 0.8)
        raw.FPDFPath_SetDrawMode(r, raw.FPDF_FILLMODE_WINDING if mode == "fill" else raw.FPDF_FILLMODE_NONE,
                                 mode == "stroke")
        raw.FPDFPage_InsertObject(page.raw, r)
    for (x0, y0), (x1, y1), width in [((100, 500), (300, 500), 0.5), ((150, 520), (150, 480), 0.5),
                                      ((100, 450), (300, 470), 0.5), ((100, 440), (300, 440), 5.0)]:
        p = raw.FPDFPageObj_CreateNewPath(x0, y0)
        raw.FPDFPath_LineTo(p, x1, y1)
        raw.FPDFPageObj_SetStrokeColor(p, 0, 0, 0, 255)
        raw.FPDFPageObj_SetStrokeWidth(p, width)
        raw.FPDFPath_SetDrawMode(p, raw.FPDF_FILLMODE_NONE, 1)
        raw.FPDFPage_InsertObject(page.raw, p)
    raw.FPDFPage_GenerateContent(page.raw)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def corpus() -> dict[str, bytes]:
    from testkit.generate import random_report, render_many_pdf

    if not HONGZE.exists():
        pytest.fail(f"sample not found: {HONGZE} (set NIANBAO_SHARED)")
    docs = {"hongze": HONGZE.read_bytes(), "scaled": scaled_font_pdf(), "boxes": boxes_pdf()}
    docs["forms"] = as_forms(docs["hongze"])
    specs = [random_report(seed) for seed in (7, 8)]
    for via in ("html", "docx"):
        for spec, data in zip(specs, render_many_pdf(specs, via=via)):
            docs[f"gen-{via}-{spec.seed}"] = data
    return docs


def per_page_both(data: bytes, fn_name: str, monkeypatch) -> list[tuple]:
    """(compiled, python) results of pdf.<fn_name>(page, raw) for every page."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    doc = pdfium.PdfDocument(data)
    out = []
    try:
        for i in range(len(doc)):
            handle = raw.FPDF_LoadPage(doc.raw, i)
            try:
                page = pdf._RawPage(handle)
                compiled = getattr(pdf, fn_name)(page, raw)
                with monkeypatch.context() as m:
                    m.setattr(pdf, "_pdffast", None)
                    python = getattr(pdf, fn_name)(page, raw)
                out.append((compiled, python))
            finally:
                raw.FPDF_ClosePage(handle)
    finally:
        doc.close()
    return out


@pytest.mark.parametrize("name", ["hongze", "scaled", "gen-html-7", "gen-html-8", "gen-docx-7", "gen-docx-8"])
def test_same_characters_and_text(corpus, name, monkeypatch):
    pages = per_page_both(corpus[name], "_page_chars", monkeypatch)
    assert sum(len(c[0]) for c, _ in pages) > 50
    if name == "scaled":
        assert [p[1][1] for p in pages] == [1, 0]
    for n, ((chars_c, blank_c), (chars_p, blank_p)) in enumerate(pages, 1):
        assert blank_c == blank_p, f"page {n}"
        assert chars_c == chars_p, f"page {n}"
        text_c = pdf.chars_to_text(chars_c)
        assert text_c == pdf._chars_to_text_py(chars_p), f"page {n}"


def test_scaled_font_boxes_are_rescaled(corpus, monkeypatch):
    """WPS's shrunk fonts take the text-matrix branch and get printed-size boxes."""
    (chars, _), _ = per_page_both(corpus["scaled"], "_page_chars", monkeypatch)[0]
    scaled = [c for c in chars if c[0] == "S"][0]
    assert 9.0 < scaled[4] - scaled[2] < 11.0  # 199 × 0.05 ≈ 10 pt high
    assert scaled[3] - scaled[1] < 10.0  # and narrow, not 199-point wide
    # The 3-point word shares Bold's baseline but not its top: a line of its own.
    assert pdf.chars_to_text(chars).splitlines() == ["Scaled 2023 report", "plain 12 pt text with gaps",
                                                     "Bold", "tiny", "huge"]


@pytest.mark.parametrize("name", ["hongze", "forms", "boxes", "gen-html-7", "gen-docx-8"])
def test_same_rules(corpus, name, monkeypatch):
    pages = per_page_both(corpus[name], "_page_rules", monkeypatch)
    for n, (compiled, python) in enumerate(pages, 1):
        assert compiled == python, f"page {n}"
    assert sum(len(v) + len(h) for (v, h), _ in pages) >= 6


def test_too_many_paths_either_way(corpus, monkeypatch):
    monkeypatch.setattr(pdf, "MAX_PATHS", 3)
    warned = [w for w in pdf.extract_pdf(corpus["boxes"]).warnings if "paths" in w]
    assert warned == ["page 1: more than 3 vector paths, tables not searched"]
    monkeypatch.setattr(pdf, "_pdffast", None)
    assert [w for w in pdf.extract_pdf(corpus["boxes"]).warnings if "paths" in w] == warned


@pytest.mark.parametrize("name", ["hongze", "forms", "boxes", "gen-html-7", "gen-docx-8"])
def test_same_extraction(corpus, name, monkeypatch):
    compiled = dataclasses.asdict(pdf.extract_pdf(corpus[name]))
    monkeypatch.setattr(pdf, "_pdffast", None)
    assert dataclasses.asdict(pdf.extract_pdf(corpus[name])) == compiled


def test_chars_to_text_on_random_soups():
    """Lines chained by height, words by gaps, fake-bold copies dropped, spaces as
    gaps, ties in x kept in input order: the compiled and Python rules agree."""
    rng = random.Random(2026)
    alphabet = "0123456789总计申请人数量 \u3000\t\u00a0ab"
    for _ in range(3000):
        chars = []
        for _ in range(rng.randint(0, 40)):
            x0 = rng.choice([rng.uniform(0, 300), float(rng.randint(0, 30) * 10)])
            top = rng.choice([rng.uniform(0, 40), float(rng.randint(0, 8) * 3)])
            ch = rng.choice(alphabet)
            chars.append((ch, x0, top, x0 + rng.uniform(0, 12), top + 10))
            if rng.random() < 0.3:  # fake bold, often exactly at the 1 pt limits
                dx = rng.choice([rng.uniform(-0.2, 1.2), 1.0, 0.0, 1.5])
                dy = rng.choice([rng.uniform(-1.2, 1.2), 1.0, -1.0, 3.0, -3.0])
                chars.append((ch, x0 + dx, top + dy, x0 + 10, top + 10))
            if rng.random() < 0.3:  # the next word exactly X_TOL away
                chars.append((rng.choice(alphabet), chars[-1][3] + rng.choice([3.0, 2.99, 3.01]), top,
                              chars[-1][3] + 12, top + 10))
        assert pdf._pdffast.chars_to_text(chars) == pdf._chars_to_text_py(chars), chars


def test_chars_to_text_rejects_what_it_cannot_read():
    with pytest.raises(TypeError):
        pdf._pdffast.chars_to_text([("ab", 0.0, 0.0, 1.0, 1.0)])
    with pytest.raises(TypeError):
        pdf._pdffast.chars_to_text([("a", "x", 0.0, 1.0, 1.0)])
    assert pdf._pdffast.chars_to_text([]) == ""


def random_rules(rng: random.Random) -> tuple[list, list]:
    """Ruling lines as pages draw them, and worse: one to three tables of jittered
    rules (snapped together), rules broken into pieces with small and large gaps
    (joined or not), missing borders, doubled rules, stray strokes and stubs."""
    v, h = [], []
    for _ in range(rng.randint(1, 3)):
        x0, y0 = rng.uniform(20, 300), rng.uniform(20, 600)
        xs = [x0]
        for _ in range(rng.randint(1, 6)):
            xs.append(xs[-1] + rng.choice([rng.uniform(2, 80), 30.0, 3.0, 2.5]))
        ys = [y0]
        for _ in range(rng.randint(1, 12)):
            ys.append(ys[-1] + rng.choice([rng.uniform(2, 30), 20.0, 3.0]))
        jitter = lambda: rng.choice([0.0, rng.uniform(-2, 2), 3.0, -3.0])  # noqa: E731
        for x in xs:
            if rng.random() < 0.1:
                continue  # a missing border
            top = ys[0] + jitter()
            for cut in sorted(rng.sample(ys[1:-1], k=min(len(ys) - 2, rng.randint(0, 2)))) + [ys[-1]]:
                v.append((x + jitter(), top, cut + jitter()))
                top = cut + rng.choice([0.0, 2.0, 3.0, 3.5, 10.0])
            if rng.random() < 0.1:
                v.append(v[-1])  # drawn twice
        for y in ys:
            if rng.random() < 0.1:
                continue
            h.append((y + jitter(), xs[0] + jitter(), xs[-1] + jitter()))
    for _ in range(rng.randint(0, 4)):  # stray strokes and stubs
        x, y = rng.uniform(0, 500), rng.uniform(0, 800)
        v.append((x, y, y + rng.choice([1.0, 2.9, 3.0, 50.0, -5.0])))
        h.append((y, x, x + rng.choice([1.0, 3.0, 40.0, -1.0])))
    rng.shuffle(v)
    rng.shuffle(h)
    return v, h


def test_find_tables_on_random_rules():
    rng = random.Random(11)
    found = 0
    for _ in range(1500):
        v, h = random_rules(rng)
        compiled = pdf._pdffast.find_tables(v, h, pdf.SNAP, pdf.JOIN, pdf.MIN_EDGE, pdf.ISECT)
        assert compiled == pdf._find_tables_py(v, h), (v, h)
        found += len(compiled)
    assert found > 1000


@pytest.mark.parametrize("odd", [float("nan"), float("inf"), 0.0, -0.0])
def test_find_tables_leaves_odd_coordinates_to_python(odd):
    v = [(10.0, 10.0, 50.0), (60.0, 10.0, 50.0), (odd, 10.0, 50.0)]
    h = [(10.0, 10.0, 60.0), (50.0, 10.0, 60.0)]
    assert pdf._pdffast.find_tables(v, h, pdf.SNAP, pdf.JOIN, pdf.MIN_EDGE, pdf.ISECT) is None
    assert pdf._find_tables(v, h) == pdf._find_tables_py(v, h)
