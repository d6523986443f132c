"""Concurrency and durability: sessions loading and deleting at once, loads interrupted by an
exception or a SIGKILL, a restart, and what a delete takes with it.

"Consistent" is checked the same way everywhere (`assert_consistent`): every import's
rows_loaded / rows_rejected equal the rows in sends, trace_events and rejected_rows; no row
(base or derived) names an import that does not exist; the derived tables were rebuilt for
the last change; and every view the Overview, the explorer and the report read (journeys,
the classification joins, kpis, verdict counts, ...) equals what a fresh workspace loaded
with the surviving files, one after the other, shows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import analysis.store as store_module
from analysis import queries, sources
from analysis.sources._base import ParseOptions
from analysis.store import Store
from tests.conftest import SAMPLE_TZ, SAMPLES
from tests.test_pages import october_campaign, story_files

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
ESP = "esp/touchbasepro_activity.csv"

# Read by the Overview, the explorer and the report: each must follow every change.
VIEW_QUERIES: list[Callable[[duckdb.DuckDBPyConnection], pd.DataFrame]] = [
    lambda c: pd.DataFrame([queries.kpis(c)]),
    queries.verdict_counts,
    queries.failures_by_code,
    queries.failures_by_domain,
    queries.domain_category_matrix,
    queries.category_tree,
    queries.domain_incidents,
    lambda c: queries.explorer_rows(c, limit=None).drop(columns=["journey_id"], errors="ignore"),
]
JOURNEY_SQL = ("SELECT campaign, recipient, sent_at, esp_event, smtp_code, enhanced_code, "
               "trace_format, trace_events, trace_final_event, match, verdict, reason, category, "
               "permanent, suppress FROM journeys ORDER BY ALL")


# -- items and helpers ---------------------------------------------------------------------
class Item:
    """One file as the app gets it: a name, its bytes and the zone of its stamps."""

    def __init__(self, name: str, data: bytes, tz: str) -> None:
        self.name, self.data, self.tz = name, data, tz

    def load(self, store: Store):
        (r,) = store.load_files([(self.name, self.data)], opts=ParseOptions(tz=self.tz),
                                origin="upload")
        return r


def story_items() -> list[Item]:
    """The story's ESP export, a second campaign, and every trace file this build reads."""
    out = [Item(Path(rel).name, (SAMPLES / rel).read_bytes(), SAMPLE_TZ.get(rel, "UTC"))
           for rel in story_files()]
    out.insert(1, Item("october.csv", october_campaign(), SAMPLE_TZ[ESP]))
    return out


def assert_consistent(store: Store) -> None:
    """Base tables agree with imports, nothing is orphaned, derived tables are current."""
    cur = store.cursor()
    try:
        per_import = cur.execute("""
            SELECT i.import_id, i.side, i.rows_loaded, i.rows_rejected,
              (SELECT count(*) FROM sends s WHERE s.import_id = i.import_id),
              (SELECT count(*) FROM trace_events t WHERE t.import_id = i.import_id),
              (SELECT count(*) FROM rejected_rows r WHERE r.import_id = i.import_id)
            FROM imports i ORDER BY 1""").fetchall()
        for import_id, side, loaded, rejected, n_sends, n_trace, n_rej in per_import:
            want = (loaded, 0) if side == "esp" else (0, loaded)
            assert (n_sends, n_trace, n_rej) == (*want, rejected), import_id
        orphans = cur.execute("""
            SELECT (SELECT count(*) FROM sends WHERE import_id NOT IN (SELECT import_id FROM imports)),
              (SELECT count(*) FROM trace_events WHERE import_id NOT IN (SELECT import_id FROM imports)),
              (SELECT count(*) FROM rejected_rows WHERE import_id NOT IN (SELECT import_id FROM imports)),
              (SELECT count(*) FROM journey_events WHERE import_id NOT IN (SELECT import_id FROM imports)),
              (SELECT count(*) FROM journeys WHERE esp_import_id NOT IN (SELECT import_id FROM imports)),
              (SELECT count(*) FROM trace_unmatched WHERE import_id NOT IN (SELECT import_id FROM imports))
            """).fetchall()[0]
        assert orphans == (0, 0, 0, 0, 0, 0), orphans
        gens = dict(cur.execute("SELECT key, value FROM meta WHERE key IN "
                                "('data_generation', 'derived_generation')").fetchall())
        assert gens.get("data_generation", "0") == gens.get("derived_generation", "0"), gens
        # The classification joins cover every row and keep no class for a reply now gone.
        assert cur.execute("SELECT (SELECT count(*) FROM sends_classified) = (SELECT count(*) "
                           "FROM sends) AND (SELECT count(*) FROM trace_classified) = (SELECT "
                           "count(*) FROM trace_events)").fetchall()[0][0]
        stale = cur.execute("""
            SELECT count(*) FROM classifications c WHERE NOT EXISTS (
              SELECT 1 FROM sends_classified s WHERE s.reason IS NOT NULL
                AND s.smtp_code IS NOT DISTINCT FROM c.smtp_code
                AND s.enhanced_code IS NOT DISTINCT FROM c.enhanced_code)
            AND NOT EXISTS (
              SELECT 1 FROM trace_classified t WHERE t.reason IS NOT NULL
                AND t.smtp_code IS NOT DISTINCT FROM c.smtp_code
                AND t.enhanced_code IS NOT DISTINCT FROM c.enhanced_code)""").fetchall()[0][0]
        assert stale == 0
    finally:
        cur.close()


