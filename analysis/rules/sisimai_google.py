"""Sisimai's Google tables (rhost/for-google.go, rhost/for-gsuite.go): Gmail's own replies."""

from __future__ import annotations

from . import Rule, slug
from .sisimai import GO

# rhost/for-google.go: (reply code, status code, reason, phrase). Sisimai matches the phrase
# together with the last two digits of the reply code and the subject.detail of the status
# code, whatever their class: "421 4.7.0" also stands for "521 5.7.0".
GOOGLE = GO + "rhost/for-google.go (Sisimai Google rhost table)"
_GOOGLE: tuple[tuple[int, str, str, str], ...] = (
    (451, "4.7.24", "authfailure", "the spf record of the sending domain"),
    (550, "5.7.24", "authfailure", "the spf record of the sending domain"),
    (421, "4.7.26", "authfailure", "senders to authenticate with either spf or dkim"),
    (550, "5.7.26", "authfailure", "senders to authenticate with either spf or dkim"),
    (550, "5.7.26", "authfailure", "fails to pass spf checks for an spf record with a hard fail"),
    (550, "5.7.26", "authfailure", "has an spf record with a hard fail policy"),
    (451, "4.7.26", "authfailure", "is not accepted due to domain's dmarc policy"),
    (550, "5.7.26", "authfailure", "is not accepted due to domain's dmarc policy"),
    (550, "5.7.1", "authfailure", "fails to pass authentication checks"),
    (550, "5.7.26", "authfailure", "fails to pass authentication checks"),
    (421, "4.7.27", "authfailure", "senders to authenticate with spf"),
    (421, "4.7.27", "authfailure", "senders to authenticate their email with spf"),
    (550, "5.7.27", "authfailure", "senders to authenticate with spf"),
    (421, "4.7.30", "authfailure", "senders to authenticate their email with dkim"),
    (550, "5.7.30", "authfailure", "senders to authenticate with dkim"),
    (421, "4.7.32", "authfailure", "aligned with either the authenticated spf or dkim"),
    (421, "4.7.40", "authfailure", "to add a dmarc record to "),
    (421, "4.7.0", "badreputation", "very low reputation of the sending ip address"),
    (421, "4.7.0", "badreputation", "very low reputation of the sending domain"),
    (550, "5.7.1", "badreputation", "due to the very low reputation of the sending ip address"),
    (550, "5.7.1", "badreputation", "due to the very low reputation of the sending domain"),
    (421, "4.7.0", "blocked", "ip not in whitelist for rcpt domain"),
    (421, "4.7.0", "blocked", "try again later, closing connection."),
    (501, "5.5.4", "blocked", "empty helo/ehlo argument not allowed"),
    (501, "5.5.4", "blocked", "helo/ehlo argument is invalid"),
    (421, "4.7.0", "blocked", "an unusual rate of unsolicited mail"),
    (421, "4.7.28", "blocked", "an unusual rate of mail"),
    (550, "5.7.1", "blocked", "an unusual rate of unsolicited mail"),
    (550, "5.7.28", "blocked", "an unusual rate of unsolicited mail"),
    (552, "5.2.3", "exceedlimit", "exceeded google's message size limits"),
    # Not ported: the table's 552 5.3.4 ExceedLimit rows (too many attachments, header size
    # limits); tests/corpus/replies.csv labels these Google texts MesgTooBig, as 5.3.4 is.
    (421, "4.7.0", "expired", "connection expired"),
    (451, "4.4.2", "expired", "timeout - closing connection"),
    (530, "5.7.0", "failedstarttls", "must issue a starttls command first"),
    (454, "5.5.1", "failedstarttls", "starttls may not be repeated"),
    (421, "4.7.0", "failedstarttls", "tls required for rcpt domain"),
    (421, "4.7.29", "failedstarttls", "senders to use tls/ssl for smtp"),
    (550, "5.7.29", "failedstarttls", "senders to use tls/ssl for smtp"),
    (452, "4.2.2", "mailboxfull", "inbox is out of storage space"),
    (552, "5.2.2", "mailboxfull", "inbox is out of storage space and inactive"),
    (452, "4.2.2", "mailboxfull", "is over quota"),
    (552, "5.2.2", "mailboxfull", "is over quota"),
    (550, "5.7.1", "mailboxfull", "email quota exceeded"),
    (552, "5.3.4", "mesgtoobig", "exceeded google's message size limits"),
    (552, "5.3.4", "mesgtoobig", "exceeds google's message size limit of"),
    (554, "5.4.6", "networkerror", "message exceeded 50 hops"),
    (554, "5.6.0", "networkerror", "message exceeded 50 hops"),
    (550, "5.7.0", "norelaying", "mail relay denied"),
    (550, "5.7.1", "norelaying", "invalid credentials for relay"),
    (550, "5.7.1", "norelaying", "is not authorized to send email directly to our servers"),
    (550, "5.7.1", "notcompliantrfc", "missing a valid address in the from: header"),
    (550, "5.7.1", "notcompliantrfc", "multiple addresses in from: header are not accepted"),
    (550, "5.7.1", "notcompliantrfc", "is not rfc 5322 compliant"),
    (550, "5.7.1", "notcompliantrfc", "missing a valid message-id: header"),
    (550, "5.7.1", "notcompliantrfc", "contains a unicode character in a disallowed header"),
    (550, "5.7.1", "notcompliantrfc", "encoded-word syntax is not permitted"),
    (553, "5.1.7", "notcompliantrfc", "is not a valid rfc 5321 address"),
    (554, "5.6.0", "notcompliantrfc", "mail message is malformed"),
    (552, "5.7.0", "policyviolation", "illegal attachment on your message"),
    (552, "5.7.0", "policyviolation", "blocked because its content presents a potential security issue"),
    (550, "5.7.1", "policyviolation", "you are sending to (or from) has a policy that prohibited"),
    (421, "4.7.28", "policyviolation", "sending messages with the same message-id:"),
    (550, "5.7.0", "rejected", "mail sending denied"),
    (550, "5.7.1", "rejected", "unauthenticated email is not accepted"),
    (421, "4.7.0", "requireptr", "does not have a ptr record"),
    (421, "4.7.23", "requireptr", " have a ptr record, or the ptr record"),
    (550, "5.7.1", "requireptr",
     "does not meet ipv6 sending guidelines regarding ptr records and authentication"),
    (550, "5.7.25", "requireptr", "does not have a ptr record"),
    (550, "5.7.25", "requireptr", "does not match the ip address of the hostname"),
    (454, "4.7.0", "securityerror", "too many login attempts"),
    # Sisimai also files 501 5.5.2 "cannot decode response" under SecurityError, but its own
    # SyntaxError row (501 5.5.2 "syntax error") matches the same Gmail text, "Syntax error,
    # cannot decode response" (which of the two wins depends on Go's map order): left out.
    (503, "5.7.0", "securityerror", "no identity changes permitted"),
    (530, "5.5.1", "securityerror", "authentication required."),
    (530, "5.7.0", "securityerror", "authentication required."),
    (535, "5.7.1", "securityerror", "application-specific password required"),
    (535, "5.7.9", "securityerror", "application-specific password required"),
    (535, "5.7.1", "securityerror", "please log in with your web browser"),
    (534, "5.7.9", "securityerror", "please log in with your web browser"),
    (534, "5.7.14", "securityerror", "please log in through your web browser"),
    (535, "5.7.1", "securityerror", "username and password not accepted"),
    (535, "5.7.8", "securityerror", "username and password not accepted"),
    (421, "4.7.0", "spamdetected", "due to the nature of the content or the links within"),
    (550, "5.7.1", "spamdetected", "likely unsolicited mail"),
    (450, "4.2.1", "speeding", "is receiving mail too quickly"),
    (450, "4.2.1", "speeding", "peak smtp relay limit exceeded for customer"),
    (450, "4.2.1", "speeding", "rate that prevents additional messages from being delivered"),
    (550, "5.2.1", "speeding", "rate that prevents additional messages from being delivered"),
    (550, "5.4.5", "speeding", "daily sending quota exceeded"),
    (550, "5.4.5", "speeding", "daily user sending limit exceeded"),
    (550, "5.4.5", "speeding", "daily smtp relay limit exceeded for"),
    (550, "5.7.1", "speeding", "daily smtp relay limit exceeded for"),
    (550, "5.7.1", "speeding", "daily smtp relay sending limit exceeded for"),
    (550, "5.7.1", "speeding", "this mail has been rate limited"),
    (550, "5.2.1", "suspend", "account that you tried to reach is disabled"),
    (550, "5.2.1", "suspend", "account that you tried to reach is inactive"),
    (451, "4.5.0", "syntaxerror", "smtp protocol violation"),
    (454, "4.5.0", "syntaxerror", "smtp protocol violation"),
    (525, "5.7.10", "syntaxerror", "smtp protocol violation"),
    (535, "5.5.4", "syntaxerror", "optional argument not permitted"),
    (501, "5.7.11", "syntaxerror", "syntax error"),
    (501, "5.5.2", "syntaxerror", "syntax error"),
    (555, "5.5.2", "syntaxerror", "syntax error"),
    (502, "5.5.1", "syntaxerror", "too many unrecognized commands, goodbye"),
    (502, "5.5.1", "syntaxerror", "unimplemented command"),
    (502, "5.5.1", "syntaxerror", "unrecognized command"),
    (503, "5.5.1", "syntaxerror", "bad sequence of commands"),
    (503, "5.5.1", "syntaxerror", "ehlo/helo first"),
    (503, "5.5.1", "syntaxerror", "mail first"),
    (503, "5.5.1", "syntaxerror", "rcpt first"),
    (503, "5.5.1", "syntaxerror", "no data after bdat"),
    (504, "5.7.4", "syntaxerror", "unrecognized authentication type"),
    (504, "5.7.4", "syntaxerror", "xoauth is no longer supported"),
    (554, "5.7.0", "syntaxerror", "too many unauthenticated commands"),
    (421, "4.3.0", "systemerror", "temporary system problem"),
    (421, "4.7.0", "systemerror", "temporary system problem"),
    (421, "4.4.5", "systemerror", "server busy"),
    (451, "4.3.0", "systemerror", "multiple destination domains per transaction is unsupported"),
    (451, "4.3.0", "systemerror", "mail server has temporarily rejected this message"),
    (451, "4.3.0", "systemerror", "mail server temporarily rejected message"),
    (452, "4.5.3", "systemerror", "domain policy size per transaction exceeded"),
    (454, "4.7.0", "systemerror", "cannot authenticate due to temporary system problem"),
    (452, "4.5.3", "toomanyconn", "your message has too many recipients"),
    (550, "5.5.3", "toomanyconn", "too many recipients for this sender"),
    (550, "5.1.1", "userunknown", "the email account that you tried to reach does not exist"),
    (553, "5.1.2", "userunknown", "we weren't able to find the recipient domain"),
    (553, "5.1.3", "userunknown", "is not a valid rfc 5321 address"),
)


