"""Overview: what happened to the campaign, at a glance; click a chart to explore it."""

from __future__ import annotations

import functools

import streamlit as st

from analysis import charts
from analysis.queries import FAILURE_VERDICTS, Filters, auto_bucket
from pages._common import empty_state, engine, get_store, has_journeys

ALL = "All campaigns"
BUCKETS = ["auto", "minute", "hour", "day"]
# (kpis key, label, True when more is better, help)
TILES = [
    ("sent", "Sent", None, "Messages × recipients the ESP handed to a server."),
    ("accepted", "Accepted", True, "The recipient's server took the message (2xx)."),
    ("inbox", "Delivered to inbox", True, "A trace shows delivery to the mailbox."),
    ("junk", "Junk", False, "Delivered to the junk / spam folder."),
    ("quarantined", "Quarantined", False, "Held in quarantine by the recipient's filter."),
    ("dropped", "Dropped", False, "Accepted, then silently discarded."),
    ("bounced_hard", "Bounced (hard)", False, "Permanent failures: rejected or bounced."),
    ("bounced_soft", "Bounced (soft)", False, "Temporary failures the ESP gave up on."),
    ("rejected", "Rejected", False, "Refused at SMTP time; never accepted."),
    ("deferred", "Deferred", False, "Temporarily refused (still retrying, or expired)."),
    ("accepted_no_trace", "Accepted, no trace", None,
     "Accepted, but no loaded trace shows what happened next."),
    ("match_rate", "Matched to a trace", True, "Share of sends with at least one trace row."),
]

store = get_store()

goto = st.session_state.pop("overview_goto", None)
if goto is not None:  # a chart was clicked on the previous run: open the explorer there
    st.switch_page("pages/explorer.py", query_params=goto)

st.title("Overview")
if not has_journeys(store):
    empty_state("No sends loaded yet, so there is nothing to summarise.")
    st.stop()

campaigns = engine(store, "queries.campaigns")
# Newest first; sends without a campaign name are only in "All campaigns".
names = list(reversed(campaigns["campaign"].dropna().tolist()))
c1, c2, c3 = st.columns([3, 1, 1])
choice = c1.selectbox("Campaign", [ALL] + names, index=1 if len(names) > 1 else 0,
                      key="overview_campaign",
                      help="Pick one campaign to compare it with the one sent before it.")
top = c2.number_input("Top domains", 5, 50, 12, step=1, key="overview_top")
bucket_choice = c3.selectbox("Time buckets", BUCKETS, key="overview_bucket")

base = Filters() if choice == ALL else Filters(campaigns=(choice,))
previous = None
if choice != ALL and names.index(choice) + 1 < len(names):
    previous = names[names.index(choice) + 1]

with st.spinner("Counting…"):
    k = engine(store, "queries.kpis", filters=base)
    prev_k = engine(store, "queries.kpis", filters=Filters(campaigns=(previous,))) \
        if previous else None
if previous:
    st.caption(f"Changes are against the previous campaign, **{previous}** "
               "(share of sent, in percentage points).")


def _tile(col: st.delta_generator.DeltaGenerator, key: str, label: str, better: bool | None,
          help_text: str) -> None:
    sent = k["sent"] or 1
    if key == "match_rate":
        value, share = f"{k[key]:.0%}", k[key]
    elif key == "sent":
        value, share = f"{k[key]:,}", None
    else:
        share = k[key] / sent
        value = f"{k[key]:,} · {share:.1%}" if 0 < share < 0.1 else f"{k[key]:,} · {share:.0%}"
    delta = None
    if prev_k is not None and prev_k["sent"]:
        if key == "sent":
            delta = f"{k['sent'] - prev_k['sent']:+,}"
        else:
            before = prev_k[key] if key == "match_rate" else prev_k[key] / prev_k["sent"]
            delta = f"{(share - before) * 100:+.1f} pp"
    color = "off" if better is None else "normal" if better else "inverse"
    col.metric(label, value, delta, delta_color=color, help=help_text, border=True)


