"""Articles whose body is a sequence of images (issue 10): the crawler fetches the page
images as attachments of the publication, the parser reads them in page order as the
pages of one report, decorations are left out by place and by size, and a report whose
pages could not be read says so and what to do (never `not_a_report`, never an `ok`
without figures).

The mock portals' form "images" prints each report's pages as images (devkit.scan, 100
dpi) in a layout drawn from the report's seed: lazy-load attributes, wrappers,
relative / root-relative / absolute URLs, a spacer, an icon among the pages, a QR code,
and a logo and share buttons in the page's chrome. OCR is slow (seconds a page): one
article is OCR'd here."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dbq import q, rows
from test_crawl import sites_dir
from nianbao.devkit.portals import faults, start_portals, stop_portals
from nianbao.devkit.portals.image_article import layout
from nianbao.pipeline.document import parse_bytes
from nianbao.pipeline.model import Attached
from nianbao.pipeline.page_images import article_images, image_order, not_a_page

pytestmark = pytest.mark.timeout(300)
BASE = "http://www.xx.gov.cn/zfxxgk/nb/202401/t20240110_1.html"


def _page(body: str) -> str:
    return ('<html><head><title>某县民政局2023年政府信息公开工作年度报告_某县人民政府</title></head><body>'
            '<div class="header"><img src="/images/logo.png"><a href="/">首页</a></div>'
            '<nav><a href="/a"><img src="/images/home.png"></a>新闻 政务 互动</nav>'
            '<h1>某县民政局2023年政府信息公开工作年度报告</h1><div class="xxgk">索引号：001 发布机构：某县民政局</div>'
            f'<div class="article-content">{body}</div>'
            '<div class="bdshare">分享到：<a href="http://service.weibo.com/share"><img src="/images/wb.png"></a></div>'
            '<footer>网站标识码 1234 主办：某县人民政府 <img src="/images/dzjg.png"></footer></body></html>')


# ---------------------------------------------------------------- by place: which images are pages
@pytest.mark.parametrize("attr", ["src", "data-src", "data-original", "original", "_src", "data-lazy-src"])
@pytest.mark.parametrize("wrap", ["{}", "<p>{}</p>", "<div align=center>{}</div>", "<center>{}</center>",
                                  "<p><span><strong>{}</strong></span></p>"])
def test_page_images_in_page_order_whatever_the_markup(attr, wrap):
    urls = ["./W1_01.jpg", "/zfxxgk/nb/202401/W1_02.jpg", "http://cdn.example.com/up/W1_03.jpg"]
    imgs = [wrap.format(f'<img src="/images/loading.gif" {attr}="{u}">' if attr != "src" else f'<img src="{u}">')
            for u in urls]
    body = ('<p>某县民政局2023年政府信息公开工作年度报告</p><p><img src="/images/spacer.gif" width="1" height="1"></p>'
            + imgs[0] + "<p>第1页</p>" + imgs[1] + '<p><img src="/images/print.png"></p>' + imgs[2]
            + '<p><img src="/images/qr.png"></p><p>扫一扫在手机打开当前页</p>')
    got = article_images(_page(body), BASE)
    pages = ["http://www.xx.gov.cn/zfxxgk/nb/202401/W1_01.jpg", "http://www.xx.gov.cn/zfxxgk/nb/202401/W1_02.jpg",
             "http://cdn.example.com/up/W1_03.jpg"]
    # The body's images in order; chrome (logo, nav, share, footer) and a declared spacer never.
    assert [u for u in got if u in pages] == pages
    assert not {u.rsplit("/", 1)[-1] for u in got} & {"logo.png", "home.png", "wb.png", "dzjg.png", "spacer.gif",
                                                       "loading.gif"}
    # Undeclared decorations in the body can only be told by their pixels (not_a_page).
    assert set(got) - set(pages) <= {"http://www.xx.gov.cn/images/print.png", "http://www.xx.gov.cn/images/qr.png"}


def test_linked_full_size_image_is_the_page_and_text_articles_have_none():
    body = ('<p><a href="./big_1.png"><img src="./small_1.png"></a></p>'
            '<p><a href="./big_2.png"><img src="./small_2.png"></a></p>')
    assert article_images(_page(body), BASE) == ["http://www.xx.gov.cn/zfxxgk/nb/202401/big_1.png",
                                                 "http://www.xx.gov.cn/zfxxgk/nb/202401/big_2.png"]
    text = "<p>一、总体情况</p><p>" + "本机关认真贯彻落实《中华人民共和国政府信息公开条例》，" * 30 + "</p>"
    assert article_images(_page(text + '<p><img src="./meeting.jpg"></p>' + text), BASE) == []
    assert article_images(_page("<p>无图片</p>"), BASE) == []
    order = image_order(_page(body), BASE)
    assert list(order)[:1] == ["http://www.xx.gov.cn/images/logo.png"]


@pytest.mark.parametrize("size,page", [((827, 1169), True), ((1169, 827), True), ((3024, 4032), True),
                                       ((1240, 1754), True), ((48, 48), False), ((1, 1), False), ((430, 430), False),
                                       ((1200, 200), False), ((750, 12000), False), ((200, 280), False)])
def test_pages_by_size_and_shape(size, page):
    assert (not_a_page(*size) is None) is page


# ---------------------------------------------------------------- the parse, without OCR
def _png(w: int, h: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (w, h), 255).save(buf, "PNG")
    return buf.getvalue()


def test_image_article_without_ocr_is_incomplete_with_what_to_do(monkeypatch):
    monkeypatch.setenv("NIANBAO_OCR", "0")
    body = "".join(f'<p><img data-src="./W1_0{k}.png"></p>' for k in (1, 2, 3)) + '<p><img src="/images/qr.png"></p>'
    html = _page(body).encode()
    # Parsed alone (`nianbao parse page.html`): the images are not at hand.
    alone = parse_bytes(html, "page.html")
    assert alone.status == "extraction_incomplete" and "crawl the page" in alone.reason
    assert alone.report_year == 2023 and alone.title
    u = "http://www.xx.gov.cn/zfxxgk/nb/202401/W1_0{}.png".format
    images = [Attached(u(2), _png(827, 1169)), Attached("http://www.xx.gov.cn/images/qr.png", _png(180, 180)),
              Attached(u(1), _png(827, 1169)), Attached(u(3), error="HTTP 404")]
    rep = parse_bytes(html, "page.html", url=BASE, attached=images)
    assert rep.status == "extraction_incomplete"
    assert "NIANBAO_OCR=1" in rep.reason and "2 page image(s)" in rep.reason and u(3) in rep.reason
    assert rep.meta["page_images"]["images"] == [u(1), u(2)]  # page order is the page's, not the fetch order
    assert [d["url"] for d in rep.meta["page_images"]["decorative"]] == ["http://www.xx.gov.cn/images/qr.png"]
    assert rep.issues[0].kind == "extraction" and rep.issues[0].code == "needs_ocr"
    # Only decorations: said, not an `ok` without figures.
    deco = parse_bytes(html, "page.html", url=BASE, attached=[Attached(u(1), _png(60, 60))])
    assert deco.status == "extraction_incomplete" and "size and shape of a page" in deco.reason


# A crawl asks for several image articles at once and the mock portal prints each one's
# pages from its own request thread, while a test may be scanning in another; pdfium is
# not thread-safe (this crashed a CI run). Run apart: a crash is a failed test here, not
# a lost test process.
SCANNING_THREADS = """
import gc, sys, threading
from nianbao.devkit.scan import Damage, as_images, as_scan

