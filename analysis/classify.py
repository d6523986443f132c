"""Failure classification: reply code, enhanced code and text -> reason, category, advice.

The rules are data (analysis/rules/): this module only walks them in order. `refresh`
classifies each distinct (smtp_code, enhanced_code, text) of the workspace once into the
table `classifications`; the views `sends_classified` and `trace_classified` join it back.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import pandas as pd

from . import smtp
from .rules import (
    NEVER_SUPPRESS,
    REASONS,
    Rule,
    detect_providers,
    version,
)
from .rules.codes import (
    CODE_RULES,
    ENHANCED_CLASS_REASONS,
    ENHANCED_REASONS,
    ESP_LABEL_RULES,
    REPLY_REASONS,
    SUPPRESS_CODES,
    SUPPRESS_REPLY,
)
from .rules.generic import (
    BROAD_RULES,
    COMMAND_RULES,
    GENERIC_RULES,
    NONFAILURE_RULES,
    REGEX_RULES,
    VETO_RULES,
)
from .rules.providers import PROVIDER_RULES
from .rules.sisimai import INTERNAL_STATUS_RULES

# The rule table in evaluation order (rules/__init__.py's docstring lists it; STYLE.md: host
# rows before generic rows, substrings before regex, Sisimai's internal codes before both).
RULES: list[Rule] = [*INTERNAL_STATUS_RULES, *ESP_LABEL_RULES, *PROVIDER_RULES,
                     *GENERIC_RULES, *REGEX_RULES, *COMMAND_RULES, *CODE_RULES, *BROAD_RULES,
                     *NONFAILURE_RULES]
# What _fallback does is part of the version too (stored classifications are redone).
_FALLBACK = ("3: X.6/X.7 classes; onhold for a reply no rule or table explains; the veto of "
             "suppressions; the command read from capitals and Postfix's RCPT wording; Prefer()")
RULES_BY_ID = {r.rule_id: r for r in RULES}


@dataclass(frozen=True)
class Classification:
    """Why a message failed and what to do about it."""

    reason: str
    category: str
    permanent: bool | None
    suppress: bool
    advice: str
    rule_id: str
    smtp_code: int | None = None
    enhanced_code: str | None = None
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


# "Invalid-Recipient", "BAD_RECIPIENT", "User_unknown": a hyphen or underscore between two
# letters or digits matches a space, in the text and in the rule fragments alike.
_JOINER_RE = re.compile(r"(?<=[a-z0-9])[-_](?=[a-z0-9])")


def _unjoin(text: str) -> str:
    if "-" not in text and "_" not in text:  # (nothing to replace: skip the regex)
        return text
    return _JOINER_RE.sub(" ", text)


class _Compiled:
    """A rule with its regexes compiled once."""

    __slots__ = ("rule", "frags", "enh_re", "enh_any", "skip_re", "text_re", "codes",
                 "code_class")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.frags = tuple(_unjoin(f) for f in rule.text)
        e = rule.enhanced
        self.enh_re = re.compile(e) if e and e.startswith("^") else None
        self.enh_any = e[2:] if e and e.startswith("*.") else None
        self.skip_re = re.compile(rule.skip_enhanced) if rule.skip_enhanced else None
        self.text_re = re.compile(rule.regex) if rule.regex else None
        self.codes = rule.code if isinstance(rule.code, tuple) else None
        self.code_class = rule.code if isinstance(rule.code, str) else None

    def gate(self, providers: frozenset[str], code: int | None, enh: str | None) -> bool:
        """The checks of `matches` that do not read the text (False for whole-text rows)."""
        r = self.rule
        if r.exact is not None or r.host is not None and r.host not in providers:
            return False
        return self._codes_match(code, enh)

    def _codes_match(self, code: int | None, enh: str | None) -> bool:
        """The reply-code and enhanced-code conditions of the rule."""
        r = self.rule
        if self.codes is not None and code not in self.codes:
            return False
        if self.code_class is not None and (code is None or str(code)[0] != self.code_class):
            return False
        if r.enhanced is not None:
            if enh is None:
                return False
            if self.enh_re is not None:
                if not self.enh_re.match(enh):
                    return False
            elif self.enh_any is not None:
                if enh.split(".", 1)[1] != self.enh_any:
                    return False
            elif enh != r.enhanced:
                return False
        return not (self.skip_re is not None and enh is not None and self.skip_re.match(enh))

    def matches(self, low: str, exact: str, providers: frozenset[str], code: int | None,
                enh: str | None, command: str | None) -> bool:
        r = self.rule
        if r.exact is not None:
            return r.exact == exact
        if r.host is not None and r.host not in providers:
            return False
        if self.frags:
            pos = 0
            for frag in self.frags:
                pos = low.find(frag, pos)
                if pos < 0:
                    return False
                pos += len(frag)
        if not self._codes_match(code, enh):
            return False
        if r.command and (command or "") not in r.command:  # "": the command is unknown
            return False
        return self.text_re is None or self.text_re.search(low) is not None


_COMPILED = [_Compiled(r) for r in RULES]


def _grams(text: str) -> set[str]:
    return {text[i:i + 3] for i in range(len(text) - 2)}


def _build_index() -> tuple[dict[str, list[int]], list[int]]:
    """Trigram index: a text row is only tried when its rarest trigram occurs in the text.

    Every trigram of a fragment must occur in a text that contains it, so skipping rows
    whose key trigram is absent never changes the result; it only saves time (the Python
    stand-in for an Aho-Corasick scan: thousands of distinct texts per second).
    """
    counts: dict[str, int] = {}
    for c in _COMPILED:
        for frag in c.frags[:1]:
            for g in _grams(frag):
                counts[g] = counts.get(g, 0) + 1
    index: dict[str, list[int]] = {}
    always: list[int] = []
    for i, c in enumerate(_COMPILED):
        grams = _grams(c.frags[0]) if c.frags else set()
        if grams:
            index.setdefault(min(grams, key=lambda g: (counts[g], g)), []).append(i)
        else:
            always.append(i)
    return index, always


_INDEX, _ALWAYS = _build_index()
_INDEX_KEYS = frozenset(_INDEX)
# Every trigram of every fragment of a row: a row whose fragments all occur in a text has
# all of them among the text's trigrams, so a row missing one is skipped unmatched.
_ROW_GRAMS = [frozenset().union(*(_grams(f) for f in c.frags)) for c in _COMPILED]


# Whole-text rows by their text; rows without a trigram, by (providers, code, enhanced code):
# a row whose gate fails cannot match, so leaving it out never changes the first match.
_EXACT_ROWS: dict[str, list[int]] = {}
for _i, _c in enumerate(_COMPILED):
    if _c.rule.exact is not None:
        _EXACT_ROWS.setdefault(_c.rule.exact, []).append(_i)
_GATED: dict[tuple[frozenset[str], int | None, str | None], list[int]] = {}


def _always(providers: frozenset[str], code: int | None, enh: str | None) -> list[int]:
    key = (providers, code, enh)
    rows = _GATED.get(key)
    if rows is None:
        if len(_GATED) > 4096:
            _GATED.clear()
        rows = _GATED[key] = [i for i in _ALWAYS if _COMPILED[i].gate(providers, code, enh)]
    return rows


def _candidates(low: str, exact: str, providers: frozenset[str], code: int | None,
                enh: str | None) -> list[int]:
    """Rows that may match, in rule order (a superset of the matching rows)."""
    found = [*_always(providers, code, enh), *_EXACT_ROWS.get(exact, ())]
    grams = {low[i:i + 3] for i in range(len(low) - 2)}
    for g in _INDEX_KEYS.intersection(grams):
        found += [i for i in _INDEX[g] if _ROW_GRAMS[i] <= grams]
    found.sort()
    return found


# Rows that may veto a suppression (rules.generic.VETO_RULES), by their place in RULES.
_VETO_IDS = frozenset(r.rule_id for r in VETO_RULES)
_VETO_ROWS = frozenset(i for i, r in enumerate(RULES) if r.rule_id in _VETO_IDS)


_ADDR_RE = re.compile(r"[\w.+=-]+@[\w-]+(?:\.[\w-]+)+")
# The remote MTA's name in "host mx.example.com[192.0.2.1] said:", "while talking to
# mx.example.com.:" or "connect to mx.example.com[...]" names a machine, not a reason:
# rule fragments must not match inside it ("dns" in "mx.yahoodns.net", "rbl" in
# "harborbluff"), and its IP is not the client's. Providers are read from the unmasked text.
_HOST_RE = re.compile(r"\b(host|talking to|connect to) (?=[a-z0-9.-]*[a-z])"
                      r"[a-z0-9-]+(?:\.[a-z0-9-]+)+\.?(?: ?\[[0-9a-f.:]+\])?(?=[\s(:,]|$)")
# A spam filter's list of the tests a message hit ("SpamAssassin score 21.6 (DEAR_SOMETHING,
# DKIM_ADSP_NXDOMAIN, ...)", "tests=BAYES_99=3.5, URIBL_BLACK=1.7"): rule names, not words of
# the reply. "NXDOMAIN" inside one must not read as an unknown domain. Two or more
# upper-case names joined by underscores, with or without scores, are masked (one alone,
# such as "BAD_RECIPIENT", is a word of the reply).
_TEST = r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?:\s*[=:(]\s*-?\d+(?:\.\d+)?\)?)?"
_TESTS_RE = re.compile(rf"\b{_TEST}(?:\s*,\s*{_TEST})+")


def either_case(pattern: str) -> str:
    """`pattern`, written for lower-case text, for text of either case in RE2: a literal
    letter x becomes [xX], a class's a-z or a-f range gains A-Z or A-F (ASCII only, so it
    matches no more than the pattern does on the text's lower case)."""
    out: list[str] = []
    i, klass, negated = 0, False, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if klass and ch == "]":
            klass = False
        elif klass and pattern[i:i + 3] in ("a-z", "a-f"):
            if negated:
                raise ValueError(f"either_case: a letter range in a negated class: {pattern}")
            out.append(pattern[i:i + 3] + pattern[i:i + 3].upper())
            i += 3
            continue
        elif klass and ch.isalpha():
            raise ValueError(f"either_case: a single letter in a class: {pattern}")
        elif not klass and ch == "[":
            klass, negated = True, pattern[i + 1:i + 2] == "^"
        elif not klass and "a" <= ch <= "z":
            ch = f"[{ch}{ch.upper()}]"
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Varying:
    """A kind of token that differs from message to message and names no reason.

    `pattern` runs on the lower-cased text in `classify`; classify_bulk groups texts that
    differ only in these tokens, so its SQL must mask the same spans: `sql_pattern` is the
    pattern for either case (either_case). RE2 has no lookaround: a pattern that looks at
    the characters around a token gives its RE2 form in `sql`, which captures them and puts
    them back (`sql_mask`), and runs `sql_passes` times, so that a token right after another
    (whose boundary character the first match consumed) is masked too.
    """

    name: str
    pattern: re.Pattern[str]
    mask: str
    # Literals every match holds (lower case): unless the lower-cased text holds them all
    # there is nothing to mask, and the regexp is skipped.
    needs: tuple[str, ...] = ()
    sql: str | None = None
    sql_mask: str | None = None
    sql_passes: int = 1

    @property
    def sql_pattern(self) -> str:
        """The RE2 pattern classify_bulk masks with (original case)."""
        return self.sql or either_case(self.pattern.pattern)

    @property
    def sql_replacement(self) -> str:
        """What classify_bulk puts in a match's place."""
        return self.sql_mask or self.mask


