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
