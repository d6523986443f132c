"""Sisimai's reason definitions, ported: phrase indexes, status-code table and precedence.

The reference for issue 9 is Sisimai's reason, so this module follows how Sisimai decides
(go-sisimai reason/find.go, reason/lib.go, smtp/status/lib.go):

1. `classorder[0]`: for each reason in this order, the delivery status code pointing to it
   (where Sisimai's ProbesInto checks the code), then its phrase index (`FIRST_HEAD_RULES`,
   `FIRST_USER_RULES`, `FIRST_TAIL_RULES`: generic.py puts the Filtered rows between);
2. `classorder[1]`: the phrase indexes of the remaining reasons (`SECOND_RULES`);
3. the code tables (analysis/rules/codes.py), which follow Sisimai's status table below.

How they are used (analysis/rules/generic.py): the MTA and provider tables of
sisimai_lhost.py / sisimai_rhost.py first (Sisimai decides from them before anything else),
then classorder[0]'s rows (with the status-code rows that Sisimai's ProbesInto checks) and
SECOND_RULES, then our own phrase rows for what Sisimai's indexes leave. Our labelled corpora
preferred our rows first, but they are our reading of Sisimai's definitions; Sisimai's own
output on the corpus texts (Debian's Sisimai 4.25 and a v5 build, README) agrees with this
order on more rows. Guards (NOT_SENDER here; ADDRESS_CODE_GUARD_RULES and the veto of
VETO_RULES in generic.py / classify.py) keep a sender's problem or a block from being read
as the recipient's unknown address.

Phrases are lower-case; a tuple is Sisimai's `pairs` (fragments that occur in this order).
Each row cites the go-sisimai file its phrase comes from.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..smtp import SISIMAI_INTERNAL_CODES
from . import Rule, slug

GO = "https://github.com/sisimai/go-sisimai/blob/main/"
WHY = GO + "reason/why-{}.go (Sisimai {} index)"
STATUS = GO + "smtp/status/lib.go (Sisimai status.Name)"
ORDER = GO + "reason/lib.go (classorder) + reason/find.go"

# smtp/status/lib.go Code(): the internal status X.0.9NN that Sisimai writes for the reason
# it decided when a bounce had no explicit status. Such a code is that decision, so these
# rows come first; 900 (undefined) and 901 (onhold) say nothing was decided and are left to
# the other rows (which end at onhold/undefined when nothing matches either).
INTERNAL_STATUS_RULES: list[Rule] = [
    Rule(f"sisimai-status:{detail}", reason, enhanced=rf"^[45]\.0\.{detail}$",
         source=GO + "smtp/status/lib.go (Sisimai status.Code: internal status codes)")
    for detail, reason in SISIMAI_INTERNAL_CODES.items() if detail not in ("900", "901")
]

# smtp/status/lib.go Name(): delivery status code -> reason.
STATUS_REASONS: dict[str, str] = {
    "4.1.6": "hasmoved", "4.1.7": "rejected", "4.1.8": "rejected", "4.1.9": "systemerror",
    "4.2.1": "blocked", "4.2.2": "mailboxfull", "4.2.3": "exceedlimit", "4.2.4": "filtered",
    "4.3.1": "systemfull", "4.3.2": "notaccept", "4.3.3": "systemerror",
    "4.3.5": "systemerror", "4.4.1": "expired", "4.4.2": "networkerror",
    "4.4.3": "systemerror", "4.4.4": "networkerror", "4.4.5": "systemfull",
    "4.4.6": "networkerror", "4.4.7": "expired", "4.4.8": "networkerror",
    "4.5.3": "systemerror", "4.5.5": "systemerror", "4.6.0": "contenterror",
    "4.6.2": "contenterror", "4.6.5": "contenterror", "4.7.1": "blocked", "4.7.2": "blocked",
    "4.7.5": "securityerror", "4.7.6": "securityerror", "4.7.7": "securityerror",
    "4.7.12": "securityerror", "4.7.15": "securityerror", "4.7.16": "mesgtoobig",
    "4.7.24": "authfailure", "4.7.25": "requireptr", "4.7.26": "authfailure",
    "5.1.0": "userunknown", "5.1.1": "userunknown", "5.1.2": "hostunknown",
    "5.1.3": "userunknown", "5.1.4": "filtered", "5.1.6": "hasmoved", "5.1.7": "rejected",
    "5.1.8": "rejected", "5.1.9": "systemerror", "5.1.10": "notaccept", "5.2.0": "filtered",
    "5.2.1": "filtered", "5.2.2": "mailboxfull", "5.2.3": "exceedlimit", "5.2.4": "filtered",
    "5.3.0": "systemerror", "5.3.1": "systemfull", "5.3.2": "notaccept",
    "5.3.3": "systemerror", "5.3.4": "mesgtoobig", "5.3.5": "systemerror",
    "5.4.0": "networkerror", "5.4.3": "systemerror", "5.4.4": "hostunknown",
    "5.5.2": "syntaxerror", "5.5.3": "toomanyconn", "5.5.4": "systemerror",
    "5.5.5": "systemerror", "5.5.6": "syntaxerror",
    **{f"5.6.{d}": "contenterror" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)},
    **{f"5.7.{d}": "securityerror" for d in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 19)},
    "5.7.13": "suspend", "5.7.16": "mesgtoobig", "5.7.17": "hasmoved", "5.7.18": "hasmoved",
    "5.7.20": "authfailure", "5.7.21": "authfailure", "5.7.22": "authfailure",
    "5.7.23": "authfailure", "5.7.24": "authfailure", "5.7.25": "requireptr",
    "5.7.26": "authfailure", "5.7.27": "notaccept", "5.7.28": "spamdetected",
    "5.7.29": "authfailure", "5.7.30": "failedstarttls",
}
def _codes(reason: str) -> str:
    """A full-match regex of the status codes Sisimai maps to `reason`."""
    codes = sorted(c for c, r in STATUS_REASONS.items() if r == reason)
    return "^(?:" + "|".join(re.escape(c) for c in codes) + ")$"


# The phrase indexes (IncludedIn: index + pairs) of go-sisimai reason/why-*.go.
INDEX: dict[str, tuple[str | tuple[str, ...], ...]] = {
    "mailboxfull": (
        "452 insufficient disk space", "account disabled temporarly for exceeding receiving limits",
        "boite du destinataire pleine", "exceeded storage allocation", "full mailbox",
        "mailbox exceeds allowed size", "mailbox size limit exceeded",
        "mailbox would exceed maximum allowed storage", "mailfolder is full",
        "no space left on device", "not sufficient disk space", "quota violation for",
        "too much mail data", "user has exceeded quota, bouncing mail",
        "user has too many messages on the server", "user's space has been used up",
        ("account is ", " quota"), ("disk", "quota"), ("enough ", " space"),
        ("mailbox ", "exceeded", " limit"), ("mailbox ", "full"), ("mailbox ", "quota"),
        ("maildir ", "quota"), ("over ", "quota"), ("quota ", "exceeded")),
    "mesgtoobig": (
        "exceeded maximum inbound message size", "exceeded the maximum incoming message size",
        "line limit exceeded", "max message size exceeded", "message file too big",
        "message length exceeds administrative limit", "message size exceeds fixed limit",
        "message size exceeds fixed maximum message size", "message size exceeds maximum value",
        "message too big", "message too large for this ", "size limit",
        "taille limite du message atteinte"),
    "exceedlimit": ("message header size exceeds limit", "message too large"),
    "suspend": (
        " is currently suspended", " temporary locked", "archived recipient",
        "boite du destinataire archivee", "email account that you tried to reach is disabled",
        "has been suspended", "inactive account", "invalid/inactive user",
        "is a deactivated mailbox", "is unavailable: user is terminated",
        "mailbox currently suspended", "mailbox disabled", "mailbox is frozen",
        "mailbox unavailable or access denied", "recipient rejected: temporarily inactive",
        "recipient suspend the service", "the email account that you tried to reach is inactive",
        "this account has been disabled or discontinued",
        "this account has been temporarily suspended", "this address no longer accepts mail",
        "this mailbox is disabled", "user or domain is disabled", "user suspended",
        "vdelivermail: account is locked email bounced"),
    "hasmoved": (" has been replaced by ",),
    "norelaying": (
        "as a relay", "email address is not verified.", "insecure mail relay",
        "is not permitted to relay through this server without authentication",
        "mail server requires authentication when attempting to send to a non-local e-mail address",
        "no relaying", "not a gateway", "not allowed to relay through this machine",
        "not an open relay, so get lost", "not local host", "relay access denied", "relay denied",
        "relay not permitted", "relaying denied", "relaying mail to ",
        "specified domain is not allowed", "that domain isn't in my list of allowed rcpthost",
        "this system is not configured to relay mail", "unable to relay ",
        "we don't handle mail for"),
    "authfailure": (
        "//spf.pobox.com", "bad spf records for", "dmarc policy",
        "doesn't meet the required authentication level", "please inspect your spf settings",
        "sender policy framework (spf) fail", "sender policy framework violation",
        "spf (sender policy framework) domain authentication fail", "spf check: fail",
        "the 5322.from address doesn't meet the authentication requirements defined for the sender",
        (" is not allowed to send mail.", "_401"),
        ("is not allowed to send from <", " per it's spf record")),
    "userunknown": (
        "#5.1.1 bad address", "550 address invalid", "5.1.0 address rejected.",
        "address does not exist", "address not present in directory", "address unknown",
        "can't accept user", "does not exist.", "destination addresses were unknown",
        "destination server rejected recipients", "email address does not exist",
        "email address could not be found", "invalid address", "invalid mailbox",
        "invalid mailbox path", "invalid recipient", "is not a known user",
        "is not a valid mailbox", "is not an active address at this host",
        "mailbox does not exist", "mailbox invalid", "mailbox is inactive",
        "mailbox is unavailable", "mailbox not present", "mailbox not found",
        "mailbox unavaiable", "nessun utente simile in questo indirizzo",
        "no account by that name here", "no existe dicha persona", "no existe ese usuario ",
        "no mail box available for this user", "no mailbox by that name is currently available",
        "no mailbox found", "no such address here", "no such mailbox",
        "no such person at this address", "no such recipient", "no such user",
        "no thank you rejected: account unavailable", "no valid recipients, bye",
        "not a valid recipient", "not a valid user here", "not a local address",
        "not email addresses", "recipient address rejected. (in reply to rcpt to command)",
        "recipient address rejected: access denied", "recipient address rejected: invalid user",
        "recipient address rejected: invalid recipient",
        "recipient address rejected: unknown user", "recipient address rejected: userunknown",
        "recipient does not exist", "recipient is not accepted", "recipient is not local",
        "recipient not exist", "recipient not found", "recipient not ok",
        "recipient refuses to accept your mail", "recipient unknown",
        "requested action not taken: mailbox unavailable", "resolver.adr.recipient notfound",
        "sorry, user unknown", "sorry, badrcptto", "sorry, no mailbox here by that name",
        "sorry, your envelope recipient has been denied",
        "that domain or user isn't in my list of allowed rcpthosts",
        "the email account that you tried to reach does not exist",
        "the following recipients was undeliverable", "the user's email name is not found",
        "there is no one at this address", "this address no longer accepts mail",
        "this email address is wrong or no longer valid",
        "this recipient is in my badrecipientto list",
        "this recipient is not in my validrcptto list", "this spectator does not exist",
        "unknown mailbox", "unknown recipient", "unknown user", "user does not exist",
        "user missing home directory", "user not active", "user not exist", "user not found",
        "user not known", "user unknown", "utilisateur inconnu !",
        "vdeliver: invalid or unknown virtual user",
        "weil die adresse nicht gefunden wurde oder keine e-mails empfangen kann",
        "your envelope recipient is in my badrcptto list",
        ("<", "> not found"), ("<", ">... blocked by "),
        ("account ", " does not exist at the organization"), ("bad", "recipient"),
        ("mailbox ", "does not exist"), ("mailbox ", "unavailable or access denied"),
        ("no ", " in name directory"), ("non", "existent user"), ("rcpt <", " does not exist"),
        ("rcpt (", "t exist "), ("recipient ", " was not found in"),
        ("recipient address rejected: user ", "  does not exist"),
        ("recipient address rejected: user unknown in ", "  table"),
        ("said: 550", "5.1.1 ", " user unknown "), ("this user doesn't have a ", " account"),
        ("unknown e", "mail address"), ("unknown local", "part"), ("user ", " was not found"),
        ("user ", " does not exist"), ("user (", ") unknown")),
    "filtered": (
        "account is protected by", "has restricted sms e-mail", "is not accepting any mail",
        "message filtered", "message rejected due to user rules", "not found recipient account",
        "recipient id refuse to receive mail",
        "recipient is only accepting mail from specific email addresses",
        "refused due to recipient preferences", "user refuses to receive this mail",
        "user reject", "you have been blocked by the recipient"),
    "requireptr": (
        "access denied. ip name lookup failed",
        "all mail servers must have a ptr record with a valid reverse dns entry",
        "bad dns ptr resource record", "cannot find your hostname", "cannot resolve your address.",
        "client host rejected: cannot find your hostname", "fix reverse dns for ",
        "ips with missing ptr records", "no ptr record found.",
        "please get a custom reverse dns name from your isp for your host", "ptr record setup",
        "reverse dns failed", "reverse dns required", "sender ip reverse lookup rejected",
        "the ip address sending this message does not have a ptr record setup",
        "the corresponding forward dns entry does not point to the sending ip",
        "this system will not accept messages from servers/devices with no reverse dns",
        "unresolvable relay host name",
        "we do not accept mail from hosts with dynamic ip or generic dns ptr-records",
        ("domain ", " mismatches client ip"), ("dns lookup failure: ", " try again later"),
        ("reverse dns lookup for host ", " failed permanently"),
        ("server access ", " forbidden by invalid rdns record of your mail server"),
        ("service permits ", " unverifyable sending ips")),
    "notcompliantrfc": (
        "duplicate header", "this message is not rfc 5322 compliant",
        "https://support.google.com/mail/?p=rfcmessagenoncompliant", (" multiple ", " header")),
    "badreputation": (
        "a poor email reputation score", "has been temporarily rate limited due to ip reputation",
        "ip/domain reputation problems", "likely suspicious due to the very low reputation",
        "none/bad reputation", "the sending mta's poor reputation"),
    "contenterror": (
        "header size exceeds maximum permitted", "improper use of 8-bit data in message header",
        "message header size, or recipient list, exceeds policy limit",
        "message mime complexity exceeds the policy maximum",
        "routing loop detected -- too many received: headers",
        "this message contain invalid mime headers",
        "this message contain improperly-formatted binary content",
        "this message contain text that uses unnecessary base64 encoding"),
    "rejected": (
        "access denied (in reply to mail from command)", "access denied (sender blacklisted)",
        "address rejected", "administrative prohibition", "batv failed to verify",
        "batv validation failure",
        "backscatter protection detected an invalid or expired email address",
        "because the sender isn't on the recipient's list of senders to accept mail from",
        "bogus mail from", "can't determine purported responsible address",
        "connections not accepted from servers without a valid sender domain",
        "denied [bouncedeny]", "denied by secumail valid-address-filter",
        "delivery not authorized, message refused", "does not exist e2110",
        "domain of sender address ", "email address is on senderfilterconfig list",
        "emetteur invalide", "empty envelope senders not allowed", "envelope blocked - ",
        "error: no third-party dsns", "from: domain is invalid. please provide a valid from:",
        "fully qualified email address required", "invalid domain, see <url:", "invalid sender",
        "is not a registered gateway user", "mail from not owned by user",
        "message rejected: email address is not verified", "mx records for ",
        "null sender is not allowed", "recipient addresses rejected : access denied",
        "recipient not accepted. (batv: no tag", "returned mail not accepted here",
        "rfc 1035 violation: recursive cname records for", "rule imposed mailbox access for",
        "sending this from a different address or alias using the ",
        "sender address has been blacklisted", "sender email address rejected",
        "sender is in my black list", "sender is spammer", "sender not pre-approved",
        "sender rejected", "sender domain is empty", "sender verify failed",
        "sender was rejected", "spam reporting address", "syntax error: empty email address",
        "the message has been rejected by batv defense", "this server does not accept mail from",
        "transaction failed unsigned dsn for", "unroutable sender address",
        "you are not allowed to post to this mailing list",
        "you are sending to/from an address that has been blacklisted",
        "your access to submit messages to this e-mail system has been rejected",
        "your email address has been blacklisted"),
    "hostunknown": (
        "domain does not exist", "domain is not reachable", "domain must exist",
        "host or domain name not found", "host unknown", "host unreachable",
        "mail domain mentioned in email address is unknown", "name or service not known",
        "no such domain", "recipient address rejected: unknown domain name",
        "recipient domain must exist", "the account or domain may not exist", "unknown host",
        "unroutable address", "unrouteable address", ("553 ", " does not exist")),
    "spamdetected": (
        " - spam", "//www.spamhaus.org/help/help_spam_16.htm", "//dsbl.org/help/help_spam_16.htm",
        "//mail.163.com/help/help_spam_16.htm", "554 5.7.0 reject, id=",
        "appears to be unsolicited", "blacklisted url in message", "block for spam",
        "blocked by policy: no spam please", "blocked by spamassassin",
        "blocked for abuse. see http://att.net/blocks",
        "cannot be forwarded because it was detected as spam",
        "considered unsolicited bulk e-mail (spam) by our mail filters",
        "content filter rejection",
        "cyberoam anti spam engine has identified this email as a bulk email",
        "denied due to spam list", "high probability of spam", "is classified as spam and is rejected",
        "listed in work.drbl.imedia.ru",
        "the mail server detected your message as spam and has prevented delivery.",
        "mail appears to be unsolicited", "mail content denied", "may consider spam",
        "message considered as spam or virus", "message contains spam or virus",
        "message content rejected", "message detected as spam", "message filtered",
        "message looks like spam", "message is being rejected as it seems to be a spam",
        "message refused by mailmarshal spamprofiler",
        "message refused by trustwave seg spamprofiler", "message rejected as spam",
        "message rejected because of unacceptable content",
        "message rejected due to suspected spam content", "message rejected for policy reasons",
        "message was rejected for possible spam/virus content",
        "our email server thinks this email is spam",
        "our system has detected that this message is ", "probable spam",
        "reject bulk.advertising", "rejected: spamassassin score ", "rejected - bulk email",
        "rejecting banned content", "rejecting mail content",
        "related to content with spam-like characteristics", "sender domain listed at ",
        "sending address not accepted due to spam filter", "spam blocked", "spam check",
        "spam content matched", "spam detected", "spam email", "spam email not accepted",
        "spam message rejected.", "spam not accepted", "spam refused", "spam rejection",
        "spam score ", "spambouncer identified spam", "spamming not allowed",
        "too many spam complaints", "too much spam.", "the email message was detected as spam",
        "the message has been rejected by spam filtering engine",
        "the message was rejected due to classification as bulk mail",
        "the content of this message looked like spam", "this message appears to be spam",
        "this message has been identified as spam",
        "this message has been scored as spam with a probability",
        "this message was classified as spam",
        "this message was rejected by recurrent pattern detection system",
        "transaction failed spam message not queued", "we dont accept spam",
        "your email appears similar to spam we have received before",
        "your email breaches local uribl policy", "your email had spam-like ",
        "your email is considered spam", "your email is probably spam",
        "your email was detected as spam", "your message as spam and has prevented delivery",
        "your message has been temporarily blocked by our filter",
        "your message has been rejected because it appears to be spam",
        "your message has triggered a spam block", "your message may contain the spam contents",
        "your message failed several antispam checks",
        ("greylisted", " please try again in"), ("mail score (", " over "),
        ("mail rejete. mail rejected. ", "506"),
        ("our filters rate at and above ", " percent probability of being spam"),
        ("rejected by ", " (spam)"), ("rejected due to spam ", "classification"),
        ("rejected due to spam ", "content"), ("rule imposed as ", " is blacklisted on"),
        ("spam ", " exceeded"), ("this message scored ", " spam points")),
    # Sisimai v5 renamed Speeding to RateLimited (why-ratelimited.go) and merged TooManyConn's
    # phrases into it; our reason names stay Speeding and TooManyConn (DESIGN.md).
    "speeding": (
        "mail sent from your ip address has been temporarily rate limited",
        "please try again slower",
        "receiving mail at a rate that prevents additional messages from being delivered",
        ("temporarily", "rate limited"), ("throttled ", "postmaster.comcast.net")),
    "toomanyconn": (
        "all available ips are at maximum connection limit", "connection rate limit exceeded",
        "exceeds per-domain connection limit for", "has exceeded the max emails per hour ",
        "throttling failure: daily message quota exceeded",
        "throttling failure: maximum sending rate exceeded", "too many connections",
        "too many concurrent smtp connections", "too many errors from your ip",
        "too many recipients", "too many smtp sessions for this host", "trop de connexions, ",
        "we have already made numerous attempts to deliver this message",
        ("connection ", "limit"), ("too many ", "session"), ("too many con", "s")),
    "blocked": (
        " said: 550 blocked", "//www.spamcop.net/bl.", "bad sender ip address",
        "banned sending ip", "blacklisted by", "blocked using ", "blocked - see http",
        "dnsbl:attrbl", "client host rejected: abus detecte gu_eib_02",
        "client host rejected: abus detecte gu_eib_04",
        "client host rejected: may not be mail exchanger",
        "client host rejected: was not authenticated", "confirm this mail server",
        "connection dropped", "connection refused by", "connection reset by peer",
        "connection was dropped by remote host",
        "connections not accepted from ip addresses on spamhaus xbl",
        "currently sending spam see: ", "domain does not exist:", "dynamic/zombied/spam ips blocked",
        "error: no valid recipients from ", "esmtp not accepting connections",
        "extreme bad ip profile", "go away", "helo command rejected:", "host network not allowed",
        "hosts with dynamic ip", "invalid ip for sending mail of domain", "is in a black list",
        "is not allowed to send mail from", "mailfrom domain is listed in spamhaus",
        "no access from mail server", "no matches to nameserver query",
        "not currently accepting mail from your ip",
        "part of their network is on our block list", "please use the smtp server of your isp",
        "refused - see http", "rejected - multi-blacklist",
        "rejected because the sending mta or the sender has not passed validation",
        "rejecting open proxy", "sender ip address rejected", "server access forbidden by your ip ",
        "service not available, closing transmission channel",
        "smtp error from remote mail server after initial connection:",
        "sorry, that domain isn't in my list of allowed rcpthosts",
        "sorry, your remotehost looks suspiciously like spammer",
        "temporarily deferred due to unexpected volume or user complaints",
        "to submit messages to this e-mail system has been rejected",
        "too many spams from your ip",
        "too many unwanted messages have been sent from the following ip address above",
        "was blocked by ", "we do not accept mail from dynamic ips",
        "you are not allowed to connect", "you are sending spam",
        "your ip address is listed in the rbl", "your network is temporary blacklisted",
        "your server requires confirmation",
        ("(", "@", ":blocked)"), ("access from ip address ", " blocked"),
        ("client host ", " blocked using"),
        ("connections will not be accepted from ", " because the ip is in spamhaus's list"),
        ("dnsbl:rbl ", ">_is_blocked"), ("email blocked by ", ".barracudacentral.org"),
        ("email blocked by ", "spamhaus"), ("host ", " refused to talk to me: ", " blocked"),
        ("ip ", " is blocked by earthlink"), ("is in an ", "rbl on "),
        ("mail server at ", " is blocked"), ("mail from ", " refused:"),
        ("mail from ", " refused, see ", "orbs"), ("message from ", " rejected based on blacklist"),
        ("messages from ", " temporarily deferred due to user complaints"),
        ("server ip ", " listed as abusive"), ("sorry! your ip address", " is blocked by rbl"),
        ("the domain ", " is blacklisted"), ("the email ", " is blacklisted"),
        ("the ip", " is blacklisted"),
        ("veuillez essayer plus tard. service refused, please try later. ", "103"),
        ("veuillez essayer plus tard. service refused, please try later. ", "510"),
        ("your access ip", " has been rejected"),
        ("your sender's ip address is listed at ", ".abuseat.org")),
    # classorder[1] only (their ProbesInto is false or checks the code alone).
    "virusdetected": (
        "it has a potentially executable attachment",
        "the message was rejected because it contains prohibited virus or spam content",
        "this form of attachment has been used by recent viruses or other malware",
        "virus detected", "virus phishing/malicious_url detected",
        "your message was infected with a virus"),
    "policyviolation": (
        "an illegal attachment on your message", "because the recipient is not accepting mail with ",
        "by non-member to a members-only list", "closed mailing list", "denied by policy",
        "email not accepted for policy reasons", "email rejected due to security policies",
        "header are not accepted", "header error", "local policy violation",
        "message bounced due to organizational settings", "message given low priority",
        "message not accepted for policy reasons", "message rejected due to local policy",
        "messages with multiple addresses", "rejected for policy reasons", "protocol violation",
        "the email address used to send your message is not subscribed to this group",
        "the message was rejected by organization policy",
        "this message was blocked because its content presents a potential",
        "we do not accept messages containing images or other attachments",
        "you're using a mass mailer",
        ("you have exceeded the", "allowable number of posts without solving a captcha")),
    "systemerror": (
        "aliasing/forwarding loop broken", "can't create user output file",
        "could not load drd for domain", "internal error reading data",
        "internal server error: operation now in progress", "interrupted system call",
        "it encountered an error while being processed", "it would create a mail loop",
        "local configuration error", "local error in processing",
        "loop was found in the mail exchanger", "loops back to myself",
        "mail system configuration error", "queue file write error",
        "recipient deferred because there is no mdb", "remote server is misconfigured",
        "server configuration error", "service currently unavailable", "system config error",
        "temporary local problem", "timeout waiting for input", "transaction failed ",
        ("unable to connect ", "daemon")),
    "networkerror": (
        "could not connect and send the mail to",
        "dns records for the destination computer could not be found",
        "hop count exceeded - possible mail loop", "host is unreachable",
        "host name lookup failure", "host not found, try again", "mail forwarding loop for ",
        "malformed name server reply", "malformed or unexpected name server reply",
        "maximum forwarding loop count exceeded", "message looping",
        "message probably in a routing loop", "no route to host", "too many hops",
        "unable to resolve route ", "unrouteable mail domain"),
    "systemfull": ("mail system full",
                   "requested mail action aborted: exceeded storage allocation"),
    "notaccept": (
        "does not accept mail (nullmx)", "host/domain does not accept mail",
        "host does not accept mail", "mail receiving disabled", "name server: .: host not found",
        "no mx record found for domain=", "no route for current request",
        "smtp protocol returned a permanent error"),
    "expired": (
        "connection timed out", "could not find a gateway for",
        "delivery attempts will continue to be", "delivery expired", "delivery time expired",
        "failed to deliver to domain ", "giving up on", "have been failing for a long time",
        "has been delayed", "it has not been collected after",
        "message expired after sitting in queue for", "message expired, cannot connect to remote server",
        "message expired, connection refulsed", "message timed out",
        "retry time not reached for any host after a long failure period", "server did not respond",
        "this message has been in the queue too long", "unable to deliver message after multiple retries",
        "was not reachable within the allowed queue period",
        "your message could not be delivered for more than", ("could not be delivered for", " days")),
    "failedstarttls": ("starttls is required to send mail", "tls required but not supported"),
    "securityerror": (
        "account not subscribed to ses", "authentication credentials invalid",
        "authentication failure", "authentication required",
        "authentication turned on in your email client",
        "executable files are not allowed in compressed files", "insecure mail relay",
        "sorry, you don't authenticate or the domain isn't in my list of allowed rcpthosts",
        "unauthenticated senders not allowed", "verification failure",
        "you are not authorized to send mail, authentication is required",
        ("authentication failed; server ", " said: "), ("authentification invalide", "305"),
        ("authentification requise", "402"), ("domain ", " is a dead domain"),
        ("user ", " is not authorized to perform ses:sendrawemail on resource")),
    "mailererror": (
        " || exit ", "procmail: ", "bin/procmail", "bin/maidrop", "command failed: ",
        "command died with status ", "command output:", "mailer error", "pipe to |/", "x-unix; "),
}

_NAMES = {"mailboxfull": "MailboxFull", "mesgtoobig": "MesgTooBig", "exceedlimit": "ExceedLimit",
          "suspend": "Suspend", "hasmoved": "HasMoved", "norelaying": "NoRelaying",
          "authfailure": "AuthFailure", "userunknown": "UserUnknown", "filtered": "Filtered",
          "requireptr": "RequirePTR", "notcompliantrfc": "NotCompliantRFC",
          "badreputation": "BadReputation", "contenterror": "ContentError",
          "rejected": "Rejected", "hostunknown": "HostUnknown", "spamdetected": "SpamDetected",
          "speeding": "RateLimited", "toomanyconn": "RateLimited", "blocked": "Blocked",
          "virusdetected": "VirusDetected", "policyviolation": "PolicyViolation",
          "systemerror": "SystemError", "networkerror": "NetworkError",
          "systemfull": "SystemFull", "notaccept": "NotAccept", "expired": "Expired",
          "failedstarttls": "FailedSTARTTLS", "securityerror": "SecurityError",
          "mailererror": "MailerError"}


def _src(reason: str) -> str:
    name = _NAMES[reason]
    return WHY.format(name.lower(), name)


def index_rows(reason: str, prefix: str = "sis", **kw: object) -> list[Rule]:
    """One row per phrase of the reason's index (ids: <prefix>.<reason>:<slug>)."""
    rows, seen = [], set()
    for frag in INDEX[reason]:
        parts = frag if isinstance(frag, tuple) else (frag,)
        rule_id = base = f"{prefix}.{reason}:{slug('-'.join(parts))}"
        n = 1
        while rule_id in seen:
            n += 1
            rule_id = f"{base}-{n}"
        seen.add(rule_id)
        if len(parts[0]) < 3 and "regex" not in kw:
            # The trigram index keys a row on its first fragment: "<" has no trigram, so
            # key it on the longest fragment and keep the order in a regex.
            longest = max(parts, key=len)
            rows.append(Rule(rule_id, reason, text=(longest,), source=_src(reason),
                             regex=".*?".join(re.escape(p) for p in parts),
                             **kw))  # type: ignore[arg-type]
            continue
        rows.append(Rule(rule_id, reason, text=parts, source=_src(reason),
                         **kw))  # type: ignore[arg-type]
    return rows


