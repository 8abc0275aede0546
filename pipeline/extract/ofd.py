"""OFD (GB/T 33190, the Chinese fixed-layout format): a zip of XML files.

OFD.xml names the document root; Document.xml lists the pages (and template pages
that hold headers and footers); each page's Content.xml holds layers of text objects
(Unicode text with the position of every character) and path objects (ruling lines).
All lengths are millimetres with the origin at the top-left, y downward. We turn them
into characters and rules in points and hand them to the PDF reader's `Pages`, so that
lines, lattices and tables over page breaks follow exactly the same rules as PDFs.

Text drawn as outlines (no text object on a page) leaves the page textless: with OCR
on, the page is drawn (ofd_render) and read from its pixels like a scan; without, the
parser reports it as needing OCR.
"""
from __future__ import annotations

import io
import itertools
import posixpath
import re
import zipfile
import zlib
from typing import Any, Iterator

from lxml import etree

from ..model import Extracted
from .pdf import Char, Pages
from .pdf_layout import ocr_verdict, path_rules

PT_PER_MM = 72 / 25.4
MAX_PAGES = 5000
MAX_DEPTH = 32  # nested PageBlocks / CompositeObjects
DEFAULT_LINE_WIDTH = 0.353  # mm (GB/T 33190 §9.1)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
_NUM = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[A-Za-z]")


class OfdError(Exception):
    pass


def extract_ofd(data: bytes, name: str | None = None) -> Extracted:
    """Text and ruled tables of an OFD package. Raises OfdError when the package is not
    a readable OFD (no OFD.xml, no document root, a page missing). A page without text
    (glyphs drawn as outlines) is drawn and read by OCR when OCR is on."""
    doc = _Document(data)
    pages = Pages()
    if doc.bodies > 1:
        pages.warnings.append(f"OFD package holds {doc.bodies} documents: only the first was read")
    ocr_done: list[dict[str, Any]] = []
    repeats = 0
    for no, path in doc.pages():
        if path is None:
            repeats += 1
            continue
        box, contents = doc.page(path)
        drawn = _Drawn()
        for content in contents:
            drawn.content(content)
        has_text = any(c[0].strip() for c in drawn.chars)
        if not has_text and _ocr_on():
            from . import raster
            from .ofd_render import paint

            ocr_done.append(raster.add_page(pages, no, paint(box, contents, raster.DPI), raster.DPI))
            continue
        pages.add(no, drawn.chars, drawn.v, drawn.h, (box[3] - box[1]) * PT_PER_MM, has_text=has_text)
    if repeats:
        pages.warnings.append(f"{repeats} page reference(s) repeat a page already read (same content): not read again")
    ex = pages.extracted(title=doc.title, encrypted=False, n_pages=len(doc.refs) - repeats)
    ex.container = "ofd"
    if ocr_done:
        from .ocr import ENGINE

        ocr_verdict(ex, ENGINE, ocr_done)
    return ex


def _ocr_on() -> bool:
    from . import ocr

    return ocr.available()


class _Document:
    """The package's first document: its title, its pages in order, and each page's
    size and content layers (its template pages' first, as they are drawn under it)."""

    def __init__(self, data: bytes):
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as e:
            raise OfdError(f"corrupt OFD package: {e}") from e
        self.pkg = pkg = _Package(z)
        root = pkg.xml(pkg.resolve("", "OFD.xml"))
        bodies = _children(root, "DocBody")
        if not bodies:
            raise OfdError("OFD.xml names no document (no DocBody)")
        self.bodies = len(bodies)
        doc_loc = _text(bodies[0], "DocRoot")
        if not doc_loc:
            raise OfdError("OFD.xml names no document root (DocRoot)")
        self.title = _text(_child(bodies[0], "DocInfo"), "Title") or None
        doc_path = pkg.resolve("", doc_loc)
        doc = pkg.xml(doc_path)
        self.base = posixpath.dirname(doc_path)
        common = _child(doc, "CommonData")
        self.default_box = _box(_text(_child(common, "PageArea"), "PhysicalBox")) or (0, 0, 210, 297)
        self.templates = {t.get("ID"): pkg.resolve(self.base, t.get("BaseLoc", ""))
                          for t in _children(common, "TemplatePage")}
        self.refs = _children(_child(doc, "Pages"), "Page")
        if len(self.refs) > MAX_PAGES:
            raise OfdError(f"too many pages: {len(self.refs)} > {MAX_PAGES}")

    def pages(self) -> Iterator[tuple[int, str | None]]:
        """(page number, the page's part; None for a page listed again). A repeated page
        is the same content printed again: a producer's slip, or a 160 KB Document.xml
        that lists one page 3,000 times to buy minutes of work."""
        seen: set[str] = set()
        for no, ref in enumerate(self.refs, 1):
            path = self.pkg.resolve(self.base, ref.get("BaseLoc", ""))
            yield no, (None if path in seen else path)
            seen.add(path)

    def page(self, path: str) -> tuple[tuple[float, float, float, float], list[Any]]:
        """The page's box (mm) and its Content elements, template pages first."""
        page = self.pkg.xml(path)
        box = _box(_text(_child(page, "Area"), "PhysicalBox")) or self.default_box
        contents = []
        for tpl in _children(page, "Template"):
            loc = self.templates.get(tpl.get("TemplateID"))
            if loc and loc in self.pkg:
                contents.append(_child(self.pkg.xml(loc), "Content"))
        contents.append(_child(page, "Content"))
        return box, contents