# Masked after addresses and relay hosts, in this order, before any rule reads the text.
# The masks hold no letters, digits or "<" (rule fragments such as "sender <" expect an
# address there) and keep the token's dots and colons, where windows such as [^.;:]{0,40}
# stop; the three rules that read an IPv4 address accept its mask "{.}" (rules/generic.py,
# rules/meaning.py).
VARYING = (
    Varying("time", re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}t[0-9]{2}:[0-9]{2}:[0-9]{2}"
                               r"(?:\.[0-9]+)?z?"), "{-:}", needs=("-", ":")),
    Varying("ipv4", re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])"), "{.}",
            needs=(".",), sql=r"(^|[^0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}([^0-9.]|$)",
            sql_mask=r"\1{.}\2", sql_passes=2),
    Varying("hex", re.compile(r"[0-9a-f]{16,}"), "{#}"),
    # Google's message token: "... 266b97496a802-2d3c662si5387495f8f.90 - gsmtp".
    Varying("gsmtp-token", re.compile(r"[0-9a-z-]{6,}\.[0-9]+ - gsmtp"), "{#.#} - gsmtp",
            needs=(" - gsmtp",)),
    # Exchange Online's server names: "[AM4PEPF00027A43.eurprd02.prod.protection.outlook.com",
    # "CO1PEPF00004441.eop-nam12.prod...".
    Varying("exo-server", re.compile(r"[0-9a-z]+\.[0-9a-z-]+\.prod\.protection\.outlook\.com"),
            "{#.#}.prod.protection.outlook.com", needs=(".prod.protection.outlook.com",)),
    # Exchange's name of the recipient's mailbox: "Cannot open mailbox /o=ExchangeLabs/...
    # /cn=Recipients/cn=8c3b...-jane.doe.[EndDiagnosticData]".
    Varying("exchange-mailbox", re.compile(r"/cn=recipients/cn=[^\t\n\f\r \[\]/]+"),
            "/cn=recipients/cn={#}", needs=("/cn=recipients/cn=",)),
)


