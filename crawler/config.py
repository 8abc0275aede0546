"""Site configs: YAML files in a user folder, one site per file (or a list under `sites:`).

The folder is the operator's, never the installed package's: by default `sites/` beside
the archive (archive.db → sites/), or any folder given with `--sites`. Files in
subfolders are not loaded (sites/unverified/ holds columns nobody has checked yet).
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

REQUIRED = ("name",)


def default_dir(archive: Path | str) -> Path:
    """Where the sites of an archive live unless told otherwise: beside it."""
    return Path(archive).resolve().parent / "sites"


def load_sites(paths: list[Path | str]) -> list[dict]:
    """Every site in these folders (their *.yaml/*.yml) or files."""
    out: list[dict] = []
    for d in map(Path, paths):
        if d.is_dir():
            files = sorted(d.glob("*.yaml")) + sorted(d.glob("*.yml"))
        elif d.exists():
            files = [d]
        else:
            raise FileNotFoundError(f"no site folder or file at {d}")
        for f in files:
            data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
            for site in data.get("sites", [data]) if isinstance(data, dict) else data:
                out.append(validate(site, f))
    names = [s["name"] for s in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"site names must be unique; repeated: {', '.join(dupes)}")
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
    # Politeness of this portal: download_slots on one machine, cluster/politeness.py for a cluster.
    for k, kind, least, what in (("delay", float, 0, "a number of seconds ≥ 0"),
                                 ("concurrency", int, 1, "a whole number ≥ 1")):
        v = site.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or kind(v) != v
                              or v < least):
            raise ValueError(f"{source}: site {site['name']!r}: {k} must be {what}, not {v!r}")
    return site


def download_slots(sites) -> dict[str, dict]:
    """Scrapy's DOWNLOAD_SLOTS for the sites whose YAML sets `delay:` or `concurrency:`,
    by the host of their column: how one machine honours them (a cluster does it through
    Redis, cluster/politeness.py). A stated delay is the gap between request starts, so
    it gets no random jitter."""
    slots: dict[str, dict] = {}
    for site in sites:
        keys = {k: site[k] for k in ("delay", "concurrency") if site.get(k) is not None}
        if "delay" in keys:
            keys["jitter"] = 0
        host = urlsplit(site.get("start_url") or site.get("home_url") or "").hostname
        if keys and host:
            slots[host] = keys
    return slots


def slug(text: str) -> str:
    s = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return s or "site"


def write_site(site: dict, directory: Path | str) -> Path:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{slug(site['name'])}.yaml"
    path.write_text(yaml.safe_dump(site, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
