"""Join ESP sends to recipient-server traces on message ID and give each journey a verdict.

A journey is one (message, recipient) seen by the ESP: its sends rows grouped by
campaign, recipient and the ESP's message identity. Everything runs as SQL over whole
tables (DESIGN.md "Joining on message ID"):

1. keys   - every candidate ID in the ESP's remote_id / reply text / Message-ID
            (formats/smtp_responses.md section 3), normalised (formats/README.md 2);
2. exact  - trace rows whose Message-ID, queue ID or Exchange internal ID equals a key,
            narrowed by recipient, then every row of the same trace message (same
            Message-ID, network ID, queue ID on that server, or the queue it hands to);
3. approx - for what has no shared ID (Gmail tokens, the EAC export, SMTP-time
            rejections): same recipient within a time window, sender domain consistent
            with what exact matches taught us; recipient-less rejections (Exim "rejected
            after DATA") by time, served domain and reply text;
4. verdict from the ESP facts and the matched trace events.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from .journeys_report import MatchReport, match_report  # noqa: F401  (public API)
from .sources._tabular import sql_str as _sql_str

APPROX_WINDOW_MIN = 15  # minutes either side of the ESP's attempts
QUEUE_ID_WINDOW_H = 48  # queue IDs are reused: only trust them near the send time

DELIVERY_EVENTS = ("sent", "delivered", "bounced", "deferred")

VERDICTS = (
    "rejected", "accepted_no_trace", "delivered", "junk", "quarantined", "dropped",
    "bounced_after_accept", "deferred", "expired", "forwarded", "unknown",
)

JOURNEY_COLUMNS = [
    "campaign", "recipient", "recipient_domain", "sent_at", "remote_id", "esp_event",
    "smtp_code", "enhanced_code", "smtp_text", "trace_format", "trace_server",
    "trace_events", "trace_final_event", "match", "verdict", "latency_s",
]

# Candidate keys in an ESP reply (formats/smtp_responses.md section 3). RE2 syntax.
_KEY_PATTERNS: list[tuple[str, str, bool, tuple[str, ...]]] = [
    # (kind, pattern, all occurrences?, literals of which a match contains at least one)
    ("msgid", r"(?i)^\s*(?:smtp;\s*)?250[ -]2\.6\.0\s+<([^<>\s]+@[^<>\s]+)>", False,
     ("2.6.0",)),
    ("msgid", r"<([^<>\s]+@[^<>\s]+)>\s*\[InternalId=", False, ("[InternalId=",)),
    ("internal", r"InternalId=([0-9]+)", False, ("InternalId=",)),
    ("queue", r"queued as ([0-9A-Za-z]+)", True, ("queued as ",)),
    ("queue", r"\b([0-9A-Za-z]{8}[0-9]{6,7})\s+Message accepted for delivery", False,
     ("Message accepted for delivery",)),
    ("queue", r"(?i)\bid=([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4})\b", False,
     ("id=", "ID=", "Id=", "iD=")),
    ("gmail", r"OK\s+[0-9]{9,11}\s+(\S+)\s+-\s+(?:gsmtp|gcdp)", False, ("gsmtp", "gcdp")),
]


def _key_sql() -> str:
    """SELECT journey_id, kind, key over the ESP rows (_j_rows)."""
    parts = []
    for kind, pattern, every, literals in _KEY_PATTERNS:
        p = _sql_str(pattern)
        if every:
            expr = f"unnest(regexp_extract_all(smtp_text, {p}, 1))"
        else:
            expr = f"regexp_extract(smtp_text, {p}, 1)"
        # A cheap literal test first: the regexp runs only on the few texts that can match
        # (issue 7: 4.5 s -> 3.5 s for the keys of 1M sends, same keys).
        has = " OR ".join(f"contains(smtp_text, {_sql_str(x)})" for x in literals)
        parts.append(f"SELECT journey_id, '{kind}' AS kind, {expr} AS key FROM _j_rows "
                     f"WHERE smtp_text IS NOT NULL AND ({has})")
    # The remote_id column itself: a Message-ID, a Gmail token, or a queue/internal ID.
    parts.append(
        "SELECT journey_id, CASE WHEN remote_id LIKE '%@%' THEN 'msgid' "
        "WHEN regexp_matches(remote_id, '^[0-9]+$') THEN 'internal' "
        "WHEN regexp_matches(smtp_text, '(?:gsmtp|gcdp)\\s*$') THEN 'gmail' "
        "ELSE 'queue' END, remote_id FROM _j_rows WHERE remote_id IS NOT NULL")
    parts.append("SELECT journey_id, 'msgid', message_id FROM _j_rows WHERE message_id IS NOT NULL")
    union = " UNION ALL ".join(parts)
    # MATERIALIZED: otherwise the outer filter is pushed into each scan, ahead of the
    # literal test, and every regexp runs twice on every row.
    return (
        f"WITH raw_keys AS MATERIALIZED ({union}) "
        "SELECT DISTINCT journey_id, kind, "
        "CASE WHEN kind = 'msgid' THEN lower(trim(key, '<> ')) ELSE trim(key) END AS key "
        "FROM raw_keys WHERE key IS NOT NULL AND trim(key) <> ''"
    )


_ESP_SQL = f"""
CREATE OR REPLACE TEMP TABLE _j_rows AS
SELECT s.import_id, s.campaign, s.recipient, s.recipient_domain, s.event, s.event_time,
  s.remote_id, s.smtp_code, s.enhanced_code, s.smtp_text, s.bounce_type, s.bounce_reason,
  s.subject, s.message_id,
  dense_rank() OVER (ORDER BY coalesce(campaign, ''), recipient,
        coalesce(message_id_key, '')) AS journey_id
