"""Shared test fixtures: the real samples (in tests/fixtures), temporary archives,
artifacts, and one real Datasette over a known archive."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = FIXTURES / "samples"
PORTAL_PAGES = FIXTURES / "portals"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
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
    """Real Datasette over the known archive (known_archive.py), shared by the HTTP
    and browser tests; read-only, so sharing it cannot couple them."""
    from known_archive import known_archive

    from nianbao.pipeline.site import server

    d = tmp_path_factory.mktemp("site")
    known = known_archive(d / "archive.db")
    known["archive"].close()
    proc, url = server.start(d / "archive.db")
    known["url"] = url
    known["db"] = d / "archive.db"
    yield known
    server.stop(proc)
