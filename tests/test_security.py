"""Injection, file access, limits and privacy (docs/security.md says what each test proves).

The SQL rule is checked on the source (an AST scan that a reviewer can grep), and every
way user text enters - file names, headers, mapping names, filter values, time zones,
archive member names - is tried with text that would read or write a file if it ever
became SQL or a path.
"""

from __future__ import annotations

import ast
import gzip
import io
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analysis import queries, settings, sources
from analysis.cli import main
from analysis.export import to_csv_bytes
from analysis.queries import Filters
from analysis.settings import Limits
from analysis.sources._base import ParseOptions
from analysis.store import Store
from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
ACTIVITY = SAMPLES / "esp" / "touchbasepro_activity.csv"
SAST = ParseOptions(tz="Africa/Johannesburg")
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

# -- the rule: user text never becomes SQL text ------------------------------------------
# Values are bound with `?`. Identifiers built from user text (CSV headers) go through
# sources._tabular.sql_ident (imported as store.quote_ident and the parsers' `q`); the only
# literals built from user text are validated zone names and our own scratch paths,
# through _tabular.sql_str after valid_tz. So an SQL-looking f-string or concatenation
# in analysis/ or pages/ may not interpolate a name that carries user text unless that
# name is wrapped in one of the sanitizers.
SQLISH = re.compile(r"\b(SELECT|FROM|WHERE|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|COPY|ATTACH|"
                    r"PRAGMA|CASE WHEN|VALUES|read_csv|read_text)\b")
SANITIZERS = {"quote_ident", "sql_ident", "sql_str", "_sql_str", "q", "_s", "valid_tz", "int",
              "len"}
# Names that hold user text somewhere in the code base: the source file (its name), the
# parse options (zone, year, mapping), headers and mappings, filters, free text.
TAINTED = {"src", "opts", "filters", "mapping", "headers", "header", "h", "tz", "year", "label",
           "value", "values", "file", "path", "user", "params", "item", "items", "cell",
           "cells", "raw", "text", "needle"}
# Reviewed exceptions: (file, interpolated expression) -> why it is safe.
REVIEWED = {
    ("analysis/report_xlsx.py", "cells"):
        "_cell_sql over the column aliases c0, c1 ... and column letters; the values are read "
        "from the registered frame as data, never written into the SQL",
    ("analysis/sources/_espmap.py", "raw"):
        "concat_ws over sql_ident(header) identifiers, built two lines above",
    ("analysis/sources/_syslog.py", "event_time_sql(tz, year.year, 'p.')"):
        "tz passed valid_tz; event_time_sql applies sql_str(tz) and int(year)",
    ("analysis/sources/_tracking.py", "stamp_sql(time_text, tz, dayfirst)"):
        "tz passed valid_tz; timestamp_sql applies sql_str(tz)",
    ("analysis/sources/google_bigquery.py", "path(PATHS['usec'])"): "path() of constants",
    ("analysis/sources/google_bigquery.py", "path(PATHS['message_id'])"): "path() of constants",
    ("analysis/sources/google_bigquery.py", "path(PATHS['subject'])"): "path() of constants",
    ("analysis/sources/google_bigquery.py", "path(PATHS['sender'])"): "path() of constants",
}
SQL_CALLS = {"execute": 0, "executemany": 0, "sql": 0, "df": 0, "query": 1, "cached_df": 2}


def _names(node: ast.AST):
    """Names an expression reads, not looking inside sanitizer calls."""
    if isinstance(node, ast.Call):
        fn = node.func
        if (fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)) in SANITIZERS:
            return
    if isinstance(node, ast.Attribute):
        base = node
        while isinstance(base, ast.Attribute):
            base = base.value
        if isinstance(base, ast.Name):
            yield base.id
            return
    if isinstance(node, ast.Name):
        yield node.id
    if isinstance(node, ast.GeneratorExp | ast.ListComp | ast.SetComp):
        # A loop variable carries the taint of what it iterates over.
        bound = {n.id for g in node.generators for n in ast.walk(g.target)
                 if isinstance(n, ast.Name)}
        iterated = {n for g in node.generators for n in _names(g.iter)}
        for n in _names(node.elt):
            yield from (iterated if n in bound else [n])
        return
    for child in ast.iter_child_nodes(node):
        yield from _names(child)


