"""A fork server: every measurement runs in a new process forked from a lean parent.

The parent imports the engine once (pandas, DuckDB, the rules: 1.7 s a process) and never
opens a database, so each forked child starts like a fresh `python` that has just done its
imports: no DuckDB state, no caches, no threads (see `ENV`). The child's peak RSS comes
from `os.wait4` (ru_maxrss, which starts from the parent's RSS at the fork, as a fresh
process's would after the same imports) and from its own VmHWM.

Protocol: the runner writes one JSON request per line to stdin ({"fn": name, "args": {...},
"timeout": s}) and reads one JSON result per line from stdout.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from . import ROOT

# Without these the parent has threads before it forks: OpenBLAS's pool (numpy) and the
# jemalloc background purger of pyarrow (pandas). Neither is used by what we measure.
ENV = {"OPENBLAS_NUM_THREADS": "1", "JE_ARROW_MALLOC_CONF": "background_thread:false"}


def vmhwm_mb() -> float:
    """This process's peak resident set size (VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _child(fn: str, args: dict[str, Any], wfd: int, log: str) -> None:
    """Runs in the forked process: measure, send the JSON result, exit."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        from . import measure

        res = measure.MEASURES[fn](**args)
        res.setdefault("ok", True)
    except BaseException as e:  # noqa: BLE001 - every failure goes back to the runner
        res = {"ok": False, "error": f"{type(e).__name__}: {e}",
               "traceback": traceback.format_exc()[-3000:]}
    res["vmhwm_mb"] = round(vmhwm_mb(), 1)
    data = json.dumps(res, default=str).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(wfd, view):]
    os._exit(0)


def run_one(fn: str, args: dict[str, Any], timeout: float, log: str) -> dict[str, Any]:
    """Fork, measure in the child, return its result plus its peak RSS."""
    rfd, wfd = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        _child(fn, args, wfd, log)
    os.close(wfd)
    chunks, end = [], time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        ready, _, _ = select.select([rfd], [], [], max(left, 0))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            os.close(rfd)
            return {"ok": False, "error": f"timed out after {timeout:.0f} s"}
        chunk = os.read(rfd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(rfd)
    _, status, usage = os.wait4(pid, 0)
    try:
        res = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        res = {"ok": False, "error": "no result (the child crashed)"}
    if status and res.get("ok", False):
        res = {"ok": False, "error": f"child exit status {status}"}
    res["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return res


def serve() -> None:
    """Read requests from stdin, answer on stdout, until stdin closes."""
    from . import measure  # noqa: F401 - import the engine once, before any fork

    log = os.environ.get("BENCH_WORKER_LOG", "/dev/null")
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        res = run_one(req["fn"], req.get("args", {}), float(req.get("timeout", 1800)), log)
        out.write(json.dumps(res, default=str) + "\n")
        out.flush()


class Worker:
    """The runner's handle on a fork server."""

    def __init__(self, log: Path) -> None:
        env = os.environ | ENV | {"BENCH_WORKER_LOG": str(log)}
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.worker"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(self, fn: str, timeout: float = 1800, **args: Any) -> dict[str, Any]:
        """Run one measurement in a fresh forked process."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"fn": fn, "args": args, "timeout": timeout}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the benchmark worker died")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(30)


if __name__ == "__main__":
    serve()
