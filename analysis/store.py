"""The workspace: one DuckDB file with the canonical schema, loads as single transactions."""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from . import settings, sources
from .errors import DeliveryTraceError, InputError, UsageError, WorkspaceError
from .settings import Limits
from .sources._base import SENDS_COLUMNS, TRACE_COLUMNS, ParseOptions, ParseResult, Rejected
from .sources._canon import column_expr, text_column
from .sources._io import SourceFile, open_one, workdir_inputs
from .sources._tabular import sql_ident as quote_ident
from .sources._tabular import sql_str as _sql_str

SCHEMA_VERSION = 1

_MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE SEQUENCE IF NOT EXISTS import_seq START 1",
        """CREATE TABLE IF NOT EXISTS imports (
            import_id INTEGER PRIMARY KEY DEFAULT nextval('import_seq'),
            file_name VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL UNIQUE,
            format VARCHAR NOT NULL,
            side VARCHAR NOT NULL,
            rows_read BIGINT NOT NULL,
            rows_loaded BIGINT NOT NULL,
            rows_rejected BIGINT NOT NULL,
            imported_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            tz VARCHAR,
            confidence DOUBLE,
            origin VARCHAR,
            notes VARCHAR
        )""",
        "CREATE TABLE IF NOT EXISTS sends (import_id INTEGER NOT NULL, "
        + ", ".join(f"{c} {t}" for c, t in SENDS_COLUMNS.items())
        + ")",
        "CREATE TABLE IF NOT EXISTS trace_events (import_id INTEGER NOT NULL, "
        + ", ".join(f"{c} {t}" for c, t in TRACE_COLUMNS.items())
        + ")",
        """CREATE TABLE IF NOT EXISTS rejected_rows (
            import_id INTEGER NOT NULL, row_no BIGINT, raw VARCHAR, error VARCHAR NOT NULL)""",
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        """CREATE TABLE IF NOT EXISTS mappings (
            name VARCHAR PRIMARY KEY, mapping VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
    ],
}

# Functions run after every change of the loaded data, in order: each rebuilds a
# derived table (classification, journeys) from the base tables. Modules add themselves.
# Each hook is called as hook(cursor, progress=...): progress(fraction, message) hears
# its stages (a part of the caller's bar, weighted by the hook's progress_weight).
DERIVED_HOOKS: list[Callable[..., None]] = []


# Of a load's progress bar, the share of reading the files; the refresh after them has the
# rest (its stages are named). An ESP export and a trace of 1M rows each take ~20 s to read
# and ~55 s to refresh; 10k rows ~0.6 s and ~1 s (docs/benchmarks.md).
_FILES_SHARE = 0.4


class _Progress:
    """A caller's progress callback, for the span [lo, hi] of its bar.

    An exception the callback raises (Streamlit's StopException, a broken bar) is kept,
    and the callback no longer called, until raise_deferred(): the refresh it reports on
    runs in one transaction and must finish. KeyboardInterrupt and SystemExit pass at once.
    Parts made with part() share that state.
    """

    def __init__(self, fn: Callable[[float, str], None] | None, lo: float = 0.0,
                 hi: float = 1.0, errors: list[BaseException] | None = None) -> None:
        self.fn, self.lo, self.hi = fn, lo, hi
        self.errors: list[BaseException] = [] if errors is None else errors

    def __call__(self, fraction: float, message: str) -> None:
        if self.fn is None or self.errors:
            return
        try:
            self.fn(self.lo + (self.hi - self.lo) * min(max(fraction, 0.0), 1.0), message)
        except (KeyboardInterrupt, SystemExit):
            raise  # Ctrl-C stops the refresh (it rolls back), as it does anywhere else
        except BaseException as e:  # noqa: BLE001 - raised again by raise_deferred
            self.errors.append(e)

    def part(self, lo: float, hi: float) -> _Progress:
        """The span [lo, hi] of this one (fractions of it)."""
        span = self.hi - self.lo
        return _Progress(self.fn, self.lo + span * lo, self.lo + span * hi, self.errors)

    def raise_deferred(self) -> None:
        if self.errors:
            raise self.errors[0]


@dataclass(frozen=True)
class LoadResult:
    """What happened to one file."""

    file: str
    format: str | None
    side: str | None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    skipped: bool = False
    import_id: int | None = None
    confidence: float | None = None
    tz: str | None = None
    error: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "format": self.format, "side": self.side,
            "rows_read": self.rows_read, "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected, "skipped": self.skipped,
            "import_id": self.import_id, "confidence": self.confidence, "tz": self.tz,
            "error": self.error, "notes": self.notes,
        }


_SCRATCH_PREFIX = "delivery-trace-ws-"
# Scratch folders this process made and has not removed yet, by the pid that made them: a
# Store nobody closes (the app's cached ones, a command that exits early) would leave its
# folder behind in the temp directory, and an in-memory one its spill folder too. A forked
# child inherits the set but must not remove its parent's folders.
# A process killed outright (SIGKILL) runs no exit handler and still leaves its folder.
_SCRATCH_DIRS: dict[Path, int] = {}
_SCRATCH_LOCK = threading.Lock()  # a folder's removal and its re-making by a sibling Store


def _remove_scratch_dirs() -> None:
    """At exit: remove the scratch folders this process made (what is in them are copies
    or links of the inputs, and spill files)."""
    with _SCRATCH_LOCK:
        for d, pid in list(_SCRATCH_DIRS.items()):
            if pid == os.getpid():
                shutil.rmtree(d, ignore_errors=True)
                _SCRATCH_DIRS.pop(d, None)


atexit.register(_remove_scratch_dirs)

# Settings a locked connection may still change: the session zone every cursor sets,
# and the memory budget (settings.memory_limit; the bench's --memory-limit).
_ALLOWED_CONFIGS = ("TimeZone", "memory_limit", "threads")
_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()
_ADDRESS = re.compile(r"[\w.+-][\w.+'-]*@[\w-]+(?:\.[\w-]+)+")


def _lock_for(path: str) -> threading.RLock:
    """One write lock per workspace file in this process (stores of one file share it)."""
    if settings.is_memory(path):
        return threading.RLock()  # every :memory: connection is a database of its own
    key = os.path.realpath(path)
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.RLock())


def _mask(text: str) -> str:
    """Library messages may quote a value: keep e-mail addresses out of messages and logs."""
    return _ADDRESS.sub("<address>", text)


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    """Roll back, ignoring a connection that has no transaction left to roll back."""
    try:
        cur.execute("ROLLBACK")
    except duckdb.Error:
        pass


def _bump_generation(cur: duckdb.DuckDBPyConnection) -> None:
    """Count a change of the base tables, in the transaction that makes it."""
    cur.execute(
        "INSERT OR REPLACE INTO meta SELECT 'data_generation', CAST(coalesce((SELECT "
        "TRY_CAST(value AS BIGINT) FROM meta WHERE key = 'data_generation'), 0) + 1 AS VARCHAR)")


class Store:
    """A workspace. One DuckDB connection; use `cursor()` per thread."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 limits: Limits | None = None) -> None:
        self.path = settings.workspace_path(path)
        self.limits = limits or settings.limits()
        self.in_memory = settings.is_memory(self.path)
        self.closed = False
        if not self.in_memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(self.path)
        except duckdb.Error as e:
            raise WorkspaceError(
                f"cannot open workspace {self.path}: {str(e).splitlines()[0]} "
                "(is the app or another command using it? close it or pass --workspace)"
            ) from e
        self._write_lock = _lock_for(self.path)
        self.con.execute("SET TimeZone = 'UTC'")
        with self._write_lock:
            self._migrate()
            self.scratch = self._lock_down()
        _register_hooks()
        if not self._has_table("journeys") or self._derived_stale():
            self.refresh_derived()  # new workspace, or a process died before its refresh

    def _lock_down(self) -> Path:
        """Confine DuckDB to a private scratch folder; returns that folder.

        Parsers read inputs with DuckDB's read_csv/read_text, and only ever from scratch
        copies (sources/_io.py), so the connection may touch no other file: no input,
        even one that reached SQL text, can read /etc/passwd or COPY a table out.
        Extension installs are refused too. Connections to the same file share one
        DuckDB instance, so a second Store finds it locked and reuses its folder.
        """
        row = self.con.execute(
            "SELECT current_setting('enable_external_access'), "
            "current_setting('allowed_directories')").fetchall()[0]
        if not row[0]:
            for d in row[1]:
                if Path(d).name.startswith(_SCRATCH_PREFIX):
                    return Path(d)
            raise WorkspaceError(f"workspace {self.path} is open elsewhere in this process "
                                 "with file access switched off")
        scratch = Path(tempfile.mkdtemp(prefix=_SCRATCH_PREFIX))
        _SCRATCH_DIRS[scratch] = os.getpid()
        if self.in_memory:  # spill files stay in the private folder, removed on close
            spill = scratch / "spill"
            spill.mkdir()
            self.con.execute(f"SET temp_directory = {_sql_str(str(spill))}")
        # A file workspace spills to DuckDB's default <workspace>.tmp (forget() removes it).
        self.con.execute(f"SET memory_limit = {_sql_str(settings.memory_limit())}")
        self.con.execute(f"SET allowed_directories = [{_sql_str(str(scratch) + os.sep)}]")
        self.con.execute("SET enable_external_access = false")
        self.con.execute(f"SET allowed_configs = [{', '.join(map(_sql_str, _ALLOWED_CONFIGS))}]")
        self.con.execute("SET lock_configuration = true")
        return scratch

    # -- schema -------------------------------------------------------------------------
    def _migrate(self) -> None:
        self.con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self.con.execute("SELECT max(version) FROM schema_version").fetchall()[0]
        current = row[0] or 0
        for version in sorted(v for v in _MIGRATIONS if v > current):
            self.con.execute("BEGIN TRANSACTION")
            try:
                for stmt in _MIGRATIONS[version]:
                    self.con.execute(stmt)
                self.con.execute("INSERT INTO schema_version VALUES (?)", [version])
                self.con.execute("COMMIT")
            except Exception:
                self.con.execute("ROLLBACK")
                raise

    def _has_table(self, name: str) -> bool:
        return bool(self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
            [name]).fetchall()[0][0])

    def cursor(self) -> duckdb.DuckDBPyConnection:
        if self.closed:
            raise WorkspaceError(f"workspace {self.path} is closed (forgotten?); open it again")
        cur = self.con.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        return cur

    def close(self) -> None:
        """Close the connection and remove the scratch folder once nothing uses it."""
        if self.closed:
            return
        self.closed = True
        self.con.close()
        with _SCRATCH_LOCK:
            if self.in_memory:
                shutil.rmtree(self.scratch, ignore_errors=True)
                _SCRATCH_DIRS.pop(self.scratch, None)
            else:
                try:
                    self.scratch.rmdir()  # only when empty: another Store may share it
                    _SCRATCH_DIRS.pop(self.scratch, None)
                except OSError:
                    pass

    def forget(self) -> list[str]:
        """Delete the workspace: close it and remove its files. Returns the paths removed.

        An in-memory workspace is simply dropped. The Store cannot be used afterwards;
        open a new one (which starts empty).
        """
        with self._write_lock:
            self.close()
            if self.in_memory:
                return []
            removed = []
            base = Path(self.path)
            for p in (base, Path(f"{base}.wal"), Path(f"{base}.tmp")):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                    removed.append(str(p))
                elif p.exists():
                    p.unlink()
                    removed.append(str(p))
            return removed

    # -- reading ------------------------------------------------------------------------
    def df(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read query with bound parameters and return a DataFrame."""
        return self.cursor().execute(sql, params or []).df()

    def imports(self) -> pd.DataFrame:
        return self.df("SELECT * FROM imports ORDER BY import_id")

    def rejected(self, import_id: int | None = None) -> pd.DataFrame:
        if import_id is None:
            return self.df("SELECT * FROM rejected_rows ORDER BY import_id, row_no")
        return self.df("SELECT * FROM rejected_rows WHERE import_id = ? ORDER BY row_no", [import_id])

    def is_empty(self) -> bool:
        return self.cursor().execute("SELECT count(*) FROM imports").fetchall()[0][0] == 0

    def last_import_id(self) -> int:
        """A number that changes whenever the loaded data changes (cache key for pages)."""
        row = self.cursor().execute(
            "SELECT coalesce(max(import_id), 0) * 1000003 + count(*) FROM imports"
        ).fetchall()[0]
        return int(row[0])

    def has_demo(self) -> bool:
        return bool(self.cursor().execute(
            "SELECT count(*) FROM imports WHERE origin = 'demo'").fetchall()[0][0])

    # -- loading ------------------------------------------------------------------------
    def load_files(
        self,
        items: Iterable[str | os.PathLike[str] | tuple[str, bytes]],
        *,
        format: str | None = None,
        opts: ParseOptions | None = None,
        origin: str = "cli",
        progress: Callable[[float, str], None] | None = None,
    ) -> list[LoadResult]:
        """Load files (paths or (name, bytes) uploads); archives load member by member.

        Each file is one transaction. A file that cannot be read yields a LoadResult with
        `error` set (one line naming the file) and does not stop the others; no exception
        other than KeyboardInterrupt/SystemExit leaves this method, except one raised by
        `progress` itself (Streamlit stopping the script): the files committed before it
        are refreshed into the derived tables first, then it is raised.
        """
        items = list(items)
        opts = opts or ParseOptions()
        results: list[LoadResult] = []
        report = _Progress(progress)  # once it has raised, the refresh below calls it no more
        with _SCRATCH_LOCK:
            if not self.scratch.is_dir():  # a closed sibling Store removed it
                self.scratch.mkdir(parents=True, exist_ok=True)
                _SCRATCH_DIRS[self.scratch] = os.getpid()
        try:
            with workdir_inputs(self.limits, parent=self.scratch) as inputs:
                for i, item in enumerate(items):
                    label = item[0] if isinstance(item, tuple) else Path(item).name
                    report(_FILES_SHARE * i / max(len(items), 1), f"Reading {label}")
                    report.raise_deferred()
                    failures: list[InputError] = []
                    try:
                        files = open_one(inputs, item, failures)
                    except InputError as e:
                        results.append(LoadResult(file=label, format=None, side=None,
                                                  error=str(e)))
                        continue
                    except Exception as e:  # a bug in opening: one line, never a traceback
                        results.append(LoadResult(
                            file=label, format=None, side=None,
                            error=_mask(sources.unexpected(label, "opening", e))))
                        continue
                    for src in files:
                        results.append(self._load_one(src, format, opts, origin))
                    results.extend(LoadResult(file=e.file, format=None, side=None, error=str(e))
                                   for e in failures)
        finally:
            # Also when the caller stops us half-way (Ctrl-C; Streamlit stops a session's
            # script by raising from its next st call, here the progress bar): the files
            # already committed reach journeys now, not at the next change or restart.
            if any(r.ok and not r.skipped for r in results):
                self._refresh_after_load(results, report.part(_FILES_SHARE, 1.0))
        report.raise_deferred()  # what the callback raised during the refresh, if anything
        if progress:
            progress(1.0, "Done")
        return results

    def _load_one(self, src: SourceFile, format: str | None, opts: ParseOptions,
                  origin: str) -> LoadResult:
        with self._write_lock:
            cur = self.cursor()
            done = cur.execute(
                "SELECT import_id, format, side, rows_read, rows_loaded, rows_rejected, tz "
                "FROM imports WHERE sha256 = ?", [src.sha256]).fetchall()
            if done:
                d = done[0]
                return LoadResult(file=src.name, format=d[1], side=d[2], rows_read=d[3],
                                  rows_loaded=d[4], rows_rejected=d[5], skipped=True,
                                  import_id=d[0], tz=d[6],
                                  notes={"message": "already loaded (same SHA-256); nothing added"})
            source: sources.Source | None = None
            cur.execute("BEGIN TRANSACTION")
            try:
                source, confidence = sources.pick(src, opts, format)
                result = sources.parse_with(source, src, cur, opts)
                loaded = self._insert(cur, src, source, confidence, result, opts, origin)
                cur.execute("COMMIT")
            except DeliveryTraceError as e:
                _rollback(cur)
                return self._failed(src, source, format, str(e))
            except (duckdb.Error, ValueError, KeyError, TypeError, IndexError) as e:
                _rollback(cur)
                msg = str(e).splitlines()[0] if str(e) else type(e).__name__
                return self._failed(src, source, format,
                                    _mask(f"{src.name}: could not be parsed: {msg}"))
            except RecursionError:
                _rollback(cur)
                return self._failed(src, source, format, f"{src.name}: nested too deeply to "
                                    "read (thousands of levels); not an export we know")
            except MemoryError:
                _rollback(cur)
                return self._failed(src, source, format, f"{src.name}: too large to read in "
                                    "the memory available; split the file")
            except Exception as e:  # a parser bug: name it, keep the app and the CLI alive
                _rollback(cur)
                where = f"parser {source.NAME}" if source else "choosing a parser"
                return self._failed(src, source, format,
                                    _mask(sources.unexpected(src.name, where, e)))
            except BaseException:
                _rollback(cur)
                raise
            finally:
                _drop_temp_tables(cur)
                cur.close()
        return loaded

    def _failed(self, src: SourceFile, source: sources.Source | None, format: str | None,
                error: str) -> LoadResult:
        return LoadResult(file=src.name, format=source.NAME if source else format,
                          side=source.SIDE if source else None, error=error)

    def _insert(self, cur: duckdb.DuckDBPyConnection, src: SourceFile, source: sources.Source,
                confidence: float, result: ParseResult, opts: ParseOptions,
                origin: str) -> LoadResult:
        table, columns = (("sends", SENDS_COLUMNS) if source.SIDE == "esp"
                          else ("trace_events", TRACE_COLUMNS))
        tz = result.tz or opts.tz
        if result.rows_read is not None:
            self._check_rows(src, int(result.rows_read))  # before copying anything
        import_id = cur.execute(
            "INSERT INTO imports (file_name, sha256, format, side, rows_read, rows_loaded, "
            "rows_rejected, tz, confidence, origin) VALUES (?, ?, ?, ?, 0, 0, 0, ?, ?, ?) "
            "RETURNING import_id",
            [src.name, src.sha256, source.NAME, source.SIDE, tz, confidence, origin],
        ).fetchall()[0][0]

        rows_view = _as_view(cur, result.rows, "_dt_rows")
        names = ", ".join(columns)
        if result.canonical:
            # The parser built the canonical columns with sources._canon in its own
            # staging statement: a plain copy (the rows are not computed twice).
            select, params = [quote_ident(c) for c in columns], [import_id]
        else:
            present = {r[0]: r[1] for r in cur.execute(f"DESCRIBE {rows_view}").fetchall()}
            text_col = text_column(source.SIDE)
            select = [_column_expr(c, t, present, source.NAME, text_col)
                      for c, t in columns.items()]
            params = [import_id, tz] if present.get("event_time") == "TIMESTAMP" else [import_id]
        loaded = cur.execute(
            f"INSERT INTO {table} (import_id, {names}) "  # noqa: S608 - identifiers are ours
            f"SELECT ?, {', '.join(select)} FROM {rows_view}",
            params,
        ).fetchall()[0][0]
        rejected = result.rejected
        if isinstance(rejected, list):
            rejected = _rejected_df(rejected)
        rej_view = _as_view(cur, rejected, "_dt_rejected")
        n_rejected = cur.execute(
            f"INSERT INTO rejected_rows SELECT ?, row_no, raw, error FROM {rej_view}",  # noqa: S608
            [import_id],
        ).fetchall()[0][0]
        _drop_view(cur, rows_view)
        _drop_view(cur, rej_view)
        rows_read = result.rows_read if result.rows_read is not None else loaded + n_rejected
        if rows_read != loaded + n_rejected:
            raise ValueError(
                f"{source.NAME} accounted for {loaded + n_rejected} of {rows_read} rows "
                "(a parser bug: every row must be loaded or rejected)")
        self._check_rows(src, rows_read)
        _bump_generation(cur)
        cur.execute(
            "UPDATE imports SET rows_read = ?, rows_loaded = ?, rows_rejected = ?, notes = ? "
            "WHERE import_id = ?",
            [rows_read, loaded, n_rejected, json.dumps(result.notes, default=str), import_id],
        )
        return LoadResult(file=src.name, format=source.NAME, side=source.SIDE,
                          rows_read=rows_read, rows_loaded=loaded, rows_rejected=n_rejected,
                          import_id=import_id, confidence=confidence, tz=tz, notes=result.notes)

    def _check_rows(self, src: SourceFile, rows_read: int) -> None:
        limit = self.limits.max_rows
        if limit and rows_read > limit:
            raise InputError(src.name, f"{rows_read:,} rows exceed the limit of {limit:,} rows "
                             "per file", hint="split the file, or raise --max-rows / "
                             "DELIVERY_TRACE_MAX_ROWS")

    # -- changing -----------------------------------------------------------------------
    def delete_import(self, import_id: int, *, refresh: bool = True) -> bool:
        """Remove one import and every row it brought. Returns False if there was none."""
        with self._write_lock:
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                found = cur.execute("SELECT count(*) FROM imports WHERE import_id = ?",
                                    [import_id]).fetchall()[0][0]
                if found:
                    for table in ("sends", "trace_events", "rejected_rows", "imports"):
                        cur.execute(f"DELETE FROM {table} WHERE import_id = ?",  # noqa: S608
                                    [import_id])
                    _bump_generation(cur)
                cur.execute("COMMIT")
            except BaseException:
                _rollback(cur)
                raise
            finally:
                cur.close()
            if found and refresh:
                self.refresh_derived()
        return bool(found)

    def _refresh_after_load(self, results: list[LoadResult],
                            progress: _Progress | None = None) -> None:
        """refresh_derived after files were committed; a failure is a note, not a raise.

        The files' rows are in (each file committed on its own), so the caller gets its
        results; the derived tables stay as they were and are rebuilt when the workspace
        is next opened (the data generation is ahead of the derived one).
        """
        try:
            self.refresh_derived(progress=progress)
        except Exception as e:  # noqa: BLE001 - e.g. DuckDB out of memory under the limit
            first = str(e).splitlines()[0] if str(e) else ""
            note = _mask(f"the rows are loaded, but classification and journeys could not be "
                         f"updated ({type(e).__name__}: {first}); they are rebuilt when the "
                         "workspace is next opened")
            for r in results:
                if r.ok and not r.skipped:
                    r.notes["derived_error"] = note

    def clear(self, origin: str | None = None) -> int:
        """Delete every import (or those of one origin, e.g. 'demo'). Returns how many."""
        with self._write_lock:
            if origin is None:
                ids = [r[0] for r in self.cursor().execute(
                    "SELECT import_id FROM imports").fetchall()]
            else:
                ids = [r[0] for r in self.cursor().execute(
                    "SELECT import_id FROM imports WHERE origin = ?", [origin]).fetchall()]
            for import_id in ids:
                self.delete_import(import_id, refresh=False)
            self.refresh_derived()
        return len(ids)

    def refresh_derived(self, progress: Callable[[float, str], None] | None = None) -> None:
        """Rebuild classification and journeys after the base tables changed.

        One transaction: a page reading meanwhile sees the old derived tables or the new
        ones, never a half-built journeys table. The generation it was built for is
        recorded with it, so a process killed between a load and this refresh is
        caught up when the workspace is next opened.

        `progress(fraction, message)` hears each stage (a minute at 1M sends). Should it
        raise (Streamlit stops a session's script from its next st call), the refresh still
        finishes and commits, and that exception is raised afterwards (by load_files, when
        it passes its own _Progress).
        """
        own = not isinstance(progress, _Progress)
        report = _Progress(progress) if own else progress
        with self._write_lock:
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                weights = [getattr(h, "progress_weight", 1) for h in DERIVED_HOOKS]
                done = 0
                for hook, weight in zip(DERIVED_HOOKS, weights, strict=True):
                    part = report.part(done / sum(weights), (done + weight) / sum(weights))
                    done += weight
                    hook(cur, progress=part)
                cur.execute(
                    "INSERT OR REPLACE INTO meta SELECT 'derived_generation', "
                    "coalesce((SELECT value FROM meta WHERE key = 'data_generation'), '0')")
                cur.execute("COMMIT")
            except BaseException:
                _rollback(cur)
                raise
            finally:
                _drop_temp_tables(cur)
                cur.close()
        if own:
            report.raise_deferred()

    def _derived_stale(self) -> bool:
        rows = dict(self.cursor().execute(
            "SELECT key, value FROM meta WHERE key IN ('data_generation', "
            "'derived_generation')").fetchall())
        return rows.get("data_generation", "0") != rows.get("derived_generation", "0")

    # -- small key/value state (e.g. whether the demo was offered) ---------------------
    def get_meta(self, key: str) -> str | None:
        rows = self.cursor().execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write_lock:
            self.cursor().execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    # -- column mappings ----------------------------------------------------------------
    def save_mapping(self, name: str, mapping: dict[str, str]) -> None:
        if not name.strip():
            raise UsageError("a mapping needs a name")
        with self._write_lock:
            self.cursor().execute(
                "INSERT OR REPLACE INTO mappings (name, mapping) VALUES (?, ?)",
                [name.strip(), json.dumps(mapping)])

    def mapping(self, name: str) -> dict[str, str]:
        rows = self.cursor().execute("SELECT mapping FROM mappings WHERE name = ?",
                                     [name]).fetchall()
        row = rows[0] if rows else None
        if not row:
            known = ", ".join(self.mapping_names()) or "none saved yet"
            raise UsageError(f"no saved column mapping called {name!r} (saved: {known})")
        return json.loads(row[0])

    def mapping_names(self) -> list[str]:
        return [r[0] for r in self.cursor().execute(
            "SELECT name FROM mappings ORDER BY name").fetchall()]


def _as_view(cur: duckdb.DuckDBPyConnection, data: Any, name: str) -> str:
    """Expose a relation or DataFrame to SQL under a fixed name."""
    if isinstance(data, duckdb.DuckDBPyRelation):
        data.create_view(name, replace=True)
    else:
        cur.register(name, data)
    return name


def _drop_temp_tables(cur: duckdb.DuckDBPyConnection) -> None:
    """Free the staging tables a parser left on this cursor."""
    names = [r[0] for r in cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()]
    for name in names:
        cur.execute(f"DROP TABLE IF EXISTS temp.{quote_ident(name)}")


def _drop_view(cur: duckdb.DuckDBPyConnection, name: str) -> None:
    """Forget a view or registered DataFrame made by _as_view."""
    try:
        cur.unregister(name)
    except duckdb.Error:
        pass
    cur.execute(f"DROP VIEW IF EXISTS {quote_ident(name)}")


def _rejected_df(items: list[Rejected]) -> pd.DataFrame:
    return pd.DataFrame({
        "row_no": pd.Series([r.row_no for r in items], dtype="Int64"),
        "raw": pd.Series([r.raw for r in items], dtype="object"),
        "error": pd.Series([r.error for r in items], dtype="object"),
    })


def _column_expr(col: str, typ: str, present: dict[str, str], fmt: str, text_col: str) -> str:
    """SQL for one canonical column (sources._canon.column_expr, the zone bound as `?`)."""
    return column_expr(col, typ, present, fmt, text_col)


_hooks_registered = False


def _register_hooks() -> None:
    """Derived tables: classification first (journeys read it), then journeys."""
    global _hooks_registered
    if _hooks_registered:
        return
    from . import classify, journeys

    for hook in (getattr(classify, "refresh", None), getattr(journeys, "rebuild", None)):
        if hook is not None and hook not in DERIVED_HOOKS:
            DERIVED_HOOKS.append(hook)
    _hooks_registered = True
