"""Sisimai's provider tables (rhost/for-*.go): Microsoft, Yahoo/AOL, Apple, Cox, GoDaddy,
Mimecast, Orange/La Poste, Tencent, MessageLabs, Facebook, Spectrum, Google Workspace
(Google and GSuite: sisimai_google.py)."""

from __future__ import annotations

from . import Rule, slug
from .sisimai import GO
from .sisimai_google import GOOGLE_RULES, GSUITE_RULES

# Sisimai's Microsoft table (rhost/for-microsoft.go): Exchange Online / Exchange Server
# status codes together with their NDR texts. (status regex, reason, phrase)
MSR = GO + "rhost/for-microsoft.go (Sisimai Microsoft rhost table)"
_MICROSOFT: tuple[tuple[str, str, str], ...] = (
    (r"4\.7\.26", "authfailure", "must pass either spf or dkim validation, this message is not signed"),
    (r"5\.7\.23", "authfailure", "the message was rejected because of sender policy framework violation"),
    (r"5\.7\.509", "authfailure", "does not pass dmarc verification"),
    (r"5\.7\.515", "authfailure", "doesn't meet the required authentication level"),
    (r"4\.7\.650", "badreputation", "has been temporarily rate limited due to ip reputation"),
    (r"4\.4\.2", "blocked", "connection dropped"),
    (r"4\.7\.(?:[5-6]\d\d|8[5-9]\d)", "blocked", "access denied, please try again later"),
    (r"5\.7\.25", "blocked", "must have a reverse dns record"),
    (r"5\.7\.506", "blocked", "access denied, bad helo"),
    (r"5\.7\.507", "blocked", "access denied, rejected by recipient"),
    (r"5\.7\.510", "blocked", "does not accept email over ipv6"),
    (r"5\.7\.511", "blocked", "access denied, banned sender"),
    (r"5\.7\.513", "blocked", "using customer block list"),
    (r"5\.7\.(?:60[6-9]|6[1-4]\d)", "blocked", "access denied, banned sending ip "),
    (r"5\.5\.4", "blocked", "invalid domain name"),
    (r"5\.7\.1", "blocked", "part of their network is on our block list (s3150)"),
    (r"5\.3\.0", "contenterror", "too many related errors"),
    (r"5\.6\.11", "contenterror", "invalid characters"),
    (r"5\.6\.11", "contenterror", "barelinefeedsareillegal"),
    (r"5\.4\.11", "contenterror", "agent generated message depth exceeded"),
    (r"5\.5\.6", "contenterror", "invalid message content"),
    (r"5\.2\.3", "exceedlimit", "resolver.rst.recipsizelimit; message too large for this recipient"),
    (r"5\.3\.4", "mesgtoobig", "message size exceeds fixed maximum message size"),
    (r"5\.3\.4", "mesgtoobig", "message too big for system"),
    (r"4\.4\.1", "expired", "connection timed out"),
    (r"4\.4\.7", "expired", "message delayed"),
    (r"4\.4\.7", "expired", "message expired"),
    (r"5\.4\.(?:300|316)", "expired", "message expired"),
    (r"[45]\.4\.8", "failedstarttls", " failed mta-sts validation"),
    (r"[45]\.4\.317", "failedstarttls", "starttls is required to send mail"),
    (r"[45]\.7\.5", "failedstarttls", "remote certificate failed mta-sts validation"),
    (r"[45]\.7\.321", "failedstarttls", "starttls-not-supported:"),
    (r"5\.7\.322", "failedstarttls", "certificate-expired:"),
    (r"[45]\.7\.323", "failedstarttls", "tlsa-invalid:"),
    (r"[45]\.7\.324", "failedstarttls", "dnssec-invalid:"),
    (r"[45]\.7\.325", "failedstarttls", "certificate-host-mismatch:"),
    (r"5\.2\.2", "mailboxfull", "mailbox full"),
    (r"5\.4\.6", "networkerror", "hop count exceeded - possible mail loop"),
    (r"[45]\.4\.312", "networkerror", "dns query failed"),
    (r"[45]\.4\.316", "networkerror", "connection refused"),
    (r"5\.4\.(?:6|14)", "networkerror", "routing loop detected"),
    (r"5\.7\.1", "norelaying", "unable to relay"),
    (r"5\.4\.1", "norelaying", "relay access denied"),
    (r"5\.7\.64", "norelaying", "tenantattribution; relay access denied"),
    (r"4\.3\.2", "notaccept", "system not accepting network messages"),
    (r"4\.4\.4", "notaccept", "hosted tenant which has no mail-enabled subscriptions"),
    (r"5\.3\.2", "notaccept", "storedrv.deliver: missing or bad storedriver mdb properties"),
    (r"5\.0\.350", "policyviolation", "x-dg-ref header is too long"),
    (r"5\.0\.350", "policyviolation", "requested action not taken: policy violation detected (as345)"),
    (r"5\.7\.9\d\d", "policyviolation", "delivery not authorized, message refused"),
    (r"5\.1\.7", "rejected", "invalid address"),
    (r"5\.1\.7", "rejected", "unknown sender address"),
    (r"5\.1\.0", "rejected", "sender denied"),
    (r"5\.1\.8", "rejected", "access denied, bad outbound sender"),
    (r"5\.7\.1", "rejected", "delivery not authorized"),
    (r"5\.7\.12", "rejected", "sender was not authenticated by organization"),
    (r"5\.7\.124", "rejected", "sender not in allowed-senders list"),
    (r"5\.7\.133", "rejected", "sender not authenticated for group"),
    (r"5\.7\.134", "rejected", "sender was not authenticated for mailbox"),
    (r"5\.7\.13[5]?", "rejected", "sender was not authenticated for public folder"),
    (r"5\.7\.136", "rejected", "sender was not authenticated"),
    (r"5\.7\.50[1-3]", "rejected", "access denied, spam abuse detected"),
    (r"5\.7\.50[1-3]", "rejected", "access denied, banned sender"),
    (r"5\.7\.512", "rejected", "access denied, message must be rfc 5322 section 3.6.2 compliant"),
    (r"5\.7\.750", "rejected", "client blocked from sending from unregistered domains"),
    (r"5\.7\.3", "securityerror", "cannot achieve exchange server authentication"),
    (r"5\.7\.57", "securityerror", "client was not authenticated to send anonymous mail during mail from"),
    (r"5\.2\.1", "spamdetected", "content filter agent quarantined this message"),
    (r"5\.5\.3", "toomanyconn", "too many recipients"),
    (r"4\.5\.3", "toomanyconn", "too many recipients"),
    (r"4\.7\.652", "toomanyconn", "has exceeded the maximum number of connections"),
    (r"4\.3\.2", "speeding", "storedrv.deliver; recipient thread limit exceeded"),
    (r"5\.1\.90", "speeding", "reached your daily limit for message recipients"),
    (r"5\.2\.12[12]", "speeding", "recipient's per hour message receive limit"),
    (r"5\.2\.122", "speeding", "the recipient has exceeded their limit for"),
    (r"5\.7\.508", "speeding", "has exceeded permitted limits within"),
    (r"5\.7\.7[0-4]\d", "speeding", "tenant has exceeded threshold"),
    (r"5\.7\.7[0-4]\d", "speeding", "traffic not accepted from this ip"),
    (r"5\.7\.504", "suspend", "recipient address rejected: access denied"),
    (r"5\.7\.505", "suspend", "access denied, banned recipient"),
    (r"5\.2\.1", "suspend", "mailbox cannot be accessed"),
    (r"5\.3\.3", "syntaxerror", "unrecognized command"),
    (r"5\.5\.2", "syntaxerror", "send hello first"),
    (r"4\.3\.2", "systemerror", "service not available"),
    (r"4\.3\.2", "systemerror", "service not active"),
    (r"5\.3\.5", "systemerror", "system incorrectly configured"),
    (r"5\.3\.190", "systemerror", "when journaling archive is disabled"),
    (r"5\.0\.0", "systemerror", "helo / ehlo requires domain address"),
    (r"5\.1\.4", "systemerror", "destination mailbox address ambiguous"),
    (r"5\.2\.4", "systemerror", "mailing list expansion problem"),
    (r"5\.2\.14", "systemerror", "misconfigured forwarding address"),
    (r"4\.4\.2[2-8]", "systemerror", "message failed to be replicated:"),
    (r"[45]\.4\.318", "systemerror", "(suspiciousremoteservererror)"),
    (r"4\.7\.500", "systemerror", "server busy. please try again later from "),
    (r"4\.7\.700", "systemerror", "pfa agent busy, please try again."),
    (r"4\.3\.1", "systemfull", "insufficient system resources"),
    (r"5\.1\.1", "userunknown", "resolver.adr.exrecipnotfound; not found"),
    (r"5\.1\.1", "userunknown", "user unknown"),
    (r"5\.1\.3", "userunknown", "storedrv.submit; invalid recipient address"),
    (r"5\.1\.[45]", "userunknown", "recipient address reserved by rfc 2606"),
    (r"5\.1\.6", "userunknown", "recipient addresses in single label domains not accepted"),
    (r"5\.7\.51", "failedstarttls", "restrictdomainstoipaddresses or restrictdomainstocertificate"),
    (r"5\.4\.4", "networkerror", "invalid arguments"),
    (r"5\.7\.3", "securityerror", "not authorized"),
    (r"4\.4\.3", "systemerror", "temporary server error. please try again later attr18"),
    (r"4\.7\.0", "systemerror", "temporary server error. please try again later. prx4 nexthop:"),
    (r"5\.1\.1", "userunknown", "bad destination mailbox address"),
    (r"5\.1\.10", "userunknown", "recipient not found"),
    (r"5\.4\.1", "userunknown", "recipient address rejected: access denied"),
    (r"5\.5\.0", "userunknown", "requested action not taken: mailbox unavailable"),
    (r"5\.1\.2", "userunknown", "invalid x.400 address"),
    (r"5\.1\.351", "userunknown", "remote server returned unknown recipient or mailbox unavailable"),
    # Not ported, as our rows decide these on purpose (tests/test_classify.py, replies.csv):
    # 5.2.2 "submission quota exceeded" (Speeding; ours ExceedLimit), 5.4.310 "does not exist"
    # (NoRelaying; ours HostUnknown), 5.4.4 "smtpsend.dns.nonexistentdomain" (NetworkError;
    # Sisimai's own Exchange2007 table says HostUnknown) and Outlook.com's RP-/SC-/DY-/OU-
    # codes (providers.py follows Outlook.com's troubleshooting page). 5.7.1 "client was not
    # authenticated" is both NoRelaying and SecurityError in Sisimai (providers.py: the latter).
)


