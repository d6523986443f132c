"""SMTP reply codes (RFC 5321), enhanced status codes (RFC 3463) and their extraction."""

from __future__ import annotations

import re

# Basic reply codes: RFC 5321 section 4.2.2/4.2.3, plus RFC 7504 (521, 556), RFC 4954
# (432, 454, 530, 534, 535, 538), RFC 3030 and RFC 1985/2645 extensions seen in the wild.
REPLY_CODES: dict[int, str] = {
    200: "nonstandard success response (RFC 876)",
    211: "system status, or system help reply",
    214: "help message for a human reader",
    220: "service ready",
    221: "service closing transmission channel",
    235: "authentication succeeded (RFC 4954)",
    250: "requested mail action okay, completed",
    251: "user not local; will forward",
    252: "cannot verify the user, but will accept the message and attempt delivery",
    334: "server challenge for authentication (RFC 4954)",
    354: "start mail input; end with <CRLF>.<CRLF>",
    421: "service not available, closing transmission channel",
    432: "a password transition is needed (RFC 4954)",
    450: "requested mail action not taken: mailbox unavailable (busy, or temporarily blocked)",
    451: "requested action aborted: local error in processing",
    452: "requested action not taken: insufficient system storage",
    453: "no mail (RFC 1985 ETRN)",
    454: "temporary authentication failure, or TLS not available (RFC 4954, RFC 3207)",
    455: "server unable to accommodate parameters",
    458: "unable to queue messages for node (RFC 1985)",
    459: "node not allowed (RFC 1985)",
    500: "syntax error, command unrecognized (or command line too long)",
    501: "syntax error in parameters or arguments",
    502: "command not implemented",
    503: "bad sequence of commands",
    504: "command parameter not implemented",
    521: "host does not accept mail (RFC 7504)",
    523: "encryption needed / TLS negotiation failed",
    530: "authentication required, or must issue STARTTLS first (RFC 4954, RFC 3207)",
    534: "authentication mechanism is too weak (RFC 4954)",
    535: "authentication credentials invalid (RFC 4954)",
    538: "encryption required for requested authentication mechanism (RFC 4954)",
    550: "requested action not taken: mailbox unavailable (not found, no access) or rejected for policy reasons",
    551: "user not local; please try another path",
    552: "requested mail action aborted: exceeded storage allocation",
    553: "requested action not taken: mailbox name not allowed (syntax incorrect)",
    554: "transaction failed (or, on connection, no SMTP service here)",
    555: "MAIL FROM/RCPT TO parameters not recognized or not implemented",
    556: "domain does not accept mail (RFC 7504)",
}