def views(store: Store) -> dict[str, object]:
    """What the pages show, without import ids (which differ between workspaces)."""
    cur = store.cursor()
    try:
        out: dict[str, object] = {
            "imports": cur.execute("SELECT file_name, format, side, rows_read, rows_loaded, "
                                   "rows_rejected FROM imports ORDER BY import_id").fetchall(),
            "journeys": cur.execute(JOURNEY_SQL).fetchall(),
            # An ID-less trace message is named 'row:<import id>:<row>': drop the id.
            "unmatched": cur.execute("SELECT regexp_replace(trace_message, '^row:[0-9]+:', "
                                     "'row:') AS m, format, recipients, events, rows "
                                     "FROM trace_unmatched ORDER BY ALL").fetchall(),
        }
        for i, query in enumerate(VIEW_QUERIES):
            frame = query(cur)
            out[f"query{i}"] = frame.sort_values(list(frame.columns)).reset_index(drop=True) \
                if len(frame) else frame
        return out
    finally:
        cur.close()


def assert_same_views(got: dict[str, object], want: dict[str, object]) -> None:
    assert got.keys() == want.keys()
    for key in want:
        if isinstance(want[key], pd.DataFrame):
            pd.testing.assert_frame_equal(got[key], want[key], check_dtype=False, obj=key)
        else:
            assert got[key] == want[key], key


def reference_views(store: Store, items: dict[str, Item]) -> dict[str, object]:
    """The views of a fresh workspace holding the same files, loaded in the same order."""
    ref = Store(":memory:")
    try:
        for name in store.imports()["file_name"]:
            r = items[name].load(ref)
            assert r.ok and not r.skipped, r
        return views(ref)
    finally:
        ref.close()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws.duckdb"
    s = Store(path)
    s.set_meta("demo_offered", "yes")
    s.close()
    return path


