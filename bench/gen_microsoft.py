"""Microsoft traces: Get-MessageTrace | Export-Csv (Office 365) and Exchange MSGTRK logs.

Layouts: ../shared/formats/samples/office365/get-messagetrace_export.csv (ASCII, every
field quoted, CRLF, en-US UTC stamps, newest first) and samples/exchange/MSGTRK*.LOG
(UTF-8 with BOM, CRLF, five # header lines, fields quoted only when needed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import text as T
from . import world as W

V1_HEADER = ('"PSComputerName","RunspaceId","PSShowComputerName","Organization","MessageId",'
             '"Received","SenderAddress","RecipientAddress","Subject","Status","ToIP","FromIP",'
             '"Size","MessageTraceId","StartDate","EndDate","Index"')
TENANT = "alpineexample.onmicrosoft.com"
V1_STATUS = {W.QUARANTINED: "Quarantined", W.BOUNCE_AFTER: "Failed", W.DEFER_AFTER: "Pending"}
NOISE_STATUS = {  # kind -> (statuses, probabilities)
    "inbound": (("Delivered", "FilteredAsSpam", "Quarantined", "Failed", "Pending",
                 "GettingStatus"), (.86, .06, .03, .02, .02, .01)),
    "internal": (("Delivered", "Expanded", "Pending", "GettingStatus"), (.94, .03, .02, .01)),
    "outbound": (("Delivered", "Failed", "Pending"), (.95, .03, .02)),
}


def write_o365_v1(w: W.World, path: Path, n_rows: int) -> int:
    """The tenant's Get-MessageTrace export: our campaign's messages plus its other mail."""
    rng = np.random.default_rng(w.seed + 11)
    js = T.journey_pick(w, "o365")
    js = js[w.j_outcome[js] != W.MISSING]
    out = w.j_outcome[js].tolist()
    rows_t = [w.j_acc[js]]
    cols: list[list[str]] = [[w.j_msgid[j] for j in js.tolist()],
                             [w.sub_verp[w.j_sub[j]] for j in js.tolist()],
                             [w.email(j) for j in js.tolist()],
                             [W.CAMPAIGN_SUBJECTS[c] for c in w.j_campaign[js].tolist()],
                             [V1_STATUS.get(o, "Delivered") for o in out],
                             [""] * len(js),
                             [W.ESP_MTAS[m][1] for m in w.j_mta[js].tolist()],
                             [str(s + 1296) for s in w.j_size[js].tolist()]]
    n_noise = max(0, n_rows - len(js))
    nt, ncols = _v1_noise(w, rng, n_noise)
    rows_t.append(nt)
    cols = [a + b for a, b in zip(cols, ncols, strict=True)]
    t = np.concatenate(rows_t)
    order = np.argsort(-t, kind="stable")[:n_rows]  # newest first, like the cmdlet
    received = T.us_dates(t[order])
    trace_ids = T.guids(rng, len(order))
    runspace = T.guids(rng, 1)[0]
    start, end = T.us_dates(np.array([T.TRACE_START, W.EXPORT_AT + 2 * 3600_000]))
    with open(path, "wb") as fh:
        fh.write((V1_HEADER + "\r\n").encode("ascii"))
        buf = []
        head = f'"outlook.office365.com","{runspace}","False","{TENANT}","'
        tail = f'","{start}","{end}","'
        c0, c1, c2, c3, c4, c5, c6, c7 = cols
        for i, k in enumerate(order.tolist()):
            subj = c3[k].replace('"', '""')
            buf.append(f'{head}{c0[k]}","{received[i]}","{c1[k]}","{c2[k]}","{subj}","{c4[k]}",'
                       f'"{c5[k]}","{c6[k]}","{c7[k]}","{trace_ids[i]}{tail}{i % 5000}"\r\n')
            if len(buf) >= 50_000:
                fh.write("".join(buf).encode("ascii", "replace"))  # PowerShell 5.1: '?'
                buf = []
        fh.write("".join(buf).encode("ascii", "replace"))
    return len(order)


def _v1_noise(w: W.World, rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[list[str]]]:
    """The tenant's other mail: inbound from strangers, internal, outbound."""
    tenant = W.domains_of("o365")
    ours = [w.sub_email[s] for s in np.flatnonzero(
        w.dom_system[w.sub_domain] == W.SYS["o365"]).tolist()] or ["x@alpine.example.org"]
    staff = T.people(rng, max(50, min(20_000, n // 40)), tenant)
    users = staff + ours
    ext = T.outsiders(rng, max(50, min(5000, n // 100)))
    kinds = rng.choice(3, size=n, p=(.55, .30, .15))
    u1 = rng.integers(0, len(users), n).tolist()
    u2 = rng.integers(0, len(users), n).tolist()
    e1 = rng.integers(0, len(ext), n).tolist()
    subj = T.subjects(rng, n)
    mids = T.hex_ids(rng, n, 32, upper=True)
    sizes = rng.integers(2_000, 4_000_000, n).tolist()
    ips = rng.integers(2, 250, n).tolist()
    st = {}
    for k, name in enumerate(("inbound", "internal", "outbound")):
        labels, p = NOISE_STATUS[name]
        st[k] = np.array(labels)[rng.choice(len(labels), size=n, p=p)].tolist()
    cols: list[list[str]] = [[], [], [], [], [], [], [], []]
    for i, k in enumerate(kinds.tolist()):
        if k == 0:
            sender, rcpt = ext[e1[i]], users[u1[i]]
            mid = f"<{mids[i][:8].lower()}.{mids[i][8:20].lower()}@{sender.split('@')[1]}>"
            to_ip, from_ip = "", f"203.0.113.{ips[i]}"
        elif k == 1:
            sender, rcpt = users[u1[i]], users[u2[i]]
            mid = f"<AM9PR05MB8421{mids[i]}@AM9PR05MB8421.eurprd05.prod.outlook.com>"
            to_ip = from_ip = ""
        else:
            sender, rcpt = users[u1[i]], ext[e1[i]]
            mid = f"<DB9PR02MB6612{mids[i]}@DB9PR02MB6612.eurprd02.prod.outlook.com>"
            to_ip, from_ip = f"192.0.2.{ips[i]}", ""
        for col, v in zip(cols, (mid, sender, rcpt, subj[i], st[k][i], to_ip, from_ip,
                                 str(sizes[i])), strict=True):
            col.append(v)
    return T.times_between(rng, n, T.TRACE_START, W.EXPORT_AT), cols
