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
# Text is detected on a copy of the page at most this long. The default is the engine's
# own size: smaller is faster (detection costs ~(DET_SIDE/2000)² of it; at 1,600 a table
# page took 4.0 s instead of 5.9, benchmarks/ocr.py) but loses lone 「0」s and blank marks
# on blurred low-resolution scans. Measured with benchmarks/accuracy.py: 12 damaged scans
# 97.96% of cells exact at 2,000, 97.70% at 1,600, 93.4% and 2 wrong at 1,200; one blurred
# 150-dpi scan 150/200 at 2,000, 90/200 at 1,600 (all NULL with a reason, none wrong).
DET_SIDE = int(os.environ.get("NIANBAO_OCR_DET_SIDE", "2000"))
MIN_CONF = 0.5  # the engine's own text_score: a line read below it is dropped, as the engine does


@dataclass
class Word:
    text: str
    conf: float
    box: tuple[float, float, float, float]  # x0, top, x1, bottom (pixels)
    chars: list[tuple[str, float, float, float, float]]  # (char, x0, top, x1, bottom)


def available() -> bool:
    """OCR runs only when asked for (NIANBAO_OCR=1) and installed. It is experimental:
    on 200 generated damaged scans it still stored 3 wrong figures of 35,218 (see the
    closing notes of issue 10 and benchmarks/accuracy.py --formats scan-html), so an
    archive does not get OCR'd figures unless its operator chooses them."""
    if os.environ.get("NIANBAO_OCR", "0") != "1":
        return False
    import importlib.util

    # Found, not imported: the engine loads ONNX Runtime and OpenCV, which a text PDF never needs.
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


@lru_cache(maxsize=1)
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    # One thread per process: the batch runs one parser process per core.
    # One line per recognition call: the engine pads a batch to its widest line, and on
    # one thread a batch of six costs more per line than six calls (a 1,680-px line 245 ms
    # against 150): 1.47x faster over 15 report pages, the same readings but for 4 of 862
    # cells (the line padded differently). Lines stay padded to 320 px, as the model was
    # trained: padded less, a lone 「0」 reads 「o」 (96-240 px tried).
    return RapidOCR(intra_op_num_threads=int(os.environ.get("NIANBAO_OCR_THREADS", "1")), rec_batch_num=1)


def read(gray: Any) -> list[Word]:
    """Words of a greyscale page image (numpy uint8, H×W).

    The engine's own pipeline detects text on the page as given (up to 2,000 px long),
    which costs more than recognising it. Detection only has to find where the lines
    are, so on a page-sized image it runs on a copy DET_SIDE px long, and the lines are
    recognised from the crops the engine itself would have cut. A small or strip-shaped
    image (a cell, a banner) takes the engine's own path, which pads it for detection."""
    import cv2
    import numpy as np

    img = np.ascontiguousarray(gray)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)  # the models take three channels
    h, w = img.shape[:2]
    if max(h, w) <= DET_SIDE or w > 8 * h or h > 8 * w:  # the engine's letterbox cases, and small images
        result, _ = _run(img, use_cls=False, return_word_box=True)
        return [_word(item[0], item[1], item[2], item[3] if len(item) > 3 else None) for item in result or []]
    eng = _engine()
    img, rh, rw = eng.preprocess(img)  # the engine's own resize to the size it reads: the same pixels
    det = DET_SIDE / max(img.shape[:2])
    small = cv2.resize(img, (round(img.shape[1] * det), round(img.shape[0] * det)), interpolation=cv2.INTER_AREA)
    boxes, _ = _guard(eng.text_det, small)
    if boxes is None or not len(boxes):
        return []
    boxes = eng.sorted_boxes(np.asarray(boxes, dtype=np.float32) / det)
    crops = eng.get_crop_img_list(img, boxes)
    rec, _ = _guard(eng.text_rec, crops, True)
    return [_word(quad, text, conf, quads, (rw, rh))
            for quad, (text, conf, quads, *_) in zip(boxes, eng.cal_rec_boxes(crops, boxes, rec))
            if float(conf) >= MIN_CONF]


def _word(quad: Any, text: Any, conf: Any, char_quads: Any, ratio: tuple[float, float] = (1.0, 1.0)) -> Word:
    """A line as the engine returns it; `ratio` takes its pixels to the page's (x, y)."""
    fx, fy = ratio
    xs, ys = [p[0] * fx for p in quad], [p[1] * fy for p in quad]
    box = (float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)))
    quads = [[(px * fx, py * fy) for px, py in q] for q in char_quads] if char_quads else None
    return Word(str(text), float(conf), box, _chars(str(text), box, quads))


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
    return _guard(_engine(), img, **kw)


def _guard(step: Any, *args: Any, **kw: Any) -> Any:
    """One step of the engine. ONNX Runtime reports an allocation that failed under
    the parse's memory limit as its own RuntimeException ("std::bad_alloc"): raised
    here as the MemoryError it is, so the document's reason names the memory limit."""
    try:
        return step(*args, **kw)
    except Exception as e:  # noqa: BLE001 - onnxruntime's exception types live in a private module
        if type(e).__name__ == "ResizeImgError":
            # A strip so thin that scaling it to the model's input size leaves 0 px: no text to read.
            return None, None
        if "bad_alloc" in str(e) or "Failed to allocate memory" in str(e):
            img = args[0] if args else None
            what = f"a {img.shape[1]}×{img.shape[0]} image" if hasattr(img, "shape") else f"{len(img or ())} lines"
            raise MemoryError(f"OCR engine out of memory on {what}") from e
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
