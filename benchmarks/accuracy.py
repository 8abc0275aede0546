"""Parser accuracy on generated reports: how many printed cells come back exactly.

    python benchmarks/accuracy.py --n 200 [--formats html,docx,pdf-html,pdf-docx,ofd-html,scan-html,images-html,
                                  sheet-html] [--start 0]
                                  [--inconsistent 0.2] [--worst 15] [--json out.json]

Generates N reports (seeds start..start+N-1, years and layout variations drawn by seed),
renders each in every format (PDFs in batches, one soffice run per batch), parses them
back with pipeline.parse (OFD: the printed PDF redrawn as OFD by devkit.ofd, the
producer variant drawn by seed; scans: the printed PDF rasterised and damaged by
devkit.scan, the damage drawn by seed, read by OCR) and compares every cell with the spec. Prints cell accuracy per
format and per variation, report-level accuracy (year, agency, templates) and the worst
cases with their first wrong cells, so a failure can be replayed with
`random_report(seed)`. Not part of the test suite (minutes, not seconds).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field

from nianbao.devkit.generate import (
    VARIATIONS,
    expected_cells,
    expected_place,
    random_report,
    render_docx,
    render_html,
    render_many_pdf,
)
from nianbao.devkit.ofd import VARIANTS as OFD_VARIANTS
from nianbao.devkit.ofd import pdf_to_ofd
from nianbao.devkit.scan import Damage, as_images, as_scan
from nianbao.devkit.sheets import render_xlsx

FORMATS = ("html", "docx", "pdf-html", "pdf-docx", "ofd-html", "ofd-docx")
# OCR: slow (seconds a page), asked for by name. images-html: the printed pages as images
# in an HTML article (as county portals publish them), read in page order with a QR code
# and an icon among them; sheet-html (no OCR): the text in the page, the tables in an
# attached workbook.
SCANS = ("scan-html", "scan-docx", "images-html")
JOINED = ("sheet-html",)
PHOTOS = 0.3  # share of image articles whose pages are photographed (perspective, a desk around them)


@dataclass
class Outcome:
    seed: int
    fmt: str
    year: int
    variations: list[str]
    expected: int
    exact: int
    meta_ok: dict[str, bool] = field(default_factory=dict)
    wrong: list[tuple] = field(default_factory=list)  # (table, row, col, want, got, raw)
    error: str | None = None
    seconds: float = 0.0
    old_expected: int = 0  # cells of the 2008–2018 统计表 (included in expected/exact)
    old_exact: int = 0
    nulled: int = 0  # not read, NULL with a reason (a gap, said)
    wrong_confident: int = 0  # a wrong figure stored as read (OCR: at or above the confidence threshold)
    flagged: int = 0  # of those, how many a reconciliation rule of the report flags (the issue allows these)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6 * max(1, abs(b))


ARTICLE = "http://www.example.gov.cn/zfxxgk/nb/t1.html"


def _text_only(page: bytes) -> bytes:
    import re

    return re.sub(rb'(?s)<table(?! class="title")[^>]*>.*?</table>', b"", page)


def _article(spec, pdf: bytes) -> tuple[bytes, list]:
    """The printed pages as images in an HTML article (lazy-loaded, a QR code after them)."""
    from PIL import Image

    from nianbao.pipeline.model import Attached

    rng = random.Random(spec.seed)
    pages = as_images(pdf, rng.choice(["png", "jpeg"]), Damage.draw(rng, photos=PHOTOS))
    qr = io.BytesIO()
    Image.new("L", (180, 180), 0).save(qr, "PNG")
    imgs = "".join(f'<p><img src="/loading.gif" data-src="./p{i}.img"></p>' for i in range(len(pages)))
    html = (f"<html><head><title>{spec.title}</title></head><body><h1>{spec.title}</h1>{imgs}"
            '<p><img src="./qr.png"></p></body></html>').encode("utf-8")
    base = ARTICLE.rsplit("/", 1)[0]
    return html, [Attached(f"{base}/p{i}.img", data) for i, data in enumerate(pages)] + \
        [Attached(f"{base}/qr.png", qr.getvalue())]


def _score(spec, fmt: str, data) -> Outcome:
    from nianbao.pipeline.extract.docx import extract_docx
    from nianbao.pipeline.extract.html import extract_html
    from nianbao.pipeline.extract.ofd import extract_ofd
    from nianbao.pipeline.extract.pdf import extract_pdf
    from nianbao.pipeline.parse import parse_extracted

    exp = expected_cells(spec)
    out = Outcome(spec.seed, fmt, spec.report_year, sorted(spec.variations), len(exp), 0)
    t0 = time.perf_counter()
    try:
        readers = {"html": extract_html, "docx": extract_docx, "ofd": extract_ofd, "pdf": extract_pdf,
                   "scan": extract_pdf}
        if fmt == "images-html":  # a crawled article: the page and its images, in the page's order
            from nianbao.pipeline.document import parse_bytes
            report = parse_bytes(data[0], "t1.html", url=ARTICLE, attached=data[1])
        elif fmt == "sheet-html":  # the page's text and the attached workbook's tables
            from nianbao.pipeline.document import parse_bytes
            from nianbao.pipeline.model import Attached
            report = parse_bytes(data[0], "t1.html", sheets=[Attached(ARTICLE + ".xlsx", data[1], kind="xlsx")])
        else:
            extract = readers[fmt.split("-")[0]]
            report = parse_extracted(extract(data))
    except Exception as e:  # a crash loses every cell of the document: that is the measurement
        out.error = f"{type(e).__name__}: {e}"[:300]
        out.wrong = [(e_["table"], e_["row"], e_["col"], e_["value"], "<crash>", None) for e_ in exp[:5]]
        out.seconds = time.perf_counter() - t0
        if "--traceback" in sys.argv:
            traceback.print_exc()
        return out
    out.seconds = time.perf_counter() - t0
    from nianbao.pipeline.validate import validate

    validate(report)  # the reconciliation rules, as the archive applies them: what they flag is counted
    for e in exp:
        cell = report.cell(e["table"], e["row"], e["col"])
        out.old_expected += e["table"] == "old"
        if cell is not None and _same(cell.value, e["value"]):
            out.exact += 1
            out.old_exact += e["table"] == "old"
        else:
            out.wrong.append((e["table"], e["row"], e["col"], e["value"],
                              None if cell is None else cell.value, None if cell is None else cell.raw))
            if cell is not None and cell.value is None and cell.reason:
                out.nulled += 1
            elif cell is not None:
                out.wrong_confident += 1
                out.flagged += any(i.kind == "rule" and str(i.table) == str(e["table"]) and [e["row"], e["col"]] in i.cells
                                   for i in report.issues)
    out.meta_ok = {"year": report.report_year == spec.report_year, "title": report.title == spec.title,
                   "agency": report.agency == spec.agency, "titled": report.agency_titled == spec.agency_titled,
                   "region": expected_place(spec) in (None, (report.province, report.city, report.county)),
                   "templates": report.templates == spec.templates}
    return out


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:6.2f}%" if b else "    — "


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--old", type=int, default=50, help="extra reports for 2008–2013 (the older 统计表 with 历年累计)")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--inconsistent", type=float, default=0.15,
                    help="share of reports whose printed figures break one rule (parsed as printed all the same)")
    ap.add_argument("--batch", type=int, default=40, help="PDFs per soffice run")
    ap.add_argument("--worst", type=int, default=15)
    ap.add_argument("--json", help="write every outcome here")
    ap.add_argument("--traceback", action="store_true")
    args = ap.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    unknown = set(formats) - set(FORMATS) - set(SCANS) - set(JOINED)
    if set(formats) & set(SCANS):
        os.environ["NIANBAO_OCR"] = "1"  # experimental, off by default: measured here
    if unknown:
        ap.error(f"unknown formats {sorted(unknown)}")

    specs = []
    for seed in range(args.start, args.start + args.n):
        spec = random_report(seed)
        if spec.has_tables and "old" not in spec.templates and (seed * 7919) % 100 < args.inconsistent * 100:
            spec = random_report(seed, consistent=False)
        specs.append(spec)
    for k in range(args.old):
        specs.append(random_report(10_000 + args.start + k, year=2008 + k % 6))

    outcomes: list[Outcome] = []
    render_s: dict[str, float] = defaultdict(float)
    printed: dict[str, list[bytes]] = {}  # PDFs by what they were printed from, shared by pdf-* and ofd-*
    for fmt in formats:
        t0 = time.perf_counter()
        if fmt == "html":
            docs = [render_html(s) for s in specs]
        elif fmt == "sheet-html":
            docs = [(_text_only(render_html(s)), render_xlsx(s, layout="tables")) for s in specs]
        elif fmt == "docx":
            docs = [render_docx(s) for s in specs]
        else:
            via = fmt.split("-")[1]
            if via not in printed:
                printed[via] = []
                for i in range(0, len(specs), args.batch):
                    printed[via] += render_many_pdf(specs[i:i + args.batch], via=via)
                    print(f"  {fmt}: {len(printed[via])}/{len(specs)} printed", file=sys.stderr)
            docs = printed[via]
            if fmt.startswith("ofd"):
                docs = [pdf_to_ofd(pdf, OFD_VARIANTS[s.seed % len(OFD_VARIANTS)]) for s, pdf in zip(specs, docs)]
            elif fmt.startswith("scan"):
                docs = [as_scan(pdf, damage=Damage.draw(random.Random(s.seed))) for s, pdf in zip(specs, docs)]
            elif fmt == "images-html":
                docs = [_article(s, pdf) for s, pdf in zip(specs, docs)]
        render_s[fmt] = time.perf_counter() - t0
        for spec, data in zip(specs, docs):
            outcomes.append(_score(spec, fmt, data))
        print(f"{fmt}: rendered {len(specs)} in {render_s[fmt]:.1f}s, parsed in "
              f"{sum(o.seconds for o in outcomes if o.fmt == fmt):.1f}s", file=sys.stderr)

    # ------------------------------------------------------------ report
    print(f"\n{len(specs)} reports (seeds {args.start}–{args.start + args.n - 1}), "
          f"{sum(1 for s in specs if s.has_tables)} with tables, "
          f"{sum(1 for s in specs if s.broken_rules)} with a broken rule\n")
    print(f"{'format':10} {'cells exact':>22} {'reports all-exact':>20} {'year':>8} {'title':>8} {'agency':>8}"
          f" {'titled':>8} {'region':>8} {'templates':>10} {'crashes':>8} {'s/render':>9} {'s/parse':>8}")
    for fmt in formats:
        os_ = [o for o in outcomes if o.fmt == fmt]
        ex, tot = sum(o.exact for o in os_), sum(o.expected for o in os_)
        tabled = [o for o in os_ if o.expected]
        full = sum(1 for o in tabled if o.exact == o.expected)
        meta = {k: sum(1 for o in os_ if o.meta_ok.get(k)) for k in ("year", "title", "agency", "titled", "region",
                                                                     "templates")}
        print(f"{fmt:10} {ex:>7}/{tot:<7} {_pct(ex, tot)} {full:>5}/{len(tabled):<4} {_pct(full, len(tabled))}"
              + "".join(f" {_pct(meta[k], len(os_))}" for k in ("year", "title", "agency", "titled", "region"))
              + f"   {_pct(meta['templates'], len(os_))}"
              f" {sum(1 for o in os_ if o.error):>8} {render_s[fmt] / max(1, len(os_)):>9.2f}"
              f" {sum(o.seconds for o in os_) / max(1, len(os_)):>8.2f}")

    print("\nconfusion per container: every expected cell is exact, NULL with a reason, or wrong "
          "(a figure stored as read — the one outcome that must be 0; of those, how many a rule flags)")
    for fmt in formats:
        os_ = [o for o in outcomes if o.fmt == fmt]
        tot = sum(o.expected for o in os_)
        print(f"  {fmt:10} exact {_pct(sum(o.exact for o in os_), tot)}  NULL+reason "
              f"{_pct(sum(o.nulled for o in os_), tot)}  wrong {sum(o.wrong_confident for o in os_)}"
              f" (flagged by a rule {sum(o.flagged for o in os_)})")

    print("\nold 统计表 cells (2008–2018 reports), by format")
    for fmt in formats:
        os_ = [o for o in outcomes if o.fmt == fmt and o.old_expected]
        ex, tot = sum(o.old_exact for o in os_), sum(o.old_expected for o in os_)
        print(f"  {fmt:10} {len(os_):>4} reports {ex:>7}/{tot:<7} {_pct(ex, tot)}")

    print("\ncell accuracy by variation (reports having it; n = reports)")
    print(f"{'variation':22} {'n':>4} " + " ".join(f"{f:>9}" for f in formats))
    for var in ["(all)"] + sorted(VARIATIONS):
        row = []
        n = 0
        for fmt in formats:
            os_ = [o for o in outcomes if o.fmt == fmt and o.expected and
                   (var == "(all)" or var in o.variations)]
            n = len(os_)
            row.append(_pct(sum(o.exact for o in os_), sum(o.expected for o in os_)))
        print(f"{var:22} {n:>4} " + " ".join(f"{x:>9}" for x in row))

    by_year: dict[int, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_year[o.year].append(o)
    print("\nyear detected / cells exact by report year (all formats)")
    for y in sorted(by_year):
        os_ = by_year[y]
        print(f"  {y}: n={len(os_):4}  year {_pct(sum(o.meta_ok.get('year', False) for o in os_), len(os_))}"
              f"  cells {_pct(sum(o.exact for o in os_), sum(o.expected for o in os_))}")

    worst = sorted((o for o in outcomes if o.exact < o.expected or o.error),
                   key=lambda o: (o.exact / o.expected if o.expected else 0, o.seed))[:args.worst]
    print(f"\nworst {len(worst)} (replay: random_report(seed) — consistent=False where marked *)")
    for o in worst:
        mark = "*" if any(s.seed == o.seed and s.broken_rules for s in specs) else " "
        print(f"  seed {o.seed:5}{mark} {o.fmt:9} {o.exact:>3}/{o.expected:<3} {','.join(o.variations)}")
        if o.error:
            print(f"      crash: {o.error}")
        for w in o.wrong[:4]:
            print(f"      table {w[0]} {w[1]}×{w[2]}: want {w[3]!r} got {w[4]!r} raw {w[5]!r}")
    meta_bad = [o for o in outcomes if o.meta_ok and not all(o.meta_ok.values())]
    if meta_bad:
        print(f"\nmetadata misses ({len(meta_bad)}), first 10:")
        for o in meta_bad[:10]:
            spec = next(s for s in specs if s.seed == o.seed)
            print(f"  seed {o.seed} {o.fmt}: {[k for k, v in o.meta_ok.items() if not v]}  ({spec.title})"
                  f"  {sorted(spec.variations & {'title_two_lines', 'title_three_lines', 'title_in_table'})}")

    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump([o.__dict__ for o in outcomes], f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