def _ms_only(status: str, phrase: str) -> bool:
    """Detail numbers above 30 (5.7.64, 5.4.316, 5.0.350) and Exchange's own tokens
    ("Access denied, ...", "STOREDRV", "RESOLVER.") occur only in Microsoft's NDRs."""
    detail = status.replace("\\", "").rsplit(".", 1)[1]
    if any(t in phrase for t in ("access denied, ", "storedrv", "resolver.", "barelinefeeds",
                                 "tenantattribution", "(s3150)", "smtpsend",
                                 "must have a reverse dns record")):
        return True
    return not detail[:1].isdigit() or int("".join(ch for ch in detail if ch.isdigit())[:3]) > 30


# Rows with a Microsoft-only code need no host marker (checked among the generic rows);
# rows with an IANA code apply when the reply comes from Microsoft (provider rows).
MICROSOFT_RULES: list[Rule] = [
    Rule(f"sis.microsoft.{reason}:{slug(phrase)}-{slug(status.replace(chr(92), ''))}", reason,
         host=None if _ms_only(status, phrase) else "microsoft",
         enhanced="^" + status + "$", text=(phrase,), source=MSR)
    for status, reason, phrase in _MICROSOFT
]
MICROSOFT_HOST_RULES = [r for r in MICROSOFT_RULES if r.host]
MICROSOFT_CODE_RULES = [r for r in MICROSOFT_RULES if not r.host]

