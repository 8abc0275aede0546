"""Datasette metadata for the archive: Chinese labels and descriptions, facets, canned queries.

Built in Python rather than kept as a YAML file because the wide tables have one column
per template cell: their labels come from `pipeline.templates`, the single source of the
printed wording, so a label can never drift from the parser's codes.
"""
from __future__ import annotations

import re

from .. import store, templates

TITLE = "nianbao · 政府信息公开工作年度报告档案"
DESCRIPTION = (
    "各级行政机关发布的《政府信息公开工作年度报告》：原始文件、六部分正文、三张统计表的每一个数字"
    "（连同它在原文中的位置）以及勾稽关系校验结果。数字按原文照录，不作更正；违反勾稽关系的年报单独标出。"
)
SOURCE = "各级人民政府及其部门门户网站“政府信息公开年报”栏目"
LICENSE = "数据：原文为政府公开信息；整理与代码：Apache-2.0"

# Columns shown last (or not at all) on HTML table pages: bookkeeping nobody reads first.
HIDDEN_COLUMNS = {
    "reports": ["meta", "parser_version", "parsed_at", "is_primary", "publication", "template_t2", "template_t4"],
    "documents": ["etag", "last_modified", "stored_at", "warc_file", "warc_offset", "warc_length"],
    "cells": ["source"],
}

# (label, description) per column; the label is what the site prints in the column header.
REPORT_COLS = {
    "id": ("年报编号", "原始文件的 SHA-256，同时是年报的编号；点击标题打开年报页面"),
    "status": ("解析状态", ("ok 正常；figures_inconsistent 原文数字违反勾稽关系；extraction_incomplete 有单元格未能读取；"
               "not_a_report 不是年报；failed 解析失败")),
    "reason": ("状态说明", "状态不是 ok 时的原因"),
    "agency": ("发布机关", "年报署名的行政机关"),
    "report_year": ("报告年度", "年报所报告的年份（通常次年3月31日前发布）"),
    "title": ("标题", "年报正文开头印的标题（跨行时连起来）；文件元数据只在正文没有标题时使用"),
    "agency_titled": ("标题中的机关", "标题（或落款）印出的机关名称，可能省略上级地名，如「洪泽区人民政府」"),
    "agency_id": ("机关编号", "行政区划代码:机关，如 320813:人民政府；同一机关各年、各种写法的年报编号相同"),
    "adcode": ("行政区划代码", "机关所在地的 6 位行政区划代码（据 2025 年行政区划；旧名已对应到现名）"),
    "province": ("省级", "机关所在的省级行政区（据机关名称与行政区划表，不作猜测）"),
    "city": ("地级", "机关所在的地级市、州、盟"),
    "county": ("县级", "机关所在的县、区、旗、县级市"),
    "region_from": ("地区来源", "agency 由机关名称读出；portal 名称未写明地名时取自来源网站的地区"),
    "container": ("文件格式", "原文的载体：html、pdf、ofd、docx、doc（含WPS）、rtf、xlsx、xls（含ET）、txt"),
    "template_t2": ("表二模板", "表二所用官方模板：2019（国办公开办函〔2019〕60号）或 2021（〔2021〕30号）"),
    "template_t3": ("表三模板", "表三所用官方模板：2019 版（其他处理一行）或 2021 版（其他处理三行）"),
    "template_t4": ("表四模板", "表四所用官方模板"),
    "template_old": ("旧统计表格式", "2008–2018 年报的统计表格式：2008（本年度/历年累计）或 2014（统计指标/单位/统计数）"),
    "cells_found": ("已读单元格", "读出数字的单元格数"),
    "cells_missing": ("缺失单元格", "未能读出（并非原文空白）的单元格数"),
    "rules_broken": ("违反规则数", "原文数字违反的勾稽关系条数"),
    "published": ("发布日期", "门户网站标注的发布日期"),
    "site": ("来源网站", "抓取自哪个门户网站栏目"),
    "url": ("原文网址", "原始文件的下载地址"),
    "publication": ("发布页面", "年报所在的网页（网页、其正文与附件同属一次发布）；本地导入的文件为空"),
    "is_primary": ("主版本", ("每次发布中读出数字最多的那份年报为 1，统计、视图与导出只用主版本；"
                              "旧版本、列表页和非年报为 0")),
    "parser_version": ("解析器版本", "生成此记录的解析器版本"),
    "parsed_at": ("解析时间", "UTC"),
    "meta": ("其他元数据", "JSON：页数、网页 meta 标签等"),
}
DOCUMENT_COLS = {
    "sha256": ("SHA-256", "文件内容的哈希，原始文件按此存放、永不覆盖"),
    "size": ("字节数", ""), "type": ("类型", "嗅探得到的文件类型"),
    "original_name": ("原文件名", "服务器给出的文件名（仅作显示，不用于存储路径）"),
    "url": ("请求网址", ""), "final_url": ("最终网址", "跟随重定向后的网址"),
    "http_status": ("HTTP 状态", ""), "content_type": ("Content-Type", "服务器声明的类型"),
    "etag": ("ETag", "条件请求用"), "last_modified": ("Last-Modified", "条件请求用"),
    "fetched_at": ("抓取时间", "UTC"), "site": ("来源网站", ""),
    "parent_sha256": ("所属文件", "附件或正文所属网页的 SHA-256"),
    "role": ("角色", ("list 栏目列表页；detail 年报网页；body 网页脚本中取出的正文；attachment 附件；"
                      "空：本地导入（nianbao ingest）")),
    "stored_at": ("入库时间", "UTC"),
    "warc_file": ("WARC 文件", "首次带来这些字节的 HTTP 响应所在的 WARC 文件（archive.db 旁的 warc/）；派生正文与本地导入为空"),
    "warc_offset": ("WARC 偏移", "该响应记录（一个 gzip 段）在 WARC 文件中的字节偏移"),
    "warc_length": ("WARC 长度", "该响应记录的字节数"),
}
CELL_COLS = {
    "report": ("年报", "所属年报"), "table_no": ("表号", "2 主动公开；3 依申请公开；4 复议诉讼"),
    "row": ("行代码", "官方模板的行代码，如 denied.state_secret（见 row_label 视图及模板说明）"),
    "col": ("列代码", "官方模板的列代码，如 natural_person"),
    "value": ("数值", "按原文读出的数字；原文空白或无法读取时为空（见原文字样与原因）"),
    "raw": ("原文字样", "单元格中印的文字，如「/」「—」「251000元」"),
    "reason": ("缺失原因", "数值为空且并非原文空白时的原因"),
    "source": ("出处", "JSON：PDF 页码和坐标框，或 HTML/Word 表格的行列位置"),
}
SECTION_COLS = {"report": ("年报", ""), "no": ("部分", "1–6，对应年报的六个部分"),
                "title": ("标题", "该部分标题，按原文"), "text": ("正文", "该部分全文")}
