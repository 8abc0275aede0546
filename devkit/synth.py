"""Synthetic reports with realistic variety, for the site's tests and benchmark.

Real archives mix years 2008-2024 (tables only from 2019), templates 2019/2021 (and
mixed ones), containers, agencies at every level, publishers' arithmetic errors and
extraction gaps, and years in which an agency published nothing. `make_report(rng, …)`
draws one such `Report` from a seeded random generator, so a seed names an archive.
"""
from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from nianbao.pipeline import agencies as agency_ids
from nianbao.pipeline import old_template, store, templates
from nianbao.pipeline.model import (
    EXTRACTION_INCOMPLETE,
    FIGURES_INCONSISTENT,
    NOT_A_REPORT,
    OK,
    Cell,
    Issue,
    Report,
    Section,
)

CITIES = {
    "江苏": ["南京市", "苏州市", "淮安市", "无锡市", "徐州市"],
    "浙江": ["杭州市", "宁波市", "温州市", "绍兴市"],
    "广东": ["广州市", "深圳市", "佛山市", "东莞市", "汕头市"],
    "河北": ["石家庄市", "邯郸市", "保定市", "唐山市"],
    "四川": ["成都市", "绵阳市", "宜宾市"],
    "山东": ["济南市", "青岛市", "烟台市", "潍坊市"],
    "河南": ["郑州市", "洛阳市", "开封市"],
    "湖北": ["武汉市", "宜昌市", "襄阳市"],
    "内蒙古": ["鄂尔多斯市", "呼和浩特市", "包头市"],
    "宁夏": ["吴忠市", "银川市"],
}
PROVINCE_SUFFIX = {"内蒙古": "自治区", "宁夏": "回族自治区"}
MUNICIPALITIES = ["上海市", "北京市", "天津市", "重庆市"]
COUNTY_CHARS = "东西南北中新江河山湖城阳安平清泉龙凤华兴和永宁长丰"
DEPARTMENTS = ["人民政府", "人民政府办公室", "公安局", "自然资源局", "生态环境局", "住房和城乡建设局", "教育局",
               "卫生健康委员会", "市场监督管理局", "人力资源和社会保障局", "交通运输局", "财政局"]
CONTAINERS = [("pdf", 50), ("html", 35), ("docx", 10), ("txt", 5)]
PHRASES = [
    "本机关深入贯彻落实《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外。",
    "全年通过门户网站主动公开政府信息{n}条，其中政策文件{m}件。",
    "依申请公开工作规范有序，申请渠道畅通，答复均在法定期限内完成。",
    "加强政府信息管理，完善公开属性源头认定机制，开展规范性文件清理。",
    "政府网站和政务新媒体平台建设持续推进，政务公开专区运行良好。",
    "强化监督保障，将政务公开纳入年度绩效考核，组织业务培训{k}次。",
    "因政府信息公开工作被申请行政复议{a}件，提起行政诉讼{b}件。",
    "存在的主要问题是公开内容不够全面，解读形式较为单一，基层公开标准化规范化有待加强。",
    "下一步将聚焦重点领域信息公开，提升政策解读质量，回应社会关切。",
    "本年度未收取信息处理费。",
    "本年度收取信息处理费{c}元。",
    "落实年度政务公开工作要点，推进决策、执行、管理、服务、结果公开。",
    "加强对公共企事业单位信息公开的指导，优化营商环境，做好惠企政策公开。",
    "聚焦乡村振兴、生态环境、安全生产、食品药品等领域，加大公开力度。",
    "建立健全政民互动机制，开展政府开放日活动{k}次，接受群众监督。",
]
SECTION_TITLES = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                  "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]