FROM (SELECT *, coalesce(lower(trim(message_id, '<> ')), esp_message_id) AS message_id_key
      FROM sends WHERE event IN {DELIVERY_EVENTS} AND recipient IS NOT NULL) s
"""

# The reply shown for a journey (event, code, enhanced code, text) is that of its one top
# event: the latest bounce, else delivery, else deferral. One arg_max per column would not
# do: arg_max skips rows whose column is NULL, so a deferred-then-delivered message showed
# "250 ok" with the deferral's "4.7.0" (991 of 769k journeys at 1M sends).
_JOURNEY_ESP_SQL = """
CREATE OR REPLACE TEMP TABLE _j AS
WITH r AS (SELECT rowid AS rid, * FROM _j_rows),
g AS (
SELECT journey_id,
  any_value(campaign) AS campaign, any_value(recipient) AS recipient,
  any_value(recipient_domain) AS recipient_domain,
  min(event_time) AS sent_at, max(event_time) AS esp_last_at,
  min(event_time) FILTER (WHERE event = 'delivered') AS accepted_at,
  arg_max(rid, (CASE event WHEN 'bounced' THEN 4 WHEN 'delivered' THEN 3
                   WHEN 'deferred' THEN 2 ELSE 1 END, event_time)) AS top_rid,
  arg_max(remote_id, (event = 'delivered', event_time)) FILTER (WHERE remote_id IS NOT NULL)
    AS remote_id,
  arg_max(bounce_type, event_time) FILTER (WHERE event = 'bounced') AS bounce_type,
  arg_max(bounce_reason, event_time) FILTER (WHERE event = 'bounced') AS bounce_reason,
  bool_or(event = 'delivered' AND coalesce(smtp_code, 250) BETWEEN 200 AND 299) AS accepted,
  bool_or(event IN ('bounced', 'deferred') AND smtp_code BETWEEN 500 AND 599) AS esp_perm_fail,
  bool_or(event IN ('bounced', 'deferred') AND smtp_code BETWEEN 400 AND 499) AS esp_temp_fail,
  bool_and(smtp_code IS NULL OR smtp_code < 500) FILTER (WHERE event IN ('bounced', 'deferred'))
    AS esp_all_temp,
  bool_or(event = 'deferred') AS esp_deferred,
  min(import_id) AS esp_import_id,
  any_value(subject) AS subject
FROM r GROUP BY journey_id)
SELECT g.journey_id, g.campaign, g.recipient, g.recipient_domain, g.sent_at, g.esp_last_at,
  g.accepted_at, t.event AS esp_event, g.remote_id, t.smtp_code, t.enhanced_code, t.smtp_text,
  g.bounce_type, g.bounce_reason, g.accepted, g.esp_perm_fail, g.esp_temp_fail, g.esp_all_temp,
  g.esp_deferred, g.esp_import_id, g.subject