# Other rhost tables of Sisimai (rhost/for-*.go): (provider key or None, reason, phrase or
# a code pattern below). A provider key makes it a provider row (the phrase alone is too common);
# None: the phrase or code names the provider by itself (Cox "AUP#CXBL", GoDaddy "IB212").
RH = GO + "rhost/for-{}.go (Sisimai {} rhost table)"
_RHOST: tuple[tuple[str, str | None, str, str], ...] = (
    ("yahooinc", "yahoo", "authfailure", "yahoo requires all senders to authenticate with either spf or dkim"),
    ("yahooinc", "yahoo", "blocked", " because the ip is in spamhaus's list;"),
    ("yahooinc", "yahoo", "blocked", "not accepted from ip addresses on spamhaus xbl"),
    ("yahooinc", "yahoo", "norelaying", "relaying denied for "),
    ("yahooinc", "yahoo", "notcompliantrfc", "headers are not rfc compliant"),
    ("yahooinc", "yahoo", "policyviolation", "not accepted for policy reasons"),
    ("yahooinc", "yahoo", "rejected", "temporarily deferred due to unexpected volume or user complaints"),
    ("yahooinc", "yahoo", "rejected", "due to unresolvable rfc.5321 domain"),
    ("yahooinc", "yahoo", "rejected", " will be permanently deferred"),
    ("yahooinc", "yahoo", "speeding", "user is receiving mail too quickly"),
    ("yahooinc", "yahoo", "suspend", " is no longer valid."),
    ("yahooinc", "yahoo", "suspend", "this mailbox is disabled"),
    ("yahooinc", "yahoo", "syntaxerror", "syntax error in parameters or arguments"),
    ("yahooinc", "yahoo", "toomanyconn", "max message per connection reached"),
    ("yahooinc", "yahoo", "userunknown", "dd this user doesn't have a "),
    ("yahooinc", "yahoo", "userunknown", "mailbox not found"),
    ("aol", "yahoo", "hostunknown", "host or domain name not found"),
    ("aol", "yahoo", "notaccept", "type=mx: malformed or unexpected name server reply"),
    ("apple", "apple", "authfailure", "s dmarc policy"),
    ("apple", "apple", "authfailure", "blocked for failing both spf and dkim autentication checks"),
    ("apple", "apple", "authfailure", "blocked for failing both spf and dkim authentication checks"),
    ("apple", "apple", "blocked", "rejected due to having a domain present in the spamhaus"),
    ("apple", "apple", "blocked", "rejected due to listing in spamhaus"),
    ("apple", "apple", "blocked", "blocked - see https://support.proofpoint.com/dnsbl-lookup"),
    ("apple", "apple", "blocked", "not accepting connections"),
    ("apple", "apple", "hasmoved", "recipient no longer on server"),
    ("apple", "apple", "mailboxfull", "user is over quota"),
    ("apple", "apple", "norelaying", "relay access denied"),
    ("apple", "apple", "notaccept", "host/domain does not accept mail"),
    ("apple", "apple", "policyviolation", "due to local policy"),
    ("apple", "apple", "rejected", "sender address rejected"),
    ("apple", "apple", "speeding", "due to excessive volume"),
    ("apple", "apple", "userunknown", "inactive email address"),
    ("apple", "apple", "userunknown", "user does not exist"),
    ("apple", "apple", "userunknown", "unknown or illegal alias"),
    ("outlook", "microsoft", "hostunknown",
     "the mail could not be delivered to the recipient because the domain is not reachable"),
    ("outlook", "microsoft", "userunknown", "requested action not taken: mailbox unavailable"),
    ("franceptt", "orange", "authfailure", "spf/dns de votre nom de domaine"),
    ("cox", "cox", "blocked", "cox too many bad commands from"),
    ("cox", "cox", "blocked", "too many invalid recipients"),
    ("cox", "cox", "requireptr", "dns check failure - try again later"),
    ("cox", "cox", "requireptr", "rejected - no rdns"),
    ("cox", "cox", "policyviolation", "esmtp no data before greeting"),
    ("cox", "cox", "policyviolation", "attachment extension is forbidden"),
    ("cox", "cox", "rejected", "sender rejected"),
    ("cox", "cox", "systemerror", "esmtp server temporarily not available"),
    ("cox", "cox", "toomanyconn", "too many sessions from"),
    ("cox", "cox", "toomanyconn", "requested action aborted: try again later"),
    ("cox", "cox", "toomanyconn", "message threshold exceeded"),
    ("cox", "cox", "userunknown", "recipient rejected"),
    ("godaddy", "godaddy", "blocked", "rbl reject"),
    ("godaddy", "godaddy", "blocked", "www.spamhaus.org/query/bl?ip="),
    ("godaddy", "godaddy", "expired", "has been in the queue too long"),
    ("godaddy", "godaddy", "expired", "delivery timeout"),
    ("godaddy", "godaddy", "mailboxfull", "account storage limit"),
    ("godaddy", "godaddy", "spamdetected", "message rejected for spam or virus content"),
    ("godaddy", "godaddy", "suspend", "account disabled"),
    ("godaddy", "godaddy", "systemerror", "message is looping"),
    ("godaddy", "godaddy", "userunknown", "recipient not found"),
    ("godaddy", "godaddy", "userunknown", "account does not exist"),
    ("mimecast", None, "authfailure", "spf sender invalid - envelope rejected"),
    ("mimecast", None, "authfailure", "dkim sender invalid - envelope rejected"),
    ("mimecast", None, "authfailure", "dmarc sender invalid - envelope rejected"),
    ("mimecast", None, "badreputation", "internal resources are temporarily unavailable"),
    ("mimecast", None, "badreputation", "local ct ip reputation - (reject)"),
    ("mimecast", "mimecast", "blocked", "sender address blocked"),
    ("mimecast", "mimecast", "blocked", "recipient temporarily unavailable"),
    ("mimecast", None, "blocked", "ip temporarily blacklisted"),
    ("mimecast", None, "failedstarttls", "this route requires encryption (tls)"),
    ("mimecast", None, "failedstarttls", "this route requires tls version 1.2 or greater"),
    ("mimecast", None, "failedstarttls", "this route requires high-strength ciphers"),
    ("mimecast", None, "failedstarttls", "configuration is invalid for this certificate"),
    ("mimecast", None, "mesgtoobig", "maximum email size exceeded"),
    ("mimecast", None, "networkerror", "the incorrect hostname used for inbounds"),
    ("mimecast", "mimecast", "networkerror", "mail loop detected"),
    ("mimecast", None, "norelaying", "open relay not allowed"),
    ("mimecast", None, "norelaying", "open relay is not allowed"),
    ("mimecast", None, "notaccept", "account inbounds disabled"),
    ("mimecast", None, "onhold", "account outbounds disabled"),
    ("mimecast", None, "policyviolation", "anti-spoofing policy - inbound not allowed"),
    ("mimecast", None, "policyviolation", "rejected by header-based anti-spoofing policy"),
    ("mimecast", None, "policyviolation", "message bounced due to content examination policy"),
    ("mimecast", "mimecast", "policyviolation", "host network not allowed"),
    ("mimecast", "mimecast", "policyviolation", "host network, not allowed"),
    ("mimecast", None, "rejected", "administrative prohibition envelope blocked"),
    ("mimecast", None, "rejected", "envelope blocked - user entry"),
    ("mimecast", None, "rejected", "envelope blocked - user domain entry"),
    ("mimecast", None, "rejected", "rejected by header-based manually blocked senders"),
    ("mimecast", None, "rejected", "rejected by header-based blocked senders"),
    ("mimecast", None, "rejected", "envelope rejected - block policy for envelope from address"),
    ("mimecast", "mimecast", "securityerror", "incorrect authentication data"),
    ("mimecast", None, "securityerror", "submitter failed to authenticate"),
    ("mimecast", "mimecast", "systemerror", "unable to process connection at this time"),
    ("mimecast", "mimecast", "systemerror", "message ended early"),
    ("mimecast", "mimecast", "systemerror", "unable to process command"),
    ("mimecast", "mimecast", "systemerror", "unable to process an email at this time"),
    ("mimecast", None, "toomanyconn", "account service is temporarily unavailable"),
    ("mimecast", "mimecast", "toomanyconn", "too many recipients"),
    ("mimecast", None, "toomanyconn", "exceeding outbound thread limit"),
    ("mimecast", "mimecast", "userunknown", "invalid address"),
    ("mimecast", "mimecast", "userunknown", "user unknown"),
    ("mimecast", "mimecast", "userunknown", "invalid recipient"),
)
# Codes that name the reason: Cox "AUP#CXBL", GoDaddy "IB212", Orange/La Poste "OFR_416".
_COX = {"cxbl": "blocked", "cxdns": "requireptr", "cxsndr": "authfailure", "cxsmtp": "rejected",
        "cxcnct": "toomanyconn", "cxmxrt": "toomanyconn", "cdrbl": "blocked",
        "cxthrt": "securityerror", "cxmj": "securityerror", "ipbl": "blocked", "urlbl": "spamdetected"}
