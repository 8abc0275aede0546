"""`nianbao sites add` reads robots.txt as the crawl does (RFC 9309): a 4xx answer,
401 and 403 included, is "no rules" and the probe goes on; a 5xx is "disallow all"."""
from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from nianbao.devkit.portals import faults as F
from nianbao.devkit.portals import start_portals, stop_portals


@pytest.fixture(scope="module")
def portal():
    ps = start_portals(["trs_old"], n_reports=1, n_other=1, seed=260, first_host=90, forms=("html",))
    yield ps[0]
    stop_portals(ps)


@pytest.mark.parametrize("code, added", [(401, True), (403, True), (404, True), (503, False)])
def test_sites_add_reads_robots_status_like_the_crawl(portal, tmp_path, code, added, reliability):
    portal.faults[("robots", None)] = F.status(code)
    try:
        proc = subprocess.run([sys.executable, "-m", "nianbao", "sites", "add", portal.home_url, "--name", "p",
                               "--dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    finally:
        portal.faults.clear()
    if added:
        assert proc.returncode == 0, proc.stderr
        cfg = yaml.safe_load((tmp_path / "p.yaml").read_text(encoding="utf-8"))
        assert cfg["start_url"] == portal.column_url
    else:
        assert proc.returncode != 0 and not (tmp_path / "p.yaml").exists()
        assert "robots.txt answered HTTP 503: treated as disallow all" in proc.stderr
    reliability(f"sites add: robots.txt answers {code}", "allow all (RFC 9309 §2.3.1.3)" if added else
                "disallow all (RFC 9309 §2.3.1.4), clear error", "column added" if proc.returncode == 0
                else proc.stderr.strip().splitlines()[-1][:120], group="fault")
