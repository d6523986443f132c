"""Classification: the labelled corpus, the sample story, the workspace tables, the CLI."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import duckdb
import pytest

from analysis import classify as cl
from analysis.classify import Classification, classify, classify_label
from analysis.cli import main
from analysis.rules import CATEGORIES, NEVER_SUPPRESS, REASONS
from analysis.smtp import describe

CORPUS = Path(__file__).resolve().parent / "corpus" / "replies.csv"


def _corpus() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _run(row: dict[str, str]) -> Classification:
    return classify(row["smtp_code"] or None, row["enhanced_code"] or None, row["text"],
                    domain=row["domain"] or None)


def test_corpus_is_large_sourced_and_uses_known_labels() -> None:
    rows = _corpus()
    assert len(rows) >= 400
    for row in rows:
        assert None not in row, row  # no unquoted comma spilling into an extra field
        assert row["source"].strip(), row
        assert row["reason"] in REASONS, row
        assert row["category"] in CATEGORIES, row


def test_corpus_accuracy_at_least_95_percent() -> None:
    rows = _corpus()
    results = [(row, _run(row)) for row in rows]
    wrong_reason = [(r["reason"], c.reason, c.rule_id, r["text"][:80]) for r, c in results
                    if c.reason != r["reason"]]
    wrong_category = [(r["category"], c.category, r["text"][:80]) for r, c in results
                      if c.category != r["category"]]
    reason_acc = 1 - len(wrong_reason) / len(rows)
    category_acc = 1 - len(wrong_category) / len(rows)
    assert reason_acc >= 0.95, (reason_acc, wrong_reason[:20])
    assert category_acc >= 0.95, (category_acc, wrong_category[:20])


def test_suppress_never_for_block_spam_auth_or_policy_rows() -> None:
    for row in _corpus():
        c = _run(row)
        if row["category"] in NEVER_SUPPRESS or c.category in NEVER_SUPPRESS:
            assert not c.suppress, (row["text"], c)
        if c.suppress:
            assert c.category == "invalid_address" and c.permanent is not False, (row, c)


# samples/STORY.md "Expected classification of the failure".
STORY = [
    ("M04", (None, None, "550 5.4.1 Recipient address rejected: Access denied. For more "
             "information see https://aka.ms/EXOSmtpErrors [MW2NAM12FT031.eop-nam12.prod."
             "protection.outlook.com 2025-11-04T09:00:06.884Z 08DE1B7C2A94F3E1]"),
     ("userunknown", "invalid_address", True, True)),
    ("M07", (None, None, "550-5.7.26 Unauthenticated email from brightpath.example.com is not "
             "accepted due\r\n550-5.7.26 to domain's DMARC policy. Please contact the "
             "administrator of\r\n550 5.7.26  https://support.google.com/mail/?p=DmarcRejection "
             "6a1803df08f44-88d6c3a1b2fsi41250946d6.290 - gsmtp"),
     ("authfailure", "authentication", True, False)),
    ("M08", (452, "4.2.2", "452-4.2.2 The recipient's inbox is out of storage space. Please "
             "direct the\n452-4.2.2 recipient to\n452 4.2.2  https://support.google.com/mail/"
             "?p=OverQuotaTemp 6a18.301 - gsmtp"),
     ("mailboxfull", "mailbox_unavailable", False, False)),
    ("M10", ("550", "5.1.1", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"),
     ("userunknown", "invalid_address", True, True)),
    ("M13", (None, None, "550 5.1.1 <marco.rossi@pine.example.org>: Recipient address rejected: "
             "User unknown in virtual mailbox table"),
     ("userunknown", "invalid_address", True, True)),
    ("M14", (550, None, "550 Your message scored 12.4 SpamAssassin points and was classified as "
             "spam"),
     ("spamdetected", "spam_or_reputation", True, False)),
    ("M17", (552, "5.2.2", "552 5.2.2 <rita.costa@quarry.example.net> Quota exceeded (mailbox "
             "for user is full)"),
     ("mailboxfull", "mailbox_unavailable", False, False)),
]


@pytest.mark.parametrize(("label", "args", "expected"), STORY, ids=[s[0] for s in STORY])
def test_story_expectations(label: str, args: tuple, expected: tuple) -> None:
    c = classify(*args)
    assert (c.reason, c.category, c.permanent, c.suppress) == expected, c
    assert c.advice and c.rule_id


def test_greylisting_is_temporary() -> None:
    c = classify(450, "4.2.0", "450 4.2.0 <lena.fischer@oakridge.example.org>: Recipient address "
                 "rejected: Greylisted, see https://postgrey.example.org/help/oakridge.html")
    assert c.permanent is False and c.suppress is False
    # Sisimai has no greylisting reason: `blocked` (as its Zoho table), acted on as throttling.
    assert c.reason == "blocked" and c.category == "throttling"
    assert c.rule_id.startswith("greylisted") and c.advice.startswith("Greylisting")
    # ... and never a permanent failure or a suppression, whatever the code.
    c = classify(550, None, "550 Greylisted, please come back later")
    assert c.reason == "blocked" and c.permanent is False and c.suppress is False


def test_codes_are_read_from_the_text_when_missing() -> None:
    c = classify(None, None, "smtp; 550 5.1.1 <a@b.example>... User unknown")
    assert (c.smtp_code, c.enhanced_code, c.reason) == (550, "5.1.1", "userunknown")
    assert classify("550", None, "User unknown").smtp_code == 550
    assert classify(550.0, None, "User unknown").smtp_code == 550


def test_microsoft_5_4_1_and_5_2_2_depend_on_the_text() -> None:
    assert classify(550, "5.4.1", "550 5.4.1 Recipient address rejected: Access denied").reason \
        == "userunknown"
    relay = classify(550, "5.4.1", "550 5.4.1 Relay Access Denied")
    assert (relay.reason, relay.suppress) == ("norelaying", False)
    quota = classify(550, "5.2.2", "550 5.2.2 Submission quota exceeded")
    assert (quota.reason, quota.category, quota.permanent, quota.suppress) == (
        "exceedlimit", "throttling", True, False)
    full = classify(552, "5.2.2", "552 5.2.2 Mailbox full")
    assert (full.reason, full.permanent) == ("mailboxfull", False)


def test_provider_codes_that_differ_from_the_registry() -> None:
    # Gmail 5.7.27 = bulk sender failed SPF; the registry's X.7.27 = sender null MX.
    g = classify(550, "5.7.27", "550 5.7.27 This message was blocked - gsmtp")
    assert g.reason == "authfailure"
    assert classify(550, "5.7.27", "550 5.7.27 sender address has null MX").suppress is False
    assert classify(550, "5.7.606", "Access denied, banned sending IP [192.0.2.1]").reason == "blocked"
    assert classify(451, "4.7.650", "451 4.7.650 whatever").reason == "blocked"
    assert classify(421, None, "421 RP-001 rate limit", domain="hotmail.com").reason == "speeding"
    # Sisimai's Yahoo table (rhost/for-yahooinc.go) files TSS04 under Rejected: Yahoo sends
    # it for unauthenticated and poorly reputed senders alike.
    assert classify(421, "4.7.0", "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily "
                    "deferred due to unexpected volume or user complaints").reason \
        == "rejected"


def test_blocklists_are_blocks_not_bad_addresses() -> None:
    for text in ("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
                 "zen.spamhaus.org", "550 5.7.1 blocked using bl.spamcop.net",
                 "554 Service unavailable; Client host [192.0.2.1] blocked using "
                 "b.barracudacentral.org", "550 5.7.1 Listed in dnsbl.sorbs.net"):
        c = classify(None, None, text)
        assert (c.reason, c.category, c.suppress) == ("blocked", "spam_or_reputation", False), text


def test_null_mx_suppresses_and_temporary_user_unknown_does_not() -> None:
    nullmx = classify(556, "5.1.10", "556 5.1.10 Recipient address has null MX")
    assert (nullmx.reason, nullmx.suppress) == ("notaccept", True)
    temp = classify(450, "4.1.1", "450 4.1.1 <a@b.example>: Recipient address rejected: "
                    "unverified address: User unknown")
    assert (temp.reason, temp.permanent, temp.suppress) == ("userunknown", False, False)


def test_code_tables_decide_without_text() -> None:
    # Sisimai's smtp/reply AssociatedWith(): a bare 451 is a system error, 523 a security one.
    assert classify(451, None, "451 zork").reason == "systemerror"
    assert classify(523, None, "523 zork").reason == "securityerror"
    assert classify(550, "5.1.1", "").reason == "userunknown"
    assert classify(None, "5.1.2", None).reason == "hostunknown"
    assert classify(552, None, None).reason == "mailboxfull"
    assert classify(250, "2.0.0", "250 2.0.0 Ok: queued as 4F2A91C0B37").reason == "delivered"
    nothing = classify(None, None, None)
    assert (nothing.reason, nothing.category, nothing.permanent) == ("undefined", "unknown", None)


def test_what_nothing_explains_is_onhold_as_in_sisimai() -> None:
    """Sisimai's Reason.get/anotherone: an unlisted X.7.x is securityerror, X.6.x
    contenterror; a reply no rule or table explains is onhold, no reply at all undefined."""
    assert classify(550, "5.7.99", "550 5.7.99 zork").reason == "securityerror"
    assert classify(451, "4.6.99", "zork").reason == "contenterror"
    vague = classify(550, None, "550 zork happened")
    assert (vague.reason, vague.category, vague.rule_id, vague.suppress) == \
        ("onhold", "unknown", "none", False)
    assert classify(None, None, "   ").reason == "undefined"
    assert classify(None, None, None, esp_label="Unknown").reason == "undefined"  # a label rule


def test_sisimai_internal_status_codes_carry_their_reason() -> None:
    """An export that went through Sisimai carries X.0.9NN when the bounce had no status:
    the reason Sisimai decided, whatever the text; 900/901 (undefined/onhold) decide nothing."""
    user = classify(550, "5.0.911", "550 Requested action not taken")
    assert (user.reason, user.category, user.suppress, user.rule_id) == \
        ("userunknown", "invalid_address", True, "sisimai-status:911")
    block = classify(None, "5.0.971", "554 delivery error: dd Sorry your message cannot be sent")
    assert (block.reason, block.suppress) == ("blocked", False)
    assert classify(None, None, "Diagnostic: 5.0.926 message refused").reason == "authfailure"
    late = classify(None, "4.0.947", "Message expired")
    assert (late.reason, late.permanent) == ("expired", False)
    assert classify(550, "5.0.901", "550 5.1.1 No such user").reason == "userunknown"
    assert classify(550, "5.0.901", "550 zork").reason == "onhold"
    assert classify(550, "5.0.9111", "550 zork").reason == "onhold"  # not a status code
    assert "userunknown" in describe("5.0.911") and describe("5.0.999") is not None


def test_sisimai_indexes_come_before_our_phrase_rows_with_guards() -> None:
    """Sisimai's order decides (its indexes and the codes its ProbesInto reads, then ours),
    except where Sisimai would read a sender's or a blocked sender's problem as the recipient's."""
    # Sisimai's Expired index ("connection timed out") before our network-error rows.
    assert classify(None, None, "Connection timed out during user open").reason == "expired"
    # What names the sender is never the recipient's unknown user or domain.
    for text in ("SND-VFY: Sender domain does not exist",
                 "550 <u@example.net>: Sender address rejected: undeliverable address: host "
                 "mx.example.net[192.0.2.1] said: 550 5.1.1 User unknown"):
        c = classify(None, None, text)
        assert (c.reason, c.suppress) == ("rejected", False), text
    # 5.1.0 sent for everything: the words decide when they name a block, spam or auth.
    spf = classify(550, "5.1.0", "550 5.1.0 0bcW1i00G0jifNx01bcmHa blocked by SPF")
    assert (spf.reason, spf.suppress) == ("authfailure", False)
    assert classify(None, "5.1.0", "5.1.0 piWs1j0010jifNx01iWsdh spam detected").reason == \
        "spamdetected"
    assert classify(550, "5.1.0", "550 5.1.0 Address rejected").reason == "userunknown"
    # The user-unknown phrases hold for a reply to RCPT, not at HELO.
    helo = classify(550, None, "550 Invalid address format in HELO")
    assert (helo.reason != "userunknown", helo.suppress) == (True, False)
    rcpt = classify(550, None, "550 Invalid address (in reply to RCPT TO command)")
    assert (rcpt.reason, rcpt.suppress) == ("userunknown", True)
    # ... and, as in Sisimai, with no command and no 5.1.x status nothing confirms it: filtered,
    # with advice of its own and no suppression (why-filtered.go).
    weak = classify(550, None, "550 Invalid address")
    assert (weak.reason, weak.suppress, weak.rule_id) == (
        "filtered", False, "sis.filtered.unconfirmed:invalid-address")
    assert "neither a 5.1.x status nor the SMTP stage" in weak.advice
    assert classify(550, "5.1.1", "550 Invalid address").reason == "userunknown"
    # Postfix's "Recipient address rejected" answers RCPT, whatever was cut off after it.
    assert classify(550, None, "550 <a@example.org>: Recipient address rejected: User unknown "
                    "in local recipient table").reason == "userunknown"


