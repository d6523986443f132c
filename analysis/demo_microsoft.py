"""Demo trace writers for Microsoft systems: Exchange Online reports and Exchange MSGTRK logs.

Layouts copy ../shared/formats/samples/office365/ and samples/exchange/ byte for byte in
structure (office365.md, exchange_onprem.md): header, quoting, encoding, line ends.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .demo_model import (
    BOUNCE_IP,
    BOUNCE_MX,
    ESP_MTA,
    FROM_ADDR,
    Msg,
    Noise,
    Written,
    csv_line,
    guid,
    hexs,
    iso_ms,
    jitter,
    us_date,
)
from .demo_noise import noise_for, status_of

EXT_COLS = ("date_time_utc,client_ip,client_hostname,server_ip,server_hostname,source_context,"
            "connector_id,source,event_id,internal_message_id,message_id,network_message_id,"
            "recipient_address,recipient_status,total_bytes,recipient_count,"
            "related_recipient_address,reference,message_subject,sender_address,return_path,"
            "message_info,directionality,tenant_id,original_client_ip,original_server_ip,"
            "custom_data").split(",")
V1_COLS = ("PSComputerName,RunspaceId,PSShowComputerName,Organization,MessageId,Received,"
           "SenderAddress,RecipientAddress,Subject,Status,ToIP,FromIP,Size,MessageTraceId,"
           "StartDate,EndDate,Index").split(",")
TRK_FIELDS = ("date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,"
              "connector-id,source,event-id,internal-message-id,message-id,network-message-id,"
              "recipient-address,recipient-status,total-bytes,recipient-count,"
              "related-recipient-address,reference,message-subject,sender-address,return-path,"
              "message-info,directionality,tenant-id,original-client-ip,original-server-ip,"
              "custom-data,transport-traffic-type,log-id,schema-version")
ALPINE_TENANT = "0c8e5a7d-3f21-4b9e-a6d4-9e2f71c05b38"
FOREST = "S:DeliveryPriority=Normal;S:AccountForest=EURPRD05.PROD.OUTLOOK.COM"
EXO_NDR_FROM = "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@alpineexample.onmicrosoft.com"
EXCH_NDR_FROM = "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@fabrikam.example.net"
EXCH_IP, EXCH_BUILD = "192.0.2.10", "15.02.1544.009"


def _sfa(m_ip: str, host: str, junk: bool, quarantine: bool = False) -> str:
    verdict = ("SFV=SPM|IPV=NLI|SRV=BULK|SFS=1295|SCL=6|SCORE=-1|LIST=0|DI=SJ" if junk else
               "SFV=SPM|IPV=NLI|SFS=1295;1370|SCL=9|SCORE=-1|LIST=0|DI=SQ" if quarantine else
               "SFV=NSPM|IPV=NLI|SFS=|SCL=1|SCORE=-1|LIST=0")
    return (f"S:SFA=SUM|{verdict}|RD={host}|H={host}|CIP={m_ip}|SFP=1501|ASF=1|CTRY=ZA|"
            "CLTCTRY=|LANG=en|LAT=0|LAT=0|LAT=0;")


def _utf16(lines: list[str]) -> bytes:
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-16-le")


def _ext_message(add, m: Msg, rng: random.Random) -> None:
    """RECEIVE, AGENTINFO (spam verdict) and DELIVER, or FAIL + the NDR, of one message."""
    assert m.accepted is not None
    host = str(m.extra["host"])
    pod = host.split(".")[0]
    iid = int(str(m.extra["internal_id"]))
    common = {"message_id": m.message_id, "network_message_id": guid(rng, m.sent),
              "recipient_address": m.email, "recipient_count": "1",
              "message_subject": m.subject, "sender_address": m.verp, "return_path": m.verp,
              "directionality": "1", "tenant_id": ALPINE_TENANT, "server_hostname": host}
    t0 = m.accepted.at - jitter(rng, 0.05, 0.3)
    add(t0, **common, client_ip=m.mta_ip, client_hostname=m.mta,
        source_context=f"{hexs(rng, 16, True)};{iso_ms(t0 - timedelta(seconds=0.18))};0",
        connector_id=f"{pod}\\Default {pod}", source="SMTP", event_id="RECEIVE",
        internal_message_id=str(iid), recipient_status="250 2.1.5 Recipient OK",
        total_bytes=str(m.size), original_client_ip=m.mta_ip,
        custom_data="S:FromEntity=Internet;" + FOREST)
    t1 = t0 + jitter(rng, 0.2, 0.4)
    add(t1, **common, source_context="Protocol Filter Agent", source="AGENT",
        event_id="AGENTINFO", internal_message_id=str(iid), total_bytes=str(m.size),
        original_client_ip=m.mta_ip, custom_data=_sfa(m.mta_ip, m.mta, m.scenario == "junk"))
    t2 = t1 + jitter(rng, 0.3, 0.8)
    last = {"internal_message_id": str(iid + rng.randrange(3, 30)),
            "total_bytes": str(m.size + 2480), "message_info": iso_ms(t0), "custom_data": FOREST}
    if not (m.scenario == "bounce_after" and m.later_bounce):
        add(t2, **common, **last, source="STOREDRIVER", event_id="DELIVER")
        return
    ndr = f"<{hexs(rng, 32)}@{host}>"
    add(t2, **common, **last, source="STOREDRIVER", event_id="FAIL",
        recipient_status=m.later_bounce.text, reference=ndr)
    t3 = t2 + jitter(rng, 0.05, 0.2)
    dsn = {"message_id": ndr, "network_message_id": guid(rng, m.sent),
           "recipient_address": m.verp, "recipient_count": "1",
           "message_subject": "Undeliverable: " + m.subject, "sender_address": EXO_NDR_FROM,
           "return_path": "<>", "directionality": "2", "tenant_id": ALPINE_TENANT,
           "internal_message_id": str(iid + rng.randrange(40, 90)),
           "total_bytes": str(m.size + 6300)}
    add(t3, **dsn, server_hostname=host, source="DSN", event_id="DSN", reference=m.message_id,
        custom_data=FOREST)
    add(m.later_bounce.at - jitter(rng, 0.2, 0.9), **dsn, client_hostname=host,
        server_ip=BOUNCE_IP, server_hostname=BOUNCE_MX,
        source_context=f"{hexs(rng, 16, True)};250 2.0.0 Ok: queued as 4dBk{hexs(rng, 11)};"
                       "ClientSubmitTime:",
        source="SMTP", event_id="SENDEXTERNAL", recipient_status="250 2.1.5 Ok",
        message_info=iso_ms(t3), custom_data="S:ToEntity=Internet;" + FOREST)


def exo_extended(msgs: list[Msg], everyone: list[Msg], seed: int) -> Written:
    """Historical search extended report (MessageTraceDetail) of tenant alpine."""
    rng = random.Random(f"demo:{seed}:exo_extended")
    rows: list[tuple[datetime, int, dict[str, str]]] = []

    def add(at: datetime, **values: str) -> None:
        values["date_time_utc"] = iso_ms(at)
        rows.append((at, len(rows), {c: values.get(c, "") for c in EXT_COLS}))

    for m in msgs:
        if m.accepted and m.scenario != "missing":  # "missing": no row, though alpine traced it
            _ext_message(add, m, rng)
    noise = noise_for("alpine.example.org", everyone, rng, 26)
    for n in noise:
        _ext_noise(add, n, rng)
    rows.sort(key=lambda r: (r[0], r[1]))
    lines = [csv_line(EXT_COLS)] + [csv_line([r[c] for c in EXT_COLS]) for _, _, r in rows]
    return Written("alpine_MTDetail_historical_search_20251104.csv", _utf16(lines), len(rows),
                   "exo_extended", ("alpine.example.org",), len(noise))


def _ext_noise(add, n: Noise, rng: random.Random) -> None:
    """Rows of other mail in the alpine tenant (internal, other senders, spam, a test send)."""
    host = "AM9PR05MB8421.eurprd05.prod.outlook.com"
    iid = rng.randrange(13915694300000, 13915694399999)
    common = {"message_id": n.message_id, "network_message_id": guid(rng, n.at),
              "recipient_address": n.recipient, "recipient_count": "1",
              "message_subject": n.subject, "sender_address": n.sender,
              "return_path": n.sender, "tenant_id": ALPINE_TENANT, "server_hostname": host,
              "total_bytes": str(n.size), "internal_message_id": str(iid)}
    if n.kind in ("internal", "outbound"):
        ctx = (f"MDB:{guid(rng)}, Mailbox:{guid(rng)}, Event:{rng.randrange(10**7, 10**8)}, "
               f"MessageClass:IPM.Note, CreationTime:{iso_ms(n.at)}, ClientType:OWA")
        for ev, dt in (("RECEIVE", 0.0), ("SUBMIT", 0.09)):
            at = n.at + timedelta(seconds=dt)
            add(at, **common, source_context=ctx, source="STOREDRIVER",
                event_id=ev, directionality="2")
        if n.kind == "outbound":
            at = n.at + timedelta(seconds=0.9)
            add(at, **common, server_ip="203.0.113.60",
                source_context=f"{hexs(rng, 16, True)};250 2.0.0 OK;ClientSubmitTime:",
                source="SMTP", event_id="SENDEXTERNAL", recipient_status="250 2.1.5 Ok",
                message_info=iso_ms(n.at), directionality="2",
                custom_data="S:ToEntity=Internet;" + FOREST)
            return
    else:
        ip = n.ip or f"203.0.113.{rng.randrange(100, 250)}"
        add(n.at, **common, client_ip=ip,
            client_hostname=ESP_MTA if n.ip else n.sender.split("@")[1], source="SMTP",
            event_id="RECEIVE",
            source_context=f"{hexs(rng, 16, True)};{iso_ms(n.at)};0",
            connector_id="AM9PR05MB8421\\Default AM9PR05MB8421",
            recipient_status="250 2.1.5 Recipient OK", directionality="1",
            original_client_ip=ip, custom_data="S:FromEntity=Internet;" + FOREST)
        at = n.at + timedelta(seconds=0.31)
        add(at, **common, source_context="Protocol Filter Agent",
            source="AGENT", event_id="AGENTINFO", directionality="1", original_client_ip=ip,
            custom_data=_sfa(ip, n.sender.split("@")[1], False, n.kind == "spam"))
        if n.kind == "spam":
            return
    at = n.at + timedelta(seconds=0.6)
    add(at, **common | {"internal_message_id": str(iid + 19)},
        source="STOREDRIVER", event_id="DELIVER", message_info=iso_ms(n.at),
        directionality="2" if n.kind == "internal" else "1", custom_data=FOREST)


def exo_eac(msgs: list[Msg], everyone: list[Msg], seed: int) -> Written:
    """New-EAC 'Export results' of tenant harbor: five columns, newest first, no Message-ID."""
    rng = random.Random(f"demo:{seed}:exo_eac")
    status = {"quarantined": "Quarantined", "pending": "Pending", "bounce_after": "Failed"}
    rows = [(m.accepted.at, m.verp, m.email, m.subject, status.get(m.scenario, "Delivered"))
            for m in msgs if m.accepted and m.scenario != "missing"]
    noise = noise_for("harbor.example.org", everyone, rng, 22)
    for n, st in zip(noise, status_of("eac", noise), strict=True):
        rows.append((n.at, n.sender, n.recipient, n.subject, st))
    rows.sort(key=lambda r: r[0], reverse=True)
    lines = [csv_line(["Date", "Sender", "Recipient", "Subject", "Status"])]
    lines += [csv_line([us_date(r[0]), *r[1:]]) for r in rows]
    data = b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode()
    return Written("harbor_eac_message_trace_export.csv", data, len(rows), "exo_eac",
                   ("harbor.example.org",), len(noise))


def exo_v1(msgs: list[Msg], everyone: list[Msg], seed: int) -> Written:
    """Get-MessageTrace | Export-Csv of tenant cedar, run two minutes after its last send."""
    rng = random.Random(f"demo:{seed}:exo_v1")
    accepted = [m for m in msgs if m.accepted and m.scenario != "missing"]
    run = max(m.accepted.at for m in accepted) + timedelta(seconds=100)  # type: ignore[union-attr]
    run = run.replace(microsecond=0)
    start = run - timedelta(hours=48)
    status = {"quarantined": "Quarantined", "pending": "Pending",
              "getting_status": "GettingStatus"}
    rows = [(m.accepted.at, m.message_id, m.verp, m.email, m.subject,  # type: ignore[union-attr]
             status.get(m.scenario, "Delivered"), "", m.mta_ip, m.size) for m in accepted]
    noise = noise_for("cedar.example.com", everyone, rng, 14, until=run)
    for n, st in zip(noise, status_of("v1", noise), strict=True):
        out_ip = "203.0.113.250" if n.kind == "outbound" else ""
        in_ip = n.ip or ("203.0.113.150" if n.kind in ("inbound", "spam") else "")
        rows.append((n.at, n.message_id, n.sender, n.recipient, n.subject, st, out_ip, in_ip,
                     n.size))
    rows.sort(key=lambda r: r[0], reverse=True)
    runspace = guid(rng)
    lines = [csv_line(V1_COLS)]
    for i, (at, mid, snd, rcpt, subj, st, to_ip, from_ip, size) in enumerate(rows):
        lines.append(csv_line([
            "outlook.office365.com", runspace, "False", "cedarexample.onmicrosoft.com", mid,
            us_date(at), snd, rcpt, subj, st, to_ip, from_ip, size, guid(rng, at),
            us_date(start), us_date(run), i]))
    text = "\r\n".join(lines) + "\r\n"
    data = text.encode("ascii", "replace")  # Windows PowerShell 5.1 Export-Csv: ASCII, '?'
    return Written("cedar_get-messagetrace_export.csv", data, len(rows), "exo_v1",
                   ("cedar.example.com",), len(noise))


TRK_FOREST = "S:DeliveryPriority=Normal;S:AccountForest=fabrikam.example.net"
DISCLAIMER_RULE = "6d1e9c22-5a4b-4f0e-9d7c-3b2a1f0e8d6c"
DROP_RULE = "b2f0c4d1-7e3a-4c59-8a61-0f9e2d7c3b48"  # "Delete bulk mail to shared mailboxes"
TRK_LATENCY = ("SRV=EXCH01.fabrikam.example.net:TOTAL-HUB=0.301|SMR=0.081|CAT=0.116|QDM=0.010|"
               "SMS=0.088;SRV=EXCH01.fabrikam.example.net:TOTAL-DEL=0.142|SMR=0.138|SDD=0.040|"
               "SMRD=0.002")


class _Trk:
    """Rows of the transport (MSGTRK) and mailbox delivery (MSGTRKMD) logs of EXCH01."""

    names = TRK_FIELDS.split(",")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.trk: list[tuple[datetime, int, dict[str, str]]] = []
        self.md: list[tuple[datetime, int, dict[str, str]]] = []

    def add(self, into: list, at: datetime, base: dict[str, str], more: dict[str, str]) -> None:
        values = {"transport-traffic-type": "Email", "log-id": guid(self.rng),
                  "schema-version": EXCH_BUILD, "date-time": iso_ms(at)} | base | more
        into.append((at, len(into), {c: values.get(c, "") for c in self.names}))

    def receive(self, at: datetime, c: dict[str, str], ip: str, host: str, size: int) -> None:
        """RECEIVE from the Internet on the front end."""
        self.add(self.trk, at, c, {
            "client-ip": ip, "client-hostname": host, "server-ip": EXCH_IP,
            "source-context": f"{hexs(self.rng, 16, True)};"
                              f"{iso_ms(at - timedelta(seconds=0.15))};0",
            "connector-id": "EXCH01\\Default Frontend EXCH01", "source": "SMTP",
            "event-id": "RECEIVE", "total-bytes": str(size), "message-info": "0cI: ",
            "original-client-ip": ip, "original-server-ip": EXCH_IP,
            "custom-data": "S:ProxyHop1=EXCH01.fabrikam.example.net(192.0.2.10);"
                           "S:FirstForestHop=EXCH01.fabrikam.example.net;S:FromEntity=Internet;"
                           + TRK_FOREST})

    def deliver(self, at: datetime, c: dict[str, str], size: int, origin: datetime) -> None:
        """DELIVER to a mailbox (mailbox transport delivery log)."""
        ctx = (f"MDB:3e7a0c51-9b2d-4f86-a1c3-5d0e7b9f2a64, Mailbox:{guid(self.rng)}, "
               f"Event:{self.rng.randrange(18800000, 18900000)}, MessageClass:IPM.Note, "
               f"CreationTime:{iso_ms(at - timedelta(seconds=0.02))}, ClientType:User, "
               "SubmissionAssistant:MailboxTransportSubmissionEmailAssistant")
        self.add(self.md, at, c, {
            "server-ip": EXCH_IP, "source-context": ctx, "source": "STOREDRIVER",
            "event-id": "DELIVER", "total-bytes": str(size),
            "message-info": f"{iso_ms(origin)};{TRK_LATENCY}",
            "custom-data": "S:Mailboxes=3e7a0c51-9b2d-4f86-a1c3-5d0e7b9f2a64;S:E2ELatency=0.447;"
                           "S:DeliveryLatencyPreContentConversion=0.445;"
                           "S:AccountForest=fabrikam.example.net"})

    def send_external(self, at: datetime, c: dict[str, str], ip: str, host: str,
                      more: dict[str, str]) -> None:
        """SENDEXTERNAL through the Internet send connector."""
        self.add(self.trk, at, c, {
            "client-ip": EXCH_IP, "client-hostname": "EXCH01", "server-ip": ip,
            "server-hostname": host, "connector-id": "Internet Send Connector", "source": "SMTP",
            "event-id": "SENDEXTERNAL", "recipient-status": "250 2.1.5 Ok",
            "custom-data": "S:ToEntity=Internet;S:IsSmtpResponseFromExternalServer=True;"
                           + TRK_FOREST} | more)

    def message(self, m: Msg) -> None:
        """One campaign message: RECEIVE, AGENTINFO, then SEND+DELIVER, FAIL+DSN or DROP."""
        rng = self.rng
        assert m.accepted is not None
        iid = int(str(m.extra["internal_id"]))
        c = {"server-hostname": "EXCH01", "internal-message-id": str(iid),
             "message-id": m.message_id, "network-message-id": guid(rng),
             "recipient-address": m.email, "recipient-count": "1", "message-subject": m.subject,
             "sender-address": FROM_ADDR, "return-path": m.verp, "directionality": "Incoming"}
        t0 = m.accepted.at - jitter(rng, 0.05, 0.25)
        self.receive(t0, c, m.mta_ip, m.mta, m.size)
        t1 = t0 + jitter(rng, 0.01, 0.03)
        rule, action = ((DROP_RULE, "DeleteMessage") if m.scenario == "dropped" else
                        (DISCLAIMER_RULE, "ApplyHtmlDisclaimer"))
        tra = (f"S:TRA=ETR|ruleId={rule}|st={us_date(t1)}|action={action}|sev=1|mode=Enforce")
        big = {"total-bytes": str(m.size + 1296)}
        self.add(self.trk, t1, c | big, {"source-context": "Transport Rule Agent",
                                         "source": "AGENT", "event-id": "AGENTINFO",
                                         "custom-data": "S:AMA=SUM|v=1|action=|error=|atch=0;"
                                                        + tra})
        t2 = t1 + jitter(rng, 0.1, 0.3)
        if m.scenario == "dropped":
            self.add(self.trk, t2, c | big, {"source-context": "Transport Rule Agent",
                                             "source": "AGENT", "event-id": "DROP",
                                             "message-info": iso_ms(t0), "custom-data": tra})
        elif m.scenario == "bounce_after" and m.later_bounce:
            self.ndr(m, c | big, t0, t2)
        else:
            self.add(self.trk, t2, c | big, {
                "client-ip": EXCH_IP, "client-hostname": "EXCH01", "server-ip": EXCH_IP,
                "server-hostname": "EXCH01.fabrikam.example.net",
                "source-context": f"{hexs(rng, 16, True)};250 2.0.0 OK;ClientSubmitTime:",
                "connector-id": "Intra-Organization SMTP Send Connector", "source": "SMTP",
                "event-id": "SEND", "recipient-status": "250 2.1.5 Recipient OK",
                "message-info": iso_ms(t0),
                "custom-data": "S:IsSmtpResponseFromExternalServer=False;" + TRK_FOREST})
            self.deliver(t2 + jitter(rng, 0.1, 0.2), c | {"internal-message-id": str(iid + 1)},
                         m.size + 2701, t0)

    def ndr(self, m: Msg, c: dict[str, str], t0: datetime, t2: datetime) -> None:
        """FAIL in routing, the DSN it creates, and the NDR's trip back to the ESP."""
        rng = self.rng
        assert m.later_bounce is not None
        ndr = f"<{hexs(rng, 32)}@EXCH01.fabrikam.example.net>"
        self.add(self.trk, t2, c, {"source": "ROUTING", "event-id": "FAIL",
                                   "recipient-status": m.later_bounce.text, "reference": ndr,
                                   "message-info": iso_ms(t0), "custom-data": TRK_FOREST})
        d = {"server-hostname": "EXCH01", "internal-message-id": str(int(c["internal-message-id"])
                                                                       + 12),
             "message-id": ndr, "network-message-id": guid(rng), "recipient-address": m.verp,
             "recipient-count": "1", "message-subject": "Undeliverable: " + m.subject,
             "sender-address": EXCH_NDR_FROM, "return-path": "<>",
             "directionality": "Originating", "total-bytes": str(m.size + 5654)}
        t3 = t2 + jitter(rng, 0.05, 0.1)
        self.add(self.trk, t3, d, {"source": "DSN", "event-id": "DSN", "reference": m.message_id,
                                   "custom-data": TRK_FOREST})
        self.send_external(m.later_bounce.at - jitter(rng, 0.3, 1), d, BOUNCE_IP, BOUNCE_MX, {
            "source-context": f"{hexs(rng, 16, True)};250 2.0.0 Ok: queued as "
                              f"4dBk{hexs(rng, 11)};ClientSubmitTime:",
            "message-info": iso_ms(t3)})

    def noise(self, n: Noise) -> None:
        """Other mail of the day: outbound via the Internet connector, inbound to mailboxes."""
        rng = self.rng
        c = {"server-hostname": "EXCH01",
             "internal-message-id": str(rng.randrange(3083786510000, 3083786518000)),
             "message-id": n.message_id, "network-message-id": guid(rng),
             "recipient-address": n.recipient, "recipient-count": "1",
             "message-subject": n.subject, "sender-address": n.sender, "return-path": n.sender,
             "directionality": "Incoming", "total-bytes": str(n.size)}
        if n.kind == "outbound":
            self.send_external(n.at, c | {"directionality": "Originating"}, "203.0.113.60",
                               n.recipient.split("@")[1], {
                                   "source-context": f"{hexs(rng, 16, True)};250 2.0.0 OK;"
                                                     "ClientSubmitTime:"})
            return
        t0 = n.at - timedelta(seconds=0.5)
        if n.kind != "internal":  # internal submissions are logged in MSGTRKMS (not exported)
            ip = n.ip or f"203.0.113.{rng.randrange(100, 250)}"
            self.receive(t0, c, ip, ESP_MTA if n.ip else n.sender.split("@")[1], n.size)
        self.deliver(n.at, c, n.size, t0)


