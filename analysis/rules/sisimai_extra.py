"""More of Sisimai's tables: local delivery agents (lda/lib.go), the remaining provider
tables (rhost/for-{kddi,nttdocomo,cloudflare,zoho,iua}.go), the message tables of the
vendor MTA modules (lhost/via-*.go) and Filtered's "user unknown after DATA" rule.

Where they sit (analysis/rules/providers.py, generic.py): Sisimai decides a reason in the
order lhost module -> LDA -> rhost -> reason indexes (fact/rise.go, the REASON loop), so the
LDA rows go before the provider rows and the vendor MTA rows join the other lhost rows.
"""

from __future__ import annotations

import re
from dataclasses import replace

from . import Rule, slug
from .sisimai import GO, USER_CODES, index_rows, not_sender

# --- Local delivery agents (lda/lib.go): the agent's own marker, then its message table; an
# agent's message that matches no row is MailerError ("procmail: Couldn't create ...").
# Find() only applies when the command is DATA or unknown.
LDA = GO + "lda/lib.go (Sisimai local delivery agent table)"
_AGENTS: dict[str, tuple[str, ...]] = {
    "dovecot": ("your message to <", "> was automatically rejected:"),
    "mail.local": ("mail.local: ",),
    "procmail": ("procmail: ", "/procmail "),
    "maildrop": ("maildrop: ",),
    "vpopmail": ("vdelivermail: ",),
    "vmailmgr": ("vdeliver: ",),
}
_LDA_MESSAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("dovecot", "mailboxfull", ("not enough disk space", "quota exceeded")),
    ("dovecot", "userunknown", ("mailbox doesn't exist: ",)),
    ("mail.local", "mailboxfull", ("disc quota exceeded", "mailbox full or quota exceeded")),
    ("mail.local", "systemerror", ("temporary file write error",)),
    ("mail.local", "userunknown", (": invalid mailbox path", ": unknown user:",
                                   ": user missing home directory", ": user unknown")),
    ("procmail", "mailboxfull", ("quota exceeded while writing", "user over quota")),
    ("procmail", "systemerror", ("service unavailable",)),
    ("procmail", "systemfull", ("no space left to finish writing",)),
    ("maildrop", "mailboxfull", ("maildir over quota.",)),
    ("maildrop", "userunknown", ("cannot find system user", "invalid user specified.")),
    ("vpopmail", "filtered", ("user does not exist, but will deliver to ",)),
    ("vpopmail", "mailboxfull", ("domain is over quota", "user is over quota")),
    ("vpopmail", "suspend", ("account is locked email bounced",)),
    ("vpopmail", "userunknown", ("sorry, no mailbox here by that name.",)),
    ("vmailmgr", "mailboxfull", ("delivery failed due to system quota violation",)),
    ("vmailmgr", "userunknown", ("invalid or unknown base user or domain",
                                 "invalid or unknown virtual user",
                                 "user name does not refer to a virtual user")),
)


def _agent_re(agent: str) -> str:
    markers = _AGENTS[agent]
    if agent == "dovecot":  # the two halves of one sentence, in order
        return r"^(?=.*your message to <.*> was automatically rejected:)"
    return "^(?=.*(?:" + "|".join(re.escape(m) for m in markers) + "))"


LDA_RULES: list[Rule] = [
    *[Rule(f"sis.lda.{agent}.{reason}:{slug(p)}", reason, text=(p,), regex=_agent_re(agent),
           source=LDA) for agent, reason, phrases in _LDA_MESSAGES for p in phrases],
    *[Rule(f"sis.lda.{agent}.mailererror", "mailererror", text=(_AGENTS[agent][0],),
           regex=_agent_re(agent), source=LDA) for agent in _AGENTS],
]