# -- two sessions at once (threads) ----------------------------------------------------------
def _run_threads(*targets: Callable[[], None]) -> None:
    """Start the targets together; re-raise the first exception any of them hit."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                barrier.wait(timeout=30)
                fn()
            except BaseException as e:  # noqa: BLE001 - handed to the main thread
                errors.append(e)
        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a session hung"
    if errors:
        raise errors[0]


@pytest.mark.parametrize("stores", ["one store, a cursor per thread (the app)",
                                    "a store per session on the same file"])
def test_two_sessions_loading_and_deleting_at_once_leave_a_consistent_workspace(
        workspace: Path, stores: str) -> None:
    items = story_items()
    by_name = {i.name: i for i in items}
    esp, october, traces = items[0], items[1], items[2:]
    first = Store(workspace)
    second = first if stores.startswith("one store") else Store(workspace)
    # Before the sessions start: the ESP export and four traces, which they will delete.
    assert esp.load(first).ok
    doomed = [traces[i].load(first).import_id for i in range(4)]
    shared, rest = traces[4], traces[5:]
    a_files, b_files = rest[0::2], rest[1::2] + [october]
    outcome: dict[str, list] = {"a": [], "b": []}
    reads: list[int] = []
    done = threading.Event()

    def session(store: Store, key: str, files: list[Item], mine: list[int]) -> None:
        for n, item in enumerate(files):
            outcome[key].append(("load", item.name, item.load(store)))
            if n < len(mine):
                outcome[key].append(("delete", mine[n], store.delete_import(mine[n])))
        outcome[key].append(("load", shared.name, shared.load(store)))  # both load it
        outcome[key].append(("delete", doomed[3], store.delete_import(doomed[3])))  # both delete it

    def reader() -> None:
        """A third session reading while the others write: never a half-loaded import."""
        cur = first.cursor()
        try:
            while not done.is_set():
                ok = cur.execute("""
                    SELECT (SELECT coalesce(sum(rows_loaded), 0) FROM imports WHERE side = 'esp')
                             = (SELECT count(*) FROM sends)
                       AND (SELECT coalesce(sum(rows_loaded), 0) FROM imports WHERE side = 'trace')
                             = (SELECT count(*) FROM trace_events)
                       AND (SELECT coalesce(sum(rows_rejected), 0) FROM imports)
                             = (SELECT count(*) FROM rejected_rows)""").fetchall()[0][0]
                assert ok, "a reader saw a partial import"
                queries.kpis(cur)
                reads.append(1)
        finally:
            cur.close()

    def writers() -> None:
        try:
            _run_threads(lambda: session(first, "a", a_files, doomed[0:3:2]),
                         lambda: session(second, "b", b_files, doomed[1:2]))
        finally:
            done.set()

    _run_threads(writers, reader)
    assert reads, "the reader never ran"

    steps = outcome["a"] + outcome["b"]
    assert all(r.ok for kind, _, r in steps if kind == "load"), steps
    shared_loads = [r for kind, name, r in steps if kind == "load" and name == shared.name]
    assert sorted(r.skipped for r in shared_loads) == [False, True]  # loaded exactly once
    assert len({r.import_id for r in shared_loads}) == 1
    contested = [ok for kind, i, ok in steps if kind == "delete" and i == doomed[3]]
    assert sorted(contested) == [False, True]  # deleted exactly once
    assert all(ok for kind, i, ok in steps if kind == "delete" and i != doomed[3])

    survivors = {esp.name, shared.name} | {i.name for i in a_files + b_files}
    assert set(first.imports()["file_name"]) == survivors
    assert len(first.imports()) == len(survivors)
    assert_consistent(first)
    assert_same_views(views(first), reference_views(first, by_name))
    if second is not first:
        assert_same_views(views(second), views(first))
        second.close()
    first.close()


# -- a load interrupted by an exception -------------------------------------------------------
def _table_state(store: Store) -> dict[str, list]:
    cur = store.cursor()
    try:
        return {t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()  # noqa: S608
                for t in ("imports", "sends", "trace_events", "rejected_rows", "journeys",
                          "classifications", "meta")}
    finally:
        cur.close()


class Boom(RuntimeError):
    pass


def _after_parse(exc: type[BaseException]):
    """The real parser runs (staging tables and all), then the load is cut off."""
    def patch(monkeypatch: pytest.MonkeyPatch, seen: list[int]) -> None:
        source = sources.get("touchbasepro_csv")
        real = source.parse

        def parse(src, con, opts):
            real(src, con, opts)
            seen.append(-1)
            raise exc("interrupted after parsing")
        monkeypatch.setattr(source, "parse", parse)
    return patch


def _after_rows_inserted(exc: type[BaseException]):
    """The store has inserted the file's rows and rejects, then the next step fails."""
    def patch(monkeypatch: pytest.MonkeyPatch, seen: list[int]) -> None:
        def bump(cur: duckdb.DuckDBPyConnection) -> None:
            # Inside the load's transaction: the rows are there, about to be rolled back.
            seen.append(cur.execute("SELECT count(*) FROM sends WHERE import_id = "
                                    "(SELECT max(import_id) FROM imports)").fetchall()[0][0])
            raise exc("interrupted after inserting the rows")
        monkeypatch.setattr(store_module, "_bump_generation", bump)
    return patch


