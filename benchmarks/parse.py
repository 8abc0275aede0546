"""PDF parsing speed and agreement: naive pdfplumber vs the fast pypdfium2 path.

    python benchmarks/parse.py [--generated N] [--repeat R] [--long]

Corpus: the real PDF samples (shared/samples/reports/*.pdf) and N reports generated
by testkit.generate and printed to PDF by LibreOffice (one soffice run). Timed on one
core, CPU time of this process (the machine is shared: wall time would measure the
neighbours), best of R runs per document:

  naive      pdfplumber extract_text + extract_tables on every page
  reference  nianbao.devkit.pdf_reference.extract_pdf_reference
  fast       pipeline.extract.pdf.extract_pdf (its loops compiled: pipeline/extract/_pdffast.c)
  fast-py    the same with the loops in Python, as on a machine without a C compiler
  fast+parse extract_pdf then pipeline.parse.parse_extracted (if present)

Then agreement of fast vs reference: tables, cells (every matrix position: text and
span), and text (same characters). Not part of the test suite.
"""
from __future__ import annotations

import argparse
import collections
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nianbao.pipeline.extract.pdf as pdfmod  # noqa: E402
from nianbao.pipeline.extract.pdf import extract_pdf  # noqa: E402
from nianbao.devkit.pdf_reference import extract_pdf_reference, normalise_text, same_place  # noqa: E402

SHARED = Path(os.environ.get("NIANBAO_SHARED") or ROOT.parent / "shared")


def naive(data: bytes) -> None:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_text()
            page.extract_tables()


def fast_python_loops(data: bytes) -> Any:
    compiled, pdfmod._pdffast = pdfmod._pdffast, None
    try:
        return extract_pdf(data)
    finally:
        pdfmod._pdffast = compiled


def fast_parse() -> Callable[[bytes], Any] | None:
    try:
        from nianbao.pipeline.parse import parse_extracted
    except ImportError:
        return None
    return lambda data: parse_extracted(extract_pdf(data))


