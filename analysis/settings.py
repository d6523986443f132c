"""Settings read in one place: workspace path, limits, demo folder."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"
DEFAULT_WORKSPACE = DATA_DIR / "workspace.duckdb"
ENV_WORKSPACE = "DELIVERY_TRACE_WORKSPACE"

# Decompression-bomb and size guards (bytes); see docs/security.md.
MAX_FILE_BYTES = int(os.environ.get("DELIVERY_TRACE_MAX_FILE_BYTES", 2 * 1024**3))
MAX_EXPANDED_BYTES = int(os.environ.get("DELIVERY_TRACE_MAX_EXPANDED_BYTES", 4 * 1024**3))
MAX_EXPANSION_RATIO = int(os.environ.get("DELIVERY_TRACE_MAX_EXPANSION_RATIO", 200))
MAX_ROWS = int(os.environ.get("DELIVERY_TRACE_MAX_ROWS", 20_000_000))


def workspace_path(explicit: str | os.PathLike[str] | None = None) -> str:
    """The workspace to open: the explicit argument, else the environment, else the default."""
    if explicit:
        return str(explicit)
    env = os.environ.get(ENV_WORKSPACE)
    if env:
        return env
    return str(DEFAULT_WORKSPACE)
