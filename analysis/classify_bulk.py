"""Classify many distinct replies at once: texts that differ only in what `classify` masks
share one call.

A real export's failure texts differ by the recipient address, server names, IPs, time
stamps and message IDs more than by anything else (97,493 distinct texts at 1M sends;
docs/benchmarks.md), and `classify` costs ~150-200 us per call. `classify` itself
replaces addresses, relay host names ("host mx.example.com[192.0.2.1] said:") and the
tokens of `classify.VARYING` (time stamps, IPv4 addresses, long hex IDs, Google's message
token, Exchange Online server and mailbox names) before any rule sees the text, so texts
equal up to those are classified alike, as long as everything else `classify` reads is
equal too. The group key therefore holds, besides the masked text: the code columns, the
codes read from the text when a column is empty, the providers named by the recipient
domain and by markers anywhere in the text (an address's domain can name one), and the
SMTP command the text names. Texts where a masked token could be read as part of a line's
leading reply code ("550-jo@x.example" at a line start) are classified one by one.

The SQL masks are RE2 mirrors of classify's: the same patterns in ASCII classes for both
cases (classify runs on the lower-cased text), applied in the same order, so they mask the
same spans (tests/test_classify.py compares them mask for mask). The relay host mask is
mirrored only while classify's pattern is the one copied here (_HOST_RE_MIRRORED).
docs/benchmarks.md records the row-for-row comparison with one call per text.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from . import smtp
from .rules import PROVIDERS, domain_providers

OUT_COLUMNS = ("reason", "category", "permanent", "suppress", "advice", "rule_id")

# classify._ADDR_RE in RE2 syntax, ASCII only: a text with other letters next to an
# address keeps them in its key and so only groups more finely, which is always safe.
_ADDRESS = r"[A-Za-z0-9_.+=-]+@[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+"
_MASK = "<addr>"  # classify's own mask: a literal "<addr>" in a text groups as it reads
# A masked token at a line start may swallow the line's reply code ("550-jo@x.example").
_LINE_START_ADDRESS = r"(?:^|\n)\s*(?:<addr>|\{)"

# classify._HOST_RE ("host mx.example.com[192.0.2.1]" -> "host <host>") for RE2, which has
# no lookaround: the character before the keyword must be ASCII and not a word character
# (Python's \b also accepts other letters' edges: that case is simply not masked here),
# the name must hold a letter (spelled out as "digit-only labels, then a label with a
# letter"), and the delimiter after it is captured and put back. Keywords and names are
# spelled in ASCII classes, never (?i), so nothing is masked that Python's lower() would
# not turn into the same text. Where this masks, classify masks the same span.
_NAME = (r"(?:(?:[0-9-]+\.)+[0-9-]*[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*"
         r"|[0-9-]*[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+)\.?")
_HOST = (r"(^|[\x00-\x2F\x3A-\x40\x5B-\x5E\x60\x7B-\x7F])"
         r"([Hh][Oo][Ss][Tt]|[Tt][Aa][Ll][Kk][Ii][Nn][Gg] [Tt][Oo]|[Cc][Oo][Nn][Nn][Ee][Cc][Tt] [Tt][Oo]) "
         + _NAME + r"(?: ?\[[0-9A-Fa-f.:]+\])?([\t\n\f\r (:,]|$)")

# classify._COMMAND_RE in RE2 syntax: the command is part of the group key.
_COMMAND_SQL = (r"(?i)(?:in reply to|after|rejected at)\s+(rcpt to|mail from|end of data|data|"
                r"helo|ehlo|starttls|initial connection|connect|the end of data)")


def _bare_commands_sql(col: str) -> str:
    """SQL: which SMTP commands `col` writes in capitals as words of their own (the set that
    classify._command reads when no "in reply to ..." names the command); NULL for none."""
    from .classify import _SESSION_ORDER

    spaced = {"AUTH": "AUTH (?:PLAIN|LOGIN|CRAM-|DIGEST-)", "MAIL": "MAIL F"}  # anywhere
    flags = ", ".join(
        f"CASE WHEN regexp_matches({col}, "
        f"{_lit(spaced.get(c) or '(?:^|[^0-9A-Za-z@])' + c + '(?:[^0-9A-Za-z@]|$)')}) "
        f"THEN {_lit(c)} END" for c in _SESSION_ORDER)
    return (f"CASE WHEN regexp_matches({col}, {_lit('HELO|EHLO|STARTTLS|AUTH |MAIL F|RCPT|DATA|QUIT')}) "
            f"THEN concat_ws(',', {flags}) END")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mask_steps(col: str, lower: str) -> list[str]:
    """SQL steps masking what classify masks in `col` (a grouping key, never shown).

    Each step is an expression of `col` (the result of the step before) and `lower`,
    lower(col) of the original text; the caller applies them in order (mask_sql).
    """
    from .classify import RULES

    if any(r.exact and "@" in r.exact for r in RULES):  # a whole-text rule names an address
        return []
    steps = [f"regexp_replace({col}, {_lit(_ADDRESS)}, {_lit(_MASK)}, 'g')"]
    if _masks_hosts():
        steps.append(f"regexp_replace({col}, {_lit(_HOST)}, '\\1\\2 <host>\\3', 'g')")
    for v in _varying():
        step = col
        for _ in range(v.sql_passes):
            step = f"regexp_replace({step}, {_lit(v.sql_pattern)}, {_lit(v.sql_replacement)}, 'g')"
        if v.needs:  # a text without the mask's literals keeps its value
            gate = " AND ".join(f"contains({lower}, {_lit(n)})" for n in v.needs)
            step = f"CASE WHEN {gate} THEN {step} ELSE {col} END"
        steps.append(step)
    return steps


def mask_sql(table: str, col: str) -> str:
    """SQL subquery: `table` with `masked` (col as classify masks it) and `lt` (lower(col))."""
    sub = f"(SELECT *, {col} AS masked FROM (SELECT *, lower({col}) AS lt FROM {table}))"
    for step in mask_steps("masked", "lt"):
        sub = f"(SELECT * REPLACE ({step} AS masked) FROM {sub})"
    return sub


def _varying() -> tuple:
    """classify.VARYING, without the kinds a whole-text (exact) rule could contain."""
    from .classify import RULES, VARYING

    exact = [r.exact for r in RULES if r.exact]
    return tuple(v for v in VARYING if not any(v.pattern.search(e) for e in exact))


# The pattern of classify._HOST_RE that _HOST mirrors: a changed pattern switches host masking
# off here until _HOST is updated to match it.
_HOST_RE_MIRRORED = (r"\b(host|talking to|connect to) (?=[a-z0-9.-]*[a-z])"
                     r"[a-z0-9-]+(?:\.[a-z0-9-]+)+\.?(?: ?\[[0-9a-f.:]+\])?(?=[\s(:,]|$)")


def _masks_hosts() -> bool:
    """Whether classify masks relay host names the way _HOST mirrors (classify._HOST_RE)."""
    from . import classify

    return getattr(getattr(classify, "_HOST_RE", None), "pattern", None) == _HOST_RE_MIRRORED


def providers_sql(col: str) -> str:
    """SQL: the providers whose text markers occur in the lower-cased text (rules.PROVIDERS)."""
    parts = []
    for key, (_domains, markers) in PROVIDERS.items():
        if markers:
            cond = " OR ".join(f"contains({col}, {_lit(m)})" for m in markers)
            parts.append(f"CASE WHEN {cond} THEN {_lit(key)} END")
    return f"concat_ws(',', {', '.join(parts)})" if parts else "''"


def _classify_rows(rows: list[tuple]) -> list[tuple]:
    """classify() of (code, enhanced, text, domain) rows: the OUT_COLUMNS of each."""
    from .classify import classify

    out = []
    for code, enh, text, domain in rows:
        c = classify(code, enh, text, domain=domain)
        out.append((c.reason, c.category, c.permanent, c.suppress, c.advice, c.rule_id))
    return out


# DuckDB scans a table in row groups of 122,880 rows, each on one thread: the key table of a
# 1M-send workspace (97k distinct failure texts) is a single row group, so its masks ran on
# one core. A table of 8,192 rows up to that size is handed to DuckDB as Arrow record
# batches, which it scans on every thread (same rows; docs/benchmarks.md); smaller ones are
# not worth it, larger ones get a thread per row group. The Arrow copy (at most one row
# group of keys and texts) lives outside DuckDB's memory_limit.
_ROW_GROUP = 122_880
_BATCH = 4_096


def _parallel_source(con: duckdb.DuckDBPyConnection, keys: str, name: str) -> str:
    """The name to read `keys` from: `keys` itself, or its rows registered as `name`."""
    n = con.execute(f"SELECT count(*) FROM {keys}").fetchall()[0][0]  # noqa: S608
    if n < 2 * _BATCH or n >= _ROW_GROUP:
        return keys
    import pyarrow as pa

    table = con.sql(f"SELECT * FROM {keys}").to_arrow_table()  # noqa: S608
    con.register(name, pa.Table.from_batches(table.to_batches(max_chunksize=_BATCH)))
    return name


def classify_keys(con: duckdb.DuckDBPyConnection, keys: str, out: str) -> int:
    """Create temp table `out` (smtp_code, enhanced_code, text, *OUT_COLUMNS) for table `keys`.

    `keys` holds distinct (smtp_code, enhanced_code, text) with a `domain` column (NULL for
    none); each row gets `classify(smtp_code, enhanced_code, text, domain=domain)`.
    Returns the number of `classify` calls made.
    """
    domains = [r[0] for r in con.execute(
        f"SELECT DISTINCT domain FROM {keys} WHERE domain IS NOT NULL").fetchall()]  # noqa: S608
    con.register("_cb_dp", pd.DataFrame({
        "domain": pd.Series(domains, dtype="object"),
        # The providers the recipient domain names; `tp` below adds the text's markers, as
        # classify's detect_providers does.
        "dp": pd.Series([",".join(sorted(domain_providers(d))) for d in domains],
                        dtype="object")}))
    key = ", ".join((
        "code := k.smtp_code", "enh := k.enhanced_code", "dp := coalesce(d.dp, '')",
        f"tp := {providers_sql('k.lt')}",
        f"cmd := lower(regexp_extract(k.text, {_lit(_COMMAND_SQL)}, 1))",
        f"caps := {_bare_commands_sql('k.text')}",
        "xcode := CASE WHEN k.smtp_code IS NULL OR k.smtp_code NOT BETWEEN 200 AND 599 "
        f"THEN {smtp.reply_code_sql('k.text')} END",
        f"xenh := {smtp.enhanced_code_sql('k.text')}",
        f"one := CASE WHEN k.text IS NULL OR regexp_matches(k.masked, {_lit(_LINE_START_ADDRESS)}) "
        "THEN k.text END",
        "masked := k.masked"))
    source = keys
    try:
        source = _parallel_source(con, keys, "_cb_src")
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _cb_k AS
            SELECT k.smtp_code, k.enhanced_code, k.text, k.domain, struct_pack({key}) AS gkey
            FROM {mask_sql(source, "text")} k
            LEFT JOIN _cb_dp d ON d.domain = k.domain""")  # noqa: S608
    finally:
        con.unregister("_cb_dp")
        if source != keys:
            con.unregister(source)
    # One member per group (the smallest text) is classified for all of them.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _cb_g AS SELECT row_number() OVER () AS gid, gkey, "
        "arg_min(struct_pack(smtp_code, enhanced_code, text, domain), coalesce(text, '')) "
        "AS rep FROM _cb_k GROUP BY gkey")
    reps = con.execute("SELECT gid, rep FROM _cb_g").fetchall()
    gids = [g for g, _ in reps]
    results = _classify_rows([tuple(r.values()) for _, r in reps])
    cols = list(OUT_COLUMNS)
    groups = pd.DataFrame([(g, *r) for g, r in zip(gids, results, strict=True)],
                          columns=["gid", *cols])
    groups["gid"] = groups["gid"].astype("int64")
    for col in ("permanent", "suppress"):
        groups[col] = groups[col].astype("boolean")
    typed = ", ".join(f"g.{c}::{t} AS {c}" for c, t in zip(cols, (
        "VARCHAR", "VARCHAR", "BOOLEAN", "BOOLEAN", "VARCHAR", "VARCHAR"), strict=True))
    con.register("_cb_groups", groups)
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {out} AS
            SELECT k.smtp_code, k.enhanced_code, k.text, {typed}
            FROM _cb_k k JOIN _cb_g USING (gkey) JOIN _cb_groups g USING (gid)""")  # noqa: S608
    finally:
        con.unregister("_cb_groups")
        con.execute("DROP TABLE IF EXISTS _cb_k")
        con.execute("DROP TABLE IF EXISTS _cb_g")
    return len(reps)
