"""The table interpreter on hand-made grids: each test is one layout trap of templates.md."""
from __future__ import annotations

from nianbao.pipeline import templates as T
from nianbao.pipeline.model import Grid, GridCell
from nianbao.pipeline.tables import interpret, row_views, similarity

T3_HEADER = [
    [("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3), ("申请人情况", 1, 7)],
    [("自然人", 2, 1), ("法人或其他组织", 1, 5), ("总计", 2, 1)],
    ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"],
]


def grid(rows, table=0, complete=True) -> Grid:
    """Rows of cells; a cell is a text or (text, rowspan, colspan)."""
    out = []
    for r, row in enumerate(rows):
        cells = []
        for c, x in enumerate(row):
            text, rs, cs = (x, 1, 1) if isinstance(x, str) else x
            cells.append(GridCell(text, {"table": table, "row": r, "cell": c}, rs, cs))
        out.append(cells)
    return Grid(out, {"table": table}, complete_rows=complete)


def fig(i: int, c: int) -> str:
    return str(100 * i + c)  # a distinct figure per (row, column): misplacement shows


def t3_rows(template: str, labels: dict[str, str] | None = None) -> list[list]:
    """Data rows of table 3, labels flattened into one cell (as many PDFs print them)."""
    labels = labels or {}
    rows = []
    for i, r in enumerate(T.table3_rows(template)):
        label = labels.get(r.code, (r.block if r.block.startswith("（") else "") + r.label)
        rows.append([(label, 1, 3)] + [fig(i, c) for c in range(7)])
    return rows


def by_key(res):
    return {(c.table, c.row, c.col): c for c in res.cells}


def assert_t3(res, template: str):
    cells = by_key(res)
    for i, r in enumerate(T.table3_rows(template)):
        for c, col in enumerate(T.T3_COLS):
            cell = cells[(3, r.code, col.code)]
            assert cell.value == 100 * i + c, (r.code, col.code, cell)
    assert len([c for c in res.cells if c.table == 3]) == 7 * len(T.table3_rows(template))


def test_table3_split_over_pages_without_repeated_header():
    rows = t3_rows("2021")
    res = interpret([grid(T3_HEADER + rows[:13], 0), grid(rows[13:], 1)])
    assert res.templates == {"3": "2021"}
    assert_t3(res, "2021")
    assert res.issues == []
    assert by_key(res)[(3, "unavailable.needs_creation", "natural_person")].source == {"table": 1, "row": 0, "cell": 1}


def test_table3_split_with_repeated_header():
    rows = t3_rows("2021")
    res = interpret([grid(T3_HEADER + rows[:10]), grid(T3_HEADER + rows[10:], 1)])
    assert_t3(res, "2021")


def test_garbled_and_wrapped_labels_land_by_order():
    garbled = {
        "denied.prohibited_by_law": "2.其他法律行政止公开",
        "partly_granted": "（二）部分 计其他情形 公开（区分处理的，只计这一情形，不）",
        "unavailable.unclear": "3.补正后申内容仍明确",
        "not_processed.confirmation": "5.要求行政机关确认或重 新出具",
        "other.no_fee": "",  # lost entirely: its neighbours pin it down
    }
    res = interpret([grid(T3_HEADER + t3_rows("2021", garbled))])
    assert_t3(res, "2021")


def test_2019_table3_has_single_other_row():
    res = interpret([grid(T3_HEADER + t3_rows("2019"))])
    assert res.templates == {"3": "2019"}
    assert_t3(res, "2019")
    assert (3, "other.no_fee", "total") not in by_key(res)


def test_block_labels_as_rowspans_and_blank_cells():
    """HTML-style table 3: block headings span rows; blanks stay blanks with their text."""
    rows = []
    for i, r in enumerate(T.T3_ROWS_2019):
        figures = [fig(i, c) if (i + c) % 3 == 0 else "/" if c == 6 else "" for c in range(7)]
        if r.code == "granted":
            size = sum(1 for x in T.T3_ROWS_2019 if x.block == "三、本年度办理结果" or x.block.startswith("（"))
            rows.append([("三、本年度办理结果", size, 1), (r.label, 1, 2)] + figures)
        elif r.block.startswith("（") and r.label.startswith("1."):
            size = sum(1 for x in T.T3_ROWS_2019 if x.block == r.block)
            rows.append([(r.block, size, 1), r.label] + figures)
        elif r.block:
            rows.append([(r.label, 1, 2) if not r.block.startswith("（") else r.label] + figures)
        else:
            rows.append([(r.label, 1, 3)] + figures)
    res = interpret([grid(T3_HEADER + rows)])
    cells = by_key(res)
    for i, r in enumerate(T.T3_ROWS_2019):
        for c, col in enumerate(T.T3_COLS):
            cell = cells[(3, r.code, col.code)]
            if (i + c) % 3:
                assert cell.value is None and cell.reason is None and cell.raw in ("", "/"), cell
            else:
                assert cell.value == 100 * i + c, (r.code, col.code, cell)


def test_table2_header_and_data_columns_do_not_align():
    """2019 table 2 in one table: the header spans differ from the data rows' spans."""
    g = grid([
        [("第二十条第（一）项", 1, 5)],
        ["信息内容", "本年新制作数量", ("本年新公开数量", 1, 2), "对外公开总数量"],
        ["规章", "13", ("13", 1, 2), "524"],
        ["规范性文件", "60", ("60", 1, 2), "368"],
        [("第二十条第（五）项", 1, 5)],
        ["信息内容", "上一年项目数量", ("本年增/减", 1, 2), "处理决定数量"],
        ["行政许可", ("1", 1, 2), "-2", "3"],
        ["其他对外管理服务事项", ("4", 1, 2), "减少5", "6"],
        [("第二十条第（六）项", 1, 5)],
        ["信息内容", "上一年项目数量", ("本年增/减", 1, 2), "处理决定数量"],
        ["行政处罚", ("7", 1, 2), "8", "9"],
        ["行政强制", ("10", 1, 2), "11", "12"],
        [("第二十条第（八）项", 1, 5)],
        ["信息内容", ("上一年项目数量", 1, 2), ("本年增/减", 1, 2)],
        ["行政事业性收费", ("13", 1, 2), ("—", 1, 2)],
        [("第二十条第（九）项", 1, 5)],
        ["信息内容", ("采购项目数量", 1, 2), ("采购总金额", 1, 2)],
        ["政府集中采购", ("6", 1, 2), ("25.1万元", 1, 2)],
    ])
    res = interpret([g])
    assert res.templates == {"2": "2019"}
    got = {(c.row, c.col): c.value for c in res.cells}
    assert got == {
        ("rules", "made"): 13, ("rules", "published"): 13, ("rules", "public_total"): 524,
        ("normative_docs", "made"): 60, ("normative_docs", "published"): 60, ("normative_docs", "public_total"): 368,
        ("licensing", "prev_items"): 1, ("licensing", "change"): -2, ("licensing", "decisions"): 3,
        ("other_services", "prev_items"): 4, ("other_services", "change"): -5, ("other_services", "decisions"): 6,
        ("penalty", "prev_items"): 7, ("penalty", "change"): 8, ("penalty", "decisions"): 9,
        ("coercion", "prev_items"): 10, ("coercion", "change"): 11, ("coercion", "decisions"): 12,
        ("fees", "prev_items"): 13, ("fees", "change"): None,
        ("procurement", "items"): 6, ("procurement", "amount"): 251000,
    }


def table2_2021(amount="7730.28") -> list[Grid]:
    """Table 2 as WPS prints it: one small table per 第二十条 block."""
    return [
        grid([["第二十条第（一）项"], ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
              ["规章", "0", "0", "0"], ["行政规范性文件", "0", "5", "5"]], 0),
        grid([["第二十条第（五）项"], ["信息内容", "本年处理决定数量"], ["行政许可", "550"]], 1),
        grid([["第二十条第（六）项"], ["信息内容", "本年处理决定数量"], ["行政处罚", "4,119"], ["行政强制", "195"]], 2),
        grid([["第二十条第（八）项"], ["信息内容", "本年收费金额（单位：万元）"], ["行政事业性收费", amount]], 3),
    ]


def test_a_lost_item_row_leaves_the_next_block_under_no_item():
    """A scan loses the 「第二十条第（六）项」 row (a seal over it, a broken rule): the
    block's own 「信息内容」 header still opens it, so 行政处罚 is not taken for a row of
    item (五) and pulled into 行政许可, whatever 行政许可's row holds."""
    for licensing in ("550", "", "见附件"):
        grids = table2_2021()
        grids[1].rows[2][1].text = licensing
        grids[2].rows.pop(0)
        cells = by_key(interpret(grids))
        assert cells[(2, "penalty", "decisions")].value == 4119, licensing
        assert cells[(2, "coercion", "decisions")].value == 195
        assert cells[(2, "licensing", "decisions")].value in (550, None), licensing


def test_a_figure_ocr_could_not_read_stays_in_its_column():
    """「?」 is a cell where OCR saw ink it could not read (the extractor's doubt): it
    stands among the figures, so the row keeps its label and the others their columns."""
    codes = [r.code for r in T.table3_rows("2021")]
    rows = t3_rows("2021")
    g = grid(T3_HEADER + rows)
    for k in (1, 4, 7):  # first, middle and last figure of the 「（一）予以公开」 row
        g = grid(T3_HEADER + rows)
        cell = g.rows[len(T3_HEADER) + codes.index("granted")][k]
        cell.text, cell.source["doubt"] = "?", "ink in the cell but OCR read '' with confidence 0.00"
        cells = by_key(interpret([g]))
        got = [cells[(3, "granted", c.code)] for c in T.T3_COLS]
        assert got[k - 1].value is None and got[k - 1].reason, k
        assert [c.value for i, c in enumerate(got) if i != k - 1] == \
            [int(fig(codes.index("granted"), i)) for i in range(7) if i != k - 1], k


def t4_grid(values: list[str], table=9) -> Grid:
    return grid([
        [("行政复议", 1, 5), ("行政诉讼", 1, 10)],
        [("结果维持", 2, 1), ("结果纠正", 2, 1), ("其他结果", 2, 1), ("尚未审结", 2, 1), ("总计", 2, 1),
         ("未经复议直接起诉", 1, 5), ("复议后起诉", 1, 5)],
        ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2,
        values,
    ], table)


def test_mixed_templates_per_table():
    res = interpret(table2_2021() + [grid(T3_HEADER + t3_rows("2019"), 4)] + [t4_grid([str(i) for i in range(15)])])
    assert res.templates == {"2": "2021", "3": "2019", "4": "2021"}
    cells = by_key(res)
    assert cells[(2, "penalty", "decisions")].value == 4119
    assert cells[(2, "fees", "amount_10k_yuan")].value == 7730.28
    assert cells[(4, "suit_direct", "upheld")].value == 5
    assert cells[(4, "suit_after_review", "total")].value == 14
    assert_t3(res, "2019")
    assert len(res.cells) == 10 + 23 * 7 + 15


def test_page_frames_around_body_text_are_ignored():
    frame = grid([
        ["本报告由某某市某某区人民政府办公室编制。2023 年全区受理政府信息公开申请 21 件"],
        ["一、总体情况"],
        ["（一）主动公开情况。主动公开政府信息 1136"],
        ["2023"],
        ["依法办理行政复议案件，申请人情况"],  # a wrapped body line that names other tables
        ["二、主动公开政府信息情况"],
    ], 0)
    res = interpret([frame] + table2_2021())
    assert res.templates == {"2": "2021"}
    assert all(c.reason is None for c in res.cells)
    assert by_key(res)[(2, "rules", "issued")].source == {"table": 0, "row": 2, "cell": 1}


def test_text_rows_with_missing_figure_are_not_guessed():
    rows = [["一、本年新收政府信息公开申请数量", "", ""] + ["1"] * 7,
            ["二、上年结转政府信息公开申请数量", "", "", ""] + ["0"] * 6]  # which one is blank?
    rows += [[r[0][0]] + r[1:] for r in t3_rows("2021")[2:]]
    g = grid([["", "", "申请人情况"]] + rows, complete=False)
    res = interpret([g])
    cells = by_key(res)
    assert cells[(3, "new", "total")].value == 1
    for col in T.T3_COLS:
        c = cells[(3, "carried_in", col.code)]
        assert c.value is None and c.raw is None and "6 figures for 7 columns" in c.reason
    [issue] = res.issues
    assert (issue.kind, issue.code, issue.row) == ("extraction", "row_unreadable", "carried_in")


def test_missing_row_and_unreadable_cell_are_reported():
    rows = t3_rows("2021")
    del rows[5]  # denied.prohibited_by_law not printed
    rows[0][3] = "见附件"
    res = interpret([grid(T3_HEADER + rows)])
    cells = by_key(res)
    assert cells[(3, "denied.prohibited_by_law", "total")].reason == "row not found"
    assert cells[(3, "denied.security_stability", "total")].value == 606  # neighbours unaffected
    bad = cells[(3, "new", "research")]
    assert bad.value is None and bad.raw == "见附件" and "见附件" in bad.reason
    assert cells[(3, "new", "public_interest")].value == 3
    assert {i.code for i in res.issues} == {"row_missing", "cell_unreadable"}


def test_table4_as_three_labelled_rows():
    g = grid([["", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"],
              ["行政复议", "1", "2", "3", "4", "10"],
              ["行政诉讼 未经复议直接起诉", "0", "0", "0", "0", "0"],
              ["行政诉讼 复议后起诉", "5", "", "", "", "5"]])
    res = interpret([g])
    cells = by_key(res)
    assert cells[(4, "review", "total")].value == 10
    assert cells[(4, "suit_after_review", "upheld")].value == 5
    assert cells[(4, "suit_after_review", "corrected")].value is None


def test_table4_with_wrong_figure_count_is_not_guessed():
    g = t4_grid(["0"] * 14)
    g.complete_rows = False
    res = interpret([g])
    assert len(res.cells) == 15 and all(c.value is None and c.reason for c in res.cells)


def test_similarity_is_loose_on_width_and_punctuation():
    assert similarity("（三）不予公开 1.属于国家秘密", "(三)不予公开1.属于国家秘密") == 1.0
    assert similarity("2.其他法律行政止公开", "2.其他法律行政法规禁止公开") > similarity("2.其他法律行政止公开", "2.重复申请")


def test_lost_header_after_misleading_line_labels_decide_the_table():
    """No table-3 header survived, and a body line before it names 行政复议: the row
    labels alone still identify table 3."""
    lead = grid([["二、主动公开政府信息情况"], ["依法办理行政复议案件"]], 0)
    res = interpret([lead, grid(t3_rows("2021"), 1)])
    assert res.templates == {"3": "2021"}
    assert_t3(res, "2021")


def test_text_fallback_places_only_rows_with_their_own_label():
    """No grid at all (a PDF without ruling lines): rows are read from text lines, but a
    line of figures whose label sits on another line is not attached to it by guess."""
    lines = ["二、主动公开政府信息情况", "第二十条第（一）项", "信息内容 本年制发件数 本年废止件数 现行有效件数",
             "规章 0 0 0", "行政规范性文件 0 5 5", "- 2 -", "第二十条第（五）项", "行政许可 550",
             "第二十条第（六）项", "行政处罚 4119", "行政强制 195", "第二十条第（八）项", "行政事业性收费 7730.28",
             "三、收到和处理政府信息公开申请情况", "申请人情况", "自然人 商业企业 科研机构 社会公益组织 法律服务机构 其他 总计"]
    for i, r in enumerate(T.T3_ROWS_2021):
        figures = " ".join(fig(i, c) for c in range(7))
        if r.code == "partly_granted":
            lines += [r.label, figures]  # label and figures on different lines
        else:
            lines.append(f"{r.label} {figures}")
    res = interpret([], "\n".join(lines))
    cells = by_key(res)
    assert res.templates == {"2": "2021", "3": "2021"}
    assert cells[(2, "normative_docs", "in_force")].value == 5
    assert cells[(2, "normative_docs", "in_force")].source == {"text_line": 5, "token": 3}
    assert cells[(3, "denied.state_secret", "total")].value == 406
    assert cells[(3, "partly_granted", "total")].reason == "row not found"
    assert {i.code for i in res.issues} == {"table_from_text", "row_missing"}


def test_a_stray_number_under_a_heading_is_not_a_table():
    res = interpret([grid([["二、主动公开政府信息情况"], ["2"], ["三、收到和处理政府信息公开申请情况"], ["5"]])])
    assert res.cells == [] and res.templates == {}


def test_unmerged_empty_cells_right_of_a_single_figure():
    """「行政许可 | 550 | | 」: the publisher left the unused columns as empty cells."""
    g = grid([["第二十条第（一）项", "", "", ""], ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
              ["规章", "1", "2", "3"], ["行政规范性文件", "4", "5", "6"],
              ["第二十条第（五）项", "", "", ""], ["信息内容", "本年处理决定数量", "", ""], ["行政许可", "550", "", ""],
              ["第二十条第（六）项", "", "", ""], ["行政处罚", "7", "", ""], ["行政强制", "", "8", ""],
              ["第二十条第（八）项", "", "", ""], ["行政事业性收费", "", "", "9.5"]])
    res = interpret([g])
    cells = by_key(res)
    assert cells[(2, "licensing", "decisions")].value == 550
    assert cells[(2, "penalty", "decisions")].value == 7
    assert cells[(2, "fees", "amount_10k_yuan")].value == 9.5  # empty padding on the left
    coercion = cells[(2, "coercion", "decisions")]  # a figure with empty cells on both sides
    assert coercion.value is None and "both sides" in coercion.reason


def test_garbled_cell_in_a_complete_row_keeps_the_others_in_their_columns():
    rows = t3_rows("2021")
    rows[3] = [("（二）部分公开", 1, 2), "（区分处理的）"] + rows[3][1:]  # label in two cells
    rows[3][4] = "1 1"  # two figures run together in one cell
    res = interpret([grid(T3_HEADER + rows)])
    cells = by_key(res)
    assert cells[(3, "partly_granted", "natural_person")].value == 300
    bad = cells[(3, "partly_granted", "research")]
    assert bad.value is None and bad.raw == "1 1" and bad.reason
    assert cells[(3, "partly_granted", "total")].value == 306


def test_table4_garbled_figure_keeps_the_others_in_place():
    values = [str(i) for i in range(15)]
    values[7] = "1 1"
    cells = by_key(interpret([t4_grid(values)]))
    assert cells[(4, "suit_direct", "other")].value is None and cells[(4, "suit_direct", "other")].raw == "1 1"
    assert cells[(4, "suit_direct", "pending")].value == 8 and cells[(4, "review", "upheld")].value == 0


def test_row_lost_by_the_grid_is_taken_from_its_text_line():
    """A PDF table whose bottom ruling line is missing loses its last row from the grid;
    the text still has it on one line with its label."""
    grids = table2_2021()
    grids[3].rows.pop()  # 行政事业性收费 gone from the grid
    text = "第二十条第（八）项\n信息内容 本年收费金额（单位：万元）\n行政事业性收费 7730.28\n三、收到和处理政府信息公开申请情况"
    res = interpret(grids, text)
    fees = by_key(res)[(2, "fees", "amount_10k_yuan")]
    assert fees.value == 7730.28 and fees.source == {"text_line": 3, "token": 1}
    assert [i.code for i in res.issues] == ["row_from_text"]
    # Without that line the row stays missing rather than borrowed from elsewhere.
    res = interpret(grids, "行政事业性收费相关说明 7730.28 2023\n")
    assert by_key(res)[(2, "fees", "amount_10k_yuan")].reason == "row not found"


def continued(g: Grid) -> Grid:
    g.source["continues_previous"] = True  # as the PDF extractors mark a table carried over a page
    return g


def test_row_broken_across_a_page_is_joined_with_its_fragment():
    """LibreOffice/Word break a row at the page foot: the label's first line (and no
    figures, vertically centred lower down) on one page, the label's end and the
    figures opening the next page's table, below the repeated header or without one."""
    rows = t3_rows("2021")
    i = [r.code for r in T.table3_rows("2021")].index("denied.security_stability")
    head = [("3.危及“三安全一稳", 1, 3)] + [""] * 7
    rest = [("定”", 1, 3)] + [fig(i, c) for c in range(7)]
    for repeat in (T3_HEADER, []):
        res = interpret([grid(T3_HEADER + rows[:i] + [head]), continued(grid(repeat + [rest] + rows[i + 1:], 1))])
        assert_t3(res, "2021")
        assert res.issues == []
        cell = by_key(res)[(3, "denied.security_stability", "natural_person")]
        assert cell.source["table"] == 1 and cell.raw == fig(i, 0)


def test_row_broken_across_a_page_that_cannot_be_joined_is_null_with_a_reason_not_blank():
    """A broken row whose two parts cannot be joined (a speck read as text where the
    next page holds a figure): the label's part has no figure, the part below it has no
    label. Its blanks are not the report's: each cell is NULL with the reason, flagged,
    and the figures below are not guessed into it. The rows around it are unchanged."""
    codes = [r.code for r in T.table3_rows("2021")]
    i = codes.index("denied.security_stability")
    rows = t3_rows("2021")
    for speck in ("?", "", "—"):
        head = [rows[i][0], speck] + [""] * 6
        rest = [("", 1, 3)] + [fig(i, c) for c in range(7)]
        res = interpret([grid(T3_HEADER + rows[:i] + [head]), continued(grid([rest] + rows[i + 1:], 1))])
        cells = by_key(res)
        broken = [cells[(3, codes[i], c.code)] for c in T.T3_COLS]
        if speck == "":  # nothing stands against the figures: joined as usual
            assert [c.raw for c in broken] == [fig(i, c) for c in range(7)] and res.issues == []
            continue
        assert all(c.value is None and "page break" in c.reason for c in broken), broken
        assert [x.code for x in res.issues] == ["row_split"] and res.issues[0].row == codes[i]
        for j in (i - 1, i + 1):
            assert cells[(3, codes[j], "natural_person")].raw == fig(j, 0)


def test_unread_ink_in_the_empty_part_of_a_broken_row_does_not_keep_it_apart():
    """The figures of a broken row stand on the first page; the part on the next page
    holds the label's end and empty cells, where a noisy scan left ink OCR could not read
    (「?」, doubted). The parts are one row, with the figures."""
    codes = [r.code for r in T.table3_rows("2021")]
    i = codes.index("denied.security_stability")
    rows = t3_rows("2021")
    head = [("3.危", 1, 3)] + [fig(i, c) for c in range(7)]  # most of the label on the next page
    rest = grid([[("及“三安全一稳定”", 1, 3)] + ["?", "", "?", "?", "", "?", "?"]] + rows[i + 1:], 1)
    for k in (1, 3, 4, 6, 7):
        rest.rows[0][k].source["doubt"] = "ink in the cell but OCR read '' with confidence 0.00: not trusted"
    res = interpret([grid(T3_HEADER + rows[:i] + [head]), continued(rest)])
    assert_t3(res, "2021")
    assert by_key(res)[(3, codes[i], "natural_person")].source["table"] == 0


def test_header_row_broken_across_a_page_is_joined():
    """Table 4's header row cut after 「结果维」: its last characters open the next page
    as a row of their own above the figures."""
    heads = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    top = [[("行政复议", 1, 5), ("行政诉讼", 1, 10)],
           [(h, 2, 1) for h in heads] + [("未经复议直接起诉", 1, 5), ("复议后起诉", 1, 5)],
           [h[:-1] if len(h) > 2 else h for h in heads] * 2]
    bottom = [["" for _ in range(5)] + [h[-1] if len(h) > 2 else "" for h in heads] * 2,
              [str(k) for k in range(15)]]
    grids = [grid(top), continued(grid(bottom, 1))]
    views = row_views(grids)
    assert [v.label for v in views[2:]] == ["".join(heads) * 2, ""]  # the fragment row is gone
    assert views[2].own[0].source == {"table": 0, "row": 2, "cell": 0, "continued": {"table": 1, "row": 0, "cell": 5}}
    res = interpret(grids)
    cells = by_key(res)
    assert [cells[(4, g.code, c.code)].value for g in T.T4_GROUPS for c in T.T4_COLS] == list(range(15))


def test_full_rows_at_the_top_of_a_continued_table_stay_rows():
    """A new row opening the next page (blank figures both sides, so only its label
    tells it is a row of its own) is not glued to the row above."""
    codes = [r.code for r in T.table3_rows("2021")]
    i = codes.index("denied.security_stability")
    rows = t3_rows("2021")
    rows[i - 1] = rows[i - 1][:1] + [""] * 7
    rows[i] = rows[i][:1] + [""] * 7
    res = interpret([grid(T3_HEADER + rows[:i]), continued(grid(rows[i:], 1))])
    cells = by_key(res)
    for code in codes[i - 1:i + 1]:
        assert all(cells[(3, code, c.code)].value is None and cells[(3, code, c.code)].raw == "" for c in T.T3_COLS)
    assert cells[(3, codes[i + 1], "natural_person")].value == 100 * (i + 1)
    assert cells[(3, codes[i], "natural_person")].source["table"] == 1


def test_text_fallback_keeps_fullwidth_figures_apart_from_the_label():
    """A table found only in the text, figures printed full width: the extractors'
    text tidying must leave the spaces between label and figures."""
    from nianbao.pipeline.extract.pdf_layout import tidy_page_text

    text = tidy_page_text("二、主动公开政府信息情况\n第二十条第（九）项\n"
                          "信息内容 采购项目数量 采购总金额\n政府集中采购 １ ９０７８１００元")
    cells = by_key(interpret([], text))
    assert cells[(2, "procurement", "items")].value == 1
    assert cells[(2, "procurement", "amount")].value == 9078100


def pdf_grid(rows, edges, page) -> Grid:
    """Rows of (text, colspan) on a lattice with these column edges, boxed as the PDF
    extractors box cells (source page and bbox), 20 pt per row."""
    out = []
    for r, row in enumerate(rows):
        cells, c = [], 0
        for text, span in row:
            box = [edges[c], 100.0 + 20 * r, edges[c + span], 120.0 + 20 * r]
            cells.append(GridCell(text, {"page": page, "bbox": box}, 1, span))
            c += span
        out.append(cells)
    return Grid(out, {"page": page, "bbox": [edges[0], 100.0, edges[-1], 100.0 + 20 * len(rows)]})


def test_broken_row_is_joined_by_position_when_the_pages_cut_columns_differently():
    """Each page's lattice has its own columns: on the next page the fragment's label
    spans a column edge the previous page does not have. Cells are matched by where
    they are printed, not by matrix column."""
    codes = [r.code for r in T.table3_rows("2021")]
    i = codes.index("partly_granted")
    figs = [200.0 + 40 * k for k in range(8)]
    first = [[(r[0][0], 1)] + [(x, 1) for x in r[1:]] for r in t3_rows("2021")[:i]]
    first.append([("（二）部分公开（区分处理的，", 1)] + [(fig(i, c), 1) for c in range(7)])
    rest = [[("只计这一情形，不计其他情形）", 2)] + [("", 1)] * 7]
    rest += [[(r[0][0], 2)] + [(x, 1) for x in r[1:]] for r in t3_rows("2021")[i + 1:]]
    a = pdf_grid(first, [0.0] + figs, 2)
    b = continued(pdf_grid(rest, [0.0, 120.0] + figs, 3))
    res = interpret([grid(T3_HEADER), a, b])
    assert_t3(res, "2021")
    assert res.issues == []


T4_HEADS = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]


def test_table4_header_at_a_page_foot_keeps_the_figures_below_it():
    """Only 「行政复议 | 行政诉讼」 fits at the foot of the page; the next page opens with the
    rest of the header and the row of figures (all printed 「无」): the figures are table
    4's, not the tail of the header row."""
    top = [[("行政复议", 1, 5), ("行政诉讼", 1, 10)]]
    bottom = [[(h, 2, 1) for h in T4_HEADS] + [("未经复议直接起诉", 1, 5), ("复议后起诉", 1, 5)],
              T4_HEADS * 2, ["无"] * 15]
    res = interpret([grid(top), continued(grid(bottom, 1))])
    cells = by_key(res)
    assert all(cells[(4, g.code, c.code)].raw == "无" and cells[(4, g.code, c.code)].value is None
               and cells[(4, g.code, c.code)].reason is None for g in T.T4_GROUPS for c in T.T4_COLS)
    assert not [i for i in res.issues if i.code == "table_missing"]


def test_table4_row_printed_all_blank_is_read_as_blank_not_missing():
    rows = [[("行政复议", 1, 5), ("行政诉讼", 1, 10)],
            [(h, 2, 1) for h in T4_HEADS] + [("未经复议直接起诉", 1, 5), ("复议后起诉", 1, 5)],
            T4_HEADS * 2, [""] * 15]
    cells = by_key(interpret([grid(rows)]))
    assert all(cells[(4, g.code, c.code)].value is None and cells[(4, g.code, c.code)].reason is None
               for g in T.T4_GROUPS for c in T.T4_COLS)
    # text that lost its cell boundaries proves nothing: an empty line is no row there
    assert (4, "review", "total") not in by_key(interpret([grid(rows, complete=False)]))
