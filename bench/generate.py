"""Generate (or reuse) the benchmark inputs of one size: `python -m bench.generate --size N`.

Files land in bench/out/v<GEN_VERSION>-s<seed>-n<size>/ with a MANIFEST.json naming each
input, its rows, the parser meant to read it and the time zone to load it in. A complete
manifest means the files are reused as they are.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from . import GEN_VERSION, OUT_DIR


@dataclass(frozen=True)
class Input:
    """One benchmark input: its files and how to load them."""

    key: str  # esp, xlsx, o365, exchange, postfix
    files: tuple[str, ...]
    rows: int
    format: str  # the parser meant to read it
    family: str  # regex of acceptable parser names (for parsers named differently)
    tz: str
    year: int | None
    side: str
    bytes: int = 0


SPECS = {  # key: (format, family, tz, year, side)
    "esp": ("touchbasepro_csv", r"^touchbasepro_csv$", "Africa/Johannesburg", None, "esp"),
    "xlsx": ("touchbasepro_xlsx", r"^touchbasepro_xlsx$", "Africa/Johannesburg", None, "esp"),
    "o365": ("o365_messagetrace", r"(o365|exo|office365).*(message_?trace|v1|cmdlet)", "UTC",
             None, "trace"),
    "exchange": ("exchange_msgtrk", r"exchange.*(msgtrk|tracking)", "UTC", None, "trace"),
    "postfix": ("postfix", r"^postfix", "Europe/Paris", 2025, "trace"),
}
KEYS = tuple(SPECS)


def folder(size: int, seed: int, out: Path = OUT_DIR) -> Path:
    """Where the inputs of (size, seed) live."""
    return out / f"v{GEN_VERSION}-s{seed}-n{size}"


def load_manifest(d: Path) -> dict[str, Input] | None:
    """The inputs of a finished generation, or None."""
    try:
        data = json.loads((d / "MANIFEST.json").read_text())
    except (OSError, ValueError):
        return None
    if data.get("generator_version") != GEN_VERSION:
        return None
    inputs = {k: Input(**{**v, "files": tuple(v["files"])}) for k, v in data["inputs"].items()}
    if all(all((d / f).exists() for f in i.files) for i in inputs.values()):
        return inputs
    return None


def generate(size: int, seed: int = 7, out: Path = OUT_DIR, *, force: bool = False,
             log: Callable[[str], None] = print) -> tuple[Path, dict[str, Input]]:
    """Write the inputs of one size (or reuse them); returns the folder and the inputs."""
    d = folder(size, seed, out)
    if not force and (done := load_manifest(d)) is not None:
        return d, done
    from . import gen_esp, gen_exchange, gen_microsoft, gen_postfix, world

    if d.exists():
        shutil.rmtree(d)
    tmp = d.with_name(d.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t0 = time.perf_counter()
    w = world.build(size, seed)
    log(f"  world of {size:,}: {w.n():,} journeys, {len(w.sub_email):,} subscribers "
        f"({time.perf_counter() - t0:.1f} s)")
    steps: list[tuple[str, tuple[str, ...], Callable[[], int]]] = [
        ("esp", ("touchbasepro_activity.csv",),
         lambda: gen_esp.write_csv(w, tmp / "touchbasepro_activity.csv")),
        ("xlsx", ("touchbasepro_activity.xlsx",),
         lambda: gen_esp.write_xlsx(w, tmp / "touchbasepro_activity.xlsx", max(1, size // 10))),
        ("o365", ("get-messagetrace_export.csv",),
         lambda: gen_microsoft.write_o365_v1(w, tmp / "get-messagetrace_export.csv", size)),
        ("exchange", ("MSGTRK20251103-1.LOG", "MSGTRKMD20251103-1.LOG"),
         lambda: sum(gen_exchange.write_msgtrk(w, tmp, size).values())),
        ("postfix", ("mail.log",), lambda: gen_postfix.write_postfix(w, tmp / "mail.log",
                                                                   4 * size)),
    ]
    inputs: dict[str, Input] = {}
    for key, files, write in steps:
        t = time.perf_counter()
        rows = write()
        fmt, family, tz, year, side = SPECS[key]
        nbytes = sum((tmp / f).stat().st_size for f in files)
        inputs[key] = Input(key, files, rows, fmt, family, tz, year, side, nbytes)
        log(f"  {key:9} {rows:>10,} rows {nbytes / 1e6:8.1f} MB  {time.perf_counter() - t:6.1f} s")
    manifest = {"generator_version": GEN_VERSION, "size": size, "seed": seed,
                "journeys": w.n(), "subscribers": len(w.sub_email),
                "distinct_failure_texts": len(set(w.j_text.values())),
                "seconds": round(time.perf_counter() - t0, 1),
                "inputs": {k: asdict(v) for k, v in inputs.items()}}
    (tmp / "MANIFEST.json").write_text(json.dumps(manifest, indent=2))
    tmp.rename(d)
    return d, inputs


def main(argv: list[str] | None = None) -> int:
    """CLI: generate the inputs of the given sizes."""
    ap = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    ap.add_argument("--size", type=int, action="append", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)
    for size in args.size:
        d, _ = generate(size, args.seed, args.out, force=args.force)
        print(d)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
