"""The raw store: every fetched or ingested file, byte for byte, named by its sha256."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RawStore:
    """Write-once files named by their sha256: raw/ab/cd/abcd…; never overwritten."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = sha256(data)
        p = self.path(digest)
        if not p.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_suffix(".tmp%d" % os.getpid())
            try:
                tmp.write_bytes(data)
                os.replace(tmp, p)  # atomic: a crash never leaves a half file under the real name
            except OSError:
                tmp.unlink(missing_ok=True)  # disk full: no half file left behind, space given back
                raise
        return digest

    def get(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def __contains__(self, digest: str) -> bool:
        return self.path(digest).exists()


def raw_root_for(db_path: Path | str) -> Path:
    """The raw store lives beside the database: archive.db -> raw/ (other.db -> other.raw/)."""
    p = Path(db_path)
    return p.parent / ("raw" if p.stem == "archive" else p.stem + ".raw")
