"""Exchange Server 2019 message tracking logs of EXCH01: MSGTRK (transport) and MSGTRKMD.

Layout of ../shared/formats/samples/exchange/MSGTRK20251104-1.LOG: UTF-8 with BOM, CRLF,
the #Software/#Version/#Log-type/#Date/#Fields header, 30 comma-separated fields quoted
only when they contain a comma or quote. DELIVER rows live in the MSGTRKMD file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import text as T
from . import world as W

FIELDS = ("date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,"
          "connector-id,source,event-id,internal-message-id,message-id,network-message-id,"
          "recipient-address,recipient-status,total-bytes,recipient-count,"
          "related-recipient-address,reference,message-subject,sender-address,return-path,"
          "message-info,directionality,tenant-id,original-client-ip,original-server-ip,"
          "custom-data,transport-traffic-type,log-id,schema-version")
BUILD = "15.02.1544.009"
EXCH_IP = "192.0.2.10"
FOREST = "S:DeliveryPriority=Normal;S:AccountForest=fabrikam.example.net"
FROM_ADDR = "news@brightpath.example.com"
NDR_FROM = "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@fabrikam.example.net"
BOUNCE = ("198.51.100.30", "mx.bounce.esp.example.net")
RULE = "6d1e9c22-5a4b-4f0e-9d7c-3b2a1f0e8d6c"
DROP_RULE = "b2f0c4d1-7e3a-4c59-8a61-0f9e2d7c3b48"
LATENCY = ("SRV=EXCH01.fabrikam.example.net:TOTAL-HUB=0.301|SMR=0.081|CAT=0.116|QDM=0.010|"
           "SMS=0.088;SRV=EXCH01.fabrikam.example.net:TOTAL-DEL=0.142|SMR=0.138|SDD=0.040|"
           "SMRD=0.002")
MD, TRK = 1, 0


class _Msgs:
    """Per-message columns of one batch (ESP or noise), all as lists of text."""

    def __init__(self, t0: np.ndarray, iid: list[int], mid: list[str], net: list[str],
                 rcpt: list[str], subj: list[str], sender: list[str], ret: list[str],
                 size: list[int]) -> None:
        self.t0, self.iid, self.mid, self.net, self.rcpt = t0, iid, mid, net, rcpt
        self.subj = [T.csvq(s) for s in subj]
        self.sender, self.ret, self.size = sender, ret, size

    def mid_fields(self, i: int, iid: int | None = None, rcpt: str | None = None) -> str:
        """internal-message-id .. recipient-address (4 fields)."""
        return (f"{self.iid[i] if iid is None else iid},{self.mid[i]},{self.net[i]},"
                f"{self.rcpt[i] if rcpt is None else rcpt}")

    def tail(self, i: int, size: int, info: str, direction: str, custom: str, log_id: str,
             ref: str = "", orig: str = ",") -> str:
        """total-bytes .. schema-version (16 fields)."""
        return (f"{size},1,,{ref},{self.subj[i]},{self.sender[i]},{self.ret[i]},{info},"
                f"{direction},,{orig},{custom},Email,{log_id},{BUILD}")


def _receive(m: _Msgs, i: int, t_iso: str, ctx_iso: str, ip: str, host: str, sid: str,
             log_id: str) -> str:
    return (f"{ip},{host},{EXCH_IP},EXCH01,{sid};{ctx_iso};0,EXCH01\\Default Frontend EXCH01,"
            f"SMTP,RECEIVE,{m.mid_fields(i)},,"
            + m.tail(i, m.size[i], "0cI: ", "Incoming",
                     "S:ProxyHop1=EXCH01.fabrikam.example.net(192.0.2.10);S:FirstForestHop="
                     "EXCH01.fabrikam.example.net;S:FromEntity=Internet;" + FOREST, log_id,
                     orig=f"{ip},{EXCH_IP}"))


def _agent(m: _Msgs, i: int, st: str, drop: bool, log_id: str) -> str:
    rule, action = (DROP_RULE, "DeleteMessage") if drop else (RULE, "ApplyHtmlDisclaimer")
    return (f",,,EXCH01,Transport Rule Agent,,AGENT,AGENTINFO,{m.mid_fields(i)},,"
            + m.tail(i, m.size[i] + 1296, "", "Incoming",
                     f"S:AMA=SUM|v=1|action=|error=|atch=0;S:TRA=ETR|ruleId={rule}|st={st}|"
                     f"action={action}|sev=1|mode=Enforce", log_id))


def _send(m: _Msgs, i: int, origin_iso: str, sid: str, log_id: str) -> str:
    return (f"{EXCH_IP},EXCH01,{EXCH_IP},EXCH01.fabrikam.example.net,{sid};250 2.0.0 OK;"
            f"ClientSubmitTime:,Intra-Organization SMTP Send Connector,SMTP,SEND,"
            f"{m.mid_fields(i)},250 2.1.5 Recipient OK,"
            + m.tail(i, m.size[i] + 1296, f"{origin_iso};{LATENCY.split(';')[0]}", "Incoming",
                     "S:E2ELatency=0.305;S:MsgRecipCount=1;S:IncludeInSla=True;"
                     "S:IsSmtpResponseFromExternalServer=False;" + FOREST, log_id))


def _deliver(m: _Msgs, i: int, t_iso: str, origin_iso: str, mbx: str, event: int,
             log_id: str) -> str:
    ctx = (f"\"MDB:3e7a0c51-9b2d-4f86-a1c3-5d0e7b9f2a64, Mailbox:{mbx}, Event:{event}, "
           f"MessageClass:IPM.Note, CreationTime:{t_iso}, ClientType:User, "
           "SubmissionAssistant:MailboxTransportSubmissionEmailAssistant\"")
    return (f",,{EXCH_IP},EXCH01,{ctx},,STOREDRIVER,DELIVER,{m.mid_fields(i, m.iid[i] + 1)},,"
            + m.tail(i, m.size[i] + 2701, f"{origin_iso};{LATENCY}", "Incoming",
                     "S:Mailboxes=3e7a0c51-9b2d-4f86-a1c3-5d0e7b9f2a64;S:E2ELatency=0.447;"
                     "S:DeliveryLatencyPreContentConversion=0.445;"
                     "S:AccountForest=fabrikam.example.net", log_id))


def _send_external(m: _Msgs, i: int, ip: str, host: str, sid: str, reply: str, iid: int,
                   rcpt: str, info: str, log_id: str, subj: str | None = None,
                   sender: str | None = None, mid: str | None = None) -> str:
    fields = (f"{iid},{m.mid[i] if mid is None else mid},{m.net[i]},{rcpt}")
    return (f"{EXCH_IP},EXCH01,{ip},{host},{sid};{reply};ClientSubmitTime:,Internet Send "
            f"Connector,SMTP,SENDEXTERNAL,{fields},250 2.1.5 Ok,{m.size[i] + 5654},1,,,"
            f"{m.subj[i] if subj is None else subj},{m.sender[i] if sender is None else sender},"
            f"{'<>' if sender else m.ret[i]},{info},Originating,,,,"
            f"S:ToEntity=Internet;S:IsSmtpResponseFromExternalServer=True;{FOREST},Email,"
            f"{log_id},{BUILD}")


def _esp_messages(w: W.World, rng: np.random.Generator, lines: T.Lines) -> int:
    """RECEIVE, AGENTINFO, then SEND + DELIVER, FAIL + DSN + SENDEXTERNAL, or DROP."""
    js = T.journey_pick(w, "exchange")
    js = js[w.j_outcome[js] != W.MISSING]
    n = len(js)
    jl = js.tolist()
    acc = w.j_acc[js]
    t0 = acc - rng.integers(50, 250, n)
    t1 = t0 + rng.integers(10, 30, n)
    t2 = t1 + rng.integers(100, 300, n)
    t3 = t2 + rng.integers(100, 200, n)
    m = _Msgs(t0, w.j_internal[js].tolist(), [w.j_msgid[j] for j in jl], T.guids(rng, n),
              [w.email(j) for j in jl], [W.CAMPAIGN_SUBJECTS[c] for c in
                                         w.j_campaign[js].tolist()],
              [FROM_ADDR] * n, [w.sub_verp[w.j_sub[j]] for j in jl],
              w.j_size[js].tolist())
    out = w.j_outcome[js].tolist()
    mtas = w.j_mta[js].tolist()
    i0, i1, i2, i3 = (T.iso_ms(x) for x in (t0, t1, t2, t3))
    ctx = T.iso_ms(t0 - 150)
    sids = T.hex_ids(rng, 3 * n, 16, upper=True)
    logs = T.guids(rng, 6 * n)
    st = T.us_dates(t1)
    mbx = T.guids(rng, n)
    evs = rng.integers(18_800_000, 18_900_000, n).tolist()
    ndr_ids = T.hex_ids(rng, n, 32)
    for i in range(n):
        mta, ip = W.ESP_MTAS[mtas[i]]
        lg = logs[6 * i:6 * i + 6]
        lines.one(t0[i], i0[i] + "," + _receive(m, i, i0[i], ctx[i], ip, mta, sids[3 * i],
                                                 lg[0]), TRK)
        lines.one(t1[i], i1[i] + "," + _agent(m, i, st[i], out[i] == W.DROPPED, lg[1]), TRK)
        if out[i] == W.DROPPED:
            tra = (f"S:TRA=ETR|ruleId={DROP_RULE}|st={st[i]}|action=DeleteMessage|sev=1|"
                   "mode=Enforce")
            lines.one(t2[i], f"{i2[i]},,,,EXCH01,Transport Rule Agent,,AGENT,DROP,"
                      f"{m.mid_fields(i)},," + m.tail(i, m.size[i] + 1296, i0[i], "Incoming",
                                                      tra, lg[2]), TRK)
        elif out[i] == W.BOUNCE_AFTER:
            _ndr(w, jl[i], m, i, (t2[i], i2[i], i0[i]), ndr_ids[i], sids[3 * i + 2], lg[3:],
                 lines)
        else:
            lines.one(t2[i], i2[i] + "," + _send(m, i, i0[i], sids[3 * i + 1], lg[2]), TRK)
            lines.one(t3[i], i3[i] + "," + _deliver(m, i, i3[i], i0[i], mbx[i], evs[i], lg[3]),
                      MD)
    return n


def _ndr(w: W.World, j: int, m: _Msgs, i: int, at: tuple[int, str, str], ndr_hex: str,
         sid: str, logs: list[str], lines: T.Lines) -> None:
    """FAIL in routing, the DSN it creates, and the NDR's trip back to the ESP."""
    t2, i2, i0 = at
    ndr = f"<{ndr_hex}@EXCH01.fabrikam.example.net>"
    text = T.csvq(w.j_text[j])
    lines.one(t2, f"{i2},,,,EXCH01,,,ROUTING,FAIL,{m.mid_fields(i)},{text},"
                               + m.tail(i, m.size[i] + 1296, i0, "Incoming", FOREST, logs[0],
                                        ref=ndr), TRK)
    t3 = t2 + 80
    i3 = T.iso_ms(np.array([t3, w.j_end[j] - 500]))
    verp = m.ret[i]
    subj = T.csvq("Undeliverable: " + W.CAMPAIGN_SUBJECTS[w.j_campaign[j]])
    lines.one(t3, f"{i3[0]},,,,EXCH01,,,DSN,DSN,{m.iid[i] + 5},{ndr},{m.net[i]},{verp},,"
        f"{m.size[i] + 5654},1,,{m.mid[i]},{subj},{NDR_FROM},<>,,Originating,,,,{FOREST},"
        f"Email,{logs[1]},{BUILD}", TRK)
    lines.one(w.j_end[j] - 500, f"{i3[1]}," + _send_external(
        m, i, BOUNCE[0], BOUNCE[1], sid, f"250 2.0.0 Ok: queued as 4dBk{ndr_hex[:11]}",
        m.iid[i] + 5, verp, i3[0], logs[2], subj=subj, sender=NDR_FROM, mid=ndr), TRK)