ISSUE_COLS = {
    "id": ("编号", ""), "report": ("年报", ""),
    "kind": ("类别", ("rule 原文违反勾稽关系；extraction 提取缺失；warning 提示；continuity 与上年报告不衔接；"
                      "prose 正文与表格数字不一致；cumulative 历年累计不等于上年累计加本年")),
    "code": ("规则/代码", ("t3_balance 新收+结转=办理+结转下年；t3_results_sum 办理结果之和；t3_row_total 行合计；"
             "t4_total 复议诉讼合计；nonneg 非负")),
    "table_no": ("表号", ""), "row": ("行代码", ""), "col": ("列代码", ""),
    "lhs": ("计算值", "由分项计算出的值"), "rhs": ("印刷值", "原文印的合计"),
    "message": ("说明", ""), "cells": ("相关单元格", "JSON [[行, 列], …]"),
    "evidence": ("依据", "JSON：交叉核对所依据的句子或上年报告"),
}
SEARCH_COLS = {"id": ("编号", ""), "report": ("年报", ""), "section_no": ("部分", "空为标题"),
               "heading": ("标题", ""), "text": ("文本", "被索引的文本")}
FAILURE_COLS = {"id": ("编号", ""), "sha256": ("文件", ""), "original_name": ("原文件名", ""),
                "stage": ("阶段", "ingest 读取或存入文件时失败；reparse 原始文件缺失"), "reason": ("原因", ""),
                "at": ("时间", "UTC")}
