"""Demo trace writers for Google Workspace: Email Log Search export and BigQuery Gmail logs.

Layouts copy ../shared/formats/samples/google/ (google_workspace.md): the ELS CSV (UTF-8,
no BOM, LF, Message ID without <>) and legacy daily_ table rows as newline-delimited JSON.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from .demo_model import (
    FROM_ADDR,
    FROM_NAME,
    SENDER_DOMAIN,
    Attempt,
    Msg,
    Written,
    csv_line,
    iso_ms,
    jitter,
)
from .demo_noise import noise_for

ELS_HEADER = ("Message ID,Start date,End date,Sender,Message size,Subject,Direction,"
              "Attachments,Recipient address,Event target")


def els(msgs: list[Msg], everyone: list[Msg], seed: int) -> Written:
    """Email Log Search export for maplegrove: SMTP_IN then GMAIL_INBOX / GMAIL_SPAM."""
    rng = random.Random(f"demo:{seed}:google_els")
    rows: list[tuple[datetime, list[object]]] = []
    for m in msgs:
        if not m.accepted:
            continue  # refused sessions never reach the ELS export
        mid = m.message_id.strip("<>")
        t0 = m.accepted.at - jitter(rng, 0.3, 0.5)
        t1 = m.accepted.at
        t2 = t1 + jitter(rng, 0.35, 0.45)
        target = "GMAIL_SPAM" if m.scenario == "junk" else "GMAIL_INBOX"
        for start, end, size, tgt in ((t0, t1, m.size, "SMTP_IN"),
                                      (t1, t2, m.size + 1734, target)):
            rows.append((start, [mid, iso_ms(start), iso_ms(end), m.verp, size, m.subject,
                                 "Received", 0, m.email, tgt]))
    noise = noise_for("maplegrove.example.com", everyone, rng, 18)
    for i, n in enumerate(noise):
        end = n.at + jitter(rng, 0.3, 0.9)
        mid = n.message_id.strip("<>")
        if n.kind == "outbound":
            rows.append((n.at, [mid, iso_ms(n.at), iso_ms(end), n.sender, n.size, n.subject,
                                "Sent", rng.randrange(0, 2), n.recipient, "SMTP_OUT"]))
        elif n.kind == "internal":
            rows.append((n.at, [mid, iso_ms(n.at), iso_ms(end), n.sender, n.size, n.subject,
                                "Mixed", 0, n.recipient, "GMAIL_INBOX"]))
        else:
            target = "GMAIL_SPAM" if n.kind == "spam" else "GMAIL_INBOX"
            rows.append((n.at, [mid, iso_ms(n.at), iso_ms(end), n.sender, n.size, n.subject,
                                "Received", 0, n.recipient, "SMTP_IN"]))
            rows.append((end, [mid, iso_ms(end), iso_ms(end + timedelta(seconds=0.4)), n.sender,
                               n.size + 1700, n.subject, "Received", 0, n.recipient, target]))
        if i == 5:  # a relay session Google rejected before it knew the message
            at = n.at + timedelta(minutes=7)
            rows.append((at, [f"{hex(int(at.timestamp()))[2:]}.050a0220.1f2b3.8c1d."
                              "SMTPIN_ADDED_REJECT_SESSION.5e7a.ffffd72a.GMR@mx.google.com",
                              iso_ms(at), iso_ms(at), "N/A", "N/A", "N/A", "Sent", "N/A", "N/A",
                              "SMTP_OUT"]))
    rows.sort(key=lambda r: r[0])
    lines = [ELS_HEADER] + [csv_line(r, quote_all=False) for _, r in rows]
    return Written("maplegrove_email_log_search_export.csv", ("\n".join(lines) + "\n").encode(),
                   len(rows), "google_els", ("maplegrove.example.com",), len(noise) + 1)


def _record(at: datetime, *, action: int, success: bool, mid: str, subject: str, size: int,
            source: str, rcpt: str, code: int | None, response: str | None, client_ip: str,
            spam: bool, dmarc: bool, description: str | None) -> dict:
    """One legacy daily_ table row, every key in the sample's order."""
    own = source.endswith("@bounce.esp.example.net")
    auth = ([{"name": SENDER_DOMAIN, "type": 1}] if dmarc else []) + (
        [{"name": "bounce.esp.example.net", "type": 2}] if own else [])
    return {
        "event_info": {"timestamp_usec": int(at.timestamp() * 1_000_000),
                       "elapsed_time_usec": 391000 if success else 150000, "success": success},
        "message_info": {
            "action_type": action, "rfc2822_message_id": mid, "subject": subject,
            "payload_size": size,
            "source": {"address": source, "service": "smtp-inbound", "selector": None,
                       "from_header_address": FROM_ADDR if own else source,
                       "from_header_displayname": FROM_NAME if own else None},
            "destination": [{"address": rcpt, "service": "gmail-ui", "selector": "",
                             "smime_signature_verification_success": None,
                             "smime_decryption_success": None, "smime_parsing_success": None,
                             "smime_extraction_success": None, "rcpt_response": response}],
            "flattened_destinations": f"gmail-ui::{rcpt}", "description": description,
            "connection_info": {
                "client_ip": client_ip, "smtp_in_connect_ip": "192.0.2.27",
                "smtp_out_connect_ip": None, "failed_smtp_out_connect_ip": None,
                "smtp_tls_state": 1, "smtp_reply_code": code,
                "tls_required_but_unavailable": None, "smtp_out_remote_host": None,
                "smtp_user_agent_ip": None, "is_intra_domain": False, "dmarc_pass": dmarc,
                "dmarc_published_domain": SENDER_DOMAIN if own else source.split("@")[1],
                "client_host_zone": "esp.example.net" if own else "example.com",
                "smtp_response_reason": None, "ip_geo_city": None,
                "ip_geo_country": "ZA" if own else "US", "authenticated_domain": auth,
                "is_internal": False, "dkim_pass": dmarc, "spf_pass": dmarc or own,
                "smtp_tls_version": "TLSv1.3", "smtp_tls_cipher": "TLS_AES_256_GCM_SHA384"},
            "is_spam": spam, "is_policy_check_for_sender": False, "num_message_attachments": 0,
            "message_set": [{"type": 9}, {"type": 1}], "smtp_relay_error": None,
            "upload_error_category": None, "structured_policy_log_info": None,
            "triggered_rule_info": None, "flattened_triggered_rule_info": None,
            "smime_content_type": 0, "link_domain": [SENDER_DOMAIN] if own else [],
            "attachment": None,
            "spam_info": {"classification_reason": 1 if spam else 2,
                          "classification_timestamp_usec": None, "disposition": 2 if spam else 1,
                          "ip_whitelist_entry": ""}},
    }