@pytest.mark.parametrize("text", [
    "550 5.7.1 <a@x.org>... blocked by spamhaus (in reply to RCPT TO command)",
    "550 No such user; your IP is blacklisted (in reply to RCPT TO command)",
    "550 Bad IP reputation, recipient rejected (in reply to RCPT TO command)",
    "550 5.1.2 Host unknown; IP blacklisted",
    "550 User unknown (in reply to MAIL FROM command)",
])
def test_a_block_that_names_the_address_never_drops_it(text: str) -> None:
    """Issue 9: whatever Sisimai's unknown-user/-domain rows say, a block, spam, auth or
    policy refusal (or the sender's problem) never suppresses the recipient."""
    c = classify(None, None, text)
    assert c.suppress is False and c.category != "invalid_address", (text, c)


def test_an_unknown_recipient_stays_one() -> None:
    # Exchange Online's unknown recipient says "Access denied": no block for the veto.
    ms = classify(550, "5.4.1", "550 5.4.1 Recipient address rejected: Access denied")
    assert (ms.reason, ms.suppress) == ("userunknown", True)


def test_given_and_in_text_codes_and_spam_over_content() -> None:
    # The export's column says 5.0.0, the reply 5.1.1: Sisimai believes the specific one.
    assert classify(550, "5.0.0", "550 5.1.1 <a@example.org>: User unknown").reason == \
        "userunknown"
    # why-contenterror.go: a spam phrase beats the content-error status.
    spam = classify(554, "5.0.0", "host mx.example.co.uk[192.0.2.1] said: 554 Sorry, this "
                    "message appears to be spam (#5.6.0) (in reply to end of DATA command)")
    assert spam.reason == "spamdetected"
    assert classify(554, "5.6.0", "554 5.6.0 Message contains invalid header").reason == \
        "contenterror"


