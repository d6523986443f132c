"""Generic rows: lower-case fragments of real server replies, in priority order.

Earlier groups win: e.g. "Recipient address rejected: Greylisted" is greylisting, not a
user-unknown, and "Sender address rejected: Domain not found" is about the sender.
Phrase lists follow the reason definitions of Sisimai (https://libsisimai.org/en/reason/,
lib/Sisimai/Reason/*.pm) and the MTA sources named per group.
"""

from __future__ import annotations

from dataclasses import replace

from . import GREYLIST_ADVICE, NEVER_SUPPRESS, REASONS, Rule, T
from .meaning import BROAD_MEANING_RULES, FIRST_MEANING_RULES, LOCALISED_RULES, K
from .sisimai import (
    ADDRESS_CODES,
    FIRST_HEAD_RULES,
    FIRST_TAIL_RULES,
    FIRST_USER_RULES,
    not_sender,
)
from .sisimai import SECOND_RULES as SISIMAI_SECOND_RULES
from .sisimai_extra import (
    FILTERED_DATA_RULES,
    FILTERED_UNCONFIRMED_RULES,
    LDA_RULES,
    LHOST_EXTRA_RULES,
    RHOST_EXTRA_RULES,
)
from .sisimai_lhost import LHOST_RULES as SISIMAI_LHOST_RULES
from .sisimai_rhost import MICROSOFT_CODE_RULES as SISIMAI_MICROSOFT_RULES
from .sisimai_rhost import RHOST_CODE_RULES as SISIMAI_RHOST_RULES

SIS = "Sisimai reason definition (lib/Sisimai/Reason/{}.pm)"
POSTFIX = "Postfix src/smtpd/smtpd_check.c, src/local, src/virtual (reply texts)"
EXIM = "Exim src/src/{{deliver,verify,acl}}.c and the spec's default messages"
SENDMAIL = "Sendmail sendmail/{{parseaddr,srvrsmtp,deliver}}.c"
QMAIL = "qmail qmail-local.c / qmail-remote.c ('#5.x.x' texts)"
DOVECOT = "Dovecot lda/lmtp quota plugin ('Quota exceeded (mailbox for user is full)')"

# The ESP's own report that it did not send (its suppression list): as Sisimai's ESP modules
# (lhost) decide `suppressed` before any reason index, these rows come before Sisimai's
# indexes, whose "invalid address" would otherwise read SES's wording as an unknown user.
SUPPRESSION_RULES: list[Rule] = [
    *T("suppressed", "Amazon SES / SendGrid suppression-list messages; Postmark API error 406 "
       "(https://postmarkapp.com/developer/api/overview#error-codes: recipients marked as "
       "inactive)",
       "suppressed sending", "suppression list", "address is suppressed", "previously bounced",
       "previously unsubscribed", "previously marked as spam", "marked as inactive"),
    *[r for r in FIRST_MEANING_RULES if r.reason == "suppressed"],
]