def _noise(w: W.World, rng: np.random.Generator, lines: T.Lines, n_rows: int) -> None:
    """Other mail of the organisation: inbound from strangers, internal, outbound."""
    n = int(n_rows / 1.9) + 50  # ~2 rows per message
    domains = W.domains_of("exchange")
    staff = T.people(rng, max(50, min(10_000, n // 30)), domains)
    ext = T.outsiders(rng, max(50, min(5000, n // 100)))
    kinds = rng.choice(3, size=n, p=(.5, .3, .2)).tolist()
    t0 = T.times_between(rng, n, T.TRACE_START, W.EXPORT_AT)
    u = rng.integers(0, len(staff), (n, 2)).tolist()
    e = rng.integers(0, len(ext), n).tolist()
    senders = [ext[e[i]] if k == 0 else staff[u[i][0]] for i, k in enumerate(kinds)]
    rcpts = [ext[e[i]] if k == 2 else staff[u[i][1]] for i, k in enumerate(kinds)]
    m = _Msgs(t0, (3083786400003 + 10 * np.arange(n)).tolist(),
              [f"<{h}@{'EXCH01.fabrikam.example.net' if k else s.split('@')[1]}>"
               for h, k, s in zip(T.hex_ids(rng, n, 32, upper=True), kinds, senders,
                                  strict=True)],
              T.guids(rng, n), rcpts, T.subjects(rng, n), senders, senders,
              rng.integers(2_000, 3_000_000, n).tolist())
    t1, t2 = t0 + rng.integers(100, 400, n), t0 + rng.integers(500, 1500, n)
    i0, i1, i2 = T.iso_ms(t0), T.iso_ms(t1), T.iso_ms(t2)
    sids = T.hex_ids(rng, n, 16, upper=True)
    logs = T.guids(rng, 3 * n)
    mbx = T.guids(rng, n)
    ips = rng.integers(2, 250, n).tolist()
    for i, k in enumerate(kinds):
        lg = logs[3 * i:3 * i + 3]
        if k == 0:
            host = senders[i].split("@")[1]
            lines.one(t0[i], i0[i] + "," + _receive(m, i, i0[i], i0[i], f"203.0.113.{ips[i]}",
                                                     host, sids[i], lg[0]), TRK)
            lines.one(t1[i], i1[i] + "," + _send(m, i, i0[i], sids[i], lg[1]), TRK)
        if k in (0, 1):
            lines.one(t2[i], i2[i] + "," + _deliver(m, i, i2[i], i0[i], mbx[i], 18_700_000 + i,
                                                     lg[2]), MD)
        else:
            dom = rcpts[i].split("@")[1]
            lines.one(t1[i], i1[i] + "," + _send_external(
                m, i, f"198.51.100.{ips[i]}", f"mx.{dom}", sids[i], "250 2.0.0 OK", m.iid[i],
                rcpts[i], i0[i], lg[0]), TRK)


def _header(created: str) -> str:
    return ("\ufeff#Software: Microsoft Exchange Server\r\n#Version: " + BUILD + "\r\n"
            "#Log-type: Message Tracking Log\r\n#Date: " + created + "\r\n#Fields: " + FIELDS
            + "\r\n")


def write_msgtrk(w: W.World, out_dir: Path, n_rows: int) -> dict[str, int]:
    """MSGTRK and MSGTRKMD files with n_rows data rows between them."""
    rng = np.random.default_rng(w.seed + 21)
    lines = T.Lines()
    esp = _esp_messages(w, rng, lines)
    _noise(w, rng, lines, max(0, n_rows - lines.count()))
    del esp
    order, _, files = lines.ordered(n_rows)
    names = {TRK: "MSGTRK20251103-1.LOG", MD: "MSGTRKMD20251103-1.LOG"}
    counts = {}
    for f, name in names.items():
        sel = order[files == f].tolist()
        with open(out_dir / name, "wb") as fh:
            fh.write(_header("2025-11-03T00:00:01.088Z" if f == TRK else
                             "2025-11-03T00:00:02.311Z").encode("utf-8"))
            for lo in range(0, len(sel), 50_000):
                fh.write("".join(lines.text[k] + "\r\n" for k in sel[lo:lo + 50_000])
                         .encode("utf-8"))
        counts[name] = len(sel)
    return counts