def test_sisimai_rows_for_real_bounces() -> None:
    # why-filtered.go: any unknown-user phrase after DATA is Filtered, pairs included.
    data = classify(554, "5.0.0", "host mx1.example.net[192.0.2.8] said: 554 Rcpt "
                    "<r@example.net> does not exist (in reply to end of DATA command)")
    assert (data.reason, data.suppress) == ("filtered", False)
    # rhost/for-mimecast.go: Mimecast's "security policies" refusal is VirusDetected.
    assert classify(554, None, "host service101.mimecast.com[192.0.2.9] said: 554 email "
                    "rejected due to security policies - MCSpamSignature").reason == \
        "virusdetected"


def test_command_is_read_as_sisimai_reads_it() -> None:
    """smtp/command Find(): a command in capitals as a word of its own, the latest in a
    session; "in reply to ..." first."""
    assert cl._command(None, "550 Invalid address format in HELO") == "HELO"
    assert cl._command(None, "<DATA>: Data command rejected: only 10 per day") == "DATA"
    assert cl._command(None, "RCPT TO:<a@example.org> ok, then DATA refused") == "DATA"
    assert cl._command(None, "said: 550 No such user (in reply to RCPT TO command)") == "RCPT"
    assert cl._command(None, "STARTTLS failed: handshake") == "STARTTLS"
    assert cl._command(None, "550 rejected: MAIL FROM:<a@example.org> refused") == "MAIL"
    assert cl._command(None, "535 AUTH CRAM-MD5 failed") == "AUTH"
    assert cl._command(None, "helo rejected; HELOWORLD; xDATA") is None
    assert cl._command("rcpt to", "anything") == "RCPT"


def test_esp_labels_are_a_fallback_only() -> None:
    full = classify(None, None, None, esp_label="Soft Bounce - Mailbox Full")
    assert (full.reason, full.rule_id) == ("mailboxfull", "esp:soft bounce - mailbox full")
    assert classify(None, None, "Mail Block - Spam Detected").reason == "spamdetected"
    assert classify(None, None, "Bounce - But No Email Address Returned ").reason == "undefined"
    # The SMTP text wins over the label.
    c = classify(None, None, "550 5.1.1 User unknown", esp_label="Soft Bounce - General")
    assert c.reason == "userunknown"
    hard = classify_label("Hard Bounce")
    assert (hard.reason, hard.permanent, hard.suppress) == ("undefined", True, False)
    assert classify_label("BadEmailAddress").suppress is True
    assert classify_label("Soft Bounce - General", "Soft").permanent is False