_GODADDY = {"401": "securityerror", "501": "notcompliantrfc", "502": "notcompliantrfc",
            "506": "rejected", "508": "authfailure", "108": "requireptr", "212": "spamdetected",
            "705": "virusdetected", "605": "toomanyconn", "007": "toomanyconn", "101": "speeding",
            "110": "blocked", "111": "blocked", "112": "blocked", "113": "blocked",
            "504": "speeding", "510": "speeding", "607": "speeding", "103": "badreputation",
            "104": "blocked", "105": "blocked", "106": "blocked"}
_FRANCEPTT = {"101": "blocked", "102": "blocked", "103": "blocked", "104": "toomanyconn",
              "305": "securityerror", "401": "authfailure", "402": "securityerror",
              "403": "rejected", "405": "rejected", "415": "rejected", "416": "userunknown",
              "417": "mailboxfull", "420": "suspend", "421": "rejected", "426": "suspend",
              "505": "systemerror", "506": "spamdetected", "510": "blocked", "514": "mesgtoobig",
              "517": "authfailure", "630": "policyviolation", "999": "blocked"}
_RH_NAMES = {"yahooinc": "YahooInc", "aol": "Aol", "apple": "Apple", "outlook": "Outlook",
             "franceptt": "FrancePTT", "cox": "Cox", "godaddy": "GoDaddy", "mimecast": "Mimecast"}


