"""Rows stated as "what was refused" + "why", so unseen wordings of one meaning share a reason.

Each row restates one of Sisimai's reason definitions (reason/lib.go `Availables`,
https://libsisimai.org/en/reason/) as a subject and a predicate instead of one vendor's
sentence. Found by leaving out rules that fire on a single corpus row and looking at where
those rows fell instead (round 2 of issue 9): the fall-back rows put them in the wrong family.

`FIRST_MEANING_RULES` go before our phrase rows (a sender's quota is not a full mailbox, a
refused sender domain is not an unknown host); `BROAD_MEANING_RULES` go with the broad rows.
"""

from __future__ import annotations

from . import Rule, T

SIS = "https://github.com/sisimai/go-sisimai/blob/main/reason/lib.go (Sisimai {}: {})"
_BLOCKED = SIS.format("Blocked", "rejected due to client IP address or a hostname")
_REJECTED = SIS.format("Rejected", "rejected due to a sender's email address (envelope from)")
_EXCEED = SIS.format("ExceedLimit", "an email exceeded the limit") + "; the sender's own allowance"
_USER = SIS.format("UserUnknown", "a local part of a recipient's email address does not exist")

_SENDER = (r"(?:sender|mail ?from|envelope[- ]from|from[: ](?:address|domain|header)|from:|"
           r"return-path)")
FIRST_MEANING_RULES: list[Rule] = [
    # A quota on what the *sender* may send (per day, per organisation, per submission) is a
    # sending allowance (throttling), not the recipient's full mailbox.
    *T("exceedlimit", _EXCEED, "sending quota", "submission quota", "send quota",
       "sending rate quota", "outbound quota", category="throttling"),
    # Exchange Online "Organization queue quota exceeded": the sending organisation's queue.
    *T("speeding", SIS.format("Speeding", "exceeding a rate limit or sending too fast"),
       "queue quota"),
    # The sender's domain or address does not resolve / has no MX / is fake: the envelope
    # sender is refused (Rejected), whatever "domain does not exist" says about hosts.
    Rule("rejected:sender-domain-unresolvable", "rejected",
         regex=rf"\b{_SENDER}\b[^.;]{{0,40}}?\b(?:domain|address|mx)\b[^.;]{{0,40}}?"
               r"(?:does not exist|doesn'?t exist|not found|must resolve|unresolvable|"
               r"not resolv\w*|no mx|unknown|invalid)",
         source=_REJECTED),
    Rule("rejected:no-mx-for-sender", "rejected",
         regex=rf"\bno mx\b[^.;]{{0,30}}?\b(?:for )?(?:your )?{_SENDER}", source=_REJECTED),
    *T("rejected", _REJECTED, "fake sender", "forged sender", "sender verification failed",
       "sender address verification failed"),
    # The recipient's mailbox is out of space, whatever the words ("user has too many
    # messages", "recipient ... quota violation", "inbox is full").
    Rule("mailboxfull:mailbox-state", "mailboxfull",
         regex=r"^(?!.*\b(?:sender|sending|submission|send)\b)"
               r".*\b(?:mailbox|inbox|mail ?box|user|recipient|account|mailfolder)\b[^.;]{0,30}?"
               r"\b(?:is full|full\b|over (?:its |the )?quota|too many messages|quota violation|"
               r"out of (?:storage|space)|exceed\w* (?:its |the |their )?(?:storage|quota|size))",
         source=SIS.format("MailboxFull", "a recipient's mailbox is full")),
    # The recipient's account exists but is switched off: closed, disabled, locked, frozen.
    Rule("suspend:account-state", "suspend",
         regex=r"^(?!.*\b(?:sender|your (?:account|ip|server|domain|host))\b)"
               r".*\b(?:account|mailbox|user|recipient|address)\b[^.;:]{0,25}?"
               r"\b(?:closed|disabled|deactivated|inactive|suspended|frozen|locked)\b",
         source=SIS.format("Suspend", "a recipient account is being suspended")),
    # The recipient's domain does not exist in the DNS (not the sender's: rows above).
    Rule("hostunknown:recipient-domain-missing", "hostunknown",
         regex=r"^(?!.*\bsender\b).*\b(?:domain (?:name )?not found|nxdomain|"
               r"non-?existent domain|(?:domain|host) (?:name )?(?:does not|doesn'?t) exist)",
         source=SIS.format("HostUnknown",
                           "a domain part of a recipient's email address does not exist")),
    # RFC 5321 4.2.3: a 501 to HELO/EHLO is a syntax error in its parameter, not a block.
    Rule("syntaxerror:helo-501", "syntaxerror", code=(501,), regex=r"\b(?:helo|ehlo)\b",
         source="RFC 5321 section 4.2.3 (501 Syntax error in parameters or arguments)"),
    # The recipient address failed verification (callout): the local part is not there.
    *T("userunknown", _USER, "recipient verification failed",
       "recipient address verification failed"),
]

