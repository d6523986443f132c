"""Demo data tables: recipient domains, names, and the SMTP reply catalogue by category.

Reply texts keep the real providers' shapes (formats/smtp_responses.md section 4, the
samples in formats/samples/); only names, IPs and IDs are invented (RFC 2606 / 5737).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from .demo_model import (
    SENDER_DOMAIN,
    Attempt,
    Msg,
    exim_id,
    gmail_token,
    hexs,
    iso_ms,
    sendmail_qid,
)


@dataclass(frozen=True)
class Domain:
    """A recipient domain: the mail system behind it and the trace file that covers it."""

    name: str
    system: str  # exo, outlook, gmail, gws, yahoo, exchange, postfix, exim, sendmail, ...
    weight: float
    trace: str | None = None  # trace file key (November only)
    outage: str | None = None  # reply key every attempt gets in November (unreachable host)


DOMAINS: tuple[Domain, ...] = (
    # consumer mailbox providers (replies shaped like Gmail, Outlook.com, Yahoo)
    Domain("gmail.example.com", "gmail", 20),
    Domain("outlook.example.com", "outlook", 7),
    Domain("hotmail.example.com", "outlook", 5),
    Domain("yahoo.example.com", "yahoo", 6),
    Domain("aol.example.com", "yahoo", 2),
    # partners who sent traces for the November campaign
    Domain("alpine.example.org", "exo", 5, "exo_extended"),
    Domain("harbor.example.org", "exo", 3, "exo_eac"),
    Domain("cedar.example.com", "exo", 2.5, "exo_v1"),
    Domain("maplegrove.example.com", "gws", 4, "google_els"),
    Domain("riverbend.example.net", "gws", 2.5, "google_bq"),
    Domain("birchwood.example.com", "gws", 1.5, "google_bq"),
    Domain("fabrikam.example.net", "exchange", 3, "msgtrk"),
    Domain("oakridge.example.org", "postfix", 3, "postfix"),
    Domain("pine.example.org", "postfix", 1.5, "postfix"),
    Domain("quarry.example.net", "postfix", 1.5, "postfix"),
    # everybody else: only the ESP's view
    Domain("northwind.example.com", "exo", 2.5),
    Domain("contoso.example.com", "exo", 2.5),
    Domain("woodgrove.example.org", "exo", 2),
    Domain("adatum.example.net", "exo", 1.5),
    Domain("humongous.example.com", "exo", 1.5),
    Domain("lakeshore.example.com", "exo", 1),
    Domain("litware.example.com", "gws", 2),
    Domain("fourthcoffee.example.com", "gws", 1.2),
    Domain("relecloud.example.org", "gws", 1.5),
    Domain("bluefin.example.org", "gws", 1),
    Domain("wingtip.example.org", "exchange", 1.2),
    Domain("summit.example.net", "exchange", 0.7),
    Domain("lucerne.example.com", "postfix", 1.2),
    Domain("treyresearch.example.net", "postfix", 0.8),
    Domain("tailspin.example.net", "postfix", 1.2, outage="timeout"),
    Domain("margie.example.org", "sendmail", 1),
    Domain("legacy.example.net", "sendmail", 0.8),
    Domain("coho.example.net", "exim", 1),
    Domain("tinker.example.com", "exim", 0.8),
    Domain("proseware.example.net", "dead", 0.4),  # MX refuses connections (both months)
    Domain("oldmill.example.org", "nodns", 0.4),  # DNS lookups fail (both months)
    Domain("gmial.example.com", "typo", 0),  # typo domains of new subscribers
    Domain("hotmial.example.com", "typo", 0),
)
BY_NAME = {d.name: d for d in DOMAINS}

FIRST = (
    "Alice Ben Carla Dev Erin Farid Grace Hiro Ivan Julia Kofi Léna Marco Nadia Oscar Paula "
    "Quentin Rita Sam Tara Uma Victor Wendy Xavier Yara Zoë Amir Bianca Chen Dana Emil Fatima "
    "Georg Hannah Ines José Kai Lars Mei Noah Olga Priya Rafael Sofia Tomás Ulrike Vikram "
    "Willem Aisha Bruno Camille Diego Elif Finn Greta Hamza Isla Jonas Kenji Lucía Mateo Nora "
    "Omar Pia Ravi Saoirse Theo Valentina Yusuf Zara Søren Ana Björn Chloé Dmitri Eva").split()
LAST = (
    "Nguyen Okafor Mendes Patel Walsh Haddad Kim Tanaka Petrov Schmidt Mensah Fischer Rossi "
    "Ali Lind Diaz Moreau Costa Berg Novak Ivanova Santos Müller Dubois Kowalski Jensen "
    "Andersen Rahman Silva Garcia Ferreira Yilmaz O'Brien Murphy Wagner Becker Hoffmann Kaur "
    "Singh Cohen Levi Nakamura Sato Chen Wang Li Zhang Lopez Martin Bernard Laurent Ahmed "
    "Hassan Mwangi Dlamini Naidoo Botha Pillay Smith Jones Taylor Brown Wilson Evans Thomas "
    "Roberts Johnson Lewis Walker White Green Hall Wood Clarke Hughes Edwards").split()
ROLE_ACCOUNTS = ("info", "office", "reception")  # oakridge discards newsletters to these

SUBJECTS = {
    "October Newsletter": "October Newsletter – Autumn gear guide",
    "November Newsletter": "November Newsletter – Trail season is here",
}

# -- reply catalogue ------------------------------------------------------------------------
# key: (category, systems that answer this way, template). Multi-line replies use CR LF,
# as the TouchBasePro sample stores them. Placeholders are filled by render().
EOP = "[{eop} {iso} {sess}]"
GMAIL_TAIL = "{token} - gsmtp"
REPLIES: dict[str, tuple[str, tuple[str, ...], str]] = {
    # invalid_address
    "exo_dbeb": ("invalid_address", ("exo", "outlook"),
                 "550 5.4.1 Recipient address rejected: Access denied. For more information "
                 "see https://aka.ms/EXOSmtpErrors " + EOP),
    "exo_5110": ("invalid_address", ("exo", "exchange"),
                 "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {rcpt} not found by SMTP "
                 "address lookup"),
    "outlook_550": ("invalid_address", ("outlook",),
                    "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). "
                    + EOP),
    "gmail_511": ("invalid_address", ("gmail", "gws"),
                  "550-5.1.1 The email account that you tried to reach does not exist. Please "
                  "try\r\n550-5.1.1 double-checking the recipient's email address for typos or\r\n"
                  "550-5.1.1 unnecessary spaces. For more information, go to\r\n"
                  "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser " + GMAIL_TAIL),
    "postfix_local_511": ("invalid_address", ("postfix",),
                          "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local "
                          "recipient table"),
    "postfix_virtual_511": ("invalid_address", ("postfix",),
                            "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in "
                            "virtual mailbox table"),
    "sendmail_511": ("invalid_address", ("sendmail",), "550 5.1.1 <{rcpt}>... User unknown"),
    "exim_unrouteable": ("invalid_address", ("exim",), "550 Unrouteable address"),
    "exchange_ndr": ("invalid_address", ("exchange",),
                     "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"),
    "yahoo_dd": ("invalid_address", ("yahoo",),
                 "554 delivery error: dd This user doesn't have a {domain} account ({rcpt}) "
                 "[-5] - {ymta}"),
    "host_unknown": ("invalid_address", ("typo",),
                     "553 5.1.2 <{rcpt}>... Host unknown (Name server: {domain}: host not found)"),
    # mailbox_unavailable
    "gmail_422": ("mailbox_unavailable", ("gmail", "gws"),
                  "452-4.2.2 The recipient's inbox is out of storage space. Please direct the\r\n"
                  "452-4.2.2 recipient to\r\n452 4.2.2  https://support.google.com/mail/"
                  "?p=OverQuotaTemp " + GMAIL_TAIL),
    "gmail_522": ("mailbox_unavailable", ("gmail", "gws"),
                  "552-5.2.2 The recipient's inbox is out of storage space and inactive. Please "
                  "direct\r\n552-5.2.2 the recipient to\r\n552 5.2.2  https://support.google.com/"
                  "mail/?p=OverQuotaPerm " + GMAIL_TAIL),
    "gmail_521": ("mailbox_unavailable", ("gmail", "gws"),
                  "550-5.2.1 The email account that you tried to reach is inactive. For more\r\n"
                  "550-5.2.1 information, go to\r\n550 5.2.1  https://support.google.com/mail/"
                  "?p=DisabledUser " + GMAIL_TAIL),
    "dovecot_522": ("mailbox_unavailable", ("postfix",),
                    "552 5.2.2 <{rcpt}> Quota exceeded (mailbox for user is full)"),
    "postfix_full_422": ("mailbox_unavailable", ("postfix",),
                         "452 4.2.2 <{rcpt}>: Recipient address rejected: Mailbox is full"),
    "yahoo_disabled": ("mailbox_unavailable", ("yahoo",),
                       "554 delivery error: dd Sorry your message to {rcpt} cannot be delivered. "
                       "This mailbox is disabled (554.30). - {ymta}"),
    "exo_full": ("mailbox_unavailable", ("exo",),
                 "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException."
                 "MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent "
                 "exception with message [BeginDiagnosticData]Cannot open mailbox /o=ExchangeLabs/"
                 "ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={hex32}-"
                 "{local}.[EndDiagnosticData]"),
    "sendmail_521": ("mailbox_unavailable", ("sendmail",),
                     "550 5.2.1 <{rcpt}>... Mailbox disabled for this recipient"),
    # spam_or_reputation
    "gmail_571": ("spam_or_reputation", ("gmail", "gws"),
                  "550-5.7.1 [{ip}] Our system has detected that this message is\r\n"
                  "550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,"
                  "\r\n550-5.7.1 this message has been blocked. For more information, go to\r\n"
                  "550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError "
                  + GMAIL_TAIL),
    "spamassassin": ("spam_or_reputation", ("exim",),
                     "550 Your message scored {score} SpamAssassin points and was classified as "
                     "spam"),
    "spamhaus": ("spam_or_reputation", ("postfix",),
                 "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org;"
                 " https://www.spamhaus.org/query/ip/{ip}"),
    "barracuda": ("spam_or_reputation", ("sendmail", "postfix"),
                  "554 5.7.1 Service unavailable; Client host [{ip}] blocked using "
                  "b.barracudacentral.org; http://www.barracudanetworks.com/reputation/?pr=1&ip={ip}"),
    "yahoo_bl21": ("spam_or_reputation", ("yahoo",),
                   "553 5.7.1 [BL21] Connections will not be accepted from {ip}, because the ip is "
                   "in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes"),
    "ms_606": ("spam_or_reputation", ("exo", "outlook"),
               "550 5.7.606 Access denied, banned sending IP [{ip}]. To request removal from this "
               "list please visit https://sender.office.com/ and follow the directions. For more "
               "information please go to http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430) "
               + EOP),
    "outlook_s3150": ("spam_or_reputation", ("outlook",),
                      "550 5.7.1 Unfortunately, messages from [{ip}] weren't sent. Please contact "
                      "your Internet service provider since part of their network is on our block "
                      "list (S3150). You can also refer your provider to http://mail.live.com/mail/"
                      "troubleshooting.aspx#errors. " + EOP),
    "exchange_cfa": ("spam_or_reputation", ("exchange",),
                     "550 5.7.1 Message rejected as spam by Content Filtering."),
    # authentication
    "gmail_dmarc": ("authentication", ("gmail", "gws"),
                    "550-5.7.26 Unauthenticated email from {sdom} is not accepted due\r\n"
                    "550-5.7.26 to domain's DMARC policy. Please contact the administrator of\r\n"
                    "550-5.7.26 {sdom} domain if this was a legitimate mail. To learn\r\n"
                    "550-5.7.26 about the DMARC initiative, go to\r\n"
                    "550 5.7.26  https://support.google.com/mail/?p=DmarcRejection " + GMAIL_TAIL),
    "ms_515": ("authentication", ("outlook",),
               "550 5.7.515 Access denied, sending domain [{SDOM}] does not meet the required "
               "authentication level. The sender's domain in the 5322.From address doesn't meet "
               "the authentication requirements defined for the sender. To learn more, see "
               "https://go.microsoft.com/fwlink/?linkid=2298366 " + EOP),
    "exo_spf": ("authentication", ("exo",),
                "550 5.7.23 The message was rejected because of Sender Policy Framework violation "
                + EOP),
    "postfix_spf": ("authentication", ("postfix",),
                    "550 5.7.23 <{rcpt}>: Recipient address rejected: Message rejected due to: SPF "
                    "fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id={verp};"
                    "ip={ip};r=<UNKNOWN>"),
    "yahoo_579": ("authentication", ("yahoo",),
                  "550 5.7.9 This mail has been blocked because the sender is unauthenticated. "
                  "Yahoo requires all senders to authenticate with either SPF or DKIM."),
    # policy_or_configuration
    "relay_postfix": ("policy_or_configuration", ("postfix",),
                      "554 5.7.1 <{rcpt}>: Relay access denied"),
    "relay_sendmail": ("policy_or_configuration", ("sendmail",),
                       "550 5.7.1 <{rcpt}>... Relaying denied"),
    "ms_133": ("policy_or_configuration", ("exo",),
               "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; "
               "Delivery restriction check failed as sender not authenticated " + EOP),
    "too_big": ("policy_or_configuration", ("postfix", "exim"),
                "552 5.3.4 Message size exceeds fixed limit"),
    "yahoo_ph01": ("policy_or_configuration", ("yahoo",),
                   "554 Message not allowed - [PH01] Email not accepted for policy reasons.  "
                   "Please visit https://postmaster.yahooinc.com/error-codes"),
    # connectivity (written by the ESP's own MTA: the remote never answered)
    "timeout": ("connectivity", ("postfix",),
                "421 4.4.2 conversation with {mx}[{mxip}] timed out while receiving the initial "
                "server greeting"),
    "refused": ("connectivity", ("dead",),
                "451 4.4.1 connect to {mx}[{mxip}]:25: Connection refused"),
    "no_dns": ("connectivity", ("nodns",),
               "450 4.4.3 Host or domain name not found. Name service error for name={domain} "
               "type=MX: Host not found, try again"),
    # throttling
    "gmail_428": ("throttling", ("gmail", "gws"),
                  "421-4.7.28 [{ip}      15] Our system has detected an unusual rate of\r\n"
                  "421-4.7.28 unsolicited mail originating from your IP address. To protect our\r\n"
                  "421-4.7.28 users from spam, mail sent from your IP address has been temporarily"
                  "\r\n421-4.7.28 rate limited. For more information, go to\r\n"
                  "421 4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError "
                  + GMAIL_TAIL),
    "gmail_421": ("throttling", ("gmail", "gws"),
                  "450-4.2.1 The user you are trying to contact is receiving mail too quickly.\r\n"
                  "450-4.2.1 Please resend your message at a later time. If the user is able to\r\n"
                  "450-4.2.1 receive mail at that time, your message will be delivered. For more\r\n"
                  "450 4.2.1 information, go to https://support.google.com/mail/?p=ReceivingRate "
                  + GMAIL_TAIL),
    "yahoo_tss04": ("throttling", ("yahoo",),
                    "421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected "
                    "volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/"
                    "error-codes"),
    "outlook_rp001": ("throttling", ("outlook",),
                      "421 RP-001 ({fe}) Unfortunately, some messages from {ip} weren't sent. "
                      "Please try again. We have limits for how many messages can be sent per hour "
                      "and per day. You can also refer to http://mail.live.com/mail/"
                      "troubleshooting.aspx#errors."),
    "exo_busy": ("throttling", ("exo",),
                 "451 4.7.500 Server busy. Please try again later from [{ip}]. (AS761) " + EOP),
    # temporary, resolved by retrying (greylisting)
    "greylist": ("throttling", ("postfix",),
                 "450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted, see "
                 "https://postgrey.example.org/help/{domain}.html"),
    # odd texts: Exim's bare ACL denial and local trouble, a Sendmail mailer failure ...
    "odd_admin": ("policy_or_configuration", ("exim",), "550 Administrative prohibition"),
    "odd_local": ("connectivity", ("exim",), "451 Temporary local problem - please try later"),
    "odd_mailer": ("connectivity", ("sendmail",), "554 5.3.0 <{rcpt}>... unknown mailer error 1"),
    # ... and unknown: texts no rule can claim
    "odd_ref": ("unknown", ("exo", "exchange"),
                "550 Requested action not taken: message refused (ref. 0x80004005)"),
    "odd_processed": ("unknown", ("exim", "postfix"), "550 Message could not be processed [E-311]"),
    "odd_notaccepted": ("unknown", ("sendmail", "postfix"), "550 #5.0.0 Message was not accepted"),
}

# Which failures each system produces at random, by kind (permanent at SMTP time / temporary).
PERMANENT = {
    "gmail": ("gmail_511", "gmail_521", "gmail_522", "gmail_571", "gmail_dmarc"),
    "gws": ("gmail_511", "gmail_521", "gmail_571", "gmail_dmarc"),
    "outlook": ("outlook_550", "exo_dbeb", "outlook_s3150", "ms_606", "ms_515"),
    "exo": ("exo_dbeb", "exo_5110", "ms_606", "exo_spf", "ms_133", "odd_ref"),
    "yahoo": ("yahoo_dd", "yahoo_disabled", "yahoo_bl21", "yahoo_579", "yahoo_ph01"),
    "exchange": ("exo_5110", "exchange_cfa", "odd_ref"),
    "postfix": ("postfix_local_511", "postfix_virtual_511", "spamhaus", "barracuda",
                "postfix_spf", "relay_postfix", "too_big", "odd_notaccepted"),
    "sendmail": ("sendmail_511", "sendmail_521", "barracuda", "relay_sendmail", "odd_mailer",
                 "odd_notaccepted"),
    "exim": ("exim_unrouteable", "spamassassin", "too_big", "odd_admin", "odd_processed"),
}
TEMPORARY = {
    "gmail": ("gmail_422", "gmail_428", "gmail_421"),
    "gws": ("gmail_422", "gmail_421"),
    "outlook": ("outlook_rp001",),
    "exo": ("exo_busy",),
    "yahoo": ("yahoo_tss04",),
    "exchange": ("exo_busy",),
    "postfix": ("postfix_full_422", "greylist"),
    "sendmail": ("greylist",),
    "exim": ("odd_local",),
}
# Keys whose permanent failure the ESP labels "Hard" (the others it calls soft bounces).
HARD = {"invalid_address", "authentication", "policy_or_configuration"}
SOFT_REASON = {"mailbox_unavailable": "Soft Bounce - Mailbox Full"}

EU_PODS = ("AM9PR05", "DB9PR02", "VI1PR04", "PA4PR08", "AS8PR03", "DU0PR06")
US_PODS = ("BN0PR12", "SA1PR11", "CH3PR20", "PH0PR05", "MW4PR13")


def exo_host(rng: random.Random, eu: bool = True) -> str:
    """An Exchange Online mailbox server name (the reply's Hostname=)."""
    pod = rng.choice(EU_PODS if eu else US_PODS)
    region = f"eurprd{pod[-2:]}" if eu else f"namprd{pod[-2:]}"
    return f"{pod}MB{rng.randrange(1000, 9999)}.{region}.prod.outlook.com"


def eop_host(rng: random.Random) -> str:
    """An EOP front-end name as it appears at the end of Microsoft's rejections."""
    site = rng.choice(("MW2NAM12FT", "BN8NAM12FT", "AM2PEPF0001C", "DB5PEPF00014B",
                       "SA2PEPF0000", "AM4PEPF00027A"))
    region = rng.choice(("eop-nam12", "eurprd05", "eurprd02", "namprd04"))
    return f"{site}{rng.randrange(10, 99)}{hexs(rng, 1, True)}.{region}.prod.protection.outlook.com"


def render(key: str, msg: Msg, at: datetime, rng: random.Random) -> Attempt:
    """The reply `key` as `msg`'s recipient server (or the ESP's own MTA) wrote it at `at`."""
    _, _, template = REPLIES[key]
    mx = msg.extra.get("mx") or f"mail.{msg.domain}"
    values = {
        "rcpt": msg.email, "domain": msg.domain, "local": msg.local, "ip": msg.mta_ip,
        "verp": msg.verp, "sdom": SENDER_DOMAIN, "SDOM": SENDER_DOMAIN.upper(),
        "token": gmail_token(rng), "eop": eop_host(rng), "iso": iso_ms(at),
        "sess": hexs(rng, 16, True), "hex32": hexs(rng, 32), "mx": mx,
        "mxip": msg.extra.get("mxip") or f"203.0.113.{40 + sum(msg.domain.encode()) % 50}",
        "score": f"{rng.randrange(62, 199) / 10:.1f}",
        "ymta": f"mta{rng.randrange(1000, 9999)}.mail.{rng.choice(('gq1', 'bf1', 'ir2', 'ne1'))}"
                ".yahoo.com",
        "fe": f"{rng.choice(('AM4EUR03', 'DB5EUR02', 'BN8NAM12'))}FT{rng.randrange(10, 99)}",
    }
    text = template.format(**values)
    return Attempt(at=at, code=int(text[:3]), text=text, key=key)


def accept(msg: Msg, at: datetime, rng: random.Random) -> tuple[Attempt, str]:
    """The final 250 reply of the recipient's server and the ID the ESP extracts from it."""
    size = msg.size
    secs = rng.randrange(60, 260) / 1000
    speed = f"{size / 1024 / secs:.3f}"
    system = msg.system
    if system in ("exo", "outlook", "exchange"):
        host = str(msg.extra["host"])
        text = (f"250 2.6.0 {msg.message_id} [InternalId={msg.extra['internal_id']}, "
                f"Hostname={host}] {size} bytes in {secs:.3f}, {speed} KB/sec Queued mail for "
                "delivery")
        rid = msg.message_id
    elif system in ("gmail", "gws"):
        token = gmail_token(rng)
        text = f"250 2.0.0 OK  {int(at.timestamp())} {token} - gsmtp"
        rid = token
    elif system == "postfix":
        rid = str(msg.extra["qid"])
        style = msg.extra.get("reply_style", "enhanced")
        text = {"plain": f"250 Ok: queued as {rid}",
                "bdat": f"250 2.0.0 Ok: {size} bytes queued as {rid}"}.get(
            str(style), f"250 2.0.0 Ok: queued as {rid}")
    elif system == "sendmail":
        rid = sendmail_qid(at, rng)
        text = f"250 2.0.0 {rid} Message accepted for delivery"
    elif system == "exim":
        rid = exim_id(at, rng)
        text = f"250 OK id={rid}"
    else:  # Yahoo / AOL say nothing the sender could join on
        text, rid = "250 ok dirdel", ""
    return Attempt(at=at, code=250, text=text, key="accepted"), rid