def best_time(fn: Callable[[bytes], Any], data: bytes, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn(data)
        best = min(best, time.process_time() - t)
    return best


def generated(n: int) -> list[tuple[str, bytes]]:
    """n reports from nianbao.devkit.generate, printed by LibreOffice (half via HTML, half
    via DOCX, as publishers use both). Falls back to a tiny HTML table of our own."""
    if n <= 0:
        return []
    try:
        from nianbao.devkit.generate import random_report, render_many_pdf
    except ImportError:
        return _own_generated(n)
    specs = [random_report(1000 + i) for i in range(n)]
    half = (n + 1) // 2
    out = [(f"gen-html-{s.seed}", b) for s, b in zip(specs[:half], render_many_pdf(specs[:half], via="html"))]
    if specs[half:]:
        out += [(f"gen-docx-{s.seed}", b)
                for s, b in zip(specs[half:], render_many_pdf(specs[half:], via="docx"))]
    return out


def _own_generated(n: int) -> list[tuple[str, bytes]]:
    import shutil
    import subprocess

    exe = shutil.which("soffice")
    if not exe:
        print("no testkit.generate and no soffice: generated corpus skipped", file=sys.stderr)
        return []
    with tempfile.TemporaryDirectory() as tmp:
        names = []
        for i in range(n):
            rows = "".join(f"<tr><td>{r}.第{r}项</td><td>{(i + 1) * r}</td><td></td></tr>" for r in range(1, 40))
            p = Path(tmp) / f"g{i}.html"
            p.write_text(f"<html><meta charset='utf-8'><body><p>报告{i}</p><table border=1>{rows}</table>"
                         "</body></html>", encoding="utf-8")
            names.append(str(p))
        subprocess.run([exe, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                        "--convert-to", "pdf", "--outdir", tmp] + names, capture_output=True, timeout=600)
        return [(f"own-{i}", (Path(tmp) / f"g{i}.pdf").read_bytes()) for i in range(n)
                if (Path(tmp) / f"g{i}.pdf").exists()]


def long_document(data: bytes, copies: int) -> bytes:
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(data)
    doc = pdfium.PdfDocument.new()
    for _ in range(copies):
        doc.import_pages(src)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def agreement(data: bytes) -> dict[str, int]:
    a, b = extract_pdf(data), extract_pdf_reference(data)
    out = collections.Counter(tables=len(b.tables), tables_same_place=0, cells=0, cells_equal=0,
                              text_same_chars=0, naive_tables=0, naive_frames=0)
    for ga, gb in zip(a.tables, b.tables):
        if not same_place(ga, gb):
            continue
        out["tables_same_place"] += 1
        ma, mb = ga.matrix(), gb.matrix()
        for r in range(max(len(ma), len(mb))):
            ra = ma[r] if r < len(ma) else []
            rb = mb[r] if r < len(mb) else []
            for c in range(max(len(ra), len(rb))):
                ca = ra[c] if c < len(ra) else None
                cb = rb[c] if c < len(rb) else None
                out["cells"] += 1
                if ca is not None and cb is not None and ca.text == cb.text and \
                        (ca.rowspan, ca.colspan) == (cb.rowspan, cb.colspan):
                    out["cells_equal"] += 1
                elif ca is None and cb is None:
                    out["cells_equal"] += 1
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            for t in page.extract_tables():
                out["naive_tables"] += 1
                if max((len(r) for r in t), default=0) < 2 or len(t) < 2:
                    out["naive_frames"] += 1
    chars = lambda s: collections.Counter(ch for ch in normalise_text(s) if not ch.isspace())  # noqa: E731
    out["text_same_chars"] = int(chars(a.text) == chars(b.text))
    return dict(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generated", type=int, default=10, help="generated reports to print and time")
    ap.add_argument("--repeat", type=int, default=3, help="runs per document (best is kept)")
    ap.add_argument("--long", type=int, default=300, help="pages of the long document (0: skip)")
    args = ap.parse_args()

    samples = [(p.name, p.read_bytes()) for p in sorted((SHARED / "samples" / "reports").glob("*.pdf"))]
    t = time.perf_counter()
    gen = generated(args.generated)
    if gen:
        print(f"printed {len(gen)} generated reports in {time.perf_counter() - t:.1f} s (LibreOffice)")
    corpora = {"samples": samples, "generated": gen}

    methods: dict[str, Callable[[bytes], Any]] = {"naive": naive, "reference": extract_pdf_reference,
                                                   "fast": extract_pdf}
    if pdfmod._pdffast is not None:
        methods["fast-py"] = fast_python_loops
    else:
        print("pipeline/extract/_pdffast is not built: 'fast' runs its loops in Python (pip install -e . "
              "with a C compiler builds it)")
    fp = fast_parse()
    if fp:
        methods["fast+parse"] = fp

    print(f"\nreports/s, one core, CPU time, best of {args.repeat}")
    header = f"{'corpus':<11}{'docs':>5}{'pages':>7}" + "".join(f"{m:>12}" for m in methods) + f"{'fast/naive':>12}"
    print(header)
    print("-" * len(header))
    for name, docs in corpora.items():
        if not docs:
            continue
        pages = sum(extract_pdf(d).meta["pages"] for _, d in docs)
        secs = {m: sum(best_time(fn, d, args.repeat) for _, d in docs) for m, fn in methods.items()}
        rate = {m: len(docs) / s for m, s in secs.items()}
        print(f"{name:<11}{len(docs):>5}{pages:>7}" + "".join(f"{rate[m]:>12.1f}" for m in methods)
              + f"{secs['naive'] / secs['fast']:>11.1f}x")

    if args.long and samples:
        base = next(d for n, d in samples if n.startswith("huaian"))
        from pypdfium2 import PdfDocument

        per = len(PdfDocument(base))
        big = long_document(base, max(1, args.long // per))
        n = len(PdfDocument(big))
        tf = best_time(extract_pdf, big, 1)
        tn = best_time(naive, big, 1)
        print(f"\nlong document, {n} pages: fast {tf:.2f} s ({n / tf:.0f} pages/s), "
              f"naive {tn:.2f} s ({n / tn:.0f} pages/s), {tn / tf:.1f}x")

    print("\nagreement, fast vs reference")
    print("(naive: pdfplumber's default extract_tables; frames = its 1-row or 1-column 'tables')")
    print(f"{'corpus':<11}{'docs':>5}{'tables':>8}{'same place':>12}{'cells':>8}{'equal':>8}{'text same':>11}"
          f"{'naive tables':>14}{'frames':>8}")
    for name, docs in corpora.items():
        if not docs:
            continue
        tot: collections.Counter = collections.Counter()
        for _, d in docs:
            tot.update(agreement(d))
        print(f"{name:<11}{len(docs):>5}{tot['tables']:>8}{tot['tables_same_place']:>12}{tot['cells']:>8}"
              f"{tot['cells_equal']:>8}{tot['text_same_chars']:>8}/{len(docs):<2}"
              f"{tot['naive_tables']:>14}{tot['naive_frames']:>8}")


if __name__ == "__main__":
    main()
