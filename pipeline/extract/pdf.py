"""PDF → Extracted (text in reading order + ruled tables as Grids).

TEMPORARY: backed by the pdfplumber reference while the pypdfium2 fast path is built;
the public API (extract_pdf, PdfError) stays as it is.
"""
from __future__ import annotations

from pipeline.model import Extracted


class PdfError(Exception):
    """A PDF that cannot be read: `reason` says why in words a crawl log can show."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def extract_pdf(data: bytes, name: str | None = None) -> Extracted:
    from pipeline.extract.pdf_reference import extract_pdf_reference

    if not data:
        raise PdfError("not a PDF: empty input")
    if b"%PDF-" not in data[:1024]:
        raise PdfError("not a PDF: no %PDF- header")
    try:
        return extract_pdf_reference(data, name)
    except PdfError:
        raise
    except Exception as e:  # pdfminer raises many unrelated types
        if "password" in type(e).__name__.lower() or "encrypt" in str(e).lower():
            raise PdfError("encrypted PDF (password required)") from e
        raise PdfError(f"truncated or corrupt PDF: {type(e).__name__}: {e}") from e