def mask_varying(low: str) -> str:
    """The lower-cased text with its VARYING tokens masked."""
    for v in VARYING:
        if all(n in low for n in v.needs):
            low = v.pattern.sub(v.mask, low)
    return low


_COMMAND_RE = re.compile(
    r"(?:in reply to|after|rejected at)\s+(rcpt to|mail from|end of data|data|helo|ehlo|"
    r"starttls|initial connection|connect|the end of data)", re.IGNORECASE)
_COMMANDS = {"rcpt to": "RCPT", "mail from": "MAIL", "end of data": "DATA", "data": "DATA",
             "the end of data": "DATA", "helo": "HELO", "ehlo": "EHLO", "starttls": "STARTTLS",
             "initial connection": "CONN", "connect": "CONN"}


# Sisimai's smtp/command Find(): an SMTP command written in capitals, a one-word command as
# a word of its own ("Invalid address format in HELO", "<DATA>: Data command rejected"),
# "MAIL F..." and "AUTH <mechanism>" anywhere; of several, the one latest in a session.
# Only when no "in reply to ..." names the command.
_BARE_COMMAND_RE = re.compile(r"(?<![0-9A-Za-z@])(?:HELO|EHLO|STARTTLS|RCPT|DATA|QUIT)"
                              r"(?![0-9A-Za-z@])|MAIL F|AUTH (?:PLAIN|LOGIN|CRAM-|DIGEST-)")
