"""Region and identity from the gazetteer: every report whose agency names a place gets
its 行政区划代码, province, city and county, old names included; one agency gets one
agency_id across years and spellings; the portal's region places the rest."""
from __future__ import annotations

import pytest

from nianbao.pipeline import agencies, gazetteer
from nianbao.pipeline.model import Report
from nianbao.pipeline.store import Archive


@pytest.mark.parametrize("name,adcode,place,renamed", [
    ("南溪县自然资源局", "511503", ("四川省", "宜宾市", "南溪区"), "南溪县"),
    ("淮安市洪泽区人民政府", "320813", ("江苏省", "淮安市", "洪泽区"), None),
    ("洪泽区人民政府", "320813", ("江苏省", "淮安市", "洪泽区"), None),
    ("江苏省淮安市洪泽区人民政府办公室", "320813", ("江苏省", "淮安市", "洪泽区"), None),
    ("上海市人民政府办公厅", "310000", ("上海市", "上海市", None), None),
    ("北京市朝阳区卫生健康委员会", "110105", ("北京市", "北京市", "朝阳区"), None),
    ("宁夏吴忠金积工业园区管委会", "640300", ("宁夏回族自治区", "吴忠市", None), None),
    ("常熟市统计局", "320581", ("江苏省", "苏州市", "常熟市"), None),
    ("浙江省财政厅", "330000", ("浙江省", None, None), None),
    ("吉林市人民政府", "220200", ("吉林省", "吉林市", None), None),
    ("襄樊市人民政府", "420600", ("湖北省", "襄阳市", None), "襄樊市"),
    ("宁乡县教育局", "430182", ("湖南省", "长沙市", "宁乡市"), "宁乡县"),
    ("南京市江宁区东山镇人民政府", "320115", ("江苏省", "南京市", "江宁区"), None),
    ("成都市双流区市场监督管理局", "510116", ("四川省", "成都市", "双流区"), None),
])
def test_places_and_renames(name, adcode, place, renamed):
    loc, why = gazetteer.locate(name)
    assert why is None and (loc.adcode, (loc.province, loc.city, loc.county), loc.renamed_from) == (adcode, place, renamed)


def test_a_shared_name_needs_the_portal_and_an_unknown_one_says_so():
    loc, why = gazetteer.locate("鼓楼区人民政府")
    assert loc is None and "4 divisions" in why
    loc, _ = gazetteer.locate("鼓楼区人民政府", within="350100")  # a 福州 portal
    assert (loc.city, loc.county, loc.adcode) == ("福州市", "鼓楼区", "350102")
    loc, why = gazetteer.locate("国家税务总局")
    assert loc is None and "no division" in why


@pytest.mark.parametrize("names", [
    ("淮安市洪泽区人民政府", "洪泽区人民政府", "江苏省淮安市洪泽区人民政府", "洪泽区政府"),
    ("南溪县自然资源局", "宜宾市南溪区自然资源局", "四川省宜宾市南溪区自然资源局"),
    ("苏州市吴中区经济开发区管委会", "吴中区经济开发区管理委员会"),
])
def test_one_agency_one_id_across_spellings_and_renames(names):
    ids = {agencies.identify(n)["agency_id"] for n in names}
    assert len(ids) == 1 and not next(iter(ids)).startswith(agencies.NOWHERE)


def test_organs_of_one_place_stay_apart():
    a, b = (agencies.identify(n)["agency_id"] for n in ("洪泽区人民政府", "洪泽区人民政府办公室"))
    assert a != b


def test_the_portal_places_reports_whose_agency_names_no_place(archive_path):
    a = Archive(archive_path)
    a.crawl.set_site("fz", adcode="350100")
    a.crawl.set_site("yb", adcode="511500")
    docs = []
    for i, (agency, site) in enumerate((("鼓楼区人民政府", "fz"), ("国家统计局宜宾调查队", "yb"),
                                        ("淮安市洪泽区人民政府", "yb"))):
        d, _ = a.add_document(f"doc {i}".encode(), type="html", url=f"http://x/{i}.html", role="detail", site=site)
        place = agencies.identify(agency)
        rep = Report(status="ok", agency=agency, report_year=2023, title=f"{agency}2023年政府信息公开工作年度报告",
                     adcode=place["adcode"], province=place["province"], city=place["city"], county=place["county"],
                     agency_id=place["agency_id"])
        a.write_report(d, rep)
        docs.append(d)
    a.finish()
    rows = {r[0]: r[1:] for r in a.conn.execute("SELECT id, adcode, city, county, region_from, agency_id FROM reports")}
    assert rows[docs[0]] == ("350102", "福州市", "鼓楼区", "portal", "350102:人民政府")
    assert rows[docs[1]] == ("511500", "宜宾市", None, "portal", "511500:国家统计局宜宾调查队")
    assert rows[docs[2]][:4] == ("320813", "淮安市", "洪泽区", "agency")  # its own name wins over the portal's
    a.close()
