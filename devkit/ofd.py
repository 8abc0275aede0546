"""Reports as OFD packages, for the tests: a printed PDF (generate.render_pdf) redrawn as
OFD, character for character and line for line, so the figures are the generator's.

Producers differ, and the variants draw the same page the ways they do:
- text: "runs" (one TextObject per line run with DeltaX, "g N v" repeats, as 数科 and
  福昕 converters write), "chars" (one TextObject per character), "outlines" (no
  text at all: each glyph a filled box, which must come out as needing OCR), or
  "glyphs" (no text either: each glyph's real outline from a CJK font, with curves
  and counters, as a printer driver writes it: readable only by drawing and OCR);
- rules: "lines" (a stroked two-point path per border), "rects" (thin filled
  rectangles), "boxes" (one stroked closed rectangle per cell side pair, with a CTM);
- origin: "boundary" (coordinates relative to each object's Boundary) or "page"
  (Boundary at the page origin, absolute coordinates), with BaseLoc paths relative
  or absolute;
- headers in a template page (a page footer with the page number).
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

MM_PER_PT = 25.4 / 72
NS = "http://www.ofdspec.org/2016"


@dataclass(frozen=True)
class Variant:
    text: str = "runs"  # runs | chars | outlines | glyphs
    rules: str = "lines"  # lines | rects | boxes
    origin: str = "boundary"  # boundary | page
    template: bool = True

    def __str__(self) -> str:
        return f"{self.text}-{self.rules}-{self.origin}{'-tpl' if self.template else ''}"


VARIANTS = [Variant(), Variant("chars", "rects", "page", False), Variant("runs", "boxes", "page", True),
            Variant("chars", "lines", "boundary", True)]


def pdf_to_ofd(pdf: bytes, variant: Variant = Variant(), *, title: str | None = None) -> bytes:
    import pdfplumber

    pages = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        title = title or (doc.metadata or {}).get("Title")
        for page in doc.pages:
            pages.append((float(page.width), float(page.height), page.chars, page.edges))
    return _package(pages, variant, title)


def _mm(v: float) -> str:
    return f"{v * MM_PER_PT:.3f}".rstrip("0").rstrip(".")


class _Ids:
    def __init__(self) -> None:
        self.n = 10

    def __call__(self) -> int:
        self.n += 1
        return self.n


def _package(pages: list[tuple[float, float, list, list]], v: Variant, title: str | None) -> bytes:
    ids = _Ids()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        doc_info = f"<ofd:DocID>nianbao-test</ofd:DocID>{f'<ofd:Title>{escape(title)}</ofd:Title>' if title else ''}"
        z.writestr("OFD.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{NS}" Version="1.1" '
                              f'DocType="OFD"><ofd:DocBody><ofd:DocInfo>{doc_info}</ofd:DocInfo>'
                              f'<ofd:DocRoot>{"/" if v.origin == "page" else ""}Doc_0/Document.xml</ofd:DocRoot>'
                              f'</ofd:DocBody></ofd:OFD>')
        w, h = pages[0][0], pages[0][1]
        refs = []
        for i, (pw, ph, chars, edges) in enumerate(pages):
            loc = f"Pages/Page_{i}/Content.xml"
            refs.append(f'<ofd:Page ID="{ids()}" BaseLoc="{"/Doc_0/" + loc if v.origin == "page" else loc}"/>')
            body = "".join(_text_objects(chars, v, ids)) + "".join(_rule_objects(edges, v, ids))
            tpl = '<ofd:Template TemplateID="1" ZOrder="Background"/>' if v.template else ""
            area = (f"<ofd:Area><ofd:PhysicalBox>0 0 {_mm(pw)} {_mm(ph)}</ofd:PhysicalBox></ofd:Area>"
                    if (pw, ph) != (w, h) else "")
            z.writestr(f"Doc_0/{loc}", f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{NS}">{tpl}'
                                       f'{area}<ofd:Content><ofd:Layer ID="{ids()}">{body}</ofd:Layer>'
                                       f'</ofd:Content></ofd:Page>')
        tpl_ref = '<ofd:TemplatePage ID="1" BaseLoc="Tpls/Tpl_0/Content.xml"/>' if v.template else ""
        z.writestr("Doc_0/Document.xml",
                   f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
                   f'<ofd:MaxUnitID>{ids.n + 1}</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 {_mm(w)} {_mm(h)}'
                   f'</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>{tpl_ref}'
                   f'</ofd:CommonData><ofd:Pages>{"".join(refs)}</ofd:Pages></ofd:Document>')
        z.writestr("Doc_0/PublicRes.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="{NS}" '
                                          f'BaseLoc="Res"><ofd:Fonts><ofd:Font ID="2" FontName="宋体" '
                                          f'FamilyName="宋体"/></ofd:Fonts></ofd:Res>')
        if v.template:
            # An empty footer band: templates hold what every page repeats.
            z.writestr("Doc_0/Tpls/Tpl_0/Content.xml",
                       f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{NS}"><ofd:Content>'
                       f'<ofd:Layer ID="2"/></ofd:Content></ofd:Page>')
    return buf.getvalue()


def _runs(chars: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Characters in runs: same line, same size, no wide gap."""
    runs: list[list[dict[str, Any]]] = []
    for c in sorted(chars, key=lambda c: (round(c["top"], 1), c["x0"])):
        last = runs[-1][-1] if runs else None
        if (last is not None and abs(last["top"] - c["top"]) < 0.5 and abs(last["size"] - c["size"]) < 0.1
                and 0 <= c["x0"] - last["x1"] < c["size"]):
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