_SESSION_ORDER = ("HELO", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "QUIT")


def _command(command: str | None, text: str) -> str | None:
    """The SMTP command the reply answered: the caller's, else what the (case-kept) text says."""
    if command:
        c = command.strip().upper()
        return {"RCPT TO": "RCPT", "MAIL FROM": "MAIL", "CONNECT": "CONN"}.get(c, c.split()[0])
    m = _COMMAND_RE.search(text)
    if m:
        return _COMMANDS.get(m.group(1).lower())
    found = {m.group(0)[:4] for m in _BARE_COMMAND_RE.finditer(text)}
    if not found:
        # Postfix's "Recipient address rejected: ..." answers RCPT TO only (its
        # smtpd_recipient_restrictions), wherever the "(in reply to ...)" was cut off.
        return "RCPT" if "recipient address rejected" in text.lower() else None
    last = max(_SESSION_ORDER.index(c if c != "STAR" else "STARTTLS") for c in found)
    return _SESSION_ORDER[last]


def _fallback(code: int | None, enh: str | None, has_text: bool
              ) -> tuple[str, str, bool | None]:
    """(reason, rule_id, suppress override) from the code tables alone.

    As Sisimai's Reason.anotherone/get: an unlisted X.7.x is a security error and X.6.x a
    content error; a reply that nothing explains is `onhold` (not enough information to
    judge), and `undefined` is left for a failure without any reply text.
    """
    if enh:
        subject = enh.split(".", 1)[1]
        if enh in ENHANCED_CLASS_REASONS:
            return ENHANCED_CLASS_REASONS[enh], f"enhanced:{enh}", None
        if subject in ENHANCED_REASONS and not (code and code < 400 and enh[0] != "2"):
            return (ENHANCED_REASONS[subject], f"enhanced:X.{subject}",
                    True if subject in SUPPRESS_CODES else None)
    if enh and enh[0] in "45" and enh[2] in "67" and enh[3] == ".":
        klass = enh[2]
        return ("securityerror" if klass == "7" else "contenterror"), f"enhanced:X.{klass}", None
    if code is not None:
        if code in REPLY_REASONS:
            # A basic code alone is too coarse to drop an address (551/553 also carry
            # policy and authentication refusals): only RFC 7504's 521/556 suppress.
            return REPLY_REASONS[code], f"reply:{code}", code in SUPPRESS_REPLY
        if 200 <= code < 300:
            return "delivered", f"reply:{code}", None
    if enh and enh.startswith("2."):
        return "delivered", f"enhanced:{enh}", None
    return ("onhold" if has_text else "undefined"), "none", None


