"""Pure parts of the site: snippet highlighting, download names, numbers as printed,
the table-3 layout and the SVG charts."""
from __future__ import annotations

from nianbao.pipeline import templates
from nianbao.pipeline.site import charts, pages


def test_highlight_escapes_everything_but_the_marks():
    out = str(pages.highlight("<b>x</b> 行政[[复议]]<script>alert(1)</script> [[诉讼]]"))
    assert out == ("&lt;b&gt;x&lt;/b&gt; 行政<mark>复议</mark>&lt;script&gt;alert(1)&lt;/script&gt; "
                   "<mark>诉讼</mark>")
    assert str(pages.highlight("[[<img src=x>]]")) == "<mark>&lt;img src=x&gt;</mark>"


def test_download_name_never_carries_a_path():
    doc = {"sha256": "ab" * 32, "type": "pdf", "original_name": "../../etc/passwd.pdf"}
    assert pages.download_name(doc, None) == ".._.._etc_passwd.pdf"
    assert pages.download_name(doc, {"agency": "某局/办公室", "report_year": 2023}) == "某局_办公室-2023年报.pdf"
    ctype, headers = pages.raw_headers({**doc, "type": "html"}, None, download=False)
    assert ctype.startswith("text/html") and "sandbox" in headers["content-security-policy"]
    ctype, headers = pages.raw_headers({**doc, "type": "exe"}, None, download=False)
    assert ctype == "application/octet-stream" and headers["content-disposition"].startswith("attachment")


def test_numbers_as_printed():
    assert [pages.number_text(v) for v in (251000.0, 7730.28, 12, 1234567.0)] == ["251000", "7730.28", "12", "1234567"]


def test_table3_layout_spans_match_the_official_template():
    for tpl, n in (("2021", 25), ("2019", 23)):
        rows = pages.table3({}, tpl, {}, "", "r" * 64)
        assert len(rows) == n
        # The 三、本年度办理结果 heading spans every result row plus （七）总计.
        head = [l for r in rows for l in r["labels"] if l["text"] == "三、本年度办理结果"]
        assert head[0]["rowspan"] == len(templates.t3_result_rows(tpl)) + 1
        # Every row fills three label columns: colspans of its labels plus cells covered by rowspans above.
        covered = [0] * n
        for i, r in enumerate(rows):
            width = sum(l["colspan"] for l in r["labels"]) + covered[i]
            assert width == 3, (tpl, r["code"])
            for l in r["labels"]:
                for k in range(1, l["rowspan"]):
                    covered[i + k] += l["colspan"]
        assert all(c["cls"] == "absent" for r in rows for c in r["cells"])


def test_charts_escape_labels_and_skip_missing_values():
    svg = charts.lines("<t>", [2019, 2020, 2021], {"a&b": [1, None, 3]})
    assert "&lt;t&gt;" in svg and "a&amp;b" in svg and svg.count("<circle") == 2
    svg = charts.stacked("s", [2020], {"x": [1], "y": [3]}, percent=True)
    assert "75.0%" in svg
    assert charts.bars("b", [("甲", None), ("乙", 2)]).count("<rect") == 2