@pytest.mark.parametrize(("where", "patch", "exc"), [
    ("parser raises after staging", _after_parse(Boom), Boom),
    ("store step raises after the rows are in", _after_rows_inserted(Boom), Boom),
    ("Ctrl-C after parsing", _after_parse(KeyboardInterrupt), KeyboardInterrupt),
    ("Ctrl-C after the rows are in", _after_rows_inserted(KeyboardInterrupt), KeyboardInterrupt),
])
def test_an_interrupted_load_leaves_no_partial_import(
        workspace: Path, monkeypatch: pytest.MonkeyPatch, where: str, patch, exc) -> None:
    store = Store(workspace)
    trace = SAMPLES / "posix" / "postfix_syslog.log"
    assert store.load_files([trace], opts=ParseOptions(tz=SAMPLE_TZ["posix/postfix_syslog.log"]))[0].ok
    before = _table_state(store)
    # An ESP export with a broken row, so rejected_rows is written too.
    data = (SAMPLES / ESP).read_bytes() + b'"x@y.example","X","C","Bounced","not a date"\r\n'
    seen: list[int] = []
    with monkeypatch.context() as m:
        patch(m, seen)
        if exc is KeyboardInterrupt:
            with pytest.raises(KeyboardInterrupt):
                store.load_files([("esp.csv", data)], opts=ParseOptions(tz=SAMPLE_TZ[ESP]))
        else:
            (r,) = store.load_files([("esp.csv", data)], opts=ParseOptions(tz=SAMPLE_TZ[ESP]))
            assert r.error is not None and r.error.startswith("esp.csv: unexpected error"), r
            assert "interrupted" in r.error
    assert seen and (seen[0] == -1 or seen[0] == 28), seen  # the cut came where intended
    assert _table_state(store) == before, where
    assert_consistent(store)
    # Nothing is left half-claimed: the same file loads whole afterwards.
    (r,) = store.load_files([("esp.csv", data)], opts=ParseOptions(tz=SAMPLE_TZ[ESP]))
    assert (r.error, r.skipped, r.rows_read, r.rows_loaded, r.rows_rejected) == (
        None, False, 29, 28, 1)
    assert_consistent(store)
    store.close()


# -- a load killed with SIGKILL ----------------------------------------------------------------
BIG_ROWS = 300_000
CHILD = r"""
import sys, time
import analysis.store as st
from analysis import sources
from analysis.sources._base import ParseOptions

ws, path, point = sys.argv[1:]
store = st.Store(ws)

def say(word):
    print(word, flush=True)

source = sources.get("touchbasepro_csv")
real_parse, real_insert = source.parse, st.Store._insert

def parse(src, con, opts):
    say("parse")
    return real_parse(src, con, opts)

def insert(self, *a, **k):
    say("insert")
    return real_insert(self, *a, **k)

source.parse = parse
st.Store._insert = insert
st._register_hooks()
first = st.DERIVED_HOOKS[0]

def hook(con, progress=None):
    say("refresh")
    return first(con, progress=progress)

st.DERIVED_HOOKS[0] = hook
(r,) = store.load_files([path], opts=ParseOptions(tz="UTC"))
say("done " + str(r.rows_loaded) + " " + str(r.error))
"""


def big_activity(rows: int) -> bytes:
    """A TouchBasePro activity export of `rows` sends (big enough to be caught mid-load)."""
    out = ['"Email Address","Name","Campaign","Event","Date","Bounce Type","Bounce Reason",'
           '"Message ID","SMTP Response"']
    for i in range(rows):
        bounced = i % 7 == 0
        reply = "550 5.1.1 user unknown" if bounced else \
            f"250 2.6.0 <{i}.big@mta.example.net> Queued mail for delivery"
        out.append(f'"user{i}@d{i % 500}.example.org","User {i}","Big Campaign",'
                   f'"{"Bounced" if bounced else "Delivered"}",'
                   f'"2025-11-04 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}","","",'
                   f'"<{i}.big@mta.example.net>","{reply}"')
    return ("\r\n".join(out) + "\r\n").encode()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big_activity.csv"
    path.write_bytes(big_activity(BIG_ROWS))
    return path


def _kill_at(workspace: Path, big: Path, point: str) -> list[str]:
    """Run the load in a child process, SIGKILL it once it reports `point`; its output."""
    # TMPDIR: a process killed outright leaves its scratch folder (no exit handler runs);
    # it is left in the test's own folder, not in the machine's temp directory.
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(workspace), str(big), point],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, process_group=0,
                            env=os.environ | {"PYTHONPATH": str(ROOT),
                                              "TMPDIR": str(workspace.parent)})
    said: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # blocks until the child reports a step
            said.append(line.strip())
            if said[-1] == point:
                time.sleep(0.05)  # inside the step (each takes half a second or more)
                os.killpg(proc.pid, signal.SIGKILL)
                break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    return said