OLD_COLS = {
    "report": ("年报", "所属年报"), "row": ("行代码", "旧统计表的指标代码，如 requests.total（见 pipeline/old_template.py）"),
    "col": ("列", "year 本年度；cumulative 历年累计"), "value": CELL_COLS["value"], "raw": CELL_COLS["raw"],
    "reason": CELL_COLS["reason"], "label": ("指标名称", "原文印的指标名称"), "unit": ("单位", "条、件、次、人、万元等"),
    "source": CELL_COLS["source"],
}
COMPARABLE_COLS = {
    "agency_id": ("机关编号", "行政区划代码:机关"), "agency": ("发布机关", ""), "report_year": ("报告年度", ""),
    "report": ("年报", ""), "adcode": ("行政区划代码", ""), "province": ("省级", ""), "city": ("地级", ""),
    "county": ("县级", ""),
    "measure": ("指标", "requests 收到申请；granted 予以公开；partly_granted 部分公开；reviews 行政复议；lawsuits 行政诉讼"),
    "value": ("数值", "空白为原文空白或未读出"), "template": ("模板", "2008、2014 旧统计表；2019、2021 官方模板"),
    "source": ("出处", "figures 列名或 old:行代码"),
}
RUN_COLS = {
    "id": ("编号", ""), "started": ("开始", "UTC"), "finished": ("结束", "UTC"),
    "status": ("状态", "running 进行中；finished 完成；shutdown 被中止（可用 --jobdir 续抓）；interrupted 进程被杀"),
    "sites": ("网站", "JSON：本次抓取的网站名"), "jobdir": ("续抓目录", "Scrapy JOBDIR"),
    "pages": ("页面数", "收到的响应（列表页、年报网页、附件）"), "new": ("新文件", "首次存入的网址"),
    "changed": ("有变化", "内容变化、存入新版本的网址"), "unchanged": ("无变化", "304 或内容相同"),
    "failed": ("失败", "重试后仍失败的请求"), "blocked": ("被拦截网站", "遇到反爬虫墙的网站数"),
    "note": ("备注", "中止原因"),
    "expected": ("栏目自称条数", "本次抓取中写明条数的栏目，其自称条数之和"),
    "reached": ("读到条数", "同一批栏目读到的条目数之和（每个栏目最多计到其自称条数）"),
}
FETCH_COLS = {
    "url": ("网址", ""), "site": ("来源网站", ""), "role": DOCUMENT_COLS["role"],
    "sha256": ("当前版本", "该网址当前内容的 SHA-256"), "final_url": DOCUMENT_COLS["final_url"],
    "http_status": DOCUMENT_COLS["http_status"], "content_type": DOCUMENT_COLS["content_type"],
    "etag": DOCUMENT_COLS["etag"], "last_modified": DOCUMENT_COLS["last_modified"],
    "parent_url": ("所属网页", "附件所在的年报网页"), "first_seen": ("首次发现", "UTC"),
    "last_fetched": ("最近抓取", "UTC"), "last_changed": ("最近变化", "UTC"),
    "versions": ("版本数", "存下的不同内容个数"), "run_id": ("抓取批次", "runs.id"),
    "title": ("标题", "网页上的标题"), "published": ("发布日期", "网页上标注的发布日期"),
    "publisher": ("发布机构", "网页上的发布机构或信息来源"), "index_no": ("索引号", "政府信息公开索引号"),
    "report_year": ("报告年度", "从标题读出"), "error": ("最近错误", "最近一次失败的原因；成功后清空"),
    "warc_file": ("WARC 文件", "带来当前版本字节的 HTTP 响应所在的 WARC 文件"),
    "warc_offset": DOCUMENT_COLS["warc_offset"], "warc_length": DOCUMENT_COLS["warc_length"],
}
WARC_FILE_COLS = {
    "name": ("文件名", "warc/ 中的 WARC 1.1 文件（gzip），旁边的 .cdxj 是它的索引"),
    "run_id": ("抓取批次", "runs.id"), "size": ("字节数", ""), "records": ("记录数", "warcinfo、请求与响应记录"),
    "closed": ("关闭时间", "UTC"),
}
SITE_COLS = {
    "name": ("网站", "网站配置名（sites/*.yaml）"), "start_url": ("栏目网址", "年报栏目（或发现栏目的起点）"),
    "family": ("网站系统", "trs_old / trs_new / hanweb / gkmlpt / static"), "agency": ("机关", "配置中写明的机关"),
    "status": ("状态", ("ok 正常；empty 栏目中没有年报；partial 部分列表页、年报网页或附件未能取得，"
                        "或读到的条目少于栏目自称的条数（原因中写明，如“10/20：较早的条目只能经 list2.trsapi 取得”）；"
                        "blocked 反爬虫墙；robots robots.txt 禁止；failed 栏目、首页或 robots.txt 无法访问，"
                        "从首页找不到年报栏目，或年报网页全部失败")),
    "reason": ("原因", ""), "last_run": ("最近抓取批次", "runs.id"), "last_checked": ("最近检查", "UTC"),
    "found": ("发现年报网页", "最近一次抓取读到的年报网页数"), "reports": ("主版本年报", "档案中该网站的主版本年报数"),
    "adcode": ("网站地区代码", "网站配置中机关或地区的行政区划代码；年报机关名称未写明地名时用作其地区"),
    "expected": ("栏目自称条数", ("栏目页面写明的条目总数：TRS recordCount / countnum、createPageHTML 的条数、"
                                 "大汉 totalRecord、gkmlpt total、“共N条”；空白为栏目未写明")),
    "reached": ("读到条数", ("最近一次抓取在栏目列表页（含分页与列表接口）上读到的不同条目数；"
                             "少于栏目自称条数即为 partial")),
}
VERSION_COLS = {k: DOCUMENT_COLS[k] for k in ("url", "sha256", "role", "site", "http_status", "etag",
                                               "last_modified", "fetched_at", "size", "parent_sha256")}
