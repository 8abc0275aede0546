"""The statistics table of the 2008–2018 reports (政府信息公开情况统计表): our row codes.

No national template fixed these tables before 2019; two layouts dominate and are both
read here:
- "2008" (reports for 2008–2013): a short table, 本年度 and often 历年累计 (since the
  Regulations took effect on 2008-05-01) as value columns: 主动公开信息数 (其中网站公开),
  受理依申请公开信息总数 by channel, 对申请的答复数 and its outcomes, 行政复议数,
  行政诉讼数, 申诉/举报数, 收费 and 减免;
- "2014" (reports for 2014–2018): 统计指标 | 单位 | 统计数, in blocks 主动公开,
  回应解读, 依申请公开, 行政复议, 行政诉讼, 举报投诉, 收费, 机构建设, 会议培训.

Every row gets a stable code (researchers' SQL depends on it) from this vocabulary; a
label matches a row by its wording, loosely (numbering, 其中, units and punctuation
stripped), and rows whose wording repeats (维持具体行政行为数 under both 行政复议 and
行政诉讼) by the block they stand in. Columns: `year` (本年度/统计数) and `cumulative`
(历年累计). `COMPARABLE` names the rows whose meaning matches a 2019/2021 table cell,
for the `series_comparable` table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

COLS = {"year": "本年度", "cumulative": "历年累计"}


@dataclass(frozen=True)
class OldRow:
    code: str
    label: str  # the usual wording
    unit: str
    pattern: str  # regex over the label, squashed and stripped of numbering (see key())
    block: str | None = None  # the block a shared wording must stand in

    def matches(self, label: str, block: str | None) -> bool:
        return re.search(self.pattern, label) is not None and (self.block is None or self.block == block)


ROWS: tuple[OldRow, ...] = (
    # 主动公开
    OldRow("proactive.total", "主动公开政府信息数", "条", r"^主动公开(政府)?信息(总)?数|^主动公开(政府)?信息$"),
    OldRow("proactive.normative_docs", "其中：主动公开规范性文件数", "条", r"主动公开规范性文件"),
    OldRow("proactive.normative_issued", "制发规范性文件总数", "件", r"制发规范性文件"),
    OldRow("proactive.website", "其中：网站公开政府信息数", "条", r"网站公开"),
    OldRow("proactive.gazette", "政府公报公开政府信息数", "条", r"公报公开"),
    OldRow("proactive.weibo", "政务微博公开政府信息数", "条", r"微博公开"),
    OldRow("proactive.wechat", "政务微信公开政府信息数", "条", r"微信公开"),
    OldRow("proactive.other", "其他方式公开政府信息数", "条", r"其他方式公开"),
    # 回应解读
    OldRow("response.hotspots", "回应公众关注热点或重大舆情数", "次", r"回应.*(热点|舆情)"),
    OldRow("response.press", "参加或举办新闻发布会总次数", "次", r"新闻发布会总?次数|举办新闻发布会"),
    OldRow("response.press_chief", "其中：主要负责同志参加新闻发布会次数", "次", r"主要负责同志.*新闻发布会"),
    OldRow("response.interviews", "政府网站在线访谈次数", "次", r"^政府网站在线访谈"),
    OldRow("response.interviews_chief", "其中：主要负责同志参加政府网站在线访谈次数", "次", r"主要负责同志.*在线访谈"),
    OldRow("response.interpretations", "政策解读稿件发布数", "篇", r"解读稿件"),
    OldRow("response.social_media", "微博微信回应事件数", "次", r"微博微信回应"),
    OldRow("response.other", "其他方式回应事件数", "次", r"其他方式回应"),
    # 依申请公开
    OldRow("requests.total", "受理依申请公开信息总数", "件",
           r"受理.*申请.*(总数|数)$|^收到申请(总)?数|^依申请公开(信息|申请)?(总)?数|^(受理|收到)政府信息公开申请(总)?数"),
    OldRow("requests.in_person", "当面申请数", "件", r"当面(申请|提交)"),
    OldRow("requests.fax", "传真申请数", "件", r"传真"),
    OldRow("requests.email", "电子邮件申请数", "件", r"电子邮件|电子邮箱"),
    OldRow("requests.online", "网上申请数", "件", r"网上申请|网络申请|网上提交|在线申请"),
    OldRow("requests.mail", "信函申请数", "件", r"信函|邮寄"),
    OldRow("requests.other", "其他形式申请数", "件", r"其他(形式|方式)申请"),
    OldRow("requests.completed", "申请办结数", "件", r"^申请办结数|^办结数"),
    OldRow("requests.on_time", "按时办结数", "件", r"按时办结"),
    OldRow("requests.extended", "延期办结数", "件", r"延期办结"),
    OldRow("answers.total", "对申请的答复数", "件", r"^(对申请的)?答复(总)?数|^申请答复数"),
    OldRow("answers.already_public", "属于已主动公开范围数", "件", r"已主动公开"),
    OldRow("answers.granted", "同意公开答复数", "件", r"^同意公开|^予以公开"),
    OldRow("answers.partly_granted", "同意部分公开答复数", "件", r"部分公开"),
    OldRow("answers.denied", "不予公开答复数", "件", r"^(不予|不同意|否决)(公开)?(答复)?数?$|^(不予|不同意|否决)公开"),
    OldRow("answers.denied.state_secret", "其中：涉及国家秘密", "件", r"国家秘密"),
    OldRow("answers.denied.commercial_secret", "涉及商业秘密", "件", r"商业秘密"),
    OldRow("answers.denied.privacy", "涉及个人隐私", "件", r"个人隐私"),
    OldRow("answers.denied.security_stability", "危及国家安全、公共安全、经济安全和社会稳定", "件", r"危及|三安全一稳定"),
    OldRow("answers.denied.not_gov_info", "不是《条例》所指政府信息", "件", r"不是.*政府信息|非政府信息"),
    OldRow("answers.denied.other_law", "法律法规规定的其他情形", "件", r"法律法规.*其他情形"),
    OldRow("answers.not_this_agency", "不属于本行政机关公开数", "件", r"不属于本(行政)?机关"),
    OldRow("answers.not_exist", "申请信息不存在数", "件", r"信息不存在"),
    OldRow("answers.correction", "告知作出更改补充数", "件", r"更改补充"),
    OldRow("answers.other_channel", "告知通过其他途径办理数", "件", r"其他途径"),
    # 行政复议、行政诉讼、举报
    OldRow("review.total", "行政复议数", "件", r"^(因政府信息公开(申请)?)?(提起|申请)?行政复议(案件)?(数量|数|案件数)?$"),
    OldRow("review.upheld", "维持具体行政行为数", "件", r"维持", block="review"),
    OldRow("review.corrected", "被依法纠错数", "件", r"纠错|纠正", block="review"),
    OldRow("review.other", "其他情形数", "件", r"^其他(情形|结果)", block="review"),
    OldRow("suit.total", "行政诉讼数", "件", r"^(因政府信息公开(申请)?)?(提起)?行政诉讼(案件)?(数量|数|案件数)?$"),
    OldRow("suit.upheld", "维持具体行政行为或者驳回原告诉讼请求数", "件", r"维持|驳回", block="suit"),
    OldRow("suit.corrected", "被依法纠错数", "件", r"纠错|纠正", block="suit"),
    OldRow("suit.other", "其他情形数", "件", r"^其他(情形|结果)", block="suit"),
    OldRow("complaints", "举报投诉数", "件", r"申诉|举报|投诉"),
    # 收费
    OldRow("fees.collected", "依申请公开信息收取的费用", "万元", r"收取的?费用|收费(总)?(金额|数额)|^收费"),
    OldRow("fees.waived", "减免费用金额", "万元", r"减免"),
    # 机构建设和保障、会议培训
    OldRow("staff.units", "政府信息公开工作专门机构数", "个", r"专门机构"),
    OldRow("staff.reading_points", "设置政府信息公开查阅点数", "个", r"查阅(点|场所)"),
    OldRow("staff.total", "从事政府信息公开工作人员数", "人", r"工作人员(总)?数|从事.*人员"),
    OldRow("staff.full_time", "专职人员数", "人", r"专职"),
    OldRow("staff.part_time", "兼职人员数", "人", r"兼职"),
    OldRow("budget", "政府信息公开专项经费", "万元", r"专项经费"),
    OldRow("meetings", "召开政府信息公开工作会议或专题会议数", "次", r"会议"),
    OldRow("trainings", "举办各类培训班数", "次", r"培训班"),
    OldRow("trainees", "接受培训人员数", "人次", r"接受培训"),
)
BY_CODE = {r.code: r for r in ROWS}
LABELS = {r.code: r.label for r in ROWS}

# Block headings: they set the context for the shared wordings below them.
BLOCKS = [("review", r"行政复议"), ("suit", r"行政诉讼"), ("requests", r"依申请|申请"), ("proactive", r"主动公开")]

# Rows whose meaning matches a cell of the 2019/2021 tables (the comparable series).
COMPARABLE = {
    "requests.total": "requests", "answers.granted": "granted", "answers.partly_granted": "partly_granted",
    "review.total": "reviews", "suit.total": "lawsuits",
}

UNITS = ("人次", "万元", "条", "件", "次", "篇", "个", "人", "元", "项", "份")
_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[.．、]|[①-⑳])+")


def key(label: str) -> str:
    """A label as matched: no spaces, numbering, 其中/包括, bracketed notes or trailing units."""
    s = re.sub(r"\s+", "", label or "")
    s = _NUMBERING.sub("", s)
    s = re.sub(r"^(其中|包括|含)[:：]?", "", s)
    s = re.sub(r"[（(][^()（）]{0,40}[)）]", "", s)
    s = re.sub(r"[:：、,，.。]+$", "", s)
    return s


def block_of(label: str) -> str | None:
    """The block a heading row opens, if it is one (「四、行政复议数量」 opens review)."""
    k = key(label)
    for name, pat in BLOCKS:
        if re.search(pat, k):
            return name
    return None


def row_for(label: str, block: str | None) -> OldRow | None:
    k = key(label)
    if not k:
        return None
    for r in ROWS:
        if r.matches(k, block):
            return r
    return None


def layout_for_year(year: int | None) -> str:
    return "2008" if year is not None and year <= 2013 else "2014"
