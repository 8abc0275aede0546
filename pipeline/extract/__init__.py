"""Container → Extracted. `extract(data, kind)` picks the extractor for a sniffed kind.

Each extractor is a pure function of the bytes (OFD: its zip of XML parts, read
like a PDF's pages); legacy formats (DOC/WPS, RTF) go through
LibreOffice to DOCX first. Anything we cannot read raises ExtractError with a reason a
person can act on; the caller records it and keeps the bytes.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from pathlib import Path

from lxml import etree

from ..model import Extracted

MAX_UNZIPPED = 200 * 1024 * 1024  # a DOCX larger than this unpacked is a zip bomb, not a report
MAX_RATIO = 200


class ExtractError(Exception):
    """The document cannot be read; str(e) says why."""


def extract(data: bytes, kind: str, name: str | None = None) -> Extracted:
    if kind == "html":
        from .html import extract_html
        return extract_html(data, name)
    if kind == "txt":
        from .txt import extract_txt
        return extract_txt(data, name)
    if kind == "pdf":
        from .pdf import extract_pdf
        try:
            return extract_pdf(data, name)
        except ExtractError:
            raise
        except Exception as e:  # pdf.PdfError and anything pdfium throws at a broken file
            raise ExtractError(str(e) or type(e).__name__) from e
    if kind == "docx":
        check_zip(data)
        from .docx import extract_docx
        try:
            return extract_docx(data, name)
        except (zipfile.BadZipFile, KeyError, ValueError, zlib.error, etree.XMLSyntaxError) as e:
            raise ExtractError(f"corrupt DOCX: {e}") from e
    if kind == "ofd":
        check_zip(data)
        from .ofd import OfdError, extract_ofd
        try:
            return extract_ofd(data, name)
        except OfdError as e:
            raise ExtractError(str(e)) from e
    if kind == "image":
        from . import ocr, raster
        if not ocr.available():
            raise ExtractError(str(raster.ocr_missing()))
        try:
            return raster.extract_image(data, name)
        except ValueError as e:
            raise ExtractError(str(e)) from e
    if kind in ("xlsx", "xls"):
        from .sheet import SheetError, extract_xlsx
        if kind == "xlsx":
            check_zip(data)
        xlsx = data if kind == "xlsx" else convert_with_libreoffice(data, kind, "xlsx")
        try:
            return extract_xlsx(xlsx, name, container=kind)
        except SheetError as e:
            raise ExtractError(str(e)) from e
    if kind in ("doc", "rtf"):
        from .docx import extract_docx
        ex = extract_docx(convert_with_libreoffice(data, kind, "docx"), name)
        ex.container = kind
        return ex
    reasons = {
        "empty": "empty file (0 bytes or only whitespace)",
        "unknown": "unrecognised file type (not PDF, HTML, Word or text)",
    }
    raise ExtractError(reasons.get(kind, f"unsupported file type: {kind}"))


def check_zip(data: bytes) -> None:
    """Refuse zip bombs before any library inflates them."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile as e:
        raise ExtractError(f"corrupt zip container: {e}") from e
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_UNZIPPED or (total > 20 * 1024 * 1024 and total / packed > MAX_RATIO):
        raise ExtractError(f"zip bomb refused: {total} bytes unpacked from {len(data)} bytes")


def convert_with_libreoffice(data: bytes, kind: str, to: str, timeout: int = 120) -> bytes:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise ExtractError(f"{kind.upper()} needs LibreOffice to convert it: apt-get install libreoffice-writer-nogui")
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as tmp:
        src = Path(tmp) / f"in.{kind}"
        src.write_bytes(data)
        profile = Path(tmp) / "profile"
        cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", to, "--outdir", tmp, str(src)]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False,
                           env={**os.environ, "HOME": tmp})
        except subprocess.TimeoutExpired as e:
            raise ExtractError(f"LibreOffice did not convert the {kind.upper()} within {timeout} s") from e
        out = Path(tmp) / f"in.{to}"
        if not out.exists():
            hint = " (or LibreOffice Calc is missing: apt-get install libreoffice-calc-nogui)" if to == "xlsx" else ""
            raise ExtractError(f"LibreOffice could not read this {kind.upper()} file (corrupt or not a document){hint}")
        return out.read_bytes()
