"""Rows stated as "what was refused" + "why", so unseen wordings of one meaning share a reason.

Each row restates one of Sisimai's reason definitions (reason/lib.go `Availables`,
https://libsisimai.org/en/reason/) as a subject and a predicate instead of one vendor's
sentence. Found by leaving out rules that fire on a single corpus row and looking at where
those rows fell instead (round 2 of issue 9): the fall-back rows put them in the wrong family.

`FIRST_MEANING_RULES` go before our phrase rows (a sender's quota is not a full mailbox, a
refused sender domain is not an unknown host); `BROAD_MEANING_RULES` go with the broad rows.
"""

from __future__ import annotations

from dataclasses import replace

from . import Rule, T, slug


def K(rule: Rule, *keywords: str) -> list[Rule]:
    """The row once per keyword, where every text its regex matches contains one keyword.

    A row with a text fragment is only tried on texts that contain it (the trigram index of
    analysis/classify.py); a row with a regex alone is tried on every text. The copies sit
    next to each other with one reason, so the result is the regex row's, only cheaper.
    Keywords are read like the text: lower case, '-'/'_' between letters as a space.
    """
    return [replace(rule, rule_id=rule.rule_id if i == 0 else f"{rule.rule_id}/{slug(k)}",
                    text=(k,)) for i, k in enumerate(keywords)]


SIS = "https://github.com/sisimai/go-sisimai/blob/main/reason/lib.go (Sisimai {}: {})"
_BLOCKED = SIS.format("Blocked", "rejected due to client IP address or a hostname")
_REJECTED = SIS.format("Rejected", "rejected due to a sender's email address (envelope from)")
_EXCEED = SIS.format("ExceedLimit", "an email exceeded the limit") + "; the sender's own allowance"
_USER = SIS.format("UserUnknown", "a local part of a recipient's email address does not exist")

_SENDER = (r"(?:sender|mail ?from|envelope[- ]from|from[: ](?:address|domain|header)|from:|"
           r"return[- ]path)")
