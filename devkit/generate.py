"""Synthetic annual reports whose every figure is known.

Tests and the mock government portals need documents that look like what publishers
put online (HTML page bodies, Word files, PDFs printed from either through LibreOffice)
while knowing each cell's true value. A `ReportSpec` is drawn deterministically from a
seed; the renderers only read the spec, so the same spec gives the same figures in every
container and `expected_cells(spec)` is the answer key for all of them.

API: random_report(seed, ...) -> ReportSpec; expected_cells(spec) / expected_json(spec);
render_html(spec, full_page=, encoding=), render_docx(spec), render_pdf(spec, via=),
render_many_pdf(specs, via=) (one soffice run for the batch), render(spec, fmt);
rule_instances / rule_violations (the reconciliation rules over a spec); VARIATIONS
names every layout trap a spec can carry.

No pytest here: `nianbao demo` and the mock portals import this at run time.
"""
from __future__ import annotations

import atexit
import datetime as _dt
import html as _html
import io
import os
import random
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

from nianbao.pipeline import templates as T

Key = tuple[int, str, str]

# --------------------------------------------------------------------------- variations
# Every layout trap of templates.md that the generator can reproduce. Exclusive groups
# hold alternatives of one property (a report has at most one of each group).
VARIATIONS: dict[str, str] = {
    "split_repeat_header": "table 3 starts mid-page and breaks across pages; header rows repeat on the next page",
    "split_no_header": "table 3 starts mid-page and breaks across pages; the continuation has no header",
    "narrow_labels": "label columns so narrow that long row labels wrap over several lines",
    "blank_empty": "many zero cells printed empty (HTML &nbsp;): value None",
    "blank_slash": "many zero cells printed 「/」: value None",
    "blank_dash": "many zero cells printed 「—」: value None",
    "blank_wu": "many zero cells printed 「无」: value None",
    "blank_total_col": "table 3 总计 column left empty on the result rows although not zero (Shanghai 2019): value None",
    "fullwidth_digits": "some numbers in full-width digits (「１２」)",
    "thousands_sep": "numbers of four digits or more with thousands separators (「4,119」)",
    "money_units": "money cells carry their unit (「251000元」, 「25.1万元」, 「7730.28万元」)",
    "negative_change": "2019 table 2 本年增/减 with negative figures (「-3」, 「－3」)",
    "t3_no_header": "table 3 printed without its header rows",
    "merged_cells": "official layout with merged cells (rowspan/colspan; Word gridSpan/vMerge); without it one flat label column",
    "t2_one_table": "all 第二十条 blocks in one table (otherwise one table per block)",
    "t2_misaligned": "one table 2 whose header and data cells split the grid differently (colspans disagree, as in the Shanghai 2019 page)",
    "t2_heading_outside": "one table per 第二十条 block, the block heading printed as a paragraph above it, not as a table row",
    "mixed_templates": "2021 table 2 and table 4 with a 2019-style table 3 (one （六）其他处理 row), as in the 洪泽 2023 report",
    "year_first_title": "title starts with the year: 「2023年XX政府信息公开工作年度报告」",
    "title_two_lines": "title printed on two lines (agency, then year and report name)",
    "title_three_lines": "title printed on three lines (agency / year and half the name / the rest)",
    "title_abbrev": "title names the agency without its city (洪泽区人民政府); the opening text names it in full",
    "title_in_table": "title printed inside a one-cell table (old portal templates, Word layouts)",
    "chrome_other_organ": "portal page whose chrome (site name, breadcrumbs, footer 主办单位, a sidebar of other reports) names other organs",
    "meta_title_generic": "document metadata titles are generic (<title> the site name; PDF/Word title 政府信息公开工作年度报告)",
    "compiled_by_office": "the opening sentence says the report was compiled by another organ (本报告由…办公室编制)",
    "old_cumulative": "a 2008–2013 统计表 with 本年度 and 历年累计 columns (otherwise 本年度 only)",
    "alt_numbering": "section headings numbered 「第一部分 总体情况」 instead of 「一、总体情况」",
    "page_frame": "Word page border drawn around the body text (DOCX and its PDF only)",
    "gbk": "render_html encodes GBK by default (old TRS sites)",
}
_EXCLUSIVE = (
    ("split_repeat_header", "split_no_header"),
    ("blank_empty", "blank_slash", "blank_dash", "blank_wu"),
    ("title_two_lines", "title_three_lines"),
)
# Variations of how the title and the page around it are printed: they apply to every
# year, tables or not.
_TITLE_VARIATIONS = {"year_first_title", "title_two_lines", "title_three_lines", "title_abbrev", "title_in_table",
                     "chrome_other_organ", "meta_title_generic", "compiled_by_office"}
# Probability of each variation when the seed chooses (groups: probability of the group).
_P = {
    "split": 0.35, "narrow_labels": 0.25, "blank": 0.35, "blank_total_col": 0.08,
    "fullwidth_digits": 0.12, "thousands_sep": 0.2, "money_units": 0.4, "negative_change": 0.4,
    "t3_no_header": 0.08, "merged_cells": 0.75, "t2_one_table": 0.5, "t2_heading_outside": 0.1, "t2_misaligned": 0.1,
    "mixed_templates": 0.08,
    "year_first_title": 0.3, "title_two_lines": 0.2, "alt_numbering": 0.06, "page_frame": 0.1,
    "gbk": 0.15,
}
# Drawn from a stream of their own, so that adding them left every earlier draw (and so
# every figure of every seed) as it was.
_P_TITLE = {"title_lines": 0.35, "title_abbrev": 0.3, "title_in_table": 0.15, "chrome_other_organ": 0.5,
            "meta_title_generic": 0.25, "compiled_by_office": 0.3}
BLANK_MARKS = {"blank_empty": "", "blank_slash": "/", "blank_dash": "—", "blank_wu": "无"}

RULES = ("t3_balance", "t3_results_sum", "t3_row_total", "t4_total", "nonneg")


@dataclass
class ReportSpec:
    """One synthetic report: metadata, prose and every cell as printed and as meant.

    cells: (table, row, col) -> value in template print order; None means printed blank
    (what the parser must store as NULL). raw: the text printed in each cell (always
    present for every cell, so renderers never format numbers themselves).
    broken_rules: rule instances the printed figures break, as (rule, table, row, col):
    row/col name the instance (t4_total: group, "total"; t3_row_total: row, "total";
    t3_balance / t3_results_sum: None/"results_total", column; nonneg: the cell).
    opaque_blanks: blank cells that do NOT stand for zero (blank_total_col): rules that
    involve them cannot be checked.
    """

    seed: int
    agency: str
    report_year: int
    templates: dict[str, str]
    cells: dict[Key, int | float | None]
    raw: dict[Key, str]
    sections: list[str]  # six section texts, paragraphs separated by "\n"
    section_titles: list[str]
    variations: set[str]
    title: str
    published: _dt.date
    region: str = ""
    intro: str = ""
    agency_titled: str = ""  # the agency as the title prints it (abbreviated under title_abbrev)
    title_lines: list[str] = field(default_factory=list)  # the title as printed, line by line
    broken_rules: list[tuple[str, int, str | None, str]] = field(default_factory=list)
    opaque_blanks: set[Key] = field(default_factory=set)
    layout: dict[str, Any] = field(default_factory=dict)  # seed-chosen render details

    @property
    def has_tables(self) -> bool:
        return bool(self.templates)


# --------------------------------------------------------------------------- agencies
_PLACES: dict[str, dict[str, list[str]]] = {
    "江苏省": {"苏州市": ["吴中区", "相城区", "昆山市", "常熟市", "太仓市"], "淮安市": ["洪泽区", "涟水县", "盱眙县", "金湖县"],
              "南京市": ["江宁区", "浦口区", "六合区", "溧水区"], "徐州市": ["铜山区", "丰县", "沛县", "睢宁县"]},
    "浙江省": {"杭州市": ["西湖区", "余杭区", "萧山区", "桐庐县"], "宁波市": ["鄞州区", "北仑区", "象山县", "余姚市"],
              "温州市": ["鹿城区", "瑞安市", "永嘉县", "平阳县"]},
    "广东省": {"广州市": ["天河区", "海珠区", "番禺区", "从化区"], "深圳市": ["南山区", "福田区", "龙岗区", "宝安区"],
              "佛山市": ["南海区", "顺德区", "三水区", "高明区"]},
    "四川省": {"成都市": ["武侯区", "双流区", "郫都区", "简阳市"], "绵阳市": ["涪城区", "江油市", "三台县", "梓潼县"]},
    "河南省": {"郑州市": ["金水区", "中原区", "新郑市", "登封市"], "洛阳市": ["涧西区", "偃师区", "孟津区", "栾川县"]},
    "山东省": {"青岛市": ["市南区", "黄岛区", "即墨区", "胶州市"], "潍坊市": ["奎文区", "寿光市", "诸城市", "青州市"]},
    "宁夏回族自治区": {"吴忠市": ["利通区", "红寺堡区", "青铜峡市", "盐池县"], "银川市": ["兴庆区", "金凤区", "永宁县", "贺兰县"]},
    "湖北省": {"武汉市": ["江岸区", "洪山区", "江夏区", "黄陂区"], "宜昌市": ["西陵区", "夷陵区", "宜都市", "当阳市"]},
}
_TOWNS = ["城关镇人民政府", "新城街道办事处", "东山镇人民政府", "临湖镇人民政府", "金庭镇人民政府", "高新技术产业开发区管理委员会",
          "西湖街道办事处", "青山镇人民政府"]
_COUNTY_ORGANS = ["人民政府", "人民政府办公室", "教育局", "生态环境局", "财政局", "自然资源和规划局", "住房和城乡建设局",
                  "卫生健康委员会", "市场监督管理局", "民政局", "人力资源和社会保障局", "交通运输局", "农业农村局",
                  "应急管理局", "司法局", "统计局", "文化广电和旅游局", "水务局", "审计局", "医疗保障局"]
_PROVINCE_ORGANS = ["人民政府办公厅", "教育厅", "生态环境厅", "财政厅", "自然资源厅", "住房和城乡建设厅", "卫生健康委员会",
                    "市场监督管理局", "民政厅", "人力资源和社会保障厅", "交通运输厅", "农业农村厅", "司法厅", "统计局"]