class _Package:
    def __init__(self, z: zipfile.ZipFile):
        self.z = z
        self.names = {n.lstrip("/"): n for n in z.namelist()}

    def __contains__(self, path: str) -> bool:
        return path in self.names

    def resolve(self, base: str, loc: str) -> str:
        """BaseLoc values are relative to the file that names them, or absolute from the
        package root; producers differ in case and in a leading slash."""
        loc = loc.strip().replace("\\", "/")
        path = posixpath.normpath(loc.lstrip("/") if loc.startswith("/") else posixpath.join(base, loc))
        if path not in self.names:
            folded = {n.lower(): n for n in self.names}
            path = folded.get(path.lower(), path)
        return path

    def xml(self, path: str) -> Any:
        if path not in self.names:
            raise OfdError(f"OFD package lacks {path}")
        try:
            raw = self.z.read(self.names[path])
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as e:
            raise OfdError(f"OFD part {path} cannot be unpacked (damaged zip entry): {e}") from e
        try:
            return etree.fromstring(raw, _PARSER)
        except etree.XMLSyntaxError as e:
            raise OfdError(f"OFD part {path} is not well-formed XML: {e}") from e


class _Drawn:
    """Characters and ruling lines of one page, in points, top-left origin."""

    def __init__(self) -> None:
        self.chars: list[Char] = []
        self.v: list[tuple[float, float, float]] = []
        self.h: list[tuple[float, float, float]] = []

    def content(self, content: Any) -> None:
        for layer in _children(content, "Layer"):
            self._objects(layer, 0)

    def _objects(self, parent: Any, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        for obj in parent:
            tag = _local(obj)
            if tag == "TextObject":
                self._text(obj)
            elif tag == "PathObject":
                self._path(obj)
            elif tag in ("PageBlock", "CompositeObject"):
                self._objects(obj, depth + 1)

    def _text(self, obj: Any) -> None:
        bx, by = _origin(obj)
        ctm = _ctm(obj)
        size = _float(obj.get("Size"), 3.5)
        x = y = 0.0
        for code in _children(obj, "TextCode"):
            text = code.text or ""
            # X/Y carry over from the previous TextCode when a producer omits them.
            x = _float(code.get("X"), x)
            y = _float(code.get("Y"), y)
            deltas = _deltas(code.get("DeltaX"))
            dys = _deltas(code.get("DeltaY"))
            cx, cy = x, y
            for i, ch in enumerate(text):
                width = size if ord(ch) > 0x2E7F else size / 2
                adv = deltas[i] if i < len(deltas) else width
                x0, top = _apply(ctm, cx, cy - size * 0.88)
                x1, bottom = _apply(ctm, cx + min(width, adv if adv > 0 else width), cy + size * 0.12)
                self.chars.append((ch, (bx + x0) * PT_PER_MM, (by + top) * PT_PER_MM,
                                   (bx + x1) * PT_PER_MM, (by + bottom) * PT_PER_MM))
                cx += adv
                cy += dys[i] if i < len(dys) else 0.0
            x, y = cx, cy

    def _path(self, obj: Any) -> None:
        stroke, fill = painted(obj)
        if not stroke and not fill:
            return
        subpaths, closed, curved = outline(obj)
        # A stroked path is a line however it is filled; a fill alone is a rule only when thin.
        path_rules(subpaths, closed, curved, stroke, self.v, self.h)


Point = tuple[float, float]


def outline(obj: Any, flatten: int = 0, limit: int | None = None) -> tuple[list[list[Point]], list[bool], list[bool]]:
    """A path object's subpaths in points on the page, whether each is closed, and whether
    it curves. A curve goes straight to its end point (rules are straight), or with
    `flatten` steps along it (to draw it); at most about `limit` points."""
    bx, by = _origin(obj)
    ctm = _ctm(obj)

    def to(x: float, y: float) -> Point:
        x, y = _apply(ctm, x, y)
        return (round((bx + x) * PT_PER_MM, 3), round((by + y) * PT_PER_MM, 3))

    subpaths: list[list[Point]] = []
    closed: list[bool] = []
    curved: list[bool] = []
    at = (0.0, 0.0)  # the current point, in the object's own coordinates
    n = 0
    for cmd, args in _commands(_text(obj, "AbbreviatedData")):
        if limit is not None and n >= limit:
            break
        n += 1 + len(args)
        if cmd in "MS" and len(args) >= 2:
            at = (args[0], args[1])
            subpaths.append([to(*at)])
            closed.append(False)
            curved.append(False)
        elif not subpaths:
            continue
        elif cmd == "C":
            closed[-1] = True
        elif cmd in "LQBA" and len(args) >= 2:
            curved[-1] = curved[-1] or cmd != "L"
            step = {"L": 2, "B": 6, "Q": 4}.get(cmd) if flatten else None
            if step is None:  # an arc, or not drawing: to the end point
                at = (args[-2], args[-1])
                subpaths[-1].append(to(*at))
                continue
            for i in range(0, len(args) - step + 1, step):
                ctrl = [at] + [(args[j], args[j + 1]) for j in range(i, i + step, 2)]
                subpaths[-1] += [to(*p) for p in (ctrl[1:] if cmd == "L" else _bezier(ctrl, flatten))]
                at = ctrl[-1]
    return subpaths, closed, curved


def _bezier(ctrl: list[Point], steps: int) -> list[Point]:
    """`steps` points along a quadratic or cubic Bézier curve (its start left out)."""
    out = []
    for k in range(1, steps + 1):
        t = k / steps
        pts = ctrl
        while len(pts) > 1:  # de Casteljau
            pts = [((1 - t) * a[0] + t * b[0], (1 - t) * a[1] + t * b[1]) for a, b in itertools.pairwise(pts)]
        out.append(pts[0])
    return out


def painted(obj: Any) -> tuple[bool, bool]:
    """(stroked, filled): GB/T 33190 strokes a path and leaves it unfilled unless told."""
    return obj.get("Stroke", "true").lower() != "false", obj.get("Fill", "false").lower() == "true"


def _commands(data: str | None) -> Iterator[tuple[str, list[float]]]:
    cmd, args = None, []
    for tok in _NUM.findall(data or ""):
        if tok.isalpha():
            if cmd:
                yield cmd, args
            cmd, args = tok.upper(), []
        else:
            args.append(float(tok))
    if cmd:
        yield cmd, args


def _deltas(spec: str | None) -> list[float]:
    """DeltaX/DeltaY: numbers, with "g N v" meaning v repeated N times."""
    out: list[float] = []
    toks = (spec or "").split()
    i = 0
    while i < len(toks) and len(out) < 100_000:
        if toks[i] == "g" and i + 2 < len(toks):
            out += [_float(toks[i + 2], 0.0)] * min(int(_float(toks[i + 1], 0)), 100_000)
            i += 3
        else:
            out.append(_float(toks[i], 0.0))
            i += 1
    return out


def _ctm(obj: Any) -> tuple | None:
    vals = [_float(t, 0.0) for t in (obj.get("CTM") or "").split()]
    return tuple(vals) if len(vals) == 6 else None


def _apply(ctm: tuple | None, x: float, y: float) -> tuple[float, float]:
    if ctm is None:
        return x, y
    a, b, c, d, e, f = ctm
    return a * x + c * y + e, b * x + d * y + f


def _origin(obj: Any) -> tuple[float, float]:
    box = _box(obj.get("Boundary"))
    return (box[0], box[1]) if box else (0.0, 0.0)


def _box(spec: str | None) -> tuple[float, float, float, float] | None:
    """"x y w h" → (x0, y0, x1, y1)."""
    vals = [_float(t, 0.0) for t in (spec or "").split()]
    if len(vals) != 4:
        return None
    x, y, w, h = vals
    return x, y, x + w, y + h


def _float(s: Any, default: float) -> float:
    try:
        v = float(s)
    except (TypeError, ValueError):
        return default
    return v if v == v and abs(v) < 1e7 else default  # NaN and absurd values: ignore


def _local(el: Any) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el: Any, name: str) -> list[Any]:
    return [c for c in el if _local(c) == name] if el is not None else []


def _child(el: Any, name: str) -> Any:
    found = _children(el, name)
    return found[0] if found else None


def _text(el: Any, name: str) -> str:
    c = _child(el, name)
    return (c.text or "").strip() if c is not None else ""
