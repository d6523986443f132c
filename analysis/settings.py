"""Settings read in one place: workspace path, limits, demo folder."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"
DEFAULT_WORKSPACE = DATA_DIR / "workspace.duckdb"
ENV_WORKSPACE = "DELIVERY_TRACE_WORKSPACE"
MEMORY = ":memory:"

# Size, decompression-bomb and row guards; docs/security.md explains each one.
# Environment variable -> default. Read at call time (limits()), so a test or a
# long-running app sees a changed environment without re-importing this module.
LIMIT_ENV: dict[str, tuple[str, int]] = {
    "max_file_bytes": ("DELIVERY_TRACE_MAX_FILE_BYTES", 2 * 1024**3),
    "max_expanded_bytes": ("DELIVERY_TRACE_MAX_EXPANDED_BYTES", 4 * 1024**3),
    "max_expansion_ratio": ("DELIVERY_TRACE_MAX_EXPANSION_RATIO", 200),
    "ratio_floor_bytes": ("DELIVERY_TRACE_RATIO_FLOOR_BYTES", 64 * 1024**2),
    "max_archive_members": ("DELIVERY_TRACE_MAX_ARCHIVE_MEMBERS", 1000),
    "max_rows": ("DELIVERY_TRACE_MAX_ROWS", 20_000_000),
}


@dataclass(frozen=True)
class Limits:
    """What one load may consume; 0 switches a limit off (not advised for shared apps)."""

    max_file_bytes: int = LIMIT_ENV["max_file_bytes"][1]  # one file or upload, as given
    max_expanded_bytes: int = LIMIT_ENV["max_expanded_bytes"][1]  # an archive's unpacked total
    max_expansion_ratio: int = LIMIT_ENV["max_expansion_ratio"][1]  # unpacked / packed size
    ratio_floor_bytes: int = LIMIT_ENV["ratio_floor_bytes"][1]  # ratio checked above this
    max_archive_members: int = LIMIT_ENV["max_archive_members"][1]  # files in one ZIP
    max_rows: int = LIMIT_ENV["max_rows"][1]  # rows read from one file


def _env_int(var: str, default: int) -> int:
    raw = os.environ.get(var, "").strip().replace("_", "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{var} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise UsageError(f"{var} must not be negative, got {value}")
    return value


def limits(**overrides: int | None) -> Limits:
    """The limits from the environment, with explicit (e.g. command-line) overrides."""
    values = {field: _env_int(var, default) for field, (var, default) in LIMIT_ENV.items()}
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(values) - set(LIMIT_ENV)
    if unknown:
        raise UsageError(f"unknown limit(s): {', '.join(sorted(unknown))}")
    return Limits(**values)


# Import-time values, kept for callers that read the module constants.
MAX_FILE_BYTES = Limits.max_file_bytes
MAX_EXPANDED_BYTES = Limits.max_expanded_bytes
MAX_EXPANSION_RATIO = Limits.max_expansion_ratio
MAX_ROWS = Limits.max_rows


# DuckDB's memory budget per workspace. DuckDB's own default is 80 % of the RAM; with a
# budget it spills to disk instead (docs/benchmarks.md: the 1M-sends workspace build
# peaks at ~1.9 GB instead of 6.4 GB, and takes ~35 % longer).
ENV_MEMORY_LIMIT = "DELIVERY_TRACE_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1.5GB"
_MEMORY_RE = re.compile(r"\d+(?:\.\d+)?\s*(?:[KMGT]i?B|B)", re.IGNORECASE)


def memory_limit() -> str:
    """DuckDB's memory_limit for a workspace: DELIVERY_TRACE_MEMORY_LIMIT, else 1.5GB."""
    raw = os.environ.get(ENV_MEMORY_LIMIT, "").strip()
    if not raw:
        return DEFAULT_MEMORY_LIMIT
    if not _MEMORY_RE.fullmatch(raw):
        raise UsageError(f"{ENV_MEMORY_LIMIT} must be a size such as 1.5GB, 800MB or 4GiB, "
                         f"not {raw!r}")
    return raw


def workspace_path(explicit: str | os.PathLike[str] | None = None) -> str:
    """The workspace to open: the explicit argument, else the environment, else the default."""
    if explicit:
        return str(explicit)
    env = os.environ.get(ENV_WORKSPACE)
    if env:
        return env
    return str(DEFAULT_WORKSPACE)


def is_memory(path: str | os.PathLike[str]) -> bool:
    """Whether a workspace path means "keep everything in memory, write nothing"."""
    return str(path) == MEMORY
