"""Reply-text templates for the benchmark data: real providers' shapes, invented values.

Shapes follow ../shared/formats/smtp_responses.md section 4 and the samples; names, IPs
and IDs are invented (RFC 2606 / 5737). Each row: (key, category, kind, systems, text).
`kind` is "perm" (5xx) or "temp" (4xx); `systems` says which recipient systems answer
this way ("any" = self-hosted servers of every kind). Placeholders are filled by `render`.
"""

from __future__ import annotations

import random
import string
from collections.abc import Mapping
from dataclasses import dataclass

EOP = " [{eop} {iso} {sess}]"
GTAIL = " {token} - gsmtp"
ANY = ("any",)
G = ("gmail", "gws")
MS = ("exo", "outlook")

_ROWS: list[tuple[str, str, str, tuple[str, ...], str]] = [
    # --- invalid_address --------------------------------------------------------------------
    ("gmail_511", "invalid_address", "perm", G,
     "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
     "550-5.1.1 double-checking the recipient's email address for typos or\r\n550-5.1.1 "
     "unnecessary spaces. For more information, go to\r\n550 5.1.1  "
     "https://support.google.com/mail/?p=NoSuchUser" + GTAIL),
    ("gmail_512", "invalid_address", "perm", G,
     "553-5.1.2 We weren't able to find the recipient domain. Please check for any\r\n"
     "553-5.1.2 spelling errors, and make sure you didn't enter any spaces, periods,\r\n"
     "553 5.1.2 or other punctuation after the recipient's email address." + GTAIL),
    ("exo_dbeb", "invalid_address", "perm", MS,
     "550 5.4.1 Recipient address rejected: Access denied. For more information see "
     "https://aka.ms/EXOSmtpErrors" + EOP),
    ("exo_dbeb_as", "invalid_address", "perm", ("exo",),
     "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)" + EOP),
    ("exo_5110", "invalid_address", "perm", ("exo", "exchange"),
     "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {rcpt} not found by SMTP address "
     "lookup"),
    ("exo_504", "invalid_address", "perm", ("exo",),
     "550 5.7.504 Recipient address rejected: Access denied" + EOP),
    ("exo_505", "invalid_address", "perm", ("exo",), "550 5.7.505 Access denied, banned recipient"
     + EOP),
    ("outlook_550", "invalid_address", "perm", ("outlook",),
     "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)." + EOP),
    ("exchange_ndr", "invalid_address", "perm", ("exchange",),
     "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"),
    ("exchange_unknown", "invalid_address", "perm", ("exchange",), "550 5.1.1 User unknown"),
    ("yahoo_dd", "invalid_address", "perm", ("yahoo",),
     "554 delivery error: dd This user doesn't have a {domain} account ({rcpt}) [-5] - {ymta}"),
    ("yahoo_552", "invalid_address", "perm", ("yahoo",),
     "552 1 Requested mail action aborted, mailbox not found"),
    ("pf_local", "invalid_address", "perm", ("postfix",),
     "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table"),
    ("pf_virtual", "invalid_address", "perm", ("postfix",),
     "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table"),
    ("pf_alias", "invalid_address", "perm", ("postfix",),
     "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual alias table"),
    ("pf_relay", "invalid_address", "perm", ("postfix",),
     "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in relay recipient table"),
    ("pf_undeliverable", "invalid_address", "perm", ("postfix",),
     "550 5.1.1 <{rcpt}>: Recipient address rejected: undeliverable address: unknown user: "
     "\"{local}\""),
    ("sm_511", "invalid_address", "perm", ("sendmail",), "550 5.1.1 <{rcpt}>... User unknown"),
    ("exim_unrouteable", "invalid_address", "perm", ("exim",), "550 Unrouteable address"),
    ("exim_nosuch", "invalid_address", "perm", ("exim",), "550 No Such User Here"),
    ("host_unknown", "invalid_address", "perm", ("nodns",),
     "553 5.1.2 <{rcpt}>... Host unknown (Name server: {domain}: host not found)"),
    ("gen_mbx_dne", "invalid_address", "perm", ANY, "550 5.1.1 Mailbox does not exist"),
    ("gen_rcpt_rej", "invalid_address", "perm", ANY, "550 5.1.1 <{rcpt}> recipient rejected"),
    ("gen_unavail", "invalid_address", "perm", ANY,
     "550 Requested action not taken: mailbox unavailable"),
    ("gen_invalid", "invalid_address", "perm", ANY,
     "550 5.1.1 {rcpt}: Recipient address rejected: Invalid recipient"),
    ("gen_syntax", "invalid_address", "perm", ANY, "553 5.1.3 Bad recipient address syntax"),
    ("gen_addr_rej", "invalid_address", "perm", ANY, "550 5.1.0 Address rejected."),
    ("gen_moved", "invalid_address", "perm", ANY, "551 5.1.6 Recipient no longer on server"),
    ("gen_qmail", "invalid_address", "perm", ANY,
     "550 Sorry, no mailbox here by that name. (#5.1.1)"),
    ("gen_invalid2", "invalid_address", "perm", ANY, "550 Invalid recipient <{rcpt}> (#5.1.1)"),
    ("gen_nosuch", "invalid_address", "perm", ANY, "550 5.1.1 <{rcpt}>: No such user"),
    ("gen_unknown_local", "invalid_address", "perm", ANY,
     "550 5.1.1 User unknown; rejecting ({local})"),
    # --- mailbox_unavailable ------------------------------------------------------------------
    ("gmail_422", "mailbox_unavailable", "temp", G,
     "452-4.2.2 The recipient's inbox is out of storage space. Please direct the\r\n"
     "452-4.2.2 recipient to\r\n452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp"
     + GTAIL),
    ("gmail_522", "mailbox_unavailable", "perm", G,
     "552-5.2.2 The recipient's inbox is out of storage space and inactive. Please direct\r\n"
     "552-5.2.2 the recipient to\r\n552 5.2.2  https://support.google.com/mail/?p=OverQuotaPerm"
     + GTAIL),
    ("gmail_521", "mailbox_unavailable", "perm", G,
     "550-5.2.1 The email account that you tried to reach is inactive. For more\r\n"
     "550-5.2.1 information, go to\r\n550 5.2.1  https://support.google.com/mail/?p=DisabledUser"
     + GTAIL),
    ("dovecot_522", "mailbox_unavailable", "perm", ("postfix",),
     "552 5.2.2 <{rcpt}> Quota exceeded (mailbox for user is full)"),
    ("pf_full_422", "mailbox_unavailable", "temp", ("postfix",),
     "452 4.2.2 <{rcpt}>: Recipient address rejected: Mailbox is full"),
    ("yahoo_disabled", "mailbox_unavailable", "perm", ("yahoo",),
     "554 delivery error: dd Sorry your message to {rcpt} cannot be delivered. This mailbox is "
     "disabled (554.30). - {ymta}"),
    ("yahoo_novalid", "mailbox_unavailable", "perm", ("yahoo",),
     "554 delivery error: dd {rcpt} is no longer valid. [-20] - {ymta}"),
    ("exo_full", "mailbox_unavailable", "perm", ("exo", "exchange"),
     "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException."
     "MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception "
     "with message [BeginDiagnosticData]Cannot open mailbox /o=ExchangeLabs/ou=Exchange "
     "Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={hex32}-{local}."
     "[EndDiagnosticData]"),
    ("exo_432", "mailbox_unavailable", "temp", ("exo", "exchange"),
     "432 4.3.2 STOREDRV.Deliver; recipient thread limit exceeded"),
    ("sm_521", "mailbox_unavailable", "perm", ("sendmail",),
     "550 5.2.1 <{rcpt}>... Mailbox disabled for this recipient"),
    ("gen_full_452", "mailbox_unavailable", "temp", ANY, "452 4.2.2 Mailbox full"),
    ("gen_full_552", "mailbox_unavailable", "perm", ANY, "552 5.2.2 Mailbox full"),
    ("gen_overquota", "mailbox_unavailable", "temp", ANY, "452 4.2.2 Over quota"),
    ("gen_storage", "mailbox_unavailable", "perm", ANY,
     "552 Requested mail action aborted: exceeded storage allocation"),
    ("gen_disabled", "mailbox_unavailable", "temp", ANY, "450 4.2.1 Mailbox temporarily disabled"),
    ("gen_inactive", "mailbox_unavailable", "perm", ANY,
     "550 5.2.1 Mailbox unavailable. Your message to {rcpt} couldn't be delivered"),
    ("gen_locked", "mailbox_unavailable", "perm", ANY, "550 5.2.0 {local}: account is locked"),
    # --- spam_or_reputation ------------------------------------------------------------------
    ("gmail_571", "spam_or_reputation", "perm", G,
     "550-5.7.1 [{ip}] Our system has detected that this message is\r\n550-5.7.1 likely "
     "unsolicited mail. To reduce the amount of spam sent to Gmail,\r\n550-5.7.1 this message "
     "has been blocked. For more information, go to\r\n550 5.7.1  "
     "https://support.google.com/mail/?p=UnsolicitedMessageError" + GTAIL),
    ("gmail_470", "spam_or_reputation", "temp", G,
     "421-4.7.0 [{ip}      15] Our system has detected that this message is\r\n421-4.7.0 "
     "suspicious due to the very low reputation of the sending IP address.\r\n421-4.7.0 To "
     "protect our users from spam, mail sent from your IP address has\r\n421 4.7.0 been "
     "temporarily rate limited." + GTAIL),
    ("spamassassin", "spam_or_reputation", "perm", ("exim",),
     "550 Your message scored {score} SpamAssassin points and was classified as spam"),
    ("spamhaus", "spam_or_reputation", "perm", ("postfix",),
     "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; "
     "https://www.spamhaus.org/query/ip/{ip}"),
    ("barracuda", "spam_or_reputation", "perm", ("postfix", "sendmail"),
     "554 5.7.1 Service unavailable; Client host [{ip}] blocked using b.barracudacentral.org; "
     "http://www.barracudanetworks.com/reputation/?pr=1&ip={ip}"),
    ("sorbs", "spam_or_reputation", "perm", ("postfix",),
     "554 5.7.1 Service unavailable; Client host [{ip}] blocked using dnsbl.sorbs.net; "
     "Currently Sending Spam See: http://www.sorbs.net/lookup.shtml?{ip}"),
    ("spamcop", "spam_or_reputation", "perm", ("postfix", "exim"),
     "554 5.7.1 Service unavailable; Client host [{ip}] blocked using bl.spamcop.net; Blocked - "
     "see https://www.spamcop.net/bl.shtml?{ip}"),
    ("yahoo_bl21", "spam_or_reputation", "perm", ("yahoo",),
     "553 5.7.1 [BL21] Connections will not be accepted from {ip}, because the ip is in "
     "Spamhaus's list; see https://postmaster.yahooinc.com/error-codes"),
    ("yahoo_tss09", "spam_or_reputation", "perm", ("yahoo",),
     "553 5.7.2 [TSS09] All messages from {ip} will be permanently deferred; Retrying will NOT "
     "succeed. See https://postmaster.yahooinc.com/error-codes"),
    ("ms_606", "spam_or_reputation", "perm", MS,
     "550 5.7.606 Access denied, banned sending IP [{ip}]. To request removal from this list "
     "please visit https://sender.office.com/ and follow the directions. For more information "
     "please go to http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430)" + EOP),
    ("ms_s3150", "spam_or_reputation", "perm", ("outlook",),
     "550 5.7.1 Unfortunately, messages from [{ip}] weren't sent. Please contact your Internet "
     "service provider since part of their network is on our block list (S3150). You can also "
     "refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors." + EOP),
    ("ms_sc001", "spam_or_reputation", "perm", ("outlook",),
     "550 SC-001 (COL004-MC1F12) Unfortunately, messages from {ip} weren't sent. Please contact "
     "your Internet service provider. You can tell them that Hotmail does not relay dynamically-"
     "assigned IP ranges. You can also refer your provider to "
     "http://mail.live.com/mail/troubleshooting.aspx#errors."),
    ("ms_507", "spam_or_reputation", "perm", ("exo",),
     "550 5.7.507 Access denied, rejected by recipient" + EOP),
    ("ms_850", "spam_or_reputation", "temp", MS,
     "451 4.7.850 Access denied, please try again later [{ip}] is under evaluation" + EOP),
    ("ms_350", "spam_or_reputation", "perm", ("exo",),
     "550 5.7.350 Remote server returned message detected as spam -> 554 5.7.1 Service "
     "unavailable; Client host [{ip}] blocked using Spamhaus" + EOP),
    ("exchange_cfa", "spam_or_reputation", "perm", ("exchange",),
     "550 5.7.1 Message rejected as spam by Content Filtering."),
    ("amavis_spam", "spam_or_reputation", "perm", ("postfix",),
     "554 5.7.0 Reject, id={n5}-{n2} - spam"),
    ("gen_content", "spam_or_reputation", "perm", ANY,
     "554 5.7.1 Message rejected because of unacceptable content"),
    ("gen_highspam", "spam_or_reputation", "perm", ANY, "550 High probability of spam"),
    ("gen_spampolicy", "spam_or_reputation", "perm", ANY,
     "550 5.7.1 Email rejected per SPAM policy"),
    ("gen_spamurl", "spam_or_reputation", "perm", ANY,
     "554 rejected due to spam URL in content"),
    ("gen_looksspam", "spam_or_reputation", "perm", ANY,
     "554 Message refused (mailbox {rcpt}): this message looks like spam"),
    ("gen_rbl", "spam_or_reputation", "perm", ANY,
     "550 5.7.1 Service unavailable, Client host [{ip}] blocked using Spamhaus. To request "
     "removal from this list see https://www.spamhaus.org/query/ip/{ip}"),
    ("gen_reputation", "spam_or_reputation", "temp", ANY,
     "421 4.7.0 {ip} poor reputation, try again later"),
    # --- authentication ----------------------------------------------------------------------
    ("gmail_dmarc", "authentication", "perm", G,
     "550-5.7.26 Unauthenticated email from {sdom} is not accepted due\r\n550-5.7.26 to "
     "domain's DMARC policy. Please contact the administrator of\r\n550-5.7.26 {sdom} domain if "
     "this was a legitimate mail. To learn\r\n550-5.7.26 about the DMARC initiative, go to\r\n"
     "550 5.7.26  https://support.google.com/mail/?p=DmarcRejection" + GTAIL),
    ("gmail_unauth", "authentication", "perm", G,
     "550-5.7.26 This mail has been blocked because the sender is unauthenticated.\r\n"
     "550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.\r\n"
     "550-5.7.26\r\n550-5.7.26  Authentication results:\r\n550-5.7.26  DKIM = did not pass\r\n"
     "550-5.7.26  SPF [{sdom}] with ip: [{ip}] = did not pass\r\n550 5.7.26" + GTAIL),
    ("gmail_ptr", "authentication", "perm", G,
     "550-5.7.25 [{ip}] The IP address sending this message does not have a\r\n550-5.7.25 PTR "
     "record setup, or the corresponding forward DNS entry does not\r\n550 5.7.25 point to the "
     "sending IP." + GTAIL),
    ("gmail_4726", "authentication", "temp", G,
     "421-4.7.26 This mail has been rate limited because it is unauthenticated.\r\n421 4.7.26 "
     "Gmail requires all senders to authenticate with either SPF or DKIM." + GTAIL),
    ("ms_515", "authentication", "perm", ("outlook",),
     "550 5.7.515 Access denied, sending domain [{SDOM}] does not meet the required "
     "authentication level. The sender's domain in the 5322.From address doesn't meet the "
     "authentication requirements defined for the sender. To learn more, see "
     "https://go.microsoft.com/fwlink/?linkid=2298366" + EOP),
    ("ms_509", "authentication", "perm", MS,
     "550 5.7.509 Access denied, sending domain {SDOM} does not pass DMARC verification and has "
     "a DMARC policy of reject." + EOP),
    ("exo_spf", "authentication", "perm", ("exo",),
     "550 5.7.23 The message was rejected because of Sender Policy Framework violation" + EOP),
    ("pf_spf", "authentication", "perm", ("postfix",),
     "550 5.7.23 <{rcpt}>: Recipient address rejected: Message rejected due to: SPF fail - not "
     "authorized. Please see http://www.openspf.net/Why?s=mfrom;id={verp};ip={ip};r=<UNKNOWN>"),
    ("yahoo_579", "authentication", "perm", ("yahoo",),
     "550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo "
     "requires all senders to authenticate with either SPF or DKIM."),
    ("gen_spf", "authentication", "perm", ANY,
     "550 5.7.1 Sender Policy Framework (SPF) fail: {ip} is not allowed to send for {sdom}"),
    ("gen_dmarc", "authentication", "perm", ANY,
     "550 5.7.1 Email rejected due to DMARC policy for {sdom}"),
    ("gen_dkim", "authentication", "perm", ANY, "550 5.7.20 DKIM signature verification failed"),
    ("gen_dmarc_perm", "authentication", "perm", ANY,
     "554 5.7.5 Permanent error evaluating DMARC policy"),
    # --- policy_or_configuration -------------------------------------------------------------
    ("pf_relaydenied", "policy_or_configuration", "perm", ("postfix",),
     "554 5.7.1 <{rcpt}>: Relay access denied"),
    ("pf_access", "policy_or_configuration", "perm", ("postfix",),
     "554 5.7.1 <{rcpt}>: Recipient address rejected: Access denied"),
    ("pf_helo", "policy_or_configuration", "perm", ("postfix",),
     "504 5.5.2 <{mta}>: Helo command rejected: need fully-qualified hostname"),
    ("sm_relay", "policy_or_configuration", "perm", ("sendmail",),
     "550 5.7.1 <{rcpt}>... Relaying denied"),
    ("ms_133", "policy_or_configuration", "perm", ("exo",),
     "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; "
     "Delivery restriction check failed as sender not authenticated" + EOP),
    ("ms_124", "policy_or_configuration", "perm", ("exo", "exchange"),
     "550 5.7.124 RESOLVER.RST.NotAuthorizedToSend; not in allowed-senders list" + EOP),
    ("ms_rule", "policy_or_configuration", "perm", ("exo", "exchange"),
     "550 5.7.1 TRANSPORT.RULES.RejectMessage; the message was rejected by organization policy"),
    ("ms_bare_lf", "policy_or_configuration", "perm", ("exchange",),
     "550 5.6.11 SMTPSEND.BareLinefeedsAreIllegal; message contains bare linefeeds"),
    ("too_big", "policy_or_configuration", "perm", ("postfix", "exim"),
     "552 5.3.4 Message size exceeds fixed limit"),
    ("yahoo_ph01", "policy_or_configuration", "perm", ("yahoo",),
     "554 Message not allowed - [PH01] Email not accepted for policy reasons.  Please visit "
     "https://postmaster.yahooinc.com/error-codes"),
    ("gmail_policy", "policy_or_configuration", "perm", G,
     "552-5.7.0 This message was blocked because its content presents a potential\r\n552-5.7.0 "
     "security issue. To review our message content and attachment content\r\n552 5.7.0 "
     "guidelines, go to https://support.google.com/mail/?p=BlockedMessage" + GTAIL),
    ("exim_admin", "policy_or_configuration", "perm", ("exim",), "550 Administrative prohibition"),
    ("gen_maxsize", "policy_or_configuration", "perm", ANY,
     "552 5.3.4 Message size exceeds fixed maximum message size"),
    ("gen_unable_relay", "policy_or_configuration", "perm", ANY,
     "550 5.7.1 Unable to relay for {rcpt}"),
    ("gen_notauth", "policy_or_configuration", "perm", ANY,
     "550 5.7.1 Delivery not authorized, message refused"),
    ("gen_recip_policy", "policy_or_configuration", "perm", ANY,
     "554 5.7.1 Message not allowed by recipient's policy"),
    ("gen_attach", "policy_or_configuration", "perm", ANY,
     "554 5.7.0 Message blocked: attachment type not allowed"),
    ("gen_blocked_dom", "policy_or_configuration", "perm", ANY,
     "550 5.7.1 Blocked by recipient's policy: {domain}"),
    ("gen_nonrfc", "policy_or_configuration", "perm", ANY,
     "554 5.6.0 Message rejected: non-compliant message"),
    ("gen_filter", "policy_or_configuration", "perm", ANY,
     "554 5.7.1 Your message was rejected by a content filter"),
    # --- connectivity (the ESP's own MTA wrote these: the recipient never answered) -----------
    ("timeout", "connectivity", "temp", ("postfix", "dead"),
     "421 4.4.2 conversation with {mx}[{mxip}] timed out while receiving the initial server "
     "greeting"),
    ("refused", "connectivity", "temp", ("dead",),
     "451 4.4.1 connect to {mx}[{mxip}]:25: Connection refused"),
    ("conn_timeout", "connectivity", "temp", ("dead",),
     "421 4.4.1 connect to {mx}[{mxip}]:25: Connection timed out"),
    ("no_dns", "connectivity", "temp", ("nodns",),
     "450 4.4.3 Host or domain name not found. Name service error for name={domain} type=MX: "
     "Host not found, try again"),
    ("no_host", "connectivity", "perm", ("nodns",),
     "554 5.4.4 Host or domain name not found. Name service error for name={domain} type=A: "
     "Host not found"),
    ("lost_conn", "connectivity", "temp", ANY,
     "421 4.4.2 lost connection with {mx}[{mxip}] while sending end of data -- message may be "
     "sent more than once"),
    ("gen_tempserver", "connectivity", "temp", ANY,
     "451 4.3.0 Temporary server error. Please try again later"),
    ("exim_local", "connectivity", "temp", ("exim",),
     "451 Temporary local problem - please try later"),
    ("sm_mailer", "connectivity", "perm", ("sendmail",),
     "554 5.3.0 <{rcpt}>... unknown mailer error 1"),
    ("gen_svc_unavail", "connectivity", "temp", ANY, "450 4.3.2 Service currently unavailable"),
    ("gen_notaccepting", "connectivity", "temp", ANY,
     "421 4.3.2 System not accepting network messages"),
    ("gen_storage_sys", "connectivity", "temp", ANY, "452 4.3.1 Insufficient system storage"),
    ("ms_prx4", "connectivity", "temp", MS,
     "451 4.7.0 Temporary server error. Please try again later. PRX4" + EOP),
    ("gen_tls", "connectivity", "temp", ANY, "454 4.7.0 TLS not available due to local problem"),
    ("gen_421", "connectivity", "temp", ANY,
     "421 {mx} Service not available, closing transmission channel"),
    # --- throttling ---------------------------------------------------------------------------
    ("gmail_428", "throttling", "temp", G,
     "421-4.7.28 [{ip}      15] Our system has detected an unusual rate of\r\n421-4.7.28 "
     "unsolicited mail originating from your IP address. To protect our\r\n421-4.7.28 users from "
     "spam, mail sent from your IP address has been temporarily\r\n421-4.7.28 rate limited. For "
     "more information, go to\r\n421 4.7.28  "
     "https://support.google.com/mail/?p=UnsolicitedRateLimitError" + GTAIL),
    ("gmail_421", "throttling", "temp", G,
     "450-4.2.1 The user you are trying to contact is receiving mail too quickly.\r\n450-4.2.1 "
     "Please resend your message at a later time. If the user is able to\r\n450-4.2.1 receive "
     "mail at that time, your message will be delivered. For more\r\n450 4.2.1 information, go "
     "to https://support.google.com/mail/?p=ReceivingRate" + GTAIL),
    ("yahoo_tss04", "throttling", "temp", ("yahoo",),
     "421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user "
     "complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"),
    ("yahoo_quick", "throttling", "temp", ("yahoo",), "450 User is receiving mail too quickly"),
    ("yahoo_maxconn", "throttling", "temp", ("yahoo",),
     "421 Max message per connection reached, closing transmission channel"),
    ("outlook_rp001", "throttling", "temp", ("outlook",),
     "421 RP-001 ({fe}) Unfortunately, some messages from {ip} weren't sent. Please try again. "
     "We have limits for how many messages can be sent per hour and per day. You can also refer "
     "to http://mail.live.com/mail/troubleshooting.aspx#errors."),
    ("ms_s775", "throttling", "temp", ("outlook",),
     "451 4.7.650 The mail server [{ip}] has been temporarily rate limited due to IP reputation. "
     "For e-mail delivery information, see https://postmaster.live.com (S775) [{fe}]"),
    ("exo_busy", "throttling", "temp", ("exo", "exchange"),
     "451 4.7.500 Server busy. Please try again later from [{ip}]. (AS761)" + EOP),
    ("greylist", "throttling", "temp", ("postfix", "sendmail"),
     "450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted, see "
     "https://postgrey.example.org/help/{domain}.html"),
    ("greylist_300", "throttling", "temp", ("postfix",),
     "450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted for 300 seconds"),
    ("gen_greylist", "throttling", "temp", ANY, "451 4.7.1 Please try again later (greylisted)"),
    ("gen_toomany", "throttling", "temp", ANY, "421 4.7.0 Too many connections from {ip}"),
    ("gen_rcpts", "throttling", "temp", ANY, "452 4.5.3 Too many recipients"),
    ("gen_ratelimit", "throttling", "temp", ANY, "451 4.3.2 Please try again later - rate limited"),
    ("gen_session", "throttling", "temp", ANY, "421 Too many messages (1000) for this session"),
    # --- unknown: texts no rule can claim -----------------------------------------------------
    ("odd_ref", "unknown", "perm", ("exo", "exchange"),
     "550 Requested action not taken: message refused (ref. 0x80004005)"),
    ("odd_processed", "unknown", "perm", ("exim", "postfix"),
     "550 Message could not be processed [E-{n3}]"),
    ("odd_notaccepted", "unknown", "perm", ("sendmail", "postfix"),
     "550 #5.0.0 Message was not accepted"),
    ("odd_rejected", "unknown", "perm", ANY, "550 Message rejected"),
    ("odd_txn", "unknown", "perm", ANY, "554 Transaction failed"),
    ("odd_notdelivered", "unknown", "perm", ANY, "550 Error: message not delivered"),
    ("odd_svc", "unknown", "perm", ANY, "554 5.0.0 Service unavailable"),
    ("odd_later", "unknown", "temp", ANY, "451 Try again later"),
    ("odd_norcpt", "unknown", "perm", ANY, "554 Sorry, no valid recipients"),
    ("odd_350", "unknown", "perm", ("exo",),
     "550 5.0.350 Remote server returned an error -> 550 Unknown error" + EOP),
]