def classify(smtp_code: int | str | None, enhanced_code: str | None, text: str | None, *,
             command: str | None = None, domain: str | None = None,
             esp_label: str | None = None) -> Classification:
    """Classify one reply; codes missing from the arguments are read from the text."""
    raw = text or ""
    code = smtp.parse_reply_code(smtp_code)
    enh = smtp.parse_enhanced_code(enhanced_code)
    if code is None:
        code = smtp.extract_reply_code(raw)
    enh = smtp.prefer(enh, smtp.extract_enhanced_code(raw), code)
    norm = smtp.normalise_reply(raw)
    if "\u2019" in norm or "\u2018" in norm:  # typographic apostrophes: "doesn’t exist"
        norm = norm.replace("\u2019", "'").replace("\u2018", "'")
    low_full = norm.lower()
    providers = detect_providers(low_full, domain)
    low = low_full
    if "_" in norm and "," in norm:  # _TESTS_RE's keywords
        low = _TESTS_RE.sub("<tests>", norm).lower()
    low = _ADDR_RE.sub("<addr>", low) if "@" in low else low
    if "host " in low or "talking to " in low or "connect to " in low:  # _HOST_RE's keywords
        low = _HOST_RE.sub(r"\1 <host>", low)
    low = _unjoin(mask_varying(low))
    exact = raw.strip().lower()
    cmd = _command(command, norm)
    rule: Rule | None = None
    if low or exact or enh or code:
        candidates = _candidates(low, exact, providers, code, enh)
        n = next((k for k, i in enumerate(candidates)
                  if _COMPILED[i].matches(low, exact, providers, code, enh, cmd)), -1)
        rule = _COMPILED[candidates[n]].rule if n >= 0 else None
        if rule is not None and rule.host is None and rule.code is None \
                and rule.enhanced is None \
                and (REASONS[rule.reason][1] if rule.suppress is None else rule.suppress):
            # A phrase alone would drop the address: a later never-suppress row that matches
            # too vetoes it (a row pairing a status code with its text is precise; for those
            # codes the guard rows come first: rules.generic.ADDRESS_CODE_GUARD_RULES).
            rule = next((_COMPILED[i].rule for i in candidates[n + 1:] if i in _VETO_ROWS
                         and _COMPILED[i].matches(low, exact, providers, code, enh, cmd)), rule)
    if rule is None and esp_label and esp_label.strip():
        label = esp_label.strip().lower()
        rule = next((r for r in ESP_LABEL_RULES if r.exact == label), None)
    if rule is not None:
        reason, rule_id, sup, source = rule.reason, rule.rule_id, rule.suppress, rule.source
        category = rule.category
    else:
        reason, rule_id, sup = _fallback(code, enh, bool(raw.strip()))
        source = "RFC 5321 / RFC 3463 code tables" if rule_id != "none" else ""
        category = None
    # A 2xx reply is a delivery whatever the text says ("250 ... spam folder" is still in).
    success = code is not None and 200 <= code < 300 or code is None and bool(enh) and enh[0] == "2"
    if success and reason != "delivered":
        reason, rule_id, sup, category = "delivered", f"reply:{code or enh}", None, None
    return _result(reason, category, sup, rule_id, source, code, enh, rule)


