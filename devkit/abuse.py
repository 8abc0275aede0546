"""Small hostile inputs for the site's resource caps (tests/test_site_limits.py and
benchmarks/site_abuse.py): PDFs of a few hundred bytes that cost gigabytes or minutes
to draw when nothing bounds them."""
from __future__ import annotations


def one_page_pdf(side: float, content: bytes, resources: bytes = b"", extra: tuple[bytes, ...] = ()) -> bytes:
    """A minimal PDF: catalog, pages, one side × side page, its content, `extra` objects (6, 7, …)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R%s >>" % (side, side, resources),
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream", b"<< >>", *extra]
    out, offs = b"%PDF-1.6\n", []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offs)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)


def huge_page_pdf(side: float = 14400) -> bytes:
    """487 bytes: one page of 14400 × 14400 points (the PDF maximum), one small square."""
    return one_page_pdf(side, b"0 0 1 rg 10 10 100 100 re f")


def nested_forms_pdf(depth: int = 7, fan: int = 10) -> bytes:
    """A 600 × 600 pt page whose drawing recurses: form i draws form i-1 `fan` times, fan**depth
    squares in all from ~3 KB (the PDF "billion laughs"). Form i is object 6 + i."""
    forms = []
    for i in range(depth):
        if i == 0:
            body, res = b"0 0 1 rg 0 0 1 1 re f", b""
        else:
            body = b" ".join(b"q 1 0 0 1 %d 0 cm /F Do Q" % k for k in range(fan))
            res = b" /Resources << /XObject << /F %d 0 R >> >>" % (6 + i - 1)
        forms.append(b"<< /Type /XObject /Subtype /Form /BBox [0 0 600 800]%s /Length %d >>\nstream\n"
                     % (res, len(body)) + body + b"\nendstream")
    return one_page_pdf(600, b"/F Do", b" /Resources << /XObject << /F %d 0 R >> >>" % (6 + depth - 1), tuple(forms))