def _sql_parts(node: ast.AST) -> list[ast.AST] | None:
    """The interpolated parts of an SQL-looking f-string, `+` chain or .format call."""
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        if SQLISH.search(text):
            return [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        ops, stack = [], [node]
        while stack:
            n = stack.pop()
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
                stack += [n.left, n.right]
            else:
                ops.append(n)
        consts = [o.value for o in ops if isinstance(o, ast.Constant) and isinstance(o.value, str)]
        if any(SQLISH.search(c) for c in consts):
            return [o for o in ops if not isinstance(o, ast.Constant | ast.JoinedStr)]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"):
        recv = node.func.value
        if (isinstance(recv, ast.Constant) and isinstance(recv.value, str)
                and SQLISH.search(recv.value)) or (
                isinstance(recv, ast.Name) and recv.id.endswith("_SQL")):
            return list(node.args) + [k.value for k in node.keywords]
    return None


def sql_rule_violations() -> list[str]:
    """file:line expression (names) for every SQL text that interpolates user text."""
    out = []
    files = sorted([*ROOT.joinpath("analysis").rglob("*.py"), *ROOT.joinpath("pages").rglob("*.py"),
                    ROOT / "app.py"])
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            parts = _sql_parts(node)
            for part in parts or []:
                hit = sorted(set(_names(part)) & TAINTED)
                expr = ast.unparse(part)
                if hit and (rel, expr) not in REVIEWED:
                    out.append(f"{rel}:{node.lineno} {expr} ({', '.join(hit)})")
    return out


def test_no_user_text_becomes_sql_text() -> None:
    assert sql_rule_violations() == []


def test_the_rule_scan_catches_a_violation(tmp_path: Path) -> None:
    bad = ast.parse('con.execute(f"SELECT * FROM t WHERE campaign = \'{filters.campaign}\'")\n'
                    'con.execute("DELETE FROM t WHERE x = " + src.name)\n'
                    'con.execute(f"SELECT {quote_ident(src.name)} FROM t")\n'
                    'con.execute(f"SELECT {\', \'.join(h for h in headers)} FROM t")\n'
                    'con.execute(f"SELECT {\', \'.join(q(h) for h in headers)} FROM t")\n')
    found = [sorted(set(_names(p)) & TAINTED) for n in ast.walk(bad) for p in _sql_parts(n) or []]
    assert found == [["filters"], ["src"], [], ["headers"], []]


def test_pages_pass_only_constant_sql() -> None:
    """Pages never build SQL: every query they send is a literal (values are parameters)."""
    for path in sorted(ROOT.joinpath("pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
            if name in SQL_CALLS and len(node.args) > SQL_CALLS[name]:
                arg = node.args[SQL_CALLS[name]]
                if name in ("df", "execute", "sql") and not isinstance(fn, ast.Attribute):
                    continue
                assert isinstance(arg, ast.Constant | ast.Name) and not isinstance(
                    arg, ast.JoinedStr), f"{path.name}:{node.lineno} {ast.unparse(arg)[:60]}"


def test_filters_bind_every_value() -> None:
    evil = "x'); COPY sends TO '/tmp/pwn.csv'; --"
    f = Filters(campaigns=(evil,), domains=(evil,), enhanced=(evil,), categories=(evil,),
                reasons=(evil,), verdicts=(evil,), text=evil, suppress=True)
    sql, params = f.where()
    assert "COPY" not in sql and "pwn" not in sql and sql.count("?") == len(params) == 9
    assert params.count(evil) == 7 and evil.lower() in params


# -- DuckDB cannot touch files ---------------------------------------------------------
@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "COPY (SELECT 1) TO '{canary}'",
    "ATTACH '{canary}' AS other",
    "INSTALL httpfs",
    "SET enable_external_access = true",
    "SET allowed_directories = ['/']",
    "SET lock_configuration = false",
    "SELECT * FROM read_csv('{scratch}/../../../etc/passwd')",
])
def test_the_connection_cannot_read_or_write_other_files(tmp_path: Path, sql: str) -> None:
    store = Store(tmp_path / "ws.duckdb")
    canary = tmp_path / "canary.csv"
    text = sql.format(canary=canary, scratch=store.scratch)
    for cur in (store.con, store.cursor()):
        with pytest.raises(duckdb.Error) as e:
            cur.execute(text).fetchall()
        assert isinstance(e.value, duckdb.PermissionException | duckdb.InvalidInputException)
    assert not canary.exists()
    store.close()


def test_a_second_store_on_the_same_file_shares_the_lockdown(tmp_path: Path) -> None:
    a = Store(tmp_path / "ws.duckdb")
    b = Store(tmp_path / "ws.duckdb")
    assert a.scratch == b.scratch
    (r,) = b.load_files([ACTIVITY], opts=SAST)
    assert r.rows_loaded == 28
    with pytest.raises(duckdb.PermissionException):
        b.df("SELECT * FROM read_csv('/etc/passwd')")
    a.close()
    b.close()


EVIL_NAMES = [
    "x'); COPY sends TO '{canary}'; --.csv",
    "read_csv('/etc/passwd').csv",
    "*.csv",
    "[ab]?.csv",
    "..%2f..%2fetc.csv",
    "a\nb.csv",
]


@pytest.mark.parametrize("template", EVIL_NAMES)
def test_hostile_upload_names_are_only_labels(tmp_path: Path, template: str) -> None:
    canary = tmp_path / "canary.csv"
    name = template.format(canary=canary)
    store = Store(":memory:")
    (r,) = store.load_files([(name, ACTIVITY.read_bytes())], opts=SAST)
    assert (r.error, r.rows_loaded) == (None, 28)
    assert store.imports()["file_name"].tolist() == [name]
    assert not canary.exists()
    store.close()


@pytest.mark.parametrize("name", ["x'); COPY sends TO 'pwn.csv'; --.csv", "*.csv", "[ab].csv"])
def test_hostile_file_names_on_the_command_line(tmp_path: Path, name: str,
                                                capsys: pytest.CaptureFixture,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A path with glob characters reads that one file, not the folder (read_csv globs)."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / name).write_bytes(b'"Email Address","Date"\r\n"one@x.example","2025-11-04 11:00:03"\r\n')
    (folder / "a.csv").write_bytes(ACTIVITY.read_bytes())  # what a glob would also read
    monkeypatch.chdir(tmp_path)
    ws = tmp_path / "ws.duckdb"
    assert main(["load", str(folder / name), "--workspace", str(ws), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["file"], row["rows_read"], row["rows_loaded"]) == (name, 1, 1)
    assert not (tmp_path / "pwn.csv").exists()


def test_hostile_headers_and_mapping_names_stay_text(tmp_path: Path) -> None:
    canary = tmp_path / "pwn.csv"
    header = f"x'); COPY sends TO '{canary}'; --"
    other = "read_csv('/etc/passwd')"
    quoted = 'say "hi"'
    data = (f'"Email Address","Date","{header}","{other}","{quoted.replace(chr(34), 2 * chr(34))}"\r\n'
            '"a@x.example","2025-11-04 11:00:03","id-1","t","q"\r\n').encode()
    store = Store(":memory:")
    mapping_name = f"m'); COPY sends TO '{canary}'; --"
    store.save_mapping(mapping_name, {"recipient": "Email Address", "event_time": "Date",
                                      "remote_id": header, "smtp_text": other, "subject": quoted})
    assert store.mapping_names() == [mapping_name]
    opts = ParseOptions(mapping=store.mapping(mapping_name))
    (r,) = store.load_files([("evil.csv", data)], opts=opts)
    assert (r.format, r.rows_loaded) == ("mapped", 1)
    row = store.df("SELECT remote_id, smtp_text, subject FROM sends").iloc[0].tolist()
    assert row == ["id-1", "t", "q"]
    assert r.notes["mapping"]["remote_id"] == header
    assert not canary.exists()
    store.close()


def test_hostile_time_zone_is_refused(tmp_path: Path) -> None:
    canary = tmp_path / "pwn.csv"
    store = Store(":memory:")
    (r,) = store.load_files([ACTIVITY], opts=ParseOptions(tz=f"UTC'); COPY sends TO '{canary}"))
    assert r.error == (f"touchbasepro_activity.csv: unknown time zone \"UTC'); COPY sends TO "
                       f"'{canary}\" (use an IANA name such as Europe/Berlin or UTC)")
    assert not canary.exists() and store.is_empty()
    store.close()


def test_hostile_filter_values_find_nothing_and_touch_nothing(tmp_path: Path) -> None:
    canary = tmp_path / "pwn.csv"
    evil = f"x'); COPY sends TO '{canary}'; --"
    store = Store(":memory:")
    store.load_files([ACTIVITY], opts=SAST)
    cur = store.cursor()
    f = Filters.from_params({"campaigns": evil, "domains": evil, "text": evil, "codes": "550,x"})
    assert (queries.kpis(cur, Filters())["sent"], queries.kpis(cur, f)["sent"]) == (18, 0)
    assert len(queries.explorer_rows(cur, f, limit=None)) == 0
    assert len(queries.failures_by_domain(cur, f)) == 0
    assert len(queries.find_journeys(cur, evil)) == 0
    assert not canary.exists()
    store.close()


# -- archives: traversal, nesting, bombs, sizes, rows -----------------------------------
def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _scratch_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_zip_member_names_never_become_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(tmp))
    csv = ACTIVITY.read_bytes()
    escaped = tmp_path / "escaped.csv"
    absolute = tmp_path / "abs" / "absolute.csv"
    members = {"../../../escaped.csv": csv, "../../../../../../../../etc/cron.d/x.csv": csv,
               str(absolute): csv, "..\\..\\..\\win.csv": csv, "C:/Windows/z.csv": csv,
               "ok/../../../../escaped2.csv": csv}
    store = Store(":memory:")
    results = store.load_files([("slip.zip", _zip(members))], opts=SAST)
    assert [r.file for r in results] == [f"slip.zip:{m}" for m in members]
    # Same bytes six times: loaded once, then recognised as already loaded.
    assert [(r.rows_loaded, r.skipped) for r in results] == [(28, False)] + [(28, True)] * 5
    assert not escaped.exists() and not absolute.exists()
    assert not (tmp_path / "escaped2.csv").exists() and not Path("/etc/cron.d/x.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tmp"]
    assert _scratch_files(tmp) == []  # scratch copies are gone after the load
    store.close()
    assert list(tmp.iterdir()) == []


def test_nested_archives_are_refused_and_the_rest_loads() -> None:
    inner = _zip({"a.csv": ACTIVITY.read_bytes()})
    outer = _zip({"inner.zip": inner, "disguised.csv": gzip.compress(ACTIVITY.read_bytes()),
                  "zip-named.csv": inner, "activity.csv": ACTIVITY.read_bytes()})
    store = Store(":memory:")
    results = store.load_files([("outer.zip", outer)], opts=SAST)
    assert [(r.file, r.error) for r in results] == [
        ("outer.zip:activity.csv", None),
        ("outer.zip:inner.zip", "outer.zip:inner.zip: nested archive refused; unpack it and "
                                "upload its files"),
        ("outer.zip:disguised.csv", "outer.zip:disguised.csv: nested archive refused (a .gz "
                                    "inside an archive) (unpack it and load its files)"),
        ("outer.zip:zip-named.csv", "outer.zip:zip-named.csv: nested archive refused (a .zip "
                                    "inside an archive) (unpack it and load its files)"),
    ]
    store.close()


ZEROS = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """50 MB of zeros gzip'd (~50 KB) and zipped, plus a zip of many small members."""
    zeros = bytes(ZEROS)
    return {"bomb.csv.gz": gzip.compress(zeros, 9),
            "bomb.zip": _zip({"zeros.csv": zeros}),
            "split.zip": _zip({f"part{i}.csv": bytes(ZEROS // 5) for i in range(5)})}


@pytest.mark.parametrize(("name", "limits", "problem"), [
    ("bomb.csv.gz", Limits(max_expanded_bytes=10_000_000),
     "expands to more than 10,000,000 bytes; refused as a decompression bomb"),
    ("bomb.zip", Limits(max_expanded_bytes=10_000_000),
     "expands to more than 10,000,000 bytes; refused as a decompression bomb"),
    ("split.zip", Limits(max_expanded_bytes=30_000_000),  # members share one allowance
     "expands to more than 30,000,000 bytes; refused as a decompression bomb"),
    ("bomb.csv.gz", Limits(max_expansion_ratio=100, ratio_floor_bytes=1_000_000),
     "expands more than 100x; refused as a decompression bomb"),
    ("bomb.zip", Limits(max_expansion_ratio=100, ratio_floor_bytes=1_000_000),
     "expands more than 100x; refused as a decompression bomb"),
])
def test_decompression_bombs_are_refused(bombs: dict[str, bytes], name: str, limits: Limits,
                                         problem: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(tmp))
    store = Store(":memory:", limits=limits)
    (r,) = store.load_files([(name, bombs[name])])
    assert r.error is not None and problem in r.error, r.error
    assert r.error.startswith(name) and "\n" not in r.error
    assert store.is_empty() and _scratch_files(tmp) == []
    store.close()


def test_bomb_limits_from_the_environment_through_the_cli(
        bombs: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(bombs["bomb.csv.gz"])
    monkeypatch.setenv("DELIVERY_TRACE_MAX_EXPANDED_BYTES", "5_000_000")
    assert main(["load", str(path), "--workspace", str(tmp_path / "ws.duckdb")]) == 2
    assert capsys.readouterr().err == (
        "delivery-trace: bomb.csv.gz: expands to more than 5,000,000 bytes; refused as a "
        "decompression bomb (unpack it yourself and load the files "
        "(DELIVERY_TRACE_MAX_EXPANDED_BYTES sets the limit))\n")


def test_the_default_limits_let_a_real_export_through(bombs: dict[str, bytes]) -> None:
    """Ordinary compression (a CSV gzip'd) passes the default ratio guard."""
    store = Store(":memory:")
    (r,) = store.load_files([("activity.csv.gz", gzip.compress(ACTIVITY.read_bytes()))],
                            opts=SAST)
    assert (r.file, r.rows_loaded) == ("activity.csv", 28)
    assert settings.limits().max_expansion_ratio == 200
    store.close()


def test_archive_member_count_limit() -> None:
    store = Store(":memory:", limits=Limits(max_archive_members=10))
    data = _zip({f"f{i}.csv": b"a,b\n1,2\n" for i in range(11)})
    (r,) = store.load_files([("many.zip", data)])
    assert r.error == ("many.zip: the archive holds 11 files; the limit is 10 (unpack it and "
                       "load the files you need)")
    store.close()


def test_file_size_limit_cli_env_and_upload(tmp_path: Path, capsys: pytest.CaptureFixture,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ws = str(tmp_path / "ws.duckdb")
    size = ACTIVITY.stat().st_size
    assert main(["load", str(ACTIVITY), "--workspace", ws, "--max-bytes", "1000"]) == 2
    assert capsys.readouterr().err == (
        f"delivery-trace: touchbasepro_activity.csv: file is {size:,} bytes; the limit is 1,000 "
        "(split it, or raise --max-bytes / DELIVERY_TRACE_MAX_FILE_BYTES)\n")
    monkeypatch.setenv("DELIVERY_TRACE_MAX_FILE_BYTES", "2000")
    store = Store(":memory:")
    (r,) = store.load_files([("up.csv", ACTIVITY.read_bytes())])
    assert r.error == f"up.csv: file is {size:,} bytes; the limit is 2,000"
    store.close()
    monkeypatch.setenv("DELIVERY_TRACE_MAX_FILE_BYTES", "lots")
    assert main(["load", str(ACTIVITY), "--workspace", ws]) == 2
    assert capsys.readouterr().err == (
        "delivery-trace: DELIVERY_TRACE_MAX_FILE_BYTES must be a whole number, not 'lots'\n")


def test_row_limit_refuses_the_file_whole(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ws = tmp_path / "ws.duckdb"
    assert main(["load", str(ACTIVITY), "--workspace", str(ws), "--max-rows", "5"]) == 2
    assert capsys.readouterr().err == (
        "delivery-trace: touchbasepro_activity.csv: 28 rows exceed the limit of 5 rows per file "
        "(split the file, or raise --max-rows / DELIVERY_TRACE_MAX_ROWS)\n")
    store = Store(ws)
    assert store.is_empty() and store.df("SELECT count(*) AS n FROM sends")["n"][0] == 0
    store.close()


def test_streamlit_config_limits_uploads_and_hides_tracebacks() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == 1024
    assert config["server"]["address"] == "127.0.0.1"
    assert config["client"]["showErrorDetails"] == "type"


# -- spreadsheet formulas and HTML (cross-check of the report issue) ----------------------
def test_formulas_and_html_from_an_upload_are_neutralised(tmp_path: Path) -> None:
    data = (b'"Email Address","Campaign","Event","Date","SMTP Response"\r\n'
            b'"a@x.example","<script>alert(1)</script>","Bounced","2025-11-04 11:00:03",'
            b'"=HYPERLINK(""http://evil.example"",""click"")"\r\n')
    store = Store(":memory:")
    (r,) = store.load_files([("f.csv", data)])
    assert r.rows_loaded == 1
    from analysis.journeys import journeys_df
    from analysis.report import write_report

    csv = to_csv_bytes(journeys_df(store.cursor())).decode("utf-8-sig")
    assert "'=HYPERLINK(" in csv and ",=HYPERLINK" not in csv
    out = write_report(store.cursor(), tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html
    store.close()


# -- privacy -------------------------------------------------------------------------------
def test_unexpected_parser_errors_are_one_line_and_mask_addresses(
        monkeypatch: pytest.MonkeyPatch) -> None:
    source = sources.get("touchbasepro_csv")

    def boom(src, con, opts):
        con.execute("CREATE TEMP TABLE half AS SELECT 1")
        raise RuntimeError("cannot handle row for alice.nguyen@alpine.example.org\nsecond line")

    monkeypatch.setattr(source, "parse", boom)
    store = Store(":memory:")
    (r,) = store.load_files([ACTIVITY])
    assert r.error == ("touchbasepro_activity.csv: unexpected error in parser touchbasepro_csv: "
                       "RuntimeError: cannot handle row for <address> second line")
    assert (r.format, r.side) == ("touchbasepro_csv", "esp") and store.is_empty()

    def value_error(src, con, opts):
        raise ValueError("invalid literal for int(): 'bob@example.com'")

    monkeypatch.setattr(source, "parse", value_error)
    (r,) = store.load_files([ACTIVITY])
    assert r.error == ("touchbasepro_activity.csv: could not be parsed: invalid literal for "
                       "int(): '<address>'")
    store.close()


def test_no_address_reaches_stderr_or_logging(tmp_path: Path, capfd: pytest.CaptureFixture,
                                              caplog: pytest.LogCaptureFixture,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level("DEBUG")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b'"Email Address","Event","Date"\r\n"carol@x.example","Exploded","x"\r\n'
                    b'"dave@x.example","Bounced\r\n')
    ws = str(tmp_path / "ws.duckdb")
    files = [str(ACTIVITY), str(bad), str(SAMPLES / "posix" / "postfix_syslog.log")]
    assert main(["load", *files, "--workspace", ws, "--tz", "Africa/Johannesburg"]) == 0
    assert main(["load", *files, "--workspace", ws + "2", "--format", "sendgrid_json"]) == 2
    assert main(["imports", "--workspace", ws]) == 0
    assert main(["matches", "--workspace", ws]) == 0
    out, err = capfd.readouterr()
    assert err.count("\n") == 3 and not ADDRESS.search(err), err  # stdout is the report asked for
    assert not [r.getMessage() for r in caplog.records if ADDRESS.search(r.getMessage())]
    # The app: an upload with addresses logs none of them.
    ws2 = tmp_path / "app.duckdb"
    s = Store(ws2)
    s.set_meta("demo_offered", "yes")
    s.close()
    monkeypatch.setenv("DELIVERY_TRACE_WORKSPACE", str(ws2))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/upload.py").run()
    at.file_uploader(key="upload_files").set_value(
        [("a.csv", ACTIVITY.read_bytes(), "text/csv"), ("bad.csv", bad.read_bytes(), "text/csv")]
    ).run()
    at.button(key="upload_load").click().run()
    assert not at.exception
    out, err = capfd.readouterr()
    assert not ADDRESS.search(err) and not ADDRESS.search(out)
    assert not [r.getMessage() for r in caplog.records if ADDRESS.search(r.getMessage())]


def test_memory_workspace_writes_nothing(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    work = tmp_path / "cwd"
    work.mkdir()
    env = os.environ | {"DELIVERY_TRACE_WORKSPACE": ":memory:", "TMPDIR": str(tmp),
                        "PYTHONPATH": str(ROOT)}
    before = {p: p.stat().st_mtime for p in (ROOT / "data").glob("workspace.duckdb*")}
    proc = subprocess.run([sys.executable, "-m", "analysis.cli", "load", str(ACTIVITY), "--json"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["rows_loaded"] == 28
    assert list(work.iterdir()) == [] and _scratch_files(tmp) == []
    assert {p: p.stat().st_mtime for p in (ROOT / "data").glob("workspace.duckdb*")} == before


def test_memory_store_spills_only_into_its_private_folder() -> None:
    store = Store(":memory:")
    spill = store.cursor().execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    assert Path(spill).parent == store.scratch and store.in_memory
    store.close()
    assert not store.scratch.exists()


def test_scratch_folders_of_unclosed_stores_are_removed_at_exit(tmp_path: Path) -> None:
    """A process that never closes its stores (the app's cached ones) leaves no scratch
    folder in the temp directory; a forked child's exit cleanup leaves its parent's in place
    (the child runs the cleanup itself and leaves with os._exit: a full interpreter exit in
    a forked copy of an open DuckDB database is not safe)."""
    code = (
        "import os, sys\n"
        "from analysis import store\n"
        "mem, ws = store.Store(':memory:'), store.Store(sys.argv[1])\n"
        "print(mem.scratch, ws.scratch, flush=True)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    store._remove_scratch_dirs()\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print(mem.scratch.is_dir() and ws.scratch.is_dir())\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ws.duckdb")],
                          env=os.environ | {"PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    dirs, alive = proc.stdout.splitlines()
    assert alive == "True"  # the child's exit left them
    assert len(dirs.split()) == 2 and not any(Path(d).exists() for d in dirs.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws.duckdb"]


def test_forget_deletes_the_workspace_files(tmp_path: Path) -> None:
    ws = tmp_path / "ws.duckdb"
    store = Store(ws)
    store.load_files([ACTIVITY], opts=SAST)
    assert ws.exists()
    removed = store.forget()
    assert removed[0] == str(ws) and not ws.exists() and not Path(f"{ws}.wal").exists()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(Exception, match="closed"):
        store.imports()
    fresh = Store(ws)
    assert fresh.is_empty()
    fresh.close()
    mem = Store(":memory:")
    mem.load_files([ACTIVITY], opts=SAST)
    assert mem.forget() == [] and not mem.scratch.exists()


def test_cli_forget_needs_yes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ws = tmp_path / "ws.duckdb"
    assert main(["load", str(ACTIVITY), "--workspace", str(ws)]) == 0
    capsys.readouterr()
    assert main(["forget", "--workspace", str(ws)]) == 2
    assert capsys.readouterr().err == (f"delivery-trace: this deletes {ws} and everything loaded "
                                       "into it; add --yes to confirm\n")
    assert ws.exists()
    assert main(["forget", "--workspace", str(ws), "--yes"]) == 0
    assert capsys.readouterr().out.startswith(f"deleted {ws}")
    assert not ws.exists()
    assert main(["forget", "--workspace", str(ws), "--yes"]) == 0
    assert capsys.readouterr().out == f"nothing to delete: {ws} does not exist\n"
    assert main(["forget", "--workspace", ":memory:", "--yes"]) == 0


def test_upload_page_forgets_and_shows_memory_mode(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "ws.duckdb"
    s = Store(ws)
    s.set_meta("demo_offered", "yes")
    s.load_files([ACTIVITY], opts=SAST)
    s.close()
    monkeypatch.setenv("DELIVERY_TRACE_WORKSPACE", str(ws))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/upload.py").run()
    assert at.button(key="upload_forget").disabled
    at.checkbox(key="upload_forget_confirm").check().run()
    at.button(key="upload_forget").click().run()
    assert not at.exception, at.exception
    assert any(v.value.startswith(f"Forgotten: {ws}") for v in at.success)
    assert any("No files loaded yet." in i.value for i in at.info)
    fresh = Store(ws)  # a new, empty workspace; the demo was not loaded again
    assert fresh.is_empty() and fresh.get_meta("demo_offered") == "yes"
    fresh.close()
    monkeypatch.setenv("DELIVERY_TRACE_WORKSPACE", ":memory:")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception
    assert any("in memory only" in c.value for c in at.caption)


def test_a_failed_refresh_after_a_load_is_a_warning_and_is_caught_up_on_reopen(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """The rows of a committed file stay loaded when the derived rebuild after it fails
    (e.g. DuckDB out of memory under the workspace limit): load_files and the CLI report
    it as a warning instead of raising, and the next open rebuilds."""
    ws = tmp_path / "ws.duckdb"
    Store(ws).close()  # built and refreshed: opening it again refreshes nothing

    def out_of_memory(self: Store, progress: object = None) -> None:
        raise duckdb.OutOfMemoryException(
            "Out of Memory Error: failed to allocate 256 KiB (1.4 GiB/1.5 GiB used) for "
            "jo@example.com\nmore detail")

    monkeypatch.setattr(Store, "refresh_derived", out_of_memory)
    sample = SAMPLES / "esp" / "touchbasepro_activity.csv"
    assert main(["load", str(sample), "--workspace", str(ws), "--tz",
                 "Africa/Johannesburg"]) == 0
    out = capsys.readouterr().out
    assert "touchbasepro_activity.csv: touchbasepro_csv (esp) - 28 rows read, 28 loaded" in out
    (warning,) = [line for line in out.splitlines() if "warning:" in line]
    assert warning == (
        "  warning: The rows are loaded, but classification and journeys could not be updated "
        "(OutOfMemoryException: Out of Memory Error: failed to allocate 256 KiB (1.4 GiB/1.5 "
        "GiB used) for <address>); they are rebuilt when the workspace is next opened (restart "
        "the app, or raise DELIVERY_TRACE_MEMORY_LIMIT if DuckDB ran out of memory).")
    monkeypatch.undo()
    store = Store(ws)  # the data generation is ahead of the derived one: rebuilt on open
    assert store.df("SELECT count(*) AS n FROM journeys")["n"].iloc[0] == 18
    assert store.df("SELECT count(*) AS n FROM sends")["n"].iloc[0] == 28
    store.close()