_OWN_RULES: list[Rule] = [
    *[r for r in FIRST_MEANING_RULES if r.reason != "suppressed"],
    *LOCALISED_RULES,
    # Specific phrases whose words would otherwise fall into a broader group below.
    *T("norelaying", "Exchange Online NDR table (5.7.64 connector); Sisimai rhost/for-microsoft.go",
       "tenantattribution"),
    *T("userunknown", "Exchange Online NDR table (5.7.505); IBM Domino", "banned recipient",
       "not listed in domino directory", "not listed in public name & address book"),
    *T("policyviolation", "Exchange Online 5.7.703; VPOP3 SMTP rules; relay file filters",
       "tenant allow block list", "recipient prohibited", "file extension", "high risk file"),
    # RFC 7505 X.7.27: the *sender's* domain has a null MX - not the recipient's address.
    *T("rejected", "RFC 7505 section 4.2 (sender address has null MX)",
       "sender address has null mx", ("sender", "null mx")),
    *T("rejected", "Mimecast blocked-senders policy; Exchange 5.7.12/5.7.13x",
       "policy level block list", "not authenticated by organization", "sendernotauthenticated",
       "not authenticated for group", "not authenticated for mailbox", "no access for this domain",
       "no access for this user", "domain must resolve", "fake sender", "sender is rejected"),
    # Sisimai ContentError lists 'Too many "Received" headers' (Exim) as a content error.
    *T("contenterror", SIS.format("ContentError") + "; Exim receive.c 'Too many \"Received\" "
       "headers - suspected mail loop'", "too many received", "too many \"received\""),
    *T("networkerror", "qmail-remote 'CNAME lookup failed temporarily'; Exim DNS texts",
       "cname lookup failed", "dns lookup failed"),
    *T("systemerror", SIS.format("SystemError"), "timeout waiting for input",
       "unable to process connection"),
    # Local delivery and server faults whose words ("timeout", "expired", "quota") would
    # otherwise read as a network, expiry or mailbox problem.
    *T("systemerror", QMAIL + " 'Unable to chdir to maildir', 'Timeout on maildir delivery'; "
       "Sendmail 'open timeout on <file>'; appliance 'License expired'; " + SIS.format("SystemError"),
       "chdir", "on maildir delivery", "open timeout on", "license expired", "license has expired",
       "configuration problem", "out of memory", ("database", "error"), "queue unavailable"),
    # Loops and faults inside the receiving system (Sisimai SystemError, before the
    # network group's loop words).
    *T("systemerror", SIS.format("SystemError"), "aliasing/forwarding loop broken",
       "can't create user output file", "could not load drd", "interrupted system call",
       "encountered an error while being processed", "would create a mail loop",
       "loop was found in the mail exchanger", "loops back to myself", "there is no mdb",
       "remote server is misconfigured", ("unable to connect ", "daemon")),
    *T("filtered", "Coremail bounce hints", "user in blacklist", "user rejected"),
    *T("blocked", "Coremail/Sendmail access map texts; Mimecast 421", "no access for this ip",
       "ip is rejected", "invalid ip", "sender address blocked", "null sender rate",
       "user defined policy matched", ("client host", "blocked")),
    *T("norelaying", "Coremail bounce hints", "local user only"),
    *T("authfailure", "Exchange Online 4.7.26 (IPv6 must pass SPF or DKIM)", "spf or dkim",
       "spf and dkim", "spf check failed", "failed spf", "dkim check failed", "failed dkim"),
    *T("networkerror", "Postfix/Exim/qmail DNS and loop texts; " + SIS.format("NetworkError"),
       "host not found, try again", "name server reply", "unable to resolve route",
       "dns records for the destination computer could not be found",
       "host lookup did not complete", "message is looping", "name service error"),
    *T("hostunknown", "qmail-remote '#5.1.2'/'#5.4.4'; Exim", "couldn't find any host named",
       "couldn't find a mail exchanger", "all relevant mx records point to non-existent hosts"),
    *T("rejected", "Exchange RESOLVER.RST restrictions; qmail-remote", "resolver.rst.authrequired",
       "resolver.rst.notauthorized", "sender was rejected"),
    *T("contenterror", "Exchange 'STOREDRV.Deliver; Corrupt message content'",
       "corrupt message content"),
    *T("expired", "Amazon SES / Exchange expiry texts", "exceeded max time without successful delivery"),
    # Greylisting (RFC 6647): always temporary; Postgrey/Postfix, Exim, Mimecast texts.
    *T("blocked", "RFC 6647; postgrey 'Greylisted, see http://postgrey...'; shared sample M12",
       "greylist", "grey-list", "grey list", "graylist", "gray-list", "gray list",
       "try again in a few minutes", "temporarily rejected. try again later",
       id_prefix="greylisted", category="throttling", advice=GREYLIST_ADVICE, temporary=True),
    # The *sender* is the subject: null MX, block-listed or unresolvable sender domains and
    # failed sender callouts are about the envelope sender, not the recipient or the IP.
    *T("rejected", "Postfix smtpd_nullmx.ref / smtpd_check.c (Sender address rejected); Exim "
       "callout ('Callback setup failed'); Haraka mail_from.is_resolvable; Spamhaus DBL on "
       "MAIL FROM; " + SIS.format("Rejected"),
       ("sender address rejected", "does not accept mail"), ("sender address", "blocked using"),
       ("mailfrom domain", "listed"), ("mail from domain", "listed"), ("sender domain", "listed"),
       ("mx", "your from address"), "callback setup failed", "callout verification failed",
       # cPanel/Exim sender callout: "550-Verification failed for <...> 550-The mail server
       # could not deliver mail to <...>. The account or domain may not exist, ..."
       ("verification failed", "the account or domain may not exist"),
       "requires valid sender domain", "denies the sender", "does not accept mail from",
       "badsendermx", "sendernoa", "senderfilterconfig", "emetteur invalide", "empty email address",
       "outgoing mail suspension", "registered gateway user", "sender is spammer",
       "too many spam complaints", "your email address has been blacklisted",
       "sender is in my black list", ("domain ", " is a dead domain"),
       # smtpf/Sendmail access maps: "sender <a@b> black listed", "sender <a@b> from unknown TLD"
       ("sender <", "black list"), ("sender <", "blacklist"), ("sender <", "unknown tld"),
       ("sender <", "banned")),
    # The mailbox itself is locked (Fastmail answers "Client host rejected: Address locked or
    # deactivated" for a locked account): the recipient, not the client host.
    *T("suspend", "Fastmail locked-account reply (mail.messagingengine.com/docs/locked.html)",
       "locked or deactivated", "address locked"),
    # RFC 5321 4.2.3: 501 is a syntax error in the parameters (here the HELO/EHLO name).
    *T("syntaxerror", "RFC 5321 4.2.3 (501 = syntax error in parameters); hMailServer "
       "'501 EHLO Invalid domain address'", "helo", "ehlo", code=(501,)),
    *T("syntaxerror", "RFC 5321 4.2.3 (503 bad sequence: HELO/EHLO first)", "helo first",
       "ehlo first", "say helo", "say ehlo", "send helo", "send ehlo"),
    # Relaying refusals first: "Relaying denied. IP name lookup failed" is still a relay
    # refusal, "Open relay not allowed" is the server refusing to relay, not a block list.
    *T("norelaying", POSTFIX + "; " + SENDMAIL + "; Mimecast 'Open relay not allowed'; "
       + SIS.format("NoRelaying"),
       "relay access denied", "relaying denied", "relay denied", "relay not permitted",
       "relaying not allowed", "relay not allowed", "relaying disallowed", "relay disallowed",
       "no relaying", "unable to relay", "not allowed to relay",
       "not permitted to relay", "unauthorized relay", "not an open relay", "as a relay",
       "relay prohibited", "denies relay", "isn't in my list of allowed rcpthost",
       "we don't handle mail for", "this system is not configured to relay",
       "not in my list of allowed hosts",
       "mailing to remote domains not supported"),
    # Delay warnings: the server is still trying (RFC 3464 Action: delayed).
    *T("onhold", "Sendmail/Gmail delay warnings ('Warning: message still undelivered after', "
       "'Gmail will retry for')", "will retry for", "will keep trying", "still undelivered after",
       "warning message only", "do not need to resend"),
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
       ("not allowed to send from", "spf"), ("not allowed to send mail from", "spf"),
       ("spf", "not allowed to send mail from"),
       "required authentication level", "failed authentication checks", "not aligned",
       "sender is unauthenticated", "unauthenticated email"),
    # Reverse DNS.
    *T("requireptr", "RFC 7372 X.7.25; Postfix reject_unknown_client_hostname; "
       + SIS.format("RequirePTR"),
       "cannot find your hostname", "cannot find your reverse hostname",
       "client host rejected: cannot find", "reverse dns", "reverse lookup",
       "ptr record", "no ptr", "rdns", "ip name lookup failed",
       "unresolvable relay host name", "does not resolve to your ip",
       "hostname does not resolve", "generic dns ptr", "ptr resource record",
       "mismatches client ip", "unverifyable sending ips", "ip must resolve",
       "ip address must resolve"),
    # Content verdicts that name a block list mechanism ("Blocked using spam pattern").
    *T("virusdetected", SIS.format("VirusDetected"), "virus or spam content"),
    *T("spamdetected", "Korean/Chinese gateway texts ('Blocked using spam pattern'); "
       + SIS.format("SpamDetected"), "spam pattern", "spam content", "blacklisted url",
       "mail content denied", "bulk.advertising", "recurrent pattern detection", "mass mailer",
       "temporarily blocked by our filter", "triggered a spam block"),
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
       "access denied, please try again later",
       "too many spams from your ip", "you are sending spam", "your network is temporary blacklisted",
       "rejecting open proxy", "go away", "extreme bad ip profile", "service refused",
       "your access to submit messages to this e-mail system has been rejected",
       "to submit messages to this e-mail system has been rejected",
       "black ip", "bad ip", "dictionary attack", "connection rejected", "connections not accepted",
       "access from ip address", "cannot resolve your address", "confirm this mail server",
       "currently sending spam", "no access from mail server", "use the smtp server of your isp",
       "forbidden by your ip", "listed as abusive", "looks suspiciously like spammer",
       "your server requires confirmation", "from unknown tld",
       # HELO/EHLO identity checks (Haraka helo.checks, qmail-remote, OpenSMTPD, Sina).
       "my name was rejected", "not who you say you are", "hello rejected", "helohost",
       "in helo", "helo is ", "helo must", "helo name", "invalid helo", "bad helo", "helo host",
       ("(", "@", ":blocked)"), ("mail from ", " refused"), ("message from ", "rejected based on")),
    # Reputation (the provider's own score, not a public list).
    *T("badreputation", SIS.format("BadReputation"),
       "poor reputation", "bad reputation", "low reputation", "reputation is too low",
       "poor email reputation", "reputation problems", "sender reputation", "ip reputation",
       "domain reputation", "reputation score", "insufficient reputation",
       "reputation is insufficient", "negative reputation"),
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
       "message filtered", "content rejected", "unacceptable content", "rejected by spam", "spam check", "as spam",
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
       "recipient quota", "daily user sending", "daily send rate", category="throttling"),
    *T("toomanyconn", "Amazon SES 'Throttling failure: Maximum sending rate exceeded'",
       "throttling failure"),
    *T("speeding", "Exchange Online 450 4.7.3 'Organization queue quota exceeded' (the "
       "receiving organisation's queue is throttled)", "queue quota"),
    # Full mailboxes (RFC 3463 X.2.2: usually temporary).
    *T("mailboxfull", DOVECOT + "; " + SIS.format("MailboxFull"),
       "mailbox full", "mailbox is full", "mailbox is over quota", "full mailbox",
       "quota exceeded", "over quota", "overquota", "over the quota", "exceeded storage allocation",
       "mailbox size limit exceeded", "mailbox exceeds allowed size", "mailfolder is full",
       "insufficient disk space", "not enough storage", "out of storage", "no space left on device",
       "user has exceeded quota", "exceeded their quota", "exceeds quota", "quota violation",
       "disk quota", "mailbox would exceed", "user's space has been used up", "inbox is full",
       "storage quota", "boite du destinataire pleine", "postfach voll", "mailbox quota",
       "quota limit exceeded", "exhausted allowed storage", "speichervolumen",
       "too many messages on the server", ("mailbox ", "exceeded", " limit"), ("quota ", " exceeded"),
       ("over ", "quota"), "over its size limit", ("mailbox", "size limit"),
       "exceeding their quota", "does not have enough space", "too much mail data"),
    # Disabled, suspended, inactive mailboxes.
    *T("suspend", SIS.format("Suspend") + "; Gmail 5.2.1 'account ... is inactive'",
       "mailbox disabled", "mailbox is disabled", "account disabled", "account is disabled",
       "account has been disabled", "has been suspended", "is currently suspended",
       "mailbox currently suspended", "account suspended", "user suspended", "inactive account",
       "account is inactive", "mailbox is frozen", "mailbox is inactive",
       "temporarily inactive", "archived recipient", "user is terminated",
       "account has been temporarily suspended", "no longer active", "invalid/inactive user",
       "account expired", "account locked", "account is locked", "account closed",
       "mailbox closed", "user disabled", "user is disabled", "user locked", "user is locked",
       "mailbox locked", "recipient suspend the service"),
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
       "unrouteable address", "unroutable address", "unrouteable mail domain",
       "domain name not found", "the account or domain may not exist"),
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
       "resolver.adr.recipnotfound", "mailbox doesn't exist", "resolver.adr.recipientnotfound", "recipnotfound",
       "no account by that name", "there is no one at this address", "this address no longer accepts mail",
       "sorry, no mailbox here by that name", "badrcptto", "not in my validrcptto list",
       "bad destination mailbox address", "bad recipient", "bad address", "unknown local part",
       "unknown or illegal alias", "no valid recipients", "recipient rejected",
       "this account does not exist", "account does not exist", "account not found",
       "utilisateur inconnu", "destinataire inconnu", "unbekannt", "nicht gefunden",
       "banned recipient", "5.1.0 address rejected", "addressee unknown",
       "recipient verification failed", "recipient address syntax", "mailbox syntax",
       "bad-recipient", "bad_recipient", "can't accept user", "destination addresses were unknown",
       "destination server rejected recipients", "email address could not be found",
       "is not an active address", ("mailbox <addr>", " unavailable"), "no mail box available",
       "no matches to nameserver query", "account unavailable", "nonexistent user",
       "non-existent user", ("recipient ", " was not found"), "recipient not ok",
       "email name is not found", "wrong or no longer valid", "unknown e-mail address",
       "unknown email address", "unknown local-part", ("user ", " was not found"),
       "missing home directory", "user not active", "invalid or unknown virtual user"),
    # Throttling.
    *T("toomanyconn", SIS.format("TooManyConn") + "; Postfix 'too many connections'",
       "too many connections", "too many concurrent", "connection rate limit", "connection limit",
       "too many smtp sessions", "too many sessions", "too many recipients", "too many errors",
       "max message per connection", "maximum number of connections", "trop de connexions",
       "concurrent connections"),
    *T("speeding", SIS.format("Speeding"),
       "rate limit", "rate-limit", "ratelimit", "rate limited", "too fast", "too quickly",
       "too many messages", "too many emails", "sending rate", "throttl", "slow down",
       "try again slower", "exceeded the max emails per hour", "unusual rate", "too much mail",
       "message rate", "receiving limit", "submission rate", "send rate exceeded",
       "frequency limit"),
    # Size and limits.
    *T("mesgtoobig", POSTFIX + " 'Message size exceeds fixed limit'; " + SIS.format("MesgTooBig"),
       "message size exceeds", "message too big", "message too large", "message file too big",
       "message is too large", "size limit", "exceeds the maximum size", "maximum message size",
       "max message size", "exceeded maximum inbound message size", "message length exceeds",
       "taille limite", "line limit exceeded", "longer than the maximum size",
       "larger than the maximum size", "bigger than the maximum size"),
    *T("exceedlimit", SIS.format("ExceedLimit"), "message header size exceeds limit",
       "exceeds administrative limit"),
    # The sender's own sending allowance (per day / per 24 hours): throttling, not policy.
    *T("exceedlimit", SIS.format("ExceedLimit") + "; Gmail/SES daily sending limits",
       "daily limit", "sending limit", category="throttling"),
    # Message format.
    *T("notcompliantrfc", "RFC 5322; " + SIS.format("NotCompliantRFC"),
       "rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfc 822", "duplicate header",
       "multiple from", "missing from", "missing message-id", "bare lf", "bare linefeed",
       "message is malformed", "malformed message", "not rfc compliant", "header syntax",
       "invalid header", "header error", "non-unique", "required header", "missing header",
       "header missing", ("multiple ", " header")),
    *T("contenterror", SIS.format("ContentError"),
       "header size exceeds", "invalid mime", "mime complexity", "8-bit data", "8bit",
       "improperly-formatted", "unnecessary base64", "content error", "header is too long",
       ("header size", "exceeds policy limit")),
    *T("syntaxerror", "RFC 5321 4.2.3 reply texts (500-504, 555)",
       "syntax error", "protocol violation", "bad sequence of commands", "command unrecognized",
       "unrecognized command", "command not implemented", "parameter not implemented",
       "unimplemented command"),
    *T("policyviolation", SIS.format("PolicyViolation") + "; Mimecast/Exchange texts",
       "policy reasons", "for policy", "denied by policy", "local policy", "policy violation",
       "policy restriction", "organization policy", "organizational settings", "security policies",
       "security policy", "violates", "prohibited attachment", "illegal attachment",
       "not allowed by policy", "message given low priority", "encrypted archive",
       "nested archive", "password protected", "password-protected", "encrypted attachment",
       "closed mailing list", "header are not accepted", "messages with multiple addresses"),
    # Authentication and TLS between servers.
    *T("failedstarttls", "RFC 3207; " + SIS.format("FailedSTARTTLS"),
       "starttls", "mta-sts", "tlsa-invalid", "dnssec-invalid", "certificate-host-mismatch",
       "certificate-expired", "tls required", "must use tls", "requires tls", "encryption required",
       "tls is required", "tls negotiation failed", "requiretls", "cannot start tls",
       "start tls", "tls handshake", "handshake failed", "handshake failure"),
    *T("securityerror", "RFC 4954; " + SIS.format("SecurityError"),
       "authentication required", "authentication failed", "authentication failure",
       "authentication credentials invalid", "not authenticated", "must authenticate",
       "smtp auth", "auth required", "insecure mail relay", "verification failure",
       "unauthenticated senders not allowed", "authentication is required",
       "requires authentication", "authentication turned on in your email client",
       "not subscribed to ses"),
    # Recipient-side filters.
    *T("filtered", SIS.format("Filtered"),
       "user refuses to receive", "refused due to recipient preferences",
       "you have been blocked by the recipient", "message rejected due to user rules",
       "is not accepting any mail", "only accepting mail from specific", "account is protected by",
       "recipient id refuse to receive", "restricted sms e-mail", "user reject"),
    # Time-outs, network and DNS.
    *T("expired", SIS.format("Expired") + "; Exim 'retry timeout exceeded'; Postfix 'too long'",
       "message expired", "delivery expired", "delivery time expired", "retry timeout exceeded",
       "have been failing for a long time", "has been delayed", "giving up on",
       "message timed out", "queue too long", "too long in queue", "in the queue too long",
       "could not be delivered for", "retry time not reached", "unable to deliver message after",
       "deferred for too long", ("cannot send message for", "days"),
       "could not find a gateway for", ("failed to deliver to domain", " after "),
       "has not been collected after", "within the allowed queue period"),
    *T("networkerror", SIS.format("NetworkError"),
       "connection timed out", "timed out", "timeout", "connection refused", "connection reset",
       "no route to host", "host is unreachable", "network is unreachable", "lost connection",
       "connection dropped", "dns lookup failure", "host name lookup failure", "dns query failed",
       "temporary failure in name resolution", "malformed name server reply", "mail loop",
       "routing loop", "hop count exceeded", "too many hops", "loops back to myself",
       "forwarding loop", "unable to connect", "could not connect",
       "message looping", "dropped connection", "initial smtp greeting", "connection died",
       "cannot assign requested address"),
    *T("systemfull", SIS.format("SystemFull"), "mail system full", "insufficient system storage",
       "system storage", "disk full"),
    *T("mailererror", SIS.format("MailerError"), "procmail", "binmail", "can't create output",
       "command died with status",
       "command failed", "mailer error", "pipe to |", "x-unix;", "command output",
       "unable to run", "unable_to_run", " || exit "),
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
    *K(Rule("blocked:ip-is-banned", "blocked",
         # "{.}": classify masks IPv4 addresses (classify.VARYING) before the rules read.
         regex=r"(?:\{\.\}|(?:\d{1,3}\.){3}\d{1,3})\]?>? (?:is|has been) (?:banned|blocked|blacklisted|denied)",
         source=SIS.format("Blocked") + ": the sending IP itself is named as refused"),
       "banned", "blocked", "blacklisted", "denied"),
    Rule("userunknown:addr-not-found", "userunknown", regex=r"<addr>>? not found",
         source=SIS.format("UserUnknown") + " ('<address> not found')"),
    *K(Rule("speeding:per-time", "speeding", regex=r"\b(per|an?) (minute|hour|day)\b",
         source=SIS.format("Speeding")),
       "minute", "hour", "day"),
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