FROM g JOIN r t ON t.rid = g.top_rid
"""

_TRACE_SQL = """
CREATE OR REPLACE TEMP TABLE _t AS
SELECT rowid AS tid, import_id, row_no, format, server, event_time, event, recipient,
  recipient_domain, sender, smtp_code, enhanced_code, subject,
  -- detail only where a failure is explained or an expiry read from it; `raw` and the rest
  -- are joined back by rowid for matched rows only (issue 7: the wide copy of 3M trace
  -- rows cost 3.9 s and 3.65 GB at 1M sends).
  CASE WHEN event IN ('bounced', 'failed', 'rejected', 'deferred') THEN detail END
    AS fail_detail,
  event = 'bounced' AND lower(coalesce(detail, '')) LIKE '%expired%' AS expired,
  nullif(lower(trim(message_id, '<> ')), '') AS k_msgid,
  nullif(trim(queue_id), '') AS k_queue,
  nullif(trim(internal_id), '') AS k_internal,
  nullif(replace(lower(trim(network_id, '{} ')), '-', ''), '') AS k_network,
  nullif(trim(related_id), '') AS k_related,
  nullif(split_part(lower(sender), '@', 2), '') AS sender_domain
FROM trace_events
"""

# Each OR-branch of the match is its own equi-join (UNION ALL, then DISTINCT): DuckDB runs
# a join on an OR of conditions as a nested loop, which took 170 s at 100k sends (issue 7,
# docs/benchmarks.md); the hash joins give the same rows in well under a second.
_EXACT_SQL = f"""
CREATE OR REPLACE TEMP TABLE _seed AS
WITH hits AS (
  SELECT k.journey_id, t.tid, k.kind, t.recipient, j.recipient AS j_recipient
  FROM _jk k JOIN _j j USING (journey_id) JOIN _t t ON t.k_msgid = k.key
  WHERE k.kind = 'msgid'
  UNION ALL
  SELECT k.journey_id, t.tid, k.kind, t.recipient, j.recipient
  FROM _jk k JOIN _j j USING (journey_id) JOIN _t t ON t.k_internal = k.key
  WHERE k.kind = 'internal'
  UNION ALL
  SELECT k.journey_id, t.tid, k.kind, t.recipient, j.recipient
  FROM _jk k JOIN _j j USING (journey_id) JOIN _t t ON t.k_queue = k.key
  WHERE k.kind = 'queue'
    AND abs(epoch(t.event_time) - epoch(j.sent_at)) < {QUEUE_ID_WINDOW_H} * 3600)
SELECT DISTINCT journey_id, tid, kind FROM hits
WHERE recipient IS NULL OR recipient = j_recipient
"""

# Every row of the same trace message as a seed: same Message-ID or network ID, the same
# queue ID on the same server, or the queue the seed hands over to (amavis, NDR).
_EXPAND_SQL = f"""
CREATE OR REPLACE TEMP TABLE {{out}} AS
WITH ids AS (
  SELECT DISTINCT s.journey_id, t.k_msgid, t.k_network, t.server, t.k_queue, t.k_related,
         t.event_time
  FROM {{seed}} s JOIN _t t USING (tid)),