def _rh(name: str) -> str:
    return RH.format(name, _RH_NAMES[name])


RHOST_RULES: list[Rule] = [
    *[Rule(f"sis.{name}.{reason}:{slug(phrase)}-{i}", reason, host=host, text=(phrase,),
           source=_rh(name)) for i, (name, host, reason, phrase) in enumerate(_RHOST)
      if isinstance(phrase, str)],
    *[Rule(f"sis.cox.{reason}:aup-{code}", reason, text=(f"aup#{code}",), regex=rf"aup#{code}\w*\b",
           source=_rh("cox"))
      for code, reason in _COX.items()],
    *[Rule(f"sis.godaddy.{reason}:ib{code}", reason, text=(f"ib{code}",), regex=rf"\bib{code}\b",
           source=_rh("godaddy"))
      for code, reason in _GODADDY.items()],
    *[Rule(f"sis.franceptt.{reason}:{code}", reason, text=(code,),
           regex=rf"\b(?:ofr|lpn|ouk)[0-9a-z]*(?: |-)?{code}\b", source=_rh("franceptt"))
      for code, reason in _FRANCEPTT.items()],
]
RHOST_HOST_RULES = [r for r in RHOST_RULES if r.host]
RHOST_CODE_RULES = [r for r in RHOST_RULES if not r.host]

