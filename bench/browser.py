"""The Overview page's first render in a real browser (Playwright + Debian chromium).

Each run starts a fresh `python serve.py` (= `make run`) on 127.0.0.1 with DELIVERY_TRACE_WORKSPACE
set to the benchmark workspace (recipe: ../shared/TESTING.md), waits until it is healthy,
then times page.goto() until the Overview has drawn its tiles and every chart and the
app has stopped running. `python -m bench.browser WORKSPACE [--repeat N]` prints JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from . import ROOT

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 3000}
# Done = the Overview title, 12 tiles, every chart drawn, no spinner, the app idle.
_DONE_JS = """(n) => {
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  const drawn = charts.filter(c => c.querySelector('.main-svg')).length;
  const tiles = document.querySelectorAll('[data-testid="stMetric"]').length;
  const busy = document.querySelector('[data-testid="stSpinner"]') ||
               document.querySelector('[data-testid="stStatusWidget"] button') ||
               document.querySelector('[data-testid="stSkeleton"]');
  const title = [...document.querySelectorAll('h1')].some(h => h.textContent.includes('Overview'));
  return title && tiles >= 12 && drawn >= n && drawn === charts.length && !busy;
}"""


def skip_reason() -> str | None:
    """Why the browser measurement cannot run here, or None."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return "no chromium (make browser installs it)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(command: list[str], env: dict[str, str], port: int,
           log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as fh:
        return subprocess.Popen(
            [sys.executable, *command, "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=os.environ | env, process_group=0, stdout=fh, stderr=fh)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def overview_figures(workspace: str) -> list[str]:
    """The Overview's 8 figures for all campaigns, as Plotly JSON, built as the page does."""
    from analysis import charts, queries
    from analysis.queries import Filters, auto_bucket
    from analysis.store import Store

    store = Store(workspace)
    con, f, top = store.cursor(), Filters(), 12
    try:
        k = queries.kpis(con, f)
        figs = [
            charts.chart_funnel(k), charts.chart_verdicts(queries.verdict_counts(con, f)),
            charts.chart_failures_by_code(queries.failures_by_code(con, f)),
            charts.chart_failures_by_domain(queries.failures_by_domain(con, f, top)),
            charts.chart_domain_heatmap(queries.domain_category_matrix(con, f, top)),
            charts.chart_category_sunburst(queries.category_tree(con, f)),
            charts.chart_failures_over_time(queries.failures_over_time(
                con, f, auto_bucket(queries.time_span(con, f)))),
            charts.chart_domain_incidents(queries.domain_incidents(con, f), top=top)]
    finally:
        con.close()
        store.close()
    return [fig.to_json() for fig in figs]


def bare_render(workspace: str, timeout: float = 180,
                log: Path = Path(os.devnull)) -> dict[str, Any]:
    """The same-run baseline: bench/bare_overview.py drawing the Overview's 8 figures."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.json"
        figures.write_text(json.dumps(overview_figures(workspace)), encoding="utf-8")
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        proc = _start(["-m", "streamlit", "run", "bench/bare_overview.py"],
                      {"BENCH_FIGURES": str(figures)}, port, log)
        try:
            _wait_healthy(url, proc, 90)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM)
                drawn = _draw(browser.new_page(viewport=VIEWPORT), url, 8, timeout)
                browser.close()
        finally:
            _stop(proc)
    return {"bare_seconds": drawn["seconds"], "bare_tiles_seconds": drawn["tiles"]}


def _baseline(workspace: str, timeout: float, log: Path) -> dict[str, Any]:
    """bare_render, or why it failed (the Overview's own measurement stands either way)."""
    try:
        return bare_render(workspace, timeout, log)
    except Exception as e:  # noqa: BLE001 - reported, not raised
        return {"bare_error": _error(e)}


def _error(e: Exception) -> str:
    return f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}"


def _draw(page: Any, url: str, charts: int, timeout: float) -> dict[str, float]:
    """Open `url` in `page`; seconds until the title, the 12 tiles and every chart are drawn."""
    t0 = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name="Overview").first.wait_for(timeout=timeout * 1000)
    title = time.perf_counter() - t0
    page.locator('[data-testid="stMetric"]').nth(11).wait_for(timeout=timeout * 1000)
    tiles = time.perf_counter() - t0
    page.wait_for_function(_DONE_JS, arg=charts, timeout=timeout * 1000, polling=50)
    return {"title": title, "tiles": tiles, "seconds": time.perf_counter() - t0}


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float) -> float:
    t0, end = time.perf_counter(), time.monotonic() + timeout
    while True:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return time.perf_counter() - t0
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("streamlit did not start") from None
            time.sleep(0.1)


def _vmhwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def first_render(workspace: str, charts: int = 8, timeout: float = 180,
                 log: Path = Path(os.devnull), baseline: bool = True) -> dict[str, Any]:
    """One cold start: seconds from navigation until the Overview is completely drawn.

    With `baseline`, then the bare page of `bare_render` (bare_seconds, bare_tiles_seconds).
    """
    from playwright.sync_api import sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start(["serve.py"], {"DELIVERY_TRACE_WORKSPACE": workspace}, port, log)
    try:
        startup = _wait_healthy(url, proc, 90)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport=VIEWPORT)
            first = _draw(page, url, charts, timeout)
            drawn = page.locator('[data-testid="stPlotlyChart"]').count()
            # A second visitor on the now warm server: imports done, query results cached.
            warm = _draw(browser.new_page(viewport=VIEWPORT), url, charts, timeout)
            browser.close()
        rss = _vmhwm_mb(proc.pid)
        _stop(proc)
        bare = _baseline(workspace, timeout, log) if baseline else {}
        return {"ok": True, "seconds": first["seconds"], "title_seconds": first["title"],
                "tiles_seconds": first["tiles"], "warm_seconds": warm["seconds"],
                "server_start_seconds": startup, "charts": drawn, "peak_rss_mb": rss, **bare}
    except Exception as e:  # noqa: BLE001 - reported, not raised
        return {"ok": False, "error": _error(e)}
    finally:
        if proc.poll() is None:
            _stop(proc)


def main(argv: list[str] | None = None) -> int:
    """CLI: measure the first render `--repeat` times; print one JSON object per run."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench.browser")
    ap.add_argument("workspace")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--charts", type=int, default=8)
    ap.add_argument("--log", type=Path, default=Path(os.devnull))
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the bare Streamlit page with the same figures")
    args = ap.parse_args(argv)
    reason = skip_reason()
    for _ in range(args.repeat):
        res = {"ok": False, "skipped": reason} if reason else \
            first_render(args.workspace, args.charts, log=args.log,
                         baseline=not args.no_baseline)
        print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
