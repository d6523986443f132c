"""Message timeline: one message's path across the ESP and every trace, told in words."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import charts, smtp
from analysis.narrative import describe_journey
from pages._common import empty_state, engine, get_store, has_journeys

BADGE = {"delivered": "green", "forwarded": "green", "accepted_no_trace": "blue",
         "junk": "orange", "quarantined": "orange", "dropped": "orange", "deferred": "violet",
         "expired": "violet", "rejected": "red", "bounced_after_accept": "red",
         "unknown": "gray"}

store = get_store()
st.title("Message timeline")
if not has_journeys(store):
    empty_state("No sends loaded yet, so there is no message to follow.")
    st.stop()

url_q = st.query_params.get("q", "")
url_journey = st.query_params.get("journey", "")
if st.session_state.get("message_url_applied") != (url_q, url_journey):
    st.session_state["message_find"] = url_q
needle = st.text_input("Find a message by recipient, Message-ID, queue ID or subject",
                       key="message_find",
                       placeholder="e.g. alice@example.org, <2025…@mta.example.net>, 4F2A91C0B37")

journey_id: int | None = None
if needle.strip():
    found = engine(store, "queries.find_journeys", needle.strip())
    if found.empty:
        st.warning(f"No message matches “{needle.strip()}”. Try the recipient's address or "
                   "part of it, a Message-ID, or the queue ID from the SMTP reply.")
    else:
        st.caption(f"{len(found):,} message{'s' if len(found) != 1 else ''} found"
                   + (" (first 50)" if len(found) >= 50 else "") + " — select one.")
        event = st.dataframe(
            found, hide_index=True, key="message_results", on_select="rerun",
            selection_mode="single-row", height=min(38 + 35 * len(found), 250),
            column_config={"journey_id": None, "sent_at": st.column_config.DatetimeColumn(
                "sent (UTC)", format="YYYY-MM-DD HH:mm:ss")})
        picked = [i for i in (event.selection.rows if event is not None else [])
                  if i < len(found)]
        journey_id = int(found.iloc[picked[0] if picked else 0]["journey_id"])
    params = {"q": needle.strip()}
elif url_journey.isdigit():
    journey_id = int(url_journey)
    params = {"journey": url_journey}
else:
    params = {}
if dict(st.query_params) != params:
    st.query_params.from_dict(params)
st.session_state["message_url_applied"] = (params.get("q", ""), params.get("journey", ""))

if journey_id is None:
    if not needle.strip():
        st.info("Type a recipient address, a Message-ID or a queue ID above, or open a message "
                "from the **Bounce explorer**.")
    st.stop()

j = engine(store, "queries.journey", journey_id)
if j is None:
    st.error(f"There is no message number {journey_id} in this workspace (the data may have "
             "been reloaded). Search for it above.")
    st.stop()
with st.spinner("Collecting events…"):
    events = engine(store, "queries.timeline", journey_id)


def _present(value: object) -> bool:
    return value is not None and not (not isinstance(value, str) and pd.isna(value))


verdict = str(j["verdict"])
st.subheader(j["recipient"])
facts = [f"Campaign **{j['campaign'] or '—'}**", f"sent {j['sent_at']:%Y-%m-%d %H:%M:%S} UTC"]
if _present(j.get("remote_id")):
    facts.append(f"remote ID `{j['remote_id']}`")
if _present(j.get("subject")):
    facts.append(f"subject “{j['subject']}”")
st.markdown(f":{BADGE.get(verdict, 'gray')}-badge[{verdict.replace('_', ' ')}] · "
            + " · ".join(facts))
st.info(describe_journey(j, events), icon=":material/timeline:")
if j["match"] == "approximate":
    st.warning("**Approximate match.** No ID is shared between the ESP row and these trace "
               "rows; they were paired by recipient and time. Check the times before relying "
               "on the verdict.", icon=":material/warning:")

if _present(j.get("failure_code")) or _present(j.get("failure_text")):
    st.subheader("Why it failed")
    permanent, suppress = j.get("permanent"), j.get("suppress")
    facts = {
        "Reason": j.get("reason") or "—",
        "Category": (j.get("category") or "—").replace("_", " "),
        "Hard / soft": "—" if not _present(permanent) else
        "hard (permanent)" if permanent else "soft (temporary)",
        "Remove from the list?": "—" if not _present(suppress) else
        "yes" if suppress else "no, keep it",
    }
    for col, (label, value) in zip(st.columns(4), facts.items(), strict=True):
        col.caption(label)
        col.markdown(f"**{value}**")
    if _present(j.get("advice")):
        st.success(f"**What to do:** {j['advice']}")
    codes = [str(int(j["failure_code"])) if _present(j.get("failure_code")) else None,
             j.get("failure_enhanced") if _present(j.get("failure_enhanced")) else None]
    lines = [f"- `{code}` — {smtp.describe(code) or 'not in the registry'}"
             for code in codes if code]
    if lines:
        st.markdown("**The SMTP code explained**\n" + "\n".join(lines))
    if _present(j.get("failure_text")):
        st.code(str(j["failure_text"]), language=None, wrap_lines=True)
    if _present(j.get("rule_id")):
        st.caption(f"Rule that fired: `{j['rule_id']}`")

st.subheader("Timeline")
if events.empty:
    st.info("No events recorded for this message.")
else:
    st.plotly_chart(charts.chart_timeline(events), key="message_timeline")
    st.dataframe(
        events, hide_index=True, key="message_events",
        column_order=["event_time", "side", "source", "server", "event", "smtp_code",
                      "enhanced_code", "detail", "match", "file_name", "row_no"],
        column_config={"event_time": st.column_config.DatetimeColumn(
            "time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "smtp_code": st.column_config.NumberColumn("code", format="%d"),
            "detail": st.column_config.TextColumn("detail", width="large"),
            "row_no": st.column_config.NumberColumn("line", format="%d")})
    with st.expander("The raw lines and rows behind each event"):
        for row in events.itertuples():
            raw = row.raw if _present(row.raw) else row.detail
            st.caption(f"{row.event_time:%Y-%m-%d %H:%M:%S} · {row.side} · {row.event} · "
                       f"{row.file_name}, line {row.row_no}")
            st.code(str(raw) if _present(raw) else "(the file kept no raw text for this row)",
                    language=None, wrap_lines=True)
    if not j.get("trace_covers_domain") and j["match"] == "none":
        st.caption(f"No trace of {j['recipient_domain']} is loaded. The Guide says how to get "
                   "one from the recipient's mail server.")
