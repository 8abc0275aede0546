"""The site in headless Debian Chromium (Playwright, no downloaded browser): what a
researcher sees and clicks. Screenshots go to test-artifacts/ for a person to look at."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from known_archive import SAMPLES

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(os.environ.get("NIANBAO_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))

pytestmark = pytest.mark.browser




@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    pg = ctx.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    # The site must not reach the internet: any request off 127.0.0.1 fails the test.
    outside: list[str] = []
    pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    yield pg
    ctx.close()
    assert not outside, outside
    assert not dialogs, f"a script ran: {dialogs}"


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_search_box_finds_a_two_character_word(site, page):
    page.goto(site["url"] + "/")
    shot(page, "home")
    page.fill("form.nianbao-searchbox input[name=q]", "听证")
    page.click("form.nianbao-searchbox button")
    page.wait_for_url("**/search?q=*")
    results = page.locator("ol.search-results li")
    assert results.count() == 1
    assert "洪泽区" in results.first.locator("a.title").inner_text()
    assert results.first.locator("mark").inner_text() == "听证"
    shot(page, "search-tingzheng")
    results.first.locator("a.title").click()
    page.wait_for_url(f"**/report/{site['hongze']}*")
    assert "淮安市洪泽区人民政府2023年" in page.locator("h1").inner_text()


def test_facet_narrows_the_list(site, page):
    page.goto(site["url"] + "/archive/reports")
    total = len(site["reports"])
    assert f"{total} rows" in page.locator("h3").first.inner_text()
    assert "报告年度" in page.locator(".facet-info[data-column=report_year] .facet-info-name").inner_text()
    link = page.locator(".facet-info[data-column=report_year] li a").first
    year = link.inner_text()
    link.click()
    page.wait_for_url("**report_year=*")
    want = sum(1 for r in site["reports"].values() if str(r.report_year) == year)
    assert f"{want} row" in page.locator("h3").first.inner_text()
    years = page.locator("td.col-report_year").all_inner_texts()
    assert years and set(years) == {year}
    assert "发布机关" in page.locator("thead").inner_text()  # Chinese column labels
    shot(page, "reports-facet-year")


def test_report_page_numbers_and_broken_rule(site, page):
    page.goto(f"{site['url']}/report/{site['hongze']}")
    t3 = page.locator("table.t3")
    assert t3.locator("tr[data-row=new] td").last.inner_text() == "21"
    assert t3.locator("tr[data-row=partly_granted] td").last.inner_text() == "4"
    assert t3.locator('tr[data-row="unavailable.not_held"] td').first.inner_text() == "10"
    t4 = page.locator("table.t4 td")
    assert t4.count() == 15
    review_total = t4.nth(4)
    assert review_total.inner_text().startswith("0")
    assert "broken" in review_total.get_attribute("class")
    assert "t4_total" in review_total.get_attribute("title")
    assert "broken" not in t4.nth(9).get_attribute("class")  # 未经复议直接起诉 adds up
    assert "各项之和11不等于总计0" in page.locator("section.rules").inner_text()
    shot(page, "report-hongze")
    review_total.locator("a").click()
    page.wait_for_url("**/cell/4/review/total")
    img = page.locator("img.page-image")
    img.wait_for()
    assert page.evaluate("(i) => i.complete && i.naturalWidth > 500", img.element_handle())
    shot(page, "cell-provenance")


def test_original_document_download(site, page):
    page.goto(f"{site['url']}/report/{site['hongze']}")
    with page.expect_download() as dl:
        page.click("#download-link")
    d = dl.value
    assert d.suggested_filename == "淮安市洪泽区人民政府-2023年报.pdf"
    assert Path(d.path()).read_bytes() == (SAMPLES / "huaian-hongze-2023.pdf").read_bytes()


def test_script_title_is_text(site, page):
    page.goto(f"{site['url']}/report/{site['script']}")
    assert page.locator("h1.report-title").inner_text() == "<script>alert(1)</script>年报"
    assert page.locator("#section-1 .section-text").inner_text() == "<img src=x onerror=alert(2)>正文"
    assert page.locator("img").count() == 0
    shot(page, "report-script-title")
    page.goto(site["url"] + "/archive/reports?agency=测试县人民政府")
    assert "<script>alert(1)</script>年报" in page.locator("table.rows-and-columns").inner_text()


def test_charts_and_canned_query(site, page):
    page.goto(site["url"] + "/charts")
    assert page.locator("svg.nianbao-chart").count() == 5
    shot(page, "charts")
    page.goto(site["url"] + "/archive/broken_rules")
    assert "勾稽关系不一致的年报" in page.locator("h1").inner_text()
    rows = page.locator("table.rows-and-columns tbody tr")
    want = sum(1 for r in site["reports"].values() for i in r.issues if i.kind == "rule")
    assert rows.count() == want
    shot(page, "query-broken-rules")


def test_html_report_number_leads_to_its_cell_in_the_published_table(site, page):
    page.goto(f"{site['url']}/report/{site['shanghai']}")
    # 135 of 198 cells are printed empty on this page: shown as blanks, not zeros.
    assert page.locator("table.t3 td.blank").count() > 50
    page.locator("table.t2 td a", has_text="251000").click()
    page.wait_for_url("**/cell/2/procurement/amount")
    hit = page.locator("table.source-table td.hit")
    assert hit.inner_text() == "251000元" and hit.is_visible()
    shot(page, "cell-provenance-html")