def _result(reason: str, category: str | None, sup: bool | None, rule_id: str, source: str,
            code: int | None, enh: str | None, rule: Rule | None) -> Classification:
    default_category, default_suppress, advice = REASONS[reason]
    category = category or default_category
    if code is not None and code >= 200:
        permanent: bool | None = code >= 500
    elif enh is not None:
        permanent = enh[0] == "5"
    else:
        permanent = rule.permanent if rule is not None else None
    if code is not None and code < 400 or reason in ("delivered", "vacation", "feedback"):
        permanent = False
    # RFC 3463 X.2.2: a full mailbox is usually temporary, even when sent with 5xx; so is
    # greylisting (RFC 6647), whatever the code.
    if reason == "mailboxfull" or rule is not None and rule.temporary:
        permanent = False
    if rule is not None and rule.advice:
        advice = rule.advice
    suppress = default_suppress if sup is None else sup
    if category in NEVER_SUPPRESS or permanent is False:
        suppress = False
    return Classification(reason, category, permanent, suppress, advice, rule_id, code, enh,
                          source)


def classify_label(label: str, bounce_type: str | None = None) -> Classification:
    """Classify an ESP bounce label alone ('Soft Bounce - Mailbox Full'), no SMTP text."""
    result = classify(None, None, None, esp_label=label)
    if result.permanent is None and bounce_type:
        hard = bounce_type.strip().lower() in ("hard", "permanent", "hardbounce")
        return Classification(result.reason, result.category, hard,
                              result.suppress and hard, result.advice, result.rule_id,
                              source=result.source)
    return result


def rules_frame() -> pd.DataFrame:
    """The rule table as a DataFrame (for the app and the docs)."""
    return pd.DataFrame([{**asdict(r), "order": i} for i, r in enumerate(RULES)])



# -- the workspace ---------------------------------------------------------------------
# Which rows are classified: failures, or rows with a 4xx/5xx code. 2xx rows are
# deliveries; the views give them reason 'delivered' without storing one row per
# distinct "250 ... queued as <id>" text.
SENDS_TEXT = "coalesce(nullif(s.smtp_text, ''), nullif(s.bounce_reason, ''))"
SENDS_FAILURE = ("(coalesce(s.smtp_code, 0) >= 400 OR left(s.enhanced_code, 1) IN ('4', '5') "
                 "OR s.event IN ('bounced', 'deferred') OR s.bounce_type IS NOT NULL)")
TRACE_TEXT = "t.detail"
TRACE_FAILURE = ("(coalesce(t.smtp_code, 0) >= 400 OR left(t.enhanced_code, 1) IN ('4', '5') "
                 "OR t.event IN ('bounced', 'failed', 'rejected', 'deferred', 'dropped'))")
_KEY_JOIN = ("{a}.smtp_code IS NOT DISTINCT FROM c.smtp_code AND {a}.enhanced_code IS NOT "
             "DISTINCT FROM c.enhanced_code AND {text} IS NOT DISTINCT FROM c.text")
_OUT = ("reason", "category", "permanent", "suppress", "advice", "rule_id")
_DELIVERED = REASONS["delivered"][2].replace("'", "''")


def _view_sql(name: str, table: str, a: str, text: str, failure: str) -> str:
    ok = f"NOT {failure} AND {a}.smtp_code BETWEEN 200 AND 299"
    cols = [f"CASE WHEN c.reason IS NOT NULL THEN c.{col} "
            f"WHEN {ok} THEN {val} END AS {col}"
            for col, val in (("reason", "'delivered'"), ("category", "'none'"),
                             ("permanent", "false"), ("suppress", "false"),
                             ("advice", f"'{_DELIVERED}'"), ("rule_id", "'reply:2xx'"))]
    return (f"CREATE OR REPLACE VIEW {name} AS SELECT {a}.*, {', '.join(cols)} "  # noqa: S608
            f"FROM {table} {a} LEFT JOIN classifications c ON {failure} AND "
            + _KEY_JOIN.format(a=a, text=text))


def refresh(con: duckdb.DuckDBPyConnection,
            progress: Callable[[float, str], None] | None = None) -> None:
    """Rebuild the classification of every distinct (code, enhanced code, text)."""
    if progress:
        progress(0.0, "Classifying the failure replies")
    # One domain per key (the smallest) is enough to recognise a provider by its domain.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _dt_class_keys AS "  # noqa: S608
        "SELECT smtp_code, enhanced_code, text, min(domain) AS domain, count(*) AS n FROM ("
        f"SELECT s.smtp_code, s.enhanced_code, {SENDS_TEXT} AS text, "
        "s.recipient_domain AS domain FROM sends s WHERE " + SENDS_FAILURE +
        f" UNION ALL SELECT t.smtp_code, t.enhanced_code, {TRACE_TEXT} AS text, "
        "t.recipient_domain AS domain FROM trace_events t WHERE " + TRACE_FAILURE +
        ") GROUP BY ALL")
    sync_classes(con, "classifications", "_dt_class_keys", templates=True)
    con.execute("DROP TABLE IF EXISTS _dt_class_keys")
    con.execute(_view_sql("sends_classified", "sends", "s", SENDS_TEXT, SENDS_FAILURE))
    con.execute(_view_sql("trace_classified", "trace_events", "t", TRACE_TEXT, TRACE_FAILURE))