@dataclass(frozen=True)
class Template:
    """One reply shape."""

    key: str
    category: str
    kind: str  # perm | temp
    systems: tuple[str, ...]
    text: str
    fields: frozenset[str]


def _fields(text: str) -> frozenset[str]:
    return frozenset(f for _, f, _, _ in string.Formatter().parse(text) if f)


TEMPLATES: tuple[Template, ...] = tuple(
    Template(k, c, kind, s, t, _fields(t)) for k, c, kind, s, t in _ROWS)
BY_KEY = {t.key: t for t in TEMPLATES}
CATEGORIES = ("invalid_address", "mailbox_unavailable", "spam_or_reputation", "authentication",
              "policy_or_configuration", "connectivity", "throttling", "unknown")
# Where a remote reply shows up inside Postfix's own delivery line (posix.md 1.2).
STAGES = ("RCPT TO", "end of DATA", "MAIL FROM", "DATA")


def candidates(system: str, kind: str, category: str) -> list[int]:
    """Indexes of the templates `system` answers with for (kind, category), generic last."""
    own = [i for i, t in enumerate(TEMPLATES)
           if system in t.systems and t.kind == kind and t.category == category]
    if own:
        return own
    return [i for i, t in enumerate(TEMPLATES)
            if "any" in t.systems and t.kind == kind and t.category == category]


