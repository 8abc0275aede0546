"""OCR speed: seconds per scanned page, ours against a naive baseline, in one run.

    python benchmarks/ocr.py [--pages 8] [--dpi 200] [--threads 1]

Pages are generated reports printed to PDF and scanned (devkit.scan). The baseline is
what a first attempt does: the engine's whole default pipeline (detection, angle
classifier, recognition) on the page as rendered. Ours is what `nianbao parse` does
for a page without a text layer (pipeline/extract/raster.add_page: straighten, ruling
lines, detection + recognition without the classifier, second readings of doubtful
cells, the lattice). Then the same pages through ours in one process per core, as
`nianbao ingest` runs them: the machine's throughput in seconds per page. Not part of
the test suite; prints the ratio ours/baseline.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor


def _ours(gray, dpi: int) -> None:
    from nianbao.pipeline.extract import raster
    from nianbao.pipeline.extract.pdf import Pages

    raster.add_page(Pages(), 1, gray, dpi)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for the throughput run")
    args = ap.parse_args()
    os.environ["NIANBAO_OCR_THREADS"] = str(args.threads)

    import numpy as np
    import pypdfium2 as pdfium
    from rapidocr_onnxruntime import RapidOCR

    from nianbao.devkit import generate
    from nianbao.pipeline.extract import ocr, raster
    from nianbao.pipeline.extract.pdf import Pages

    specs = [generate.random_report(s) for s in range(args.pages)]
    pdfs = generate.render_many_pdf(specs, via="html")
    pages = []
    for pdf in pdfs:
        doc = pdfium.PdfDocument(pdf)
        i = 1 if len(doc) > 1 else 0  # the second page: tables, mostly
        pages.append(doc[i].render(scale=args.dpi / 72, grayscale=True).to_numpy())
    naive = RapidOCR(intra_op_num_threads=args.threads)
    ocr.read(pages[0][:200, :200])  # load the models outside the timings
    naive(np.stack([pages[0][:200, :200]] * 3, axis=-1))

    base, ours = [], []
    for k, gray in enumerate(pages):
        t0 = time.perf_counter()
        naive(np.stack([gray] * 3, axis=-1))
        base.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        raster.add_page(Pages(), 1, gray, args.dpi)
        ours.append(time.perf_counter() - t0)
        print(f"page {k + 1}/{len(pages)}: baseline {base[-1]:.2f} s, ours {ours[-1]:.2f} s", flush=True)
    mb, mo = statistics.median(base), statistics.median(ours)
    print(f"\n{len(pages)} pages at {args.dpi} dpi, {args.threads} thread(s), engine {ocr.ENGINE}")
    print(f"baseline (whole default pipeline): median {mb:.2f} s/page")
    print(f"ours (raster.add_page):            median {mo:.2f} s/page  ratio ours/baseline {mo / mb:.2f}")
    with ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(_ours, [pages[0][:300, :300]] * args.workers, [args.dpi] * args.workers))  # load the models
        t0 = time.perf_counter()
        list(pool.map(_ours, pages, [args.dpi] * len(pages)))
        wall = time.perf_counter() - t0
    print(f"ours, {args.workers} processes ({args.threads} thread(s) each): {wall / len(pages):.2f} s/page of wall time "
          f"({len(pages)} pages in {wall:.1f} s)")


if __name__ == "__main__":
    main()