def sync_classes(con: duckdb.DuckDBPyConnection, table: str, keys: str, *,
                 templates: bool = False) -> None:
    """Make `table` hold the classification of exactly the keys in temp table `keys`.

    `keys` has smtp_code, enhanced_code, text, domain (NULL for none) and n (how many rows
    carry the key). Rows of other rules versions and keys no longer present are dropped,
    row counts updated, and only new keys classified: each key once per rules version.
    With `templates`, each unexplained text's masked template is stored too (column
    `template`, which unclassified_templates groups by).
    """
    from .classify_bulk import classify_keys

    con.execute(f"""CREATE TABLE IF NOT EXISTS {table} (
        smtp_code INTEGER, enhanced_code VARCHAR, text VARCHAR, reason VARCHAR NOT NULL,
        category VARCHAR NOT NULL, permanent BOOLEAN, suppress BOOLEAN NOT NULL,
        advice VARCHAR, rule_id VARCHAR NOT NULL, rules_version VARCHAR NOT NULL)""")
    # How many rows carry the key (unclassified_templates reads it for classifications).
    con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS rows BIGINT")
    if templates:
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS template VARCHAR")
    con.execute(f"DELETE FROM {table} WHERE rules_version <> ?", [RULES_VERSION])  # noqa: S608
    key = _KEY_JOIN.format(a="k", text="k.text")
    con.execute(f"DELETE FROM {table} c WHERE NOT EXISTS "  # noqa: S608
                f"(SELECT 1 FROM {keys} k WHERE {key})")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _dt_new_keys AS SELECT * FROM {keys} k "  # noqa: S608
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} c WHERE {key})")
    con.execute(f"UPDATE {table} AS c SET rows = k.n FROM {keys} k WHERE {key}")  # noqa: S608
    if con.execute("SELECT count(*) FROM _dt_new_keys").fetchall()[0][0]:
        classify_keys(con, "_dt_new_keys", "_dt_new_classes")
        con.execute(
            f"INSERT INTO {table} (smtp_code, enhanced_code, text, "  # noqa: S608
            f"{', '.join(_OUT)}, rules_version, rows) SELECT c.smtp_code, c.enhanced_code, "
            f"c.text, {', '.join('c.' + x for x in _OUT)}, ?, k.n FROM _dt_new_classes c "
            f"JOIN _dt_new_keys k ON {key}", [RULES_VERSION])
        con.execute("DROP TABLE IF EXISTS _dt_new_classes")
    if templates:
        _store_templates(con, table)
    con.execute("DROP TABLE IF EXISTS _dt_new_keys")


_MASKS = (
    (re.compile(r"<?[\w.+=-]+@[\w-]+(?:\.[\w-]+)+>?"), "<address>"),
    (re.compile(r"https?://\S+"), "<url>"),
    (re.compile(r"\b\d{4}-\d\d-\d\dt?[\d:.]*z?\b", re.I), "<time>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b", re.I),
     "<ip>"),
    (re.compile(r"\b(?=[a-z0-9._-]*\d)(?=[a-z0-9._-]*[a-z])[a-z0-9._-]{8,}\b", re.I), "<id>"),
    (re.compile(r"\b[0-9a-f]{6,}\b", re.I), "<id>"),
    (re.compile(r"\b\d+(?:\.\d+)*\b"), "<n>"),
)


# Everything a stored classification depends on: the rules, the code tables, the masks
# classify applies, and the template stored for an unexplained text (_MASKS).
RULES_VERSION = version(RULES, sorted(_VETO_ROWS), ENHANCED_REASONS, ENHANCED_CLASS_REASONS, REPLY_REASONS,
                        sorted(SUPPRESS_CODES), sorted(SUPPRESS_REPLY), REASONS, _FALLBACK,
                        [(v.pattern.pattern, v.mask) for v in VARYING],
                        [(p.pattern, m) for p, m in _MASKS])


