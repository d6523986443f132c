"""Generic rows: lower-case fragments of real server replies, in priority order.

Earlier groups win: e.g. "Recipient address rejected: Greylisted" is greylisting, not a
user-unknown, and "Sender address rejected: Domain not found" is about the sender.
Phrase lists follow the reason definitions of Sisimai (https://libsisimai.org/en/reason/,
lib/Sisimai/Reason/*.pm) and the MTA sources named per group.
"""

from __future__ import annotations

from . import Rule, T

SIS = "Sisimai reason definition (lib/Sisimai/Reason/{}.pm)"
POSTFIX = "Postfix src/smtpd/smtpd_check.c, src/local, src/virtual (reply texts)"
EXIM = "Exim src/src/{{deliver,verify,acl}}.c and the spec's default messages"
SENDMAIL = "Sendmail sendmail/{{parseaddr,srvrsmtp,deliver}}.c"
QMAIL = "qmail qmail-local.c / qmail-remote.c ('#5.x.x' texts)"
DOVECOT = "Dovecot lda/lmtp quota plugin ('Quota exceeded (mailbox for user is full)')"

GENERIC_RULES: list[Rule] = [
    # Greylisting (RFC 6647): always temporary; Postgrey/Postfix, Exim, Mimecast texts.
    *T("greylisted", "RFC 6647; postgrey 'Greylisted, see http://postgrey...'; shared sample M12",
       "greylist", "grey-list", "grey list", "graylist", "gray-list", "gray list",
       "try again in a few minutes", "temporarily rejected. try again later"),
    # Null MX (RFC 7505) and domains that do not accept mail (RFC 7504 521/556).
    *T("notaccept", "RFC 7505 (null MX) / RFC 7504; " + SIS.format("NotAccept"),
       "null mx", "nullmx", "does not accept mail", "host/domain does not accept mail",
       "mail receiving disabled", "no mx record found for domain=", suppress=True),
    # SPF / DKIM / DMARC.
    *T("authfailure", "RFC 7489 (DMARC), RFC 7208 (SPF); " + SIS.format("AuthFailure"),
       "dmarc", "spf check: fail", "spf fail", "sender policy framework",
       "bad spf records for", "please inspect your spf settings", "spf validation",
       "spf (sender policy framework)", "not permitted by the domain owner",
       "sender id validation failure", "dkim signature", "dkim verification", "dkim = did not pass",
       "domainkeys", "doesn't meet the required authentication level",
       "does not meet the required authentication level", "authentication requirements",
       ("not allowed to send from", "spf"),
       "required authentication level", "failed authentication checks", "not aligned",
       "sender is unauthenticated", "unauthenticated email"),
    # Reverse DNS.
    *T("requireptr", "RFC 7372 X.7.25; Postfix reject_unknown_client_hostname; "
       + SIS.format("RequirePTR"),
       "cannot find your hostname", "cannot find your reverse hostname",
       "client host rejected: cannot find", "reverse dns", "reverse lookup",
       "ptr record", "no ptr", "rdns", "ip name lookup failed",
       "unresolvable relay host name", "does not resolve to your ip",
       "hostname does not resolve", "generic dns ptr"),
    # DNS block lists and IP blocks.
    *T("blocked", "Spamhaus/Spamcop/Barracuda/SORBS/UCEPROTECT reply texts; " + SIS.format("Blocked"),
       "spamhaus dbl", "spamhaus", "spamcop", "barracudacentral", "b.barracudacentral.org",
       "sorbs", "uceprotect", "abuseat.org", "cbl.", "psbl", "mail-abuse", "dnsbl", "rbl",
       "blocked using", "blacklist", "black list", "blocklist", "block list", "denylist",
       "banned sending ip", "bad sender ip address",
       "sender ip address rejected", "client host rejected", "helo command rejected",
       "blocked - see http", "refused - see http", "refused to talk to me",
       "not currently accepting mail from your ip", "part of their network is on our block list",
       "is not allowed to send mail from", "dynamic ip", "dynamic/zombied", "hosts with dynamic ip",
       "residential ip", "open proxy", "open relay", "ip address is blocked",
       "you are not allowed to connect", "access denied, banned", "access denied, bad helo",
       "access denied, rejected by recipient", "banned sender", "bad outbound sender",
       "spam abuse detected", "traffic not accepted from this ip", "unregistered domains",
       "tenant has exceeded threshold", "customer block list", "temporarily deferred due to unexpected volume",
       "access denied, please try again later", "sending mta's poor reputation",
       "too many spams from your ip", "you are sending spam", "your network is temporary blacklisted",
       "rejecting open proxy", "go away", "extreme bad ip profile", "service refused",
       "your access to submit messages to this e-mail system has been rejected",
       "to submit messages to this e-mail system has been rejected",
       ("(", "@", ":blocked)"), ("mail from ", " refused"), ("message from ", "rejected based on")),
    # Reputation (the provider's own score, not a public list).
    *T("badreputation", SIS.format("BadReputation"),
       "poor reputation", "bad reputation", "low reputation", "reputation is too low",
       "poor email reputation", "reputation problems", "sender reputation", "ip reputation",
       "domain reputation", "reputation score"),
    # Spam filters.
    *T("spamdetected", "SpamAssassin/Rspamd/Exim ACL texts (shared sample M14); "
       + SIS.format("SpamDetected"),
       "spamassassin", "spam points", "classified as spam", "considered spam", "detected as spam",
       "identified as spam", "looks like spam", "appears to be spam", "seems to be a spam",
       "rejected as spam", "spam detected", "spam message", "spam content", "spam score",
       "spam rejected", "spam refused", "spam not accepted", "spam filter", "spam-like",
       "spam email", "spam blocked", "spamming not allowed", "probable spam", "likely spam",
       "high probability of spam", "suspected spam", "unsolicited",
       "content filter rejection", "message content rejected", "rejecting banned content",
       "message filtered", "content rejected", "rejected by spam", "spam check", "as spam",
       "blacklisted url", "uribl", "surbl", "url in message", "message looks suspicious",
       "rejected due to spam", "(spam)", "junk mail"),
    # Viruses and dangerous attachments.
    *T("virusdetected", "ClamAV/amavisd-new 'Virus found' texts; " + SIS.format("VirusDetected"),
       "virus found", "virus detected", "contains a virus", "infected with a virus", "malware",
       "potentially executable attachment", "this form of attachment has been used by recent viruses"),
    # Sender quotas (Microsoft 5.2.2 "Submission quota exceeded", Amazon SES throttling):
    # before the mailbox-full words they share.
    *T("exceedlimit", "Exchange Online NDR table (5.2.2 submission quota); Amazon SES",
       "submission quota", "sending quota", "daily message quota", "message quota exceeded",
       "recipient quota", "daily user sending", category="throttling"),
    *T("toomanyconn", "Amazon SES 'Throttling failure: Maximum sending rate exceeded'",
       "throttling failure"),
    # Full mailboxes (RFC 3463 X.2.2: usually temporary).
    *T("mailboxfull", DOVECOT + "; " + SIS.format("MailboxFull"),
       "mailbox full", "mailbox is full", "mailbox is over quota", "full mailbox",
       "quota exceeded", "over quota", "overquota", "over the quota", "exceeded storage allocation",
       "mailbox size limit exceeded", "mailbox exceeds allowed size", "mailfolder is full",
       "insufficient disk space", "not enough storage", "out of storage", "no space left on device",
       "user has exceeded quota", "exceeded their quota", "exceeds quota", "quota violation",
       "disk quota", "mailbox would exceed", "user's space has been used up", "inbox is full",
       "storage quota", "boite du destinataire pleine", "postfach voll", "mailbox quota",
       ("mailbox ", "exceeded", " limit")),
    # Disabled, suspended, inactive mailboxes.
    *T("suspend", SIS.format("Suspend") + "; Gmail 5.2.1 'account ... is inactive'",
       "mailbox disabled", "mailbox is disabled", "account disabled", "account is disabled",
       "account has been disabled", "has been suspended", "is currently suspended",
       "mailbox currently suspended", "account suspended", "user suspended", "inactive account",
       "account is inactive", "mailbox is frozen", "mailbox is inactive",
       "temporarily inactive", "archived recipient", "user is terminated",
       "account has been temporarily suspended", "no longer active", "invalid/inactive user",
       "account expired", "account locked", "account is locked"),
    # Moved mailboxes (RFC 3463 X.1.6, RFC 5321 551).
    *T("hasmoved", "RFC 3463 X.1.6; RFC 5321 551; " + SIS.format("HasMoved"),
       " has been replaced by ", "user not local; please try", "mailbox has moved",
       "address has changed", "no forwarding address"),
    # Sender-side rejections come before user/host unknown (same words, other address).
    *T("rejected", POSTFIX + "; " + SIS.format("Rejected"),
       "sender address rejected", "sender rejected", "sender verify failed",
       "sender verification failed", "sender address has been blacklisted", "invalid sender",
       "sender domain", "domain of sender address", "unroutable sender address",
       "sender is in my black list", "sender not pre-approved", "empty envelope senders not allowed",
       "null sender is not allowed", "bogus mail from", "envelope blocked", "mail from not owned by user",
       "from: domain is invalid", "administrative prohibition", "batv", "backscatter",
       "returned mail not accepted here", "email address is not verified",
       "not on the recipient's list of senders", "list of senders to accept mail from",
       "sender not in allowed", "you are not allowed to post to this mailing list",
       "members-only list", "not subscribed to this group", "sender email address rejected",
       "this server does not accept mail from", "your email address has been blacklisted",
       "delivery not authorized, message refused", "unresolvable rfc", "fully qualified email address required"),
    # Unknown domains.
    *T("hostunknown", "RFC 3463 X.1.2; Sendmail 'Host unknown'; " + SIS.format("HostUnknown"),
       "host unknown", "unknown host", "host or domain name not found", "domain not found",
       "no such domain", "domain does not exist", "unknown domain", "domain must exist",
       "recipient domain must exist", "name or service not known", "nxdomain",
       "nonexistent domain", "non-existent domain", "could not find a mail server", "unknown mail server",
       "domain is not reachable", "we weren't able to find the recipient domain", "invalid domain",
       "mail domain mentioned in email address is unknown", "host not found",
       "unrouteable address", "unroutable address", "unrouteable mail domain"),
    # Unknown users.
    *T("userunknown", POSTFIX + "; " + EXIM + "; " + SENDMAIL + "; " + QMAIL + "; "
       + SIS.format("UserUnknown"),
       "user unknown", "unknown user", "user not found", "user not known", "user does not exist",
       "user doesn't exist", "no such user", "no such mailbox", "no such recipient",
       "no such address", "no such person", "unknown recipient", "recipient unknown",
       "recipient not found", "recipient does not exist", "recipient address rejected: access denied",
       "recipient address rejected: invalid user", "recipient address rejected: unknown user",
       "recipient address rejected: user", "invalid recipient", "invalid mailbox", "invalid address",
       "address invalid", "address unknown", "address does not exist", "address not present in directory",
       "mailbox does not exist", "mailbox not found", "mailbox unavailable", "mailbox is unavailable",
       "mailbox not present", "mailbox invalid", "unknown mailbox", "no mailbox",
       "email account that you tried to reach does not exist", "user does not exist",
       "is not a valid mailbox", "not a valid recipient", "not a valid user",
       "is not a known user", "not a local address", "recipient is not local",
       "resolver.adr.recipnotfound", "resolver.adr.recipientnotfound", "recipnotfound",
       "no account by that name", "there is no one at this address", "this address no longer accepts mail",
       "sorry, no mailbox here by that name", "badrcptto", "not in my validrcptto list",
       "bad destination mailbox address", "bad recipient", "bad address", "unknown local part",
       "unknown or illegal alias", "no valid recipients", "recipient rejected",
       "this account does not exist", "account does not exist", "account not found",
       "utilisateur inconnu", "destinataire inconnu", "unbekannt", "nicht gefunden",
       "banned recipient", "5.1.0 address rejected"),
    # Relaying.
    *T("norelaying", POSTFIX + "; " + SENDMAIL + "; " + SIS.format("NoRelaying"),
       "relay access denied", "relaying denied", "relay denied", "relay not permitted",
       "relaying not allowed", "no relaying", "unable to relay", "not allowed to relay",
       "not permitted to relay", "unauthorized relay", "not an open relay", "as a relay",
       "relay prohibited", "isn't in my list of allowed rcpthosts", "we don't handle mail for",
       "this system is not configured to relay"),
    # Throttling.
    *T("toomanyconn", SIS.format("TooManyConn") + "; Postfix 'too many connections'",
       "too many connections", "too many concurrent", "connection rate limit", "connection limit",
       "too many smtp sessions", "too many sessions", "too many recipients", "too many errors",
       "max message per connection", "maximum number of connections", "trop de connexions"),
    *T("speeding", SIS.format("Speeding"),
       "rate limit", "rate-limit", "ratelimit", "rate limited", "too fast", "too quickly",
       "too many messages", "too many emails", "sending rate", "throttl", "slow down",
       "try again slower", "exceeded the max emails per hour", "unusual rate", "too much mail",
       "message rate", "receiving limit"),
    # Size and limits.
    *T("mesgtoobig", POSTFIX + " 'Message size exceeds fixed limit'; " + SIS.format("MesgTooBig"),
       "message size exceeds", "message too big", "message too large", "message file too big",
       "message is too large", "size limit", "exceeds the maximum size", "maximum message size",
       "max message size", "exceeded maximum inbound message size", "message length exceeds",
       "taille limite"),
    *T("exceedlimit", SIS.format("ExceedLimit"), "message header size exceeds limit",
       "exceeds administrative limit", "daily limit", "sending limit"),
    # Message format.
    *T("notcompliantrfc", "RFC 5322; " + SIS.format("NotCompliantRFC"),
       "rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfc 822", "duplicate header",
       "multiple from", "missing from", "missing message-id", "bare lf", "bare linefeed",
       "message is malformed", "malformed message", "not rfc compliant", "header syntax",
       "invalid header"),
    *T("contenterror", SIS.format("ContentError"),
       "header size exceeds", "invalid mime", "mime complexity", "8-bit data", "8bit",
       "improperly-formatted", "unnecessary base64", "content error",
       "too many received: headers"),
    *T("policyviolation", SIS.format("PolicyViolation") + "; Mimecast/Exchange texts",
       "policy reasons", "for policy", "denied by policy", "local policy", "policy violation",
       "policy restriction", "organization policy", "organizational settings", "security policies",
       "security policy", "violates", "prohibited attachment", "illegal attachment",
       "not allowed by policy", "message given low priority"),
    # Authentication and TLS between servers.
    *T("failedstarttls", "RFC 3207; " + SIS.format("FailedSTARTTLS"),
       "starttls", "tls required", "must use tls", "requires tls", "encryption required",
       "tls is required", "tls negotiation failed", "requiretls"),
    *T("securityerror", "RFC 4954; " + SIS.format("SecurityError"),
       "authentication required", "authentication failed", "authentication failure",
       "authentication credentials invalid", "not authenticated", "must authenticate",
       "smtp auth", "auth required", "insecure mail relay", "verification failure",
       "unauthenticated senders not allowed"),
    # Recipient-side filters.
    *T("filtered", SIS.format("Filtered"),
       "user refuses to receive", "refused due to recipient preferences",
       "you have been blocked by the recipient", "message rejected due to user rules",
       "is not accepting any mail", "only accepting mail from specific", "account is protected by",
       "recipient id refuse to receive"),
    # Time-outs, network and DNS.
    *T("expired", SIS.format("Expired") + "; Exim 'retry timeout exceeded'; Postfix 'too long'",
       "message expired", "delivery expired", "delivery time expired", "retry timeout exceeded",
       "have been failing for a long time", "has been delayed", "giving up on",
       "message timed out", "queue too long", "too long in queue", "in the queue too long",
       "could not be delivered for", "retry time not reached", "unable to deliver message after",
       "deferred for too long"),
    *T("networkerror", SIS.format("NetworkError"),
       "connection timed out", "timed out", "timeout", "connection refused", "connection reset",
       "no route to host", "host is unreachable", "network is unreachable", "lost connection",
       "connection dropped", "dns lookup failure", "host name lookup failure", "dns query failed",
       "temporary failure in name resolution", "malformed name server reply", "mail loop",
       "routing loop", "hop count exceeded", "too many hops", "loops back to myself",
       "forwarding loop", "unable to connect", "could not connect", "tls handshake",
       "message looping"),
    *T("systemfull", SIS.format("SystemFull"), "mail system full", "insufficient system storage",
       "system storage", "disk full"),
    *T("mailererror", SIS.format("MailerError"), "procmail", "command died with status",
       "command failed", "mailer error", "pipe to |", "x-unix;", "command output"),
    *T("systemerror", SIS.format("SystemError"),
       "local error in processing", "local configuration error", "system config error",
       "server configuration error", "temporary local problem", "internal error",
       "internal server error", "service currently unavailable", "system problem",
       "error in processing", "queue file write error", "mail system configuration error"),
]