def test_command_helps_when_the_text_is_vague() -> None:
    assert classify(550, None, "550 Access denied", command="MAIL FROM").reason == "rejected"
    assert classify(554, None, "554 go elsewhere", command="CONNECT").reason == "blocked"
    assert classify(None, None, "host x said: 554 no (in reply to MAIL FROM command)").reason \
        == "rejected"


def test_classification_is_frozen_and_json_ready() -> None:
    c = classify(550, "5.1.1", "User unknown")
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.reason = "x"  # type: ignore[misc]
    d = json.loads(json.dumps(c.as_dict()))
    assert set(d) >= {"reason", "category", "permanent", "suppress", "advice", "rule_id"}


def test_every_rule_row_is_valid_and_cites_a_source() -> None:
    ids = [r.rule_id for r in cl.RULES]
    assert len(ids) == len(set(ids)), "rule ids must be unique"
    for rule in cl.RULES:
        assert rule.reason in REASONS, rule
        assert rule.source, rule
        assert rule.category is None or rule.category in CATEGORIES
        assert all(f == f.lower() for f in rule.text), rule
    for reason, (category, _suppress, advice) in REASONS.items():
        assert category in CATEGORIES and advice, reason
    assert not any(REASONS[r][1] for r in REASONS if REASONS[r][0] in NEVER_SUPPRESS)


def test_provider_rows_come_before_generic_rows() -> None:
    kinds = ["host" if r.host else "exact" if r.exact else "other" for r in cl.RULES]
    last_host = max(i for i, k in enumerate(kinds) if k == "host")
    # Sisimai's internal status codes (a reason already decided) come before everything.
    internal = [i for i, r in enumerate(cl.RULES) if r.rule_id.startswith("sisimai-status:")]
    assert internal == list(range(len(internal))) and len(internal) == 32
    first_generic = next(i for i, r in enumerate(cl.RULES)
                         if not r.host and not r.exact and i >= len(internal))
    assert last_host < first_generic


# Round 2 behaviours (analysis/rules/sisimai_extra.py, meaning.py; classify's host mask).
ROUND2 = [
    # Sisimai lda/lib.go: an agent's own message table, else MailerError.
    ((None, None, "procmail: Quota exceeded while writing \"/var/mail/x\""), "mailboxfull"),
    ((None, None, "procmail: Couldn't create \"/var/mail/tmp.x\""), "mailererror"),
    # Sisimai rhost/for-nttdocomo.go: with Status 5.0.0 the command decides.
    ((554, "5.0.0", "554 Transaction failed (in reply to end of DATA command)", "docomo.ne.jp"),
     "rejected"),
    # Sisimai reason/why-filtered.go: "user unknown" after DATA without a 5.1.x status.
    ((550, None, "550 sorry, no such user (in reply to end of DATA command)"), "filtered"),
    # X.7.1 alone: Sisimai's status.Name says SecurityError (round 9; round 2 said rejected,
    # after Sisimai's Microsoft table, which needs Microsoft's own text).
    ((550, "5.7.1", "550 5.7.1 Requested action not taken: message refused"), "securityerror"),
    # The remote MTA's name is not evidence ("dns" inside "yahoodns").
    ((None, None, "host mx.yahoodns.example[192.0.2.1] said: 550 Action not taken"), "onhold"),
    ((None, None, "552 5.2.2 Mailbox size limit exceeded for user"), "mailboxfull"),
    ((None, None, "550 Recipient has blocked messages from this sender"), "filtered"),
    ((None, None, "550 Recipient account is not active"), "suspend"),
    ((None, None, "550 5.7.1 Sender domain does not designate 192.0.2.1 as permitted sender"),
     "authfailure"),
    ((None, None, "421 Too many simultaneous connections from your IP"), "toomanyconn"),
    # Round 3 (holdout tune half, stated generally).
    ((550, "5.7.129", "550 5.7.129 You don't have permission to send to this group"), "filtered"),
    ((550, None, "550 You are not allowed to send mail to this recipient"), "filtered"),
    ((550, None, "550 Message rejected by recipients"), "filtered"),
    ((550, None, "550 Message rejected by recipient's server"), "onhold"),
    ((421, "4.7.0", "421 4.7.0 Your IP has insufficient reputation"), "badreputation"),
    ((None, None, "connect to mx.example.net[192.0.2.1]:25: Cannot assign requested address"),
     "networkerror"),
    # Round 4.
    ((None, None, "Rejected: the server you use is not authorized to send mail from your domain"),
     "authfailure"),
    # Round 9 (Sisimai's order): 4.7.1 is Blocked in Sisimai's status table, which its
    # ProbesInto checks before our rows, and its RateLimited index lacks this wording.
    ((450, "4.7.1", "450 4.7.1 <a@example.org>: Sender address rejected: Too many messages from "
      "sender in the last hour"), "blocked"),
    ((554, None, "554 RTR:BB http://postmaster.info.aol.com/errors/554rtrbb.html"), "blocked"),
    ((None, None, "Your message is larger than the maximum size allowed"), "mesgtoobig"),
    ((None, None, "R=nonlocal: Mailing to remote domains not supported"), "norelaying"),
    ((None, None, "Not sent: all recipients have been marked as inactive"), "suppressed"),
    # A spam filter's test list is not the reply's words (DKIM_ADSP_NXDOMAIN is no domain).
    ((554, "5.7.1", "554 5.7.1 Content rejected: score 9.1 (DKIM_ADSP_NXDOMAIN,HTML_MESSAGE,"
      "URIBL_BLACK=1.7)"), "spamdetected"),
    # (Round 9: no command, no 5.1.x status: Sisimai's Filtered; a 5.1.1 makes it the user.)
    ((550, None, "550 BAD_RECIPIENT"), "filtered"),
    ((550, "5.1.1", "550 5.1.1 BAD_RECIPIENT"), "userunknown"),
    # Round 5.
    ((554, None, "554 Message rejected: Stream is more than 10485760 bytes long."), "mesgtoobig"),
    ((552, None, "552 Mailbox is over 100 MB"), "mailboxfull"),
    ((None, None, "Line too long (see RFC5321 4.5.3.1.6)"), "notcompliantrfc"),
    ((501, "5.7.1", "501 5.7.1 <a@example.org>... Sender IP must resolve"), "requireptr"),
    ((553, "5.7.1", "553 Sorry, this domain is not in my list of allowed hosts (#5.7.1)"),
     "norelaying"),
    ((None, "4.7.0", "403 4.7.0 TLS handshake failed."), "failedstarttls"),
    # Round 6.
    ((552, None, "552 message line is too long"), "mesgtoobig"),
    ((550, "5.7.1", "550 5.7.1 Recipient does not want your mail"), "filtered"),
    # Round 9: Sisimai's Blocked index has "is not allowed to send mail from" (before ours).
    ((550, "5.7.0", "550 5.7.0 [SPF] 192.0.2.1 is not allowed to send mail from example.org"),
     "blocked"),
    # Round 7.
    ((None, None, "Esta casilla ha expirado por falta de uso."), "suspend"),
    ((554, None, "554 Message rejected: no Date: header"), "notcompliantrfc"),
    ((550, None, "550 Mailbox doesn\u2019t exist"), "userunknown"),  # a typographic apostrophe
]


