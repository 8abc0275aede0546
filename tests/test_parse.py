"""Report-level decisions: is it a report, whose, which year, which sections, which status."""
from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.pipeline.extract.html import extract_html
from nianbao.pipeline.model import EXTRACTION_INCOMPLETE, NOT_A_REPORT, OK, Extracted
from nianbao.pipeline.heading import organ_of_title
from nianbao.pipeline.parse import parse_extracted, report_year, sections_of

BODY_2018 = """一、概述
2018年，本局认真贯彻落实《中华人民共和国政府信息公开条例》。
二、主动公开政府信息情况
全年主动公开政府信息120条。
三、依申请公开政府信息情况
全年受理申请3件。
四、政府信息公开的收费及减免情况
未收取费用。"""


def ex(title, text, tables=None, container="html", meta=None):
    return Extracted(container=container, text=text, tables=tables or [], title=title, meta=meta or {})


def test_pre_2019_report_is_ok_without_cells():
    rep = parse_extracted(ex("某某县民政局2018年政府信息公开工作年度报告", BODY_2018))
    assert (rep.status, rep.agency, rep.report_year) == (OK, "某某县民政局", 2018)
    assert rep.cells == [] and rep.templates == {}
    assert [s.no for s in rep.sections] == [1, 2, 3, 7]  # 四、收费及减免: the section only old reports have


def test_2023_report_without_tables_is_incomplete_with_every_cell_flagged():
    text = ("一、总体情况\n本报告统计数据从2023年1月1日至12月31日。\n二、主动公开政府信息情况\n（见附图）\n"
            "三、收到和处理政府信息公开申请情况\n四、政府信息公开行政复议、行政诉讼情况\n五、存在的主要问题及改进情况")
    rep = parse_extracted(ex("某某县民政局2023年政府信息公开工作年度报告", text))
    assert rep.status == EXTRACTION_INCOMPLETE and rep.report_year == 2023
    assert rep.templates == {"2": "2021", "3": "2021", "4": "2021"}
    assert len(rep.cells) == 10 + 175 + 15 and all(c.reason == "table not found" for c in rep.cells)
    assert {i.code for i in rep.issues} == {"table_missing"}


def test_2023_text_without_table_sections_is_ok_with_a_warning():
    text = "一、总体情况\n2023年，本县深入推进政务公开。\n五、存在的主要问题及改进情况\n六、其他需要报告的事项\n无。"
    rep = parse_extracted(ex("某某县人民政府2023年政府信息公开工作年度报告", text))
    assert (rep.status, rep.report_year, rep.cells, rep.templates) == (OK, 2023, [], {})
    assert [i.code for i in rep.issues] == ["no_tables"] and rep.issues[0].kind == "warning"


@pytest.mark.parametrize("title,text,why", [
    ("关于做好2023年政府信息公开工作年度报告编制发布工作的通知", "各区县人民政府：现将有关事项通知如下。", "notice"),
    ("某某县民政局2024年部门预算", "一、部门基本情况\n二、收支预算总表", "budget"),
    ("政府信息公开年报", "某某县民政局2023年政府信息公开工作年度报告 2024-01-20\n"
     "某某县教育局2023年政府信息公开工作年度报告 2024-01-19\n某某县财政局2023年政府信息公开工作年度报告 2024-01-18\n"
     "首页 上一页 下一页", "list"),
    ("某某县召开安全生产工作会议", "会议强调，要压实责任。", "sign"),
])
def test_not_a_report(title, text, why):
    rep = parse_extracted(ex(title, text))
    assert rep.status == NOT_A_REPORT and why in rep.reason and rep.cells == []


@pytest.mark.parametrize("title,agency", [
    ("2019年上海市人民政府办公厅政府信息公开工作年度报告", "上海市人民政府办公厅"),
    ("宁夏吴忠金积工业园区管委会 2023 年政府信息公开工作年度报告", "宁夏吴忠金积工业园区管委会"),
    ("某某市财政局2022年度政府信息公开工作报告", "某某市财政局"),
    ("《某某区人民政府二〇二一年政府信息公开工作年度报告》", "某某区人民政府"),
    ("某某县关于2020年政府信息公开工作年度报告", "某某县"),
])
def test_agency_from_title(title, agency):
    assert organ_of_title(title) == (agency, None)