# --- Provider tables not ported before (rhost/for-*.go). Hosts: analysis/rules/__init__.py.
RH = GO + "rhost/for-{}.go (Sisimai {} rhost table)"
_RHOST: tuple[tuple[str, str, str, str], ...] = (
    # (table, provider key, reason, phrase)
    ("kddi", "kddi", "filtered", "550 : user unknown"),
    ("kddi", "kddi", "userunknown", ">: user unknown"),
    ("nttdocomo", "docomo", "mailboxfull", "552 too much mail data"),
    ("nttdocomo", "docomo", "syntaxerror", "503 bad sequence of commands"),
    ("nttdocomo", "docomo", "syntaxerror", "504 command parameter not implemented"),
    ("nttdocomo", "docomo", "toomanyconn", "552 too many recipients"),
    ("nttdocomo", "docomo", "userunknown", "550 unknown user"),
    ("cloudflare", "cloudflare", "blocked", "found on one or more dnsbls"),
    ("cloudflare", "cloudflare", "systemerror", "upstream error"),
    ("zoho", "zoho", "authfailure", "email rejected per dmarc policy"),
    # Sisimai has no greylisting reason: Zoho's greylisting reply is Blocked.
    ("zoho", "zoho", "blocked", "greylisted, try again after some time"),
    ("zoho", "zoho", "rejected", "email cannot be delivered. reason: email flagged as spam"),
    ("zoho", "zoho", "rejected", "mail rejected by destination domain"),
    ("zoho", "zoho", "policyviolation", "email policy violation detected"),
    ("zoho", "zoho", "policyviolation", "mailbox delivery restricted by policy error"),
    ("zoho", "zoho", "systemerror", "temporary system error"),
    ("zoho", "zoho", "userunknown", "user does not exist"),
    ("zoho", "zoho", "virusdetected", " detected by zoho mail"),
)
_NAMES = {"kddi": "KDDI", "nttdocomo": "NTTDOCOMO", "cloudflare": "Cloudflare", "zoho": "Zoho",
          "iua": "IUA"}
# i.ua: "https://mail.i.ua/err/$(CODE)/" names the reason.
_IUA = {"1": "norelaying", "2": "userunknown", "3": "suspend", "4": "mailboxfull",
        "5": "toomanyconn", "6": "norelaying", "7": "blocked", "8": "rejected", "9": "blocked",
        "10": "filtered"}


def _rh(name: str) -> str:
    return RH.format(name, _NAMES[name])


RHOST_EXTRA_RULES: list[Rule] = [
    *[Rule(f"sis.{name}.{reason}:{slug(p)}", reason, host=host, text=(p,), source=_rh(name))
      for name, host, reason, p in _RHOST],
    # NTT DOCOMO decides from the status code first: 5.1.1/5.0.911 unknown user, 5.2.0 a
    # reception filter; with 5.0.0 the command decides (RCPT: unknown user, DATA: rejected).
    Rule("sis.nttdocomo.userunknown:status", "userunknown", host="docomo",
         enhanced=r"^5\.(?:1\.1|0\.911)$", source=_rh("nttdocomo")),
    Rule("sis.nttdocomo.filtered:5.2.0", "filtered", host="docomo", enhanced="5.2.0",
         source=_rh("nttdocomo")),
    Rule("sis.nttdocomo.userunknown:5.0.0-rcpt", "userunknown", host="docomo", enhanced="5.0.0",
         command=("RCPT",), source=_rh("nttdocomo")),
    Rule("sis.nttdocomo.rejected:5.0.0-data", "rejected", host="docomo", enhanced="5.0.0",
         command=("DATA",), source=_rh("nttdocomo")),
    *[Rule(f"sis.iua.{reason}:err-{code}", reason, text=(".i.ua/err/",),
           regex=rf"\.i\.ua/err/{code}/", source=_rh("iua")) for code, reason in _IUA.items()],
]