@pytest.mark.parametrize("point", ["parse", "insert", "refresh"])
def test_a_load_killed_mid_way_leaves_a_workspace_that_opens_whole(
        workspace: Path, big_file: Path, point: str) -> None:
    store = Store(workspace)
    assert store.load_files([SAMPLES / ESP], opts=ParseOptions(tz=SAMPLE_TZ[ESP]))[0].ok
    before = views(store)
    store.close()

    said = _kill_at(workspace, big_file, point)
    assert said[-1] == point and not any(s.startswith("done") for s in said), said

    store = Store(workspace)  # opens: no lock left behind, no damaged file
    imports = store.imports()
    if point == "refresh":
        # Killed after the commit, while journeys were being rebuilt: the import is whole,
        # and opening the workspace caught the derived tables up.
        assert imports["file_name"].tolist() == [ESP.split("/")[1], big_file.name]
        assert imports["rows_loaded"].tolist()[1] == BIG_ROWS
        assert store.df("SELECT count(*) AS n FROM journeys WHERE campaign = 'Big Campaign'"
                        )["n"][0] == BIG_ROWS
    else:
        # Killed inside the load's transaction: as if it never started.
        assert_same_views(views(store), before)
        assert store.df("SELECT count(*) AS n FROM sends")["n"][0] == 28
    assert_consistent(store)
    store.close()


# -- restart ---------------------------------------------------------------------------------
def test_the_workspace_survives_a_restart(workspace: Path) -> None:
    items = story_items()
    store = Store(workspace)
    for item in items:
        assert item.load(store).ok
    store.delete_import(int(store.imports()["import_id"].iloc[3]))
    imports, rejected, shown = store.imports(), store.rejected(), views(store)
    store.close()

    again = Store(workspace)
    pd.testing.assert_frame_equal(again.imports(), imports)
    pd.testing.assert_frame_equal(again.rejected(), rejected)
    assert_same_views(views(again), shown)
    assert_consistent(again)
    # Import ids are never reused after a restart (pages key their caches on them).
    (r,) = again.load_files([("late.csv", b'"Email Address","Event","Date"\r\n'
                                          b'"late@x.example","Delivered","2025-11-05 10:00:00"\r\n')])
    assert r.import_id > int(imports["import_id"].max())
    again.close()


APP_PROBE = r"""
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=120).run()
sidebar = [getattr(c, "value", None) for c in at.sidebar.children.values()]
at.switch_page("pages/overview.py").run()
assert not at.exception, at.exception
tiles = {m.label: m.value for m in at.metric}
at.switch_page("pages/upload.py").run()
assert not at.exception, at.exception
table = next(d.value for d in at.dataframe if "file_name" in d.value.columns)
print(json.dumps({"tiles": tiles, "sidebar": sidebar,
                  "imports": table[["import_id", "file_name", "rows_loaded",
                                    "rows_rejected"]].values.tolist()}))
"""


