"""The pflogsumm baseline: run it on the Postfix log, time it, read its counts.

pflogsumm (Debian package `pflogsumm`, 1.1.5) prints "Grand Totals" with values above
512k shortened to e.g. "976k"; the "Per-Day Traffic Summary" rows stay exact while a
day has fewer than 512k events, so the exact totals are the sums of the per-day rows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_UNIT = {"": 1, "k": 1024, "m": 1024 * 1024}
_DAY_RE = re.compile(r"^\s+\w{3}\s+\d+ \d{4}((?:\s+\d+[km]?){5})\s*$")
_TOTAL_RE = re.compile(r"^\s*(\d+)([km]?)\s+(delivered|deferred|bounced|rejected|discarded|"
                       r"received|reject warnings|held)\b")


def available() -> str | None:
    """Path of pflogsumm, or None."""
    return shutil.which("pflogsumm")


def run(log: Path, timeout: float = 1800) -> dict[str, Any]:
    """One pflogsumm run in a fresh process: wall seconds, peak RSS and its counts."""
    exe = available()
    if exe is None:
        return {"ok": False, "skipped": "pflogsumm is not installed (make postfix installs it)"}
    t = time.perf_counter()
    with tempfile.TemporaryFile() as err, subprocess.Popen(
            [exe, str(log)], stdout=subprocess.PIPE, stderr=err) as proc:
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        assert proc.stdout is not None
        text = proc.stdout.read().decode("utf-8", "replace")
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        proc.returncode = os.waitstatus_to_exitcode(status)
        timer.cancel()
        dt = time.perf_counter() - t
        err.seek(0)
        problem = err.read().decode("utf-8", "replace").strip()[-500:]
    if proc.returncode != 0:
        return {"ok": False, "error": problem or f"exit status {proc.returncode}"}
    return {"ok": True, "seconds": dt, "counts": parse(text),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def parse(text: str) -> dict[str, Any]:
    """Grand totals (value, unit) and the exact per-day sums of pflogsumm's report."""
    totals: dict[str, tuple[int, str]] = {}
    section = ""
    day_sums = [0, 0, 0, 0, 0]
    days = 0
    for line in text.splitlines():
        if line.strip() in ("Grand Totals", "Per-Day Traffic Summary",
                            "Per-Hour Traffic Daily Average", "Per-Hour Traffic Summary"):
            section = line.strip()
            continue
        if section == "Grand Totals":
            m = _TOTAL_RE.match(line)
            if m and m.group(3) not in totals:
                totals[m.group(3)] = (int(m.group(1)), m.group(2))
            dm = re.search(r"\((\d+)([km]?) deferrals\)", line)
            if dm:
                totals["deferrals"] = (int(dm.group(1)), dm.group(2))
        elif section == "Per-Day Traffic Summary":
            m = _DAY_RE.match(line)
            if m:
                days += 1
                for i, v in enumerate(m.group(1).split()):
                    day_sums[i] += int(v.rstrip("km")) * _UNIT[v[-1] if v[-1] in "km" else ""]
    per_day = dict(zip(("received", "delivered", "deferrals", "bounced", "rejected"),
                       day_sums, strict=True))
    return {"totals": {k: list(v) for k, v in totals.items()}, "per_day": per_day,
            "days": days}


def _exact(counts: dict[str, Any], name: str) -> tuple[int, str] | None:
    """An exact count: the grand total when printed in full, else from the per-day sums."""
    t = counts["totals"].get(name)
    if t and t[1] == "":
        return t[0], ""
    if name in counts["per_day"] and counts["days"]:
        value = counts["per_day"][name]
        if name == "rejected":  # the per-day column also counts warnings, holds, discards
            for other in ("reject warnings", "held", "discarded"):
                o = counts["totals"].get(other)
                value -= o[0] * _UNIT[o[1]] if o else 0
        return value, ""
    return (t[0], t[1]) if t else None


def compare(theirs: dict[str, Any], ours: dict[str, int]) -> list[dict[str, Any]]:
    """Our Postfix counts next to pflogsumm's, each marked as agreeing or not.

    Mapping (pflogsumm's words -> our trace events): delivered = status=sent lines
    (our `delivered` + `forwarded`); deferrals = status=deferred lines; deferred =
    messages with a deferral; bounced = status=bounced lines; rejected = every smtpd /
    cleanup `reject:` line (ours: `rejected`, plus 4xx refusals, which we call
    `deferred` because the sender retries); discarded = our `dropped`.
    """
    rows = []
    for name in ("delivered", "deferrals", "deferred", "bounced", "rejected", "discarded"):
        got = _exact(theirs, name)
        mine = ours.get(name)
        if got is None or mine is None:
            continue
        value, unit = got
        agree = (mine // _UNIT[unit]) == value
        rows.append({"count": name, "pflogsumm": f"{value}{unit}", "ours": mine,
                     "agree": agree})
    return rows