def agencies(rng: random.Random, n: int) -> list[str]:
    """`n` distinct agency names at province, city and county level."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        level = rng.random()
        if level < 0.1:
            prov = rng.choice(list(CITIES))
            base = prov + PROVINCE_SUFFIX.get(prov, "省")
        elif level < 0.2:
            base = rng.choice(MUNICIPALITIES) + (rng.choice(COUNTY_CHARS) + rng.choice(COUNTY_CHARS) + "区"
                                                 if rng.random() < 0.5 else "")
        else:
            prov = rng.choice(list(CITIES))
            city = rng.choice(CITIES[prov])
            base = (prov + PROVINCE_SUFFIX.get(prov, "省") if rng.random() < 0.5 else "") + city
            if level > 0.45:
                base += rng.choice(COUNTY_CHARS) + rng.choice(COUNTY_CHARS) + rng.choice("区县")
        name = base + rng.choice(DEPARTMENTS)
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _source(container: str, table: int, r: int, c: int) -> dict[str, Any]:
    if container == "pdf":
        return {"page": table, "bbox": [60 + 60 * c, 100 + 22 * r, 110 + 60 * c, 118 + 22 * r]}
    if container == "txt":
        return {"line": 40 * table + r, "cell": c}
    return {"table": table - 2, "row": r + 2, "cell": c + 1}


def _t3(rng: random.Random, template: str, container: str, scale: int) -> list[Cell]:
    rows = templates.table3_rows(template)
    result_rows = templates.t3_result_rows(template)
    parts = [c.code for c in templates.T3_COLS if c.code != "total"]
    vals: dict[tuple[str, str], int] = {}
    for col in parts:
        weight = scale if col == "natural_person" else max(0, scale // rng.randint(4, 40))
        new = rng.randint(0, weight)
        carried_in = rng.randint(0, max(0, new // 10))
        carried_out = rng.randint(0, max(0, (new + carried_in) // 8))
        done = new + carried_in - carried_out
        shares = [rng.random() ** 2 * (6 if r == "granted" else 1) for r in result_rows]
        tot = sum(shares) or 1
        alloc = [int(done * s / tot) for s in shares]
        alloc[0] += done - sum(alloc)
        vals[("new", col)], vals[("carried_in", col)], vals[("carried_out", col)] = new, carried_in, carried_out
        vals[("results_total", col)] = done
        for r, v in zip(result_rows, alloc):
            vals[(r, col)] = v
    cells = []
    for i, row in enumerate(rows):
        total = sum(vals[(row.code, c)] for c in parts)
        for j, col in enumerate(templates.T3_COLS):
            v = total if col.code == "total" else vals[(row.code, col.code)]
            cells.append(Cell(3, row.code, col.code, v, str(v), _source(container, 3, i, j)))
    return cells


def _t4(rng: random.Random, container: str, scale: int) -> list[Cell]:
    cells = []
    for i, g in enumerate(templates.T4_GROUPS):
        parts = [rng.randint(0, max(0, scale // 30)) for _ in range(4)]
        for j, (col, v) in enumerate(zip(templates.T4_COLS, parts + [sum(parts)])):
            cells.append(Cell(4, g.code, col.code, v, str(v), _source(container, 4, i, j)))
    return cells


def _t2(rng: random.Random, template: str, container: str) -> list[Cell]:
    cells = []
    for i, (row, col, kind) in enumerate(templates.expected_cells(2, template)):
        v: float | int = round(rng.random() * 50, 2) if kind == "money" else (
            rng.randint(-5, 5) if kind == "change" else rng.randint(0, 300))
        cells.append(Cell(2, row, col, v, str(v), _source(container, 2, i, 0)))
    return cells


def _old(rng: random.Random, container: str, year: int) -> list[Cell]:
    """The older 统计表's key rows (本年度, and 历年累计 for 2008–2013 tables)."""
    rows = ["proactive.total", "requests.total", "answers.total", "answers.granted", "answers.partly_granted",
            "answers.denied", "review.total", "suit.total", "complaints"]
    cells = []
    for i, row in enumerate(rows):
        v = rng.randint(0, 3000 if row == "proactive.total" else 60)
        src = _source(container, 2, i, 0)
        label = old_template.LABELS[row]
        cells.append(Cell("old", row, "year", v, str(v), src, label=label, unit=old_template.BY_CODE[row].unit))
        if year <= 2013:
            c = v + rng.randint(0, 300)
            cells.append(Cell("old", row, "cumulative", c, str(c), src, label=label, unit=old_template.BY_CODE[row].unit))
    return cells


def _text(rng: random.Random, k: int) -> str:
    return "".join(rng.choice(PHRASES).format(n=rng.randint(10, 3000), m=rng.randint(1, 90), k=rng.randint(1, 9),
                                              a=rng.randint(0, 20), b=rng.randint(0, 20), c=rng.randint(0, 500))
                   for _ in range(k))