def _app_shows(workspace: Path) -> dict:
    """What a freshly started app process shows on the Overview and Upload pages."""
    proc = subprocess.run([sys.executable, "-c", APP_PROBE, APP], cwd=ROOT, capture_output=True,
                          text=True, timeout=300,
                          env=os.environ | {"DELIVERY_TRACE_WORKSPACE": str(workspace),
                                            "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


APP_UPLOAD = r"""
import json, sys
from streamlit.testing.v1 import AppTest
app, *groups = sys.argv[1:]
at = AppTest.from_file(app, default_timeout=120).run()
at.switch_page("pages/upload.py").run()
errors = []
for group in groups:
    tz, path = group.split("=", 1)
    at.selectbox(key="upload_tz").select(tz).run()
    with open(path, "rb") as fh:
        at.file_uploader(key="upload_files").set_value([(path.rsplit("/", 1)[-1], fh.read(),
                                                         "text/csv")]).run()
    at.button(key="upload_load").click().run()
    assert not at.exception, at.exception
    errors += [r["error"] for r in at.session_state["upload_results"]]
print(json.dumps(errors))
"""


def test_the_app_shows_the_same_data_after_a_restart(workspace: Path) -> None:
    # The first app process loads two files through its Upload page, then stops.
    esp = SAMPLES / ESP
    rel = "exchange/get-messagetrackinglog_export.csv"
    proc = subprocess.run(
        [sys.executable, "-c", APP_UPLOAD, APP, f"{SAMPLE_TZ[ESP]}={esp}",
         f"{SAMPLE_TZ[rel]}={SAMPLES / rel}"], cwd=ROOT, capture_output=True, text=True,
        timeout=300, env=os.environ | {"DELIVERY_TRACE_WORKSPACE": str(workspace),
                                       "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [None, None]
    first = _app_shows(workspace)  # a new app process
    second = _app_shows(workspace)  # and another restart
    assert first == second
    assert {"ESP exports: 1 files, 28 rows", "Trace files: 1 files, 16 rows"} <= set(
        first["sidebar"]), first["sidebar"]
    store = Store(workspace)
    k = queries.kpis(store.cursor())
    assert first["tiles"]["Sent"] == f"{k['sent']:,}" and k["sent"] == 18
    assert first["imports"] == store.imports()[["import_id", "file_name", "rows_loaded",
                                                "rows_rejected"]].values.tolist()
    assert [row[1] for row in first["imports"]] == [esp.name, Path(rel).name]
    store.close()


# -- deleting an import ------------------------------------------------------------------------
@pytest.mark.parametrize("victim", ["get-messagetracedetail_export.csv", "postfix_syslog.log",
                                    "touchbasepro_activity.csv"])
def test_deleting_an_import_removes_exactly_its_rows_and_updates_every_view(victim: str) -> None:
    items = story_items()
    by_name = {i.name: i for i in items}
    store = Store(":memory:")
    for item in items:
        assert item.load(store).ok
    imports = store.imports()
    victim_id = int(imports.loc[imports["file_name"] == victim, "import_id"].iloc[0])
    tables = {t: store.df(f"SELECT * FROM {t}") for t in  # noqa: S608
              ("sends", "trace_events", "rejected_rows")}
    assert sum(int((f["import_id"] == victim_id).sum()) for f in tables.values()) > 0
    had_events = store.df("SELECT count(*) AS n FROM journey_events WHERE import_id = ?",
                          [victim_id])["n"][0]
    before = views(store)

    assert store.delete_import(victim_id) is True
    assert store.delete_import(victim_id) is False  # gone: a second delete finds nothing

    for name, frame in tables.items():  # every other row is still there, unchanged
        keep = frame[frame["import_id"] != victim_id].sort_values(list(frame.columns), ignore_index=True)
        after = store.df(f"SELECT * FROM {name}").sort_values(list(frame.columns),  # noqa: S608
                                                                ignore_index=True)
        pd.testing.assert_frame_equal(after, keep, obj=name)
    assert victim not in set(store.imports()["file_name"])
    assert_consistent(store)
    shown = views(store)
    assert_same_views(shown, reference_views(store, by_name))
    if victim == "touchbasepro_activity.csv" or had_events:
        assert shown["journeys"] != before["journeys"]  # the views did change
    store.close()


def test_deleting_on_the_upload_page_updates_the_overview(workspace: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    items = story_items()
    store = Store(workspace)
    for item in items[:2]:  # two campaigns
        assert item.load(store).ok
    october_id = int(store.imports()["import_id"].iloc[1])
    store.close()
    monkeypatch.setenv("DELIVERY_TRACE_WORKSPACE", str(workspace))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/overview.py").run()
    at.selectbox(key="overview_campaign").select("All campaigns").run()
    sent_before = {m.label: m.value for m in at.metric}["Sent"]
    at.switch_page("pages/upload.py").run()
    at.multiselect(key="upload_delete_ids").select(october_id).run()
    at.button(key="upload_delete").click().run()
    assert not at.exception, at.exception
    at.switch_page("pages/overview.py").run()
    assert not at.exception, at.exception
    sent_after = {m.label: m.value for m in at.metric}["Sent"]
    store = Store(workspace)
    assert october_id not in set(store.imports()["import_id"])
    assert sent_after == f"{queries.kpis(store.cursor())['sent']:,}" == "18"
    assert sent_before != sent_after
    store.close()


@pytest.fixture(autouse=True)
def _no_stray_workspace_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("DELIVERY_TRACE_WORKSPACE", raising=False)
    yield


def test_a_second_process_is_refused_with_one_line(workspace: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    """DuckDB lets one process write a workspace file: a CLI command while the app runs
    gets one clear line, and the workspace is untouched."""
    from analysis.cli import main

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from analysis.store import Store; "
         "s = Store(sys.argv[1]); print('open', flush=True); time.sleep(120)", str(workspace)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, process_group=0,
        env=os.environ | {"PYTHONPATH": str(ROOT), "TMPDIR": str(workspace.parent)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        assert main(["load", str(SAMPLES / ESP), "--workspace", str(workspace)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"delivery-trace: cannot open workspace {workspace}: ")
        assert err.count("\n") == 1 and "is the app or another command using it?" in err
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(30)
    store = Store(workspace)
    assert store.is_empty()
    store.close()


@pytest.mark.parametrize("stop_at", ["Classifying", "Journeys: deciding", "Reading"])
def test_a_load_stopped_by_its_caller_still_updates_the_views(workspace: Path,
                                                              stop_at: str) -> None:
    """Streamlit stops a session's script (the user navigates away or presses Stop) by
    raising StopException from the next st call, here the progress bar's: the files
    already committed must still reach journeys and every view, not wait for a restart,
    also when the stop comes from a stage of that refresh (it finishes, then re-raises)."""
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    items = story_items()
    store = Store(workspace)
    heard: list[str] = []

    def progress(frac: float, msg: str) -> None:
        heard.append(msg)
        if msg.startswith(stop_at) and (stop_at != "Reading" or items[2].name in msg):
            raise StopException()

    with pytest.raises(StopException):
        store.load_files([(items[0].name, items[0].data), (items[2].name, items[2].data)],
                         opts=ParseOptions(tz=items[0].tz), progress=progress)
    assert heard[-1].startswith(stop_at)  # not called again once it raised
    assert store.imports()["file_name"].tolist() == (
        [items[0].name] if stop_at == "Reading" else [items[0].name, items[2].name])
    assert_consistent(store)  # the derived tables were rebuilt for what was committed
    assert queries.kpis(store.cursor())["sent"] == 18
    store.close()


def test_a_load_reports_each_stage_of_the_refresh(store: Store) -> None:
    """The progress bar names each file, then each stage of the refresh after them (a
    minute at 1M sends), with fractions that only grow and end at 1."""
    items = story_items()
    heard: list[tuple[float, str]] = []
    store.load_files([(i.name, i.data) for i in items[:2]], opts=ParseOptions(tz=items[0].tz),
                     progress=lambda frac, msg: heard.append((frac, msg)))
    messages = [m for _, m in heard]
    assert messages == [
        f"Reading {items[0].name}", f"Reading {items[1].name}",
        "Classifying the failure replies", "Journeys: reading the ESP sends",
        "Journeys: reading message IDs", "Journeys: reading the trace rows",
        "Journeys: matching sends to trace rows", "Journeys: deciding verdicts",
        "Journeys: classifying failures", "Journeys: building timelines and search",
        "Journeys: listing unmatched trace messages", "Journeys: done", "Done"]
    fractions = [f for f, _ in heard]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    # The files had the first part of the bar, the refresh the rest.
    assert fractions[1] < store_module._FILES_SHARE <= fractions[2] < fractions[3] < 1.0


def test_a_progress_error_during_the_refresh_is_raised_after_it(store: Store) -> None:
    """A callback that fails at a refresh stage does not make the refresh a failure: it
    commits, no "could not be updated" note is made, and the error is raised after it."""
    items = story_items()

    def progress(frac: float, msg: str) -> None:
        if msg == "Journeys: deciding verdicts":
            raise ValueError("the bar is gone")

    with pytest.raises(ValueError, match="the bar is gone"):
        store.load_files([(items[0].name, items[0].data)], opts=ParseOptions(tz=items[0].tz),
                         progress=progress)
    assert store.imports()["file_name"].tolist() == [items[0].name]
    assert not store._derived_stale()
    assert queries.kpis(store.cursor())["sent"] == 18


def test_ctrl_c_from_the_progress_callback_stops_the_refresh(store: Store) -> None:
    """Ctrl-C (KeyboardInterrupt) in the callback is not held: the refresh rolls back at
    once, the committed file stays, and the derived tables are marked for a rebuild."""
    items = story_items()

    def progress(frac: float, msg: str) -> None:
        if msg == "Journeys: deciding verdicts":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.load_files([(items[0].name, items[0].data)], opts=ParseOptions(tz=items[0].tz),
                         progress=progress)
    assert store.imports()["file_name"].tolist() == [items[0].name]
    assert store._derived_stale()
    store.refresh_derived()
    assert queries.kpis(store.cursor())["sent"] == 18