KEY_FIGURES = {
    "requests_new": "本年新收申请（总计列）", "requests_carried_in": "上年结转申请",
    "granted": "予以公开", "partly_granted": "部分公开", "results_total": "办理结果总计",
    "reviews": "行政复议总计", "reviews_corrected": "行政复议结果纠正",
    "suits_direct": "未经复议直接起诉总计", "suits_after_review": "复议后起诉总计",
}


def figure_labels() -> dict[str, str]:
    out = {}
    for name, table, row, col in store.FIGURE_COLUMNS:
        if table == 3 and col == "total":
            out[name] = "表三·" + templates.ROW_LABELS[(3, row)] + "（总计）"
        elif table == 3:
            out[name] = "表三·新收申请·" + templates.COL_LABELS[(3, col)]
        else:
            out[name] = "表四·" + templates.ROW_LABELS[(4, row)] + "·" + templates.COL_LABELS[(4, col)]
    return out


def column_labels() -> dict[str, dict[str, tuple[str, str]]]:
    """{table: {column: (label, description)}} for every table and view researchers see."""
    region = {k: REPORT_COLS[k] for k in ("agency", "agency_id", "report_year", "adcode", "province", "city", "county",
                                          "status")}
    t3 = {"report": ("年报", ""), **region, "template_t3": REPORT_COLS["template_t3"]}
    for row, col in store.t3_pairs():
        t3[store.wide_name(row, col)] = (
            templates.ROW_LABELS[(3, row)] + "·" + templates.COL_LABELS[(3, col)], f"表三 {row} × {col}，按原文")
    figs = {"report": ("年报", ""), **region, "template_t3": REPORT_COLS["template_t3"],
            "is_primary": REPORT_COLS["is_primary"], "t3_cells": ("表三单元格数", "0 表示未读到表三")}
    figs.update({k: (v, "由 cells 汇总，空白按缺失处理") for k, v in figure_labels().items()})
    key = {k: (v, "空白不计入合计") for k, v in KEY_FIGURES.items()}
    return {
        "reports": REPORT_COLS, "documents": DOCUMENT_COLS, "cells": CELL_COLS, "sections": SECTION_COLS,
        "issues": ISSUE_COLS, "search": SEARCH_COLS, "failures": FAILURE_COLS, "t3_wide": t3, "figures": figs,
        "totals_by_year": {"report_year": REPORT_COLS["report_year"], "reports": ("年报数", ""),
                           "reports_with_t3": ("含表三的年报数", "合计所依据的年报数"),
                           "reports_unread": ("未能完整读取的年报数",
                                              "状态为 extraction_incomplete 或 failed 的主年报：其数字缺失或不全，"
                                              "合计中不含"), **key},
        "year_totals": {"rowid": ("行号", "汇总行的内部编号，重算时会变"), "report_year": REPORT_COLS["report_year"], "province": REPORT_COLS["province"],
                        "status": REPORT_COLS["status"], "has_t3": ("含表三", "1：这些年报读到了表三"),
                        "reports": ("年报数", "该年度、省份、状态下的主版本年报数"),
                        **{k: (v, "各年报该数字之和，空白不计") for k, v in figure_labels().items()}},
        "agency_series": {**region, "report": ("年报", ""), **key},
        "old": OLD_COLS, "series_comparable": COMPARABLE_COLS,
        "runs": RUN_COLS, "fetches": FETCH_COLS, "sites": SITE_COLS, "document_versions": VERSION_COLS,
        "warc_files": WARC_FILE_COLS,
        "pending": {"report": ("年报", "已写入、派生数据尚未更新的年报（批处理结束时清空）")},
        "pending_years": {"report_year": ("年度", "year_totals 待重算的年度（-1 为未识别年度；批处理结束时清空）")},
        "reparse_todo": {"sha256": ("文件", "未完成的 nianbao reparse 尚待解析的文件"),
                         "total": ("总数", "该次重新解析的文件总数")},
    }