def test_agency_is_qualified_by_the_place_names_in_the_text():
    text = "本报告由淮安市洪泽区人民政府办公室编制。请与淮安市洪泽区人民政府办公室联系。"
    rep = parse_extracted(ex("洪泽区人民政府2017年政府信息公开工作年度报告", text))
    assert rep.agency == "淮安市洪泽区人民政府"


def test_the_compiling_office_is_not_the_publisher():
    """「本报告由…办公室编制」 names who compiled the report: with no organ in the title and
    no signature, the agency is unknown, and says why."""
    text = ("2023年政府信息公开工作年度报告\n本报告由某某县人民政府办公室根据《条例》要求编制。\n一、总体情况\n"
            "二、主动公开\n三、收到和处理政府信息公开申请情况")
    rep = parse_extracted(ex("年度报告", text))
    assert rep.agency is None and rep.meta["agency_reason"] == "the title names no organ"
    signed = parse_extracted(ex("年度报告", text + "\n某某县交通运输局\n2024年1月20日"))
    assert (signed.agency, signed.meta["agency_from"]) == ("某某县交通运输局", "signature")


@pytest.mark.parametrize("title,text,year", [
    ("某某局2021年政府信息公开工作年度报告", "本报告统计数据从 2020 年 1 月 1 日至 12 月 31 日。", 2020),
    ("某某局2021年政府信息公开工作年度报告", "发布日期：2022-03-01", 2021),
    ("某某局二〇二二年政府信息公开工作年度报告", "", 2022),
    ("年度报告", "本局2019年度政府信息公开工作情况如下。", 2019),
])
def test_report_year_is_the_year_covered(title, text, year):
    assert report_year(title, text)[0] == year


def test_section_heading_variants():
    text = "\n".join([
        "第一部分 总体情况", "正文一", "第二部分 主动公开政府信息情况", "表二",
        "第三部分 收到和处理政府信息公开申请情况", "表三",
        "四、因政府信息公开工作被申请行政复议、提起行政诉讼情况", "表四",
        "五、存在的主要问题及改进情况", "问题", "六、其他需要报告的事项", "无。"])
    secs = sections_of(text)
    assert [s.no for s in secs] == [1, 2, 3, 4, 5, 6]
    assert secs[3].title == "四、因政府信息公开工作被申请行政复议、提起行政诉讼情况"
    assert secs[0].text == "正文一" and secs[5].text == "无。"


PORTALS = Path(__file__).resolve().parent / "fixtures" / "portals"


@pytest.mark.parametrize("name,why", [
    ("trs_list_ordos_egb_xxgknb_index.html", "list page"),  # the 信息公开年报 column itself
    ("trs_xxgk_detail_handan_metaheader.jsp.html", "notice"),
    ("other_cms_detail_baoding_content.html", "no sign"),
    ("trs_xxgk_home_handan_hdzfxxgk.jsp.html", "no sign"),  # links to 政府信息公开年报 in its menu
])
def test_real_portal_pages_are_not_reports(name, why):
    rep = parse_extracted(extract_html((PORTALS / name).read_bytes(), name))
    assert rep.status == NOT_A_REPORT and why in rep.reason


def test_heading_at_the_start_of_a_paragraph():
    text = ("一、总体情况。2019年，本局认真贯彻《条例》，全年主动公开政府信息120条，依法答复申请3件，工作有序推进。\n"
            "二 、主动公开政府信息情况\n表\n五、存在的主要问题及改进情况：人员不足，培训不够，下一步将加强培训和考核工作。")
    secs = sections_of(text)
    assert [(s.no, s.title) for s in secs] == [(1, "一、总体情况"), (2, "二 、主动公开政府信息情况"), (5, "五、存在的主要问题及改进情况")]
    assert secs[0].text.startswith("2019年，本局") and secs[2].text.startswith("人员不足")


def test_title_from_wrapped_first_lines_when_metadata_title_is_junk():
    text = "洪泽区人民政府\n2023 年政府信息公开工作年度报告\n本报告由淮安市洪泽区人民政府办公室编制。"
    rep = parse_extracted(ex("Microsoft Word - 文档1", text, container="pdf"))
    assert rep.title == "洪泽区人民政府2023年政府信息公开工作年度报告"
    assert (rep.agency, rep.report_year) == ("淮安市洪泽区人民政府", 2023)
