"""Who an agency is, across years and spellings: its place (gazetteer.py) and a stable
`agency_id` = 行政区划代码 of its place + its organ, normalised.

「淮安市洪泽区人民政府」 (2023) and 「洪泽区人民政府」 (2024) are 320813:人民政府;
「南溪县自然资源局」 and 「宜宾市南溪区自然资源局」 are 511503:自然资源局. An organ
written short (管委会, 政府办) is written out, so spelling variants line up; organs that
really changed (自然资源局 vs 国土资源局) stay apart. An agency whose name holds no
place is keyed by its whole name under 000000 until the portal's region places it.
"""
from __future__ import annotations

import re

from . import gazetteer

NOWHERE = "000000"
# Short forms of organ names as titles print them → the full form.
_ORGAN_FORMS = [
    (r"^政府办公室$|^政府办$|^人民政府办$", "人民政府办公室"),
    (r"^政府办公厅$", "人民政府办公厅"),
    (r"^政府$", "人民政府"),
    (r"管委会$", "管理委员会"),
    (r"^卫健委$|^卫健局$", "卫生健康委员会"),
    (r"^发改委$|^发改局$", "发展和改革委员会"),
    (r"^人社局$", "人力资源和社会保障局"),
    (r"^住建局$", "住房和城乡建设局"),
    (r"^市监局$", "市场监督管理局"),
]


def organ(rest: str) -> str:
    """The organ part of a name (after its place chain), in its full form."""
    out = re.sub(r"\s+", "", rest or "")
    for pattern, full in _ORGAN_FORMS:
        out = re.sub(pattern, full, out)
    return out


def identify(agency: str | None, within: str | None = None) -> dict:
    """Region columns and identity of an agency name: adcode, province, city, county,
    organ, agency_id, and renamed_from / region_reason when they apply."""
    out: dict = {"adcode": None, "province": None, "city": None, "county": None, "organ": None, "agency_id": None}
    if not agency:
        return out
    loc, why = gazetteer.locate(agency, within)
    if loc is None:
        out["organ"] = organ(agency)
        out["agency_id"] = f"{NOWHERE}:{out['organ']}"
        out["region_reason"] = why
        return out
    out.update(loc.as_row())
    out["organ"] = organ(loc.rest) or loc.matched  # 「某某县」 publishing in its own name
    out["agency_id"] = f"{loc.adcode}:{out['organ']}"
    if loc.renamed_from:
        out["renamed_from"] = loc.renamed_from
    return out
