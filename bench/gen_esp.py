"""The ESP side: the TouchBasePro activity export (CSV) and an XLSX export of its first rows.

Layout of ../shared/formats/samples/esp/touchbasepro_activity.csv: UTF-8 with BOM, every
field quoted, CRLF (multi-line replies keep their CR LF inside the quotes), dates in the
account's zone (SAST, UTC+2) without offset. The XLSX is written like
touchbasepro_bounces.xlsx: openpyxl, inline strings, Date cells as real Excel date-times.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import replies
from . import world as W

HEADER = ("Email Address", "Name", "Campaign", "Event", "Date", "Bounce Type",
          "Bounce Reason", "Message ID", "SMTP Response")
SAST_MS = 2 * 3600_000
DEFERRED1, DEFERRED2, DELIVERED, BOUNCED, OPENED, CLICKED, UNSUB, SPAM = range(8)
EVENT = {DEFERRED1: "Deferred", DEFERRED2: "Deferred", DELIVERED: "Delivered",
         BOUNCED: "Bounced", OPENED: "Opened", CLICKED: "Clicked", UNSUB: "Unsubscribed",
         SPAM: "Marked as spam"}
CHUNK = 100_000


@dataclass(frozen=True)
class Rows:
    """The export's rows in file order: journey, kind of row, time (ms UTC)."""

    journey: np.ndarray
    kind: np.ndarray
    at: np.ndarray


def esp_rows(w: W.World) -> Rows:
    """Every ESP row the world produces up to the export time, grouped per journey."""
    rng = np.random.default_rng(w.seed + 2)
    n = w.n()
    out = w.j_outcome
    opened_at = w.j_acc + rng.exponential(2 * 3600_000, n).astype(np.int64)
    parts = [
        (np.isin(out, (W.DEFER_DELIVERED, W.DEFER_EXPIRED)), DEFERRED1, w.j_sent),
        (out == W.DEFER_EXPIRED, DEFERRED2, w.j_sent + 1800_000),
        (w.j_acc >= 0, DELIVERED, w.j_acc),
        (w.j_end >= 0, BOUNCED, w.j_end),
        ((w.j_engage & 1) > 0, OPENED, opened_at),
        ((w.j_engage & 2) > 0, CLICKED, opened_at + rng.integers(10_000, 600_000, n)),
        ((w.j_engage & 4) > 0, UNSUB, opened_at + rng.integers(60_000, 3600_000, n)),
        ((w.j_engage & 8) > 0, SPAM, w.j_acc + rng.integers(3600_000, 86400_000, n)),
    ]
    js, ks, ts = [], [], []
    for mask, kind, at in parts:
        idx = np.flatnonzero(mask)
        js.append(idx)
        ks.append(np.full(len(idx), kind, dtype=np.int8))
        ts.append(at[idx])
    j, k, t = np.concatenate(js), np.concatenate(ks), np.concatenate(ts)
    keep = t <= W.EXPORT_AT
    j, k, t = j[keep], k[keep], t[keep]
    order = np.lexsort((k, t, j))
    return Rows(j[order], k[order], t[order])


def esp_row_count(w: W.World) -> int:
    """How many rows the full export would have (before it is cut to the size)."""
    return len(esp_rows(w).journey)


def _bounce_labels(w: W.World, j: int) -> tuple[str, str]:
    """Bounce Type and Bounce Reason as the ESP labels the failure."""
    if w.j_outcome[j] == W.DEFER_EXPIRED:
        nodns = w.system[j] == W.SYS["nodns"]
        return "Soft", "Soft Bounce - Dns Failure" if nodns else "Soft Bounce - General"
    cat = replies.TEMPLATES[w.j_tpl[j]].category
    if cat in W.HARD:
        return "Hard", "Hard Bounce"
    if cat == "mailbox_unavailable":
        return "Soft", "Soft Bounce - Mailbox Full"
    return "Soft", "Soft Bounce - General"


def row_values(w: W.World, rows: Rows, lo: int, hi: int) -> list[list[str]]:
    """Rows lo..hi as the export's nine text fields (Date still as ms UTC in field 4)."""
    names = W.CAMPAIGN_NAMES
    out = []
    camp = w.j_campaign
    for j, kind, at in zip(rows.journey[lo:hi].tolist(), rows.kind[lo:hi].tolist(),
                           rows.at[lo:hi].tolist(), strict=True):
        sub = w.j_sub[j]
        btype = breason = rid = text = ""
        if kind == DELIVERED:
            rid, text = w.j_rid[j], w.j_reply[j]
        elif kind == DEFERRED1:
            text = w.j_text[j]
        elif kind == DEFERRED2:
            text = w.j_text2[j]
        elif kind == BOUNCED:
            btype, breason = _bounce_labels(w, j)
            text = w.j_text2[j] if w.j_outcome[j] == W.DEFER_EXPIRED else w.j_text[j]
            if w.j_outcome[j] == W.BOUNCE_AFTER:
                rid = w.j_rid[j]
        out.append([w.sub_email[sub], w.sub_name[sub], names[camp[j]], EVENT[kind], at, btype,
                    breason, rid, text])
    return out


def _sast(at: np.ndarray) -> list[str]:
    s = np.datetime_as_string((at + SAST_MS).astype("datetime64[ms]").astype("datetime64[s]"))
    return [x[:10] + " " + x[11:] for x in s.tolist()]


def write_csv(w: W.World, path: Path) -> int:
    """The activity export of exactly w.size rows; returns the row count."""
    rows = esp_rows(w)
    n = min(w.size, len(rows.journey))
    with open(path, "wb") as fh:
        fh.write(b"\xef\xbb\xbf" + ",".join(f'"{h}"' for h in HEADER).encode() + b"\r\n")
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            dates = _sast(rows.at[lo:hi])
            lines = []
            for v, d in zip(row_values(w, rows, lo, hi), dates, strict=True):
                text = v[8].replace('"', '""') if '"' in v[8] else v[8]
                lines.append(f'"{v[0]}","{v[1]}","{v[2]}","{v[3]}","{d}","{v[5]}","{v[6]}",'
                             f'"{v[7]}","{text}"\r\n')  # only the reply can hold a quote
            fh.write("".join(lines).encode("utf-8"))
    return n


def write_xlsx(w: W.World, path: Path, n_rows: int) -> int:
    """The first n_rows rows of the export as a workbook (sheet "Activity")."""
    import openpyxl

    rows = esp_rows(w)
    n = min(n_rows, len(rows.journey))
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Activity")
    ws.append(list(HEADER))
    stamps = (rows.at[:n] + SAST_MS).astype("datetime64[ms]").astype("datetime64[s]").tolist()
    for v, d in zip(row_values(w, rows, 0, n), stamps, strict=True):
        v[4] = d
        ws.append(v)
    stamp = dt.datetime(2025, 12, 1)
    wb.properties.created = wb.properties.modified = stamp
    wb.save(path)
    _fix_zip_times(path)
    return n


def _fix_zip_times(path: Path) -> None:
    """Rewrite the workbook's ZIP members with a fixed date so the bytes are reproducible."""
    with zipfile.ZipFile(path) as zin:
        members = [(i.filename, zin.read(i)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members:
            if name == "docProps/core.xml":  # openpyxl stamps "modified" with the clock
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2025-12-01T00:00:00Z",
                              data)
            info = zipfile.ZipInfo(name, date_time=(2025, 12, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, data)