hits AS (
  SELECT i.journey_id, t.tid, t.recipient FROM ids i JOIN _t t ON t.k_msgid = i.k_msgid
  UNION ALL
  SELECT i.journey_id, t.tid, t.recipient FROM ids i JOIN _t t ON t.k_network = i.k_network
  UNION ALL
  SELECT i.journey_id, t.tid, t.recipient FROM ids i JOIN _t t
    ON t.k_queue = i.k_queue AND t.server IS NOT DISTINCT FROM i.server
  WHERE abs(epoch(t.event_time) - epoch(i.event_time)) < {QUEUE_ID_WINDOW_H} * 3600
  UNION ALL
  SELECT i.journey_id, t.tid, t.recipient FROM ids i JOIN _t t
    ON t.k_queue = i.k_related AND t.server IS NOT DISTINCT FROM i.server
  WHERE abs(epoch(t.event_time) - epoch(i.event_time)) < {QUEUE_ID_WINDOW_H} * 3600)
SELECT DISTINCT h.journey_id, h.tid
FROM hits h JOIN _j j USING (journey_id)
WHERE h.recipient IS NULL OR h.recipient = j.recipient
UNION SELECT journey_id, tid FROM {{seed}}
"""

_APPROX_SQL = f"""
CREATE OR REPLACE TEMP TABLE _approx_seed AS
WITH claimed AS (SELECT DISTINCT tid FROM _exact),
esp_senders AS (  -- sender domains the exact matches show the ESP uses
  SELECT DISTINCT t.sender_domain FROM _exact e JOIN _t t USING (tid)
  WHERE t.sender_domain IS NOT NULL),
has_exact AS (SELECT DISTINCT journey_id FROM _exact),
cand AS (
  SELECT j.journey_id, t.tid,
    abs(epoch(t.event_time) - epoch(j.sent_at)) AS dist
  FROM _j j JOIN _t t ON t.recipient = j.recipient
  WHERE t.event_time BETWEEN j.sent_at - INTERVAL {APPROX_WINDOW_MIN} MINUTE
                         AND j.esp_last_at + INTERVAL {APPROX_WINDOW_MIN} MINUTE
    AND t.tid NOT IN (SELECT tid FROM claimed)
    AND (t.sender_domain IS NULL OR NOT EXISTS (SELECT 1 FROM esp_senders)
         OR t.sender_domain IN (SELECT sender_domain FROM esp_senders))
    AND (j.journey_id NOT IN (SELECT journey_id FROM has_exact)
         OR t.event IN ('rejected', 'deferred'))
  UNION ALL
  -- A rejection that names no recipient (Exim "rejected after DATA"): same reply text,
  -- near in time, on a server that handles the recipient's domain.
  SELECT j.journey_id, t.tid, abs(epoch(t.event_time) - epoch(j.esp_last_at)) AS dist
  FROM _j j JOIN _t t
    ON t.recipient IS NULL AND t.event = 'rejected'
   AND t.event_time BETWEEN j.sent_at - INTERVAL {APPROX_WINDOW_MIN} MINUTE
                        AND j.esp_last_at + INTERVAL {APPROX_WINDOW_MIN} MINUTE
  WHERE j.smtp_text IS NOT NULL AND t.fail_detail IS NOT NULL
    AND length(regexp_replace(j.smtp_text, '^\\s*[0-9]{{3}}[ -]+([0-9]\\.[0-9]+\\.[0-9]+\\s+)?', '')) > 15
    AND contains(lower(t.fail_detail),
        lower(regexp_replace(j.smtp_text, '^\\s*[0-9]{{3}}[ -]+([0-9]\\.[0-9]+\\.[0-9]+\\s+)?', '')))
    AND j.recipient_domain IN (SELECT DISTINCT recipient_domain FROM _t x
                               WHERE x.import_id = t.import_id)
    AND t.tid NOT IN (SELECT tid FROM claimed))