def hexs(rng: random.Random, n: int, upper: bool = False) -> str:
    """n random hex digits."""
    s = f"{rng.getrandbits(4 * n):0{n}x}"
    return s.upper() if upper else s


def gmail_token(rng: random.Random) -> str:
    """A Gmail SMTP transaction token as at the end of a gsmtp reply."""
    return (f"{hexs(rng, 13)}-{hexs(rng, 6)}{rng.choice('0123456789abcdef')}si"
            f"{rng.randrange(10**6, 10**7)}{rng.choice(('qk', 'f8f', 'a7', 'd6'))}"
            f".{rng.randrange(10, 400)}")


_EOP_SITES = ("MW2NAM12FT", "BN8NAM12FT", "AM2PEPF0001C", "DB5PEPF00014B", "SA2PEPF0000",
              "AM4PEPF00027A", "CO1PEPF000044", "DS3PEPF0000C37E")
_EOP_REGIONS = ("eop-nam12", "eurprd05", "eurprd02", "namprd04", "namprd11", "eurprd07")


def render(t: Template, rng: random.Random, v: Mapping[str, str], iso: str) -> str:
    """The template with its placeholders filled: `v` gives the message's own values."""
    values: dict[str, str] = dict(v)
    need = t.fields
    if "token" in need:
        values["token"] = gmail_token(rng)
    if "eop" in need:
        values["eop"] = (f"{rng.choice(_EOP_SITES)}{rng.randrange(10, 99)}.{rng.choice(_EOP_REGIONS)}"
                         ".prod.protection.outlook.com")
        values["iso"] = iso
        values["sess"] = hexs(rng, 16, True)
    if "hex32" in need:
        values["hex32"] = hexs(rng, 32)
    if "score" in need:
        values["score"] = f"{rng.randrange(62, 199) / 10:.1f}"
    if "ymta" in need:
        values["ymta"] = (f"mta{rng.randrange(1000, 9999)}.mail."
                          f"{rng.choice(('gq1', 'bf1', 'ir2', 'ne1', 'sg3'))}.yahoo.com")
    if "fe" in need:
        values["fe"] = f"{rng.choice(('AM4EUR03', 'DB5EUR02', 'BN8NAM12', 'CO1NAM11'))}FT" \
                       f"{rng.randrange(10, 99)}"
    for name, digits in (("n2", 2), ("n3", 3), ("n5", 5)):
        if name in need:
            values[name] = f"{rng.randrange(10 ** digits):0{digits}d}"
    return t.text.format_map(values)


def code_of(text: str) -> int:
    """The reply code at the start of a rendered reply."""
    return int(text[:3])


def enhanced_of(text: str) -> str:
    """The RFC 3463 code right after the reply code ('' when there is none)."""
    parts = text[4:16].replace("-", " ").split()
    head = parts[0] if parts else ""
    return head if head.count(".") == 2 and head[0] in "245" else ""


def one_line(text: str) -> str:
    """A multi-line reply as Postfix logs it: the lines joined with spaces."""
    return " ".join(text.split("\r\n"))
