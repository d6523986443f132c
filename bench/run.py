"""`python -m bench` (= `make bench`): generate, measure, compare with the baselines, judge.

Every measurement runs in a fresh process (bench.worker forks one per run; pflogsumm and
the browser get their own), repeated, reported as min and median. The targets are judged
at the largest size; the smaller sizes show how cost grows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import OUT_DIR, ROOT, pflog
from . import generate as G
from .measure_names import FILTERED, QUERY_NAMES
from .tables import machine, render_markdown, render_text
from .targets import evaluate

READ_CSV_OPTIONS = {"esp": "", "o365": "", "exchange": ", skip=4"}  # skip the # header lines


def summarize(runs: list[dict[str, Any]], key: str = "seconds") -> dict[str, Any]:
    """min / median of the successful runs, the peak RSS, and the first error or skip."""
    ok = [r for r in runs if r.get("ok", True) and key in r]
    out: dict[str, Any] = {"runs": [round(r[key], 4) for r in ok], "n": len(ok)}
    if ok:
        vals = [r[key] for r in ok]
        out["min"], out["median"] = min(vals), statistics.median(vals)
        rss = [r.get("peak_rss_mb") or 0 for r in ok]
        out["peak_rss_mb"] = max(rss)
        out["last"] = {k: v for k, v in ok[-1].items() if k not in ("profile", "traceback")}
        out["mins"] = {k: min(r[k] for r in ok) for k, v in ok[0].items()
                       if isinstance(v, int | float) and not isinstance(v, bool)
                       and all(isinstance(r.get(k), int | float) for r in ok)}
    bad = [r for r in runs if not (r.get("ok", True) and key in r)]
    if bad:
        out["skipped" if "skipped" in bad[0] else "error"] = bad[0].get("skipped") or \
            bad[0].get("error")
        if bad[0].get("traceback"):
            out["traceback"] = bad[0]["traceback"]
    return out


class Runner:
    """One benchmark run over several sizes."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out: Path = args.out
        self.worker: Any = None
        self.t0 = time.perf_counter()

    def log(self, msg: str) -> None:
        print(f"[{time.perf_counter() - self.t0:6.0f}s] {msg}", flush=True)

    def repeat(self, label: str, fn: Callable[[], dict[str, Any]], n: int | None = None,
               key: str = "seconds") -> dict[str, Any]:
        """Run fn up to n times; a slow measurement stops early (see --slow)."""
        n = n or self.args.repeat
        runs: list[dict[str, Any]] = []
        spent = 0.0
        for i in range(n):
            t = time.perf_counter()
            res = fn()
            spent += time.perf_counter() - t
            runs.append(res)
            if not res.get("ok", True):
                break
            if i + 1 >= 2 and spent > self.args.slow:
                break
            if i == 0 and spent > 2 * self.args.slow:
                break
        s = summarize(runs, key)
        shown = (f"min {s['min']:.3f} s  median {s['median']:.3f} s  ({s['n']} runs, "
                 f"peak RSS {s['peak_rss_mb']:.0f} MB)" if s["n"] else
                 f"SKIP: {s.get('skipped') or s.get('error')}")
        self.log(f"  {label:34} {shown}")
        return s

    def call(self, fn: str, **kw: Any) -> dict[str, Any]:
        return self.worker.call(fn, timeout=self.args.timeout, **kw)

    # -- one size ---------------------------------------------------------------------------
    def size(self, n: int, largest: bool) -> dict[str, Any]:
        self.log(f"size {n:,}: inputs")
        t = time.perf_counter()
        folder, inputs = G.generate(n, self.args.seed, self.out, log=lambda m: self.log(m))
        res: dict[str, Any] = {"size": n, "folder": str(folder),
                               "generate_seconds": round(time.perf_counter() - t, 1),
                               "inputs": {k: {"rows": i.rows, "bytes": i.bytes,
                                              "files": list(i.files)} for k, i in inputs.items()}}
        formats = resolve_formats(inputs, folder)
        res["formats"] = formats
        paths = {k: [str(folder / f) for f in i.files] for k, i in inputs.items()}
        self.log(f"size {n:,}: ingest (Store.load_files into a new workspace)")
        res["ingest"] = {}
        for key, inp in inputs.items():
            fmt = formats[key]
            if fmt.get("skipped"):
                res["ingest"][key] = {"n": 0, "skipped": fmt["skipped"]}
                self.log(f"  ingest {key:27} SKIP: {fmt['skipped']}")
                continue
            res["ingest"][key] = self.repeat(f"ingest {key}", lambda k=key, i=inp: self.call(
                "ingest", files=paths[k], format=formats[k]["format"], tz=i.tz, year=i.year,
                workspace=str(folder / f"ingest-{k}.duckdb"), profile=self.args.profile,
                memory_limit=self.args.memory_limit))
        self._baselines(res, folder, inputs, paths)
        self._workspace(res, folder, inputs, paths, formats, largest)
        return res

    def _baselines(self, res: dict[str, Any], folder: Path, inputs: dict[str, G.Input],
                   paths: dict[str, list[str]]) -> None:
        self.log("baselines: DuckDB read_csv of the same files, pflogsumm on the same log")
        res["read_csv"] = {k: self.repeat(f"read_csv {k}", lambda k=k: self.call(
            "read_csv", files=paths[k], workspace=str(folder / f"baseline-{k}.duckdb"),
            options=READ_CSV_OPTIONS[k])) for k in READ_CSV_OPTIONS}
        log = folder / inputs["postfix"].files[0]
        runs: list[dict[str, Any]] = []
        res["pflogsumm"] = self.repeat("pflogsumm postfix", lambda: _keep(
            runs, pflog.run(log, self.args.timeout)))
        if runs and runs[0].get("ok"):
            res["pflogsumm"]["counts"] = runs[0]["counts"]

    def _workspace(self, res: dict[str, Any], folder: Path, inputs: dict[str, G.Input],
                   paths: dict[str, list[str]], formats: dict[str, Any], largest: bool) -> None:
        ws = str(folder / "workspace.duckdb")
        loadable = [dict(key=k, files=paths[k], format=formats[k]["format"], tz=i.tz,
                         year=i.year) for k, i in inputs.items()
                    if k != "xlsx" and not formats[k].get("skipped")]  # xlsx repeats the ESP rows
        self.log(f"workspace: load {', '.join(x['key'] for x in loadable)}, then refresh once")
        build = self.call("build", inputs=loadable, workspace=ws,
                          memory_limit=self.args.memory_limit)
        res["build"] = build
        if not build.get("ok"):
            self.log(f"  build FAILED: {build.get('error')}")
            return
        self.log(f"  build {build['seconds']:.1f} s (refresh {build['refresh_seconds']:.1f} s), "
                 f"peak RSS {build['peak_rss_mb']:.0f} MB; {build['sends']:,} sends, "
                 f"{build['trace_events']:,} trace events, {build['journeys']:,} journeys")
        if res.get("pflogsumm", {}).get("counts") and build.get("postfix"):
            res["postfix_counts"] = pflog.compare(res["pflogsumm"]["counts"], build["postfix"])
            for row in res["postfix_counts"]:
                self.log(f"  {row['count']:10} pflogsumm {row['pflogsumm']:>9}  ours "
                         f"{row['ours']:>9,}  {'agree' if row['agree'] else 'DIFFER'}")
        res["classification"] = self.repeat("classification (classify.refresh)",
                                            lambda: self.call("classification", workspace=ws))
        res["journeys"] = self.repeat("journeys (journeys.rebuild)", lambda: self.call(
            "journeys", workspace=ws, profile=self.args.profile))
        res["queries"] = {}
        for name in QUERY_NAMES:
            res["queries"][name] = self.repeat(f"query {name}", lambda q=name: self.call(
                "query", workspace=ws, name=q, needle=build["needle"],
                profile=self.args.profile))
        for name in FILTERED:
            res["queries"][name + " [filtered]"] = self.repeat(
                f"query {name} [filtered]", lambda q=name: self.call(
                    "query", workspace=ws, name=q, filtered=True))
        res["report"] = self.repeat("report export (write_report)", lambda: self.call(
            "report", workspace=ws, out=str(folder / "report.html")))
        if self.args.no_browser:
            res["browser"] = {"n": 0, "skipped": "--no-browser"}
        else:  # every size, to show what depends on the data; repeated at the largest
            res["browser"] = self.repeat("Overview first render (browser)",
                                         lambda: _browser(ws, folder, largest),
                                         None if largest else 1)

    # -- all ----------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        from .worker import Worker

        self.out.mkdir(parents=True, exist_ok=True)
        started = dt.datetime.now(dt.UTC)
        result: dict[str, Any] = {"started": started.isoformat(timespec="seconds"),
                                  "machine": machine(), "args": _args_json(self.args),
                                  "sizes": {}}
        self.log(f"machine: {result['machine']['summary']}")
        self.worker = Worker(self.out / "worker.log")
        try:
            for i, n in enumerate(self.args.sizes):
                result["sizes"][str(n)] = self.size(n, i == len(self.args.sizes) - 1)
        finally:
            self.worker.close()
        result["seconds"] = round(time.perf_counter() - self.t0, 1)
        result["machine"]["load_after"] = machine()["load"]
        top = result["sizes"][str(self.args.sizes[-1])]
        result["targets"] = evaluate(top)
        return result


