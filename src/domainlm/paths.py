"""Where user-level state lives: `$DOMAINLM_HOME` (default `~/.cache/domainlm`)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def home() -> Path:
    """The user-level state folder (converted base models, caches); created on first use."""
    root = Path(os.environ.get("DOMAINLM_HOME") or Path.home() / ".cache" / "domainlm").expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def models_dir() -> Path:
    """Converted base models, one folder per alias."""
    path = home() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks (dataset files, index files, adapter weights)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