SELECT journey_id, tid FROM cand
QUALIFY row_number() OVER (PARTITION BY tid ORDER BY dist, journey_id) = 1
"""

# A group whose values are all equal is that value: the list functions only run for the
# few mixed groups (they took 0.65 s of 0.72 s for 144k groups at 100k sends).
_DISTINCT_LIST = ("CASE WHEN min(t.{c}) IS NOT DISTINCT FROM max(t.{c}) THEN min(t.{c}) ELSE "
                  "nullif(array_to_string(list_sort(list_distinct(list(t.{c}))), ', '), '') END")
_VERDICT_SQL = f"""
CREATE OR REPLACE TEMP TABLE _jv AS
WITH m AS (
  SELECT journey_id, tid, min(match) AS match FROM (
    SELECT journey_id, tid, 'exact' AS match FROM _exact
    UNION ALL SELECT journey_id, tid, 'approximate' FROM _approx)
  GROUP BY ALL),
agg AS (
  SELECT m.journey_id,
    min(m.match) AS match,  -- 'approximate' < 'exact': exact only when every row is
    bool_or(m.match = 'exact') AS any_exact,
    -- Distinct lists instead of DISTINCT aggregates (each its own hash aggregate and join,
    -- issue 7); format and server are never '' (the store stores NULL instead).
    CASE WHEN count(*) = 1 THEN 1 ELSE length(list_distinct(list((t.event,
      epoch(t.event_time)::BIGINT, coalesce(t.k_internal, t.k_queue, t.k_msgid, ''))))) END
      AS trace_events,
    {_DISTINCT_LIST.format(c="format")} AS trace_format,
    {_DISTINCT_LIST.format(c="server")} AS trace_server,
    min(t.event_time) AS first_trace_at, max(t.event_time) AS last_trace_at,
    arg_max(t.event, (t.event_time, CASE WHEN t.event IN ('received', 'other') THEN 0 ELSE 1 END))
      AS trace_final_event,
    bool_or(t.event = 'junk') AS t_junk,
    bool_or(t.event IN ('quarantined', 'held')) AS t_quarantined,
    bool_or(t.event = 'dropped') AS t_dropped,
    bool_or(t.event = 'delivered') AS t_delivered,
    bool_or(t.event IN ('bounced', 'failed')) AS t_bounced,
    bool_or(t.event = 'rejected' AND coalesce(t.smtp_code, 550) >= 500) AS t_rejected_perm,
    bool_or(t.event IN ('rejected', 'deferred')) AS t_temp_or_rejected,
    bool_or(t.event = 'forwarded') AS t_forwarded,
    bool_or(t.event = 'deferred' OR (t.event = 'rejected' AND t.smtp_code < 500)) AS t_deferred,
    bool_or(t.event IN ('received', 'delivered', 'junk', 'quarantined', 'held', 'dropped',
                        'forwarded', 'bounced', 'failed', 'expanded')) AS t_accepted,
    bool_or(t.expired) AS t_expired,
    arg_max(t.smtp_code, t.event_time) FILTER (WHERE t.fail_detail IS NOT NULL) AS t_fail_code,
    arg_max(t.enhanced_code, t.event_time) FILTER (WHERE t.fail_detail IS NOT NULL)
      AS t_fail_enhanced,
    arg_max(t.fail_detail, t.event_time) FILTER (WHERE t.fail_detail IS NOT NULL) AS t_fail_text
  FROM m JOIN _t t USING (tid) GROUP BY m.journey_id),