# Non-failures that arrive in the same channels: auto-replies and complaint reports.
NONFAILURE_RULES: list[Rule] = [
    *T("vacation", "Sisimai Vacation; RFC 3834 auto-replies", "out of the office", "out of office",
       "on vacation", "auto-reply", "autoreply", "automatic reply", "away from the office"),
    *T("feedback", "RFC 5965 ARF (Feedback-Type: abuse)", "feedback-type: abuse",
       "abuse report", "spam complaint"),
]

# Last resort, by subject and predicate, when no phrase matched and the enhanced code says
# nothing more specific than X.0.0 (a specific code is left to the code tables). Each row is
# one of Sisimai's reason definitions (https://libsisimai.org/en/reason/) stated as "what was
# refused" + "why", so unseen wordings of the same meaning land in the same reason.
_VAGUE = r"^(?![245]\.0\.0$)[245]\."  # skip when the enhanced code is specific
_WHO = r"(?:user|recipient|mailbox|account|addressee|e[- ]?mail address|address)"
_NOT = (r"(?:unknown|invalid|not (?:found|exist\w*|valid|known|local|listed|in)|no such|"
        r"(?:doesn'?t|don'?t|does not|do not) (?:exists?|have)|unavailable|nonexist\w*)")
LAST_RESORT_RULES: list[Rule] = [
    *K(Rule("userunknown:who-not", "userunknown", skip_enhanced=_VAGUE,
         regex=rf"^(?!.*\bsender\b).*(?:\b{_WHO}s?\b[^.;:]{{0,40}}?\b{_NOT}|\b{_NOT}\b[^.;:]{{0,40}}?\b{_WHO}\b"
               rf"|\bnot (?:an? )?(?:valid |local |known )?{_WHO}\b)",
         source=SIS.format("UserUnknown") + ": the recipient's local part does not exist"),
       "user", "recipient", "mailbox", "account", "address"),
    *K(Rule("securityerror:auth-word", "securityerror", skip_enhanced=_VAGUE,
         regex=r"\b(?:auth\w*|password|login|credentials?)\b",
         source=SIS.format("SecurityError")),
       "auth", "password", "login", "credential"),
    *K(Rule("networkerror:loop-word", "networkerror", skip_enhanced=_VAGUE, regex=r"\bloop",
         source=SIS.format("NetworkError") + " ('mail forwarding loop', 'routing loop')"),
       "loop"),
    # Sisimai Blocked: "rejected due to a client IP address or a hostname". When the only
    # thing a refusal names is an IP address (or it just says "blocked"), the client is refused.
    *K(Rule("blocked:word", "blocked", skip_enhanced=_VAGUE, regex=r"\bblock(?:ed|ing)?\b",
         source=SIS.format("Blocked")),
       "block"),
    Rule("blocked:ip-literal", "blocked", skip_enhanced=_VAGUE, code="5",
         # "{.}": an IPv4 address standing alone, as classify masks it (classify.VARYING).
         text=("{.}",), source=SIS.format("Blocked")),
    # A text line over RFC 5321's 1,000 octets: with the size reply 552 ("exceeded storage
    # allocation") the server files it under size, otherwise it is a protocol violation.
    *K(Rule("mesgtoobig:line-too-long-552", "mesgtoobig", code=(552,),
         regex=r"\blines?\b[^.;]{0,20}\btoo long",
         source="RFC 5321 section 4.2.2 (552) and 4.5.3.1.6; " + SIS.format("MesgTooBig")),
       "line"),
    *K(Rule("notcompliantrfc:line-too-long", "notcompliantrfc",
         regex=r"\blines?\b[^.;]{0,20}\btoo long",
         source="RFC 5321 section 4.5.3.1.6 (text line length); "
         + SIS.format("NotCompliantRFC")),
       "line"),
    # A size named in bytes: "Stream is more than 10485760 bytes long".
    *K(Rule("mesgtoobig:more-than-n-bytes", "mesgtoobig",
         regex=r"^(?!.*\b(?:mailbox|quota|inbox|storage|disk)\b)"
               r".*\b(?:more than|larger than|bigger than|exceeds?|over) \d[\d,.]* ?"
               r"(?:bytes|kb|mb|kib|mib|kbytes|mbytes)\b",
         source=SIS.format("MesgTooBig")),
       "bytes", "kb", "mb", "kib", "mib"),
    *K(Rule("notcompliantrfc:header-required", "notcompliantrfc",
         regex=r"\b(?:subject|from|date|to|message[- ]id)\b[^.;]{0,20}\b(?:is )?(?:mandatory|required|missing)",
         source="RFC 5322 section 3.6 (required header fields); " + SIS.format("NotCompliantRFC")),
       "mandatory", "required", "missing"),
    # "Messages without To: fields are not accepted here".
    *K(Rule("notcompliantrfc:header-absent", "notcompliantrfc",
         regex=r"\b(?:without|no|lacks?|lacking) (?:an? )?(?:subject|from|date|to|message[- ]id):? "
               r"(?:header|field)s?\b",
         source="RFC 5322 section 3.6 (required header fields); " + SIS.format("NotCompliantRFC")),
       "header", "field"),
]