# Sisimai's Rejected index does not apply to "recipient address rejected" and friends, and
# only when the status code does not already name another reason (why-rejected.go).
_REJECTED_ISNOT = r"^(?!.*(?:5\.1\.0 address rejected|recipient address rejected|" \
                  r"sender ip address rejected))"
_EXPLICIT = "^(?:" + "|".join(re.escape(c) for c, r in STATUS_REASONS.items()
                              if r not in ("securityerror", "systemerror")) + ")$"
# UserUnknown by code (5.1.0/5.1.1/5.1.3) does not hold when the text is a block
# (why-userunknown.go: RePASS, ReBLOC, ReFULL, ReMOVE, ReFROM, Re00MX); the blocked
# phrases are checked first for these codes.
USER_CODES = _codes("userunknown")
# The address codes Sisimai reads as an unknown user or domain (5.1.0-5.1.3).
ADDRESS_CODES = "^(?:" + "|".join(re.escape(c) for c, r in STATUS_REASONS.items()
                                  if r in ("userunknown", "hostunknown")
                                  and c.startswith("5.1.")) + ")$"


# Sisimai's UserUnknown, HostUnknown and MailboxFull read words about an address or a quota
# as the recipient's. When the text says they are the *sender's* ("Sender address rejected:
# ... User unknown", "Sender domain does not exist", "Submission quota exceeded"), these rows
# stand aside and our rows decide (rejected, exceedlimit): a sender's problem must never
# drop the recipient's address (issue 9).
NOT_SENDER = (r"^(?!.*(?:\b(?:sender|mail ?from|envelope[- ]from|from (?:address|domain)|"
              r"return[- ]path|emetteur|exp[eé]diteur)\b|\b(?:sending|submission|send|outbound) "
              r"quota))")