pdf = open(sys.argv[1], "rb").read()
def scan(k):
    for r in range(6):
        as_images(pdf, "jpeg" if k % 2 else "png", Damage(dpi=60, seed=k))
        as_scan(pdf, pages={1 + r % 3}, damage=Damage(dpi=50, jpeg=70 if k % 2 else None))
        gc.collect()
threads = [threading.Thread(target=scan, args=(k,)) for k in range(6)]
[t.start() for t in threads]
[t.join() for t in threads]
print("scanned")
"""


def test_scans_from_many_threads_at_once():
    sample = str(Path(__file__).resolve().parent / "fixtures" / "samples" / "huaian-hongze-2023.pdf")
    p = subprocess.run([sys.executable, "-c", SCANNING_THREADS, sample], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and p.stdout.strip() == "scanned", p.stderr[-3000:]


# ---------------------------------------------------------------- crawl → archive → parse
def nb(*args: str, env: dict | None = None, code: int | None = 0) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, timeout=600,
                       env={**os.environ, **(env or {})})
    assert code is None or p.returncode == code, p.stdout[-2000:] + p.stderr[-4000:]
    return p


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("imgcrawl")
    ps = start_portals(("trs_old", "trs_new", "hanweb", "gkmlpt", "static"), n_reports=3, n_other=1, seed=300,
                       forms=("images", "html", "images"), first_host=91)
    try:
        victim = next(e for e in ps[0].expected_reports() if e["form"] == "images")
        lost = victim["page_images"][1]
        ps[0].faults[(urlsplit(lost).path, None)] = faults.status(404)
        db = tmp / "archive.db"
        sites = sites_dir(tmp, ps)
        out = nb("run", "--fast", "--archive", str(db), "--sites-dir", str(sites), "--workers", "2", code=3)
        expected = {p.name: p.expected_reports() for p in ps}
        layouts = {e["url"]: layout(it) for p in ps for it, e in zip(p.reports(), p.expected_reports())}
        yield {"db": db, "expected": expected, "lost": lost, "victim": victim["url"], "out": out.stdout,
               "layouts": layouts, "portals": ps, "sites": sites}
    finally:
        stop_portals(ps)


def test_layouts_vary(crawled):
    lays = [v for v in crawled["layouts"].values()]
    assert len({v["attr"] for v in lays}) >= 3 and len({v["wrap"] for v in lays}) >= 3
    assert len({v["urls"] for v in lays}) >= 3 and "cdn" in {v["urls"] for v in lays}


def test_page_images_are_fetched_as_attachments_chrome_never(crawled):
    db = crawled["db"]
    fetched = {r["url"]: r for r in rows(db, "SELECT url, parent_url, error FROM fetches WHERE role = 'attachment'")}
    for reports in crawled["expected"].values():
        for e in reports:
            if e["form"] != "images":
                continue
            for url in e["page_images"]:
                assert fetched[url]["parent_url"] == e["url"]
                assert (fetched[url]["error"] is None) is (url != crawled["lost"]), fetched[url]
    names = {u.rsplit("/", 1)[-1] for u in fetched}
    assert not names & {"logo.png", "share_weibo.png", "loading.gif"}  # chrome and placeholders are not fetched


def test_each_image_article_is_one_incomplete_report_naming_ocr(crawled):
    db = crawled["db"]
    for reports in crawled["expected"].values():
        for e in reports:
            prim = rows(db, "SELECT * FROM reports WHERE publication = ? AND is_primary = 1", e["url"])
            assert len(prim) == 1, e["url"]
            r = prim[0]
            if e["form"] != "images":
                assert r["status"] == e["status"] and r["cells_found"] > 0
                continue
            assert r["status"] == "extraction_incomplete", r
            assert "NIANBAO_OCR=1" in r["reason"] and r["report_year"] == e["report_year"]
            meta = json.loads(r["meta"])["page_images"]
            pages = [u for u in e["page_images"] if u != crawled["lost"]]
            assert meta["images"] == pages  # in page order, decorations left out
            assert all(d["url"].rsplit("/", 1)[-1] in ("qr.png", "print.png", "spacer.gif")
                       for d in meta.get("decorative", []))
            if e["url"] == crawled["victim"]:
                assert crawled["lost"] in r["reason"] and "HTTP 404" in r["reason"]
            # The images themselves are pages of it, never reports of their own.
            for img in rows(db, "SELECT r.status, r.reason, r.is_primary FROM reports r JOIN documents d "
                                "ON d.sha256 = r.id WHERE d.url IN (SELECT value FROM json_each(?))",
                            json.dumps(e["page_images"])):
                assert img["status"] == "not_a_report" and not img["is_primary"] and e["url"] in img["reason"]


def test_a_lost_page_image_is_a_gap_of_the_site(crawled):
    db = crawled["db"]
    site = rows(db, "SELECT status, reason FROM sites WHERE name = 'mock-trs-old'")[0]
    assert site["status"] == "partial" and crawled["lost"] in site["reason"]
    assert q(db, "SELECT COUNT(*) FROM failures WHERE original_name = ?", crawled["lost"]) == [(1,)]


def test_a_page_image_that_comes_later_completes_the_report(crawled):
    """The lost page answers on the next crawl: the article's report is parsed again
    with it (the page itself is unchanged, 304), and the site is whole."""
    db, lost = crawled["db"], crawled["lost"]
    crawled["portals"][0].faults.clear()
    nb("run", "--fast", "--archive", str(db), "--sites-dir", str(crawled["sites"]), "--workers", "2")
    (r,) = rows(db, "SELECT * FROM reports WHERE publication = ? AND is_primary = 1", crawled["victim"])
    assert r["status"] == "extraction_incomplete" and lost not in r["reason"] and "NIANBAO_OCR=1" in r["reason"]
    assert lost in json.loads(r["meta"])["page_images"]["images"]
    assert rows(db, "SELECT status FROM sites WHERE name = 'mock-trs-old'")[0]["status"] == "ok"


# ---------------------------------------------------------------- with OCR: one article, read
@pytest.mark.slow
def test_ocr_reads_the_pages_in_order_as_one_report(tmp_path):
    from nianbao.pipeline.extract import ocr

    ps = start_portals(("trs_old",), n_reports=1, n_other=0, seed=5, forms=("images",), first_host=99)
    try:
        (e,) = ps[0].expected_reports()
        lost = e["page_images"][-1]  # the last page (sections 五、六): its fetch fails, the others still read
        ps[0].faults[(urlsplit(lost).path, None)] = faults.status(404)
        db = tmp_path / "archive.db"
        nb("crawl", "--fast", "--archive", str(db), "--sites-dir", str(sites_dir(tmp_path, ps)), code=3)
    finally:
        stop_portals(ps)
    os.environ["NIANBAO_OCR"] = "1"
    try:
        assert ocr.available(), "the OCR engine is a test dependency (extra `ocr`)"
    finally:
        del os.environ["NIANBAO_OCR"]
    nb("reparse", "--archive", str(db), "--workers", "1", env={"NIANBAO_OCR": "1"})
    (r,) = rows(db, "SELECT * FROM reports WHERE publication = ? AND is_primary = 1", e["url"])
    assert r["status"] == "extraction_incomplete" and lost in r["reason"]  # a gap: never ok
    assert r["title"] == e["title"] and r["report_year"] == e["report_year"] and r["agency"] == e["agency"]
    meta = json.loads(r["meta"])
    assert [p["url"] for p in meta["ocr"]["pages"]] == e["page_images"][:-1]
    want = {(str(c["table"]), c["row"], c["col"]): c["value"] for c in e["cells"]}
    got = {(str(c["table_no"]), c["row"], c["col"]): c
           for c in rows(db, "SELECT * FROM cells WHERE report = ?", r["id"])}
    right = [k for k, v in want.items() if k in got and got[k]["value"] == v and v is not None]
    wrong = [(k, v, got[k]["value"]) for k, v in want.items() if k in got and got[k]["value"] is not None
             and got[k]["value"] != v]
    assert not wrong  # a figure is right, or NULL with a reason
    assert all(got[k]["reason"] for k in want if k in got and got[k]["value"] is None and want[k] is not None)
    # The tables on the pages read are read (the lost page's table is NULL with its reason, as asserted above).
    shown = [k for k, v in want.items() if v is not None and k in got and got[k]["source"]]
    assert len(right) >= 0.95 * len(shown) and len(shown) >= 0.5 * sum(v is not None for v in want.values())
    # Page N is image N: every OCR'd cell names the image it was read on, and its page number is that image's place.
    read = [json.loads(c["source"]) for c in got.values() if c["source"] and "page" in json.loads(c["source"])]
    assert len(read) >= len(right)
    for src in read:
        assert src["image"] == e["page_images"][src["page"] - 1] and src["document"] and src["frame"] == 1
    # The site shows the page image the figure was read on, with its box.
    from nianbao.pipeline.site import server

    (table, row, col), c = next((k, c) for k, c in got.items() if c["value"] is not None)
    src = json.loads(c["source"])
    proc, url = server.start(db)
    try:
        with urllib.request.urlopen(f"{url}/report/{r['id']}/cell/{table}/{row}/{col}", timeout=30) as resp:
            html = resp.read().decode()
        assert f"/report/{src['document']}/page/1.png?box=" in html
        box = ",".join(str(v) for v in src["bbox"])
        with urllib.request.urlopen(f"{url}/report/{src['document']}/page/1.png?box={box}", timeout=30) as resp:
            assert resp.headers["content-type"] == "image/png" and resp.read()[:4] == b"\x89PNG"
    finally:
        server.stop(proc)
