"""The measurements. Each runs in its own forked process (bench.worker) and returns a dict.

Importing this module imports the engine, so the fork server pays for it once.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from analysis import classify, journeys, settings
from analysis import queries as Q
from analysis.sources import ParseOptions
from analysis.store import Store

from .measure_names import QUERY_NAMES

try:  # the report export lands later (issue: report)
    from analysis import report as _report
except ImportError:  # pragma: no cover - depends on the build
    _report = None


def _open(workspace: str, memory_limit: str | None = None) -> Store:
    """The store as the app opens it (DuckDB memory_limit 1.5 GB unless the environment says
    otherwise); `memory_limit` (the --memory-limit option) overrides it through the app's own
    variable, so it is validated and quoted as the app does. Each measurement is its own
    forked process, so setting the variable here does not leak into the next one."""
    if memory_limit:
        os.environ[settings.ENV_MEMORY_LIMIT] = memory_limit
    return Store(workspace)


def _fresh(path: str) -> None:
    for p in (path, path + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    shutil.rmtree(path + ".tmp", ignore_errors=True)


def _profiled(fn: Callable[[], Any], profile: bool) -> tuple[Any, float, str]:
    """Run fn, timing it (and profiling it when asked): (result, seconds, top functions)."""
    prof = cProfile.Profile() if profile else None
    t = time.perf_counter()
    if prof:
        prof.enable()
    out = fn()
    if prof:
        prof.disable()
    dt = time.perf_counter() - t
    text = ""
    if prof:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(25)
        text = buf.getvalue()[-6000:]
    return out, dt, text


def ingest(files: list[str], format: str, tz: str, year: int | None, workspace: str,
           profile: bool = False, memory_limit: str | None = None) -> dict[str, Any]:
    """Store.load_files of one input into a new workspace; the derived refresh is off."""
    _fresh(workspace)
    store = _open(workspace, memory_limit)
    store.refresh_derived = lambda **_: None  # type: ignore[method-assign] # measured on its own
    results, dt, prof = _profiled(lambda: store.load_files(
        files, format=format, opts=ParseOptions(tz=tz, year=year), origin="bench"), profile)
    out: dict[str, Any] = {
        "seconds": dt, "rows_read": sum(r.rows_read for r in results),
        "rows_loaded": sum(r.rows_loaded for r in results),
        "rows_rejected": sum(r.rows_rejected for r in results),
        "errors": [r.error for r in results if r.error],
        "formats": sorted({str(r.format) for r in results}), "profile": prof}
    if out["rows_rejected"]:
        out["rejected_sample"] = store.rejected().head(3).to_dict("records")
    store.close()
    _fresh(workspace)
    return out


def read_csv_baseline(files: list[str], workspace: str, options: str = "") -> dict[str, Any]:
    """The floor: DuckDB's bare read_csv of the same files into a new database file.

    One read_csv per file: DuckDB 2.0's multi-file read_csv([...]) of the two MSGTRK logs
    took 50x longer and 5 GB at 100k rows, which would be no floor at all.
    """
    _fresh(workspace)
    con = duckdb.connect(workspace)
    t = time.perf_counter()
    for i, f in enumerate(files):
        src = f"read_csv('{f.replace(chr(39), chr(39) * 2)}', all_varchar=true{options})"
        con.execute(f"CREATE TABLE t AS SELECT * FROM {src}" if i == 0 else
                    f"INSERT INTO t SELECT * FROM {src}")
    dt = time.perf_counter() - t
    rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    con.close()
    _fresh(workspace)
    return {"seconds": dt, "rows_read": rows}


def build(inputs: list[dict[str, Any]], workspace: str,
          memory_limit: str | None = None) -> dict[str, Any]:
    """Load every input into one workspace, then refresh classification and journeys once."""
    _fresh(workspace)
    store = _open(workspace, memory_limit)
    store.set_meta("demo_offered", "yes")  # the app must not offer the demo on top
    real_refresh = store.refresh_derived
    store.refresh_derived = lambda **_: None  # type: ignore[method-assign]
    loads: dict[str, Any] = {}
    t_all = time.perf_counter()
    for inp in inputs:
        t = time.perf_counter()
        res = store.load_files(inp["files"], format=inp["format"], origin="bench",
                               opts=ParseOptions(tz=inp["tz"], year=inp["year"]))
        loads[inp["key"]] = {"seconds": time.perf_counter() - t,
                             "rows_loaded": sum(r.rows_loaded for r in res),
                             "rows_rejected": sum(r.rows_rejected for r in res),
                             "errors": [r.error for r in res if r.error]}
    t = time.perf_counter()
    real_refresh()
    refresh = time.perf_counter() - t
    total = time.perf_counter() - t_all
    out = {"loads": loads, "refresh_seconds": refresh, "seconds": total}
    out.update(_workspace_facts(store.cursor()))
    store.close()
    return out


def _workspace_facts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Counts that describe the built workspace, and a needle for find_journeys."""
    one = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    facts: dict[str, Any] = {
        "sends": one("SELECT count(*) FROM sends")[0][0],
        "trace_events": one("SELECT count(*) FROM trace_events")[0][0],
        "journeys": one("SELECT count(*) FROM journeys")[0][0],
        "verdicts": dict(one("SELECT verdict, count(*) FROM journeys GROUP BY 1 ORDER BY 2 DESC")),
        "match": dict(one("SELECT match, count(*) FROM journeys GROUP BY 1 ORDER BY 2 DESC")),
        "class_keys": one("SELECT count(*) FROM classifications")[0][0],
        "distinct_failures": one("SELECT count(*) FROM (SELECT DISTINCT failure_code, "
                                 "failure_enhanced, failure_text FROM journeys WHERE "
                                 "failure_code IS NOT NULL OR failure_text IS NOT NULL)")[0][0],
    }
    rid = one("SELECT remote_id FROM journeys WHERE remote_id LIKE '<%' ORDER BY journey_id "
              "LIMIT 1 OFFSET (SELECT count(*) // 2 FROM journeys WHERE remote_id LIKE '<%')")
    facts["needle"] = rid[0][0] if rid else "nobody@example.com"
    facts["postfix"] = postfix_counts(con)
    facts["file_mb"] = None
    return facts