def _keep(store: list[dict[str, Any]], res: dict[str, Any]) -> dict[str, Any]:
    store.append(res)
    return res


def _browser(ws: str, folder: Path, baseline: bool) -> dict[str, Any]:
    """One first render in a fresh streamlit + chromium (a subprocess of its own), and with
    `baseline` the bare Streamlit page drawing the same figures (at the largest size only:
    it does not depend on the data and takes ~15 s)."""
    proc = subprocess.run([sys.executable, "-m", "bench.browser", ws, "--log",
                           str(folder / "streamlit.log"),
                           *([] if baseline else ["--no-baseline"])], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if not lines:
        return {"ok": False, "error": (proc.stderr or "no output").strip()[-300:]}
    return json.loads(lines[-1])


def resolve_formats(inputs: dict[str, G.Input], folder: Path) -> dict[str, dict[str, Any]]:
    """The registered parser for each input: its intended name, or a sniffed family member."""
    from analysis import sources

    out: dict[str, dict[str, Any]] = {}
    for key, inp in inputs.items():
        if inp.format in sources.REGISTRY:
            out[key] = {"format": inp.format}
            continue
        best = sources.inspect([folder / inp.files[0]])[0].best
        if best and re.search(inp.family, best.format):
            out[key] = {"format": best.format}
        else:
            out[key] = {"skipped": f"no parser for {inp.format} (family /{inp.family}/) is "
                                   "registered yet"}
    return out


def _args_json(args: argparse.Namespace) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--sizes", default="10000,100000,1000000",
                    help="ESP rows per size (comma-separated); targets are judged at the last")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (min, median)")
    ap.add_argument("--quick", action="store_true", help="sizes 10000,100000 and one run each")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--profile", action="store_true", help="keep cProfile output in the JSON")
    ap.add_argument("--slow", type=float, default=40,
                    help="stop repeating a measurement after this many seconds (after 2 runs)")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit (e.g. 4GB) for the stores that "
                    "ingest and build, instead of the app's 1.5GB default "
                    "(= DELIVERY_TRACE_MEMORY_LIMIT)")
    ap.add_argument("--timeout", type=float, default=1200, help="seconds per measurement")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--markdown", type=Path, help="write the result tables as Markdown here")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat = "10000,100000", 1
    args.sizes = sorted(int(s.replace("_", "")) for s in str(args.sizes).split(",") if s)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the tables, save JSON (and Markdown)."""
    args = parse_args(argv)
    result = Runner(args).run()
    stamp = result["started"].replace(":", "").replace("-", "")[:15]
    results_dir = args.out / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    for path in (results_dir / f"bench-{stamp}.json", results_dir / "latest.json",
                 *( [args.json] if args.json else [])):
        path.write_text(json.dumps(result, indent=1, default=str))
    print()
    print(render_text(result))
    (results_dir / "latest.md").write_text(render_markdown(result))
    if args.markdown:
        args.markdown.write_text(render_markdown(result))
    print(f"\nresults: {results_dir / 'latest.json'} ({result['seconds']:.0f} s in all)")
    return 0