# Broad fragments: only when no specific row matched (each is a single common word or
# phrase that also occurs in other replies).
BROAD_RULES: list[Rule] = [
    # Any TLS/SSL failure is Sisimai FailedSTARTTLS ("Failed to establish appropriate TLS
    # channel: Access Denied"), before the broad "access denied" block row below.
    *K(Rule("failedstarttls:tls-word", "failedstarttls", regex=r"\b(?:starttls|tls|ssl)\b",
         source=SIS.format("FailedSTARTTLS")),
       "tls", "ssl"),
    *BROAD_MEANING_RULES,
    *T("authfailure", SIS.format("AuthFailure"), "spf", "dkim"),
    *T("blocked", SIS.format("Blocked"), "your ip address", "from your ip", "listed at",
       "listed in", "listed on", "is blocked", "has been blocked", "have been blocked",
       "blocked by", "connection refused by", "access denied", "after initial connection"),
    *T("spamdetected", SIS.format("SpamDetected"), "phishing", "bulk mail", "bulk email", "spam"),
    *T("virusdetected", SIS.format("VirusDetected"), "virus", "infected", "malicious"),
    *T("suspend", SIS.format("Suspend"), "is inactive", "is disabled", "deactivated"),
    # Not with an X.7.x enhanced code: "Recipient address rejected: <policy tag>" with
    # 5.7.1 is a policy refusal, not an unknown user (left to the code tables).
    *T("userunknown", SIS.format("UserUnknown"), "does not exist", "doesn't exist",
       "address rejected", "not exist", skip_enhanced=r"[45]\.7\."),
    *T("exceedlimit", SIS.format("ExceedLimit"), "limit exceeded", "exceeded the limit"),
    *T("mesgtoobig", SIS.format("MesgTooBig"), "message size", "too large", "too big"),
    *T("speeding", SIS.format("Speeding"), "per hour", "per minute"),
    *T("expired", SIS.format("Expired"), "expired", "time limit"),
    *T("policyviolation", SIS.format("PolicyViolation"), "attachment", "policy"),
    *T("securityerror", SIS.format("SecurityError"), "password", "credentials"),
    *T("mailererror", SIS.format("MailerError"), "permission denied"),
    *T("contenterror", SIS.format("ContentError"), "encoding", "conversion"),
    *T("notcompliantrfc", "RFC 5322", "message-id", "malformed"),
    *T("systemerror", SIS.format("SystemError"), "temporary failure", "temporarily unavailable",
       "service unavailable", "service not available", "try again later", "transaction failed",
       "temporary error", "internal"),
    *T("mailboxfull", SIS.format("MailboxFull"), "quota"),
    # Only about the mailbox: Postfix's "delivery temporarily suspended" is a deferral.
    *K(Rule("suspend:suspended-word", "suspend",
         regex=r"\b(?:account|mailbox|user|address)\b[^.;]{0,30}?\b(?:suspended|frozen|locked)\b",
         source=SIS.format("Suspend")),
       "suspended", "frozen", "locked"),
    *T("networkerror", SIS.format("NetworkError"), "dns", "unreachable", "could not resolve"),
    # Last resort: who was refused. The connecting IP or client -> blocked (Sisimai Blocked:
    # "rejected due to a client IP address or a hostname"); the envelope sender -> rejected
    # (Sisimai Rejected); the content -> spamdetected.
    *K(Rule("blocked:client-refused", "blocked",
         regex=r"\b(?:your ip|ip address|the ip|client|your host|your server|sending server)\b"
               r"[^.;]{0,60}?\b(?:reject|refus|denied|deny|block|ban|not allowed|not permitted)",
         source=SIS.format("Blocked")),
       "reject", "refus", "denied", "deny", "block", "ban", "not allowed", "not permitted"),
    *K(Rule("rejected:sender-refused", "rejected",
         regex=r"\b(?:sender|mail from|envelope from|from address|return[- ]path)\b"
               r"[^.;]{0,60}?\b(?:reject|refus|denied|deny|block|ban|invalid|not allowed|not permitted)",
         source=SIS.format("Rejected")),
       "reject", "refus", "denied", "deny", "block", "ban", "invalid", "not allowed", "not permitted"),
    *K(Rule("spamdetected:content-refused", "spamdetected",
         regex=r"\bcontent\b[^.;]{0,30}?\b(?:reject|refus|denied|deny|block)",
         source=SIS.format("SpamDetected")),
       "content"),
    *LAST_RESORT_RULES,
]


