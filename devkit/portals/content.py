"""What a mock column holds: generated reports (figures known) mixed with other items.

Reports come from nianbao.devkit.generate, so every test knows each report's figures. PDF
rendering goes through LibreOffice and is slow: PDFs are rendered once per seed into
a disk cache (one batch call for all missing ones) and reused by every later portal.
"""
from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AGENCY_DEPTS = ["人民政府办公室", "教育局", "民政局", "财政局", "人力资源和社会保障局", "自然资源局",
                "生态环境局", "住房和城乡建设局", "交通运输局", "卫生健康委员会", "市场监督管理局", "统计局"]
OTHER_TITLES = ["关于开展{y}年安全生产大检查的通知", "{y}年政府信息公开工作要点", "政府信息公开指南",
                "关于印发{y}年重点工作任务分工方案的通知", "{y}年第三季度政务公开工作动态",
                "关于做好{y}年度政府信息公开工作年度报告编制工作的通知", "依申请公开流程图",
                "{y}年法治政府建设情况报告", "政府信息公开制度"]


def cache_dir() -> Path:
    d = Path(os.environ.get("NIANBAO_PORTAL_CACHE", Path.home() / ".cache" / "nianbao" / "portals"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@dataclass
class Item:
    """One entry of a column: a report (spec set) or anything else."""
    id: int
    title: str
    date: str  # YYYY-MM-DD publication date
    publisher: str
    index_no: str
    form: str = "html"  # html (tables in the body) | pdf | docx | none (not a report)
    spec: Any = None
    seed: int | None = None
    _bytes: dict = field(default_factory=dict, repr=False, compare=False)
    version: int = 0  # bumped by Portal.change(): the page gains a correction note, same URL

    @property
    def is_report(self) -> bool:
        return self.spec is not None


@dataclass
class Column:
    region: str
    items: list[Item] = field(default_factory=list)


def build_column(seed: int, *, n_reports: int = 8, n_other: int = 4, region: str | None = None,
                 forms: tuple[str, ...] = ("html", "pdf", "html", "docx")) -> Column:
    """Deterministic column content for one portal. Years 2019–2024 (both templates),
    several agencies, newest first like real columns."""
    from nianbao.devkit import generate

    rnd = random.Random(seed)
    region = region or rnd.choice(["临河市", "安平市", "东川市", "清源县", "北湖区", "云岭市", "南溪县"])
    col = Column(region=region)
    items: list[Item] = []
    years = [2019 + (i % 6) for i in range(n_reports)]
    for i in range(n_reports):
        year = years[i]
        agency = region + AGENCY_DEPTS[i % len(AGENCY_DEPTS)]
        rseed = seed * 1000 + i
        # Every fifth report prints figures that break a reconciliation rule, as real
        # ones do; plain layout, so no blank hides the break from the validator.
        broken = i % 5 == 2
        spec = generate.random_report(rseed, year=year, agency=agency, consistent=not broken,
                                      variations=set() if broken else None)
        pub = f"{year + 1}-01-{10 + i % 18:02d}"
        items.append(Item(id=0, title=spec.title, date=pub, publisher=agency,
                          index_no="", form=forms[i % len(forms)], spec=spec, seed=rseed))
    for j in range(n_other):
        y = 2019 + rnd.randrange(6)
        title = OTHER_TITLES[(seed + j) % len(OTHER_TITLES)].format(y=y)
        items.append(Item(id=0, title=title, date=f"{y}-{1 + rnd.randrange(12):02d}-{1 + rnd.randrange(27):02d}",
                          publisher=region + AGENCY_DEPTS[rnd.randrange(len(AGENCY_DEPTS))], index_no="", form="none"))
    items.sort(key=lambda it: (it.date, it.title), reverse=True)
    for k, it in enumerate(items):
        it.id = 1000000 + seed * 1000 + k
        it.index_no = f"{11000000 + seed:09d}/{it.date[:4]}-{it.id % 100000:05d}"
    col.items = items
    return col


# ---------------------------------------------------------------- rendering with caches

def _generator_stamp() -> str:
    # A cached render is valid only for the generator that made it.
    import nianbao.devkit.generate as g
    return hashlib.sha1(Path(g.__file__).read_bytes()).hexdigest()[:10]


def _key(item: Item, kind: str) -> Path:
    printed = hashlib.sha1(repr(sorted(item.spec.raw.items())).encode()).hexdigest()[:8]
    return cache_dir() / f"{_generator_stamp()}-{item.seed}-{printed}.{kind}"


def report_html(item: Item) -> str:
    from nianbao.devkit import generate
    return generate.render_html(item.spec, full_page=False, encoding="utf-8").decode("utf-8")


def report_text_html(item: Item) -> str:
    """The report's text without its statistical tables (they are in a workbook attached
    to the page: forms "xlsx" and "xls")."""
    import re

    return re.sub(r'(?s)<table(?! class="title")[^>]*>.*?</table>', "", report_html(item))


def report_workbook(item: Item) -> bytes:
    """The report's tables alone as a workbook (XLSX, or XLS for form "xls"): captions
    and tables on one sheet, the report's title in the file's properties, no text."""
    if item.form in item._bytes:
        return item._bytes[item.form]
    p = _key(item, item.form)
    if not p.exists():
        from nianbao.devkit.sheets import render_xls, render_xlsx
        render = render_xls if item.form == "xls" else render_xlsx
        _atomic_write(p, render(item.spec, layout="tables"))
    item._bytes[item.form] = p.read_bytes()
    return item._bytes[item.form]


def report_docx(item: Item) -> bytes:
    # Memoised per item: a portal serves the same bytes for its whole life, even if the
    # generator file changes on disk meanwhile (the disk cache key would change).
    if "docx" in item._bytes:
        return item._bytes["docx"]
    p = _key(item, "docx")
    if not p.exists():
        from nianbao.devkit import generate
        _atomic_write(p, generate.render_docx(item.spec))
    item._bytes["docx"] = p.read_bytes()
    return item._bytes["docx"]


def report_pdf(item: Item) -> bytes:
    if "pdf" in item._bytes:
        return item._bytes["pdf"]
    p = _key(item, "pdf")
    if not p.exists():
        prerender_pdfs([item])
    item._bytes["pdf"] = p.read_bytes()
    return item._bytes["pdf"]


def prerender_pdfs(items: list[Item]) -> None:
    """Render every missing PDF in one LibreOffice batch (seconds per call, not per file)."""
    todo = [it for it in items if it.form in ("pdf", "images") and it.is_report and not _key(it, "pdf").exists()]
    if todo:
        from nianbao.devkit import generate
        pdfs = generate.render_many_pdf([it.spec for it in todo])
        for it, data in zip(todo, pdfs):
            _atomic_write(_key(it, "pdf"), data)
    for it in items:  # load now: a portal's bytes never change behind its back
        if it.is_report and it.form in ("pdf", "images"):
            report_pdf(it)
        elif it.is_report and it.form == "docx":
            report_docx(it)
        elif it.is_report and it.form in ("xlsx", "xls"):
            report_workbook(it)


def _atomic_write(p: Path, data: bytes) -> None:
    tmp = p.with_suffix(p.suffix + f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, tmp.with_name(p.name))


def etag(data: bytes) -> str:
    return '"' + hashlib.sha1(data).hexdigest()[:20] + '"'