BROAD_MEANING_RULES: list[Rule] = [
    # The sending host's reverse DNS (PTR) is missing or does not match.
    Rule("requireptr:ptr-word", "requireptr", regex=r"\b(?:ptr|rdns|reverse dns|reverse lookup)\b",
         source=SIS.format("RequirePTR", "missing PTR record or having invalid PTR record")),
    # The HELO/EHLO name the client gave was refused: the client host (Sisimai anotherone():
    # a refusal after EHLO/HELO is Blocked); a 501 is a syntax error in the parameter.
    Rule("blocked:helo-refused", "blocked",
         regex=r"\b(?:helo|ehlo)\b[^.;]{0,40}?\b(?:invalid|error|reject\w*|refus\w*|denied|"
               r"not allowed|bad|forged|unknown|mismatch|not (?:valid|permitted|accepted))"
               r"|\b(?:invalid|bad|forged|unknown|illegal)\b[^.;]{0,30}?\b(?:helo|ehlo)\b",
         skip_enhanced=r"^[45]\.5\.[24]$", source=_BLOCKED),
    # Relaying refused in other words: "unauthorized relay traffic prohibited", "Relay
    # Prohibited", "local user only".
    Rule("norelaying:relay-refused", "norelaying",
         regex=r"\brelay(?:ing)?\b[^.;]{0,30}?\b(?:denied|prohibited|not permitted|not allowed|"
               r"refused|disallowed|forbidden|rejected)"
               r"|\b(?:unauthori[sz]ed|illegal|no|open)\s+relay\b|\blocal (?:users?|delivery) only\b",
         source=SIS.format("NoRelaying", "a connected host did not accept relaying")),
    # A header is missing, repeated or malformed; the message does not conform to an RFC.
    Rule("notcompliantrfc:header-state", "notcompliantrfc",
         regex=r"\bheaders?\b[^.;]{0,30}?\b(?:missing|duplicate\w*|non-unique|invalid|malformed|"
               r"mandatory|required|not permitted|disallowed|syntax)"
               r"|\b(?:does not|doesn'?t|not) (?:conform|comply)\w* (?:to|with) (?:the )?rfc",
         source=SIS.format("NotCompliantRFC", "non-compliance with RFC")),
    # Too many failed logins: SMTP AUTH, not the message.
    Rule("securityerror:login-attempts", "securityerror",
         regex=r"\btoo many (?:failed )?(?:login|logon|auth\w*)\b|\b(?:login|auth\w*) attempts\b",
         source=SIS.format("SecurityError", "security violation was detected on a destination host")),
    # The receiving system's own fault.
    Rule("systemerror:server-fault", "systemerror",
         regex=r"\b(?:configuration|config) (?:error|problem)\b|\bout of memory\b|"
               r"\binternal (?:server )?error\b",
         source=SIS.format("SystemError", "system error on the remote host")),
    # Concurrent connections over the server's limit.
    Rule("toomanyconn:concurrent", "toomanyconn",
         regex=r"\b(?:concurrent|simultaneous|parallel) (?:smtp )?(?:connections?|sessions?)\b"
               r"|\btoo many (?:smtp )?(?:connections|sessions)\b|\bconnection limit\b",
         source=SIS.format("TooManyConn", "too many concurrency connections to the remote host")),
    # Archives the recipient's policy does not take: encrypted, nested, password-protected.
    *T("policyviolation", SIS.format("PolicyViolation", "policy violation on a destination host"),
       "archive"),
    # Given up after days of retries.
    Rule("expired:days-of-retries", "expired",
         regex=r"\b(?:could not|couldn'?t|cannot|can'?t|unable to|not)\b[^.;]{0,30}?\b(?:deliver\w*|send\w*)"
               r"\b[^.;]{0,30}?\bfor (?:\d+|several|many|more than \d+) (?:days?|hours?)\b",
         source=SIS.format("Expired", "delivery time has expired")),
    # The connecting IP itself is named as bad or refused: "black ip", "invalid IP",
    # "IP is rejected", "no access for this ip", "IP not in whitelist".
    Rule("blocked:ip-named", "blocked",
         regex=r"\b(?:black|bad|invalid|banned|blocked|blacklisted|dynamic|rejected|"
               r"unauthori[sz]ed|denied|suspicious)\s+ip\b"
               r"|\bip\b(?: address)?[^.;]{0,30}?\b(?:reject\w*|refus\w*|denied|block\w*|"
               r"banned|not allowed|not permitted|not in (?:the )?whitelist|blacklist\w*|"
               r"is listed)"
               r"|\bfor (?:this|your) ip\b",
         source=_BLOCKED),
]
