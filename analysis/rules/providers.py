"""Provider rows: replies whose meaning depends on who sent them (checked before generic rows)."""

from __future__ import annotations

from . import GREYLIST_ADVICE, Rule
from .sisimai_extra import RHOST_EXTRA_RULES
from .sisimai_rhost import MICROSOFT_HOST_RULES, MSR, RHOST_HOST_RULES

G = "https://support.google.com/a/answer/3726730 (Gmail SMTP errors and codes)"
GR = "https://github.com/sisimai/go-sisimai/blob/main/rhost/for-google.go (Sisimai Google rhost table)"
MS = ("https://learn.microsoft.com/en-us/exchange/troubleshoot/email-delivery/ndr/"
      "non-delivery-reports-in-exchange-online")
OLC = "https://sendersupport.olc.protection.outlook.com/pm/troubleshooting.aspx"
Y = "https://senders.yahooinc.com/smtp-error-codes + shared/formats/smtp_responses.md 4.3"
AOL = ("http://postmaster.aol.com/errors/ (AOL postmaster error list: RTR, RLY, DNS, HVU, DYN "
       "and CON blocks)")
APPLE = "https://smtp.codes/icloud (iCloud replies) + https://support.apple.com/en-us/HT204137"
GMX = "https://smtp.codes/unitedinternet + https://postmaster.gmx.com/en/error-messages"
ORANGE = "https://bentonow.com/smtp-errors/orange (OFR codes)"
TONLINE = ("https://postmaster.t-online.de/index.en.html + https://www.spamresource.com/2020/06/"
           "whoops-t-onlinede-not-accepting-mail.html ('(BL)' greeting)")
MC = ("https://mimecastsupport.zendesk.com/hc/en-us/articles/"
      "34000709564691-Policies-Mimecast-SMTP-Error-Codes")


def P(rule_id: str, host: str, reason: str, source: str, **kw: object) -> Rule:
    """A provider row."""
    text = kw.pop("text", ())
    if isinstance(text, str):
        text = (text,)
    return Rule(rule_id, reason, host=host, text=tuple(text), source=source,  # type: ignore[arg-type]
                **kw)  # type: ignore[arg-type]