FIRST_MEANING_RULES: list[Rule] = [
    # The ESP itself did not send: Mailgun "Not delivering to previously bounced address".
    *T("suppressed", "https://documentation.mailgun.com/docs/mailgun/user-manual/events/ "
       "(Mailgun suppressions: 'Not delivering to ...')", "not delivering to"),
    # SPF's own wording: the sender domain "does not designate <ip> as permitted sender".
    *K(Rule("authfailure:spf-wording", "authfailure",
         regex=r"\bdesignates? [^;]{0,60}?\bas (?:a )?permitted sender|\bnot a permitted sender\b"
               r"|\bfail\w* (?:the )?sender authentication\b|\bsender authentication fail",
         source=SIS.format("AuthFailure", "rejected due to SPF, DKIM, DMARC failure")),
         "designate", "permitted sender", "sender authentication"),
    # SPF in plain words: the sending server "is not authorized to send mail from your domain".
    *K(Rule("authfailure:not-authorized-for-domain", "authfailure",
         regex=r"\b(?:authori[sz]ed|permitted|allowed) to send (?:e-?mails? |mail |messages? )?"
               r"(?:from|for|on behalf of) (?:your|the|this|that|its|their) (?:own )?"
               r"(?:sender'?s? |sending )?domain\b",
         source=SIS.format("AuthFailure", "rejected due to SPF, DKIM, DMARC failure")),
         "authorized", "authorised", "permitted", "allowed"),
    # A link in the body is listed: the content, not the client (Sisimai SpamDetected
    # "blacklisted url in message").
    *K(Rule("spamdetected:url-listed", "spamdetected",
         regex=r"\b(?:url|uri|links?)\b(?:[^.;:]|\.(?=\w)){0,30}?\b(?:black ?listed|is listed)\b",
         source=SIS.format("SpamDetected", "rejected by spam filter running on the remote host")),
         "listed"),
    # A rate limit named in a sender refusal ("Sender address rejected: Deferring: Too many
    # messages from sender in last hour"): sending too fast, not a refused sender.
    *K(Rule("speeding:too-many-from-sender", "speeding",
         regex=r"\btoo many (?:messages|mails|e-?mails|recipients) (?:from|sent by) "
               r"(?:this |the |your )?(?:sender|address|user)\b",
         source=SIS.format("Speeding", "exceeding a rate limit or sending too fast")),
         "too many"),
    # The envelope sender address itself is listed or invalid (its IP is Blocked).
    *K(Rule("rejected:sender-address-refused", "rejected",
         regex=r"\bsender(?:'s)? (?:e[- ]?mail )?address\b(?:[^.;]|\.(?=\w)){0,20}?\b(?:is |has been )?"
               r"(?:black ?listed|banned|denied|rejected|refused|invalid|not allowed)"
               r"|\b(?:bad|invalid|illegal|forged|bogus) sender(?: address)?\b(?! ?ip)",
         source=_REJECTED), "sender"),
    # Content the recipient's policy forbids (not spam, not a virus).
    *K(Rule("policyviolation:forbidden-content", "policyviolation",
         regex=r"\b(?:forbidden|prohibited|banned|illegal|disallowed|restricted) (?:content|words?|"
               r"file ?types?|file extensions?)\b",
         source=SIS.format("PolicyViolation", "policy violation on a destination host")),
         "content", "word", "file"),
    # A quota on what the *sender* may send (per day, per organisation, per submission) is a
    # sending allowance (throttling), not the recipient's full mailbox.
    *T("exceedlimit", _EXCEED, "sending quota", "submission quota", "send quota",
       "sending rate quota", "outbound quota", category="throttling"),
    # Exchange Online "Organization queue quota exceeded": the sending organisation's queue.
    *T("speeding", SIS.format("Speeding", "exceeding a rate limit or sending too fast"),
       "queue quota"),
    # The sender's domain or address does not resolve / has no MX / is fake: the envelope
    # sender is refused (Rejected), whatever "domain does not exist" says about hosts.
    *K(Rule("rejected:sender-domain-unresolvable", "rejected",
         regex=rf"\b{_SENDER}\b(?:[^.;]|\.(?=\w)){{0,40}}?\b(?:domain|address|mx)\b(?:[^.;]|\.(?=\w)){{0,40}}?"
               r"(?:does not exist|doesn'?t exist|not found|must resolve|unresolvable|"
               r"not resolv\w*|no mx|unknown|invalid)",
         source=_REJECTED), "sender", "from", "return path"),
    *K(Rule("rejected:no-mx-for-sender", "rejected",
         regex=rf"\bno mx\b(?:[^.;]|\.(?=\w)){{0,30}}?\b(?:for )?(?:your )?{_SENDER}", source=_REJECTED), "no mx"),
    *T("rejected", _REJECTED, "fake sender", "forged sender", "sender verification failed",
       "sender address verification failed"),
    # The recipient's mailbox is out of space, whatever the words ("user has too many
    # messages", "recipient ... quota violation", "inbox is full").
    *K(Rule("mailboxfull:mailbox-state", "mailboxfull",
         regex=r"^(?!.*\b(?:sender|sending|submission|send)\b)"
               r".*\b(?:mailbox|inbox|mail ?box|user|recipient|account|mailfolder)\b(?:[^.;]|\.(?=\w)){0,30}?"
               r"\b(?:is full|full\b|over (?:its |the )?quota|too many messages|quota violation|"
               r"out of (?:storage|space)|exceed\w* (?:its |the |their )?(?:storage|quota|size))",
         source=SIS.format("MailboxFull", "a recipient's mailbox is full")),
         "full", "quota", "too many messages", "out of ", "exceed"),
    *K(Rule("mailboxfull:mailbox-limit", "mailboxfull",
         regex=r"\b(?:mailbox|inbox|mail ?box)\b(?:[^.;]|\.(?=\w)){0,20}?\b(?:limit|size|storage|capacity)\b"
               r"(?:[^.;]|\.(?=\w)){0,15}?\bexceed|\binsufficient (?:storage|space|disk space) (?:for|in) (?:the )?"
               r"(?:recipient|user|mailbox)",
         source=SIS.format("MailboxFull", "a recipient's mailbox is full")),
         "exceed", "insufficient"),
    # The recipient (not the server) refuses this sender or filters it out.
    *K(Rule("filtered:recipient-refuses", "filtered",
         regex=r"\b(?:recipient|user|addressee)\b(?:[^.;]|\.(?=\w)){0,30}?\b(?:has blocked|blocked (?:you|your|this|the)\b|"
               r"refuses?\b|has chosen not to|only accepts?\b|does not (?:wish|want) to receive|"
               r"(?:does not|doesn'?t) (?:wish|want) (?:your|this|any|to get)\b|"
               r"does not accept (?:mail|e[- ]?mails?|messages) from (?:you|your|this|unknown))"
               r"|\b(?:blocked|rejected) by (?:the )?recipients?\b(?!'s| server| mail| host| system| domain)"
               r"|\brecipient'?s? (?:filter|block ?list|blacklist|rules?)\b",
         source=SIS.format("Filtered", "rejected by the recipient's own filter")),
         "recipient", "user", "addressee"),
    # The recipient (a restricted address or group) does not take mail from this sender:
    # Exchange's "you don't have permission to send to it" (5.7.129 and friends).
    *K(Rule("filtered:no-permission-to-send-to", "filtered",
         regex=r"\b(?:don'?t|do not|does not|doesn'?t) have (?:the )?permissions? to send to\b"
               r"|\bnot (?:allowed|authori[sz]ed|permitted) to send (?:e-?mails? |messages? |mail )?"
               r"to (?:this|the) (?:recipient|group|user|address|mailbox|distribution list)\b",
         source=SIS.format("Filtered", "rejected by the recipient's own filter") +
         "; https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-"
         "reports-in-exchange-online/non-delivery-reports-in-exchange-online (5.7.129)"),
       "permission", "allowed", "authorized", "authorised", "permitted"),
    # The recipient's account exists but is switched off: closed, disabled, locked, frozen.
    *K(Rule("suspend:account-state", "suspend",
         regex=r"^(?!.*\b(?:sender|your (?:account|ip|server|domain|host))\b)"
               r".*\b(?:account|mailbox|user|recipient|address)\b(?:[^.;:]|\.(?=\w)){0,25}?"
               r"\b(?:closed|disabled|deactivated|discontinued|inactive|suspended|frozen|locked|"
               r"expired|not active|no longer active|blocked by (?:the |an? )?administrator)\b",
         source=SIS.format("Suspend", "a recipient account is being suspended")),
         "account", "mailbox", "user", "recipient", "address"),
    # The recipient's domain does not exist in the DNS (not the sender's: rows above).
    *K(Rule("hostunknown:recipient-domain-missing", "hostunknown",
         regex=r"^(?!.*\bsender\b).*\b(?:domain (?:name )?not found|nxdomain|"
               r"non[- ]?existent domain|(?:domain|host)(?: name)?(?: [\w.-]+\.[a-z]{2,})? "
               r"(?:does not|doesn'?t) exist|no (?:mx or a|a or mx|mx/a) records?)",
         source=SIS.format("HostUnknown",
                           "a domain part of a recipient's email address does not exist")),
       "domain", "host", "no mx", "no a "),
    # RFC 5321 4.2.3: a 501 to HELO/EHLO is a syntax error in its parameter, not a block.
    *K(Rule("syntaxerror:helo-501", "syntaxerror", code=(501,), regex=r"\b(?:helo|ehlo)\b",
         source="RFC 5321 section 4.2.3 (501 Syntax error in parameters or arguments)"), "helo", "ehlo"),
    # The recipient address failed verification (callout): the local part is not there.
    *T("userunknown", _USER, "recipient verification failed",
       "recipient address verification failed"),
]