# Narrower rows of ours keep their texts: Google's "Email relay denied ... The sending email
# account has been temporarily suspended due to abuse" is Blocked (providers.py).
_NOT: dict[str, str] = {"mail relay denied": r"^(?!.*suspended due to abuse)"}


def _codes(reply: int) -> tuple[int, int]:
    """Sisimai compares the last two digits of the reply code: 421 also stands for 521."""
    return 400 + reply % 100, 500 + reply % 100


GOOGLE_RULES: list[Rule] = [
    Rule(f"sis.google.{reason}:{slug(phrase)}-{reply}-{slug(status)}", reason, host="google",
         code=_codes(reply), enhanced="*." + status.split(".", 1)[1], text=(phrase,),
         regex=_NOT.get(phrase), source=GOOGLE)
    for reply, status, reason, phrase in _GOOGLE
]

# rhost/for-gsuite.go (Google Workspace, replies relayed by googlemail.com): a DNS failure is
# HostUnknown when both the status and the reply code are 5xx, NetworkError when neither is.
# Its UserUnknown phrase is ported in sisimai_rhost.py (it needs no host marker).
GSUITE = GO + "rhost/for-gsuite.go (Sisimai GSuite rhost table)"
_GSUITE_DNS = (" responded with code nxdomain", "domain name not found")
GSUITE_RULES: list[Rule] = [
    *[Rule(f"sis.gsuite.hostunknown:{slug(p)}", "hostunknown", host="google", code="5",
           enhanced=r"^5\.", text=(p,), source=GSUITE) for p in _GSUITE_DNS],
    # A reply without a code is NetworkError in Sisimai too; these rows need a 4xx reply code.
    *[Rule(f"sis.gsuite.networkerror:{slug(p)}", "networkerror", host="google", code="4",
           skip_enhanced=r"^5\.", text=(p,), source=GSUITE)
      for p in (" had no relevant answers.", *_GSUITE_DNS)],
    # "Null MX" of the recipient's domain; a sender's null MX is Rejected (generic.py).
    Rule("sis.gsuite.notaccept:null-mx", "notaccept", host="google", text=("null mx",),
         regex=r"^(?!.*\bsender\b)", source=GSUITE),
]
