"""Demo trace writer: the Postfix syslog of mx1, the MX of oakridge, pine and quarry.

Layout of ../shared/formats/samples/posix/postfix_syslog.log (posix.md): rsyslog
traditional format, Paris local time without year or zone, LF; other daemons' lines
(postgrey, dovecot, amavis, policyd-spf, CRON) interleaved as on a real host.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .demo_model import BOUNCE_IP, BOUNCE_MX, CET, Msg, Written, hexs, jitter, syslog_stamp
from .demo_noise import noise_for

HOST = "mx1"
TLS = ("Anonymous TLS connection established from {c}: TLSv1.3 with cipher "
       "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA "
       "(P-256) server-digest SHA256")
LMTP = {"oakridge.example.org": "mail.oakridge.example.org[private/dovecot-lmtp]",
        "quarry.example.net": "mail.quarry.example.net[private/dovecot-lmtp]"}
PINE_HUB = ("mailhub.pine.example.org", "192.0.2.41")


class _Log:
    """Collects syslog lines with their times; sorted stably when written."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lines: list[tuple[datetime, int, str]] = []
        self.qmgr = 1188

    def add(self, at: datetime, prog: str, text: str, pid: int | None = None) -> None:
        tag = prog if pid is None else f"{prog}[{pid}]"
        self.lines.append((at.replace(microsecond=0), len(self.lines),
                           f"{syslog_stamp(at)} {HOST} {tag}: {text}"))

    def pid(self) -> int:
        return self.rng.randrange(2000, 32000)

    def qid(self) -> str:
        return hexs(self.rng, 10, upper=True)


def _session(log: _Log, m: Msg, at: datetime) -> tuple[int, str]:
    client = f"{m.mta}[{m.mta_ip}]"
    pid = log.pid()
    log.add(at - timedelta(seconds=1), "postfix/smtpd", f"connect from {client}", pid)
    log.add(at - timedelta(seconds=1), "postfix/smtpd", TLS.format(c=client), pid)
    return pid, client


def _tail(m: Msg) -> str:
    return f"from=<{m.verp}> to=<{m.email}> proto=ESMTP helo=<{m.mta}>"


def _refused(log: _Log, m: Msg) -> None:
    """Every refused attempt: a NOQUEUE reject (postgrey logs the greylisting first)."""
    for a in m.attempts:
        pid, client = _session(log, m, a.at)
        text = a.text
        if a.key == "greylist":
            log.add(a.at, "postgrey", "action=greylist, reason=new, client_name="
                    f"{m.mta}, client_address={m.mta_ip}, sender={m.verp}, recipient={m.email}",
                    1012)
        if a.key == "postfix_spf":
            log.add(a.at, "policyd-spf", f"prepend Received-SPF: Fail (mailfrom) "
                    f"identity=mailfrom; client-ip={m.mta_ip}; helo={m.mta}; "
                    f"envelope-from={m.verp}; receiver=<UNKNOWN>", 2201)
        log.add(a.at, "postfix/smtpd", f"NOQUEUE: reject: RCPT from {client}: {text}; {_tail(m)}",
                pid)
        log.add(a.at, "postfix/smtpd", f"disconnect from {client} ehlo=2 starttls=1 mail=1 "
                "rcpt=0/1 quit=1 commands=5/6", pid)


def _accepted(log: _Log, m: Msg) -> None:
    """The session that got the 250, then the message's way to its mailbox (or elsewhere)."""
    rng = log.rng
    assert m.accepted is not None
    at = m.accepted.at
    q = str(m.extra["qid"])
    pid, client = _session(log, m, at)
    if m.extra.get("defer_key") == "greylist":
        log.add(at, "postgrey", "action=pass, reason=triplet "
                f"found, delay={int((at - m.attempts[0].at).total_seconds())}, client_name="
                f"{m.mta}, client_address={m.mta_ip}, sender={m.verp}, recipient={m.email}", 1012)
    log.add(at, "postfix/smtpd", f"{q}: client={client}", pid)
    cleanup = rng.choice((31031, 31105, 2214))
    if m.scenario == "dropped":  # smtpd check_recipient_access ... DISCARD
        log.add(at, "postfix/smtpd", f"{q}: discard: RCPT from {client}: <{m.email}>: Recipient "
                f"address triggers DISCARD action; {_tail(m)}", pid)
    log.add(at, "postfix/cleanup", f"{q}: message-id={m.message_id}", cleanup)
    if m.scenario != "dropped":
        log.add(at, "postfix/qmgr", f"{q}: from=<{m.verp}>, size={m.size + 664}, nrcpt=1 "
                "(queue active)", log.qmgr)
    log.add(at, "postfix/smtpd", f"disconnect from {client} ehlo=2 starttls=1 mail=1 rcpt=1 "
            "data=1 quit=1 commands=7", pid)
    if m.scenario == "dropped":
        return
    t = at + jitter(rng, 0.2, 0.9)
    if m.domain == "pine.example.org":  # relayed to the internal hub: no further trace
        hub, ip = PINE_HUB
        log.add(t, "postfix/smtp", f"{q}: to=<{m.email}>, relay={hub}[{ip}]:25, delay=0.4, "
                "delays=0.1/0.01/0.12/0.17, dsn=2.0.0, status=sent (250 2.6.0 "
                f"{m.message_id} [InternalId={rng.randrange(10**11, 10**12)}, Hostname=HUB01."
                "pine.example.org] Queued mail for delivery)", log.pid())
        log.add(t, "postfix/qmgr", f"{q}: removed", log.qmgr)
        return
    if m.domain == "quarry.example.net":
        q, t = _amavis(log, m, q, t, cleanup)
    if m.scenario == "bounce_after":
        _bounced(log, m, q, t, cleanup)
        return
    guid = hexs(rng, 22)
    lpid = log.pid()
    log.add(t, "postfix/lmtp", f"{q}: to=<{m.email}>, relay={LMTP[m.domain]}, delay=0.41, "
            f"delays=0.2/0.01/0.02/0.18, dsn=2.0.0, status=sent (250 2.0.0 <{m.email}> {guid} "
            "Saved)", lpid)
    log.add(t, "dovecot", f"lmtp({m.email})<{lpid + 1}><{guid}>: msgid={m.message_id}: saved "
            "mail to INBOX")
    log.add(t, "postfix/qmgr", f"{q}: removed", log.qmgr)