# A refusal that names the sender ("550 User unknown (in reply to MAIL FROM command)",
# "Sender domain does not exist") is never the recipient's unknown user or domain: our
# unknown-user/-domain rows stand aside as Sisimai's do (sisimai.not_sender).
def _address_rows(rows: list[Rule]) -> list[Rule]:
    return [not_sender([r])[0] if r.reason in ("userunknown", "hostunknown") else r
            for r in rows]


_OWN_RULES = _address_rows(_OWN_RULES)
REGEX_RULES = _address_rows(REGEX_RULES)
BROAD_RULES = _address_rows(BROAD_RULES)

# The veto of issue 9's rule (classify.py): a phrase row that would drop the address
# (unknown user or domain, moved) yields to the first of these later rows that matches too,
# so a block, spam,
# authentication or policy refusal that also names the address ("blocked by spamhaus",
# "No such user; your IP is blacklisted", "550 5.1.0 ... blocked by SPF") never suppresses a
# good address. Sisimai's own list of such exceptions (why-userunknown.go) is shorter; the
# rule order stays Sisimai's for everything else.
# "Access denied" alone is no block: Exchange Online says it of a recipient that does not
# exist ("550 5.4.1 Recipient address rejected: Access denied").
_NOT_EVIDENCE = frozenset({("access denied",)})
VETO_RULES: list[Rule] = [
    r for r in (*_OWN_RULES, *REGEX_RULES, *BROAD_RULES)
    if (r.category or REASONS[r.reason][0]) in NEVER_SUPPRESS and r.text not in _NOT_EVIDENCE
]