# The same definitions in the languages servers answer in (Sisimai's own indexes hold a few:
# "utilisateur inconnu", "no existe dicha persona", "nessun utente simile in questo
# indirizzo", "boite du destinataire pleine"); these are the common localised wordings.
_LOCAL = SIS.format("{}", "{}") + ", localised wording"
LOCALISED_RULES: list[Rule] = [
    *T("userunknown", _LOCAL.format("UserUnknown", "the local part does not exist"),
       ("adresse", "existiert nicht"), "benutzer existiert nicht", "unbekannter empfänger",
       "unbekannter benutzer", "usuario desconocido", "usuario no existe",
       "destinatario desconocido", "dirección no existe", "utente sconosciuto",
       "utente inesistente", "destinatario sconosciuto", "usuário desconhecido",
       "usuário não existe", "utilizador desconhecido", "destinatário desconhecido",
       "gebruiker onbekend", "onbekende ontvanger", "пользователь не найден",
       "нет такого пользователя", "пользователь не существует", "адресат не найден",
       "用户不存在", "收件人不存在", "用户名不存在", "帐号不存在", "账号不存在", "账户不存在",
       "ユーザーが存在しません", "宛先不明", "존재하지 않는 사용자"),
    *T("mailboxfull", _LOCAL.format("MailboxFull", "a recipient's mailbox is full"),
       "mailbox ist voll", "postfach ist voll", "boîte pleine", "boite pleine", "buzón lleno",
       "buzon lleno", "casella piena", "caixa postal cheia", "caixa de correio cheia",
       "mailbox vol", "ящик переполнен", "邮箱已满", "邮箱空间不足", "メールボックスがいっぱい",
       "용량 초과"),
    *T("mesgtoobig", _LOCAL.format("MesgTooBig", "the email is too big"), "nachricht zu groß",
       "trop volumineux", "demasiado grande", "troppo grande", "muito grande", "te groot",
       "слишком большое", "邮件过大", "信件过大"),
    *T("spamdetected", _LOCAL.format("SpamDetected", "rejected by a spam filter"), "垃圾邮件",
       "спам", "courrier indésirable", "correo no deseado"),
    *T("suspend", _LOCAL.format("Suspend", "a recipient account is being suspended"),
       # Only wordings that name the mailbox: "account suspended" may be the sender's own.
       "casilla ha expirado", "expirado por falta de uso", "casilla deshabilitada",
       "casilla desactivada", "postfach deaktiviert", "postfach gesperrt",
       "boîte désactivée", "boite desactivee", "casella disattivata", "caixa desativada"),
]