TABLES = {
    # Four facets by default: each counts every row, about 0.2 s over a million reports
    # (benchmarks/site.py). City, county, agency, container and the old template are a
    # column menu's "Facet by this" (or &_facet=…) away.
    "reports": ("年报", ("每份年报一行：机关、年度、地区、模板、解析状态。点击标题查看按官方模板排版的三张表与原文。"
                         "按市、县、机关、文件类型分面：点列名，选 Facet by this。"),
                ["report_year", "province", "status", "template_t3"]),
    "cells": ("单元格", "三张统计表的每一个数字（长表）：年报 × 表号 × 行代码 × 列代码，连同原文字样与出处。", []),
    "sections": ("正文", "年报六个部分的全文。", ["no"]),
    "issues": ("问题", "违反的勾稽关系（rule）与提取缺失（extraction）。", ["kind", "code", "table_no"]),
    "documents": ("原始文件", "抓取到的每一个文件，按 SHA-256 存放，记录来源网址与抓取时间。", ["type", "site", "role"]),
    "search": ("检索文本", "全文检索所索引的标题与正文片段；检索请用页首的搜索框。", []),
    "failures": ("失败记录", "无法提取或解析的文件及原因。", ["stage"]),
    "figures": ("关键数字", "每份年报一行：表三各行的总计列、新收申请按申请人类型、表四全部十五个数字。由 cells 汇总。",
                ["report_year", "province", "status", "template_t3"]),
    "year_totals": ("按年度、省份汇总", ("主版本年报的关键数字按年度、省份、解析状态、是否读到表三求和（空白不计），"
                                    "由 figures 汇总；按年度的统计查询与图表读这里。"), ["report_year", "province", "status"]),
    "t3_wide": ("表三宽表", "每份年报一行，表三每个单元格一列（列名：行代码__列代码）。", []),
    "totals_by_year": ("按年度合计", "全部主版本年报的关键数字按年度求和（空白不计）。", []),
    "agency_series": ("机关时间序列", "每个机关每年一行的关键数字，便于比较同一机关的历年变化。", []),
    "old": ("旧统计表", ("2008–2018 年年报的《政府信息公开情况统计表》：每个数字一行，行代码见 pipeline/old_template.py，"
                         "列 year 为本年度、cumulative 为历年累计，连同原文的指标名称与单位。"), ["row", "col", "unit"]),
    "series_comparable": ("可比序列", "2008–2025 年新旧模板中含义相同的数字，每个机关、年度、指标一行。", ["measure", "template"]),
    "runs": ("抓取批次", "每次抓取一行：页面数、新文件、变化、失败、被拦截网站，栏目自称条数与读到条数。", ["status"]),
    "fetches": ("网址", "抓取过的每个网址：当前版本、条件请求用的 ETag/Last-Modified、网页上的元数据、最近错误。",
                ["site", "role"]),
    "sites": ("网站", ("每个配置的网站栏目：网站系统、最近一次抓取的状态与原因、"
                       "栏目自称条数与读到条数（读到少于自称即为 partial）。"),
              ["status", "family"]),
    "document_versions": ("文件版本", "每个网址存下的每个版本，按时间先后。", []),
    "warc_files": ("WARC 文件", "每次抓取写下的 WARC 文件：每个 HTTP 请求与响应的原样记录，可用 pywb 等回放。", []),
    "pending": ("待更新", "内部：已写入但派生数据尚未更新的年报。", []),
    "pending_years": ("待重算年度", "内部：按年度汇总待重算的年度。", []),
    "reparse_todo": ("重新解析进度", "内部：中断的 nianbao reparse 的检查点，再次运行时从这里继续。", []),
    "frontier_cycles": ("分布式抓取轮次", "内部：共享队列（Redis）上每一轮抓取对应的抓取批次。", []),
    "frontier_sites": ("分布式抓取进度", "内部：每一轮中各网站由各抓取进程报告的页面数、报告页数与缺口。", []),
    "frontier_applied": ("已写入消息", "内部：归档进程已写入的抓取消息（每条只写一次）。", []),
}


def _sum(*cols: str) -> str:
    return " + ".join(f"COALESCE(SUM({c}), 0)" for c in cols)


_DENIED = [f"t3_denied_{c}" for c in ("state_secret", "prohibited_by_law", "security_stability", "third_party",
                                       "internal_affairs", "process_info", "enforcement_file", "query_matter")]
_UNAVAIL = ["t3_unavailable_not_held", "t3_unavailable_needs_creation", "t3_unavailable_unclear"]
_NOTPROC = [f"t3_not_processed_{c}" for c in ("petition", "duplicate", "publication", "excessive", "confirmation")]
_OTHER = ["t3_other", "t3_other_no_correction", "t3_other_no_fee", "t3_other_other"]
# The per-year queries read year_totals (store/schema.py): sums of sums, and a count is
# SUM(reports). The same numbers as summing figures of the primary reports with table 3.
_BASE = "FROM year_totals WHERE has_t3 = 1"
SEARCH_RANKED = 5000  # matches ranked by relevance, newest first (fulltext, the search page)


def short_label(column: str) -> str:
    """「属于国家秘密」 for t3_denied_state_secret: the row's own words, without numbering."""
    for name, table, row, col in store.FIGURE_COLUMNS:
        if name == column:
            if table == 3 and col != "total":
                return templates.COL_LABELS[(3, col)]
            if table == 4:
                return templates.ROW_LABELS[(4, row)] + templates.COL_LABELS[(4, col)]
            label = next(r.label for tpl in ("2021", "2019") for r in templates.table3_rows(tpl) if r.code == row)
            return re.sub(r"^\d+\.|^（.）", "", label)
    raise KeyError(column)


def _labelled(cols: list[str]) -> str:
    return ",\n  ".join(f"SUM({c}) AS \"{short_label(c)}\"" for c in cols)


def _rate(num: str, den: str) -> str:
    return f"ROUND(100.0 * ({num}) / NULLIF({den}, 0), 1)"