# More rhost tables: Tencent (QQ), MessageLabs (Broadcom Email Security.cloud), Facebook
# response codes, Spectrum "AUP#" codes, Google Workspace DNS texts.
_RHOST_MORE: tuple[tuple[str, str | None, str, str | tuple[str, ...]], ...] = (
    ("tencent", "tencent", "authfailure", "spf check failed"),
    ("tencent", "tencent", "authfailure", "dmarc check failed"),
    ("tencent", "tencent", "blocked", "suspected bounce attacks"),
    ("tencent", "tencent", "blocked", "suspected spam ip"),
    ("tencent", "tencent", "blocked", "connection denied"),
    ("tencent", "tencent", "mesgtoobig", "message too large"),
    ("tencent", "tencent", "rejected", "suspected spam"),
    ("tencent", "tencent", "rejected", "mail is rejected by recipients"),
    ("tencent", "tencent", "spamdetected", "spam is embedded in the email"),
    ("tencent", "tencent", "spamdetected", "mail content denied"),
    ("tencent", "tencent", "speeding", "mailbox unavailable or access denined"),
    ("tencent", "tencent", "speeding", "frequency of receiving messages is limited"),
    ("tencent", "tencent", "suspend", "is a deactivated mailbox"),
    ("tencent", "tencent", "syntaxerror", "bad address syntax"),
    ("tencent", None, "toomanyconn", "ip frequency limited"),
    ("tencent", None, "toomanyconn", "domain frequency limited"),
    ("tencent", None, "toomanyconn", "sender frequency limited"),
    ("tencent", None, "toomanyconn", "connection frequency limited"),
    ("tencent", "tencent", "userunknown", "mailbox not found"),
    ("messagelabs", None, "authfailure", "domain authentication fail"),
    ("messagelabs", "messagelabs", "badreputation", "connection rejected by policy"),
    ("messagelabs", None, "blocked", "mail rejected because your ip is in the pbl"),
    ("messagelabs", "messagelabs", "blocked", "your ip address has been "),
    ("messagelabs", None, "contenterror", "stray linefeeds in message"),
    ("messagelabs", None, "failedstarttls", "tls/sslv3 connection required"),
    ("messagelabs", "messagelabs", "norelaying", " as a relay, "),
    ("messagelabs", None, "notcompliantrfc", "550 requested action aborted [4]"),
    ("messagelabs", None, "notcompliantrfc", "has detected that this message is not rfc 5322"),
    ("messagelabs", None, "rejected", "sender envelope domain not allowed for sender ip address"),
    ("messagelabs", "messagelabs", "rejected", "your domain has been blocked"),
    ("messagelabs", "messagelabs", "rejected", "your email address has been blocked"),
    ("messagelabs", None, "rejected", "your envelope sender is in my badmailfrom list"),
    ("messagelabs", "messagelabs", "rejected", "your domain has been blacklisted"),
    ("messagelabs", None, "securityerror", "please turn on smtp authentication in your mail client"),
    ("messagelabs", "messagelabs", "spamdetected", "message filtered"),
    ("messagelabs", None, "spamdetected", "filtered by outbound scanning"),
    ("messagelabs", None, "toomanyconn", "too many recipients received this hour"),
    ("messagelabs", "messagelabs", "toomanyconn", "too many messages"),
    ("messagelabs", "messagelabs", "userunknown", "no such user"),
    ("messagelabs", "messagelabs", "userunknown", "invalid recipient"),
    ("messagelabs", None, "userunknown", "recipient mailbox is not allowed"),
    ("gsuite", None, "userunknown",
     "because the address couldn't be found. check for typos or unnecessary spaces and try again."),
    # Rows of the MessageLabs and Mimecast tables added later (appended: the ids stay put).
    # MessageLabs writes "(ip-addr)" and "(addr)" for the sender's IP or address.
    ("messagelabs", "messagelabs", "blocked", ("your ip address (", ") has been blocked")),
    ("messagelabs", "messagelabs", "blocked", ("your email address (", ") has been blocked")),
    ("messagelabs", "messagelabs", "userunknown", "mailbox is not allowed"),
    ("mimecast", None, "expired", "journal messages past the expiration"),
    ("mimecast", "mimecast", "onhold", "hostname is not authorized"),
    ("mimecast", None, "onhold", "journal message past expiration"),
    ("mimecast", None, "securityerror", "submitter failed to disabled"),
    ("mimecast", "mimecast", "virusdetected", "email rejected due to security policies"),
)
_FACEBOOK = {"pol-p7": "authfailure", "pol-p1": "blocked", "pol-p2": "blocked", "pol-p3": "blocked",
             "pol-p4": "blocked", "pol-t1": "blocked", "pol-t2": "blocked", "pol-t3": "blocked",
             "msg-p2": "contenterror", "rcp-p2": "filtered", "rcp-p3": "filtered",
             "msg-p1": "mesgtoobig", "int-p2": "mesgtoobig", "msg-p3": "notcompliantrfc",
             "dns-p1": "rejected", "dns-p2": "rejected", "dns-t1": "rejected",
             "dns-p3": "requireptr", "dns-t2": "requireptr", "pol-p6": "spamdetected",
             "rcp-t4": "suspend", "rcp-t1": "systemerror", "con-t1": "toomanyconn",
             "con-t2": "toomanyconn", "con-t3": "toomanyconn", "con-t4": "toomanyconn",
             "msg-t1": "toomanyconn", "rcp-p1": "userunknown", "int-p1": "userunknown",
             "int-p3": "userunknown", "int-p4": "userunknown", "pol-p5": "virusdetected"}
