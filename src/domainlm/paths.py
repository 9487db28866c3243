"""Where user-level state lives: `$DOMAINLM_HOME` (default `~/.cache/domainlm`)."""

from __future__ import annotations

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
