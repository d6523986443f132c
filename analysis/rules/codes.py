"""Code tables (used when no text row matched) and ESP bounce labels (used without SMTP text)."""

from __future__ import annotations

from . import Rule

MS = ("https://learn.microsoft.com/en-us/exchange/troubleshoot/email-delivery/ndr/"
      "non-delivery-reports-in-exchange-online")
MSR = "https://github.com/sisimai/go-sisimai/blob/main/rhost/for-microsoft.go"

# Enhanced codes that only Microsoft uses (three-digit details); no other server sends
# them, so they need no host marker. Checked after every text row.
CODE_RULES: list[Rule] = [
    Rule("code.microsoft.4.7.5xx-8xx", "blocked", enhanced=r"^4\.7\.([5-7]\d\d|8[5-9]\d)$", source=MS),
    # Sisimai's Microsoft table (rhost/for-microsoft.go): 5.7.501-503 are a banned *sender*
    # account (Rejected), 5.7.504/505 a recipient the tenant refuses (Suspend).
    Rule("code.microsoft.5.7.501-503", "rejected", enhanced=r"^5\.7\.50[1-3]$", source=MS + "; " + MSR),
    Rule("code.microsoft.5.7.506-513", "blocked", enhanced=r"^5\.7\.5(0[6-7]|1[013])$", source=MS),
    Rule("code.microsoft.5.7.504-505", "suspend", enhanced=r"^5\.7\.50[45]$", source=MS + "; " + MSR),
    Rule("code.microsoft.5.7.508", "speeding", enhanced="5.7.508", source=MS),
    Rule("code.microsoft.5.7.509", "authfailure", enhanced="5.7.509", source=MS),
    Rule("code.microsoft.5.7.512", "rejected", enhanced="5.7.512", source=MS + "; " + MSR),
    Rule("code.microsoft.5.7.515", "authfailure", enhanced="5.7.515", source=MS),
    Rule("code.microsoft.5.7.520", "policyviolation", enhanced="5.7.520", source=MS),
    Rule("code.microsoft.5.7.6xx", "blocked", enhanced=r"^5\.7\.6[0-4]\d$", source=MS),
    Rule("code.microsoft.5.7.700-749", "speeding", enhanced=r"^5\.7\.7[0-4]\d$", source=MS + "; " + MSR),
    Rule("code.microsoft.5.7.750", "rejected", enhanced="5.7.750", source=MS + "; " + MSR),
    Rule("code.microsoft.5.7.350", "spamdetected", enhanced="5.7.350", source=MS),
    Rule("code.microsoft.5.7.12x-13x", "rejected", enhanced=r"^5\.7\.(12|124|13[3-6])$", source=MS),
    Rule("code.microsoft.5.7.57-64", "securityerror", enhanced=r"^5\.7\.(57|64)$", source=MS),
    Rule("code.microsoft.5.4.3xx", "expired", enhanced=r"^5\.4\.3(00|1[6-8])$", source=MS),
    Rule("code.microsoft.5.4.310", "hostunknown", enhanced="5.4.310", suppress=True, source=MS),
    Rule("code.microsoft.5.4.312", "networkerror", enhanced="5.4.312", source=MS),
    Rule("code.microsoft.4.4.316", "networkerror", enhanced="4.4.316", source=MS),
    Rule("code.microsoft.5.1.8", "rejected", enhanced="5.1.8", text=("bad outbound sender",),
         source=MS + "; " + MSR),
    Rule("code.microsoft.5.1.90", "exceedlimit", enhanced="5.1.90", category="throttling", source=MS),
    Rule("code.microsoft.5.2.12x", "speeding", enhanced=r"^5\.2\.12\d$", source=MS),
    Rule("code.microsoft.5.0.350", "undefined", enhanced="5.0.350", source=MS),
]