def postfix_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int] | None:
    """Our counts of the Postfix log, in pflogsumm's terms (see bench.pflog.compare).

    A `deferred` event without a relay is a 4xx refusal at SMTP time (`NOQUEUE: reject`),
    which pflogsumm counts as a rejection; with a relay it is a status=deferred line.
    """
    rows = con.execute(
        "SELECT count(*) FILTER (WHERE event IN ('delivered', 'forwarded')), "
        "count(*) FILTER (WHERE event = 'deferred' AND relay IS NOT NULL), "
        "count(DISTINCT queue_id) FILTER (WHERE event = 'deferred' AND relay IS NOT NULL), "
        "count(*) FILTER (WHERE event = 'bounced'), "
        "count(*) FILTER (WHERE event = 'rejected' OR (event = 'deferred' AND relay IS NULL)), "
        "count(*) FILTER (WHERE event = 'dropped'), count(*) "
        "FROM trace_events t JOIN imports i USING (import_id) WHERE i.format = 'postfix'"
    ).fetchall()[0]
    if not rows[6]:
        return None
    keys = ("delivered", "deferrals", "deferred", "bounced", "rejected", "discarded", "rows")
    return dict(zip(keys, (int(v) for v in rows), strict=True))


def classification(workspace: str) -> dict[str, Any]:
    """classify.refresh from cold: every distinct (code, enhanced code, text) classified."""
    store = Store(workspace)
    cur = store.cursor()
    cur.execute("DELETE FROM classifications")
    t = time.perf_counter()
    classify.refresh(cur)
    dt = time.perf_counter() - t
    keys = cur.execute("SELECT count(*) FROM classifications").fetchall()[0][0]
    store.close()
    return {"seconds": dt, "keys": keys}


def journeys_rebuild(workspace: str, profile: bool = False) -> dict[str, Any]:
    """journeys.rebuild: the join, the verdicts and the failure classification."""
    store = Store(workspace)
    cur = store.cursor()
    _, dt, prof = _profiled(lambda: journeys.rebuild(cur), profile)
    n = cur.execute("SELECT count(*) FROM journeys").fetchall()[0][0]
    store.close()
    return {"seconds": dt, "journeys": n, "profile": prof}


def _query_fns(needle: str) -> dict[str, Callable[[duckdb.DuckDBPyConnection, Q.Filters], Any]]:
    """Every engine call behind the Overview and the Bounce explorer (pages/*.py)."""
    def over_time(c: duckdb.DuckDBPyConnection, f: Q.Filters) -> Any:
        return Q.failures_over_time(c, f, "day")

    return {
        "campaigns": lambda c, f: Q.campaigns(c),
        "kpis": Q.kpis,
        "time_span": Q.time_span,
        "verdict_counts": Q.verdict_counts,
        "failures_by_code": Q.failures_by_code,
        "failures_by_domain": lambda c, f: Q.failures_by_domain(c, f, 12),
        "domain_category_matrix": lambda c, f: Q.domain_category_matrix(c, f, 12),
        "failures_over_time": over_time,
        "domain_incidents": Q.domain_incidents,
        "category_tree": Q.category_tree,
        "filter_options": lambda c, f: Q.filter_options(c),
        "explorer_count": Q.explorer_count,
        "explorer_rows": lambda c, f: Q.explorer_rows(c, f, limit=100),
        "find_journeys": lambda c, f: Q.find_journeys(c, needle),
        "unclassified_templates": lambda c, f: classify.unclassified_templates(c),
    }


assert tuple(_query_fns("")) == QUERY_NAMES, "bench/measure_names.py is out of date"


def query(workspace: str, name: str, needle: str = "", filtered: bool = False,
          profile: bool = False) -> dict[str, Any]:
    """One page query on a cold process: the first call, then a second (warm) one."""
    store = Store(workspace)
    con = store.cursor()
    f = Q.Filters(categories=("spam_or_reputation",), codes=(550, 554)) if filtered \
        else Q.Filters()
    fn = _query_fns(needle)[name]
    res, dt, prof = _profiled(lambda: fn(con, f), profile)
    t = time.perf_counter()
    fn(con, f)
    warm = time.perf_counter() - t
    rows = len(res) if hasattr(res, "__len__") else 1
    store.close()
    return {"seconds": dt, "warm_seconds": warm, "rows": rows, "profile": prof}


def report(workspace: str, out: str) -> dict[str, Any]:
    """analysis.report.write_report of the whole workspace (when the module exists)."""
    if _report is None or not hasattr(_report, "write_report"):
        return {"ok": False, "skipped": "analysis/report.py (write_report) is not in this build"}
    store = Store(workspace)
    con = store.cursor()
    t = time.perf_counter()
    path = _report.write_report(con, Path(out), filters=Q.Filters(), redact=False, key=None)
    dt = time.perf_counter() - t
    size = Path(path).stat().st_size if path and Path(path).exists() else 0
    store.close()
    return {"seconds": dt, "bytes": size}


MEASURES: dict[str, Callable[..., dict[str, Any]]] = {
    "ingest": ingest, "read_csv": read_csv_baseline, "build": build,
    "classification": classification, "journeys": journeys_rebuild, "query": query,
    "report": report,
}