def _deltas(xs: list[float]) -> str:
    """DeltaX with "g N v" for repeated steps, as producers abbreviate them."""
    steps = [_mm(b - a) for a, b in zip(xs, xs[1:])]
    out: list[str] = []
    i = 0
    while i < len(steps):
        j = i
        while j < len(steps) and steps[j] == steps[i]:
            j += 1
        out.append(f"g {j - i} {steps[i]}" if j - i > 2 else " ".join(steps[i:j]))
        i = j
    return " ".join(out)


def _text_objects(chars: list[dict[str, Any]], v: Variant, ids: _Ids):
    for run in _runs(chars) if v.text == "runs" else [[c] for c in chars]:
        first = run[0]
        size = float(first["size"])
        base = float(first["bottom"]) - size * 0.12  # baseline, as OFD positions text
        if v.text == "glyphs":
            for c in run:
                yield from _glyph_object(c, base, ids)
            continue
        if v.text == "outlines":
            for c in run:  # each glyph a filled shape, no text
                x0, t, x1, b = (float(c[k]) for k in ("x0", "top", "x1", "bottom"))
                yield (f'<ofd:PathObject ID="{ids()}" Boundary="{_mm(x0)} {_mm(t)} {_mm(x1 - x0)} {_mm(b - t)}" '
                       f'Fill="true" Stroke="false"><ofd:AbbreviatedData>M 0 0 L {_mm(x1 - x0)} 0 '
                       f'B 0 {_mm(b - t)} 0 {_mm(b - t)} 0 {_mm(b - t)} C</ofd:AbbreviatedData></ofd:PathObject>')
            continue
        text = "".join(c["text"] for c in run)
        x1 = max(float(c["x1"]) for c in run)
        if v.origin == "boundary":
            bx, by = float(first["x0"]), float(first["top"])
            box = f"{_mm(bx)} {_mm(by)} {_mm(x1 - bx)} {_mm(size * 1.2)}"
        else:
            bx = by = 0.0
            box = f"0 0 {_mm(x1)} {_mm(base + size)}"
        xs = [float(c["x0"]) for c in run]
        delta = f" DeltaX={quoteattr(_deltas(xs))}" if len(run) > 1 else ""
        yield (f'<ofd:TextObject ID="{ids()}" Boundary="{box}" Font="2" Size="{_mm(size)}">'
               f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="{_mm(xs[0] - bx)}" Y="{_mm(base - by)}"{delta}>'
               f'{escape(text)}</ofd:TextCode></ofd:TextObject>')


def _glyph_object(c: dict[str, Any], base: float, ids: _Ids):
    """One character as a filled path: the font's outline at the character's size and
    place (page coordinates in mm; the font's y axis points up, the page's down)."""
    font, glyphs, cmap = _font()
    name = cmap.get(ord(c["text"]))
    if not name or not c["text"].strip():
        return
    k = float(c["size"]) / font["head"].unitsPerEm
    pen = _pen(glyphs, float(c["x0"]), base, k)
    glyphs[name].draw(pen)
    if pen.d:
        yield (f'<ofd:PathObject ID="{ids()}" Boundary="0 0 {_mm(float(c["x1"]) + 50)} {_mm(base + 50)}" '
               f'Fill="true" Stroke="false"><ofd:AbbreviatedData>{" ".join(pen.d)}</ofd:AbbreviatedData>'
               f'</ofd:PathObject>')