_R = "RFC 3463 / IANA SMTP Enhanced Status Codes"
# subject.detail -> reason when no text row matched (class-independent unless keyed with
# the class). Mostly Sisimai's mapping (Sisimai::SMTP::Status), departures noted.
ENHANCED_REASONS: dict[str, str] = {
    "1.0": "userunknown", "1.1": "userunknown", "1.2": "hostunknown", "1.3": "userunknown",
    "1.4": "filtered", "1.5": "delivered", "1.6": "hasmoved", "1.7": "rejected",
    "1.8": "rejected", "1.9": "systemerror", "1.10": "notaccept",
    "2.0": "filtered",
    "2.1": "filtered",  # Sisimai status.Name: 5.2.1 filtered (4.2.1 blocked, below)
    "2.2": "mailboxfull", "2.3": "exceedlimit", "2.4": "filtered",
    "3.0": "systemerror", "3.1": "systemfull", "3.2": "notaccept", "3.3": "systemerror",
    "3.4": "mesgtoobig", "3.5": "systemerror", "3.6": "systemerror",
    "4.0": "networkerror", "4.1": "networkerror", "4.2": "networkerror", "4.3": "systemerror",
    "4.4": "networkerror", "4.5": "systemfull", "4.6": "networkerror", "4.7": "expired",
    "4.8": "networkerror",
    "5.0": "syntaxerror", "5.1": "syntaxerror", "5.2": "syntaxerror", "5.3": "toomanyconn",
    "5.4": "systemerror",  # Sisimai status.Name: 5.5.4 invalid command arguments
    "5.5": "syntaxerror", "5.6": "syntaxerror",
    "6.0": "contenterror", "6.1": "contenterror", "6.2": "contenterror", "6.3": "contenterror",
    "6.4": "contenterror", "6.5": "contenterror", "6.6": "contenterror", "6.7": "contenterror",
    "6.8": "contenterror", "6.9": "contenterror", "6.10": "contenterror",
    "7.0": "securityerror",  # Sisimai status.Name (the text rows decide first)
    # X.7.1 "Delivery not authorized, message refused": Sisimai's status.Name says
    # SecurityError when no index matched (its Microsoft table's Rejected needs Microsoft's
    # own text, a row of its own). Measured against Sisimai's output on the corpus texts.
    "7.1": "securityerror",
    "7.2": "securityerror", "7.3": "securityerror", "7.4": "securityerror", "7.5": "securityerror",
    "7.6": "securityerror", "7.7": "securityerror", "7.8": "securityerror",
    "7.9": "securityerror", "7.10": "failedstarttls", "7.11": "failedstarttls",
    "7.12": "securityerror", "7.13": "suspend", "7.14": "securityerror",
    "7.15": "securityerror", "7.16": "mesgtoobig", "7.17": "hasmoved", "7.18": "hasmoved",
    "7.19": "securityerror", "7.20": "authfailure", "7.21": "authfailure",
    "7.22": "authfailure", "7.23": "authfailure", "7.24": "authfailure", "7.25": "requireptr",
    "7.26": "authfailure",
    "7.27": "rejected",  # the *sender* domain has a null MX (RFC 7505): not the recipient
    "7.28": "spamdetected", "7.29": "authfailure", "7.30": "failedstarttls",
}
# Class-specific departures: 4.1.1 is a temporary lookup failure, 5.4.4 a dead domain.
ENHANCED_CLASS_REASONS: dict[str, str] = {
    "5.4.4": "hostunknown", "4.7.1": "blocked", "4.7.2": "blocked", "4.2.1": "blocked",
    "4.7.0": "securityerror", "4.4.1": "expired", "4.2.4": "filtered",
}
# X.1.10 (recipient null MX) and the RFC 7504 codes are address failures: suppress.
SUPPRESS_CODES = frozenset({"1.10"})

# Basic reply code -> reason when neither text nor enhanced code decided (RFC 5321 4.2.3,
# RFC 7504, RFC 4954, RFC 3207). Where Sisimai's smtp/reply AssociatedWith() names a reason
# for a code, it is that one (451 systemerror, 422/523/524/538 securityerror; 525 is its
# Suspend's own code row); the rest are ours.
REPLY_REASONS: dict[int, str] = {
    200: "delivered", 211: "delivered", 214: "delivered", 220: "delivered", 221: "delivered",
    235: "delivered", 250: "delivered", 251: "delivered", 252: "delivered", 354: "delivered",
    422: "securityerror", 432: "securityerror", 451: "systemerror", 454: "securityerror",
    455: "syntaxerror", 452: "systemfull",
    500: "syntaxerror", 501: "syntaxerror", 502: "syntaxerror", 503: "syntaxerror",
    504: "syntaxerror", 555: "syntaxerror",
    521: "notaccept", 556: "notaccept", 523: "securityerror", 524: "securityerror",
    538: "securityerror", 534: "securityerror", 535: "securityerror", 525: "suspend",
    530: "securityerror", 551: "hasmoved", 552: "mailboxfull", 553: "userunknown",
}
SUPPRESS_REPLY = frozenset({521, 556})