def _refusal(m: Msg, a: Attempt) -> dict:
    """A failed action 1 row: Gmail refused the recipient (DMARC rows carry no text)."""
    dmarc_fail = a.key == "gmail_dmarc"
    response = None if dmarc_fail else " ".join(a.text.split("\r\n"))
    return _record(a.at + timedelta(seconds=0.2), action=1, success=False, mid=m.message_id,
                   subject=m.subject, size=m.size, source=m.verp, rcpt=m.email, code=a.code,
                   response=response, client_ip=m.mta_ip, spam=False, dmarc=not dmarc_fail,
                   description=None)


def bigquery(msgs: list[Msg], everyone: list[Msg], seed: int) -> Written:
    """Gmail logs (legacy daily_ tables) for riverbend and birchwood, exported as JSONL."""
    rng = random.Random(f"demo:{seed}:google_bq")
    recs: list[tuple[datetime, int, dict]] = []
    for m in msgs:
        for a in m.attempts:
            recs.append((a.at, len(recs), _refusal(m, a)))
        if not m.accepted:
            continue
        spam = m.scenario == "junk"
        t1 = m.accepted.at
        for action, at, code in ((1, t1, 250), (3, t1 + jitter(rng, 0.35, 0.45), None)):
            recs.append((at, len(recs), _record(
                at, action=action, success=True, mid=m.message_id, subject=m.subject,
                size=m.size, source=m.verp, rcpt=m.email, code=code, response=None,
                client_ip=m.mta_ip, spam=spam, dmarc=True, description="No Error")))
    noise = [n for dom in ("riverbend.example.net", "birchwood.example.com")
             for n in noise_for(dom, everyone, rng, 8)]
    for n in noise:
        if n.kind in ("internal", "outbound"):
            continue  # the export was filtered on inbound SMTP traffic
        ip = n.ip or f"203.0.113.{rng.randrange(100, 250)}"
        for action, at, code in ((1, n.at, 250), (3, n.at + timedelta(seconds=0.4), None)):
            recs.append((at, len(recs), _record(
                at, action=action, success=True, mid=n.message_id, subject=n.subject,
                size=n.size, source=n.sender, rcpt=n.recipient, code=code, response=None,
                client_ip=ip, spam=n.kind == "spam", dmarc=n.kind != "spam",
                description="No Error")))
    recs.sort(key=lambda r: (r[0], r[1]))
    text = "".join(json.dumps(r) + "\n" for _, _, r in recs)
    shown = sum(1 for n in noise if n.kind not in ("internal", "outbound"))
    return Written("riverbend_bigquery_gmail_logs_20251103-20251106.jsonl", text.encode(),
                   len(recs), "google_bq", ("riverbend.example.net", "birchwood.example.com"),
                   shown)