covered AS (SELECT DISTINCT recipient_domain FROM _t WHERE recipient_domain IS NOT NULL)
SELECT j.journey_id, j.campaign, j.recipient, j.recipient_domain, j.sent_at, j.accepted_at,
  j.remote_id,
  j.esp_event, j.smtp_code, j.enhanced_code, j.smtp_text, j.bounce_type, j.bounce_reason,
  j.subject, j.esp_import_id,
  a.trace_format, a.trace_server, coalesce(a.trace_events, 0) AS trace_events,
  a.trace_final_event, a.first_trace_at, a.last_trace_at,
  CASE WHEN a.any_exact THEN 'exact' WHEN a.journey_id IS NOT NULL THEN 'approximate'
       ELSE 'none' END AS match,
  j.recipient_domain IN (SELECT recipient_domain FROM covered) AS trace_covers_domain,
  CASE
    WHEN a.t_junk THEN 'junk'
    WHEN a.t_quarantined THEN 'quarantined'
    WHEN a.t_dropped THEN 'dropped'
    WHEN NOT j.accepted AND NOT coalesce(a.t_accepted, false)
         AND (j.esp_perm_fail OR coalesce(a.t_rejected_perm, false)) THEN 'rejected'
    WHEN coalesce(a.t_expired, false)
         OR (NOT j.accepted AND j.esp_event = 'bounced' AND coalesce(j.esp_all_temp, false)
             AND NOT coalesce(a.t_accepted, false)) THEN 'expired'
    WHEN j.accepted AND (coalesce(a.t_bounced, false) OR j.esp_event = 'bounced')
      THEN 'bounced_after_accept'
    WHEN a.t_delivered THEN 'delivered'
    WHEN a.t_forwarded THEN 'forwarded'
    WHEN coalesce(a.t_deferred, false) OR j.esp_event = 'deferred' THEN 'deferred'
    WHEN j.accepted AND a.journey_id IS NULL THEN 'accepted_no_trace'
    ELSE 'unknown'
  END AS verdict,
  CASE WHEN a.last_trace_at IS NOT NULL
       THEN round(epoch(a.last_trace_at) - epoch(j.sent_at), 3) END AS latency_s,
  -- The failure to explain: the ESP's own bounce/deferral reply, else the trace's.
  CASE WHEN j.esp_event IN ('bounced', 'deferred') THEN j.smtp_code ELSE a.t_fail_code END
    AS failure_code,
  CASE WHEN j.esp_event IN ('bounced', 'deferred') THEN j.enhanced_code
       ELSE a.t_fail_enhanced END AS failure_enhanced,
  CASE WHEN j.esp_event IN ('bounced', 'deferred') THEN coalesce(j.smtp_text, j.bounce_reason)
       ELSE a.t_fail_text END AS failure_text
FROM _j j LEFT JOIN agg a USING (journey_id)
"""

# Without the input rows' raw text: queries.timeline reads it from trace_events by
# (import_id, row_no) for the one journey it shows (copying it for ~900k matched rows took
# 12 of the 15 s of this statement at 1M sends, issue 7).
_EVENTS_SQL = """
CREATE OR REPLACE TABLE journey_events AS
SELECT m.journey_id, m.match, t.import_id, t.row_no, t.format, t.server, t.event_time,
  t.event, t.recipient, t.sender, t.smtp_code, t.enhanced_code, te.detail, t.subject,
  t.k_msgid AS message_id, t.k_queue AS queue_id, t.k_internal AS internal_id
FROM (SELECT journey_id, tid, min(match) AS match FROM (
        SELECT journey_id, tid, 'exact' AS match FROM _exact
        UNION ALL SELECT journey_id, tid, 'approximate' FROM _approx) GROUP BY ALL) m
JOIN _t t USING (tid) JOIN trace_events te ON te.rowid = m.tid
"""

_KEYS_SQL = """
CREATE OR REPLACE TABLE journey_keys AS SELECT * FROM _jk
"""

# Every ID a journey can be found by, lower-cased, with its hash: queries.find_journeys
# compares one BIGINT column instead of lower() over 1M keys and 900k events' three IDs
# (the strings were most of its 0.2-0.3 s at 1M sends).
_SEARCH_SQL = """
CREATE OR REPLACE TABLE journey_search AS
SELECT hash(term) AS term_hash, term, journey_id FROM (
  SELECT lower(key) AS term, journey_id FROM journey_keys
  UNION ALL SELECT lower(message_id), journey_id FROM journey_events WHERE message_id IS NOT NULL
  UNION ALL SELECT lower(queue_id), journey_id FROM journey_events WHERE queue_id IS NOT NULL
  UNION ALL SELECT lower(internal_id), journey_id FROM journey_events
  WHERE internal_id IS NOT NULL)