CM = ("Campaign Monitor / BounceStudio bounce categories (createsend fixtures; "
      "shared/formats/esp_exports.md 1.3)")
PM = "https://postmarkapp.com/developer/api/bounce-api (Type names)"
SES = "Amazon SES bounceSubType / SendGrid dropped reasons / Mailgun failure reasons"


def L(label: str, reason: str, source: str, permanent: bool | None = None, **kw: object) -> Rule:
    """An ESP label row: matches the whole text, e.g. 'Soft Bounce - Mailbox Full'."""
    return Rule(f"esp:{label.lower().strip()}", reason, exact=label.lower().strip(),
                permanent=permanent, source=source, **kw)  # type: ignore[arg-type]


# A label names the ESP's bucket, not the server's reason: used only when the row has no
# SMTP reply. "Hard Bounce" alone does not prove the address is bad (issue 9: DMARC
# rejections labelled hard bounces), so it stays `undefined` and is never suppressed.
ESP_LABEL_RULES: list[Rule] = [
    L("Hard Bounce", "undefined", CM, True),
    L("Soft Bounce - General", "undefined", CM, False),
    L("Soft Bounce", "undefined", CM, False),
    L("Transient Bounce", "undefined", CM, False),
    L("Soft Bounce - Dns Failure", "networkerror", CM, False),
    L("Soft Bounce - Mailbox Full", "mailboxfull", CM, False),
    L("Soft Bounce - Message Size Too Large", "mesgtoobig", CM, False),
    L("Mail Block - General", "blocked", CM, True),
    L("Mail Block - Known Spammer", "blocked", CM, True),
    L("Mail Block - Spam Detected", "spamdetected", CM, True),
    L("Mail Block - Attachment Detected", "policyviolation", CM, True),
    L("Mail Block - Relay Denied", "norelaying", CM, True),
    L("Auto Reply", "vacation", CM), L("Address Change", "hasmoved", CM, True),
    L("Challenge Response", "onhold", CM), L("Virus Notification", "virusdetected", CM),
    L("Spam Notification", "feedback", CM), L("Subscribe", "feedback", CM),
    L("Unsubscribe", "feedback", CM), L("Non Bounce", "undefined", CM),
    L("Bounce - But No Email Address Returned", "undefined", CM), L("Unknown", "undefined", CM),
    L("HardBounce", "undefined", PM, True), L("SoftBounce", "undefined", PM, False),
    L("Transient", "undefined", PM, False), L("DnsError", "networkerror", PM, False),
    L("BadEmailAddress", "userunknown", PM, True), L("SpamNotification", "feedback", PM),
    L("SpamComplaint", "feedback", PM), L("Blocked", "blocked", PM, True),
    L("DMARCPolicy", "authfailure", PM, True), L("AutoResponder", "vacation", PM),
    L("AddressChange", "hasmoved", PM, True), L("ManuallyDeactivated", "suppressed", PM),
    L("VirusNotification", "virusdetected", PM), L("ChallengeVerification", "onhold", PM),
    L("NoEmail", "userunknown", SES, True), L("Suppressed", "suppressed", SES),
    L("OnAccountSuppressionList", "suppressed", SES), L("MailboxFull", "mailboxfull", SES, False),
    L("MessageTooLarge", "mesgtoobig", SES, True), L("ContentRejected", "spamdetected", SES, True),
    L("AttachmentRejected", "policyviolation", SES, True),
    L("Bounced Address", "suppressed", SES), L("Unsubscribed Address", "suppressed", SES),
    L("Spam Reporting Address", "suppressed", SES), L("Invalid", "userunknown", SES, True),
    L("suppress-bounce", "suppressed", SES), L("suppress-unsubscribe", "suppressed", SES),
    L("suppress-complaint", "suppressed", SES), L("espblock", "blocked", SES, True),
]