# Enhanced status code details without the class, IANA "SMTP Enhanced Status Codes"
# registry (RFC 3463, 3886, 4468, 4954, 5248, 6531, 6710, 7293, 7372, 7505, 8617, 8689).
ENHANCED_CODES: dict[str, str] = {
    "0.0": "other undefined status",
    "1.0": "other address status",
    "1.1": "bad destination mailbox address (the user does not exist)",
    "1.2": "bad destination system address (the domain does not exist or accept mail)",
    "1.3": "bad destination mailbox address syntax",
    "1.4": "destination mailbox address ambiguous",
    "1.5": "destination address valid",
    "1.6": "destination mailbox has moved, no forwarding address",
    "1.7": "bad sender's mailbox address syntax",
    "1.8": "bad sender's system address",
    "1.9": "message relayed to non-compliant mailer (RFC 3886)",
    "1.10": "recipient address has null MX (RFC 7505)",
    "2.0": "other or undefined mailbox status",
    "2.1": "mailbox disabled, not accepting messages",
    "2.2": "mailbox full (usually temporary, RFC 3463)",
    "2.3": "message length exceeds administrative limit",
    "2.4": "mailing list expansion problem",
    "3.0": "other or undefined mail system status",
    "3.1": "mail system full",
    "3.2": "system not accepting network messages",
    "3.3": "system not capable of selected features",
    "3.4": "message too big for system",
    "3.5": "system incorrectly configured",
    "3.6": "requested priority was changed (RFC 6710)",
    "4.0": "other or undefined network or routing status",
    "4.1": "no answer from host",
    "4.2": "bad connection",
    "4.3": "directory server failure",
    "4.4": "unable to route",
    "4.5": "mail system congestion",
    "4.6": "routing loop detected",
    "4.7": "delivery time expired",
    "4.8": "retry on IPv4 (provider use, not in the RFC 3463 list)",
    "5.0": "other or undefined protocol status",
    "5.1": "invalid command",
    "5.2": "syntax error",
    "5.3": "too many recipients",
    "5.4": "invalid command arguments",
    "5.5": "wrong protocol version",
    "5.6": "authentication exchange line is too long (RFC 4954)",
    "6.0": "other or undefined media error",
    "6.1": "media not supported",
    "6.2": "conversion required and prohibited",
    "6.3": "conversion required but not supported",
    "6.4": "conversion with loss performed",
    "6.5": "conversion failed",
    "6.6": "message content not available (RFC 4468)",
    "6.7": "non-ASCII addresses not permitted for that sender/recipient (RFC 6531)",
    "6.8": "UTF-8 string reply is required, but not permitted by the SMTP client (RFC 6531)",
    "6.9": "UTF-8 header message cannot be transferred to one or more recipients (RFC 6531)",
    "6.10": "UTF-8 reply required (duplicate of X.6.8, deprecated, RFC 6531)",
    "7.0": "other or undefined security status",
    "7.1": "delivery not authorized, message refused",
    "7.2": "mailing list expansion prohibited",
    "7.3": "security conversion required but not possible",
    "7.4": "security features not supported",
    "7.5": "cryptographic failure",
    "7.6": "cryptographic algorithm not supported",
    "7.7": "message integrity failure",
    "7.8": "authentication credentials invalid (RFC 4954)",
    "7.9": "authentication mechanism is too weak (RFC 4954)",
    "7.10": "encryption needed (RFC 5248)",
    "7.11": "encryption required for requested authentication mechanism (RFC 4954)",
    "7.12": "a password transition is needed (RFC 4954)",
    "7.13": "user account disabled (RFC 5248)",
    "7.14": "trust relationship required (RFC 5248)",
    "7.15": "priority level is too low (RFC 6710)",
    "7.16": "message is too big for the specified priority (RFC 6710)",
    "7.17": "mailbox owner has changed (RFC 7293)",
    "7.18": "domain owner has changed (RFC 7293)",
    "7.19": "RRVS test cannot be completed (RFC 7293)",
    "7.20": "no passing DKIM signature found (RFC 7372)",
    "7.21": "no acceptable DKIM signature found (RFC 7372)",
    "7.22": "no valid author-matched DKIM signature found (RFC 7372)",
    "7.23": "SPF validation failed (RFC 7372)",
    "7.24": "SPF validation error (RFC 7372)",
    "7.25": "reverse DNS validation failed (RFC 7372)",
    "7.26": "multiple authentication checks failed (RFC 7372)",
    "7.27": "sender address has null MX (RFC 7505)",
    "7.28": "mail flood detected",
    "7.29": "ARC validation failure (RFC 8617)",
    "7.30": "REQUIRETLS support required (RFC 8689)",
}

ENHANCED_CLASSES = {"2": "success", "4": "persistent transient failure", "5": "permanent failure"}

# Sisimai's internal delivery status codes (go-sisimai smtp/status/lib.go, Code()): when a
# bounce carries no explicit status, Sisimai writes X.0.9NN for the reason it found, so
# "5.0.911" in a Sisimai-processed export means userunknown. Not IANA codes (IsExplicit is
# false for them). Detail -> Sisimai reason.
SISIMAI_INTERNAL_CODES: dict[str, str] = {
    "900": "undefined", "901": "onhold", "902": "syntaxerror", "903": "suppressed",
    "909": "norelaying", "910": "filtered", "911": "userunknown", "912": "hostunknown",
    "916": "hasmoved", "918": "rejected", "921": "suspend", "922": "mailboxfull",
    "923": "exceedlimit", "924": "filtered", "926": "authfailure", "930": "systemerror",
    "931": "systemfull", "932": "notaccept", "934": "mesgtoobig", "939": "mailererror",
    "944": "networkerror", "945": "toomanyconn", "946": "speeding", "947": "expired",
    "960": "contenterror", "970": "securityerror", "971": "blocked",
    "972": "policyviolation", "973": "requireptr", "974": "notcompliantrfc",
    "975": "badreputation", "976": "failedstarttls", "980": "spamdetected",
    "981": "virusdetected",
}

