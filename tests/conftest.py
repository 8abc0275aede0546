"""Shared test fixtures: where the real samples live, temporary archives, artifacts."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NIANBAO_SHARED") or ROOT.parent / "shared")
SAMPLES = SHARED / "samples" / "reports"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    if not SAMPLES.is_dir():
        pytest.fail(f"real samples not found at {SAMPLES}: set NIANBAO_SHARED to the shared/ folder")
    return SAMPLES


@pytest.fixture
def archive_path(tmp_path) -> Path:
    return tmp_path / "archive.db"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """Real Datasette over the known archive (pipeline.site.synth), shared by the HTTP
    and browser tests; read-only, so sharing it cannot couple them."""
    from pipeline.site import server, synth

    d = tmp_path_factory.mktemp("site")
    known = synth.known_archive(d / "archive.db")
    known["archive"].close()
    proc, url = server.start(d / "archive.db")
    known["url"] = url
    known["db"] = d / "archive.db"
    yield known
    server.stop(proc)
