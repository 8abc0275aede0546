"""The official table layouts (templates.md): row and column codes with printed labels.

Codes are public identifiers (researchers' SQL depends on them): never rename one.
Labels are the canonical printed wording; publishers wrap, drop and reorder characters,
so matching is loose (see `pipeline.tables`) while placement is strict.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    code: str
    label: str  # the label's own words (without the enclosing block heading)
    block: str = ""  # enclosing heading, e.g. "（三）不予公开" or "第二十条第（一）项"


@dataclass(frozen=True)
class Col:
    code: str
    label: str
    kind: str = "count"  # "count" (non-negative int), "change" (signed int), "money" (decimal)


# ---------------------------------------------------------------- table 2
T2_2021: dict[str, tuple[tuple[Row, ...], tuple[Col, ...]]] = {
    "第二十条第（一）项": (
        (Row("rules", "规章"), Row("normative_docs", "行政规范性文件")),
        (Col("issued", "本年制发件数"), Col("repealed", "本年废止件数"), Col("in_force", "现行有效件数")),
    ),
    "第二十条第（五）项": (
        (Row("licensing", "行政许可"),),
        (Col("decisions", "本年处理决定数量"),),
    ),
    "第二十条第（六）项": (
        (Row("penalty", "行政处罚"), Row("coercion", "行政强制")),
        (Col("decisions", "本年处理决定数量"),),
    ),
    "第二十条第（八）项": (
        (Row("fees", "行政事业性收费"),),
        (Col("amount_10k_yuan", "本年收费金额（单位：万元）", "money"),),
    ),
}

_ITEMS_CHANGE_DECISIONS = (
    Col("prev_items", "上一年项目数量"),
    Col("change", "本年增/减", "change"),
    Col("decisions", "处理决定数量"),
)
T2_2019: dict[str, tuple[tuple[Row, ...], tuple[Col, ...]]] = {
    "第二十条第（一）项": (
        (Row("rules", "规章"), Row("normative_docs", "规范性文件")),
        (Col("made", "本年新制作数量"), Col("published", "本年新公开数量"), Col("public_total", "对外公开总数量")),
    ),
    "第二十条第（五）项": (
        (Row("licensing", "行政许可"), Row("other_services", "其他对外管理服务事项")),
        _ITEMS_CHANGE_DECISIONS,
    ),
    "第二十条第（六）项": (
        (Row("penalty", "行政处罚"), Row("coercion", "行政强制")),
        _ITEMS_CHANGE_DECISIONS,
    ),
    "第二十条第（八）项": (
        (Row("fees", "行政事业性收费"),),
        (Col("prev_items", "上一年项目数量"), Col("change", "本年增/减", "change")),
    ),
    "第二十条第（九）项": (
        (Row("procurement", "政府集中采购"),),
        (Col("items", "采购项目数量"), Col("amount", "采购总金额", "money")),
    ),
}

# ---------------------------------------------------------------- table 3
T3_COLS: tuple[Col, ...] = (
    Col("natural_person", "自然人"),
    Col("commercial", "商业企业"),
    Col("research", "科研机构"),
    Col("public_interest", "社会公益组织"),
    Col("legal_service", "法律服务机构"),
    Col("other_org", "其他"),
    Col("total", "总计"),
)

_T3_HEAD: tuple[Row, ...] = (
    Row("new", "一、本年新收政府信息公开申请数量"),
    Row("carried_in", "二、上年结转政府信息公开申请数量"),
    Row("granted", "（一）予以公开", "三、本年度办理结果"),
    Row("partly_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "三、本年度办理结果"),
    Row("denied.state_secret", "1.属于国家秘密", "（三）不予公开"),
    Row("denied.prohibited_by_law", "2.其他法律行政法规禁止公开", "（三）不予公开"),
    Row("denied.security_stability", "3.危及“三安全一稳定”", "（三）不予公开"),
    Row("denied.third_party", "4.保护第三方合法权益", "（三）不予公开"),
    Row("denied.internal_affairs", "5.属于三类内部事务信息", "（三）不予公开"),
    Row("denied.process_info", "6.属于四类过程性信息", "（三）不予公开"),
    Row("denied.enforcement_file", "7.属于行政执法案卷", "（三）不予公开"),
    Row("denied.query_matter", "8.属于行政查询事项", "（三）不予公开"),
    Row("unavailable.not_held", "1.本机关不掌握相关政府信息", "（四）无法提供"),
    Row("unavailable.needs_creation", "2.没有现成信息需要另行制作", "（四）无法提供"),
    Row("unavailable.unclear", "3.补正后申请内容仍不明确", "（四）无法提供"),
    Row("not_processed.petition", "1.信访举报投诉类申请", "（五）不予处理"),
    Row("not_processed.duplicate", "2.重复申请", "（五）不予处理"),
    Row("not_processed.publication", "3.要求提供公开出版物", "（五）不予处理"),
    Row("not_processed.excessive", "4.无正当理由大量反复申请", "（五）不予处理"),
    Row("not_processed.confirmation", "5.要求行政机关确认或重新出具已获取信息", "（五）不予处理"),
)
_T3_TAIL: tuple[Row, ...] = (
    Row("results_total", "（七）总计", "三、本年度办理结果"),
    Row("carried_out", "四、结转下年度继续办理"),
)
T3_ROWS_2021: tuple[Row, ...] = _T3_HEAD + (
    Row("other.no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "（六）其他处理"),
    Row("other.no_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "（六）其他处理"),
    Row("other.other", "3.其他", "（六）其他处理"),
) + _T3_TAIL
T3_ROWS_2019: tuple[Row, ...] = _T3_HEAD + (
    Row("other", "（六）其他处理", "三、本年度办理结果"),
) + _T3_TAIL

# Result rows summed by rule 2 (everything between carried_in and results_total).
def t3_result_rows(template: str) -> tuple[str, ...]:
    rows = T3_ROWS_2021 if template == "2021" else T3_ROWS_2019
    codes = [r.code for r in rows]
    return tuple(codes[codes.index("granted"): codes.index("results_total")])


# ---------------------------------------------------------------- table 4
T4_GROUPS: tuple[Row, ...] = (
    Row("review", "行政复议"),
    Row("suit_direct", "未经复议直接起诉", "行政诉讼"),
    Row("suit_after_review", "复议后起诉", "行政诉讼"),
)
T4_COLS: tuple[Col, ...] = (
    Col("upheld", "结果维持"),
    Col("corrected", "结果纠正"),
    Col("other", "其他结果"),
    Col("pending", "尚未审结"),
    Col("total", "总计"),
)


def table2_layout(template: str):
    return T2_2021 if template == "2021" else T2_2019


def table3_rows(template: str) -> tuple[Row, ...]:
    return T3_ROWS_2021 if template == "2021" else T3_ROWS_2019


def expected_cells(table: int, template: str) -> list[tuple[str, str, str]]:
    """Every (row, col, kind) a complete table of this template holds, in print order."""
    out: list[tuple[str, str, str]] = []
    if table == 2:
        for rows, cols in table2_layout(template).values():
            out += [(r.code, c.code, c.kind) for r in rows for c in cols]
    elif table == 3:
        out = [(r.code, c.code, c.kind) for r in table3_rows(template) for c in T3_COLS]
    elif table == 4:
        out = [(g.code, c.code, c.kind) for g in T4_GROUPS for c in T4_COLS]
    return out


def col_kind(table: int, row: str, col: str) -> str:
    if table == 2:
        for layout in (T2_2021, T2_2019):
            for rows, cols in layout.values():
                if any(r.code == row for r in rows):
                    for c in cols:
                        if c.code == col:
                            return c.kind
    return "count"


# Chinese labels for every code, used by the site and exports.
ROW_LABELS: dict[tuple[int, str], str] = {}
COL_LABELS: dict[tuple[int, str], str] = {}
for _layout in (T2_2019, T2_2021):
    for _rows, _cols in _layout.values():
        for _r in _rows:
            ROW_LABELS.setdefault((2, _r.code), _r.label)
        for _c in _cols:
            COL_LABELS.setdefault((2, _c.code), _c.label)
for _r in T3_ROWS_2021 + T3_ROWS_2019:
    ROW_LABELS.setdefault((3, _r.code), (_r.block + _r.label) if _r.block.startswith("（") else _r.label)
for _c in T3_COLS:
    COL_LABELS[(3, _c.code)] = _c.label
for _g in T4_GROUPS:
    ROW_LABELS[(4, _g.code)] = (_g.block + "·" if _g.block else "") + _g.label
for _c in T4_COLS:
    COL_LABELS[(4, _c.code)] = _c.label
