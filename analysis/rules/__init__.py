"""Classification rules as data: the Rule row, reasons, categories, advice and the rule order.

Order of evaluation (STYLE.md habit 3): Sisimai's internal status codes (X.0.9NN) -> ESP
labels (whole text) -> provider rows (host detected from the domain or from markers in the
text; Sisimai's rhost tables first) -> generic substring rows (Sisimai's MTA and
provider-code tables, ESP suppression notices, Sisimai's reason indexes with the status
codes it checks, then our phrase rows) -> generic regex rows -> code-only rows -> broad and
last-resort rows -> enhanced-code table -> reply-code table. The reference for reasons is
Sisimai (analysis/rules/sisimai*.py port its definitions).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields
from functools import lru_cache


@dataclass(frozen=True)
class Rule:
    """One row of the rule table: every condition given must hold; the first match wins."""

    rule_id: str
    reason: str
    host: str | None = None  # provider key of PROVIDERS (detected from domain or text)
    code: tuple[int, ...] | str | None = None  # exact reply codes, or class prefix "4"/"5"
    enhanced: str | None = None  # "5.7.26" exact, "*.7.26" any class, "^regex" full match
    text: tuple[str, ...] = ()  # lower-case fragments that must all occur, in this order
    regex: str | None = None  # searched in the lower-cased, normalised text
    exact: str | None = None  # the whole lower-cased text (ESP labels)
    command: tuple[str, ...] = ()  # SMTP command answered (RCPT, MAIL, DATA, CONN; "": unknown)
    category: str | None = None  # override of the reason's category
    suppress: bool | None = None  # override of the reason's suppress default
    permanent: bool | None = None  # for ESP labels without a code: the label's hard/soft
    skip_enhanced: str | None = None  # regex: the row does not apply when the enhanced code matches
    advice: str | None = None  # override of the reason's advice (e.g. greylisting)
    temporary: bool = False  # never a permanent failure, whatever the code (greylisting)
    source: str = ""  # where the message text and its meaning come from


CATEGORIES = (
    "invalid_address", "mailbox_unavailable", "spam_or_reputation", "authentication",
    "policy_or_configuration", "connectivity", "throttling", "unknown", "none",
)

# reason -> (category, suppress the address by default, advice). Reason names are
# Sisimai's (https://libsisimai.org/en/reason/) as DESIGN.md lists them, plus failedstarttls
# and suppressed. Sisimai has no greylisting reason (its Zoho table calls Zoho's greylisting
# reply `blocked`): greylisting rows (rule ids `greylisted...`) say `blocked` with the
# category `throttling`, GREYLIST_ADVICE and `temporary` (never a permanent failure).
REASONS: dict[str, tuple[str, bool, str]] = {
    "userunknown": ("invalid_address", True,
                    "The mailbox does not exist: check the address for typos, then remove "
                    "it from the list (list hygiene) - sending again hurts your reputation."),
    "hostunknown": ("invalid_address", True,
                    "The recipient domain does not exist or has no mail server: correct the "
                    "domain (typo?) or remove the address."),
    "hasmoved": ("invalid_address", True,
                 "The mailbox has moved and no longer receives mail: remove it, or ask the "
                 "person for their new address."),
    "notaccept": ("invalid_address", False,
                  "The recipient domain does not accept mail (null MX or no SMTP service): "
                  "remove the address if this persists."),
    "mailboxfull": ("mailbox_unavailable", False,
                    "The mailbox is full: keep the address and retry later; suppress only if "
                    "it stays full over several weeks (monitoring)."),
    "suspend": ("mailbox_unavailable", False,
                "The mailbox is disabled or inactive: pause sending to it and remove it if "
                "it stays inactive."),
    "filtered": ("mailbox_unavailable", False,
                 "The recipient (or its filter) refuses this mail: ask the recipient to "
                 "allow your sender address."),
    "spamdetected": ("spam_or_reputation", False,
                     "A spam filter rejected the content: review content, links and "
                     "attachments, check against spam filters, and keep the address."),
    "blocked": ("spam_or_reputation", False,
                "Your sending IP or domain is blocked (block list or provider policy): check "
                "block lists, request delisting, fix the cause; keep the address."),
    "badreputation": ("spam_or_reputation", False,
                      "The provider rates your IP/domain reputation low: slow down, send only "
                      "to engaged subscribers, watch complaint rates (monitoring)."),
    "virusdetected": ("spam_or_reputation", False,
                      "A virus or dangerous attachment was detected: remove the attachment "
                      "or link and check your systems."),
    "authfailure": ("authentication", False,
                    "SPF/DKIM/DMARC failed: fix the sending domain's SPF, DKIM signing and "
                    "DMARC alignment, then resend; keep the address."),
    "requireptr": ("authentication", False,
                   "The sending IP has no valid reverse DNS (PTR): ask your ESP or hosting "
                   "provider to set a PTR that matches the HELO name."),
    "securityerror": ("authentication", False,
                      "Authentication or encryption between servers failed: check SMTP AUTH "
                      "credentials, connectors and TLS configuration."),
    "norelaying": ("policy_or_configuration", False,
                   "The server refused to relay: a configuration error (wrong MX, connector "
                   "or smarthost), not a bad address."),
    "rejected": ("policy_or_configuration", False,
                 "The sender address or domain was refused: check the envelope sender "
                 "(Return-Path) domain, its DNS, and the recipient's sender policy."),
    "policyviolation": ("policy_or_configuration", False,
                        "The recipient's policy refused the message: contact the recipient's "
                        "administrator; keep the address."),
    "notcompliantrfc": ("policy_or_configuration", False,
                        "The message breaks RFC 5322 (headers, From, Message-ID): fix the "
                        "message generation (configuration error)."),
    "contenterror": ("policy_or_configuration", False,
                     "The message content or encoding is invalid: fix MIME/encoding."),
    "mesgtoobig": ("policy_or_configuration", False,
                   "The message is too large: shrink attachments or images, link instead."),
    "exceedlimit": ("policy_or_configuration", False,
                    "A size or quota limit was exceeded: reduce message size, recipients or "
                    "volume."),
    "syntaxerror": ("policy_or_configuration", False,
                    "An SMTP protocol/syntax error: a configuration error in the sending "
                    "software, not a bad address."),
    "failedstarttls": ("policy_or_configuration", False,
                       "TLS was required but failed: check TLS support and certificates on "
                       "the sending server."),
    "suppressed": ("policy_or_configuration", False,
                   "The ESP did not send because the address is on its suppression list: "
                   "review why it was suppressed before reactivating."),
    "networkerror": ("connectivity", False,
                     "A network or DNS problem reached the recipient's server: retry; check "
                     "server connectivity and DNS if it persists."),
    "expired": ("connectivity", False,
                "Delivery kept failing until the retry period ran out: check the recipient "
                "server's connectivity; the address may still be fine."),
    "systemerror": ("connectivity", False,
                    "The recipient's mail system had an error: retry later; monitor if it "
                    "persists."),
    "systemfull": ("connectivity", False,
                   "The recipient's mail system is out of storage: retry later."),
    "mailererror": ("connectivity", False,
                    "The recipient's delivery program failed: retry later or tell the "
                    "recipient's administrator."),
    "toomanyconn": ("throttling", False,
                    "Too many connections or recipients at once: lower concurrency and "
                    "batch sizes; the mail will retry."),
    "speeding": ("throttling", False,
                 "You are sending too fast for this recipient or provider: slow down and "
                 "let the retries deliver (monitoring)."),
    "undefined": ("unknown", False,
                  "The reason could not be determined from the reply: read the full reply "
                  "and consider adding a rule."),
    "onhold": ("unknown", False,
               "Not enough information to tell why: read the full reply (and the ESP's "
               "report), wait for further attempts, and add a rule if it recurs."),
    "delivered": ("none", False, "Delivered: nothing to do."),
    "vacation": ("none", False, "An auto-reply: the message was delivered."),
    "feedback": ("none", False,
                 "A complaint or feedback report: stop sending to this recipient."),
}

# Categories that can never suppress an address, whatever the rule says (issue 9).
NEVER_SUPPRESS = frozenset({"spam_or_reputation", "authentication", "policy_or_configuration"})

# Providers: recipient domains and text markers (host names and tags in their replies).
PROVIDERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "google": (("gmail.com", "googlemail.com", "google.com"),
               ("gsmtp", "gcdp", "support.google.com/mail", "google.com")),
    "microsoft": (("outlook.com", "hotmail.com", "live.com", "msn.com", "outlook.",
                   "hotmail.", "live."),
                  ("outlook.com", "aka.ms/exosmtp", "sender.office.com", "storedrv",
                   "resolver.adr", "resolver.rst", "messaging.microsoft.com", "hotmail.com",
                   "mail.live.com", "exchangelabs.com")),
    "yahoo": (("yahoo.", "ymail.com", "rocketmail.com", "aol.com", "aim.com", "verizon.net"),
              ("yahoo", "yahoodns", "aol.com", "[ts0", "[tss", "[ph0", "[bl2")),
    "apple": (("icloud.com", "me.com", "mac.com", "privaterelay.appleid.com"),
              ("icloud", "support.apple.com", "apple.com", "[cs0", "[hm0")),
    "proton": (("proton.me", "protonmail.com", "protonmail.ch", "pm.me"),
               ("protonmail", "proton.me", "proton.ch")),
    "gmx": (("gmx.", "web.de", "mail.com", "email.de"),
            ("gmx.net", "gmx.com", "web.de", "postmaster.gmx", "nemesis")),
    "orange": (("orange.fr", "wanadoo.fr"), ("ofr_", "ofr0", "orange.fr", "wanadoo")),
    "tonline": (("t-online.de", "magenta.de"), ("t-online.de", "rx.t-online")),
    "mimecast": ((), ("mimecast",)),
    "proofpoint": ((), ("proofpoint", "pphosted")),
    "barracuda": ((), ("barracuda", "bsmtpd")),
    "cisco": ((), ("ironport", "cisco", "talosintelligence")),
    # Sisimai rhost classes (rhost/lib.go RhostClass): Cox and GoDaddy's inbound servers.
    "cox": (("cox.net",), ("cox.net", "cmsmtp", "aup#")),
    "godaddy": ((), ("secureserver.net",)),
    "tencent": (("qq.com", "foxmail.com"), ("qq.com", "service.mail.qq.com")),
    "messagelabs": ((), ("messagelabs", "symanteccloud", "email security.cloud")),
    # rhost/lib.go RhostClass: KDDI (au), NTT DOCOMO, Cloudflare Email Routing, Zoho Mail.
    "kddi": (("ezweb.ne.jp", "au.com"), ("ezweb.ne.jp", "msmx.au.com")),
    "docomo": (("docomo.ne.jp",), ("docomo.ne.jp",)),
    "cloudflare": ((), ("mx.cloudflare.net", "cloudflare")),
    "zoho": (("zoho.com", "zohomail.com", "zoho.eu", "zoho.in"), ("zoho.com", "zoho mail", "zohomail")),
}


# (marker, provider) for every provider's text markers, for marker_providers.
_MARKERS = tuple((m, key) for key, (_domains, markers) in PROVIDERS.items() for m in markers)


def marker_providers(low_text: str) -> frozenset[str]:
    """Provider keys whose marker occurs in the (lower-cased) text."""
    return frozenset({key for m, key in _MARKERS if m in low_text})


@lru_cache(maxsize=65536)
def domain_providers(domain: str | None) -> frozenset[str]:
    """Provider keys whose domains match `domain` (computed once per domain)."""
    dom = (domain or "").lower().strip().lstrip("@")
    if not dom:
        return frozenset()
    return frozenset(key for key, (domains, _markers) in PROVIDERS.items()
                     if any(dom == d or dom.endswith("." + d) or (d.endswith(".") and (
                         dom.startswith(d) or ("." + d) in dom)) for d in domains))


def detect_providers(low_text: str, domain: str | None) -> frozenset[str]:
    """Provider keys whose domain matches `domain` or whose marker occurs in the text."""
    return marker_providers(low_text) | domain_providers(domain)


def slug(text: str) -> str:
    """A short stable id fragment for a text fragment."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:48] or "x"


