"""Sisimai's MTA (lhost) and provider (rhost) tables ported last: one phrase of each table.

Each reply is built from a phrase of the go-sisimai source table it tests (lhost/via-*.go,
rhost/for-*.go) and checks the port (reason and the row that decided), not the corpus.
"""

from __future__ import annotations

import pytest

from analysis.classify import classify

CASES = [
    # lhost/via-notes.go: the Japanese "User not listed in public Name & Address Book".
    ((550, None, "550 kijitora@notes.example.jp ディレクトリのリストにありません"), None,
     "userunknown", "sis.lhost.notes."),
    # rhost/for-google.go: reply and status decide together with the phrase.
    ((552, "5.2.3", "552-5.2.3 Your message exceeded Google's message size limits. - gsmtp"),
     None, "exceedlimit", "sis.google.exceedlimit:"),
    ((421, "4.7.28", "421-4.7.28 Gmail has detected this message exceeded its quota for "
      "sending messages with the same Message-ID:. - gsmtp"), None, "policyviolation",
     "sis.google.policyviolation:"),
    # ... whatever the class of the codes ("421 4.7.0" in the table).
    ((521, "5.7.0", "521 5.7.0 IP not in whitelist for RCPT domain, closing connection."),
     "gmail.com", "blocked", "sis.google.blocked:"),
    ((550, "5.7.0", "550 5.7.0 Mail relay denied 192.0.2.1. Invalid credentials for relay for "
      "one of the domains in: example.org"), "gmail.com", "norelaying", "sis.google.norelaying:"),
    # rhost/for-gsuite.go: a DNS failure is HostUnknown with 5xx codes, NetworkError with 4xx.
    ((550, "5.1.2", "550 5.1.2 The recipient domain example.org responded with code NXDOMAIN "
      "- gsmtp"), None, "hostunknown", "sis.gsuite.hostunknown:"),
    ((451, "4.4.0", "451 4.4.0 DNS Error: Domain name not found [example.org] - gsmtp"), None,
     "networkerror", "sis.gsuite.networkerror:"),
    ((556, "5.1.10", "556 5.1.10 The domain example.org has a Null MX record - gsmtp"), None,
     "notaccept", "sis.gsuite.notaccept:"),
    # rhost/for-microsoft.go rows not ported before.
    ((550, "5.1.351", "550 5.1.351 Remote server returned unknown recipient or mailbox "
      "unavailable"), None, "userunknown", "sis.microsoft.userunknown:"),
    ((454, "5.7.51", "454 5.7.51 TLS required: RestrictDomainsToIPAddresses or "
      "RestrictDomainsToCertificate"), None, "failedstarttls", "sis.microsoft.failedstarttls:"),
    ((550, "5.7.3", "550 5.7.3 Not authorized"), "outlook.com", "securityerror",
     "sis.microsoft.securityerror:"),
    # rhost/for-messagelabs.go: "(ip-addr)" and "(addr)" stand for the sender's IP or address.
    ((553, None, "553-Sorry, your IP address (192.0.2.1) has been blocked. Please visit "
      "www.messagelabs.com/support for more details"), None, "blocked", "sis.messagelabs.blocked:"),
    ((553, None, "553 Mailbox is not allowed - mail.messagelabs.com"), None, "userunknown",
     "sis.messagelabs.userunknown:"),
    # rhost/for-mimecast.go rows not ported before.
    ((451, None, "451 Hostname is not authorized - https://community.mimecast.com/docs/"
      "DOC-1369#451"), None, "onhold", "sis.mimecast.onhold:"),
    ((550, None, "550 Journal messages past the expiration"), None, "expired",
     "sis.mimecast.expired:"),
]


@pytest.mark.parametrize(("args", "domain", "reason", "rule"), CASES)
def test_ported_table_row(args: tuple, domain: str | None, reason: str, rule: str) -> None:
    c = classify(*args, domain=domain)
    assert (c.reason, c.rule_id[:len(rule)]) == (reason, rule), c.rule_id


def test_table_rows_keep_their_gates() -> None:
    # Google's table needs Google (domain or marker) and the codes of its row.
    assert not classify(552, "5.2.3", "552 5.2.3 Your message exceeded Google's message size "
                        "limits.").rule_id.startswith("sis.google.")
    assert not classify(552, "5.2.2", "552 5.2.2 Your message exceeded Google's message size "
                        "limits.", domain="gmail.com").rule_id.startswith("sis.google.")
    # The same phrase with 5.3.4 is MesgTooBig in the same table.
    assert classify(552, "5.3.4", "552 5.3.4 Your message exceeded Google's message size "
                    "limits.", domain="gmail.com").reason == "mesgtoobig"
    # A narrower row of ours keeps its text: an account suspended for abuse is Blocked.
    assert classify(550, "5.7.0", "550 5.7.0 Email relay denied 192.0.2.1. The sending email "
                    "account has been temporarily suspended due to abuse.",
                    domain="gmail.com").reason == "blocked"
    # A sender's null MX is not the recipient's domain.
    assert classify(550, "5.7.27", "550 5.7.27 Sender address has null MX - gsmtp").reason \
        != "notaccept"