def random_agency(rng: random.Random) -> tuple[str, str]:
    """(agency, region) at province, city, county or town level, in real naming style."""
    prov = rng.choice(sorted(_PLACES))
    city = rng.choice(sorted(_PLACES[prov]))
    county = rng.choice(_PLACES[prov][city])
    level = rng.choices(["province", "city", "county", "town"], weights=[1, 3, 5, 1])[0]
    if level == "province":
        return prov + rng.choice(_PROVINCE_ORGANS), prov
    if level == "city":
        return city + rng.choice(_COUNTY_ORGANS), prov + city
    # County-level cities go by their own name (常熟市统计局), districts and counties
    # usually with the prefecture in front (苏州市吴中区人民政府).
    place = county if county.endswith("市") else city + county
    if level == "county":
        return place + rng.choice(_COUNTY_ORGANS), prov + city + county
    return place + rng.choice(_TOWNS), prov + city + county


# --------------------------------------------------------------------------- figures
_RESULT_WEIGHTS = {
    "granted": 35, "partly_granted": 8,
    "denied.state_secret": 0.5, "denied.prohibited_by_law": 0.5, "denied.security_stability": 0.3,
    "denied.third_party": 1.5, "denied.internal_affairs": 1, "denied.process_info": 2,
    "denied.enforcement_file": 0.7, "denied.query_matter": 0.6,
    "unavailable.not_held": 25, "unavailable.needs_creation": 5, "unavailable.unclear": 3,
    "not_processed.petition": 6, "not_processed.duplicate": 4, "not_processed.publication": 1,
    "not_processed.excessive": 1, "not_processed.confirmation": 2,
    "other.no_correction": 2, "other.no_fee": 0.3, "other.other": 1.5, "other": 3.8,
}
_APPLICANT_SHARE = {"natural_person": 1.0, "commercial": 0.08, "research": 0.01, "public_interest": 0.01,
                    "legal_service": 0.04, "other_org": 0.02}
_APPLICANTS = [c.code for c in T.T3_COLS if c.code != "total"]


def _multinomial(rng: random.Random, n: int, weights: dict[str, float]) -> dict[str, int]:
    out = dict.fromkeys(weights, 0)
    keys = list(weights)
    w = [weights[k] for k in keys]
    for k in rng.choices(keys, weights=w, k=n) if n else []:
        out[k] += 1
    return out