def not_sender(rows: list[Rule]) -> list[Rule]:
    return [replace(r, regex=NOT_SENDER + (".*?" + r.regex if r.regex else "")) for r in rows]


_NOT_SPAM = "^(?!.*(?:" + "|".join(
    ".*?".join(re.escape(p) for p in (f if isinstance(f, tuple) else (f,)))
    for f in INDEX["spamdetected"]) + "))"


def _code(reason: str, rule_id: str, enhanced: str | None = None, **kw: object) -> Rule:
    return Rule(f"sis.code.{rule_id}", reason, enhanced=enhanced or _codes(reason),
                source=STATUS + "; " + ORDER, **kw)  # type: ignore[arg-type]


# classorder[0]: MailboxFull, MesgTooBig, ExceedLimit, Suspend, HasMoved, NoRelaying,
# AuthFailure, UserUnknown, Filtered, RequirePTR, NotCompliantRFC, BadReputation,
# ContentError, Rejected, HostUnknown, SpamDetected, Speeding, TooManyConn, Blocked.
FIRST_HEAD_RULES: list[Rule] = [
    *not_sender([_code("mailboxfull", "mailboxfull"), *index_rows("mailboxfull")]),
    _code("mesgtoobig", "mesgtoobig"), *index_rows("mesgtoobig", skip_enhanced=r"^[45]\.2\.3$"),
    _code("exceedlimit", "exceedlimit"), *index_rows("exceedlimit"),
    Rule("sis.code.525", "suspend", code=(525,), source=_src("suspend")),
    _code("suspend", "suspend"), *index_rows("suspend"),
    *index_rows("hasmoved"),
    *index_rows("norelaying"),
    _code("authfailure", "authfailure"), *index_rows("authfailure"),
    *index_rows("blocked", prefix="sis.user-code-not", enhanced=USER_CODES),
]
# why-userunknown.go: without a user-unknown status, the phrases count only for a reply to
# RCPT; after DATA, or with no known command, they are Filtered (sisimai_extra.py's rows,
# which generic.py puts right after these).
FIRST_USER_RULES: list[Rule] = not_sender([
    _code("userunknown", "userunknown"), *index_rows("userunknown", command=("RCPT",))])