def fulltext_sql(shown: int) -> str:
    """The best `shown` passages among the newest SEARCH_RANKED that match :q. Ranking
    every match of a common word (复议: half a million passages at a million reports)
    took seconds; the newest matches come straight off the index."""
    return f"""WITH hits AS (SELECT rowid, rank FROM search_fts WHERE search_fts MATCH nianbao_fts_query(:q)
                     ORDER BY rowid DESC LIMIT {SEARCH_RANKED})
SELECT s.report AS report, r.title AS 标题, r.agency AS 发布机关, r.report_year AS 年度,
  COALESCE(s.heading, '') AS 位置, s.section_no AS 部分, nianbao_snippet(s.text, :q) AS snippet
FROM hits JOIN search s ON s.id = hits.rowid JOIN reports r ON r.id = s.report
ORDER BY hits.rank LIMIT {shown}"""


QUERIES: dict[str, dict] = {
    "requests_by_year": {
        "title": "申请总量与办理结果按年份",
        "description": "各年度新收、结转的政府信息公开申请，以及予以公开、部分公开、不予公开、无法提供、不予处理、"
                       "其他处理的数量和予以公开率（予以公开 ÷ 办理结果总计）。空白单元格不计入合计。",
        "sql": f"""SELECT report_year AS 年度, SUM(reports) AS 年报数,
  SUM(t3_new) AS 新收申请, SUM(t3_carried_in) AS 上年结转,
  SUM(t3_granted) AS 予以公开, SUM(t3_partly_granted) AS 部分公开,
  {_sum(*_DENIED)} AS 不予公开, {_sum(*_UNAVAIL)} AS 无法提供,
  {_sum(*_NOTPROC)} AS 不予处理, {_sum(*_OTHER)} AS 其他处理,
  SUM(t3_results_total) AS 办理结果总计, SUM(t3_carried_out) AS 结转下年,
  {_rate('SUM(t3_granted)', 'SUM(t3_results_total)')} AS "予以公开率%"
{_BASE}
GROUP BY report_year ORDER BY report_year""",
    },
    "refusal_reasons": {
        "title": "不予公开理由分布",
        "description": "不予公开的八类理由（国家秘密、法律法规禁止、三安全一稳定、第三方权益、内部事务、过程性信息、"
                       "行政执法案卷、行政查询事项）各年度的件数。",
        "sql": f"""SELECT report_year AS 年度,
  {_labelled(_DENIED)},
  {_sum(*_DENIED)} AS 不予公开合计
{_BASE}
GROUP BY report_year ORDER BY report_year""",
    },
    "unavailable_not_processed": {
        "title": "无法提供与不予处理的构成",
        "description": "“无法提供”三种情形与“不予处理”五种情形各年度的件数，以及二者占办理结果总计的比例。",
        "sql": f"""SELECT report_year AS 年度,
  {_labelled(_UNAVAIL)},
  {_labelled(_NOTPROC)},
  {_rate(_sum(*_UNAVAIL), 'SUM(t3_results_total)')} AS "无法提供占比%",
  {_rate(_sum(*_NOTPROC), 'SUM(t3_results_total)')} AS "不予处理占比%"
{_BASE}
GROUP BY report_year ORDER BY report_year""",
    },
    "applicant_types": {
        "title": "申请人类型结构",
        "description": "本年新收申请按申请人类型（自然人、商业企业、科研机构、社会公益组织、法律服务机构、其他）分年度的件数和自然人占比。",
        "sql": f"""SELECT report_year AS 年度,
  {_labelled(['new_natural_person', 'new_commercial', 'new_research', 'new_public_interest', 'new_legal_service', 'new_other_org'])},
  SUM(t3_new) AS 总计,
  {_rate('SUM(new_natural_person)', 'SUM(t3_new)')} AS "自然人占比%"
{_BASE}
GROUP BY report_year ORDER BY report_year""",
    },
    "review_litigation": {
        "title": "行政复议与诉讼的纠错率",
        "description": "因政府信息公开被申请行政复议、提起行政诉讼的件数和结果；纠错率 = 结果纠正 ÷（总计 − 尚未审结）。",
        "sql": f"""SELECT report_year AS 年度,
  SUM(review_total) AS 复议总计, SUM(review_corrected) AS 复议纠正,
  {_rate('SUM(review_corrected)', 'SUM(review_total) - COALESCE(SUM(review_pending), 0)')} AS "复议纠错率%",
  SUM(suit_direct_total) AS 直接起诉总计, SUM(suit_direct_corrected) AS 直接起诉纠正,
  {_rate('SUM(suit_direct_corrected)', 'SUM(suit_direct_total) - COALESCE(SUM(suit_direct_pending), 0)')} AS "直接起诉纠错率%",
  SUM(suit_after_review_total) AS 复议后起诉总计, SUM(suit_after_review_corrected) AS 复议后起诉纠正,
  {_rate('SUM(suit_after_review_corrected)', 'SUM(suit_after_review_total) - COALESCE(SUM(suit_after_review_pending), 0)')} AS "复议后起诉纠错率%"
FROM year_totals
GROUP BY report_year HAVING SUM(review_total) IS NOT NULL ORDER BY report_year""",
    },
    "broken_rules": {
        "title": "勾稽关系不一致的年报及其出错的规则",
        "description": "原文数字违反勾稽关系的年报（数字按原文照录，未作更正），每条违反的规则一行，含计算值与印刷值。"
                       "可按年度筛选（留空为全部）。",
        "sql": """SELECT r.id AS report, r.title AS 标题, r.agency AS 发布机关, r.report_year AS 年度,
  i.code AS 规则, i.message AS 说明, i.lhs AS 计算值, i.rhs AS 印刷值
FROM issues i JOIN reports r ON r.id = i.report
WHERE i.kind = 'rule' AND r.is_primary = 1 AND (:year = '' OR r.report_year = CAST(:year AS INTEGER))
ORDER BY r.report_year DESC, r.agency, i.id
LIMIT 500""",
    },
    "broken_rules_by_year": {
        "title": "各规则的出错次数",
        "description": "每条勾稽规则每年被多少份年报违反（原文数字如此，未作更正）。",
        "sql": """SELECT r.report_year AS 年度, i.code AS 规则, COUNT(DISTINCT i.report) AS 年报数
FROM issues i JOIN reports r ON r.id = i.report
WHERE i.kind = 'rule' AND r.is_primary = 1
GROUP BY r.report_year, i.code ORDER BY r.report_year, i.code""",
    },
    "agency_history": {
        "title": "某机关历年对比",
        "description": ("输入机关名称（或其中一段，如“洪泽区”），列出其 2008 年以来各年度可比的关键数字（2008–2018 年取自旧统计表）。"
                        "同一机关各年的不同写法按机关编号归并。"),
        "sql": """SELECT s.agency_id AS 机关编号, MAX(s.agency) AS 发布机关, s.report_year AS 年度, MIN(s.report) AS report,
  MAX(s.template) AS 模板,
  MAX(CASE WHEN s.measure = 'requests' THEN s.value END) AS 收到申请,
  MAX(CASE WHEN s.measure = 'granted' THEN s.value END) AS 予以公开,
  MAX(CASE WHEN s.measure = 'partly_granted' THEN s.value END) AS 部分公开,
  MAX(CASE WHEN s.measure = 'reviews' THEN s.value END) AS 行政复议,
  MAX(CASE WHEN s.measure = 'lawsuits' THEN s.value END) AS 行政诉讼
FROM series_comparable s
WHERE :agency != '' AND s.agency_id IN (SELECT DISTINCT agency_id FROM reports INDEXED BY reports_facet_agency
                                        WHERE is_primary = 1 AND agency LIKE '%' || :agency || '%')
GROUP BY s.agency_id, s.report_year
ORDER BY s.agency_id, s.report_year
LIMIT 1000""",
    },
    "missing_reports": {
        "title": "年报缺失：已知机关中某年没有年报的",
        "description": "在所选年度之前已发布过年报、但该年度没有年报的机关（可能未发布，也可能未抓取到）。默认 2023 年。",
        "sql": """SELECT agency_id AS 机关编号, MAX(agency) AS 发布机关, MIN(report_year) AS 最早年度,
  MAX(report_year) AS 最近年度, COUNT(DISTINCT report_year) AS 已有年报年数
FROM reports
WHERE is_primary = 1 AND agency_id IS NOT NULL
GROUP BY agency_id
HAVING MIN(report_year) < COALESCE(NULLIF(:year, ''), '2023') + 0
   AND SUM(report_year = COALESCE(NULLIF(:year, ''), '2023') + 0) = 0
ORDER BY agency_id
LIMIT 1000""",
    },
    "cross_checks": {
        "title": "交叉核对：前后年度衔接、正文与表格、历年累计",
        "description": ("continuity：本年“上年结转”与上年报告“结转下年度”不一致；prose：正文所述数字与表中不一致；"
                        "cumulative：旧统计表“历年累计”不等于上年累计加本年。只标出，不更正数字。"
                        "最近核对的在前；可按年度（留空为全部）和类别筛选。"),
        # Newest finding first, read backwards off the table: over a million reports
        # the findings of all years sorted by year passed the time limit.
        "sql": """SELECT i.report AS report, r.agency AS 发布机关, r.report_year AS 年度, i.kind AS 类别,
  i.code AS 项目, i.message AS 说明, i.lhs AS 对照值, i.rhs AS 本报告值, i.evidence AS 依据
FROM issues i NOT INDEXED CROSS JOIN reports r ON r.id = i.report
WHERE i.kind IN ('continuity', 'prose', 'cumulative') AND (:kind = '' OR i.kind = :kind)
  AND r.is_primary = 1 AND (:year = '' OR r.report_year = CAST(:year AS INTEGER))
ORDER BY i.id DESC
LIMIT 1000""",
    },
    "comparable_series": {
        "title": "2008–2025 可比序列",
        "description": ("新旧模板中含义相同的数字：收到申请、予以公开、部分公开、行政复议、行政诉讼；“模板”一列说明数字出自 2008、"
                        "2014（旧统计表）或 2019、2021（官方模板）。可按机关编号或年度筛选；未识别机关编号的年报不在其中。"),
        # A range on agency_id (all of them when the field is empty) lets the index both
        # find one agency and give the order: a million reports' series are not sorted.
        "sql": """SELECT agency_id AS 机关编号, agency AS 发布机关, report_year AS 年度, measure AS 指标, value AS 数值,
  template AS 模板, source AS 出处, report AS report
FROM series_comparable INDEXED BY series_agency
WHERE agency_id BETWEEN COALESCE(NULLIF(:agency_id, ''), '') AND COALESCE(NULLIF(:agency_id, ''), char(1114111))
  AND (:year = '' OR report_year = CAST(:year AS INTEGER))
ORDER BY agency_id, report_year, measure
LIMIT 2000""",
    },
    "status_by_year": {
        "title": "解析状态按年份",
        "description": "每年的年报数及解析状态：正常、数字不一致、提取不完整、非年报、失败。",
        "sql": """SELECT report_year AS 年度, SUM(reports) AS 年报数,
  SUM(CASE WHEN status = 'ok' THEN reports ELSE 0 END) AS 正常,
  SUM(CASE WHEN status = 'figures_inconsistent' THEN reports ELSE 0 END) AS 数字不一致,
  SUM(CASE WHEN status = 'extraction_incomplete' THEN reports ELSE 0 END) AS 提取不完整,
  SUM(CASE WHEN status = 'not_a_report' THEN reports ELSE 0 END) AS 非年报,
  SUM(CASE WHEN status = 'failed' THEN reports ELSE 0 END) AS 失败
FROM year_totals
GROUP BY report_year ORDER BY report_year""",
    },
    "province_overview": {
        "title": "各省申请量与公开率",
        "description": "所选年度（默认 2023）各省级行政区的年报数、新收申请和予以公开率。",
        "sql": f"""SELECT COALESCE(province, '（未识别）') AS 省级, SUM(reports) AS 年报数, SUM(t3_new) AS 新收申请,
  {_rate('SUM(t3_granted)', 'SUM(t3_results_total)')} AS "予以公开率%"
{_BASE} AND report_year = COALESCE(NULLIF(:year, ''), '2023') + 0
GROUP BY province ORDER BY 新收申请 DESC""",
    },
    "fulltext": {
        "title": "全文检索",
        "description": ("在年报标题和正文中检索，两个字的词（如“复议”“诉讼”）也能找到；多个词用空格分开表示同时出现。"
                        f"匹配超过 {SEARCH_RANKED:,} 处时，只在最近收录的 {SEARCH_RANKED:,} 处中按相关度排列：请加词缩小范围。"),
        "sql": fulltext_sql(50),
    },
}