def _amavis(log: _Log, m: Msg, q: str, t: datetime, cleanup: int) -> tuple[str, datetime]:
    """The content-filter hop: amavis re-injects the message under a second queue ID."""
    rng = log.rng
    q2 = log.qid()
    t2 = t + jitter(rng, 1, 2.5)
    spid = log.pid()
    log.add(t2, "postfix/smtpd", "connect from localhost[127.0.0.1]", spid)
    log.add(t2, "postfix/smtpd", f"{q2}: client=localhost[127.0.0.1]", spid)
    log.add(t2, "postfix/cleanup", f"{q2}: message-id={m.message_id}", cleanup)
    log.add(t2, "postfix/qmgr", f"{q2}: from=<{m.verp}>, size={m.size + 1443}, nrcpt=1 "
            "(queue active)", log.qmgr)
    log.add(t2, "postfix/smtpd", "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 "
            "data=1 quit=1 commands=5", spid)
    log.add(t2, "amavis", f"({rng.randrange(1000, 9999):05d}-{rng.randrange(1, 40):02d}) "
            f"Passed CLEAN {{RelayedInbound}}, [{m.mta_ip}]:{rng.randrange(30000, 60000)} "
            f"<{m.verp}> -> <{m.email}>, Queue-ID: {q}, Message-ID: {m.message_id}, "
            f"mail_id: {hexs(rng, 12)}, Hits: -{rng.randrange(1, 30) / 10:.1f}, size: "
            f"{m.size + 664}, queued_as: {q2}, {rng.randrange(600, 2400)} ms", 2281)
    log.add(t2, "postfix/smtp", f"{q}: to=<{m.email}>, relay=127.0.0.1[127.0.0.1]:10024, "
            "delay=1.9, delays=0.05/0.01/0.01/1.8, dsn=2.0.0, status=sent (250 2.0.0 from "
            f"MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {q2})", log.pid())
    log.add(t2, "postfix/qmgr", f"{q}: removed", log.qmgr)
    return q2, t2 + jitter(rng, 0.1, 0.3)


def _bounced(log: _Log, m: Msg, q: str, t: datetime, cleanup: int) -> None:
    """Dovecot refuses the delivery; Postfix bounces and sends the DSN to the ESP."""
    assert m.later_bounce is not None
    relay = LMTP[m.domain]
    log.add(t, "postfix/lmtp", f"{q}: to=<{m.email}>, relay={relay}, delay=0.17, "
            "delays=0.05/0.01/0.03/0.08, dsn=5.2.2, status=bounced (host "
            f"{relay.split('[')[0]}[private/dovecot-lmtp] said: {m.later_bounce.text} (in reply "
            "to end of DATA command))", log.pid())
    dsn = log.qid()
    stamp = t.astimezone(CET).strftime("%Y%m%d%H%M%S")
    log.add(t, "postfix/cleanup", f"{dsn}: message-id=<{stamp}.{dsn}@mx1.{m.domain}>", cleanup)
    log.add(t, "postfix/bounce", f"{q}: sender non-delivery notification: {dsn}", 2245)
    log.add(t, "postfix/qmgr", f"{dsn}: from=<>, size={m.size + 3101}, nrcpt=1 (queue active)",
            log.qmgr)
    log.add(t, "postfix/qmgr", f"{q}: removed", log.qmgr)
    t3 = m.later_bounce.at - jitter(log.rng, 0.2, 0.8)
    log.add(t3, "postfix/smtp", f"{dsn}: to=<{m.verp}>, relay={BOUNCE_MX}[{BOUNCE_IP}]:25, "
            "delay=0.65, delays=0.01/0.01/0.33/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: "
            f"queued as 4dBk{hexs(log.rng, 11)})", log.pid())
    log.add(t3, "postfix/qmgr", f"{dsn}: removed", log.qmgr)


