"""The `delivery-trace` command: the same engine as the app, headless."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, sources
from .errors import DeliveryTraceError, UsageError
from .sources._base import ParseOptions

EXIT_OK = 0
EXIT_FAIL = 2
MATCH_LINES = 50  # rows of each list in the text match report


def _workspace(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workspace", metavar="PATH",
                   help="DuckDB workspace file (default data/workspace.duckdb or "
                        "$DELIVERY_TRACE_WORKSPACE; ':memory:' for a throw-away one)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="delivery-trace",
        description="Join ESP send/bounce exports with recipient mail-server traces.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("load", help="load export files into the workspace")
    p.add_argument("files", nargs="+", metavar="FILE")
    _workspace(p)
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    p.add_argument("--format", metavar="NAME", help="skip sniffing and read as this format "
                   "(see `delivery-trace formats`)")
    p.add_argument("--mapping", metavar="NAME", help="read with a saved column mapping")
    p.add_argument("--tz", metavar="ZONE", default="UTC",
                   help="IANA time zone of timestamps that carry no offset (default UTC)")
    p.add_argument("--year", type=int, help="year of year-less syslog timestamps")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="print each file and each stage of the refresh after them to stderr "
                        "(default: when stderr is a terminal)")
    p.add_argument("--max-bytes", type=int, metavar="N",
                   help="refuse files larger than N bytes (default 2 GiB or "
                        "$DELIVERY_TRACE_MAX_FILE_BYTES; 0 = no limit)")
    p.add_argument("--max-rows", type=int, metavar="N",
                   help="refuse files of more than N rows (default 20,000,000 or "
                        "$DELIVERY_TRACE_MAX_ROWS; 0 = no limit)")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("forget", help="delete the workspace file and everything loaded into it")
    _workspace(p)
    p.add_argument("--yes", action="store_true", help="really delete (required)")
    p.set_defaults(func=cmd_forget)

    p = sub.add_parser("demo", help="write and load the demo campaign")
    _workspace(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("formats", help="list the formats Delivery Trace reads")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_formats)

    p = sub.add_parser("imports", help="list loaded files")
    _workspace(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_imports)

    p = sub.add_parser("delete", help="delete an import and all its rows")
    p.add_argument("import_ids", nargs="+", type=int, metavar="IMPORT_ID")
    _workspace(p)
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("rejected", help="show rows that could not be loaded, with reasons")
    p.add_argument("import_id", nargs="?", type=int)
    _workspace(p)
    p.add_argument("--csv", metavar="OUT", default="-")
    p.set_defaults(func=cmd_rejected)

    p = sub.add_parser("mapping", help="save or list column mappings for the fallback reader")
    _workspace(p)
    p.add_argument("name", nargs="?", help="mapping to save (omit to list)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=COLUMN",
                   help="map a field to a column header, e.g. recipient='E-mail'")
    p.set_defaults(func=cmd_mapping)

    p = sub.add_parser("journeys", help="one row per (message, recipient) with its verdict")
    _workspace(p)
    p.add_argument("--csv", metavar="OUT", default="-", help="CSV file to write, - for stdout")
    p.set_defaults(func=cmd_journeys)

    p = sub.add_parser("matches", help="how well ESP rows and trace rows joined")
    _workspace(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, metavar="N", default=MATCH_LINES,
                   help=f"list at most N rows of each list (default {MATCH_LINES}; each "
                        "list's full count is shown either way)")
    p.set_defaults(func=cmd_matches)

    p = sub.add_parser("classify", help="classify one SMTP reply (prints JSON)")
    p.add_argument("--code", help="basic reply code, e.g. 550")
    p.add_argument("--enhanced", help="enhanced status code, e.g. 5.1.1")
    p.add_argument("--text", default="", help="the reply text")
    p.add_argument("--command", dest="smtp_command", help="SMTP command it answered (RCPT, DATA)")
    p.add_argument("--domain", help="recipient domain or remote host")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("suppressions", help="addresses to remove from the list")
    _workspace(p)
    p.add_argument("--csv", metavar="OUT", default="-")
    p.set_defaults(func=cmd_suppressions)

    p = sub.add_parser("report", help="write an HTML, XLSX or PDF report (or a zip of PNG charts)",
                       description="Write a stakeholder report of the filtered journeys. "
                       "Exit 0 when written, 2 with a one-line message otherwise.")
    _workspace(p)
    p.add_argument("--out", required=True, metavar="FILE",
                   help="report.html, report.xlsx, report.pdf (needs Chromium) or charts.zip "
                        "(PNG charts, needs Chromium)")
    p.add_argument("--redact", choices=["none", "mask", "hash"], default="none",
                   help="addresses: keep (none), mask the local part (j***@example.com) or "
                        "replace it with a keyed hash (h:…@example.com)")
    p.add_argument("--key", help="secret key for --redact hash (default: "
                                 "$DELIVERY_TRACE_REDACT_KEY)")
    p.add_argument("--campaign", action="append", default=[], help="repeat for several")
    p.add_argument("--since", help="first day or time (in UTC), e.g. 2025-11-04")
    p.add_argument("--until", help="last day or time (in UTC); a bare date includes the day")
    p.add_argument("--domain", action="append", default=[], help="recipient domain; repeatable")
    p.add_argument("--code", action="append", default=[], type=int,
                   help="SMTP reply code, e.g. 550; repeatable")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success (cron)")
    p.set_defaults(func=cmd_report)
    return parser


def open_store(args: argparse.Namespace):
    from . import settings
    from .store import Store

    limits = settings.limits(max_file_bytes=getattr(args, "max_bytes", None),
                             max_rows=getattr(args, "max_rows", None))
    store = Store(getattr(args, "workspace", None), limits=limits)
    _OPENED.append(store)
    return store


# Stores a command opened; main() closes them, so the workspace file and the scratch
# folder are released even when main() runs in-process (tests, notebooks).
_OPENED: list = []


def cmd_load(args: argparse.Namespace) -> int:
    store = open_store(args)
    mapping = store.mapping(args.mapping) if args.mapping else None
    opts = ParseOptions(tz=args.tz, year=args.year, mapping=mapping)
    show = sys.stderr.isatty() if args.progress is None else args.progress
    results = store.load_files(args.files, format=args.format, opts=opts, origin="cli",
                               progress=_print_progress if show else None)
    if args.json:
        keys = ("file", "format", "side", "rows_read", "rows_loaded", "rows_rejected",
                "skipped", "import_id", "tz", "error", "notes")
        print(json.dumps([{k: r.as_dict()[k] for k in keys} for r in results], indent=2))
    else:
        for r in results:
            if r.error:
                continue
            state = "already loaded, skipped" if r.skipped else (
                f"{r.rows_loaded} loaded, {r.rows_rejected} rejected")
            print(f"{r.file}: {r.format} ({r.side}) - {r.rows_read} rows read, {state}")
            for line in _note_lines(r.notes):
                print(f"  {line}")
            for warning in sources.note_warnings(r.notes):
                print(f"  warning: {warning}")
    failed = [r for r in results if r.error]
    for r in failed:
        print(f"delivery-trace: {r.error}", file=sys.stderr)
    return EXIT_FAIL if failed else EXIT_OK


def _print_progress(fraction: float, message: str) -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


def _note_lines(notes: dict) -> list[str]:
    """The parts of an import's notes a user acts on: a log's line counts and its year."""
    out = []
    if "lines_total" in notes:
        parts = [f"{notes['lines_total']:,} lines: {notes.get('lines_used', 0):,} used",
                 f"{notes.get('lines_context', 0):,} context"]
        for key, label in (("lines_skipped_other_daemon", "other programs (skipped)"),
                           ("lines_unknown", "not understood"), ("lines_rejected", "rejected")):
            if notes.get(key):
                parts.append(f"{notes[key]:,} {label}")
        out.append(", ".join(parts))
    if notes.get("year"):
        out.append(f"year {notes['year']}: {notes.get('year_source', '')}".rstrip(": "))
    return out


def cmd_forget(args: argparse.Namespace) -> int:
    from . import settings

    path = settings.workspace_path(args.workspace)
    if not args.yes:
        print(f"delivery-trace: this deletes {path} and everything loaded into it; "
              "add --yes to confirm", file=sys.stderr)
        return EXIT_FAIL
    if settings.is_memory(path):
        print("nothing to delete: the workspace is in memory only")
        return EXIT_OK
    if not Path(path).exists():
        print(f"nothing to delete: {path} does not exist")
        return EXIT_OK
    removed = open_store(args).forget()
    print(f"deleted {', '.join(removed)}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from . import demo

    store = open_store(args)
    results = demo.load_demo(store)
    loaded = sum(r.rows_loaded for r in results)
    print(f"demo loaded: {len(results)} files, {loaded} rows into {store.path}")
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAIL


def cmd_formats(args: argparse.Namespace) -> int:
    from . import sources

    rows = [{"name": s.NAME, "side": s.SIDE, "description": s.DESCRIPTION}
            for s in sources.formats()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['name']:28} {r['side']:6} {r['description']}")
    return EXIT_OK


def cmd_imports(args: argparse.Namespace) -> int:
    df = open_store(args).imports()
    if args.json:
        print(df.to_json(orient="records", date_format="iso"))
    else:
        cols = ["import_id", "file_name", "format", "side", "rows_read", "rows_loaded",
                "rows_rejected", "tz", "imported_at"]
        print(df[cols].to_string(index=False) if len(df) else "no imports")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    store = open_store(args)
    missing = [i for i in args.import_ids if not store.delete_import(i)]
    for i in missing:
        print(f"delivery-trace: no import {i}", file=sys.stderr)
    return EXIT_FAIL if missing else EXIT_OK


def cmd_rejected(args: argparse.Namespace) -> int:
    from .export import write_csv

    df = open_store(args).rejected(args.import_id)
    write_csv(df, args.csv)
    return EXIT_OK


def cmd_mapping(args: argparse.Namespace) -> int:
    store = open_store(args)
    if not args.name:
        for name in store.mapping_names():
            print(f"{name}: {json.dumps(store.mapping(name))}")
        return EXIT_OK
    mapping = {}
    for item in args.set:
        field, sep, column = item.partition("=")
        if not sep:
            print(f"delivery-trace: --set needs FIELD=COLUMN, got {item!r}", file=sys.stderr)
            return EXIT_FAIL
        mapping[field.strip()] = column
    from .sources._espmap import MAPPABLE, REQUIRED

    bad = sorted(set(mapping) - set(MAPPABLE))
    absent = [f for f in REQUIRED if f not in mapping]
    if bad or absent:
        print(f"delivery-trace: mapping needs {', '.join(REQUIRED)}; fields are "
              f"{', '.join(MAPPABLE)}", file=sys.stderr)
        return EXIT_FAIL
    store.save_mapping(args.name, mapping)
    print(f"saved mapping {args.name!r}")
    return EXIT_OK


def cmd_journeys(args: argparse.Namespace) -> int:
    from .export import write_csv
    from .journeys import journeys_df

    write_csv(journeys_df(open_store(args).cursor()), args.csv)
    return EXIT_OK


def cmd_matches(args: argparse.Namespace) -> int:
    from .journeys import match_report

    if args.limit < 0:
        raise UsageError("--limit must be 0 or more")
    report = match_report(open_store(args).cursor(), args.limit)
    print(json.dumps(report.as_dict(), indent=2, default=str) if args.json else report.render())
    return EXIT_OK


def cmd_classify(args: argparse.Namespace) -> int:
    from .classify import classify

    result = classify(args.code, args.enhanced, args.text, command=args.smtp_command,
                      domain=args.domain)
    print(json.dumps(result.as_dict(), indent=2))
    return EXIT_OK


def cmd_suppressions(args: argparse.Namespace) -> int:
    from .export import write_csv
    from .hygiene import suppressions

    write_csv(suppressions(open_store(args).cursor()), args.csv)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from .queries import Filters
    from .redact import resolve_key
    from .report import write_report

    filters = Filters(campaigns=tuple(args.campaign), since=args.since, until=args.until,
                      domains=tuple(args.domain), codes=tuple(args.code))
    key = resolve_key(args.key) if args.redact == "hash" else None
    try:
        out = write_report(open_store(args).cursor(), Path(args.out), filters=filters,
                           redact=args.redact, key=key)
    except OSError as e:  # an unwritable --out: one line for cron, no traceback
        print(f"delivery-trace: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_FAIL
    if not args.quiet:
        print(f"wrote {out}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    finally:
        while _OPENED:
            _OPENED.pop().close()


def _run(args: argparse.Namespace) -> int:
    """Run one command; every error becomes one line on stderr and exit code 2."""
    try:
        return int(args.func(args) or 0)
    except DeliveryTraceError as e:
        print(f"delivery-trace: {e}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        print("delivery-trace: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # a bug: one line, no traceback (DELIVERY_TRACE_DEBUG=1 shows it)
        if os.environ.get("DELIVERY_TRACE_DEBUG"):
            raise
        text = " ".join(str(e).split())[:300]
        print(f"delivery-trace: unexpected error in {args.command}: {type(e).__name__}: {text} "
              "(set DELIVERY_TRACE_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