"""

# Sorted distinct lists via list() instead of string_agg(DISTINCT ...): DuckDB plans every
# DISTINCT aggregate as its own hash aggregate and join (9.7 s vs 4.0 s for 1.4M trace
# messages, issue 7); the values are never '' (the store stores NULL instead).
_UNMATCHED_COLS = ("format", "recipient", "sender", "event")
# Whether a message's rows differ in a column: min/max of the values' hashes, not of the
# strings (4.4 s instead of 6.7 s for 1.4M messages at 1M sends). NULL hashes to a value of
# its own, so a NULL beside a value counts as mixed; the lists then drop the NULL, which
# gives what min() gave.
_UNMATCHED_MIXED = " OR ".join(f"min(h_{c}) <> max(h_{c})" for c in _UNMATCHED_COLS)
_LISTED = "nullif(array_to_string(list_sort(list_distinct(list(t.{c}))), ', '), '')"
# Two passes: per trace message fixed-size states (counts, minima, the hashes' min/max and
# one row's id), then the sorted distinct lists only for the messages whose rows differ.
# A message whose rows agree in a column takes that column from its first row (`rep`), so
# the grouping carries no strings but the key and the subject (9.7 s instead of 12.7 s for
# 1.4M messages at 1M sends, same rows). One pass with four list() states had to spill under
# the workspace's memory_limit (31 s instead of 6 s at 1M). Unordered: readers sort.
# A queue ID names a message on its server; Exim's mainlog names no server, so there the
# format stands in for it (else each row of such a message would count as a message).
_UNMATCHED_TRACE_SQL = f"""
CREATE OR REPLACE TABLE trace_unmatched AS
WITH u AS (
  SELECT coalesce(t.k_msgid, t.k_network, coalesce(t.server, t.format) || ':' || t.k_queue,
                  t.k_internal,
                  'row:' || t.import_id || ':' || t.row_no) AS trace_message,
    t.tid, t.import_id, t.event_time, t.subject,
    {", ".join(f"hash(t.{c}) AS h_{c}" for c in _UNMATCHED_COLS)}
  FROM _t t ANTI JOIN (SELECT tid FROM _exact UNION ALL SELECT tid FROM _approx) m USING (tid)),
g AS (
  SELECT trace_message, min(import_id) AS import_id, min(event_time) AS first_event_at,
    min(subject) AS subject, count(*) AS rows, {_UNMATCHED_MIXED} AS mixed, min(tid) AS rep
  FROM u GROUP BY trace_message),
lists AS (
  SELECT u.trace_message, {", ".join(f"{_LISTED.format(c=c)} AS {c}" for c in _UNMATCHED_COLS)}
  FROM u JOIN _t t USING (tid)
  WHERE u.trace_message IN (SELECT trace_message FROM g WHERE mixed)
  GROUP BY u.trace_message)
SELECT g.trace_message, g.import_id, CASE WHEN g.mixed THEN l.format ELSE r.format END AS format,
  g.first_event_at,
  CASE WHEN g.mixed THEN l.recipient ELSE r.recipient END AS recipients,
  CASE WHEN g.mixed THEN l.sender ELSE r.sender END AS senders,
  g.subject, CASE WHEN g.mixed THEN l.event ELSE r.event END AS events, g.rows
