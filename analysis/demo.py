"""The demo data set: a deterministic two-campaign story, seen from the ESP and from partners.

`write_demo()` writes an ESP export (TouchBasePro CSV) and recipient-side traces in the
real formats of ../shared/formats/ (Exchange Online historical search, EAC and
Get-MessageTrace exports, Google Email Log Search and BigQuery, Exchange MSGTRK logs, a
Postfix syslog) into data/demo/, plus MANIFEST.json (files, time zones, expected verdict
counts) and TRUTH.json (the verdict of every journey). Same seed, same bytes.
`load_demo(store)` loads them (regenerating first if missing or from an older generator).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .demo_model import Msg, Written, csv_line, sast
from .demo_plan import CAMPAIGNS, EXPORT_AT, TRACED, plan
from .settings import DEMO_DIR

if TYPE_CHECKING:
    from .store import LoadResult, Store

GENERATOR_VERSION = 1
MANIFEST = "MANIFEST.json"
TRUTH = "TRUTH.json"
VERDICTS = ("rejected", "accepted_no_trace", "delivered", "junk", "quarantined", "dropped",
            "bounced_after_accept", "deferred", "expired", "forwarded", "unknown")
FAILED = ("rejected", "bounced_after_accept", "deferred", "expired")
CATEGORIES = ("invalid_address", "mailbox_unavailable", "spam_or_reputation", "authentication",
              "policy_or_configuration", "connectivity", "throttling", "unknown")


@dataclass(frozen=True)
class FileKind:
    """What a kind of demo file is: the intended parser, its time zone and a description."""

    format: str  # the registered source name the file is meant for
    family: str  # regex any acceptable registered name matches (names may still settle)
    side: str
    tz: str
    encoding: str  # encoding, BOM and line ends, as in the format's sample
    description: str
    year: int | None = None


FILE_KINDS: dict[str, FileKind] = {
    "esp": FileKind("touchbasepro_csv", r"^touchbasepro_csv$", "esp", "Africa/Johannesburg",
                    "UTF-8 with BOM, CRLF", "TouchBasePro activity export, both campaigns (UTF-8 BOM, CRLF, SAST)"),
    "exo_extended": FileKind(
        "o365_historical_detail", r"(o365|exo|office365).*(historical|extended|detail)",
        "trace", "UTC", "UTF-16LE with BOM, CRLF", "Exchange Online extended (MessageTraceDetail) historical search "
        "report, tenant alpine (UTF-16LE BOM)"),
    "exo_eac": FileKind("o365_eac", r"(o365|exo|office365).*eac", "trace", "UTC",
                        "UTF-8 with BOM, CRLF", "Exchange Online new-EAC message trace export, tenant harbor "
                        "(no Message-ID: approximate matches)"),
    "exo_v1": FileKind("o365_messagetrace", r"(o365|exo|office365).*(message_?trace|v1|cmdlet)",
                       "trace", "UTC", "ASCII, CRLF", "Get-MessageTrace | Export-Csv, tenant cedar (ASCII), run "
                       "minutes after the send"),
    "google_els": FileKind("google_els", r"google.*(els|log_search)", "trace", "UTC",
                           "UTF-8, LF", "Google Email Log Search export, maplegrove.example.com"),
    "google_bq": FileKind("google_bigquery_json", r"google.*bigquery", "trace", "UTC",
                          "UTF-8, LF", "Gmail logs in BigQuery (legacy daily_ tables) as JSONL, riverbend + "
                          "birchwood"),
    "msgtrk": FileKind("exchange_msgtrk", r"exchange.*(msgtrk|tracking)", "trace", "UTC",
                       "UTF-8 with BOM, CRLF", "Exchange 2019 message tracking log (transport), fabrikam"),
    "msgtrk_md": FileKind("exchange_msgtrk", r"exchange.*(msgtrk|tracking)", "trace", "UTC",
                          "UTF-8 with BOM, CRLF", "Exchange 2019 message tracking log (mailbox delivery), fabrikam"),
    "postfix": FileKind("postfix", r"^postfix", "trace", "Europe/Paris",
                        "UTF-8 (ASCII), LF", "Postfix via rsyslog (year-less, CET) for oakridge, pine and quarry, with "
                        "other daemons' lines", 2025),
}
ESP_HEADER = ["Email Address", "Name", "Campaign", "Event", "Date", "Bounce Type",
              "Bounce Reason", "Message ID", "SMTP Response"]


@dataclass(frozen=True)
class DemoFile:
    """A generated demo file and how to load it."""

    path: Path
    tz: str
    format: str  # intended source name (see FILE_KINDS for the accepted family)
    side: str = "trace"
    year: int | None = None


def _esp_rows(m: Msg) -> list[tuple[object, list[str]]]:
    base = [m.email, m.name, m.campaign]
    rows: list[tuple[object, list[str]]] = []
    if m.sent_only:
        rows.append((m.sent, base + ["Sent", sast(m.sent), "", "", "", ""]))
    deferrals = m.deferrals
    shown = deferrals[:1] + (deferrals[-1:] if m.scenario == "deferred" and len(deferrals) > 1
                             else [])
    for a in shown:
        rows.append((a.at, base + ["Deferred", sast(a.at), "", "", "", a.text]))
    if m.accepted:
        rows.append((m.accepted.at, base + ["Delivered", sast(m.accepted.at), "", "",
                                            m.remote_id, m.accepted.text]))
    if m.rejected:
        rows.append((m.rejected.at, base + ["Bounced", sast(m.rejected.at), m.bounce_type,
                                            m.bounce_reason, "", m.rejected.text]))
    if m.expired_at:
        rows.append((m.expired_at, base + ["Bounced", sast(m.expired_at), m.bounce_type,
                                           m.bounce_reason, "", deferrals[-1].text]))
    if m.later_bounce:
        rows.append((m.later_bounce.at, base + ["Bounced", sast(m.later_bounce.at),
                                                m.bounce_type, m.bounce_reason, m.remote_id,
                                                m.later_bounce.text]))
    for event, at in m.engagement:
        rows.append((at, base + [event, sast(at), "", "", "", ""]))
    return sorted(rows, key=lambda r: r[0])  # type: ignore[arg-type, return-value]


def esp_export(msgs: list[Msg]) -> Written:
    """The TouchBasePro activity export: BOM, every field quoted, CRLF (sample layout)."""
    lines = [csv_line(ESP_HEADER)]
    for m in msgs:
        lines.extend(csv_line(r) for _, r in _esp_rows(m))
    text = "\r\n".join(lines) + "\r\n"
    domains = tuple(sorted({m.domain for m in msgs}))
    return Written("touchbasepro_activity_oct_nov_2025.csv", b"\xef\xbb\xbf" + text.encode(),
                   len(lines) - 1, "esp", domains)


def _traces(msgs: list[Msg], seed: int) -> list[Written]:
    from . import demo_google, demo_microsoft, demo_postfix

    nov = [m for m in msgs if m.campaign == TRACED]

    def on(key: str) -> list[Msg]:
        return [m for m in nov if m.trace == key]

    return [
        demo_microsoft.exo_extended(on("exo_extended"), nov, seed),
        demo_microsoft.exo_eac(on("exo_eac"), nov, seed),
        demo_microsoft.exo_v1(on("exo_v1"), nov, seed),
        *demo_microsoft.msgtrk(on("msgtrk"), nov, seed),
        demo_google.els(on("google_els"), nov, seed),
        demo_google.bigquery(on("google_bq"), nov, seed),
        demo_postfix.syslog(on("postfix"), nov, seed),
    ]


def _expected(msgs: list[Msg], files: list[Written]) -> dict[str, object]:
    by_campaign = {c.name: Counter(m.verdict for m in msgs if m.campaign == c.name)
                   for c in CAMPAIGNS}
    total = Counter(m.verdict for m in msgs)
    esp = files[0]
    text = esp.data.decode("utf-8-sig")
    events = Counter(re.findall(r'^"[^"]*","[^"]*","[^"]*","([^"]+)"', text, re.M)[1:])
    return {
        "journeys": len(msgs),
        "verdicts": {v: total[v] for v in VERDICTS},
        "verdicts_by_campaign": {c: {v: n[v] for v in VERDICTS} for c, n in by_campaign.items()},
        # the category the generator meant for each journey's failure (classify() decides
        # the app's own; they differ on purpose-built ambiguous texts, see TRUTH.json keys)
        "failure_categories_intended": {c: sum(1 for m in msgs if m.category == c and m.verdict
                                               in FAILED) for c in CATEGORIES},
        "accepted_no_trace_on_traced_domains": sum(
            1 for m in msgs if m.verdict == "accepted_no_trace" and m.trace),
        "recipients": len({m.email for m in msgs}),
        "recipient_domains": len({m.domain for m in msgs}),
        "esp_rows": esp.rows,
        "esp_events": dict(sorted(events.items())),
        # other mail in each trace (one ESP proof send per partner among it): must stay
        # unmatched; the NDRs partners sent back are further trace-side messages
        "trace_noise_messages": {f.name: f.trace_only for f in files if f.trace_only},
    }


def _truth(msgs: list[Msg]) -> str:
    cols = ["campaign", "recipient", "verdict", "scenario", "category", "reply_key",
            "remote_id", "trace"]
    rows = [json.dumps([m.campaign, m.email, m.verdict, m.scenario, m.category,
                        m.extra.get("key"), m.remote_id, m.trace], ensure_ascii=False)
            for m in msgs]
    return '{"columns": ' + json.dumps(cols) + ', "rows": [\n' + ",\n".join(rows) + "\n]}\n"


def write_demo(out_dir: Path = DEMO_DIR, *, recipients: int = 2400, seed: int = 7
               ) -> list[DemoFile]:
    """Generate the demo files into out_dir (deterministic: same arguments, same bytes)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    msgs = plan(recipients, seed)
    files = [esp_export(msgs), *_traces(msgs, seed)]
    demo_files: list[DemoFile] = []
    entries = []
    for f in files:
        kind = FILE_KINDS[f.key]
        (out_dir / f.name).write_bytes(f.data)
        demo_files.append(DemoFile(out_dir / f.name, kind.tz, kind.format, kind.side, kind.year))
        entries.append({"path": f.name, "kind": f.key, "format": kind.format,
                        "format_family": kind.family,
                        "side": kind.side, "tz": kind.tz, "year": kind.year,
                        "encoding": kind.encoding, "rows": f.rows,
                        "bytes": len(f.data), "domains": list(f.domains),
                        "description": kind.description})
    manifest = {
        "title": "Delivery Trace demo data: BrightPath Outdoors, October and November newsletters",
        "generator": "analysis/demo.py", "generator_version": GENERATOR_VERSION,
        "seed": seed, "recipients": recipients,
        "campaigns": [{"name": c.name, "first_send_utc": c.start.isoformat(),
                       "messages": sum(1 for m in msgs if m.campaign == c.name),
                       "traced": c.name == TRACED} for c in CAMPAIGNS],
        "esp_export_taken_at_utc": EXPORT_AT.isoformat(),
        "note": "Invented data (RFC 2606 domains, RFC 5737 IPs). Traces cover the November "
                "send only, from the partners listed per file; every other domain is seen "
                "from the ESP side alone. Verdicts follow DESIGN.md; TRUTH.json lists each "
                "journey.",
        "files": entries,
        "expected": _expected(msgs, files),
        "truth": TRUTH,
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8", newline="\n")
    (out_dir / TRUTH).write_text(_truth(msgs), encoding="utf-8", newline="\n")
    return demo_files


def demo_files(out_dir: Path = DEMO_DIR) -> list[DemoFile]:
    """The demo files listed in out_dir's manifest; regenerate when missing or outdated."""
    out_dir = Path(out_dir)
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        current = manifest.get("generator_version") == GENERATOR_VERSION and all(
            (out_dir / f["path"]).is_file() for f in manifest["files"])
    except (OSError, ValueError, KeyError):
        current = False
    if not current:
        return write_demo(out_dir)
    return [DemoFile(out_dir / f["path"], f["tz"], f["format"], f["side"], f.get("year"))
            for f in manifest["files"]]


def _sniffed(path: Path) -> str | None:
    """The format the registry's sniffers pick for path (None when none is confident)."""
    from . import sources

    best = sources.inspect([path])[0].best
    return best.format if best else None


def resolve_format(f: DemoFile) -> str | None:
    """The registered source that reads f: its intended name, else the best sniffer if that
    one belongs to the intended family; None while no such parser is registered."""
    from . import sources

    if f.format in sources.REGISTRY:
        return f.format
    family = next((k.family for k in FILE_KINDS.values() if k.format == f.format), None)
    best = _sniffed(f.path)
    if best and family and re.search(family, best):
        return best
    return None


def load_demo(store: Store, out_dir: Path = DEMO_DIR) -> list[LoadResult]:
    """Load every demo file that a registered parser reads, each in its own time zone.

    Files the sniffers recognise load together per time zone (one refresh of the derived
    tables per group, not per file); any other file loads alone with its format forced.
    """
    from .sources import ParseOptions
    from .store import LoadResult

    done: dict[str, list[LoadResult]] = {}
    groups: dict[tuple[str, int | None], list[Path]] = {}
    files = demo_files(out_dir)
    for f in files:
        fmt = resolve_format(f)
        if fmt is None:
            done[f.path.name] = [LoadResult(
                file=f.path.name, format=None, side=f.side, skipped=True, tz=f.tz,
                notes={"message": f"not loaded: no parser for {f.format} is registered yet"})]
        elif _sniffed(f.path) == fmt:
            groups.setdefault((f.tz, f.year), []).append(f.path)
        else:
            done[f.path.name] = store.load_files(
                [f.path], format=fmt, opts=ParseOptions(tz=f.tz, year=f.year), origin="demo")
    for (tz, year), paths in groups.items():
        loaded = store.load_files(paths, opts=ParseOptions(tz=tz, year=year), origin="demo")
        for path, result in zip(paths, loaded, strict=True):
            done[path.name] = [result]
    return [r for f in files for r in done[f.path.name]]