def template(text: str) -> str:
    """A reply text with addresses, URLs, times, IPs, IDs and numbers masked."""
    out = smtp.normalise_reply(text)
    m = re.match(r"^([245]\d\d)(?: ([245]\.\d{1,3}\.\d{1,3}))?\s*", out)
    head = out[: m.end()] if m else ""
    tail = out[m.end():] if m else out
    for pattern, mask in _MASKS:
        tail = pattern.sub(mask, tail)
    return (head + tail).strip()


def _rows_counted(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether every unexplained key (rule_id 'none') has its row count (see refresh)."""
    if not con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = "
                       "'classifications' AND column_name = 'rows'").fetchall()[0][0]:
        return False
    return not con.execute("SELECT count(*) FROM classifications WHERE rule_id = 'none' "
                           "AND rows IS NULL").fetchall()[0][0]


def _store_templates(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Fill `template` for the unexplained texts (rule_id 'none') that have none yet: a few
    thousand at 1M sends, each masked once here instead of at every read."""
    texts = [t for (t,) in con.execute(
        f"SELECT DISTINCT text FROM {table} WHERE rule_id = 'none' "  # noqa: S608
        "AND template IS NULL").fetchall()]
    if not texts:
        return
    con.register("_dt_templates", pd.DataFrame({
        "text": pd.Series(texts, dtype="object"),
        "template": pd.Series([template(t or "") for t in texts], dtype="object")}))
    try:
        con.execute(f"UPDATE {table} c SET template = t.template FROM _dt_templates t "  # noqa: S608
                    "WHERE c.rule_id = 'none' AND c.text IS NOT DISTINCT FROM t.text")
    finally:
        con.unregister("_dt_templates")


def _templates_stored(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether every unexplained key has its row count and template (see sync_classes)."""
    if not con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = "
                       "'classifications' AND column_name = 'template'").fetchall()[0][0]:
        return False
    return _rows_counted(con) and not con.execute(
        "SELECT count(*) FROM classifications WHERE rule_id = 'none' AND template IS NULL"
    ).fetchall()[0][0]


def unclassified_templates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Texts that no rule or code table explained (rule_id 'none': reason onhold or
    undefined), grouped into masked templates, most rows first."""
    if _templates_stored(con):  # grouped in SQL (the Python below: 0.07 s at 1M sends)
        out = con.execute(
            "SELECT template, sum(rows)::BIGINT AS rows, (count(DISTINCT text) + "
            "(count(*) FILTER (WHERE text IS NULL) > 0)::INT)::BIGINT AS texts, "
            "coalesce(min(text), '') AS example FROM classifications WHERE rule_id = 'none' "
            "GROUP BY template ORDER BY rows DESC, min(text) NULLS LAST").df()
        return out.astype({"rows": "int64", "texts": "int64"})
    # refresh() counts each key's rows; a workspace refreshed before that counts them here
    # (0.4 s at 1M sends instead of reading ~1,300 rows).
    counted = _rows_counted(con)
    if counted:
        rows = con.execute("SELECT text, sum(rows)::BIGINT FROM classifications "
                           "WHERE rule_id = 'none' GROUP BY text ORDER BY text").fetchall()
    else:
        rows = con.execute(
            "SELECT text, sum(n)::BIGINT FROM ("
            f"SELECT {SENDS_TEXT} AS text, count(*) AS n FROM sends_classified s "
            "WHERE s.rule_id = 'none' GROUP BY 1 UNION ALL "
            f"SELECT {TRACE_TEXT} AS text, count(*) AS n FROM trace_classified t "
            "WHERE t.rule_id = 'none' GROUP BY 1) GROUP BY text ORDER BY text").fetchall()
    counts: Counter[str] = Counter()
    texts: Counter[str] = Counter()
    example: dict[str, str] = {}
    for text, n in rows:
        key = template(text or "")
        counts[key] += n
        texts[key] += 1
        example.setdefault(key, text or "")
    out = pd.DataFrame([{"template": k, "rows": n, "texts": texts[k], "example": example[k]}
                        for k, n in counts.most_common()],
                       columns=["template", "rows", "texts", "example"])
    return out.astype({"rows": "int64", "texts": "int64"})
