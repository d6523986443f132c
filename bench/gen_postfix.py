"""The Postfix syslog of mx1, the MX of a hosting provider serving the "postfix" domains.

Layout of ../shared/formats/samples/posix/postfix_syslog.log (posix.md section 1): rsyslog
traditional format, Paris local time (CET in November) without year or zone, LF, other
daemons' lines (postgrey, dovecot, amavis, postscreen, CRON, anvil) interleaved. Each
campaign message the server accepted carries the queue ID the ESP got in `250 2.0.0 Ok:
queued as X`; refusals are `NOQUEUE: reject` lines with the reply the ESP recorded.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from . import ids, replies
from . import text as T
from . import world as W

CET_MS = 3600_000
HOST = "mx1"
TLS = ("Anonymous TLS connection established from {c}: TLSv1.3 with cipher "
       "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA "
       "(P-256) server-digest SHA256")
QMGR = "postfix/qmgr[1188]"
CLEANUP = ("postfix/cleanup[31031]", "postfix/cleanup[31105]", "postfix/cleanup[2214]",
           "postfix/cleanup[4391]")
BOUNCE_MX = "mx.bounce.esp.example.net[198.51.100.30]:25"
ESP_SIDE = {"connectivity"}  # written by the ESP's own MTA: mx1 never saw these attempts


class _Log:
    """Lines of mx1 with fresh queue IDs and process IDs."""

    def __init__(self, seed: int, n_esp: int) -> None:
        self.lines = T.Lines()
        self.rng = random.Random(f"bench:{seed}:postfix")
        self.next_qid = n_esp  # the ESP messages own queue-ID numbers 0 .. n_esp - 1

    def add(self, t: int, prog: str, text: str) -> None:
        self.lines.one(t, f" {HOST} {prog}: {text}")

    def pid(self, prog: str) -> str:
        return f"postfix/{prog}[{self.rng.randrange(2000, 32000)}]"

    def qid(self) -> str:
        self.next_qid += 1
        return ids.postfix_qids(np.array([self.next_qid - 1]), 0x0F1)[0]


def _session(log: _Log, t: int, client: str) -> str:
    smtpd = log.pid("smtpd")
    log.add(t - 900, smtpd, f"connect from {client}")
    log.add(t - 850, smtpd, TLS.format(c=client))
    return smtpd


def _reject(log: _Log, t: int, client: str, text: str, tail: str, key: str) -> None:
    """One refused RCPT: connect, (postgrey's line), NOQUEUE reject, disconnect."""
    smtpd = _session(log, t, client)
    if key.startswith("greylist"):
        name, addr = client[:-1].split("[", 1)
        sender = tail.split("from=<", 1)[1].split(">", 1)[0]
        rcpt = tail.split("to=<", 1)[1].split(">", 1)[0]
        log.lines.one(t, f" {HOST} postgrey[1012]: action=greylist, reason=new, client_name="
                      f"{name}, client_address={addr}, sender={sender}, recipient={rcpt}")
    log.add(t, smtpd, f"NOQUEUE: reject: RCPT from {client}: {replies.one_line(text)}; {tail}")
    log.add(t + 40, smtpd, f"disconnect from {client} ehlo=2 starttls=1 mail=1 rcpt=0/1 quit=1 "
            "commands=5/6")


def _accept(log: _Log, t: int, q: str, client: str, mid: str, sender: str, size: int,
            discard: str | None = None) -> None:
    """The session that got the 250: client=, cleanup, qmgr, disconnect."""
    smtpd = _session(log, t, client)
    log.add(t, smtpd, f"{q}: client={client}")
    if discard:
        log.add(t + 1, smtpd, f"{q}: discard: RCPT from {client}: {discard}")
    log.add(t + 5, log.rng.choice(CLEANUP), f"{q}: message-id={mid}")
    if not discard:
        log.add(t + 8, QMGR, f"{q}: from=<{sender}>, size={size}, nrcpt=1 (queue active)")
    log.add(t + 30, smtpd, f"disconnect from {client} ehlo=2 starttls=1 mail=1 rcpt=1 data=1 "
            "quit=1 commands=7")


def _amavis(log: _Log, t: int, q: str, rcpt: str, sender: str, mid: str, size: int) -> str:
    """The content filter hop: amavis re-injects the message under a second queue ID."""
    q2 = log.qid()
    spid = log.pid("smtpd")
    log.add(t + 900, spid, "connect from localhost[127.0.0.1]")
    log.add(t + 910, spid, f"{q2}: client=localhost[127.0.0.1]")
    log.add(t + 915, log.rng.choice(CLEANUP), f"{q2}: message-id={mid}")
    log.add(t + 920, QMGR, f"{q2}: from=<{sender}>, size={size + 1443}, nrcpt=1 (queue active)")
    log.add(t + 930, spid, "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 "
            "quit=1 commands=5")
    log.lines.one(t + 935, f" {HOST} amavis[2281]: ({log.rng.randrange(1000, 99999):05d}-"
                  f"{log.rng.randrange(1, 40):02d}) Passed CLEAN {{RelayedInbound}}, <{sender}> "
                  f"-> <{rcpt}>, Queue-ID: {q}, Message-ID: {mid}, Hits: -1.2, size: {size}, "
                  f"queued_as: {q2}, {log.rng.randrange(600, 2400)} ms")
    log.add(t + 940, log.pid("smtp"), f"{q}: to=<{rcpt}>, relay=127.0.0.1[127.0.0.1]:10024, "
            "delay=1.9, delays=0.05/0.01/0.01/1.8, dsn=2.0.0, status=sent (250 2.0.0 from "
            f"MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {q2})")
    log.add(t + 945, QMGR, f"{q}: removed")
    return q2


def _lmtp(log: _Log, t: int, q: str, rcpt: str, mid: str, status: str = "sent",
          said: str = "") -> None:
    """Delivery to the mailbox server over LMTP (sent, deferred or bounced)."""
    dom = rcpt.split("@", 1)[1]
    relay = f"mbox.{dom}[private/dovecot-lmtp]"
    lpid = log.pid("lmtp")
    if status == "sent":
        guid = f"{log.rng.getrandbits(88):022x}"
        log.add(t, lpid, f"{q}: to=<{rcpt}>, relay={relay}, delay=0.41, delays=0.2/0.01/0.02/"
                f"0.18, dsn=2.0.0, status=sent (250 2.0.0 <{rcpt}> {guid} Saved)")
        log.lines.one(t + 2, f" {HOST} dovecot: lmtp({rcpt})<{lpid[13:-1]}><{guid}>: "
                      f"msgid={mid}: saved mail to INBOX")
        log.add(t + 4, QMGR, f"{q}: removed")
        return
    dsn = replies.enhanced_of(said) or ("4.0.0" if status == "deferred" else "5.0.0")
    log.add(t, lpid, f"{q}: to=<{rcpt}>, relay={relay}, delay=0.17, delays=0.05/0.01/0.03/0.08, "
            f"dsn={dsn}, status={status} (host mbox.{dom}[private/dovecot-lmtp] said: "
            f"{replies.one_line(said)} (in reply to end of DATA command))")


def _esp(w: W.World, log: _Log) -> None:
    """Every campaign message to a domain mx1 serves, as mx1 logged it."""
    js = np.flatnonzero(w.system == W.SYS["postfix"])
    mtas = w.j_mta[js].tolist()
    out = w.j_outcome[js].tolist()
    for k, j in enumerate(js.tolist()):
        rcpt = w.email(j)
        mta, ip = W.ESP_MTAS[mtas[k]]
        client = f"{mta}[{ip}]"
        verp = w.sub_verp[w.j_sub[j]]
        tail = f"from=<{verp}> to=<{rcpt}> proto=ESMTP helo=<{mta}>"
        o = out[k]
        if w.j_tpl[j] >= 0 and o != W.BOUNCE_AFTER:
            tpl = replies.TEMPLATES[w.j_tpl[j]]
            if tpl.category not in ESP_SIDE:
                _reject(log, int(w.j_sent[j]), client, w.j_text[j], tail, tpl.key)
                if o == W.DEFER_EXPIRED:
                    _reject(log, int(w.j_sent[j]) + 1800_000, client, w.j_text2[j], tail, tpl.key)
        if w.j_acc[j] < 0 or o == W.MISSING:
            continue
        _accepted(w, log, j, o, client, tail)


def _accepted(w: W.World, log: _Log, j: int, o: int, client: str, tail: str) -> None:
    t = int(w.j_acc[j])
    q, rcpt, mid = w.j_rid[j], w.email(j), w.j_msgid[j]
    verp, size = w.sub_verp[w.j_sub[j]], int(w.j_size[j]) + 664
    if o == W.DROPPED:
        _accept(log, t, q, client, mid, verp, size, discard=f"<{rcpt}>: Recipient address "
                f"triggers DISCARD action; {tail}")
        return
    _accept(log, t, q, client, mid, verp, size)
    if int(w.j_sub[j]) % 4 == 0:  # a quarter of the mailboxes sit behind amavis
        q = _amavis(log, t, q, rcpt, verp, mid, size)
        t += 1000
    t += 400
    if o == W.BOUNCE_AFTER:
        _lmtp(log, t, q, rcpt, mid, "bounced", w.j_text[j])
        dsn = log.qid()
        log.add(t + 5, log.rng.choice(CLEANUP), f"{dsn}: message-id=<{dsn}.{q}@{HOST}."
                "hosting.example.net>")
        log.add(t + 6, log.pid("bounce"), f"{q}: sender non-delivery notification: {dsn}")
        log.add(t + 8, QMGR, f"{dsn}: from=<>, size={size + 3101}, nrcpt=1 (queue active)")
        log.add(t + 9, QMGR, f"{q}: removed")
        t3 = int(w.j_end[j]) - 500
        log.add(t3, log.pid("smtp"), f"{dsn}: to=<{verp}>, relay={BOUNCE_MX}, delay=0.65, "
                "delays=0.01/0.01/0.33/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as "
                f"4dBk{dsn})")
        log.add(t3 + 2, QMGR, f"{dsn}: removed")
        return
    if o == W.DEFER_AFTER:
        _lmtp(log, t, q, rcpt, mid, "deferred",
              f"451 4.3.0 <{rcpt}> Temporary internal failure; try again later")
        t += log.rng.randrange(600_000, 1800_000)
    _lmtp(log, t, q, rcpt, mid)


def _noise(w: W.World, log: _Log, n_lines: int) -> None:
    """Other traffic until the log holds n_lines lines: inbound, spam probes, outbound, cron."""
    rng = np.random.default_rng(w.seed + 31)
    n = int(n_lines / 6.2) + 20
    hosted = T.people(rng, max(50, min(40_000, n // 20)), W.domains_of("postfix"))
    ext = T.outsiders(rng, max(50, min(8000, n // 60)))
    kinds = rng.choice(4, size=n, p=(.45, .25, .2, .1)).tolist()
    times = T.times_between(rng, n, T.TRACE_START, W.EXPORT_AT).tolist()
    a = rng.integers(0, len(hosted), n).tolist()
    b = rng.integers(0, len(ext), n).tolist()
    ips = rng.integers(2, 250, n).tolist()
    tpl = [replies.TEMPLATES.index(replies.BY_KEY[k]) for k in
           ("pf_relaydenied", "spamhaus", "pf_virtual", "barracuda", "pf_spf", "greylist")]
    far = {kind: [i for i, t in enumerate(replies.TEMPLATES) if "any" in t.systems
                  and t.kind == kind] for kind in ("perm", "temp")}
    picks = rng.integers(0, 1 << 30, n).tolist()
    for i in range(n):
        t, k, p = times[i], kinds[i], picks[i]
        if k == 0:
            _noise_inbound(log, t, hosted[a[i]], ext[b[i]], ips[i], p)
        elif k == 1:
            _noise_probe(log, t, hosted[a[i]], ips[i], replies.TEMPLATES[tpl[p % len(tpl)]])
        elif k == 2:
            kind = "perm" if p % 10 in (7, 8) else "temp"
            _noise_outbound(log, t, hosted[a[i]], ext[b[i]],
                            replies.TEMPLATES[far[kind][p % len(far[kind])]], p)
        else:
            _noise_other(log, t, hosted[a[i]], ips[i], p)


def _noise_inbound(log: _Log, t: int, rcpt: str, sender: str, ip: int, p: int) -> None:
    q = log.qid()
    host = sender.split("@", 1)[1]
    mid = f"<{p:x}.{t}@{host}>"
    _accept(log, t, q, f"mail.{host}[203.0.113.{ip}]", mid, sender, 2000 + p % 90000)
    if p % 10 == 0:
        q = _amavis(log, t, q, rcpt, sender, mid, 2000 + p % 90000)
        t += 1000
    _lmtp(log, t + 300, q, rcpt, mid)


def _noise_probe(log: _Log, t: int, rcpt: str, ip: int, tpl: replies.Template) -> None:
    client = f"unknown[203.0.113.{ip}]"
    log.add(t - 500, "postfix/postscreen[980]", f"CONNECT from [203.0.113.{ip}]:{40000 + ip} to "
            "[192.0.2.25]:25")
    log.add(t - 480, "postfix/postscreen[980]", f"PASS OLD [203.0.113.{ip}]:{40000 + ip}")
    text = tpl.text.format_map({"rcpt": rcpt, "ip": f"203.0.113.{ip}", "domain":
                                rcpt.split("@", 1)[1], "verp": "x@spam.example.net"})
    _reject(log, t, client, text, f"from=<x{ip}@spam.example.net> to=<{rcpt}> proto=SMTP "
            f"helo=<[203.0.113.{ip}]>", tpl.key)


def _noise_outbound(log: _Log, t: int, sender: str, rcpt: str, tpl: replies.Template,
                    p: int) -> None:
    """A user's mail to the Internet: sent, or deferred then sent, or bounced."""
    q = log.qid()
    sub = log.pid("submission/smtpd")
    log.add(t, sub, f"{q}: client=unknown[192.0.2.77], sasl_method=PLAIN, sasl_username={sender}")
    log.add(t + 5, log.rng.choice(CLEANUP), f"{q}: message-id=<{p:x}.{t}@{HOST}.hosting.example.net>")
    log.add(t + 8, QMGR, f"{q}: from=<{sender}>, size={1500 + p % 50000}, nrcpt=1 (queue active)")
    dom = rcpt.split("@", 1)[1]
    relay = f"mx.{dom}[198.51.100.{p % 200 + 40}]:25"
    if p % 10 < 9:  # 70 % sent at once, 20 % bounced, 10 % deferred then sent
        said = "" if p % 10 < 7 else tpl.text.format_map(_far_values(rcpt, p))
        status, dsn = ("sent", "2.0.0") if not said else ("bounced", "5.0.0")
        reply = f"250 2.0.0 Ok: queued as {p % 99999:05X}{dom[:3].upper()}" if not said else \
            f"host {relay[:-3]} said: {replies.one_line(said)} (in reply to RCPT TO command)"
        log.add(t + 700, log.pid("smtp"), f"{q}: to=<{rcpt}>, relay={relay}, delay=0.7, "
                f"delays=0.01/0.01/0.3/0.38, dsn={replies.enhanced_of(said) or dsn}, "
                f"status={status} ({reply})")
        log.add(t + 710, QMGR, f"{q}: removed")
        return
    said = tpl.text.format_map(_far_values(rcpt, p))
    log.add(t + 700, log.pid("smtp"), f"{q}: to=<{rcpt}>, relay={relay}, delay=0.7, "
            f"delays=0.01/0.01/0.3/0.38, dsn={replies.enhanced_of(said) or '4.0.0'}, "
            f"status=deferred (host {relay[:-3]} said: {replies.one_line(said)} (in reply to "
            "RCPT TO command))")
    log.add(t + 900_700, log.pid("smtp"), f"{q}: to=<{rcpt}>, relay={relay}, delay=901, "
            "delays=900/0.01/0.3/0.38, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as "
            f"{p % 99999:05X}{dom[:3].upper()})")
    log.add(t + 900_710, QMGR, f"{q}: removed")


def _far_values(rcpt: str, p: int) -> dict[str, str]:
    local, dom = rcpt.split("@", 1)
    return {"rcpt": rcpt, "local": local, "domain": dom, "ip": "192.0.2.25",
            "mx": f"mx.{dom}", "mxip": f"198.51.100.{p % 200 + 40}", "mta": "mx1.hosting.example.net",
            "sdom": "hosting.example.net", "SDOM": "HOSTING.EXAMPLE.NET", "verp": rcpt}


def _noise_other(log: _Log, t: int, user: str, ip: int, p: int) -> None:
    """Lines of other daemons and Postfix chatter that carry no delivery."""
    k = p % 5
    if k == 0:
        log.lines.one(t, f" {HOST} dovecot: imap-login: Login: user=<{user}>, method=PLAIN, "
                      f"rip=192.0.2.{ip}, lip=192.0.2.25, mpid={p % 30000}, TLS")
    elif k == 1:
        log.lines.one(t, f" {HOST} CRON[{p % 30000}]: (root) CMD (   cd / && run-parts --report "
                      "/etc/cron.hourly)")
    elif k == 2:
        log.add(t, "postfix/anvil[1190]", f"statistics: max connection rate 3/60s for "
                f"(smtp:203.0.113.{ip}) at Nov  4 10:00:17")
    elif k == 3:
        smtpd = log.pid("smtpd")
        log.add(t, smtpd, f"warning: hostname unknown-{ip}.example.net does not resolve to "
                f"address 203.0.113.{ip}: Name or service not known")
        log.add(t + 5, smtpd, f"lost connection after CONNECT from unknown[203.0.113.{ip}]")
    else:
        q = log.qid()
        log.add(t, "postfix/pickup[30990]", f"{q}: uid=0 from=<root>")
        log.add(t + 5, log.rng.choice(CLEANUP), f"{q}: message-id=<{p:x}.{q}@{HOST}>")
        log.add(t + 8, QMGR, f"{q}: from=<root@{HOST}.hosting.example.net>, size=612, nrcpt=1 "
                "(queue active)")
        log.add(t + 60, log.pid("local"), f"{q}: to=<root@{HOST}.hosting.example.net>, "
                "orig_to=<root>, relay=local, delay=0.06, delays=0.04/0.01/0/0.01, dsn=2.0.0, "
                "status=sent (delivered to mailbox)")
        log.add(t + 62, QMGR, f"{q}: removed")


def write_postfix(w: W.World, path: Path, n_lines: int) -> int:
    """/var/log/mail.log of mx1 with exactly n_lines lines (time order, LF)."""
    n_esp = int(np.sum((w.system == W.SYS["postfix"]) & (w.j_acc >= 0)))
    log = _Log(w.seed, n_esp)
    _esp(w, log)
    _noise(w, log, max(0, n_lines - log.lines.count()))
    order, times, _ = log.lines.ordered(n_lines)
    stamps = T.syslog_stamps(times, CET_MS)
    text = log.lines.text
    with open(path, "wb") as fh:
        for lo in range(0, len(order), 200_000):
            part = order[lo:lo + 200_000].tolist()
            fh.write("".join(stamps[lo + i] + text[k] + "\n" for i, k in enumerate(part))
                     .encode("utf-8"))
    return len(order)