PROVIDER_RULES: list[Rule] = [
    # Sisimai's Microsoft table first: each row pairs an Exchange status code with its text.
    *MICROSOFT_HOST_RULES,
    *RHOST_HOST_RULES,
    *[r for r in RHOST_EXTRA_RULES if r.host],
    # --- Gmail / Google Workspace: codes 4.7.27-4.7.40 differ from the IANA registry ----------
    # "450 4.2.1 The user you are trying to contact is receiving mail at a rate that ..."
    P("google.rate-prevents", "google", "speeding", G, text="at a rate that prevents"),
    P("google.too-quickly", "google", "speeding", G, text="receiving email too quickly"),
    P("google.too-quickly-mail", "google", "speeding", G, text="receiving mail too quickly"),
    P("google.peak-relay", "google", "speeding", G, text="peak smtp relay limit exceeded"),
    # "452 4.2.2 The recipient's inbox is out of storage space." / 552 5.2.2 "... and inactive"
    P("google.out-of-storage", "google", "mailboxfull", G, text="out of storage space"),
    # "550 5.2.1 The email account that you tried to reach is inactive/disabled"
    P("google.inactive", "google", "suspend", G, enhanced="*.2.1"),
    P("google.4.3.0", "google", "systemerror", G, enhanced="4.3.0"),
    P("google.timeout", "google", "expired", GR, text="timeout - closing connection"),
    P("google.server-busy", "google", "systemerror", GR, text="server busy, try again later"),
    P("google.connection-expired", "google", "expired", GR, text="connection expired"),
    P("google.pipeline-starttls", "google", "failedstarttls", G, text="pipeline after starttls"),
    P("google.protocol-violation", "google", "syntaxerror", G, text="smtp protocol violation"),
    P("google.too-many-recipients", "google", "toomanyconn", G, enhanced="*.5.3"),
    P("google.domain-policy-size", "google", "systemerror", GR, text="domain policy size"),
    # "421 4.7.0 IP not in whitelist for RCPT domain, closing connection."
    P("google.ip-not-in-whitelist", "google", "blocked", G, text="ip not in whitelist"),
    P("google.tls-required", "google", "failedstarttls", G, text="tls required for rcpt domain"),
    P("google.ptr", "google", "requireptr", G, text="ptr record"),
    P("google.low-reputation", "google", "badreputation", G, text="very low reputation"),
    P("google.suspicious-content", "google", "spamdetected", G, text="nature of the content"),
    P("google.try-again-later", "google", "blocked", G, text="try again later, closing connection"),
    P("google.login-attempts", "google", "securityerror", G, text="too many login attempts"),
    P("google.cannot-authenticate", "google", "systemerror", G, text="cannot authenticate due to a temporary"),
    P("google.4.7.23", "google", "requireptr", G, enhanced="*.7.23"),
    P("google.7.24-spf", "google", "authfailure", G, enhanced="*.7.24"),
    P("google.7.26", "google", "authfailure", G, enhanced="*.7.26"),
    # Gmail-specific: 4.7.27/5.7.27 "bulk senders ... SPF" (IANA: sender null MX)
    P("google.7.27-spf", "google", "authfailure", G, enhanced="*.7.27"),
    P("google.7.28-same-id", "google", "speeding", G, text="same message-id"),
    P("google.7.28-unsolicited", "google", "blocked", GR, text="unusual rate of unsolicited mail"),
    P("google.7.28-rate", "google", "speeding", G, enhanced="4.7.28"),
    # Gmail-specific: 4.7.29/5.7.29 "not using a TLS connection" (IANA: ARC failure)
    P("google.7.29-tls", "google", "failedstarttls", G, enhanced="*.7.29"),
    # Gmail-specific: 4.7.30/5.7.30 DKIM did not pass (IANA: REQUIRETLS)
    P("google.7.30-dkim", "google", "authfailure", G, enhanced="*.7.30"),
    P("google.7.32-alignment", "google", "authfailure", G, enhanced="*.7.32"),
    P("google.7.40-dmarc", "google", "authfailure", G, enhanced="*.7.40", text="dmarc"),
    P("google.7.40-auth-type", "google", "securityerror", G, enhanced="*.7.40"),
    P("google.5.1.3", "google", "userunknown", G, enhanced="5.1.3"),
    P("google.5.1.7-rfc5321", "google", "notcompliantrfc", GR, text="is not a valid rfc 5321 address"),
    P("google.5.1.7", "google", "rejected", G, enhanced="5.1.7"),
    P("google.5.3.4", "google", "mesgtoobig", G, enhanced="5.3.4"),
    # "550 5.4.5 Daily user sending limit exceeded." - a sender quota, not a bounce
    P("google.5.4.5", "google", "speeding", GR, enhanced="5.4.5"),
    P("google.daily-relay", "google", "speeding", GR, text="daily smtp relay"),
    P("google.hops", "google", "networkerror", G, text="hops, this may indicate an email loop"),
    P("google.5.5.3", "google", "toomanyconn", G, enhanced="5.5.3"),
    P("google.helo-invalid", "google", "blocked", GR, text="helo/ehlo argument is invalid"),
    P("google.helo-empty", "google", "blocked", GR, text="empty helo/ehlo argument not allowed"),
    P("google.helo", "google", "syntaxerror", G, text="helo/ehlo"),
    P("google.malformed", "google", "notcompliantrfc", G, enhanced="5.6.0"),
    P("google.security-issue", "google", "policyviolation", G, text="content presents a potential security issue"),
    P("google.identity", "google", "securityerror", G, text="no identity changes permitted"),
    P("google.relay-suspended", "google", "blocked", G, text="suspended due to abuse"),
    P("google.relay-denied", "google", "norelaying", G, text="email relay denied"),
    P("google.relay-credentials", "google", "norelaying", G, text="invalid credentials for relay"),
    P("google.sending-denied", "google", "rejected", G, text="email sending denied"),
    P("google.unauth-commands", "google", "syntaxerror", GR, text="too many unauthenticated commands"),
    P("google.policy-prohibits", "google", "policyviolation", G, text="has a policy that prohibits"),
    P("google.gcdp", "google", "policyviolation", G, text="- gcdp"),
    P("google.unsolicited", "google", "spamdetected", G, text="likely unsolicited"),
    P("google.ipv6-guidelines", "google", "requireptr", G, text="ipv6 sending guidelines"),
    P("google.from-header", "google", "notcompliantrfc", G, text="from: header"),
    P("google.message-id", "google", "notcompliantrfc", G, text="valid message-id"),
    P("google.unicode-header", "google", "notcompliantrfc", G, text="unicode character in a disallowed header"),
    P("google.encoded-word", "google", "notcompliantrfc", G, text="encoded-word syntax"),
    P("google.rfc5322", "google", "notcompliantrfc", G, text="not rfc 5322 compliant"),
    P("google.rate-limited", "google", "speeding", G, text="has been rate limited"),
    P("google.not-authorized-directly", "google", "norelaying", GR, text="not authorized to send email directly"),
    P("google.starttls-first", "google", "failedstarttls", G, text="must issue a starttls command first"),
    P("google.auth", "google", "securityerror", G, enhanced="^5\\.7\\.(8|9|14|80|90)$"),
    # --- Microsoft 365 / Exchange Online / Outlook.com ----------------------------------------
    # "550 5.7.64 TenantAttribution; Relay Access Denied" (connector, not the address)
    P("microsoft.5.7.64-tenant", "microsoft", "norelaying", MSR, text="tenantattribution"),
    # "550 5.4.1 Recipient address rejected: Access denied" = DBEB: the mailbox does not exist
    P("microsoft.5.4.1-dbeb", "microsoft", "userunknown", MS, text="recipient address rejected: access denied"),
    P("microsoft.5.4.1-relay", "microsoft", "norelaying", MS, text="relay access denied"),
    # "5.2.2 Submission quota exceeded" - Microsoft's meaning: the *sender's* quota
    P("microsoft.5.2.2-submission", "microsoft", "exceedlimit", MS, text="submission quota exceeded",
      category="throttling"),
    P("microsoft.submission-exception", "microsoft", "exceedlimit", MS,
      text="submissionquotaexceeded", category="throttling"),
    P("microsoft.quota-exception", "microsoft", "mailboxfull", MS, text="quotaexceeded"),
    P("microsoft.thread-limit", "microsoft", "speeding", MS, text="recipient thread limit exceeded"),
    P("microsoft.5.2.12x", "microsoft", "speeding", MS, enhanced="^5\\.2\\.12[0-9]$"),
    P("microsoft.4.4.316", "microsoft", "networkerror", MS, text="socket error code"),
    P("microsoft.5.4.310", "microsoft", "hostunknown", MS, text="dns domain", regex=r"does not exist"),
    P("microsoft.nonexistent-domain", "microsoft", "hostunknown", MS, text="nonexistentdomain"),
    P("microsoft.5.4.312", "microsoft", "networkerror", MS, text="dns query failed"),
    P("microsoft.not-authenticated-org", "microsoft", "rejected", MS, text="sendernotauthenticated"),
    P("microsoft.not-authenticated-by-org", "microsoft", "rejected", MS,
      text="not authenticated by organization"),
    P("microsoft.5.7.124", "microsoft", "rejected", MS, text="not in allowed-senders list"),
    P("microsoft.bare-lf", "microsoft", "contenterror", MSR, text="barelinefeedsareillegal"),
    P("microsoft.5.6.11", "microsoft", "contenterror", MSR, enhanced="5.6.11"),
    P("microsoft.client-not-authenticated", "microsoft", "securityerror", MS, text="was not authenticated"),
    P("microsoft.5.7.57", "microsoft", "securityerror", MS, enhanced="5.7.57"),
    # Outlook.com consumer replies (RP/SC/DY/OU codes)
    P("outlook.rp-001", "microsoft", "speeding", OLC, text="rp-001"),
    P("outlook.rp-002", "microsoft", "speeding", OLC, text="rp-002"),
    P("outlook.rp-003", "microsoft", "toomanyconn", OLC, text="rp-003"),
    P("outlook.sc-001", "microsoft", "badreputation", OLC, text="sc-001"),
    P("outlook.sc-002", "microsoft", "blocked", OLC, text="sc-002"),
    P("outlook.sc-003", "microsoft", "blocked", OLC, text="sc-003"),
    P("outlook.sc-004", "microsoft", "badreputation", OLC, text="sc-004"),
    P("outlook.dy-001", "microsoft", "blocked", OLC, text="dy-001"),
    P("outlook.dy-002", "microsoft", "blocked", OLC, text="dy-002"),
    P("outlook.ou-001", "microsoft", "blocked", OLC, text="ou-001"),
    P("outlook.ou-002", "microsoft", "badreputation", OLC, text="ou-002"),
    P("outlook.5.7.515", "microsoft", "authfailure", OLC, enhanced="5.7.515"),
    # "Server busy. Please try again later from [ip]. (S77714)"; "(S3150)" network block list
    P("microsoft.server-busy", "microsoft", "blocked", MS, text="server busy. please try again later"),
    # --- Yahoo / AOL ----------------------------------------------------------------------
    P("yahoo.unresolvable-from", "yahoo", "rejected", Y, text="unresolvable rfc"),
    P("yahoo.tss04", "yahoo", "badreputation", Y, text="temporarily deferred due to"),
    P("yahoo.permanently-deferred", "yahoo", "blocked", Y, text="permanently deferred"),
    P("yahoo.bl", "yahoo", "blocked", Y, regex=r"\[bl2\d\]"),
    P("yahoo.ph", "yahoo", "policyviolation", Y, regex=r"\[ph\d\d\]"),
    P("yahoo.policy", "yahoo", "policyviolation", Y, text="not accepted for policy reasons"),
    P("yahoo.unauthenticated", "yahoo", "authfailure", Y, text="sender is unauthenticated"),
    P("yahoo.unresolvable", "yahoo", "rejected", Y, text="unresolvable rfc"),
    P("yahoo.no-longer-valid", "yahoo", "suspend", Y, text="is no longer valid"),
    P("yahoo.disabled", "yahoo", "suspend", Y, text="mailbox is disabled"),
    P("yahoo.no-account", "yahoo", "userunknown", Y, text=("doesn't have a ", " account")),
    P("yahoo.mailbox-not-found", "yahoo", "userunknown", Y, text="mailbox not found"),
    P("yahoo.too-quickly", "yahoo", "speeding", Y, text="receiving mail too quickly"),
    P("yahoo.per-connection", "yahoo", "toomanyconn", Y, text="max message per connection"),
    # AOL's own block codes ("554- (RTR:DU) http://postmaster.info.aol.com/errors/554rtrdu.html"):
    # RTR/RLY/DYN/CON/... name the connecting IP, HVU a URL in the message, DNS its reverse DNS.
    P("aol.ip-block", "yahoo", "blocked", AOL, regex=r"\b(?:rtr|rly|dyn|con|isp|ipt|sdi|gen):[a-z]{2}\d?\b"),
    P("aol.url-block", "yahoo", "spamdetected", AOL, regex=r"\bhvu:[a-z]{1,2}\d?\b"),
    P("aol.dns-block", "yahoo", "requireptr", AOL, regex=r"\bdns:[a-z]{2}\d?\b"),
    # --- Apple iCloud -------------------------------------------------------------------
    P("apple.excessive-volume", "apple", "speeding", APPLE, text="deferred due to excessive volume"),
    P("apple.too-many-errors", "apple", "toomanyconn", APPLE, text="too many errors"),
    # "550 5.7.1 [CS01] Message rejected due to local policy" (Cloudmark/IP reputation)
    P("apple.cs", "apple", "blocked", APPLE, regex=r"\[(cs|hm)\d\d\]"),
    P("apple.dbl", "apple", "spamdetected", APPLE, text="spamhaus dbl"),
    # Hide My Email address switched off by its owner: it will not come back
    P("apple.hide-my-email", "apple", "userunknown", APPLE, text="relay not permitted for user"),
    P("apple.inactive", "apple", "suspend", APPLE, text="inactive email address"),
    # --- GMX / web.de / mail.com (United Internet) --------------------------------------
    P("gmx.spf", "gmx", "authfailure", GMX, text="reject due to spf policy"),
    P("gmx.block-listed", "gmx", "blocked", GMX, text="block listed"),
    # "554-No SMTP service 554-Bad DNS PTR resource record": the PTR is the cause
    P("gmx.bad-ptr", "gmx", "requireptr", GMX, text="ptr resource record"),
    P("gmx.no-smtp-service", "gmx", "blocked", GMX, text="no smtp service"),
    P("gmx.policy-violations", "gmx", "badreputation", GMX, text="reject due to policy violations"),
    P("gmx.policy-restrictions", "gmx", "policyviolation", GMX, text="policy restrictions"),
    P("gmx.rate-limit", "gmx", "speeding", GMX, text="rate limit reached"),
    # --- T-Online (Telekom): a tag in brackets names the refusal ------------------------
    # "554 IP=192.0.2.1 - A problem occurred. (Ask your postmaster ...) (BL)"
    P("tonline.bl", "tonline", "blocked", TONLINE, text="(bl)"),
    P("tonline.dial", "tonline", "blocked", TONLINE, text="(dial)"),
    # --- Orange / Wanadoo (OFR codes, bilingual texts) ---------------------------------
    P("orange.too-many-connections", "orange", "toomanyconn", ORANGE, text="trop de connexions"),
    P("orange.mail-rejected", "orange", "spamdetected", ORANGE, text="mail rejete"),
    P("orange.invalid-recipient", "orange", "userunknown", ORANGE, text="destinataire invalide"),
    P("orange.mailbox-full", "orange", "mailboxfull", ORANGE, text="boite du destinataire pleine"),
    P("orange.invalid-sender", "orange", "rejected", ORANGE, text="emetteur invalide"),
    P("orange.auth-required", "orange", "securityerror", ORANGE, text="authentification requise"),
    P("orange.size", "orange", "mesgtoobig", ORANGE, text="taille limite du message"),
    P("orange.service-refused", "orange", "blocked", ORANGE, text="service refuse"),
    # --- Mimecast (gateway in front of many organisations) ------------------------------
    P("mimecast.anti-spoofing", "mimecast", "authfailure", MC, text="anti-spoofing"),
    P("mimecast.envelope-blocked", "mimecast", "rejected", MC, text="envelope blocked"),
    P("mimecast.blocked-senders", "mimecast", "rejected", MC, text="blocked senders"),
    P("mimecast.sender-blocked", "mimecast", "blocked", MC, text="sender address blocked"),
    P("greylisted.mimecast.internal-resource", "mimecast", "blocked", MC,
      text="internal resource temporarily unavailable", category="throttling",
      advice=GREYLIST_ADVICE, temporary=True),
    P("mimecast.remote-blocked-list", "mimecast", "blocked", MC, text="remote blocked list"),
    P("mimecast.ip-reputation", "mimecast", "badreputation", MC, text="ip reputation"),
    P("mimecast.spam-scanner", "mimecast", "spamdetected", MC, text="spam scanner"),
    P("mimecast.security-policies", "mimecast", "policyviolation", MC, text="security policies"),
    # --- Proofpoint / Barracuda / Cisco gateways ----------------------------------------
    P("proofpoint.ipcheck", "proofpoint", "blocked", "https://ipcheck.proofpoint.com (Proofpoint reply URL)",
      text="ipcheck.proofpoint.com"),
    P("barracuda.reputation", "barracuda", "blocked", "https://www.barracudacentral.org/rbl",
      text="barracuda reputation"),
    P("barracuda.blocked", "barracuda", "blocked", "Barracuda ESS '550 permanent failure ... (:blocked)'",
      text=":blocked)"),
    P("cisco.address-rejected", "cisco", "userunknown", "Cisco Secure Email LDAP accept query",
      text="5.1.0 address rejected"),
    P("cisco.talos", "cisco", "blocked", "https://talosintelligence.com (Cisco reply URL)",
      text="talosintelligence"),
]
