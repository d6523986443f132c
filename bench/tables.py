"""The machine description and the result tables (plain text for the terminal, Markdown)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from typing import Any

from .measure_names import FILTERED, QUERY_NAMES

INPUT_LABELS = {"esp": "ESP CSV (TouchBasePro)", "xlsx": "ESP XLSX (TouchBasePro)",
                "o365": "Office 365 Get-MessageTrace CSV", "exchange": "Exchange MSGTRK logs",
                "postfix": "Postfix syslog"}


def _cmd(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=20,
                              check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine() -> dict[str, Any]:
    """CPU, cores, RAM, load, software versions and the git commit."""
    import duckdb

    cpu = next((x.split(":", 1)[1].strip() for x in open("/proc/cpuinfo")
                if x.startswith("model name")), platform.processor())
    mem = next(int(x.split()[1]) for x in open("/proc/meminfo") if x.startswith("MemTotal"))
    pf = shutil.which("pflogsumm")
    pf_version = _cmd([pf, "--version"]).splitlines()[0] if pf else "not installed"
    chromium = _cmd(["chromium", "--version"]) if shutil.which("chromium") else "not installed"
    commit = _cmd(["git", "rev-parse", "--short", "HEAD"])
    dirty = bool(_cmd(["git", "status", "--porcelain", "--untracked-files=no"]))
    info = {"cpu": cpu, "nproc": os.cpu_count(), "ram_gib": round(mem / 1024 / 1024, 1),
            "load": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
            "duckdb": duckdb.__version__, "pflogsumm": pf_version, "chromium": chromium,
            "commit": commit + (" (+ uncommitted changes)" if dirty else "")}
    info["summary"] = (f"{info['nproc']} cores {cpu}, {info['ram_gib']} GiB RAM, Python "
                       f"{info['python']}, DuckDB {info['duckdb']}, {pf_version}, load "
                       f"{info['load'][0]}")
    return info


def _fmt_s(s: dict[str, Any], digits: int = 2) -> str:
    if not s or not s.get("n"):
        return "skip"
    if s["n"] == 1:
        return f"{s['min']:.{digits}f}"
    return f"{s['min']:.{digits}f} / {s['median']:.{digits}f}"


def _table(head: list[str], rows: list[list[str]], md: bool) -> str:
    if md:
        out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
        return "\n".join(out)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def targets_table(result: dict[str, Any], md: bool) -> str:
    rows = [[t["target"], t["measured"], t["limit"], t["status"], t["note"]]
            for t in result["targets"]]
    return _table(["target", "measured", "limit", "status", "note"], rows, md)


def ingest_table(result: dict[str, Any], md: bool) -> str:
    """Per size and input: ours next to the baseline, with throughput and peak RSS."""
    rows = []
    for size, r in result["sizes"].items():
        for key, label in INPUT_LABELS.items():
            inp = r["inputs"].get(key, {})
            s = r["ingest"].get(key, {})
            base = r.get("pflogsumm", {}) if key == "postfix" else r["read_csv"].get(key, {})
            unit = "lines" if key == "postfix" else "rows"
            n = inp.get("rows", 0)
            ratio = ""
            if s.get("n") and base.get("n"):
                ratio = f"{s['min'] / base['min']:.2f}x" if key != "postfix" else \
                    f"{base['min'] / s['min']:.2f}x faster"
            rows.append([f"{int(size):,}", label, f"{n:,} {unit}",
                         f"{inp.get('bytes', 0) / 1e6:,.0f}", _fmt_s(s),
                         f"{n / s['min']:,.0f}" if s.get("n") else "-",
                         ("pflogsumm " if key == "postfix" else "read_csv ")
                         + _fmt_s(base) if base else "-", ratio,
                         f"{s.get('peak_rss_mb', 0):,.0f}" if s.get("n") else "-"])
    return _table(["size", "input", "rows", "MB", "ours s (min / median)", "per s",
                   "baseline s (min / median)", "ours vs baseline", "peak RSS MB"], rows, md)


def scaling_table(result: dict[str, Any], md: bool) -> str:
    """Derived tables and queries at every size (min / median seconds)."""
    sizes = list(result["sizes"])
    names = [("build: load all + one refresh", lambda r: _build(r)),
             ("classification", lambda r: _fmt_s(r.get("classification", {}))),
             ("journeys", lambda r: _fmt_s(r.get("journeys", {}))),
             ("report export", lambda r: _fmt_s(r.get("report", {})))]
    names += [(f"query {q}", lambda r, q=q: _fmt_s(r.get("queries", {}).get(q, {}), 3))
              for q in [*QUERY_NAMES, *(f + " [filtered]" for f in FILTERED)]]
    names.append(("Overview first render", lambda r: _fmt_s(r.get("browser", {}))))
    for key, label in (("title_seconds", "  of which: title shown"),
                       ("tiles_seconds", "  of which: 12 tiles shown"),
                       ("warm_seconds", "Overview, second visitor (warm server)"),
                       ("bare_seconds", "baseline: bare Streamlit page, same 8 figures"),
                       ("bare_tiles_seconds", "  of which: 12 tiles shown")):
        names.append((label, lambda r, k=key: _mins(r.get("browser", {}), k)))
    rows = [[name] + [fn(result["sizes"][s]) for s in sizes] for name, fn in names]
    return _table(["seconds (min / median)"] + [f"{int(s):,}" for s in sizes], rows, md)


def _mins(s: dict[str, Any], key: str) -> str:
    v = (s.get("mins") or {}).get(key)
    return "skip" if v is None else f"{v:.2f}"


def _build(r: dict[str, Any]) -> str:
    b = r.get("build", {})
    if not b.get("ok"):
        return "skip"
    return f"{b['seconds']:.1f} (refresh {b['refresh_seconds']:.1f}, {b['peak_rss_mb']:,.0f} MB)"


def facts_table(result: dict[str, Any], md: bool) -> str:
    rows = []
    for size, r in result["sizes"].items():
        b = r.get("build", {})
        if not b.get("ok"):
            continue
        m = b.get("match", {})
        rows.append([f"{int(size):,}", f"{b['sends']:,}", f"{b['trace_events']:,}",
                     f"{b['journeys']:,}", f"{m.get('exact', 0):,} / {m.get('approximate', 0):,}"
                     f" / {m.get('none', 0):,}", f"{b.get('distinct_failures', 0):,}",
                     f"{b.get('class_keys', 0):,}"])
    return _table(["size", "sends", "trace events", "journeys", "match exact / approx / none",
                   "distinct failures", "classified keys"], rows, md)


def counts_table(result: dict[str, Any], md: bool) -> str:
    rows = []
    for size, r in result["sizes"].items():
        for c in r.get("postfix_counts") or []:
            rows.append([f"{int(size):,}", c["count"], c["pflogsumm"], f"{c['ours']:,}",
                         "yes" if c["agree"] else "NO"])
    return _table(["size", "count", "pflogsumm", "ours", "agree"], rows, md)


def _sections(result: dict[str, Any], md: bool) -> list[tuple[str, str]]:
    top = list(result["sizes"])[-1]
    return [(f"Targets at {int(top):,} ESP rows", targets_table(result, md)),
            ("Ingest next to the baselines (seconds: min / median)", ingest_table(result, md)),
            ("Postfix counts: ours vs pflogsumm", counts_table(result, md)),
            ("Workspace built from every input", facts_table(result, md)),
            ("How cost grows with size", scaling_table(result, md))]


def render_text(result: dict[str, Any]) -> str:
    """All tables for the terminal."""
    out = [f"Machine: {result['machine']['summary']}; commit {result['machine']['commit']}"]
    for title, body in _sections(result, md=False):
        out += ["", title, body]
    return "\n".join(out)


def render_markdown(result: dict[str, Any]) -> str:
    """All tables as Markdown (docs/benchmarks.md quotes this)."""
    m = result["machine"]
    out = [f"Run of {result['started']} ({result['seconds']:.0f} s), commit {m['commit']}: "
           f"{m['nproc']} cores {m['cpu']}, {m['ram_gib']} GiB RAM, Python {m['python']}, "
           f"DuckDB {m['duckdb']}, {m['pflogsumm']}, {m['chromium']}; load average "
           f"{m['load'][0]} before, {m.get('load_after', ['?'])[0]} after."]
    for title, body in _sections(result, md=True):
        out += ["", f"#### {title}", "", body]
    return "\n".join(out) + "\n"