# Where a code can start: line start or after whitespace/punctuation that real senders
# put before it ("said: 550-5.1.1", "smtp;550", "{LED=550 5.1.1", "dsn=5.2.2", "#5.1.1").
_B = r"[\s;:(\[=<>#\"'{,]"
# A basic reply code at the start of a reply ("550 ", "550-", "smtp; 550 ") or, failing
# that, the first code that is followed by an enhanced code ("said: 550-5.1.1 ...").
_LEADING_CODE_RE = r"^\s*(?:[A-Za-z-]+;\s*)?([2-5][0-9][0-9])(?:[ -]|$)"
_CODE_BEFORE_ENHANCED_RE = rf"(?:^|{_B})([2-5][0-9][0-9])[ -]+[245]\.[0-9]{{1,3}}\.[0-9]{{1,3}}"
# Exim/Postfix: "... said: 550 ...", "SMTP error from remote mail server after RCPT
# TO:<a@b>: 550 ...", Exchange "{LED=550 ...".
_CODE_AFTER_MARKER_RE = r"(?:said|error|LED=|reply|response|returned)[^0-9]{0,80}?[\s:;='\"]([2-5][0-9][0-9])(?:[ -]|$)"
_ANY_CODE_RE = rf"(?:^|{_B})([2-5][0-9][0-9])(?:[ -]|$)"
# Enhanced status code: class.subject.detail, not inside an IP address or version.
_ENHANCED_RE = r"(?:^|[\s#(;:=\[<{'\"-])([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[\s;,)\]}>'\"]|$)"
_CODE_PATTERNS = (_LEADING_CODE_RE, _CODE_BEFORE_ENHANCED_RE, _CODE_AFTER_MARKER_RE, _ANY_CODE_RE)
_CODE_RES = tuple(re.compile(p, re.IGNORECASE) for p in _CODE_PATTERNS)
_ENH_RE = re.compile(_ENHANCED_RE)


def _sql_literal(pattern: str) -> str:
    return "'" + pattern.replace("'", "''") + "'"


def reply_code_sql(col: str) -> str:
    """SQL extracting the basic reply code from a text column (NULL when none)."""
    parts = [
        f"nullif(regexp_extract({col}, {_sql_literal('(?i)' + p)}, 1), '')" for p in _CODE_PATTERNS
    ]
    return f"TRY_CAST(coalesce({', '.join(parts)}) AS INTEGER)"


def enhanced_code_sql(col: str) -> str:
    """SQL extracting the first enhanced status code from a text column (NULL when none)."""
    return f"nullif(regexp_extract({col}, {_sql_literal(_ENHANCED_RE)}, 1), '')"


def extract_reply_code(text: str | None) -> int | None:
    """The basic reply code in a reply text, or None (same rules as reply_code_sql)."""
    if not text:
        return None
    for pattern in _CODE_RES:
        m = pattern.search(text)
        if m:
            return int(m.group(1))
    return None


def extract_enhanced_code(text: str | None) -> str | None:
    """The first enhanced status code in a reply text, or None."""
    if not text:
        return None
    m = _ENH_RE.search(text)
    return m.group(1) if m else None


def parse_reply_code(value: object) -> int | None:
    """A reply code given as int, '550', '550.0' or None, as an int in 200..599 or None."""
    if value is None or value == "":
        return None
    try:
        code = int(float(str(value).strip()))
    except ValueError:
        return extract_reply_code(str(value))
    return code if 200 <= code <= 599 else None


def parse_enhanced_code(value: object) -> str | None:
    """An enhanced status code ('5.1.1', ' 5.1.1 ', 'dsn=5.1.1') normalised, or None."""
    if value is None:
        return None
    text = str(value).strip()
    if re.fullmatch(r"[245]\.\d{1,3}\.\d{1,3}", text):
        return ".".join(str(int(p)) for p in text.split("."))
    return extract_enhanced_code(text)