FROM g JOIN _t r ON r.tid = g.rep LEFT JOIN lists l USING (trace_message)
"""


def rebuild(con: duckdb.DuckDBPyConnection,
            progress: Callable[[float, str], None] | None = None) -> None:
    """Rebuild journeys, journey_events, journey_keys, journey_search and trace_unmatched.

    `progress(fraction, message)` hears each stage; the fractions are each stage's share
    of the rebuild at 1M sends (docs/benchmarks.md).
    """
    say = progress or (lambda _fraction, _message: None)
    say(0.0, "Journeys: reading the ESP sends")
    con.execute(_ESP_SQL)
    con.execute(_JOURNEY_ESP_SQL)
    say(0.15, "Journeys: reading message IDs")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _jk AS {_key_sql()}")
    # Each temp table is dropped as soon as nothing reads it: the refresh runs in one
    # transaction under the workspace's memory_limit, and what is kept must spill.
    _drop(con, "_j_rows")
    con.execute(_KEYS_SQL)
    say(0.25, "Journeys: reading the trace rows")
    con.execute(_TRACE_SQL)
    say(0.37, "Journeys: matching sends to trace rows")
    con.execute(_EXACT_SQL)
    con.execute(_EXPAND_SQL.format(out="_exact", seed="_seed"))
    _drop(con, "_seed")
    con.execute(_APPROX_SQL)
    con.execute(_EXPAND_SQL.format(out="_approx_all", seed="_approx_seed"))
    # Approximate expansion must not steal rows that an exact match already owns.
    con.execute("CREATE OR REPLACE TEMP TABLE _approx AS SELECT * FROM _approx_all "
                "WHERE tid NOT IN (SELECT tid FROM _exact)")
    _drop(con, "_approx_seed", "_approx_all")
    say(0.50, "Journeys: deciding verdicts")
    con.execute(_VERDICT_SQL)
    _drop(con, "_j", "_jk")
    say(0.60, "Journeys: classifying failures")
    _write_journeys(con)
    _drop(con, "_jv")
    say(0.70, "Journeys: building timelines and search")
    con.execute(_EVENTS_SQL)
    con.execute(_SEARCH_SQL)
    say(0.79, "Journeys: listing unmatched trace messages")
    con.execute(_UNMATCHED_TRACE_SQL)
    _drop(con, "_t", "_exact", "_approx")
    say(1.0, "Journeys: done")


# Its share of a refresh's progress bar next to classify.refresh (weight 1): ~10x at 1M sends.
rebuild.progress_weight = 10  # type: ignore[attr-defined]


def _drop(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    for t in tables:
        con.execute(f"DROP TABLE IF EXISTS {t}")


CLASS_COLUMNS = {"reason": "VARCHAR", "category": "VARCHAR", "permanent": "BOOLEAN",
                 "suppress": "BOOLEAN", "advice": "VARCHAR", "rule_id": "VARCHAR"}


def _write_journeys(con: duckdb.DuckDBPyConnection) -> None:
    """Write `journeys`: the verdicts (_jv) with each distinct failure's classification.

    The failure is classified without a recipient domain, as `classify(code, enhanced,
    text)` would; classify_bulk shares one call among texts equal up to their addresses.
    The results are kept in `failure_classes` (per rules version), so a rebuild classifies
    only the failures it has not seen (13k classify calls, 4 s, at 1M sends; issue 7).
    """
    from .classify import sync_classes

    con.execute(
        "CREATE OR REPLACE TEMP TABLE _jfail AS SELECT failure_code AS smtp_code, "
        "failure_enhanced AS enhanced_code, failure_text AS text, NULL::VARCHAR AS domain, "
        "count(*) AS n FROM _jv WHERE failure_code IS NOT NULL OR failure_text IS NOT NULL "
        "GROUP BY ALL")
    sync_classes(con, "failure_classes", "_jfail")
    cols = ", ".join(f"c.{k}" for k in CLASS_COLUMNS)
    con.execute(
        f"CREATE OR REPLACE TABLE journeys AS SELECT j.*, {cols} FROM _jv j "
        "LEFT JOIN failure_classes c ON c.smtp_code IS NOT DISTINCT FROM j.failure_code "
        "AND c.enhanced_code IS NOT DISTINCT FROM j.failure_enhanced "
        "AND c.text IS NOT DISTINCT FROM j.failure_text "
        "AND (j.failure_code IS NOT NULL OR j.failure_text IS NOT NULL) "
        "ORDER BY j.sent_at, j.recipient")
    con.execute("DROP TABLE IF EXISTS _jfail")


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'journeys' "
        "AND NOT temporary").fetchall()[0][0]
    if not exists:
        rebuild(con)


def journeys_df(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every journey with the documented columns first (JOURNEY_COLUMNS), then the rest."""
    _ensure(con)
    df = con.execute("SELECT * FROM journeys ORDER BY sent_at, recipient").df()
    rest = [c for c in df.columns if c not in JOURNEY_COLUMNS]
    return df[JOURNEY_COLUMNS + rest]
