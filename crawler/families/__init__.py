"""One module per CMS family. A family module is pure and has:
NAME, detect(url, text) -> bool, parse_list(url, text) -> ListPage,
parse_detail(url, text) -> Detail. Add a family: write the module, add it to FAMILIES
(before `static`, the fallback; before `hanweb` when its pages could pass for a Hanweb jpage,
as TrueCMS's do), save a fixture page and test it."""
from __future__ import annotations

from types import ModuleType

from . import chinatax, epoint, gkmlpt, hanweb, jpaas, static, trs_new, trs_old, truecms

FAMILIES: dict[str, ModuleType] = {m.NAME: m for m in (gkmlpt, chinatax, jpaas, truecms, epoint, hanweb, trs_new,
                                                         trs_old, static)}


def get(name: str) -> ModuleType:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown CMS family {name!r}; known: {', '.join(FAMILIES)}") from None


def detect(url: str, text: str) -> ModuleType:
    for mod in FAMILIES.values():
        if mod.detect(url, text):
            return mod
    return static