BROAD_MEANING_RULES: list[Rule] = [
    # The sending host's reverse DNS (PTR) is missing or does not match.
    *K(Rule("requireptr:ptr-word", "requireptr", regex=r"\b(?:ptr|rdns|reverse dns|reverse lookup)\b",
         source=SIS.format("RequirePTR", "missing PTR record or having invalid PTR record")),
         "ptr", "rdns", "reverse"),
    # The HELO/EHLO name the client gave was refused: the client host (Sisimai anotherone():
    # a refusal after EHLO/HELO is Blocked); a 501 is a syntax error in the parameter.
    *K(Rule("blocked:helo-refused", "blocked",
         regex=r"\b(?:helo|ehlo)\b(?:[^.;]|\.(?=\w)){0,40}?\b(?:invalid|error|reject\w*|refus\w*|denied|"
               r"not allowed|bad|forged|unknown|mismatch|not (?:valid|permitted|accepted))"
               r"|\b(?:invalid|bad|forged|unknown|illegal)\b(?:[^.;]|\.(?=\w)){0,30}?\b(?:helo|ehlo)\b",
         skip_enhanced=r"^[45]\.5\.[24]$", source=_BLOCKED), "helo", "ehlo"),
    # RFC 5321 3.1: "554 No SMTP service here" at the greeting refuses the client itself.
    *T("blocked", _BLOCKED + "; RFC 5321 section 3.1 (554 greeting)", "no smtp service"),
    # Relaying refused in other words: "unauthorized relay traffic prohibited", "Relay
    # Prohibited", "local user only".
    *K(Rule("norelaying:relay-refused", "norelaying",
         regex=r"\brelay(?:ing)?\b(?:[^.;]|\.(?=\w)){0,30}?\b(?:denied|prohibited|not permitted|not allowed|"
               r"refused|disallowed|forbidden|rejected)"
               r"|\b(?:unauthori[sz]ed|illegal|no|open)\s+relay\b|\blocal (?:users?|delivery) only\b"
               r"|\b(?:do not|don'?t|does not|doesn'?t|will not|won'?t|cannot) relay\b",
         source=SIS.format("NoRelaying", "a connected host did not accept relaying")),
         "relay", "local"),
    # A header is missing, repeated or malformed; the message does not conform to an RFC.
    *K(Rule("notcompliantrfc:header-state", "notcompliantrfc",
         regex=r"\bheaders?\b(?:[^.;]|\.(?=\w)){0,30}?\b(?:missing|duplicate\w*|non[- ]unique|invalid|malformed|"
               r"mandatory|required|not permitted|disallowed|syntax)"
               r"|\b(?:invalid|malformed|missing|duplicate\w*|bad|non[- ]unique)\b(?:[^.;]|\.(?=\w)){0,20}?\bheaders?\b"
               r"|\b(?:does not|doesn'?t|not) (?:conform|comply)\w* (?:to|with) (?:the )?rfc",
         source=SIS.format("NotCompliantRFC", "non-compliance with RFC")),
         "header", "rfc"),
    # Too many failed logins: SMTP AUTH, not the message.
    *K(Rule("securityerror:login-attempts", "securityerror",
         regex=r"\btoo many (?:failed )?(?:login|logon|auth\w*)\b|\b(?:login|auth\w*) attempts\b",
         source=SIS.format("SecurityError", "security violation was detected on a destination host")),
         "log", "auth"),
    # The receiving system's own fault.
    *K(Rule("systemerror:server-fault", "systemerror",
         regex=r"\b(?:configuration|config) (?:error|problem)\b|\bout of memory\b|"
               r"\binternal (?:server )?error\b|\berror (?:writing|reading|storing)\b|"
               r"\bcould not be (?:stored|written|saved)\b|\bwrite error\b",
         source=SIS.format("SystemError", "system error on the remote host")),
         "config", "memory", "internal", "error", "could not be"),
    # Concurrent connections over the server's limit.
    *K(Rule("toomanyconn:concurrent", "toomanyconn",
         regex=r"\b(?:concurrent|simultaneous|parallel) (?:smtp )?(?:connections?|sessions?)\b"
               r"|\b(?:too many|max(?:imum)?(?: number of)?) (?:smtp )?(?:connections|sessions)\b"
               r"|\bconnection limit\b",
         source=SIS.format("TooManyConn", "too many concurrency connections to the remote host")),
         "connection", "session"),
    # Too much mail in too little time for one recipient or from one sender.
    *K(Rule("speeding:too-much-too-fast", "speeding",
         regex=r"\btoo (?:much|many) (?:e[- ]?mails?|mail|messages)\b(?:[^.;]|\.(?=\w)){0,40}?"
               r"\b(?:short (?:period|time)|per (?:second|minute|hour)|recently)\b"
               r"|\b(?:hourly|per[- ]hour|per[- ]minute|per[- ]second)\b(?:[^.;]|\.(?=\w)){0,20}?\b(?:limit|rate)\b"
               r"|\b(?:sending |message |mail )?frequency\b(?:[^.;]|\.(?=\w)){0,15}?\b(?:too high|limit\w*|exceeded)",
         source=SIS.format("Speeding", "exceeding a rate limit or sending too fast")),
         "too ", "hour", "minute", "second", "frequency"),
    # An attachment type the recipient's policy refuses (not a virus, not the sender's IP).
    *K(Rule("policyviolation:attachment-refused", "policyviolation",
         regex=r"^(?!.*\bvirus)(?:.*\battachments?\b(?:[^.;]|\.(?=\w)){0,40}?\b(?:blocked|not allowed|prohibited|"
               r"forbidden|rejected|banned|dangerous|not permitted)|.*\b(?:blocked|prohibited|"
               r"forbidden|banned|dangerous|illegal)\b(?:[^.;]|\.(?=\w)){0,30}?\battachments?\b)",
         source=SIS.format("PolicyViolation", "policy violation on a destination host")),
         "attachment"),
    # Archives the recipient's policy does not take: encrypted, nested, password-protected.
    *T("policyviolation", SIS.format("PolicyViolation", "policy violation on a destination host"),
       "archive"),
    # Given up after several attempts.
    *K(Rule("expired:gave-up", "expired",
            regex=r"\bgave up\b|\bgiving up\b|\bafter (?:multiple|several|many|repeated|\d+) "
                  r"(?:delivery )?(?:attempts|retries|tries)\b",
            source=SIS.format("Expired", "delivery time has expired")), "gave up", "giving up",
       "attempts", "retries", "tries"),
    # Retries used up.
    *K(Rule("expired:retries-exhausted", "expired",
            regex=r"\bretr(?:y|ies) (?:limit |count )?(?:exhausted|exceeded|used up)\b"
                  r"|\bmax(?:imum)? (?:number of )?retries\b",
            source=SIS.format("Expired", "delivery time has expired")), "retr"),
    # Given up after days of retries.
    *K(Rule("expired:days-of-retries", "expired",
         regex=r"\b(?:could not|couldn'?t|cannot|can'?t|unable to|not)\b(?:[^.;]|\.(?=\w)){0,30}?\b(?:deliver\w*|send\w*)"
               r"\b(?:[^.;]|\.(?=\w)){0,30}?\b(?:for|within|in) (?:the last )?(?:\d+|several|many|more than \d+) "
               r"(?:days?|hours?)\b",
         source=SIS.format("Expired", "delivery time has expired")),
         "day", "hour"),
    # The connecting IP itself is named as bad or refused: "black ip", "invalid IP",
    # "IP is rejected", "no access for this ip", "IP not in whitelist". The window passes an
    # address's dots, and "{.}", classify's mask of an IPv4 address (classify.VARYING).
    Rule("blocked:ip-named", "blocked",
         regex=r"\b(?:black|bad|invalid|banned|blocked|blacklisted|dynamic|rejected|"
               r"unauthori[sz]ed|denied|suspicious)\s+ip\b"
               r"|\bip\b(?: address)?(?:[^.;]|\.(?=\w)|\{\.\}){0,30}?\b(?:reject\w*|refus\w*|denied|block\w*|"
               r"banned|not allowed|not permitted|not in (?:the )?whitelist|blacklist\w*|"
               r"is listed)"
               r"|\bfor (?:this|your) ip\b",
         source=_BLOCKED),
]