# Regex rows (after substrings): shapes that plain fragments cannot express.
REGEX_RULES: list[Rule] = [
    Rule("blocked:ms-as-code", "blocked", regex=r"\(as\d{4,}\)",
         source="Exchange Online '(AS3130)'-style policy codes, " + POSTFIX.split(";")[0]),
    Rule("userunknown:qmail-5.1.1", "userunknown", regex=r"#5\.1\.1",
         source=QMAIL),
    Rule("speeding:per-time", "speeding", regex=r"\b(per|an?) (minute|hour|day)\b",
         source=SIS.format("Speeding")),
]

# Rows that need the SMTP command the reply answered (from the caller, or from the
# text: Postfix "(in reply to RCPT TO command)", Exim "after RCPT TO").
COMMAND_RULES: list[Rule] = [
    Rule("failedstarttls:command", "failedstarttls", command=("STARTTLS",),
         source=SIS.format("FailedSTARTTLS")),
    Rule("rejected:mail-from", "rejected", command=("MAIL",), code="5",
         source=SIS.format("Rejected") + ": rejected at MAIL FROM"),
    Rule("blocked:connect", "blocked", command=("CONN", "HELO", "EHLO"), code="5",
         source=SIS.format("Blocked") + ": rejected before MAIL FROM"),
]