def _font():
    """Noto Sans CJK SC (Debian fonts-noto-cjk): its glyph set and character map."""
    global _FONT
    if _FONT is None:
        from fontTools.ttLib import TTCollection

        path = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
        try:
            fonts = TTCollection(path).fonts
        except OSError as e:
            raise RuntimeError(f"{path} is needed to draw glyph outlines (Debian fonts-noto-cjk; ./dev setup)") from e
        font = next((f for f in fonts if "SC" in f["name"].getDebugName(1)), fonts[0])
        _FONT = (font, font.getGlyphSet(), font.getBestCmap())
    return _FONT


_FONT = None


def _pen(glyphs: Any, x: float, base: float, k: float) -> Any:
    """A fontTools pen that writes OFD AbbreviatedData (M, L, B, Q, C) in mm into `.d`."""
    from fontTools.pens.basePen import BasePen

    def at(p: tuple[float, float]) -> str:
        return f"{_mm(x + p[0] * k)} {_mm(base - p[1] * k)}"

    class Pen(BasePen):
        def __init__(self) -> None:
            super().__init__(glyphs)
            self.d: list[str] = []

        def _moveTo(self, p):
            self.d.append(f"M {at(p)}")

        def _lineTo(self, p):
            self.d.append(f"L {at(p)}")

        def _curveToOne(self, p1, p2, p3):
            self.d.append(f"B {at(p1)} {at(p2)} {at(p3)}")

        def _qCurveToOne(self, p1, p2):
            self.d.append(f"Q {at(p1)} {at(p2)}")

        def _closePath(self):
            self.d.append("C")

    return Pen()


def _rule_objects(edges: list[dict[str, Any]], v: Variant, ids: _Ids):
    for e in edges:
        x0, x1, t, b = float(e["x0"]), float(e["x1"]), float(e["top"]), float(e["bottom"])
        if e["orientation"] == "h":
            t = b = (t + b) / 2
        else:
            x0 = x1 = (x0 + x1) / 2
        if v.rules == "rects":
            half = 0.25
            rx0, ry0 = x0 - (half if x0 == x1 else 0), t - (half if t == b else 0)
            w, hgt = (x1 - x0) or 2 * half, (b - t) or 2 * half
            yield (f'<ofd:PathObject ID="{ids()}" Boundary="{_mm(rx0)} {_mm(ry0)} {_mm(w)} {_mm(hgt)}" '
                   f'Fill="true" Stroke="false"><ofd:AbbreviatedData>M 0 0 L {_mm(w)} 0 L {_mm(w)} {_mm(hgt)} '
                   f'L 0 {_mm(hgt)} C</ofd:AbbreviatedData></ofd:PathObject>')
        elif v.rules == "boxes":
            # The same segment drawn at double size under a CTM that halves it.
            yield (f'<ofd:PathObject ID="{ids()}" Boundary="{_mm(x0)} {_mm(t)} {_mm(x1 - x0 + 1)} {_mm(b - t + 1)}" '
                   f'CTM="0.5 0 0 0.5 0 0" LineWidth="0.5"><ofd:AbbreviatedData>M 0 0 L {_mm(2 * (x1 - x0))} '
                   f'{_mm(2 * (b - t))}</ofd:AbbreviatedData></ofd:PathObject>')
        elif v.origin == "boundary":
            yield (f'<ofd:PathObject ID="{ids()}" Boundary="{_mm(x0)} {_mm(t)} {_mm(x1 - x0)} {_mm(b - t)}" '
                   f'LineWidth="0.25"><ofd:AbbreviatedData>M 0 0 L {_mm(x1 - x0)} {_mm(b - t)}'
                   f'</ofd:AbbreviatedData></ofd:PathObject>')
        else:
            yield (f'<ofd:PathObject ID="{ids()}" Boundary="0 0 {_mm(x1 + 1)} {_mm(b + 1)}" LineWidth="0.25">'
                   f'<ofd:AbbreviatedData>M {_mm(x0)} {_mm(t)} L {_mm(x1)} {_mm(b)}</ofd:AbbreviatedData>'
                   f'</ofd:PathObject>')