def make_report(rng: random.Random, agency: str, year: int) -> Report:
    container = _weighted(rng, CONTAINERS)
    title = f"{agency}{year}年政府信息公开工作年度报告"
    sections = [Section(i + 1, t, _text(rng, rng.randint(1, 3))) for i, t in enumerate(SECTION_TITLES)]
    rep = Report(status=OK, agency=agency, report_year=year, title=title, container=container,
                 sections=sections, meta={"published": f"{year + 1}-0{rng.randint(1, 3)}-{rng.randint(10, 28)}"})
    place = agency_ids.identify(agency)
    rep.adcode, rep.province, rep.city, rep.county, rep.agency_id = (
        place["adcode"], place["province"], place["city"], place["county"], place["agency_id"])
    if year < 2019:
        rep.sections = [Section(1, "", _text(rng, rng.randint(3, 8)))]
        if rng.random() < 0.01:
            rep.status, rep.reason = NOT_A_REPORT, "no report heading"
        elif rng.random() < 0.7:  # most printed the older 统计表
            rep.templates = {"old": "2008" if year <= 2013 else "2014"}
            rep.cells = _old(rng, container, year)
        return rep
    tpl3 = "2021" if year >= 2021 else "2019"
    if year >= 2021 and rng.random() < 0.1:
        tpl3 = "2019"  # publishers kept the old table 3 (see the 洪泽区 sample)
    tpl2 = "2021" if year >= 2021 else "2019"
    rep.templates = {"2": tpl2, "3": tpl3, "4": tpl2}
    scale = rng.choice([5, 20, 80, 300, 1500])
    rep.cells = _t2(rng, tpl2, container) + _t3(rng, tpl3, container, scale) + _t4(rng, container, scale)
    roll = rng.random()
    if roll < 0.08:
        break_t4_total(rep)
    elif roll < 0.12:
        victims = rng.sample([c for c in rep.cells if c.table == 3], 3)
        for c in victims:
            c.value, c.raw, c.reason = None, None, "unreadable"
            rep.issues.append(Issue("extraction", "cell_unreadable", f"{c.row}/{c.col} 无法识别", 3, c.row, c.col,
                                    cells=[[c.row, c.col]]))
        rep.status = EXTRACTION_INCOMPLETE
    return rep


def break_t4_total(rep: Report, group: str = "review") -> None:
    """Print a wrong 总计 in table 4 (as 洪泽区 2023 did) and record the broken rule."""
    total = rep.cell(4, group, "total")
    parts = sum(rep.cell(4, group, c).value for c in ("upheld", "corrected", "other", "pending"))
    total.value = parts + 1 + (total.value or 0) % 7
    total.raw = str(total.value)
    rep.issues.append(Issue("rule", "t4_total", f"表四{templates.ROW_LABELS[(4, group)]}：各项之和{parts}不等于总计{total.value}",
                            4, group, "total", lhs=parts, rhs=total.value,
                            cells=[[group, c] for c in ("upheld", "corrected", "other", "pending", "total")]))
    rep.status = FIGURES_INCONSISTENT


def document_bytes(rep: Report, serial: int = 0) -> bytes:
    """A small stand-in for the published file (its bytes only need to be unique)."""
    body = "\n".join(f"<h2>{s.title}</h2><p>{s.text}</p>" for s in rep.sections)
    return (f"<html><head><meta charset='utf-8'><title>{rep.title}</title></head><body>{body}"
            f"<!-- {serial} --></body></html>").encode()


def reports(seed: int, n: int, n_agencies: int | None = None) -> Iterable[Report]:
    """`n` reports of ~n/8 agencies over 2008-2024; each agency skips some years."""
    rng = random.Random(seed)
    names = agencies(rng, n_agencies or max(1, n // 8))
    made = 0
    while made < n:
        for agency in names:
            first = rng.randint(2008, 2020)
            for year in range(first, 2025):
                if rng.random() < 0.15:
                    continue  # a year with no report found
                yield make_report(rng, agency, year)
                made += 1
                if made >= n:
                    return


# ---------------------------------------------------------------- archives
def load(archive: store.Archive, reps: Iterable[Report], batch: int = 2000, progress=None, refreshing=None) -> int:
    """Write many reports through the archive's own writer, in batches, each with a
    small stand-in document, then finish (derived data). Returns the count.
    `progress(written)` after each batch, `refreshing(done, total)` as the derived data follows."""
    n = 0
    buf: list[tuple[str, Report]] = []
    for r in reps:
        n += 1
        digest, _ = archive.add_document(document_bytes(r, n), type=r.container or "html",
                                         original_name=f"{r.report_year}.{r.container}")
        buf.append((digest, r))
        if len(buf) >= batch:
            archive.write_reports(buf)
            buf.clear()
            if progress:
                progress(n)
    archive.write_reports(buf)
    archive.finish(refreshing)
    return n