for row in (TILES[:4], TILES[4:8], TILES[8:]):
    for col, (key, label, better, help_text) in zip(st.columns(4), row, strict=True):
        _tile(col, key, label, better, help_text)

bucket = bucket_choice if bucket_choice != "auto" else \
    auto_bucket(engine(store, "queries.time_span", filters=base))


def _open_in_explorer(chart: str, key: str) -> None:
    """Selection callback: remember the clicked point's filters for the next run."""
    state = st.session_state.get(key)
    points = state.selection.points if state is not None else []
    if not points:
        return
    changes = charts.filters_from_point(chart, points[0], bucket)
    options = engine(store, "queries.filter_options")
    # "unknown"/"undefined" are chart labels for unclassified rows, not stored values.
    if changes.get("categories") and changes["categories"][0] not in options["category"]:
        changes.pop("categories")
    if changes.get("reasons") and changes["reasons"][0] not in options["reason"]:
        changes.pop("reasons")
    params = base.with_(**changes).to_params()
    if any(v not in FAILURE_VERDICTS for v in changes.get("verdicts", ())):
        params["all"] = "1"
    st.session_state["overview_goto"] = params


def _chart(fig: object, chart: str, key: str, *, clickable: bool = True,
           mode: str = "points") -> None:
    if clickable:
        st.plotly_chart(fig, key=key, selection_mode=mode,
                        on_select=functools.partial(_open_in_explorer, chart, key))
    else:
        st.plotly_chart(fig, key=key)


with st.spinner("Drawing charts…"):
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.chart_funnel(k), key="overview_funnel")
    with right:
        _chart(charts.chart_verdicts(engine(store, "queries.verdict_counts", filters=base)),
               "verdicts", "overview_verdicts")

    st.subheader("Why messages failed")
    st.caption("Click a bar, a cell or a slice to open exactly those failures in the "
               "Bounce explorer.")
    by_code = engine(store, "queries.failures_by_code", filters=base)
    if by_code.empty:
        st.success("No failures in this selection: every message was accepted.")
    else:
        left, right = st.columns(2)
        with left:
            _chart(charts.chart_failures_by_code(by_code), "failures_by_code",
                   "overview_by_code")
        with right:
            _chart(charts.chart_failures_by_domain(
                engine(store, "queries.failures_by_domain", int(top), filters=base)),
                "failures_by_domain", "overview_by_domain")
        left, right = st.columns(2)
        with left:
            _chart(charts.chart_domain_heatmap(
                engine(store, "queries.domain_category_matrix", int(top), filters=base)),
                "domain_heatmap", "overview_heatmap")
        with right:
            _chart(charts.chart_category_sunburst(
                engine(store, "queries.category_tree", filters=base)),
                "category_sunburst", "overview_sunburst")

        st.subheader("When and where it failed")
        _chart(charts.chart_failures_over_time(
            engine(store, "queries.failures_over_time", bucket, filters=base)),
            "failures_over_time", "overview_over_time")
        incidents = engine(store, "queries.domain_incidents", filters=base)
        _chart(charts.chart_domain_incidents(incidents, top=int(top)), "domain_incidents",
               "overview_incidents")
        # The table is built only while the expander is open: a data grid in a closed
        # expander still cost the first render ~1-1.5 s in the browser (docs/benchmarks.md).
        with st.expander("Per-domain incidents (table)", key="overview_incidents_open",
                         on_change="rerun") as incidents_box:
            if incidents_box.open:
                st.dataframe(
                    incidents, hide_index=True, key="overview_incident_table",
                    column_config={
                        "first_failure": st.column_config.DatetimeColumn(
                            "first failure (UTC)", format="YYYY-MM-DD HH:mm:ss"),
                        "last_failure": st.column_config.DatetimeColumn(
                            "last failure (UTC)", format="YYYY-MM-DD HH:mm:ss"),
                        "deferred": st.column_config.NumberColumn("deferred / expired"),
                        "median_latency_s": st.column_config.NumberColumn(
                            "median delivery time (s)", format="%.0f"),
                    })
