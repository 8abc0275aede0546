"""Text from pixels, behind one small interface: `available()`, `read(gray)` (a page)
and `read_line(gray)` (one cell or line already cut out).

The engine is RapidOCR on ONNX Runtime (`rapidocr_onnxruntime`, PP-OCRv4 detection and
recognition models inside the wheel: no download, no network). It is optional and off
by default: without it, scanned pages stay unread and the parser says they need OCR.

`read` returns words (text lines as the detector boxes them) with the recogniser's
confidence and each character's box, in the pixel coordinates of the image given.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

ENGINE = "rapidocr_onnxruntime 1.4.4 (PP-OCRv4)"


@dataclass
class Word:
    text: str
    conf: float
    box: tuple[float, float, float, float]  # x0, top, x1, bottom (pixels)
    chars: list[tuple[str, float, float, float, float]]  # (char, x0, top, x1, bottom)


def available() -> bool:
    """OCR runs only when asked for (NIANBAO_OCR=1) and installed. It is experimental:
    on generated damaged scans it still stores some wrong figures (see the closing
    notes of issue 10 and benchmarks/accuracy.py --formats scan-html), so an archive
    does not get OCR'd figures unless its operator chooses them."""
    if os.environ.get("NIANBAO_OCR", "0") != "1":
        return False
    import importlib.util

    # Found, not imported: the engine loads ONNX Runtime and OpenCV, which a text PDF never needs.
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


@lru_cache(maxsize=1)
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    # One thread per process: the batch runs one parser process per core.
    return RapidOCR(intra_op_num_threads=int(os.environ.get("NIANBAO_OCR_THREADS", "1")))


def read(gray: Any) -> list[Word]:
    """Words of a greyscale page image (numpy uint8, H×W)."""
    import numpy as np

    img = np.ascontiguousarray(gray)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)  # the models take three channels
    result, _ = _run(img, use_cls=False, return_word_box=True)
    words: list[Word] = []
    for item in result or []:
        quad, text, conf = item[0], str(item[1]), float(item[2])
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        box = (min(xs), min(ys), max(xs), max(ys))
        words.append(Word(text, conf, box, _chars(text, box, item[3] if len(item) > 3 else None)))
    return words


def read_line(gray: Any) -> tuple[str, float]:
    """One line of text already cut out (a table cell): recognition only."""
    import numpy as np

    img = np.ascontiguousarray(gray)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    result, _ = _run(img, use_det=False, use_cls=False)
    if not result:
        return "", 0.0
    return str(result[0][0]), float(result[0][1])


def _run(img: Any, **kw: Any) -> Any:
    """The engine on one image. ONNX Runtime reports an allocation that failed under
    the parse's memory limit as its own RuntimeException ("std::bad_alloc"): raised
    here as the MemoryError it is, so the document's reason names the memory limit."""
    try:
        return _engine()(img, **kw)
    except Exception as e:  # noqa: BLE001 - onnxruntime's exception types live in a private module
        if type(e).__name__ == "ResizeImgError":
            # A strip so thin that scaling it to the model's input size leaves 0 px: no text to read.
            return None, None
        if "bad_alloc" in str(e) or "Failed to allocate memory" in str(e):
            raise MemoryError(f"OCR engine out of memory on a {img.shape[1]}×{img.shape[0]} image") from e
        raise


Box = tuple[str, float, float, float, float]  # char, x0, top, x1, bottom


def _chars(text: str, box: tuple[float, float, float, float], quads: Any) -> list[Box]:
    """Each character with its own box: the recogniser's when it gives one per
    character, else the word's width shared out evenly."""
    x0, top, x1, bottom = box
    if quads and len(quads) == len(text):
        out = []
        for ch, q in zip(text, quads):
            qx, qy = [p[0] for p in q], [p[1] for p in q]
            out.append((ch, float(min(qx)), float(min(qy)), float(max(qx)), float(max(qy))))
        return out
    step = (x1 - x0) / max(1, len(text))
    return [(ch, x0 + i * step, top, x0 + (i + 1) * step, bottom) for i, ch in enumerate(text)]