# --- Vendor MTA modules' message tables (lhost/via-*.go), each gated by the module's own
# marker when the phrase alone is too common.
LH = GO + "lhost/via-{}.go (Sisimai {} message table)"
_LHOST: tuple[tuple[str, str, str, str | None], ...] = (
    # (module, reason, phrase, marker regex that must also occur, or None)
    ("notes", "networkerror", "message has exceeded maximum hop count", None),
    ("notes", "userunknown", "user not listed in public name & address book", None),
    ("einsundeins", "mesgtoobig", "mail size limit exceeded", None),
    ("gmx", "expired", "delivery retry timeout exceeded", None),
    ("zoho", "expired", "host not reachable", r"zoho|\[status: error"),
    ("kddi", "mailboxfull", "as their mailbox is full", None),
    ("kddi", "norelaying", "due to the following smtp relay error", None),
    ("kddi", "hostunknown", "as the remote domain doesnt exist", None),
    ("verizon", "userunknown", "550 - requested action not taken: no such user here", None),
    ("ezweb", "expired", "your message was not delivered within ", None),
    ("ezweb", "mailboxfull", "the user(s) account is temporarily over quota", None),
    ("ezweb", "onhold", "each of the following recipients was rejected by a remote mail server",
     None),
    ("ezweb", "suspend", "the user(s) account is disabled.", None),
    ("ezweb", "suspend", "the user(s) account is temporarily limited.", None),
    ("dragonfly", "expired", "could not deliver for the last ", None),
    ("dragonfly", "hostunknown", "dns lookup failure: host ", None),
    # fml's "reject mail from ..." and "reject spammers:" also occur in other servers'
    # replies (an IP block list): only with fml's own name in the text.
    ("fml", "rejected", " header may cause mail loop", None),
    ("fml", "rejected", "not member article from ", None),
    ("fml", "rejected", "reject mail from ", r"\bfml\b"),
    ("fml", "rejected", "reject spammers:", r"\bfml\b"),
    ("fml", "rejected", "you are not a member of this mailing list", None),
    ("fml", "notcompliantrfc", "duplicated message-id", None),
    ("fml", "securityerror", "security alert:", None),
    ("fml", "systemerror", " has detected a loop condition so that", None),
    ("fml", "systemerror", "loop back warning:", None),
    ("biglobe", "filtered", "mail delivery failed... user unknown", None),
    ("biglobe", "mailboxfull",
     "the number of messages in recipient's mailbox exceeded the local limit.", None),
    # InterScan MSS / Trend Micro: "Unable to deliver message to <a@b>" is UserUnknown.
    ("interscanmss", "userunknown", "unable to deliver message to <", r"interscan"),
    ("googlegroups", "rejected", "you may not have permission to post messages to the group",
     None),
    # Added later: Notes' Japanese "not in the directory list". (Verizon's "No valid recipients"
    # is left to generic.py's UserUnknown phrase: Verizon's marker, its From: header, is not in
    # a reply text.)
    ("notes", "userunknown", "ディレクトリのリストにありません", None),
)
_LH_NAMES = {"notes": "Notes", "einsundeins": "EinsUndEins", "gmx": "GMX", "zoho": "Zoho",
             "kddi": "KDDI", "verizon": "Verizon", "ezweb": "EZweb", "dragonfly": "DragonFly",
             "fml": "FML", "biglobe": "Biglobe", "interscanmss": "InterScanMSS",
             "googlegroups": "GoogleGroups"}
LHOST_EXTRA_RULES: list[Rule] = [
    Rule(f"sis.lhost.{m}.{reason}:{slug(p)}", reason, text=(p,),
         regex=f"^(?=.*(?:{marker}))" if marker else None, source=LH.format(m, _LH_NAMES[m]))
    for m, reason, p, marker in _LHOST
]

# --- Filtered (reason/why-filtered.go ProbesInto): a "user unknown" text answered after the
# DATA command is a filter on the recipient's side, not a missing mailbox ("all the MTAs read
# the headers and the entire message body after the DATA command"), unless the status code
# itself names an unknown user.
def _filtered(name: str, command: str, why: str, **kw: object) -> list[Rule]:
    """UserUnknown's phrases as Filtered rows for one command (ids sis.filtered.<name>:...),
    unless the status code itself names an unknown user."""
    return [replace(r, rule_id=r.rule_id.replace(f".{name}.userunknown:", f".{name}:"),
                    reason="filtered", source=GO + f"reason/why-filtered.go (Sisimai Filtered: {why})",
                    **kw)  # type: ignore[arg-type]
            for r in not_sender(index_rows("userunknown", prefix=f"sis.filtered.{name}",
                                           command=(command,), skip_enhanced=USER_CODES))]


FILTERED_DATA_RULES: list[Rule] = _filtered("data", "DATA", "user unknown after DATA")
# why-filtered.go also files an unknown-user phrase as Filtered when the SMTP command is not
# known at all and the status names no unknown user ("550 User unknown." with Status 5.0.0):
# nothing confirms that the address itself was refused. Sisimai's reason, our own advice, and
# never a suppression on such weak evidence. Texts that name the sender keep our rows.
UNCONFIRMED_ADVICE = ("The server says the user is unknown, but neither a 5.1.x status nor the "
                      "SMTP stage (RCPT) confirms it (Sisimai files this as filtered): check the "
                      "address, and suppress it if it bounces the same way again.")
UNCONFIRMED_PREFIX = "sis.filtered.unconfirmed:"
FILTERED_UNCONFIRMED_RULES: list[Rule] = _filtered(
    "unconfirmed", "", "user unknown, command unknown", advice=UNCONFIRMED_ADVICE,
    suppress=False)