# Broad fragments: only when no specific row matched (each is a single common word or
# phrase that also occurs in other replies).
BROAD_RULES: list[Rule] = [
    *T("blocked", SIS.format("Blocked"), "your ip address", "from your ip", "listed at",
       "listed in", "listed on", "is blocked", "has been blocked", "connection refused by"),
    *T("spamdetected", SIS.format("SpamDetected"), "phishing", "bulk mail", "bulk email", "spam"),
    *T("virusdetected", SIS.format("VirusDetected"), "virus", "infected", "malicious"),
    *T("suspend", SIS.format("Suspend"), "is inactive", "is disabled", "deactivated"),
    *T("userunknown", SIS.format("UserUnknown"), "does not exist", "doesn't exist",
       "address rejected", "not exist"),
    *T("exceedlimit", SIS.format("ExceedLimit"), "limit exceeded", "exceeded the limit"),
    *T("mesgtoobig", SIS.format("MesgTooBig"), "message size", "too large", "too big"),
    *T("speeding", SIS.format("Speeding"), "per hour", "per minute"),
    *T("expired", SIS.format("Expired"), "expired", "time limit"),
    *T("policyviolation", SIS.format("PolicyViolation"), "attachment", "policy"),
    *T("securityerror", SIS.format("SecurityError"), "password", "credentials"),
    *T("contenterror", SIS.format("ContentError"), "encoding", "conversion"),
    *T("notcompliantrfc", "RFC 5322", "message-id", "malformed"),
    *T("systemerror", SIS.format("SystemError"), "temporary failure", "temporarily unavailable",
       "service unavailable", "service not available", "try again later", "transaction failed"),
]