def build(db_name: str, raw_root: str | None = None, limits: dict | None = None) -> dict:
    """Datasette metadata; `limits` overrides the site's resource caps (site/limits.py)."""
    labels = column_labels()
    tables: dict[str, dict] = {}
    for name, (title, desc, facets) in TABLES.items():
        cols = labels.get(name, {})
        t: dict = {"title": f"{title}（{name}）", "description": desc,
                   "columns": {c: f"{lab}：{d}" if d else lab for c, (lab, d) in cols.items()}}
        if facets:
            t["facets"] = facets
        tables[name] = t
    tables["reports"]["label_column"] = "title"
    tables["reports"]["sort_desc"] = "report_year"
    tables["reports"]["size"] = 50
    tables["t3_wide"]["size"] = 20  # 175 columns, each one lookup: a short page stays fast
    for shadow in ("search_fts", "search_fts_data", "search_fts_idx", "search_fts_docsize", "search_fts_config",
                   "search_fts_content"):
        tables[shadow] = {"hidden": True}
    for internal in ("pending", "reparse_todo", "frontier_cycles", "frontier_sites", "frontier_applied"):
        tables[internal]["hidden"] = True
    return {
        "title": TITLE, "description": DESCRIPTION, "source": SOURCE, "license": LICENSE,
        "databases": {db_name: {
            "title": "年报档案", "description": DESCRIPTION, "tables": tables,
            "queries": {k: dict(v) for k, v in QUERIES.items()},
        }},
        "plugins": {"nianbao": {"raw_root": raw_root, "db": db_name, "limits": dict(limits or {})}},
    }