@pytest.mark.parametrize(("args", "reason"), ROUND2)
def test_round2_rows(args: tuple, reason: str) -> None:
    assert classify(*args[:3], domain=args[3] if len(args) > 3 else None).reason == reason


# -- the workspace ------------------------------------------------------------------------

def _insert_sends(cur, rows: list[tuple]) -> None:
    cur.executemany("INSERT INTO sends (import_id, row_no, recipient, recipient_domain, event, "
                    "smtp_code, enhanced_code, smtp_text, bounce_type, bounce_reason) "
                    "VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


SENDS = [
    (1, "a@x.example", "x.example", "bounced", 550, "5.1.1", "550 5.1.1 User unknown", "Hard", "Hard Bounce"),
    (2, "b@x.example", "x.example", "bounced", 550, "5.1.1", "550 5.1.1 User unknown", "Hard", "Hard Bounce"),
    (3, "c@gmail.com", "gmail.com", "deferred", 452, "4.2.2", "452 4.2.2 out of storage space", None, None),
    (4, "d@x.example", "x.example", "delivered", 250, "2.0.0", "250 2.0.0 Ok: queued as AB12", None, None),
    (5, "e@x.example", "x.example", "opened", None, None, None, None, None),
    (6, "f@x.example", "x.example", "bounced", None, None, None, "Soft", "Soft Bounce - Mailbox Full"),
    (7, "g@x.example", "x.example", "bounced", 550, None, "550 weird thing 12345 happened", "Hard", None),
    (8, "h@x.example", "x.example", "bounced", 550, None, "550 weird thing 67890 happened", "Hard", None),
]


def test_refresh_builds_table_and_views(store) -> None:
    cur = store.cursor()
    _insert_sends(cur, SENDS)
    cl.refresh(cur)
    n = cur.execute("SELECT count(*) FROM classifications").fetchall()[0][0]
    assert n == 5  # distinct failure keys; deliveries and opens are not stored
    got = dict(cur.execute("SELECT row_no, reason FROM sends_classified").fetchall())
    assert got == {1: "userunknown", 2: "userunknown", 3: "mailboxfull", 4: "delivered",
                   5: None, 6: "mailboxfull", 7: "onhold", 8: "onhold"}
    versions = cur.execute("SELECT DISTINCT rules_version FROM classifications").fetchall()
    assert versions == [(cl.RULES_VERSION,)]
    cur.execute("INSERT INTO trace_events (import_id, row_no, event, smtp_code, enhanced_code, "
                "detail) VALUES (2, 1, 'rejected', 550, '5.1.1', '550 5.1.1 User unknown')")
    cl.refresh(cur)
    assert cur.execute("SELECT reason FROM trace_classified").fetchall() == [("userunknown",)]
    assert cur.execute("SELECT count(*) FROM classifications").fetchall()[0][0] == 5


def test_refresh_reclassifies_when_rules_change_and_drops_stale_keys(store, monkeypatch) -> None:
    cur = store.cursor()
    _insert_sends(cur, SENDS[:2])
    cl.refresh(cur)
    monkeypatch.setattr(cl, "RULES_VERSION", "changed")
    cl.refresh(cur)
    assert cur.execute("SELECT DISTINCT rules_version FROM classifications").fetchall() == [
        ("changed",)]
    cur.execute("DELETE FROM sends")
    cl.refresh(cur)
    assert cur.execute("SELECT count(*) FROM classifications").fetchall()[0][0] == 0


def test_unclassified_templates_group_masked_texts(store) -> None:
    cur = store.cursor()
    _insert_sends(cur, SENDS)
    cl.refresh(cur)
    df = cl.unclassified_templates(cur)
    assert list(df.columns) == ["template", "rows", "texts", "example"]
    assert df.to_dict("records")[0]["template"] == "550 weird thing <n> happened"
    assert (df["rows"].iloc[0], df["texts"].iloc[0]) == (2, 2)


def test_unclassified_templates_are_stored_and_read_as_computed(store) -> None:
    """refresh stores each unexplained text's template; the SQL grouping over them gives
    the frame the Python grouping gives (order of ties, counts, examples, a NULL text)."""
    import pandas as pd

    cur = store.cursor()
    _insert_sends(cur, [*SENDS,
                        (9, "i@x.example", "x.example", "bounced", 550, None,
                         "550 odd thing 1 now", "Hard", None),
                        (10, "j@x.example", "x.example", "bounced", 550, None,
                         "550 odd thing 2 now", "Hard", None),
                        (11, "k@x.example", "x.example", "bounced", 550, None,
                         "550 odd thing 2 now", "Hard", None),
                        (12, "l@x.example", "x.example", "bounced", 550, None,
                         "550 another 7 thing", "Hard", None),
                        (13, "m@x.example", "x.example", "bounced", 550, "5.0.0", None,
                         None, None)])
    cl.refresh(cur)
    assert cl._templates_stored(cur)
    stored = dict(cur.execute("SELECT text, template FROM classifications "
                              "WHERE rule_id = 'none'").fetchall())
    assert stored == {t: cl.template(t or "") for t in stored}
    sql = cl.unclassified_templates(cur)
    cur.execute("UPDATE classifications SET template = NULL")  # as a workspace of before
    assert not cl._templates_stored(cur)
    python = cl.unclassified_templates(cur)
    pd.testing.assert_frame_equal(sql, python)
    assert sql["template"].tolist()[:2] == ["550 odd thing <n> now", "550 weird thing <n> happened"]
    assert sql["rows"].tolist()[:2] == [3, 2]


def test_unclassified_failures_lists_what_no_rule_explained(store) -> None:
    """The Bounce explorer's "what the rules miss": rule_id 'none' (onhold), not the rest."""
    from analysis import journeys, queries

    cur = store.cursor()
    _insert_sends(cur, SENDS)
    cl.refresh(cur)
    journeys.rebuild(cur)
    df = queries.unclassified_failures(cur)
    assert sorted(df["example_text"]) == ["550 weird thing 12345 happened",
                                          "550 weird thing 67890 happened"]
    assert df["failures"].tolist() == [1, 1]


def test_template_masks_addresses_ips_ids_and_numbers() -> None:
    t = cl.template("550 5.7.1 <a.b@c.example> from [192.0.2.7] id 4F2A91C0B37 at "
                    "2025-11-04T09:00:06.884Z see https://x.example/y?z=1 after 12 tries")
    assert t == "550 5.7.1 <address> from [<ip>] id <id> at <time> see <url> after <n> tries"


def test_refresh_classifies_a_million_rows_once_per_group(store, monkeypatch) -> None:
    """1,000,000 rows with 11,996 distinct texts: the texts that differ only in what
    classify masks (here the address) share one classify call; the rest are one each."""
    from analysis import classify_bulk

    cur = store.cursor()
    cur.execute("""
        INSERT INTO sends (import_id, row_no, recipient, event, smtp_code, enhanced_code, smtp_text)
        SELECT 1, i, 'r' || (i % 50000) || '@example.com', 'bounced', 550, '5.1.1',
               CASE i % 4 WHEN 0 THEN '550 5.1.1 <u' || (i % 2999) || '@example.com>: User unknown'
                          WHEN 1 THEN '550 5.7.1 blocked using zen.spamhaus.org ' || (i % 2999)
                          WHEN 2 THEN '550 5.1.1 strange reply ' || (i % 2999)
                          ELSE '552 5.2.2 Quota exceeded ' || (i % 2999) END
        FROM range(1000000) t(i)""")
    calls: list[int] = []
    real = classify_bulk.classify_keys
    monkeypatch.setattr(classify_bulk, "classify_keys",
                        lambda *a: calls.append(real(*a)) or calls[-1])
    cl.refresh(cur)
    assert cur.execute("SELECT count(*) FROM classifications").fetchall()[0][0] == 4 * 2999
    assert calls == [1 + 3 * 2999]
    got = dict(cur.execute("SELECT left(text, 9), min(reason) FROM classifications "
                           "GROUP BY ALL HAVING count(DISTINCT reason) = 1").fetchall())
    assert got == {"550 5.1.1": "userunknown", "550 5.7.1": "blocked", "552 5.2.2": "mailboxfull"}


# Texts that differ only in tokens classify masks (classify.VARYING), with the shapes that
# could trip the SQL mirror: adjacent addresses, mixed case, tokens at a line start, a
# mask's own text written literally, tokens next to digits and dots, multi-line replies.
_VARIANTS = [
    # The SMTP command read from capitals (classify._command): case and host names matter.
    "550 Invalid address format in HELO",
    "550 Invalid address format in helo",
    "550 invalid address host DATA.example.com said: no",
    "550 invalid address host mx.example.com said: no",
    "550 invalid address at RCPT, then DATA",
    "550 invalid address at MAIL FROM:<a@example.org>",
    "550 invalid address at mail from:<a@example.org>",
    "451 4.7.500 Server busy. Please try again later from [198.51.100.25]. (AS761) "
    "[AM4PEPF00027A43.eurprd02.prod.protection.outlook.com 2025-11-06T09:00:58.552Z "
    "88FCFBE6CC75253F]",
    "451 4.7.500 Server busy. Please try again later from [203.0.113.9]. (AS761) "
    "[CO1PEPF00004441.eop-nam12.prod.protection.outlook.com 2025-11-07T10:01:02Z "
    "C4582A7CEB42AEAC]",
    "550-5.7.25 [198.51.100.24] The IP address sending this message does not have a\n"
    "550 5.7.25 PTR record setup. 266b97496a802-2d3c662si5387495f8f.90 - gsmtp",
    "550-5.7.25 [192.0.2.7] The IP address sending this message does not have a\n"
    "550 5.7.25 PTR record setup. a1si1234567qkb.123 - gsmtp",
    "550 5.7.1 1.2.3.4,5.6.7.8 is banned",
    "550 5.7.1 9.9.9.9,8.8.8.8 is banned",
    "550 5.7.1 9.9.9.9,abc is banned",
    "550 5.7.1 1.2.3.4.5 is banned",
    "550 5.7.1 1.2.3.45 is banned",
    "550 5.7.1 {.} is banned",
    "550 5.7.1 {.},{.} is banned",
    "550 Host 10.0.0.1 IS BANNED",
    "550 host 10.0.0.2 is banned",
    "192.0.2.1 550 blocked",
    "192.0.2.2 550 blocked",
    "550 The sending IP (1.2.3.4) is listed on https://spamrl.com/. Please resolve this.",
    "550 The sending IP (5.6.7.8) is listed on https://spamrl.com/. Please resolve this.",
    "550 5.4.5 Daily sending quota exceeded - gsmtp",
    "553 5.1.2 The recipient address <.@gmail.com> is not a valid RFC-5321 address. - gsmtp",
    "550 5.1.1 user unknown  abcdef123456.42  -  gsmtp",
    "550 5.1.1 user unknown abcdef123456.42 - gsmtp",
    "550 5.1.1 user unknown ABCDEF123456.42 - GSMTP",
    "554 5.2.2 mailbox full; Cannot open mailbox /o=ExchangeLabs/ou=Exchange Administrative Group "
    "(FYDIBOHF23SPDLT)/cn=Recipients/cn=8c3b9d0e4f5a6b7c8d9e0f1a2b3c4d5e-jane.doe.[EndDiagnosticData]",
    "554 5.2.2 mailbox full; Cannot open mailbox /o=ExchangeLabs/ou=Exchange Administrative Group "
    "(FYDIBOHF23SPDLT)/cn=Recipients/cn=0123456789abcdef0123456789abcdef-kim.[EndDiagnosticData]",
    "421 4.7.0 try again at 2025-11-06T09:00:58Z",
    "421 4.7.0 try again at 2025-11-06t09:00:58z",
    "2025-11-06T09:00:58Z 421 4.7.0 try again",
    "550 5.7.1 message 0123456789ABCDEF0123 rejected as spam",
    "550 5.7.1 message fedcba9876543210fedc rejected as spam",
    "550 5.7.1 message {#} rejected as spam",
    "550 jo@x.example and ann@y.example unknown <addr>",
    "550 ann@y.example and jo@x.example unknown <addr>",
]


def test_grouped_classification_equals_one_call_per_text(store) -> None:
    """classify_bulk's SQL key masks what classify masks: each text of a group classifies
    as its group's one classified member does (checked on every text, with and without a
    provider's domain)."""
    from analysis import classify_bulk

    cur = store.cursor()
    for dom in (None, "gmail.com"):
        cur.execute("CREATE OR REPLACE TEMP TABLE _keys (smtp_code INTEGER, "
                    "enhanced_code VARCHAR, text VARCHAR, domain VARCHAR)")
        rows = [(code, None, t, dom) for t in _VARIANTS for code in (None, 550)]
        cur.executemany("INSERT INTO _keys VALUES (?, ?, ?, ?)", rows)
        calls = classify_bulk.classify_keys(cur, "_keys", "_out")
        assert calls < len(rows)  # some texts did share a call
        got = {(c, t): rest for c, t, *rest in cur.execute(
            "SELECT smtp_code, text, reason, category, permanent, suppress, advice, rule_id "
            "FROM _out").fetchall()}
        assert len(got) == len(rows)
        for code, _enh, text, _dom in rows:
            c = classify(code, None, text, domain=dom)
            assert got[(code, text)] == [c.reason, c.category, c.permanent, c.suppress,
                                         c.advice, c.rule_id], (dom, text)


def test_keys_scanned_as_arrow_batches_classify_alike(store) -> None:
    """A key table of one row group is handed to DuckDB as Arrow batches (scanned on every
    thread): each of its texts still gets what classify gives it, and the table is left as
    it was."""
    from analysis import classify_bulk

    cur = store.cursor()
    cur.execute("CREATE OR REPLACE TEMP TABLE _keys (smtp_code INTEGER, "
                "enhanced_code VARCHAR, text VARCHAR, domain VARCHAR)")
    rows = [(550 if i % 3 else None, None, t.replace("@", f"{i}@") if "@" in t else f"{t} #{i}",
             "gmail.com" if i % 2 else None)
            for i in range(2 * classify_bulk._BATCH // len(_VARIANTS) + 2) for t in _VARIANTS]
    cur.executemany("INSERT INTO _keys VALUES (?, ?, ?, ?)", rows)
    assert 2 * classify_bulk._BATCH < len(rows) < classify_bulk._ROW_GROUP
    assert classify_bulk._parallel_source(cur, "_keys", "_probe") == "_probe"  # Arrow path
    cur.unregister("_probe")
    calls = classify_bulk.classify_keys(cur, "_keys", "_out")
    assert calls < len(rows)
    got = {(c, t, d): rest for c, t, d, *rest in cur.execute(
        "SELECT o.smtp_code, o.text, k.domain, reason, category, permanent, suppress, advice, "
        "rule_id FROM _out o JOIN _keys k ON k.text = o.text AND "
        "k.smtp_code IS NOT DISTINCT FROM o.smtp_code").fetchall()}
    assert len(got) == len(set(rows))
    for code, _enh, text, dom in rows:
        c = classify(code, None, text, domain=dom)
        assert got[(code, text, dom)] == [c.reason, c.category, c.permanent, c.suppress,
                                          c.advice, c.rule_id], (dom, text)
    assert cur.execute("SELECT count(*) FROM _keys").fetchall()[0][0] == len(rows)
    with pytest.raises(duckdb.CatalogException):
        cur.execute("SELECT * FROM _cb_src")  # the Arrow view is gone again


def test_the_sql_key_masks_the_spans_classify_masks(store) -> None:
    """On a lower-case one-line reply the SQL mask and classify's own masks give the same
    text, mask for mask (addresses, relay hosts, classify.VARYING)."""
    from analysis import classify_bulk, smtp

    texts = [smtp.normalise_reply(t).lower() for t in _VARIANTS]
    python = [cl.mask_varying(cl._HOST_RE.sub(r"\1 <host>", cl._ADDR_RE.sub("<addr>", t)))
              for t in texts]
    cur = store.cursor()
    cur.execute("CREATE OR REPLACE TEMP TABLE _t (i INTEGER, text VARCHAR)")
    cur.executemany("INSERT INTO _t VALUES (?, ?)", list(enumerate(texts)))
    sql = [m for _, m in cur.execute(
        f"SELECT i, masked FROM {classify_bulk.mask_sql('_t', 'text')} ORDER BY i").fetchall()]
    assert sql == python
    assert sum(p != t for p, t in zip(python, texts, strict=True)) >= 25  # the masks did work


def test_either_case_spells_a_lower_case_pattern_for_both_cases() -> None:
    assert cl.either_case(r"/cn=[0-9a-f]{2}\.x[^\t ]") == r"/[cC][nN]=[0-9a-fA-F]{2}\.[xX][^\t ]"
    with pytest.raises(ValueError):
        cl.either_case("[^a-z]")  # the upper case letters would then match
    with pytest.raises(ValueError):
        cl.either_case("[xy]")


def test_masked_tokens_hold_nothing_a_rule_reads() -> None:
    """No rule fragment or whole-text rule contains a token classify masks, and the masked
    texts still read as before (the IP rules read the mask)."""
    for rule in cl.RULES:
        for v in cl.VARYING:
            for frag in (*rule.text, rule.exact or ""):
                assert not v.pattern.search(frag), (rule.rule_id, v.name, frag)
    assert classify(550, None, "550 The sender 192.0.2.1 is banned").rule_id == \
        "blocked:ip-is-banned"
    assert classify(550, None, "550 The sending IP (1.2.3.4) is listed on x.example.").rule_id == \
        "blocked:ip-named"
    assert classify(550, None, "550 rejected 198.51.100.1").rule_id == "blocked:ip-literal"
    assert cl.mask_varying("from [198.51.100.25] at 2025-11-06t09:00:58.552z 88fcfbe6cc75253f") \
        == "from [{.}] at {-:} {#}"


# -- the command line -----------------------------------------------------------------------

def test_cli_classify_prints_json(capsys) -> None:
    code = main(["classify", "--code", "550", "--enhanced", "5.1.1", "--text",
                 "550 5.1.1 <a@b.example>: Recipient address rejected: User unknown"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (out["reason"], out["category"], out["permanent"], out["suppress"]) == (
        "userunknown", "invalid_address", True, True)
    assert out["rule_id"] == "sis.code.userunknown"  # Sisimai: 5.1.1 is UserUnknown


def test_cli_classify_dmarc_and_domain(capsys) -> None:
    main(["classify", "--code", "550", "--enhanced", "5.7.26", "--text",
          "Unauthenticated email is not accepted due to domain's DMARC policy"])
    out = json.loads(capsys.readouterr().out)
    assert (out["reason"], out["suppress"]) == ("authfailure", False)
    main(["classify", "--code", "421", "--text", "421 RP-003 connection limit",
          "--domain", "outlook.com", "--command", "CONNECT"])
    assert json.loads(capsys.readouterr().out)["reason"] == "toomanyconn"


def test_marker_providers_is_detect_providers_without_a_domain() -> None:
    """classify's fast provider lookup names the same providers as detect_providers."""
    from analysis.rules import PROVIDERS, detect_providers, marker_providers

    texts = [r["text"].lower() for r in _corpus()]
    texts += [f"blocked by {m} today" for _d, markers in PROVIDERS.values() for m in markers]
    found = 0
    for text in texts:
        assert marker_providers(text) == detect_providers(text, None), text
        found += bool(marker_providers(text))
    assert found > len(PROVIDERS)  # the texts do name providers


# DESIGN.md's reason names (Sisimai's, plus failedstarttls and suppressed), and the three for
# non-failures. Issue 9: `reason` is one of these and nothing else.
DESIGN_REASONS = set("""userunknown hostunknown hasmoved mailboxfull suspend spamdetected blocked
    badreputation virusdetected contenterror filtered authfailure requireptr securityerror
    norelaying rejected policyviolation notcompliantrfc mesgtoobig exceedlimit syntaxerror
    networkerror notaccept expired systemerror systemfull mailererror toomanyconn speeding
    failedstarttls suppressed undefined onhold delivered vacation feedback""".split())


def test_every_reason_is_a_design_name() -> None:
    from analysis.classify import RULES
    from analysis.rules.codes import (
        ENHANCED_CLASS_REASONS,
        ENHANCED_REASONS,
        ESP_LABEL_RULES,
        REPLY_REASONS,
    )

    assert set(REASONS) <= DESIGN_REASONS, sorted(set(REASONS) - DESIGN_REASONS)
    produced = {r.reason for r in [*RULES, *ESP_LABEL_RULES]} | \
        set(ENHANCED_CLASS_REASONS.values()) | \
        set(ENHANCED_REASONS.values()) | set(REPLY_REASONS.values())
    assert produced <= DESIGN_REASONS, sorted(produced - DESIGN_REASONS)