_USED_IDS: set[str] = set()


GREYLIST_ADVICE = ("Greylisting: the server asks unknown senders to retry later; a normal "
                   "retry delivers it. Nothing to fix.")


def T(reason: str, source: str, *fragments: str | tuple[str, ...], id_prefix: str | None = None,
      **kw: object) -> list[Rule]:
    """Generic rows: one per fragment (a tuple = fragments that must occur in order).

    Rule ids are `reason:fragment-slug`, or `id_prefix:fragment-slug` when given.
    """
    rows = []
    for frag in fragments:
        parts = frag if isinstance(frag, tuple) else (frag,)
        base = rule_id = f"{id_prefix or reason}:{slug('-'.join(parts))}"
        n = 1
        while rule_id in _USED_IDS:  # same words in two groups: keep ids unique and stable
            n += 1
            rule_id = f"{base}-{n}"
        _USED_IDS.add(rule_id)
        rows.append(Rule(rule_id, reason, text=tuple(parts), source=source,
                         **kw))  # type: ignore[arg-type]
    return rows


def version(rows: list[Rule], *tables: object) -> str:
    """A hash of every rule row and table: changes whenever the rules change."""
    h = hashlib.sha256()
    for r in rows:
        h.update(repr(tuple(getattr(r, f.name) for f in fields(r))).encode())
    for t in tables:
        h.update(repr(t).encode())
    return h.hexdigest()[:16]