def _housekeeping(log: _Log, start: datetime, end: datetime) -> None:
    """CRON and logrotate lines of the host: not mail, must be skipped by a parser."""
    t = start.replace(minute=17, second=1)
    while t < end:
        log.add(t, "CRON", "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)",
                log.pid())
        if t.astimezone(CET).hour == 0:
            log.add(t, "systemd", "Starting logrotate.service - Rotate log files...", 1)
        t += timedelta(hours=1)


def _noise(log: _Log, everyone: list[Msg]) -> int:
    rng = log.rng
    notes = [n for d in ("oakridge.example.org", "quarry.example.net")
             for n in noise_for(d, everyone, rng, 10)]
    for n in notes:
        q = log.qid()
        cpid = 31031
        if n.kind == "outbound":  # submission from a user, relayed to the Internet
            log.add(n.at, "postfix/submission/smtpd", f"{q}: client=unknown[192.0.2.77], "
                    f"sasl_method=PLAIN, sasl_username={n.sender}", log.pid())
            log.add(n.at, "postfix/cleanup", f"{q}: message-id={n.message_id}", cpid)
            log.add(n.at, "postfix/qmgr", f"{q}: from=<{n.sender}>, size={n.size}, nrcpt=1 "
                    "(queue active)", log.qmgr)
            dom = n.recipient.split("@")[1]
            log.add(n.at + timedelta(seconds=1), "postfix/smtp", f"{q}: to=<{n.recipient}>, "
                    f"relay=mx.{dom}[203.0.113.60]:25, delay=0.9, delays=0.1/0.01/0.3/0.5, "
                    f"dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {log.qid()})", log.pid())
        else:
            src = ("localhost[127.0.0.1]" if n.kind == "internal" else
                   f"mta4.esp.example.net[{n.ip}]" if n.ip else "unknown[203.0.113.77]")
            log.add(n.at, "postfix/smtpd", f"{q}: client={src}", log.pid())
            log.add(n.at, "postfix/cleanup", f"{q}: message-id={n.message_id}", cpid)
            log.add(n.at, "postfix/qmgr", f"{q}: from=<{n.sender}>, size={n.size}, nrcpt=1 "
                    "(queue active)", log.qmgr)
            relay = LMTP[n.recipient.split("@")[1]]
            log.add(n.at + timedelta(seconds=1), "postfix/lmtp", f"{q}: to=<{n.recipient}>, "
                    f"relay={relay}, delay=0.3, delays=0.1/0.01/0.02/0.17, dsn=2.0.0, status=sent "
                    f"(250 2.0.0 <{n.recipient}> {hexs(rng, 22)} Saved)", log.pid())
        log.add(n.at + timedelta(seconds=1), "postfix/qmgr", f"{q}: removed", log.qmgr)
    for i in range(4):  # probes of a spammer: relay denied, no queue ID
        at = notes[i].at + timedelta(minutes=11)
        pid = log.pid()
        client = f"unknown[203.0.113.{77 + i}]"
        log.add(at, "postfix/smtpd", f"connect from {client}", pid)
        log.add(at, "postfix/smtpd", f"NOQUEUE: reject: RCPT from {client}: 554 5.7.1 "
                f"<spamtrap{i}@oakridge.example.org>: Relay access denied; from=<x@unknown."
                f"example.net> to=<spamtrap{i}@oakridge.example.org> proto=SMTP helo=<192.0.2.99>",
                pid)
        log.add(at, "postfix/smtpd", f"disconnect from {client} helo=1 mail=1 rcpt=0/1 quit=1 "
                "commands=3/4", pid)
    return len(notes) + 4


def syslog(msgs: list[Msg], everyone: list[Msg], seed: int) -> Written:
    """/var/log/mail.log of mx1 from 3 November 06:00 to 6 November 17:00 (Paris time)."""
    rng = random.Random(f"demo:{seed}:postfix")
    log = _Log(rng)
    start = datetime(2025, 11, 3, 6, 0, tzinfo=CET)
    end = datetime(2025, 11, 6, 17, 0, tzinfo=CET)
    log.add(start + timedelta(minutes=25), "postfix/postfix-script", "refreshing the Postfix "
            "mail system", 901)
    for m in msgs:
        if m.attempts:
            _refused(log, m)
        if m.accepted and m.scenario != "missing":  # "missing": accepted by mx2, not in this log
            _accepted(log, m)
    _housekeeping(log, start, end)
    unmatched = _noise(log, everyone)
    lines = [text for at, _, text in sorted(log.lines) if at < end]
    return Written("mx1_mail.log", ("\n".join(lines) + "\n").encode(), len(lines), "postfix",
                   ("oakridge.example.org", "pine.example.org", "quarry.example.net"), unmatched)
