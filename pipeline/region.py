"""Where an agency sits: province, city, county, read from its name.

Names carry their place as a prefix chain (「江苏省淮安市洪泽区人民政府」), but many omit
the higher levels (「淮安市洪泽区人民政府」, 「上海市人民政府办公厅」). We read what the
name says and never invent a level; the crawler's site config can fill the rest.
"""
from __future__ import annotations

import re

PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州",
    "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
)
MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
_PROV_SUFFIX = r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?"
_CITY = re.compile(r"^([\u4e00-\u9fff]{1,8}?(?:市|自治州|地区|盟))")
_COUNTY = re.compile(r"^([\u4e00-\u9fff]{1,8}?(?:区|县|旗|自治县|市))(?!政府|人民政府办公室)")


def region_of(agency: str | None) -> dict[str, str | None]:
    out: dict[str, str | None] = {"province": None, "city": None, "county": None}
    if not agency:
        return out
    rest = agency
    for p in sorted(PROVINCES, key=len, reverse=True):
        m = re.match(re.escape(p) + _PROV_SUFFIX, rest)
        if m:
            out["province"] = p
            rest = rest[m.end():]
            if p in MUNICIPALITIES:
                out["city"] = p + "市"
            break
    if out["city"] is None:
        m = _CITY.match(rest)
        if m and not m.group(1).endswith(("人民政府", "政府")):
            out["city"] = m.group(1)
            rest = rest[m.end():]
    m = _COUNTY.match(rest)
    if m and not rest.startswith(("人民政府", "市人民")):
        name = m.group(1)
        if len(name) >= 2 and "园区" not in name and not name.startswith(("人民", "工业", "经济", "开发", "高新")):
            out["county"] = name
    return out
