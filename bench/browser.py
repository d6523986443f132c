"""The Overview page's first render in a real browser (Playwright + Debian chromium).

Each run starts a fresh `streamlit run app.py` on 127.0.0.1 with DELIVERY_TRACE_WORKSPACE
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
import time
import urllib.request
from pathlib import Path
from typing import Any

from . import ROOT

CHROMIUM = "/usr/bin/chromium"
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


def _start(workspace: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"DELIVERY_TRACE_WORKSPACE": workspace}
    with open(log, "ab") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, process_group=0, stdout=fh, stderr=fh)


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
                 log: Path = Path(os.devnull)) -> dict[str, Any]:
    """One cold start: seconds from navigation until the Overview is completely drawn."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start(workspace, port, log)
    try:
        startup = _wait_healthy(url, proc, 90)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1400, "height": 3000})
            t0 = time.perf_counter()
            page.goto(url)
            page.get_by_role("heading", name="Overview").first.wait_for(timeout=timeout * 1000)
            title = time.perf_counter() - t0
            page.locator('[data-testid="stMetric"]').nth(11).wait_for(timeout=timeout * 1000)
            tiles = time.perf_counter() - t0
            page.wait_for_function(_DONE_JS, arg=charts, timeout=timeout * 1000,
                                   polling=50)
            seconds = time.perf_counter() - t0
            drawn = page.locator('[data-testid="stPlotlyChart"]').count()
            # A second visitor on the now warm server: imports done, query results cached.
            again = browser.new_page(viewport={"width": 1400, "height": 3000})
            t1 = time.perf_counter()
            again.goto(url)
            again.wait_for_function(_DONE_JS, arg=charts, timeout=timeout * 1000, polling=50)
            warm = time.perf_counter() - t1
            browser.close()
        rss = _vmhwm_mb(proc.pid)
        return {"ok": True, "seconds": seconds, "title_seconds": title, "tiles_seconds": tiles,
                "warm_seconds": warm, "server_start_seconds": startup, "charts": drawn,
                "peak_rss_mb": rss}
    except Exception as e:  # noqa: BLE001 - reported, not raised
        return {"ok": False, "error": f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    """CLI: measure the first render `--repeat` times; print one JSON object per run."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench.browser")
    ap.add_argument("workspace")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--charts", type=int, default=8)
    ap.add_argument("--log", type=Path, default=Path(os.devnull))
    args = ap.parse_args(argv)
    reason = skip_reason()
    for _ in range(args.repeat):
        res = {"ok": False, "skipped": reason} if reason else \
            first_render(args.workspace, args.charts, log=args.log)
        print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