# Sisimai reads 5.1.0/5.1.1/5.1.3 as an unknown user (and 5.1.2 as an unknown domain)
# unless the text is a relay, block, full-mailbox, moved, sender or null-MX failure
# (why-userunknown.go). Some servers send such codes for everything ("5.1.0 ... spam
# detected", "5.1.2 Host unknown; IP blacklisted"): for them our never-suppress rows come
# before Sisimai's rows, so such a reply never drops the address (issue 9).
ADDRESS_CODE_GUARD_RULES: list[Rule] = [
    replace(r, rule_id="address-code-not." + r.rule_id, enhanced=ADDRESS_CODES)
    for r in VETO_RULES if r.enhanced is None and r.code is None
]

# Sisimai decides lhost module -> local delivery agent -> rhost -> reason indexes (with the
# status codes its ProbesInto checks) in its order, and so do these rows: the ESP's own
# suppression notices, then Sisimai's indexes in its class order (analysis/rules/
# sisimai.py; the Filtered rows at UserUnknown's place), then our phrase rows for what
# Sisimai's indexes leave, before the regex, code, broad and code-table rows.
# (Host rows stay first, STYLE.md habit 3.)
GENERIC_RULES: list[Rule] = [*LDA_RULES, *SISIMAI_MICROSOFT_RULES, *SISIMAI_RHOST_RULES,
                             *[r for r in RHOST_EXTRA_RULES if not r.host], *SISIMAI_LHOST_RULES,
                             *LHOST_EXTRA_RULES, *SUPPRESSION_RULES, *ADDRESS_CODE_GUARD_RULES,
                             *FIRST_HEAD_RULES, *FIRST_USER_RULES,
                             *FILTERED_DATA_RULES, *FILTERED_UNCONFIRMED_RULES,
                             *FIRST_TAIL_RULES, *SISIMAI_SECOND_RULES, *_OWN_RULES]