def _table3(rng: random.Random, template: str, scale: int) -> dict[Key, int]:
    rows = [r.code for r in T.table3_rows(template)]
    results = list(T.t3_result_rows(template))
    weights = {r: _RESULT_WEIGHTS[r] for r in results}
    cells: dict[Key, int] = {}
    for col in _APPLICANTS:
        mean = scale * _APPLICANT_SHARE[col]
        resolved = 0 if rng.random() < (0.1 if col == "natural_person" else 0.55) else int(rng.expovariate(1 / max(mean, 0.3)))
        counts = _multinomial(rng, resolved, weights)
        carried_out = rng.randint(0, max(0, resolved // 8)) if rng.random() < 0.5 else 0
        carried_in = rng.randint(0, min(resolved, max(1, resolved // 8))) if resolved and rng.random() < 0.5 else 0
        vals = {"new": resolved + carried_out - carried_in, "carried_in": carried_in,
                "results_total": resolved, "carried_out": carried_out, **counts}
        for r in rows:
            cells[(3, r, col)] = vals[r]
    for r in rows:
        cells[(3, r, "total")] = sum(cells[(3, r, c)] for c in _APPLICANTS)
    return cells


def _table4(rng: random.Random, scale: int) -> dict[Key, int]:
    cells: dict[Key, int] = {}
    for g in T.T4_GROUPS:
        parts = []
        for c in T.T4_COLS[:-1]:
            mean = {"upheld": 0.03, "corrected": 0.006, "other": 0.008, "pending": 0.01}[c.code] * scale
            if g.code != "review":
                mean *= 0.6
            v = int(rng.expovariate(1 / mean)) if mean > 0 and rng.random() < 0.6 else 0
            parts.append(v)
            cells[(4, g.code, c.code)] = v
        cells[(4, g.code, "total")] = sum(parts)
    return cells


def _table2(rng: random.Random, template: str, scale: int, variations: set[str]) -> dict[Key, int | float]:
    big = "thousands_sep" in variations
    def count(mean: float, lo: int = 0) -> int:
        return max(lo, int(rng.expovariate(1 / mean))) if mean > 0 else 0

    cells: dict[Key, int | float] = {}
    gov = rng.random() < 0.5
    if template == "2021":
        for r in ("rules", "normative_docs"):
            issued = count(0.5 if r == "rules" else 6) if (gov or r == "normative_docs") else 0
            repealed = count(0.3 if r == "rules" else 3) if rng.random() < 0.5 else 0
            in_force = issued + count(10 if r == "rules" else 60)
            cells.update({(2, r, "issued"): issued, (2, r, "repealed"): repealed, (2, r, "in_force"): in_force})
        cells[(2, "licensing", "decisions")] = count(scale * 3) + (1000 if big else 0)
        cells[(2, "penalty", "decisions")] = count(scale * 5) + (rng.randint(1000, 9000) if big else 0)
        cells[(2, "coercion", "decisions")] = count(scale * 0.4)
        fee = round(rng.uniform(0, 12000) if rng.random() < 0.6 else 0.0, rng.choice([0, 1, 2, 2, 2]))
        cells[(2, "fees", "amount_10k_yuan")] = float(fee) + (1234.5 if big and fee < 1000 else 0.0)
        return cells
    for r in ("rules", "normative_docs"):
        made = count(0.5 if r == "rules" else 6) if (gov or r == "normative_docs") else 0
        published = made if rng.random() < 0.85 else max(0, made - rng.randint(0, 2))
        cells.update({(2, r, "made"): made, (2, r, "published"): published,
                      (2, r, "public_total"): published + count(15 if r == "rules" else 80)})
    neg = "negative_change" in variations
    changes = [(r) for r in ("licensing", "other_services", "penalty", "coercion", "fees")]
    forced_neg = rng.choice(changes) if neg else None
    for r in changes:
        prev = count(40 if r != "fees" else 8)
        if r == forced_neg:
            prev = max(prev, 5)
            change = -rng.randint(1, prev)
        elif neg and rng.random() < 0.3 and prev:
            change = -rng.randint(1, prev)
        else:
            change = rng.randint(0, 6) if rng.random() < 0.4 else 0
        cells[(2, r, "prev_items")] = prev
        cells[(2, r, "change")] = change
        if r != "fees":
            mean = {"licensing": 3, "other_services": 2, "penalty": 5, "coercion": 0.4}[r] * scale
            extra = rng.randint(1000, 9000) if big and r == "penalty" else 0
            cells[(2, r, "decisions")] = count(mean) + extra
    cells[(2, "procurement", "items")] = count(8)
    if cells[(2, "procurement", "items")]:
        amount = rng.randint(1, 999999) * 100  # multiples of 100 yuan: exact in 万元 with 2 decimals
    else:
        amount = 0
    cells[(2, "procurement", "amount")] = amount
    return cells


# --------------------------------------------------------------------------- rules
# --------------------------------------------------------------------------- the old 统计表 (2008–2018)
# Rows each layout prints, in order; a block heading (no figures) is ("", heading).
OLD_2008 = ["proactive.total", "proactive.website", "requests.total", "requests.in_person", "requests.fax",
            "requests.email", "requests.online", "requests.mail", "answers.total", "answers.granted",
            "answers.partly_granted", "answers.denied", "review.total", "suit.total", "complaints", "fees.collected",
            "fees.waived"]
OLD_2014: list[tuple[str, str]] = [
    ("", "一、主动公开情况"), ("proactive.total", "（一）主动公开政府信息数"),
    ("proactive.normative_docs", "其中：主动公开规范性文件数"), ("proactive.normative_issued", "制发规范性文件总数"),
    ("", "（二）通过不同渠道和方式公开政府信息的情况"), ("proactive.gazette", "1.政府公报公开政府信息数"),
    ("proactive.website", "2.政府网站公开政府信息数"), ("proactive.weibo", "3.政务微博公开政府信息数"),
    ("proactive.wechat", "4.政务微信公开政府信息数"), ("proactive.other", "5.其他方式公开政府信息数"),
    ("", "二、回应解读情况"), ("response.hotspots", "（一）回应公众关注热点或重大舆情数"),
    ("response.press", "1.参加或举办新闻发布会总次数"), ("response.interviews", "2.政府网站在线访谈次数"),
    ("response.interpretations", "3.政策解读稿件发布数"),
    ("", "三、依申请公开情况"), ("requests.total", "（一）收到申请数"), ("requests.in_person", "1.当面申请数"),
    ("requests.fax", "2.传真申请数"), ("requests.online", "3.网络申请数"), ("requests.mail", "4.信函申请数"),
    ("requests.completed", "（二）申请办结数"), ("requests.on_time", "1.按时办结数"), ("requests.extended", "2.延期办结数"),
    ("answers.total", "（三）申请答复数"), ("answers.already_public", "1.属于已主动公开范围数"),
    ("answers.granted", "2.同意公开答复数"), ("answers.partly_granted", "3.同意部分公开答复数"),
    ("answers.denied", "4.不同意公开答复数"), ("answers.denied.state_secret", "其中：涉及国家秘密"),
    ("answers.denied.commercial_secret", "涉及商业秘密"), ("answers.denied.privacy", "涉及个人隐私"),
    ("answers.denied.security_stability", "危及国家安全、公共安全、经济安全和社会稳定"),
    ("answers.denied.not_gov_info", "不是《条例》所指政府信息"), ("answers.denied.other_law", "法律法规规定的其他情形"),
    ("answers.not_this_agency", "5.不属于本行政机关公开数"), ("answers.not_exist", "6.申请信息不存在数"),
    ("answers.correction", "7.告知作出更改补充数"), ("answers.other_channel", "8.告知通过其他途径办理数"),
    ("review.total", "四、行政复议数量"), ("review.upheld", "（一）维持具体行政行为数"),
    ("review.corrected", "（二）被依法纠错数"), ("review.other", "（三）其他情形数"),
    ("suit.total", "五、行政诉讼数量"), ("suit.upheld", "（一）维持具体行政行为或者驳回原告诉讼请求数"),
    ("suit.corrected", "（二）被依法纠错数"), ("suit.other", "（三）其他情形数"),
    ("complaints", "六、举报投诉数量"), ("fees.collected", "七、依申请公开信息收取的费用"),
    ("", "八、机构建设和保障经费情况"), ("staff.units", "（一）政府信息公开工作专门机构数"),
    ("staff.reading_points", "（二）设置政府信息公开查阅点数"), ("staff.total", "（三）从事政府信息公开工作人员数"),
    ("staff.full_time", "1.专职人员数"), ("staff.part_time", "2.兼职人员数"), ("budget", "（四）政府信息公开专项经费"),
    ("", "九、政府信息公开会议和培训情况"), ("meetings", "（一）召开政府信息公开工作会议或专题会议数"),
    ("trainings", "（二）举办各类培训班数"), ("trainees", "（三）接受培训人员数"),
]
OLD_2008_LABELS = {"proactive.total": "主动公开信息数", "proactive.website": "其中：网站公开信息数",
                   "requests.total": "受理依申请公开信息总数", "requests.in_person": "其中：当面申请数",
                   "requests.fax": "传真申请数", "requests.email": "电子邮件申请数", "requests.online": "网上申请数",
                   "requests.mail": "信函申请数", "answers.total": "对申请的答复数", "answers.granted": "其中：同意公开答复数",
                   "answers.partly_granted": "同意部分公开答复数", "answers.denied": "不予（否决）公开答复数",
                   "review.total": "行政复议数", "suit.total": "行政诉讼数", "complaints": "申诉/举报数",
                   "fees.collected": "收费金额", "fees.waived": "减免金额"}
OLD_UNITS = {"fees.collected": "万元", "fees.waived": "万元", "budget": "万元", "staff.units": "个",
             "staff.reading_points": "个", "staff.total": "人", "staff.full_time": "人", "staff.part_time": "人",
             "trainees": "人次", "response.interpretations": "篇", "meetings": "次", "trainings": "次",
             "response.hotspots": "次", "response.press": "次", "response.interviews": "次",
             **{c: "条" for c in ("proactive.total", "proactive.website", "proactive.normative_docs", "proactive.gazette",
                                 "proactive.weibo", "proactive.wechat", "proactive.other")}}


def _old_table(orng: random.Random, layout: str, cumulative: bool) -> dict[Key, Any]:
    """Figures of an old 统计表 that add up the way publishers' did (channels sum to the
    requests, outcomes to the answers); 历年累计 at least the year's figure."""
    scale = orng.choice([3, 12, 40, 150, 800])
    v: dict[str, int | float] = {}
    v["proactive.total"] = orng.randint(scale, 60 * scale)
    v["proactive.website"] = orng.randint(v["proactive.total"] // 2, v["proactive.total"])
    v["proactive.normative_docs"] = orng.randint(0, max(1, scale // 2))
    v["proactive.normative_issued"] = v["proactive.normative_docs"] + orng.randint(0, 5)
    for k in ("proactive.gazette", "proactive.weibo", "proactive.wechat", "proactive.other"):
        v[k] = orng.randint(0, v["proactive.total"] // 4)
    for k in ("response.hotspots", "response.press", "response.interviews", "response.interpretations"):
        v[k] = orng.randint(0, 30)
    channels = ["requests.in_person", "requests.fax", "requests.online", "requests.mail"] + (
        ["requests.email"] if layout == "2008" else [])
    for k in channels:
        v[k] = orng.randint(0, scale)
    v["requests.total"] = sum(v[k] for k in channels)
    v["requests.completed"] = v["requests.total"]
    v["requests.extended"] = orng.randint(0, v["requests.total"] // 5)
    v["requests.on_time"] = v["requests.completed"] - v["requests.extended"]
    v["answers.total"] = v["requests.total"]
    reasons = ["answers.denied.state_secret", "answers.denied.commercial_secret", "answers.denied.privacy",
               "answers.denied.security_stability", "answers.denied.not_gov_info", "answers.denied.other_law"]
    for k in reasons:
        v[k] = orng.randint(0, max(0, v["answers.total"] // 20))
    v["answers.denied"] = sum(v[k] for k in reasons)
    left = max(0, v["answers.total"] - v["answers.denied"])
    for k in ("answers.partly_granted", "answers.already_public", "answers.not_this_agency", "answers.not_exist",
              "answers.correction", "answers.other_channel"):
        v[k] = orng.randint(0, left // 8)
        left -= v[k]
    v["answers.granted"] = left
    for g in ("review", "suit"):
        parts = [orng.randint(0, 2) for _ in range(3)]
        v[f"{g}.upheld"], v[f"{g}.corrected"], v[f"{g}.other"] = parts
        v[f"{g}.total"] = sum(parts)
    v["complaints"] = orng.randint(0, 3)
    v["fees.collected"] = orng.choice([0, 0, 0, round(orng.uniform(0.01, 2), 2)])
    v["fees.waived"] = orng.choice([0, 0, round(orng.uniform(0.01, 1), 2)])
    v["staff.units"] = orng.randint(1, 3)
    v["staff.reading_points"] = orng.randint(1, 12)
    v["staff.full_time"], v["staff.part_time"] = orng.randint(0, 5), orng.randint(1, 20)
    v["staff.total"] = v["staff.full_time"] + v["staff.part_time"]
    v["budget"] = round(orng.uniform(0, 30), 1)
    v["meetings"], v["trainings"] = orng.randint(0, 12), orng.randint(0, 10)
    v["trainees"] = orng.randint(0, 400)
    rows = OLD_2008 if layout == "2008" else [c for c, _ in OLD_2014 if c]
    cells: dict[Key, Any] = {}
    for code in rows:
        cells[("old", code, "year")] = v[code]
        if cumulative:
            extra = orng.randint(0, 5 * max(1, int(v[code]))) if isinstance(v[code], int) else round(
                orng.uniform(0, 5), 2)
            cells[("old", code, "cumulative")] = round(v[code] + extra, 2) if isinstance(extra, float) else v[code] + extra
    return cells


def _fmt_old(v: int | float, unit: str | None) -> str:
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return str(int(v))


def old_table_model(spec: "ReportSpec") -> TModel:
    """The printed 统计表: 统计指标 | 单位 | 本年度 [| 历年累计]."""
    cum = "old_cumulative" in spec.variations
    head = ["统计指标", "单位", "本年度" if spec.layout.get("old_layout") == "2008" else "统计数"] + (
        ["历年累计"] if cum else [])
    rows = [[TCell(h, header=True) for h in head]]
    for code, label in _old_printed_rows(spec):
        if not code:
            rows.append([TCell(label, colspan=len(head), label=True)])
            continue
        line = [TCell(label, label=True), TCell(OLD_UNITS.get(code, "件")), TCell(spec.raw[("old", code, "year")])]
        if cum:
            line.append(TCell(spec.raw[("old", code, "cumulative")]))
        rows.append(line)
    return TModel(rows, [6.0, 1.0, 1.5] + ([1.5] if cum else []), header_rows=1, caption="附表：政府信息公开情况统计表")


def old_table_lines(spec: "ReportSpec", separator: str = "\t") -> list[str]:
    """The 统计表 as a text extraction prints it: a line per row, cells apart."""
    return [separator.join(c.text for c in row) for row in old_table_model(spec).rows]


def rule_instances(templates: dict[str, str]) -> list[tuple[str, int, str | None, str, list[Key], list[Key]]]:
    """Every reconciliation rule instance: (rule, table, row, col, parts, totals) where
    the rule says sum(parts) == sum(totals)."""
    out = []
    if "3" in templates:
        tpl = templates["3"]
        rows = [r.code for r in T.table3_rows(tpl)]
        results = list(T.t3_result_rows(tpl))
        for c in [x.code for x in T.T3_COLS]:
            out.append(("t3_balance", 3, None, c, [(3, "new", c), (3, "carried_in", c)],
                        [(3, "results_total", c), (3, "carried_out", c)]))
            out.append(("t3_results_sum", 3, "results_total", c, [(3, r, c) for r in results], [(3, "results_total", c)]))
        for r in rows:
            out.append(("t3_row_total", 3, r, "total", [(3, r, c) for c in _APPLICANTS], [(3, r, "total")]))
    if "4" in templates:
        for g in T.T4_GROUPS:
            out.append(("t4_total", 4, g.code, "total", [(4, g.code, c.code) for c in T.T4_COLS[:-1]], [(4, g.code, "total")]))
    return out


def rule_violations(spec: ReportSpec) -> list[tuple[str, int, str | None, str]]:
    """The rule instances the spec's figures break. Blanks count as zero, except opaque
    blanks, which make their instances uncheckable (skipped)."""
    bad = []
    for rule, table, row, col, parts, totals in rule_instances(spec.templates):
        if any(k in spec.opaque_blanks for k in parts + totals):
            continue
        lhs = sum(spec.cells.get(k) or 0 for k in parts)
        rhs = sum(spec.cells.get(k) or 0 for k in totals)
        if abs(lhs - rhs) > 1e-9:
            bad.append((rule, table, row, col))
    for (table, row, col), v in spec.cells.items():
        kind = T.col_kind(table, row, col)
        if v is not None and kind != "change" and v < 0:
            bad.append(("nonneg", table, row, col))
    return bad


def _break_rule(rng: random.Random, cells: dict[Key, Any], templates: dict[str, str], rule: str
                ) -> tuple[list[tuple[str, int, str | None, str]], set[Key]]:
    """Perturb the figures so that exactly one rule (possibly several of its instances,
    where the rules' linear dependence forces it) breaks. Returns (instances, touched)."""
    d = rng.randint(1, 9)
    if rule == "t4_total":
        g = rng.choice([x.code for x in T.T4_GROUPS])
        cells[(4, g, "total")] += d
        return [("t4_total", 4, g, "total")], {(4, g, "total")}
    if rule == "t3_balance":
        # new[c] and new[total] move together: the row sum still holds, the balance of
        # column c and of the total column cannot.
        c = rng.choice(_APPLICANTS)
        for k in ((3, "new", c), (3, "new", "total")):
            cells[k] += d
        return [("t3_balance", 3, None, c), ("t3_balance", 3, None, "total")], {(3, "new", c), (3, "new", "total")}
    if rule == "t3_results_sum":
        c = rng.choice(_APPLICANTS)
        touched = {(3, "results_total", c), (3, "results_total", "total"), (3, "new", c), (3, "new", "total")}
        for k in touched:
            cells[k] += d
        return [("t3_results_sum", 3, "results_total", c), ("t3_results_sum", 3, "results_total", "total")], touched
    if rule == "t3_row_total":
        # Two result rows' printed totals swap d between them: column sums still hold.
        results = list(T.t3_result_rows(templates["3"]))
        r1, r2 = rng.sample(results, 2)
        cells[(3, r1, "total")] += d
        if cells[(3, r2, "total")] >= d:
            cells[(3, r2, "total")] -= d
        else:
            cells[(3, r2, "total")] += d
            cells[(3, r1, "total")] -= 2 * d
            if cells[(3, r1, "total")] < 0:  # both rows too small: move d between new and carried_out instead
                cells[(3, r1, "total")] += d
                cells[(3, r2, "total")] -= d
                cells[(3, "new", "total")] += d
                cells[(3, "carried_out", "total")] += d
                r1, r2 = "new", "carried_out"
        rows = sorted({r1, r2}, key=[r.code for r in T.table3_rows(templates["3"])].index)
        return [("t3_row_total", 3, r, "total") for r in rows], {(3, r, "total") for r in rows}
    if rule == "nonneg":
        key = rng.choice([k for k in cells if k[0] == 2 and T.col_kind(*k) == "count"])
        cells[key] = -rng.randint(1, 9)
        return [("nonneg", 2, key[1], key[2])], {key}
    raise ValueError(f"unknown rule {rule!r}; one of {RULES}")


# --------------------------------------------------------------------------- printing numbers
_FW = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


def _fmt_int(v: int, sep: bool) -> str:
    return f"{v:,}" if sep and abs(v) >= 1000 else str(v)


def _printed(rng: random.Random, cells: dict[Key, Any], variations: set[str], layout: dict[str, Any],
             protected: set[Key], templates: dict[str, str]) -> tuple[dict[Key, Any], dict[Key, str], set[Key]]:
    """Decide how each cell is printed; blanks turn values into None."""
    values = dict(cells)
    raw: dict[Key, str] = {}
    opaque: set[Key] = set()
    blank_var = next((v for v in BLANK_MARKS if v in variations), None)
    p_blank = rng.uniform(0.5, 1.0)
    minus = layout.get("minus", "-")
    money_fmt = layout.get("money_decimals", "min")
    for key, v in cells.items():
        table, row, col = key
        kind = T.col_kind(table, row, col)
        sep = "thousands_sep" in variations and rng.random() < 0.8
        if kind == "money" and col == "amount":  # 2019 procurement: value in yuan
            if "money_units" in variations and v:
                if layout.get("procurement_unit") == "万元":
                    s = f"{v / 10000:.2f}".rstrip("0").rstrip(".") + "万元"
                else:
                    s = _fmt_int(int(v), sep) + "元"
            else:
                s = _fmt_int(int(v), sep)
        elif kind == "money":
            if v == 0:
                s = "0" if money_fmt == "min" else "0.00"
            else:
                s = f"{v:,.2f}" if sep and v >= 1000 else f"{v:.2f}"
                if money_fmt == "min" and "." in s:
                    s = s.rstrip("0").rstrip(".")
            if "money_units" in variations and v:
                s += "万元"
        elif kind == "change" and v < 0:
            s = minus + str(-v)
        else:
            s = _fmt_int(int(v), sep) if v >= 0 else "-" + str(-v)
        if "fullwidth_digits" in variations and rng.random() < 0.3:
            s = s.translate(_FW)
        raw[key] = s
        if blank_var and v == 0 and key not in protected and rng.random() < p_blank:
            raw[key] = BLANK_MARKS[blank_var]
            values[key] = None
    if "blank_total_col" in variations and "3" in templates:
        for r in T.t3_result_rows(templates["3"]):
            key = (3, r, "total")
            if key not in protected:
                raw[key] = ""
                values[key] = None
                opaque.add(key)
    if "fullwidth_digits" in variations and not any("０" <= ch <= "９" for s in raw.values() for ch in s):
        key = next(k for k, s in raw.items() if s and s[0].isdigit())
        raw[key] = raw[key].translate(_FW)
    return values, raw, opaque


# --------------------------------------------------------------------------- prose
def _section_titles(template: str | None, alt: bool) -> list[str]:
    if template is None:  # before 2019: the old structure, squeezed into six parts
        names = ["概述", "主动公开政府信息情况", "依申请公开政府信息情况", "因政府信息公开申请行政复议、提起行政诉讼的情况",
                 "存在的主要问题及改进措施", "其他需要报告的事项"]
    else:
        four = ("政府信息公开行政复议、行政诉讼情况" if template == "2021"
                else "因政府信息公开工作被申请行政复议、提起行政诉讼情况")
        five = "存在的主要问题及改进情况" if template == "2021" else "政府信息公开工作存在的主要问题及改进情况"
        names = ["总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况", four, five, "其他需要报告的事项"]
    nums = "一二三四五六"
    if alt:
        return [f"第{nums[i]}部分 {n}" for i, n in enumerate(names)]
    return [f"{nums[i]}、{n}" for i, n in enumerate(names)]


_S1_LEAD = [
    "{year}年，{agency}坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻落实《中华人民共和国政府信息公开条例》，围绕中心工作，不断加大政府信息公开力度，持续提升政务公开质量和实效。",
    "{year}年，在上级政务公开主管部门的指导下，{agency}认真落实政务公开工作要点，坚持以公开为常态、不公开为例外，推进决策、执行、管理、服务、结果公开。",
    "{year}年，{agency}严格落实《条例》各项要求，健全政务公开工作机制，依法做好主动公开、依申请公开和政策解读回应工作，切实保障人民群众知情权、参与权、表达权和监督权。",
]
_S1_PARTS = [
    ("（一）主动公开", [
        "全年通过政府门户网站主动公开政府信息{pub}条，其中政策文件{docs}件，政策解读{interp}篇。",
        "围绕重大决策、财政预决算、重点项目建设、民生保障等重点领域，及时准确公开相关信息，主动回应社会关切。",
        "严格落实解读材料与政策文件同步起草、同步审签、同步发布制度，采用图解、视频、问答等形式开展政策解读。",
    ]),
    ("（二）依申请公开", [
        "全年共收到政府信息公开申请{new}件，上年结转{carried_in}件，办结{done}件，均在法定期限内予以答复。",
        "进一步规范依申请公开受理、登记、审查、答复等环节，做到依申请公开办理全流程留痕、可追溯。",
        "全年因政府信息公开工作被申请行政复议{review}件，提起行政诉讼{suits}件。",
    ]),
    ("（三）政府信息管理", [
        "落实公文公开属性源头认定制度，在拟制公文时明确公开属性，严格执行信息发布前保密审查和“三审三校”制度。",
        "动态调整主动公开基本目录，对现行有效的规范性文件进行集中清理并在门户网站统一公开。",
    ]),
    ("（四）平台建设", [
        "加强政府门户网站信息公开专栏建设，优化栏目设置，整合政务新媒体账号，提升网站集约化水平。",
        "依托政务服务平台、政务新媒体和政务公开专区等渠道，拓展信息公开的覆盖面和便利度。",
    ]),
    ("（五）监督保障", [
        "将政务公开工作纳入年度绩效考核，定期开展网站和政务新媒体检查，对发现的问题及时督促整改。",
        "组织开展《条例》专题培训，提升工作人员依法公开意识和业务能力，全年未发生因政府信息公开工作被责任追究的情况。",
    ]),
]
_S5 = [
    "{year}年，{agency}政府信息公开工作取得一定成效，但对照上级要求和群众期盼，仍存在一些不足：一是主动公开的深度和广度有待拓展；二是政策解读形式还不够丰富；三是依申请公开办理的规范化水平有待进一步提高。",
    "下一步，将从以下方面加以改进：一是深化重点领域信息公开，及时回应社会关切；二是加强依申请公开答复的法律审核，降低行政复议、行政诉讼风险；三是加强业务培训，提升工作人员业务水平。",
    "针对存在的问题，我们将进一步健全信息公开工作机制，强化政策解读和回应，加强平台建设和监督考核，不断提升政府信息公开工作质量。",
]
_S6 = [
    "本年度未收取信息处理费。",
    "依据《政府信息公开信息处理费管理办法》，本机关{year}年度未向申请人收取信息处理费。",
    "本年度发出收费通知的件数和总金额以及实际收取的总金额均为0。",
    "{year}年度政务公开工作要点落实情况：已按要求逐项落实，无其他需要报告的事项。",
    "无其他需要报告的事项。",
]


def _sections(rng: random.Random, spec_cells: dict[Key, Any], agency: str, year: int, template: str | None,
              split_chars: int) -> list[str]:
    def g(k: Key) -> int:
        return int(spec_cells.get(k) or 0)

    if template is None:  # the figures the old 统计表 prints, told again in the prose
        new = g(("old", "requests.total", "year"))
        facts = {"new": new, "carried_in": 0, "done": g(("old", "answers.total", "year")),
                 "review": g(("old", "review.total", "year")), "suits": g(("old", "suit.total", "year"))}
    else:
        facts = {"new": g((3, "new", "total")), "carried_in": g((3, "carried_in", "total")),
                 "done": g((3, "results_total", "total")),
                 "review": g((4, "review", "total")),
                 "suits": g((4, "suit_direct", "total")) + g((4, "suit_after_review", "total"))}
    facts.update(year=year, agency=agency, pub=rng.randint(150, 9000), docs=rng.randint(5, 300), interp=rng.randint(3, 80))
    if template is None:
        facts["pub"] = g(("old", "proactive.total", "year"))
    s1 = [rng.choice(_S1_LEAD)]
    for head, pool in _S1_PARTS:
        s1.append(head)
        s1.append("".join(rng.sample(pool, k=rng.randint(1, len(pool)))))
    s1 = "\n".join(s1).format(**facts)
    if template is None:
        s2 = ("{year}年，本机关主动公开政府信息{pub}条，其中规范性文件{docs}件。主动公开的信息主要包括机构职能、政策法规、"
              "规划计划、财政预决算、行政许可、行政处罚等内容。").format(**facts)
        s3 = ("{year}年共受理政府信息公开申请{new}件，其中当面申请{a}件，网络申请{b}件，信函申请{c}件。已答复{done}件，"
              "其中同意公开{d}件。").format(
                  a=g(("old", "requests.in_person", "year")), b=g(("old", "requests.online", "year")),
                  c=g(("old", "requests.mail", "year")), d=g(("old", "answers.granted", "year")), **facts)
        s4 = "{year}年，本机关因政府信息公开申请被申请行政复议{review}件，被提起行政诉讼{suits}件。".format(**facts)
    else:
        s2 = ""
        s3 = ""
        if split_chars:  # lead text long enough to push table 3 ~40% down a fresh page
            parts = [
                "{year}年，{agency}共新收政府信息公开申请{new}件，上年结转{carried_in}件，本年度办结{done}件。",
                "申请内容主要涉及征地拆迁、规划建设、财政资金、行政执法等方面，申请人以自然人为主。",
                "对每一件申请均严格按照《条例》规定的程序和时限办理，逐件登记、逐件审查、逐件答复，答复文书做到要素齐全、依据充分、说理清楚。",
                "对申请内容不明确的，及时一次性告知申请人作出补正；对不属于本机关负责公开的，告知申请人负责公开该政府信息的行政机关名称和联系方式。",
                "同时加强与申请人的沟通，了解申请人的实际诉求，对能够通过其他途径解决的问题，积极引导申请人通过信访、投诉等渠道反映。",
                "依申请公开工作中发现的具有普遍性的信息，及时转为主动公开，减少重复申请。",
            ]
            text = ""
            k = 0
            while len(text) < split_chars:
                text += parts[k % len(parts)].format(**facts)
                k += 1
            cut = text.find("。", len(text) // 2) + 1  # two paragraphs
            s3 = text[:cut] + "\n" + text[cut:] if 0 < cut < len(text) else text
        elif rng.random() < 0.3:
            s3 = "本年度收到和处理政府信息公开申请情况如下：".format(**facts)
        s4 = ""
    s5 = "\n".join(rng.sample(_S5, k=rng.randint(1, 3))).format(**facts)
    s6 = rng.choice(_S6).format(**facts)
    return [s1, s2, s3, s4, s5, s6]


# --------------------------------------------------------------------------- the spec
def _pick_variations(rng: random.Random) -> set[str]:
    v: set[str] = set()
    if rng.random() < _P["split"]:
        v.add(rng.choice(["split_repeat_header", "split_no_header"]))
    if rng.random() < _P["blank"]:
        v.add(rng.choice(sorted(BLANK_MARKS)))
    for name in ("narrow_labels", "blank_total_col", "fullwidth_digits", "thousands_sep", "money_units",
                 "negative_change", "t3_no_header", "merged_cells", "t2_one_table", "t2_heading_outside", "t2_misaligned",
                 "mixed_templates",
                 "year_first_title", "title_two_lines", "alt_numbering", "page_frame", "gbk"):
        if rng.random() < _P[name]:
            v.add(name)
    return v


def _pick_title_variations(trng: random.Random) -> set[str]:
    v: set[str] = set()
    if trng.random() < _P_TITLE["title_lines"]:
        v.add(trng.choice(["title_two_lines", "title_three_lines"]))
    for name in ("title_abbrev", "title_in_table", "chrome_other_organ", "meta_title_generic", "compiled_by_office"):
        if trng.random() < _P_TITLE[name]:
            v.add(name)
    return v


def _applicable(v: set[str], year: int, template: str | None) -> set[str]:
    """Drop variations that cannot apply to this report, so spec.variations tells the truth."""
    unknown = v - set(VARIATIONS)
    if unknown:
        raise ValueError(f"unknown variations {sorted(unknown)}; known: {sorted(VARIATIONS)}")
    out = set(v)
    for group in _EXCLUSIVE:
        present = [g for g in group if g in out]
        for extra in present[1:]:
            out.discard(extra)
    if template is None:
        return out & (_TITLE_VARIATIONS | {"gbk", "page_frame", "old_cumulative"}) - (
            set() if year <= 2013 else {"old_cumulative"})
    if template != "2021":
        out.discard("mixed_templates")
    else:
        out.discard("negative_change")
    if "t2_misaligned" in out:
        out.add("t2_one_table")
    if "t2_one_table" in out:
        out.discard("t2_heading_outside")
    if "t3_no_header" in out and "split_repeat_header" in out:
        out.discard("split_repeat_header")
        out.add("split_no_header")
    return out


def template_for_year(year: int) -> str | None:
    if year < 2019:
        return None
    return "2019" if year < 2021 else "2021"


def random_report(seed: int, *, year: int | None = None, template: str | None = None, agency: str | None = None,
                  consistent: bool = True, variations: Iterable[str] | None = None,
                  broken_rule: str | None = None) -> ReportSpec:
    """A report drawn deterministically from `seed`.

    year: 2015–2026 (default drawn: mostly 2019–2024; before 2019 no tables, free text).
    template: "2019" | "2021" to force the table layout (default by year).
    variations: force exactly these (minus those that cannot apply); default drawn from seed.
    consistent=False breaks exactly one reconciliation rule (`broken_rule`, or drawn) and
    records its instances in spec.broken_rules.
    """
    rng = random.Random(f"nianbao-{seed}")
    if year is None:
        year = rng.choices(list(range(2015, 2026)), weights=[1, 1, 1, 1, 3, 3, 4, 4, 4, 4, 3])[0]
    if template is None:
        template = template_for_year(year)
    elif year < 2019:
        raise ValueError("reports before 2019 have no tables: no template applies")
    if agency is None:
        agency, region = random_agency(rng)
    else:
        region = ""
    trng = random.Random(f"nianbao-title-{seed}")
    drawn = (_pick_variations(rng) | _pick_title_variations(trng)) if variations is None else set(variations)
    var = _applicable(drawn, year, template)

    layout: dict[str, Any] = {
        "minus": rng.choice(["-", "－"]),
        "money_decimals": rng.choice(["min", "fixed"]),
        "procurement_unit": rng.choice(["元", "万元"]),
        "body_pt": rng.choice([12, 12, 14, 16]),
        "table_pt": rng.choice([9, 10, 10.5]),
        "corner_note": rng.random() < 0.7,
        "font": rng.choice(["仿宋_GB2312", "仿宋", "宋体"]),
        "sign_off": rng.random() < 0.6,
        "portal": rng.choice(["TRS", "Hanweb", "jcms"]),
        "index_no": f"{rng.randint(10**8, 10**9 - 1)}/{year + 1}-{rng.randint(10000, 99999)}",
    }
    published = _dt.date(year + 1, 1, 10) + _dt.timedelta(days=rng.randint(0, 80))
    titled = _abbreviated(agency) if "title_abbrev" in var else agency
    if titled == agency:
        var.discard("title_abbrev")
    title_lines = _title_lines(trng, titled, year, var)
    title = "".join(title_lines)

    templates: dict[str, str] = {}
    cells: dict[Key, Any] = {}
    broken: list[tuple[str, int, str | None, str]] = []
    protected: set[Key] = set()
    if template is not None:
        t3 = "2019" if "mixed_templates" in var else template
        templates = {"2": template, "3": t3, "4": template}
        scale = rng.choice([2, 8, 30, 120, 600])
        raw_cells = {**_table2(rng, template, scale, var), **_table3(rng, t3, scale), **_table4(rng, scale)}
        for table in (2, 3, 4):  # template print order
            for row, col, _ in T.expected_cells(table, templates[str(table)]):
                cells[(table, row, col)] = raw_cells[(table, row, col)]
        if not consistent:
            rule = broken_rule or rng.choice(list(RULES))
            broken, protected = _break_rule(rng, cells, templates, rule)
    elif not consistent:
        raise ValueError("reports before 2019 have no tables: no rule to break")
    else:  # before 2019: the older 统计表 (pipeline/old_template.py), figures of its own stream
        orng = random.Random(f"nianbao-old-{seed}")
        if variations is None and year <= 2013 and orng.random() < 0.6:
            var.add("old_cumulative")
        layout["old_layout"] = "2008" if year <= 2013 else "2014"
        cells = _old_table(orng, layout["old_layout"], "old_cumulative" in var)
        templates = {"old": layout["old_layout"]}
    modern = {k: v for k, v in cells.items() if k[0] != "old"}
    values, raw, opaque = _printed(rng, modern, var, layout, protected, templates)
    for k, v in cells.items():
        if k[0] == "old":
            values[k], raw[k] = v, _fmt_old(v, OLD_UNITS.get(k[1], "件"))
    checkable = {(r, t, row, col) for r, t, row, col, parts, totals in rule_instances(templates)
                 if not opaque & set(parts + totals)}
    broken = [b for b in broken if b[0] == "nonneg" or b in checkable]
    split_chars = 0
    if var & {"split_repeat_header", "split_no_header"}:
        # ~40% of a page of body text: 440pt of line, 680pt of page, line height 1.6
        pt = layout["body_pt"]
        split_chars = int((440 / pt) * (0.4 * 680 / (pt * 1.6)))
    sections = _sections(rng, cells, agency, year, template, split_chars)
    contents = ("概述、主动公开政府信息情况、依申请公开政府信息情况、政府信息公开的收费及减免情况、因政府信息公开申请行政复议和"
                "提起行政诉讼的情况、存在的主要问题及改进措施、其他需要报告的事项" if template is None else
                "总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、"
                "存在的主要问题及改进情况、其他需要报告的事项")
    compiler = _office_of(agency) if "compiled_by_office" in var else agency
    intro = (f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和上级政务公开主管部门的要求，由{compiler}编制。"
             f"全文包括{contents}。本报告所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。"
             f"如对本报告有疑问，请与{compiler}联系。")
    layout["host"] = _host_of(region or agency)
    layout["sidebar"] = [f"{random_agency(trng)[0]}{year - k}年政府信息公开工作年度报告" for k in (0, 1, 2)]
    spec = ReportSpec(seed=seed, agency=agency, report_year=year, templates=templates, cells=values, raw=raw,
                      sections=sections, section_titles=_section_titles(template, "alt_numbering" in var),
                      variations=var, title=title, published=published, region=region, intro=intro,
                      broken_rules=broken, opaque_blanks=opaque, layout=layout, agency_titled=titled,
                      title_lines=title_lines)
    return spec


_REPORT_NAMES = [("政府信息公开工作年度报告", 8), ("政府信息公开年度报告", 1), ("政府信息公开工作年报", 1)]


def _title_lines(trng: random.Random, titled: str, year: int, var: set[str]) -> list[str]:
    """The title as printed, line by line: where it wraps, and the report's own name."""
    name = trng.choices([n for n, _ in _REPORT_NAMES], weights=[w for _, w in _REPORT_NAMES])[0]
    yr = f"{year}{trng.choice(['年', '年', '年度'])}"
    first = "year_first_title" in var
    if "title_two_lines" in var:
        return [yr, titled + name] if first else [titled, yr + name]
    if "title_three_lines" in var:
        cut = name.index("公开") + 2
        return [yr + titled, name[:cut], name[cut:]] if first else [titled, yr + name[:cut], name[cut:]]
    return [yr + titled + name] if first else [titled + yr + name]


def expected_place(spec: ReportSpec) -> tuple[str | None, str | None, str | None] | None:
    """(province, city, county) the spec's agency sits in; None when the agency was given
    by the caller (its place is not the generator's to know)."""
    if not spec.region:
        return None
    for prov, cities in _PLACES.items():
        if not spec.region.startswith(prov):
            continue
        rest = spec.region[len(prov):]
        for city, counties in cities.items():
            if rest.startswith(city):
                county = rest[len(city):] or None
                return prov, city, county if county in counties else None
        return prov, None, None
    return None


def _abbreviated(agency: str) -> str:
    """「淮安市洪泽区人民政府」 → 「洪泽区人民政府」: a district's or county's organ without its
    city, as many titles print it. Other agencies stay as they are."""
    for cities in _PLACES.values():
        for city, counties in cities.items():
            for county in counties:
                if agency.startswith(city + county) and county.endswith(("区", "县")):
                    return agency[len(city):]
    return agency


def _office_of(agency: str) -> str:
    """The office that compiles an organ's report (人民政府 → 人民政府办公室, 局 → 局办公室)."""
    return agency if agency.endswith(("办公室", "办公厅")) else agency + "办公室"


def _host_of(region: str) -> str:
    """The organ that runs the portal hosting the report: the city's (or province's)
    government office, which the page's footer names as 主办单位."""
    for prov, cities in _PLACES.items():
        for city in cities:
            if city in region:
                return city + "人民政府办公室"
        if region.startswith(prov):
            return prov + "人民政府办公厅"
    return "某某市人民政府办公室"


def expected_cells(spec: ReportSpec) -> list[dict[str, Any]]:
    """The answer key, in the format of samples/reports/*.expected.json."""
    return [{"table": t, "row": r, "col": c, "value": v} for (t, r, c), v in spec.cells.items()]


# --------------------------------------------------------------------------- table models
@dataclass
class TCell:
    text: str
    rowspan: int = 1
    colspan: int = 1
    header: bool = False
    label: bool = False  # a row label (left aligned); else centred


@dataclass
class TModel:
    rows: list[list[TCell]]
    widths: list[float]  # relative column widths
    header_rows: int = 0  # leading rows that repeat on a new page (0: no repetition)
    caption: str = ""  # text printed just above the table (block heading of a per-block table 2)


def _spans(n: int, slots: int) -> list[int]:
    """Spread n columns over `slots` grid positions."""
    if n == slots:
        return [1] * n
    base = [1] * n
    base[-1] += slots - n
    return base


def _compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    """Every way to write `total` as `parts` positive spans, in order."""
    if parts == 1:
        return [(total,)]
    return [(first,) + rest for first in range(1, total - parts + 2) for rest in _compositions(total - first, parts - 1)]


def _table2_models(spec: ReportSpec) -> list[TModel]:
    layout = T.table2_layout(spec.templates["2"])
    label_w = 2.2 if "narrow_labels" not in spec.variations else 1.0
    models: list[TModel] = []
    if "t2_one_table" in spec.variations:
        misaligned = "t2_misaligned" in spec.variations
        slots = max(len(cols) for _, cols in layout.values()) + (1 if misaligned else 0)
        rng = random.Random(f"nianbao-t2-{spec.seed}")
        rows: list[list[TCell]] = []
        for block, (brows, cols) in layout.items():
            head_spans = data_spans = _spans(len(cols), slots)
            options = _compositions(slots, len(cols))
            if misaligned and len(options) > 1:
                # Shanghai 2019: header and data cells of a block split the grid differently
                head_spans, data_spans = rng.sample(options, 2)
            rows.append([TCell(block, colspan=slots + 1, header=True)])
            rows.append([TCell("信息内容", header=True)] +
                        [TCell(c.label, colspan=s, header=True) for c, s in zip(cols, head_spans)])
            for r in brows:
                rows.append([TCell(r.label, label=True)] +
                            [TCell(spec.raw[(2, r.code, c.code)], colspan=s) for c, s in zip(cols, data_spans)])
        models.append(TModel(rows, [label_w] + [1.3] * slots))
        return models
    outside = "t2_heading_outside" in spec.variations
    for block, (brows, cols) in layout.items():
        rows = [] if outside else [[TCell(block, colspan=len(cols) + 1, header=True)]]
        rows.append([TCell("信息内容", header=True)] + [TCell(c.label, header=True) for c in cols])
        for r in brows:
            rows.append([TCell(r.label, label=True)] + [TCell(spec.raw[(2, r.code, c.code)]) for c in cols])
        models.append(TModel(rows, [label_w] + [3.9 / len(cols)] * len(cols), caption=block if outside else ""))
    return models


_CORNER = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def _table3_model(spec: ReportSpec) -> TModel:
    tpl = spec.templates["3"]
    rows_def = T.table3_rows(tpl)
    merged = "merged_cells" in spec.variations
    narrow = "narrow_labels" in spec.variations
    data_cols = [c.code for c in T.T3_COLS]
    nums = lambda code: [TCell(spec.raw[(3, code, c)]) for c in data_cols]  # noqa: E731
    rows: list[list[TCell]] = []
    corner = _CORNER if spec.layout.get("corner_note") else ""
    if merged:
        nlab = 3
        header = [
            [TCell(corner, rowspan=3, colspan=3, header=True), TCell("申请人情况", colspan=7, header=True)],
            [TCell("自然人", rowspan=2, header=True), TCell("法人或其他组织", colspan=5, header=True),
             TCell("总计", rowspan=2, header=True)],
            [TCell(c.label, header=True) for c in T.T3_COLS[1:6]],
        ]
    else:
        nlab = 1
        header = [[TCell(corner or "项目", header=True)] + [TCell(c.label, header=True) for c in T.T3_COLS]]
    if "t3_no_header" not in spec.variations:
        rows += header
    codes = [r.code for r in rows_def]
    n_results = codes.index("results_total") - codes.index("granted") + 1
    seen_blocks: set[str] = set()
    for r in rows_def:
        if not merged:
            text = r.label
            if r.block.startswith("（") and r.block not in seen_blocks:
                text = r.block + r.label
            seen_blocks.add(r.block)
            rows.append([TCell(text, label=True)] + nums(r.code))
            continue
        lead: list[TCell] = []
        if r.code == "granted":
            lead.append(TCell("三、本年度办理结果", rowspan=n_results, label=True))
        if r.block == "":
            lead.append(TCell(r.label, colspan=3, label=True))
        elif r.block == "三、本年度办理结果":
            lead.append(TCell(r.label, colspan=2, label=True))
        else:
            if r.block not in seen_blocks:
                size = sum(1 for x in rows_def if x.block == r.block)
                lead.append(TCell(r.block, rowspan=size, label=True))
            lead.append(TCell(r.label, label=True))
        seen_blocks.add(r.block)
        rows.append(lead + nums(r.code))
    if merged:
        widths = [0.45, 1.0, 2.4] if not narrow else [0.3, 0.6, 1.1]
    else:
        widths = [3.6] if not narrow else [1.6]
    header_rows = len(header) if ("split_repeat_header" in spec.variations and "t3_no_header" not in spec.variations) else 0
    assert nlab == len(widths)
    return TModel(rows, widths + [0.75] * 7, header_rows=header_rows)


def _table4_model(spec: ReportSpec) -> TModel:
    res = [c.label for c in T.T4_COLS]
    rows = [
        [TCell("行政复议", colspan=5, header=True), TCell("行政诉讼", colspan=10, header=True)],
        [TCell(x, rowspan=2, header=True) for x in res] +
        [TCell("未经复议直接起诉", colspan=5, header=True), TCell("复议后起诉", colspan=5, header=True)],
        [TCell(x, header=True) for x in res * 2],
        [TCell(spec.raw[(4, g.code, c.code)]) for g in T.T4_GROUPS for c in T.T4_COLS],
    ]
    return TModel(rows, [1.0] * 15)


def table_models(spec: ReportSpec) -> dict[int, list[TModel]]:
    """The printed tables (abstract, shared by every renderer), by section number; the
    old 统计表 is annexed to the last section."""
    if not spec.has_tables:
        return {}
    if "old" in spec.templates:
        return {6: [old_table_model(spec)]}
    return {2: _table2_models(spec), 3: [_table3_model(spec)], 4: [_table4_model(spec)]}


# --------------------------------------------------------------------------- HTML
def _esc(s: str) -> str:
    return _html.escape(s, quote=True)


def _html_table(m: TModel, total_px: int, font_pt: float | None = None) -> str:
    tw = sum(m.widths)
    # Widths per grid column (colgroup: LibreOffice ignores cell widths under spans);
    # a cell's width is the sum of the columns it spans.
    out = [f'<table border="1" cellspacing="0" cellpadding="3" width="{total_px}" '
           f'style="border-collapse:collapse;width:{total_px}px;margin:0 auto;">']
    out.append("<colgroup>" + "".join(f'<col width="{int(total_px * w / tw)}">' for w in m.widths) + "</colgroup>")
    pstyle = f' style="font-size:{font_pt}pt"' if font_pt else ""
    if m.header_rows:
        out.append("<thead>")
    occupied: dict[tuple[int, int], bool] = {}
    for i, row in enumerate(m.rows):
        if m.header_rows and i == m.header_rows:
            out.append("</thead><tbody>")
        elif i == 0 and not m.header_rows:
            out.append("<tbody>")
        out.append("<tr>")
        c = 0
        for cell in row:
            while occupied.get((i, c)):
                c += 1
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    occupied[(i + dr, c + dc)] = True
            w = int(total_px * sum(m.widths[c:c + cell.colspan]) / tw)
            c += cell.colspan
            tag = "th" if (cell.header and m.header_rows and i < m.header_rows) else "td"
            attrs = []
            if cell.rowspan > 1:
                attrs.append(f'rowspan="{cell.rowspan}"')
            if cell.colspan > 1:
                attrs.append(f'colspan="{cell.colspan}"')
            attrs.append(f'width="{w}"')
            align = "left" if cell.label else "center"
            style = "border:1px solid #000;" + ("font-weight:bold;" if cell.header else "")
            text = _esc(cell.text) if cell.text else "&nbsp;"
            out.append(f'<{tag} {" ".join(attrs)} align="{align}" valign="middle" style="{style}">'
                       f'<p align="{align}"{pstyle}>{text}</p></{tag}>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _paras_html(text: str, indent: bool = True) -> str:
    out = []
    for p in text.split("\n"):
        if not p:
            continue
        heading = p.startswith("（") and len(p) < 12
        style = "text-indent:2em;" + ("font-weight:bold;" if heading else "")
        out.append(f'<p style="{style}">{_esc(p)}</p>')
    return "".join(out)


def _html_body(spec: ReportSpec, *, for_print: bool) -> str:
    """The report itself: title, intro, six sections with their tables."""
    parts = []
    size = "20pt" if for_print else "18px"
    title_html = "<br/>".join(_esc(x) for x in spec.title_lines)
    style = f'align="center" style="text-align:center;font-size:{size};font-weight:bold;"'
    if "title_in_table" in spec.variations:
        parts.append(f'<table class="title" width="100%"><tr><td {style}>{title_html}</td></tr></table>')
    else:
        parts.append(f'<p {style}>{title_html}</p>')
    if not for_print:
        parts.append(f'<p align="center" style="text-align:center">发布日期：{spec.published.isoformat()}</p>')
    parts.append(_paras_html(spec.intro))
    models = table_models(spec)
    width = 600
    split = bool(spec.variations & {"split_repeat_header", "split_no_header"})
    for i, (head, text) in enumerate(zip(spec.section_titles, spec.sections), start=1):
        brk = ' style="page-break-before:always;font-weight:bold;"' if (for_print and split and i == 3) else ' style="font-weight:bold;"'
        parts.append(f"<p{brk}>{_esc(head)}</p>")
        parts.append(_paras_html(text))
        for m in models.get(i, []):
            if m.caption:
                parts.append(f'<p align="center">{_esc(m.caption)}</p>')
            parts.append(_html_table(m, width, spec.layout.get("table_pt") if for_print else None))
    if spec.layout.get("sign_off"):
        parts.append(f'<p align="right" style="text-align:right">{_esc(spec.agency)}</p>')
        d = spec.published
        parts.append(f'<p align="right" style="text-align:right">{d.year}年{d.month}月{d.day}日</p>')
    return "\n".join(parts)


def render_html(spec: ReportSpec, *, full_page: bool = True, encoding: str | None = None) -> bytes:
    """The report as a portal detail page (full_page) or as the bare article body.

    encoding: "utf-8" or "gbk"; default GBK when the spec has the "gbk" variation.
    """
    enc = encoding or ("gbk" if "gbk" in spec.variations else "utf-8")
    body = _html_body(spec, for_print=False)
    if not full_page:
        return f'<div class="article-content">\n{body}\n</div>\n'.encode(enc, errors="xmlcharrefreplace")
    charset = "gb2312" if enc.lower() in ("gbk", "gb2312", "gb18030") and spec.seed % 2 else enc
    pub = spec.published.isoformat()
    # Portal chrome. Under chrome_other_organ it names the organ running the portal (the
    # city's government office), its site, and other agencies' reports in a sidebar
    # before the article: none of it is the report's agency or title.
    other = "chrome_other_organ" in spec.variations
    host = spec.layout.get("host", "") if other else spec.agency
    site = (host.replace("人民政府办公室", "").replace("人民政府办公厅", "") if other else (spec.region or spec.agency)) \
        + "人民政府门户网站"
    generic = "meta_title_generic" in spec.variations
    sidebar = "".join(f'<li><a href="/xxgk/ndbg/{k}.html">{_esc(t)}</a></li>'
                      for k, t in enumerate(spec.layout.get("sidebar", []))) if other else ""
    page = f"""<!DOCTYPE html>
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{_esc(site if generic else spec.title + "_" + site)}</title>
<meta name="SiteName" content="{_esc(site)}">
<meta name="ColumnName" content="政府信息公开年报">
<meta name="ArticleTitle" content="{_esc(meta_title(spec))}">
<meta name="PubDate" content="{pub} 09:00">
<meta name="ContentSource" content="{_esc(host)}">
</head><body>
<div class="header"><h1>{_esc(site)}</h1><a href="/">首页</a> | <a href="/xxgk/">政府信息公开</a> | <a href="/xxgk/ndbg/">政府信息公开年报</a></div>
<div class="location">当前位置：<a href="/">首页</a> &gt; <a href="/xxgk/">政府信息公开</a> &gt; 政府信息公开年报</div>
{f'<div class="side"><h3>相关年报</h3><ul>{sidebar}</ul></div>' if sidebar else ""}
<table class="xxgk-info"><tr><td>索引号：{_esc(spec.layout.get('index_no', ''))}</td><td>发布机构：{_esc(host)}</td></tr>
<tr><td>名称：{_esc(spec.title)}</td><td>发布日期：{pub}</td></tr></table>
<div class="article">
<div class="article-content">
{body}
</div></div>
<div class="footer">主办单位：{_esc(host)}　承办：{_esc(host)}信息中心　网站标识码：{spec.seed % 10**10:010d}</div>
</body></html>
"""
    return page.encode(enc, errors="xmlcharrefreplace")


def meta_title(spec: ReportSpec) -> str:
    """The title a document's metadata carries: the real one, or (meta_title_generic)
    the generic name publishers leave there."""
    return "政府信息公开工作年度报告" if "meta_title_generic" in spec.variations else spec.title


def render_text(spec: ReportSpec, *, separator: str = "\t", run_together: tuple[str, ...] = ()) -> bytes:
    """The report as text extracted from a PDF: a line per paragraph and per table row,
    cells apart by `separator`. Rows named in `run_together` (old 统计表 row codes) print
    their 本年度 and 历年累计 with nothing between, as flattened extractions do."""
    out = list(spec.title_lines) + [spec.intro]
    models = table_models(spec)
    for i, (head, text) in enumerate(zip(spec.section_titles, spec.sections), start=1):
        out.append(head)
        out += [p for p in text.split("\n") if p]
        for m in models.get(i, []):
            if m.caption:
                out.append(m.caption)
            for row in m.rows:
                cells = [c.text for c in row]
                code = next((c for c, label in _old_printed_rows(spec) if label == row[0].text), None)
                if code in run_together and len(cells) == 4:
                    cells = cells[:2] + [cells[2] + cells[3]]
                out.append(separator.join(cells))
    if spec.layout.get("sign_off"):
        d = spec.published
        out += [spec.agency, f"{d.year}年{d.month}月{d.day}日"]
    return "\n".join(out).encode("utf-8")


def _old_printed_rows(spec: ReportSpec) -> list[tuple[str, str]]:
    if spec.layout.get("old_layout") == "2008":
        return [(c, OLD_2008_LABELS[c]) for c in OLD_2008]
    return OLD_2014 if spec.layout.get("old_layout") else []


def _html_print_document(spec: ReportSpec) -> bytes:
    """The standalone document a publisher prints to PDF (no portal chrome)."""
    pt = spec.layout.get("body_pt", 12)
    tpt = spec.layout.get("table_pt", 10)
    font = "Noto Serif CJK SC" if spec.layout.get("font") != "宋体" else "Noto Sans CJK SC"
    css = (f"body{{font-family:'{font}',serif;font-size:{pt}pt;}} p{{margin:0.2em 0;line-height:1.5;}}"
           f"table{{border-collapse:collapse;font-size:{tpt}pt;}} td,th{{border:1px solid #000;padding:2px;}}"
           f"td p,th p{{margin:0;line-height:1.2;text-indent:0;}}")
    doc = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{_esc(meta_title(spec))}</title>'
           f"<style>{css}</style></head><body>{_html_body(spec, for_print=True)}</body></html>")
    return doc.encode("utf-8")


# --------------------------------------------------------------------------- DOCX
def render_docx(spec: ReportSpec) -> bytes:
    """The report as a Word file, tables with real merges (gridSpan / vMerge) and borders."""
    return _render_docx(spec, installed_fonts=False)


# Fonts publishers name (仿宋_GB2312, 方正小标宋简体, 黑体) are not installed here; LibreOffice
# finds a substitute for each run, which doubles conversion time. Documents printed to
# PDF name installed fonts instead: the PDF looks the same.
_INSTALLED = {"serif": "Noto Serif CJK SC", "sans": "Noto Sans CJK SC"}


def _render_docx(spec: ReportSpec, installed_fonts: bool) -> bytes:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT, WD_CELL_VERTICAL_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    doc.core_properties.title = meta_title(spec)
    doc.core_properties.author = spec.agency
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    sec.top_margin = sec.bottom_margin = Cm(3.0)
    sec.left_margin = sec.right_margin = Cm(2.6)
    font = spec.layout.get("font", "仿宋_GB2312")
    title_font, head_font = "方正小标宋简体", "黑体"
    if installed_fonts:
        font, title_font, head_font = _INSTALLED["serif"], _INSTALLED["serif"], _INSTALLED["sans"]

    def set_font(style_or_run, name: str, size: float | None = None, bold: bool | None = None):
        f = style_or_run.font
        f.name = name
        if size:
            f.size = Pt(size)
        if bold is not None:
            f.bold = bold
        rpr = style_or_run.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.insert(0, fonts)
        fonts.set(qn("w:eastAsia"), name)

    set_font(doc.styles["Normal"], font, spec.layout.get("body_pt", 12))
    from docx.enum.style import WD_STYLE_TYPE
    cell_style = doc.styles.add_style("表格文字", WD_STYLE_TYPE.PARAGRAPH)
    cell_style.base_style = doc.styles["Normal"]
    set_font(cell_style, font, spec.layout.get("table_pt", 10))
    cell_style.paragraph_format.space_after = Pt(0)
    if "page_frame" in spec.variations:
        borders = OxmlElement("w:pgBorders")
        borders.set(qn("w:offsetFrom"), "text")
        for side in ("top", "left", "bottom", "right"):
            b = OxmlElement(f"w:{side}")
            for k, v in (("val", "single"), ("sz", "8"), ("space", "4"), ("color", "000000")):
                b.set(qn(f"w:{k}"), v)
            borders.append(b)
        sectpr = sec._sectPr
        anchor = sectpr.find(qn("w:pgMar"))
        anchor.addnext(borders)

    def para(text: str, *, align=None, bold=False, size=None, indent=True, page_break=False, fnt=None):
        p = doc.add_paragraph()
        p.paragraph_format.line_spacing = 1.5
        p.paragraph_format.space_after = Pt(0)
        if page_break:
            p.paragraph_format.page_break_before = True
        if align is not None:
            p.alignment = align
        if indent and align is None:
            p.paragraph_format.first_line_indent = Pt(2 * (size or spec.layout.get("body_pt", 12)))
        lines = text.split("\n")
        for j, line in enumerate(lines):
            run = p.add_run(line)
            set_font(run, fnt or font, size, bold)
            if j < len(lines) - 1:
                run.add_break(WD_BREAK.LINE)
        return p

    if "title_in_table" in spec.variations:
        box = doc.add_table(rows=1, cols=1)
        cell = box.cell(0, 0)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        for j, line in enumerate(spec.title_lines):
            run = cell.paragraphs[0].add_run(line)
            set_font(run, title_font, 20, True)
            if j < len(spec.title_lines) - 1:
                run.add_break(WD_BREAK.LINE)
    else:
        para("\n".join(spec.title_lines), align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=20, fnt=title_font)
    para(spec.intro)
    models = table_models(spec)
    split = bool(spec.variations & {"split_repeat_header", "split_no_header"})
    usable = 21.0 - 2 * 2.6

    def add_table(m: TModel):
        ncols = len(m.widths)
        tbl = doc.add_table(rows=len(m.rows), cols=ncols)
        tbl.style = doc.styles["Table Grid"]
        tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
        tbl.autofit = False
        tw = sum(m.widths)
        col_w = [Cm(usable * w / tw) for w in m.widths]
        for j, col in enumerate(tbl.columns):
            col.width = col_w[j]
        # tbl.cell() walks the whole table on every call: take each cell once, before
        # merging (merging only ever needs the corner cells of each span).
        from docx.table import _Cell
        grid = [[_Cell(tc, tbl) for tc in tr.tc_lst] for tr in tbl._tbl.tr_lst]
        for row in grid:
            for j, cell in enumerate(row):
                cell.width = col_w[j]
        occupied: set[tuple[int, int]] = set()
        for i, row in enumerate(m.rows):
            c = 0
            for cell in row:
                while (i, c) in occupied:
                    c += 1
                for dr in range(cell.rowspan):
                    for dc in range(cell.colspan):
                        occupied.add((i + dr, c + dc))
                target = grid[i][c]
                if cell.rowspan > 1 or cell.colspan > 1:
                    target = target.merge(grid[i + cell.rowspan - 1][c + cell.colspan - 1])
                for extra in target.paragraphs[1:]:
                    extra._element.getparent().remove(extra._element)
                p = target.paragraphs[0]
                # one style, not per-run fonts (those dominated render time); set in the XML
                # because Paragraph.style looks the default style up on every call
                p._p.get_or_add_pPr().style = cell_style.style_id
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT if cell.label else WD_ALIGN_PARAGRAPH.CENTER
                run = p.add_run(cell.text)
                if cell.header:
                    run.bold = True
                target.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                c += cell.colspan
        for i in range(m.header_rows):
            trpr = tbl.rows[i]._tr.get_or_add_trPr()
            h = OxmlElement("w:tblHeader")
            trpr.append(h)
        return tbl

    for i, (head, text) in enumerate(zip(spec.section_titles, spec.sections), start=1):
        para(head, bold=True, page_break=(split and i == 3), fnt=head_font)
        for p in text.split("\n"):
            if p:
                para(p, bold=p.startswith("（") and len(p) < 12)
        for m in models.get(i, []):
            if m.caption:
                para(m.caption, align=WD_ALIGN_PARAGRAPH.CENTER)
            add_table(m)
            if i == 2:
                doc.add_paragraph()
    if spec.layout.get("sign_off"):
        d = spec.published
        para(spec.agency, align=WD_ALIGN_PARAGRAPH.RIGHT)
        para(f"{d.year}年{d.month}月{d.day}日", align=WD_ALIGN_PARAGRAPH.RIGHT)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- PDF via LibreOffice
_LO_LOCK = threading.Lock()
_LO_PROFILE: tuple[int, str] | None = None  # (pid, dir): a forked child must not share its parent's


class SofficeMissing(RuntimeError):
    pass


def _soffice() -> str:
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    raise SofficeMissing("LibreOffice (soffice) is not installed: PDFs are printed with "
                         "`soffice --headless --convert-to pdf` (Debian: apt-get install libreoffice-writer)")


def _profile_dir() -> str:
    """One LibreOffice user profile per process: two soffice processes sharing a profile
    block each other, and creating a profile costs seconds, so it is reused."""
    global _LO_PROFILE
    if _LO_PROFILE is None or _LO_PROFILE[0] != os.getpid() or not os.path.isdir(_LO_PROFILE[1]):
        path = tempfile.mkdtemp(prefix=f"nianbao-lo-{os.getpid()}-")
        atexit.register(shutil.rmtree, path, True)
        _LO_PROFILE = (os.getpid(), path)
    return _LO_PROFILE[1]


def convert_to_pdf(documents: list[tuple[str, bytes]], *, timeout: float | None = None) -> list[bytes]:
    """Convert (suffix, bytes) documents to PDFs with one soffice run per input type."""
    return convert_many(documents, "pdf", timeout=timeout)


def convert_to(data: bytes, suffix: str, to: str) -> bytes:
    """One document converted by LibreOffice (e.g. xlsx → xls)."""
    return convert_many([(suffix, data)], to)[0]


def convert_many(documents: list[tuple[str, bytes]], to: str, *, timeout: float | None = None) -> list[bytes]:
    exe = _soffice()
    out: list[bytes | None] = [None] * len(documents)
    with _LO_LOCK, tempfile.TemporaryDirectory(prefix="nianbao-pdf-") as tmp:
        by_kind: dict[str, list[int]] = {}
        for i, (suffix, _) in enumerate(documents):
            by_kind.setdefault(suffix, []).append(i)
        for suffix, idx in by_kind.items():
            indir = os.path.join(tmp, suffix)
            outdir = os.path.join(tmp, suffix + "-out")
            os.makedirs(indir)
            names = []
            for i in idx:
                name = os.path.join(indir, f"r{i:05d}.{suffix}")
                with open(name, "wb") as f:
                    f.write(documents[i][1])
                names.append(name)
            cmd = [exe, f"-env:UserInstallation=file://{_profile_dir()}", "--headless", "--norestore",
                   "--nologo", "--nodefault", "--nolockcheck"]
            if suffix == "html" and to == "pdf":  # import as a paginated Writer document, not Writer/Web
                cmd += ["--infilter=HTML (StarWriter)", "--convert-to", "pdf:writer_pdf_Export"]
            else:
                cmd += ["--convert-to", to]
            # A long soffice run now and then stops early with rc 0 (seen after ~240 of
            # 800 HTML files): what it left out gets one more run of its own.
            for _ in range(2):
                todo = [i for i in idx if not os.path.exists(os.path.join(outdir, f"r{i:05d}.{to}"))]
                if not todo:
                    break
                proc = subprocess.run(cmd + ["--outdir", outdir] + [names[idx.index(i)] for i in todo],
                                      capture_output=True, timeout=timeout or (60 + 5 * len(todo)))
            for i in idx:
                pdf = os.path.join(outdir, f"r{i:05d}.{to}")
                if not os.path.exists(pdf):
                    raise RuntimeError(f"soffice did not convert document {i} ({suffix}): rc={proc.returncode} "
                                       f"stderr={proc.stderr.decode(errors='replace')[-2000:]}")
                with open(pdf, "rb") as f:
                    out[i] = f.read()
    return [b for b in out if b is not None]


def render_many_pdf(specs: list[ReportSpec], via: str = "html") -> list[bytes]:
    """PDFs for many reports in one soffice run (start-up costs seconds, a page does not)."""
    if via == "html":
        docs = [("html", _html_print_document(s)) for s in specs]
    elif via == "docx":
        docs = [("docx", _render_docx(s, installed_fonts=True)) for s in specs]
    else:
        raise ValueError("via must be 'html' or 'docx'")
    return convert_to_pdf(docs)


def render_pdf(spec: ReportSpec, *, via: str = "html") -> bytes:
    return render_many_pdf([spec], via=via)[0]


# --------------------------------------------------------------------------- conveniences
FORMATS = ("html", "docx", "pdf-html", "pdf-docx")


def render(spec: ReportSpec, fmt: str) -> bytes:
    """One report in one of FORMATS (a PDF costs a soffice start: batch with render_many_pdf)."""
    if fmt == "html":
        return render_html(spec)
    if fmt == "docx":
        return render_docx(spec)
    if fmt in ("pdf-html", "pdf-docx"):
        return render_pdf(spec, via=fmt[4:])
    raise ValueError(f"format must be one of {FORMATS}")


def expected_json(spec: ReportSpec, file: str | None = None) -> dict[str, Any]:
    """The answer key in the shape of samples/reports/*.expected.json (plus the
    generator's own fields: seed, variations, templates per table, broken_rules)."""
    inconsistencies = []
    for rule, table, row, col, parts, totals in rule_instances(spec.templates):
        if (rule, table, row, col) in spec.broken_rules:
            inconsistencies.append({"check": rule, "table": table, "row": row, "col": col,
                                    "lhs": sum(spec.cells.get(k) or 0 for k in parts),
                                    "rhs": sum(spec.cells.get(k) or 0 for k in totals), "ok": False})
    for rule, table, row, col in spec.broken_rules:
        if rule == "nonneg":
            inconsistencies.append({"check": rule, "table": table, "row": row, "col": col,
                                    "lhs": spec.cells[(table, row, col)], "rhs": 0, "ok": False})
    return {
        "file": file,
        "agency": spec.agency,
        "agency_titled": spec.agency_titled,
        "report_year": spec.report_year,
        "title": spec.title,
        "published": spec.published.isoformat(),
        "template": spec.templates.get("2"),
        "templates": spec.templates,
        "seed": spec.seed,
        "variations": sorted(spec.variations),
        "broken_rules": [list(b) for b in spec.broken_rules],
        "printed_inconsistencies": inconsistencies,
        "cells": expected_cells(spec),
    }