FIRST_TAIL_RULES: list[Rule] = [
    *index_rows("filtered"),
    _code("requireptr", "requireptr"), *index_rows("requireptr"),
    *index_rows("notcompliantrfc"),
    *index_rows("badreputation"),
    # why-contenterror.go: not when the SpamDetected index matches ("appears to be spam (#5.6.0)").
    *[replace(r, regex=_NOT_SPAM + (".*?" + r.regex if r.regex else ""))
      for r in (_code("contenterror", "contenterror"), *index_rows("contenterror"))],
    _code("rejected", "rejected"),
    *[replace(r, regex=_REJECTED_ISNOT)
      for r in index_rows("rejected", skip_enhanced=_EXPLICIT)],
    Rule("sis.code.hostunknown", "hostunknown", enhanced=_codes("hostunknown"),
         regex=r"^(?!.*(?:" + "|".join(re.escape(p) for p in INDEX["networkerror"]
                                        if isinstance(p, str)) + "))",
         source=STATUS + " (not when the text is a network error)"),
    *not_sender(index_rows("hostunknown")),
    _code("spamdetected", "spamdetected"), *index_rows("spamdetected"),
    *index_rows("speeding"),
    _code("toomanyconn", "toomanyconn"), *index_rows("toomanyconn"),
    _code("blocked", "blocked"), *index_rows("blocked"),
]

# classorder[1] (the reasons not checked above): VirusDetected, PolicyViolation, SystemError,
# NetworkError, SystemFull, NotAccept, Expired, FailedSTARTTLS, SecurityError, MailerError.
SECOND_RULES: list[Rule] = [
    *index_rows("virusdetected"), *index_rows("policyviolation"), *index_rows("systemerror"),
    *index_rows("networkerror"), *index_rows("systemfull"), *index_rows("notaccept"), *index_rows("expired"),
    *index_rows("failedstarttls"), *index_rows("securityerror"), *index_rows("mailererror"),
]
