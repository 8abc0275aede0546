"""What a file really is, from its bytes (never from its name or Content-Type:
portals serve error pages as `.pdf` and Word files as `application/octet-stream`)."""
from __future__ import annotations

import codecs
import io
import re
import zipfile

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML = re.compile(rb"<\s*(!doctype\s+html|html|head|body|table|div|p|meta|title)\b", re.I)
_IMAGES = {b"\x89PNG": "png", b"\xff\xd8\xff": "jpeg", b"GIF8": "gif", b"II*\x00": "tiff", b"MM\x00*": "tiff"}


def sniff(data: bytes) -> str:
    """One of: empty, pdf, docx, xlsx, pptx, ofd, zip, doc (OLE Word: doc/wps), xls (OLE
    workbook: xls/et), rtf, html, txt, image, unknown."""
    if not data.strip():
        return "empty"
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(OLE):
        return _ole_kind(data)
    if data.lstrip().startswith(b"{\\rtf"):
        return "rtf"
    for magic in _IMAGES:
        if data.startswith(magic):
            return "image"
    if data.startswith(b"BM") and data[6:10] == b"\0\0\0\0" and len(data) > 54:  # BMP: reserved bytes are 0
        return "image"
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        # Notepad's and Word's "Unicode" save: judged on its text, read by the same decoder.
        enc = "utf-16-le" if data[:2] == codecs.BOM_UTF16_LE else "utf-16-be"
        text = data[2:8194].decode(enc, errors="replace").encode("utf-8")
        kind = sniff(text)
        return kind if kind in ("html", "txt") else "unknown"
    start = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML.search(start[:2048]) and start.startswith(b"<"):
        return "html"
    if _looks_like_text(data[:8192]):
        return "html" if _HTML.search(data[:8192]) and data.count(b"<") > 20 else "txt"
    return "unknown"


def _zip_kind(data: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except zipfile.BadZipFile:
        return "unknown"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "OFD.xml" in names or "ofd.xml" in {n.lower() for n in names}:
        return "ofd"
    return "zip"


def _ole_kind(data: bytes) -> str:
    """Word and Kingsoft WPS files hold a WordDocument stream; Excel and Kingsoft ET
    workbooks a Workbook (BIFF8) or Book (BIFF5) stream. An OLE file we cannot list
    goes to the Word importer, which says whether it can read it."""
    import olefile

    try:
        with olefile.OleFileIO(data) as ole:
            if ole.exists("Workbook") or ole.exists("Book"):
                return "xls"
    except (OSError, ValueError, IndexError):  # a damaged directory: let the importer judge
        pass
    return "doc"


def _looks_like_text(chunk: bytes) -> bool:
    if b"\x00" in chunk:
        return False
    for enc in ("utf-8", "gb18030"):
        try:
            chunk.decode(enc)
            return True
        except UnicodeDecodeError as e:
            if enc == "utf-8" and e.start > len(chunk) - 4:  # cut mid-character at the chunk end
                return True
    return False
