"""Round trips: a 2021-template report with a distinct figure in every cell, written as
HTML, converted by LibreOffice to Word and to PDF (ruling lines, table 3 split over two
pages), read back through the real extractors. Any misplaced figure shows."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from nianbao.pipeline import templates as T
from nianbao.pipeline.extract.docx import extract_docx
from nianbao.pipeline.extract.html import extract_html
from nianbao.pipeline.model import OK
from nianbao.pipeline.parse import parse_extracted

def fig(t, i, c): return str(t * 1000 + i * 10 + c)
def table2():
    out = ['<table border="1" cellspacing="0" style="width:15cm;font-size:8pt">']
    for b, (block, (rows, cols)) in enumerate(T.T2_2021.items()):
        out.append(f'<tr><td colspan="4">{block}</td></tr>')
        out.append('<tr><td>信息内容</td>' + ''.join(f'<td colspan="{3 // len(cols)}">{c.label}</td>' for c in cols) + '</tr>')
        for i, r in enumerate(rows):
            out.append(f'<tr><td>{r.label}</td>' + ''.join(f'<td colspan="{3 // len(cols)}">{fig(2, b * 3 + i, c)}</td>' for c in range(len(cols))) + '</tr>')
    return ''.join(out) + '</table>'
def table3():
    rows = T.T3_ROWS_2021
    out = ['<table border="1" cellspacing="0" style="width:15cm;font-size:7pt">',
           '<tr><td rowspan="3" colspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td><td colspan="7">申请人情况</td></tr>',
           '<tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td><td rowspan="2">总计</td></tr>',
           '<tr><td>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td></tr>']
    n_results = sum(1 for r in rows if r.block == "三、本年度办理结果" or r.block.startswith("（"))
    for i, r in enumerate(rows):
        figs = ''.join(f'<td>{fig(3, i, c)}</td>' for c in range(7))
        if r.code == "granted":
            lead = f'<td rowspan="{n_results}">三、本年度办理结果</td><td colspan="2">{r.label}</td>'
        elif r.block.startswith("（") and r.label.startswith("1."):
            size = sum(1 for x in rows if x.block == r.block)
            lead = f'<td rowspan="{size}">{r.block}</td><td>{r.label}</td>'
        elif r.block.startswith("（"):
            lead = f'<td>{r.label}</td>'
        elif r.block:
            lead = f'<td colspan="2">{r.label}</td>'
        else:
            lead = f'<td colspan="3">{r.label}</td>'
        out.append(f'<tr>{lead}{figs}</tr>')
    return ''.join(out) + '</table>'
def table4():
    names = ''.join(f'<td rowspan="2">{c.label}</td>' for c in T.T4_COLS)
    return ('<table border="1" cellspacing="0" style="width:15cm;font-size:7pt"><tr><td colspan="5">行政复议</td><td colspan="10">行政诉讼</td></tr>'
            f'<tr>{names}<td colspan="5">未经复议直接起诉</td><td colspan="5">复议后起诉</td></tr>'
            '<tr>' + ''.join(f'<td>{c.label}</td>' for c in T.T4_COLS) * 2 + '</tr>'
            '<tr>' + ''.join(f'<td>{fig(4, 0, c)}</td>' for c in range(15)) + '</tr></table>')
def html():
    body = ("<p>某某县交通运输局2022年政府信息公开工作年度报告</p><p>本报告统计数据从2022年1月1日至12月31日。</p>"
            "<p>一、总体情况</p>" + "<p>2022年，本局深入推进政务公开工作，主动公开政府信息。</p>" * 12 +
            "<p>二、主动公开政府信息情况</p>" + table2() + "<p>三、收到和处理政府信息公开申请情况</p>" + table3() +
            "<p>四、政府信息公开行政复议、行政诉讼情况</p>" + table4() +
            "<p>五、存在的主要问题及改进情况</p><p>无。</p><p>六、其他需要报告的事项</p><p>无。</p>")
    return f'<html><head><meta charset="utf-8"><title>某某县交通运输局2022年政府信息公开工作年度报告</title></head><body>{body}</body></html>'
def expected():
    out = {}
    for b, (block, (rows, cols)) in enumerate(T.T2_2021.items()):
        for i, r in enumerate(rows):
            for c, col in enumerate(cols):
                out[(2, r.code, col.code)] = int(fig(2, b * 3 + i, c))
    for i, r in enumerate(T.T3_ROWS_2021):
        for c, col in enumerate(T.T3_COLS):
            out[(3, r.code, col.code)] = int(fig(3, i, c))
    for k, g in enumerate(T.T4_GROUPS):
        for c, col in enumerate(T.T4_COLS):
            out[(4, g.code, col.code)] = int(fig(4, 0, k * 5 + c))
    return out


def soffice(src: Path, to: str) -> Path:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe, "LibreOffice is part of this machine's toolchain"
    subprocess.run([exe, f"-env:UserInstallation=file://{src.parent}/profile", "--headless", "--norestore",
                    "--convert-to", to, "--outdir", str(src.parent), str(src)],
                   capture_output=True, timeout=120, check=True, env={**os.environ, "HOME": str(src.parent)})
    out = src.with_suffix("." + to.split(":")[0])
    assert out.exists(), f"LibreOffice did not write {out.name}"
    return out


@pytest.fixture(scope="module")
def html_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("roundtrip") / "report.html"
    p.write_text(html(), encoding="utf-8")
    return p


def check(rep):
    want = expected()
    wrong = [(k, v, rep.cell(*k)) for k, v in want.items() if rep.cell(*k) is None or rep.cell(*k).value != v]
    assert not wrong, f"{len(wrong)} of {len(want)} cells wrong: {wrong[:5]}"
    assert len(rep.cells) == len(want)
    assert (rep.status, rep.agency, rep.report_year) == (OK, "某某县交通运输局", 2022)
    assert rep.templates == {"2": "2021", "3": "2021", "4": "2021"}


def test_html(html_file):
    check(parse_extracted(extract_html(html_file.read_bytes())))


@pytest.mark.slow
def test_word(html_file):
    check(parse_extracted(extract_docx(soffice(html_file, "docx:MS Word 2007 XML").read_bytes())))


@pytest.mark.slow
def test_pdf(html_file):
    from nianbao.pipeline.extract.pdf import extract_pdf

    ex = extract_pdf(soffice(html_file, "pdf:writer_web_pdf_Export").read_bytes())
    pages = {g.source.get("page") for g in ex.tables if len(g.rows) > 8}
    assert len(pages) >= 2, "table 3 should run over a page break in this layout"
    check(parse_extracted(ex))