def prefer(status: str | None, in_text: str | None, reply: int | None = None) -> str | None:
    """Which enhanced code to believe: the one given (a DSN's Status:, an export's column) or
    the one in the reply text. Sisimai's smtp/status Prefer(): the class of the reply code
    settles a disagreement of classes; a specific code beats X.0.0 or X.Y.0; vague given codes
    (4.4.7, 4.7.0, 5.3.x, X.5.1/2/4/5) yield to the text's; 5.1.1 yields unless the text's is
    vague or a protocol code; 5.1.3 yields to a 5.7.x."""
    if not status or not in_text or len(in_text) < 5:
        return status or in_text
    if len(status) < 5:
        return in_text
    klass = str(reply)[0] if reply else "0"
    if status[0] != in_text[0]:
        if klass == status[0]:
            return status
        if klass == in_text[0]:
            return in_text
    if status == in_text:
        return status
    if ".0.0" in status[1:]:
        return status if ".0.0" in in_text[1:] else in_text
    if ".0" in status[1:] and ".0" not in in_text:
        return in_text
    if ".0.0" in in_text[1:]:
        return status
    if status in ("4.4.7", "4.7.0") or status.startswith("5.3.") or \
            status[1:5] in (".5.1", ".5.2", ".5.4", ".5.5"):
        return in_text
    if status == "5.1.1":
        return status if ".0" in in_text[1:] or in_text.startswith("5.5.") else in_text
    if status == "5.1.3" and in_text.startswith("5.7."):
        return in_text
    return status


def describe(code: int | str | None) -> str | None:
    """The meaning of a basic ('550') or enhanced ('5.1.1') code, or None if unknown."""
    if code is None:
        return None
    text = str(code).strip()
    if re.fullmatch(r"\d{3}", text):
        return REPLY_CODES.get(int(text))
    m = re.fullmatch(r"([245])\.(\d{1,3})\.(\d{1,3})", text)
    if not m:
        return None
    detail = ENHANCED_CODES.get(f"{int(m.group(2))}.{int(m.group(3))}")
    if detail is None and m.group(2) == "0" and m.group(3) in SISIMAI_INTERNAL_CODES:
        detail = (f"Sisimai's internal code for the reason "
                  f"'{SISIMAI_INTERNAL_CODES[m.group(3)]}' (not in the IANA registry)")
    if detail is None:
        area = ENHANCED_CODES.get(f"{int(m.group(2))}.0")
        if area is None:
            return None
        detail = f"{area} (detail {m.group(3)} is not in the registry)"
    return f"{ENHANCED_CLASSES[m.group(1)]}: {detail}"


_PREFIX_RE = re.compile(r"^\s*(?:smtp|x-postfix|x-unix|x-local|dsn)\s*;\s*", re.IGNORECASE)
_SPACES_RE = re.compile(r"\s+")
_LINE_CODE_RE = re.compile(r"^\s*([2-5]\d\d)([ -])\s*(?:([245]\.\d{1,3}\.\d{1,3})\s+)?")


def normalise_reply(text: str | None) -> str:
    """One-line reply text: no 'smtp;' prefix, no repeated NNN-/enhanced codes, single spaces."""
    if not text:
        return ""
    text = _PREFIX_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [ln for ln in text.split("\n") if ln.strip()]
    first_code = first_enh = None
    parts: list[str] = []
    for i, line in enumerate(lines):
        m = _LINE_CODE_RE.match(line)
        if m and (first_code is None or m.group(1) == first_code):
            if i == 0:
                first_code, first_enh = m.group(1), m.group(3)
                parts.append(f"{m.group(1)} {m.group(3) + ' ' if m.group(3) else ''}"
                             + line[m.end():].strip())
                continue
            rest = line[m.end():]
            if m.group(3) and m.group(3) != first_enh:
                rest = m.group(3) + " " + rest
            parts.append(rest.strip())
        else:
            parts.append(line.strip())
    out = " ".join(p for p in parts if p)
    if first_code:
        # Replies already joined on one line by the sender ("... 550-5.7.26 to domain's ...").
        rep = rf"\s{first_code}[ -]" + (rf"(?:{re.escape(first_enh)}\s+)?" if first_enh else "")
        head, tail = out[:4], out[4:]
        if first_code in tail:  # (the pattern cannot match otherwise)
            out = head + re.sub(rep, " ", tail)
    return _SPACES_RE.sub(" ", out).strip()