def msgtrk(msgs: list[Msg], everyone: list[Msg], seed: int) -> list[Written]:
    """Exchange 2019 MSGTRK (transport) and MSGTRKMD (mailbox delivery) logs of fabrikam."""
    log = _Trk(random.Random(f"demo:{seed}:msgtrk"))
    for m in msgs:
        if m.accepted and m.scenario != "missing":  # "missing": accepted by EXCH02, not here
            log.message(m)
    noise = noise_for("fabrikam.example.net", everyone, log.rng, 16, day_only=True)
    for n in noise:
        log.noise(n)
    out = []
    for name, rows, created, key in (("MSGTRK20251104-1.LOG", log.trk, "00:00:01.088", "msgtrk"),
                                     ("MSGTRKMD20251104-1.LOG", log.md, "00:00:02.311",
                                      "msgtrk_md")):
        rows.sort(key=lambda r: (r[0], r[1]))
        header = ["#Software: Microsoft Exchange Server", f"#Version: {EXCH_BUILD}",
                  "#Log-type: Message Tracking Log", f"#Date: 2025-11-04T{created}Z",
                  f"#Fields: {TRK_FIELDS}"]
        lines = header + [csv_line([r[c] for c in _Trk.names], quote_all=False)
                          for _, _, r in rows]
        data = b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode()
        out.append(Written(name, data, len(rows), key, ("fabrikam.example.net",),
                           len(noise) if key == "msgtrk" else 0))
    return out