# Spectrum AUP#[IO]nnnn: (first, last, reason).
_SPECTRUM = ((1000, 1000, "blocked"), (1010, 1010, "rejected"), (1020, 1080, "rejected"),
             (1090, 1090, "systemerror"), (1100, 1150, "requireptr"),
             (1160, 1190, "policyviolation"), (1200, 1210, "blocked"), (1220, 1250, "blocked"),
             (1260, 1260, "networkerror"), (1300, 1340, "toomanyconn"), (1350, 1490, "speeding"),
             (1500, 1500, "rejected"), (1520, 1520, "rejected"), (1530, 1530, "mesgtoobig"),
             (1540, 1540, "speeding"), (1550, 1550, "speeding"), (1560, 1560, "policyviolation"),
             (1580, 1580, "speeding"))
_RH_NAMES.update({"tencent": "Tencent", "messagelabs": "MessageLabs", "gsuite": "GSuite",
                  "facebook": "Facebook", "spectrum": "Spectrum"})
RHOST_MORE_RULES: list[Rule] = [
    *[Rule(f"sis.{name}.{reason}:{slug(phrase if isinstance(phrase, str) else '-'.join(phrase))}-{i}",
           reason, host=host, text=(phrase,) if isinstance(phrase, str) else phrase,
           source=_rh(name)) for i, (name, host, reason, phrase) in enumerate(_RHOST_MORE)],
    *[Rule(f"sis.facebook.{reason}:{code}", reason, text=(code,),
           regex=rf"\b{code.split('-')[0]}[ -]{code.split('-')[1]}\b", source=_rh("facebook"))
      for code, reason in _FACEBOOK.items()],
    *[Rule(f"sis.spectrum.{reason}:{lo}-{hi}", reason, text=("aup#",),
           regex=r"aup#[io]?(?:" + "|".join(str(n) for n in range(lo, hi + 1)) + r")\b",
           source=_rh("spectrum")) for lo, hi, reason in _SPECTRUM],
]
RHOST_HOST_RULES += [r for r in RHOST_MORE_RULES if r.host]
RHOST_CODE_RULES += [r for r in RHOST_MORE_RULES if not r.host]
# Sisimai's Google and GSuite tables (sisimai_google.py): provider rows, after the tables above.
RHOST_HOST_RULES += [*GOOGLE_RULES, *GSUITE_RULES]
