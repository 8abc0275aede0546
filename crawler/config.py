"""Site configs: crawler/sites/*.yaml, one site per file (or a list under `sites:`)."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

SITES_DIR = Path(__file__).parent / "sites"
REQUIRED = ("name",)


def load_sites(dirs: list[Path | str] | None = None) -> list[dict]:
    out: list[dict] = []
    for d in dirs or [SITES_DIR]:
        d = Path(d)
        files = sorted(d.glob("*.yaml")) + sorted(d.glob("*.yml")) if d.is_dir() else [d]
        for f in files:
            data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
            for site in data.get("sites", [data]) if isinstance(data, dict) else data:
                out.append(validate(site, f))
    return out


def validate(site: dict, source: Path | str = "<config>") -> dict:
    for k in REQUIRED:
        if not site.get(k):
            raise ValueError(f"{source}: site config needs {k!r}")
    if not (site.get("start_url") or site.get("home_url")):
        raise ValueError(f"{source}: site {site['name']!r} needs start_url (or home_url with discover: true)")
    from . import families
    fam = site.setdefault("family", "auto")
    if fam != "auto":
        families.get(fam)
    if site.get("title_pattern"):
        re.compile(site["title_pattern"])
    return site


def slug(text: str) -> str:
    s = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return s or "site"


def write_site(site: dict, directory: Path | str = SITES_DIR) -> Path:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{slug(site['name'])}.yaml"
    path.write_text(yaml.safe_dump(site, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
