"""Bounce explorer: filter failures by code, domain, category…; the URL keeps the filters."""

from __future__ import annotations

import datetime as dt
import math

import streamlit as st

from analysis.export import to_csv_bytes
from analysis.queries import Filters, explorer_rows
from pages._common import empty_state, engine, get_store, has_engine, has_journeys, on_cursor

ANY = "any"
SEVERITY = {ANY: None, "hard (permanent)": "hard", "soft (temporary)": "soft"}
SUPPRESS = {ANY: None, "should leave the list": True, "keep on the list": False}
PAGE_SIZES = [50, 100, 250, 500]
MAX_OPTIONS = 2000  # a list longer than this is typed, not scrolled (domains accept any text)
# Filters field -> (widget key, filter_options column)
MULTI = {
    "codes": ("explorer_codes", "failure_code"),
    "enhanced": ("explorer_enhanced", "failure_enhanced"),
    "categories": ("explorer_categories", "category"),
    "reasons": ("explorer_reasons", "reason"),
    "verdicts": ("explorer_verdicts", "verdict"),
    "domains": ("explorer_domains", "recipient_domain"),
    "campaigns": ("explorer_campaigns", "campaign"),
}

store = get_store()
st.title("Bounce explorer")
if not has_journeys(store):
    empty_state("No sends loaded yet, so there are no failures to explore.")
    st.stop()


def _url_filters() -> tuple[Filters, bool]:
    """The filters and the 'every message' flag the URL asks for."""
    params = {k: st.query_params.get(k, "") for k in st.query_params}
    f = Filters.from_params(params)
    for name in ("since", "until"):  # drop a date the engine could not read
        value = getattr(f, name)
        if value:
            try:
                Filters(**{name: value}).where()
            except Exception:  # noqa: BLE001 - a hand-edited URL: ignore the bad date
                f = f.with_(**{name: None})
    return f, params.get("all") == "1"


def _date_part(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _seed_widgets(f: Filters, every: bool) -> None:
    """Put the URL's filter values into the widgets (on arrival or when the URL changed)."""
    for name, (key, _) in MULTI.items():
        st.session_state[key] = list(getattr(f, name))
    st.session_state["explorer_since"] = _date_part(f.since)
    st.session_state["explorer_until"] = _date_part(f.until)
    st.session_state["explorer_severity"] = next(
        (k for k, v in SEVERITY.items() if v == f.severity), ANY)
    st.session_state["explorer_suppress"] = next(
        (k for k, v in SUPPRESS.items() if v == f.suppress), ANY)
    st.session_state["explorer_text"] = f.text or ""
    st.session_state["explorer_all"] = every
    st.session_state["explorer_exact_times"] = {"since": f.since, "until": f.until}
    st.session_state["explorer_page"] = 1


url_f, url_all = _url_filters()
url_key = (tuple(sorted(url_f.to_params().items())), url_all)
if st.session_state.get("explorer_url_applied") != url_key:
    _seed_widgets(url_f, url_all)

options = engine(store, "queries.filter_options")
with st.expander("Filters", expanded=True):
    cols = st.columns(4)
    labels = {"codes": "SMTP code", "enhanced": "Enhanced code", "categories": "Category",
              "reasons": "Reason", "verdicts": "Verdict", "domains": "Recipient domain",
              "campaigns": "Campaign"}
    chosen: dict[str, tuple] = {}
    for i, (name, (key, column)) in enumerate(MULTI.items()):
        # Keep values from a shared link even when this workspace has none of them.
        values = list(dict.fromkeys(list(options[column])[:MAX_OPTIONS]
                                    + list(st.session_state.get(key, []))))
        picked = cols[i % 4].multiselect(labels[name], values, key=key, placeholder="any",
                                         accept_new_options=name == "domains")
        chosen[name] = tuple(int(v) for v in picked) if name == "codes" else tuple(picked)
    since = cols[3].date_input("Sent on or after", key="explorer_since", format="YYYY-MM-DD")
    cols = st.columns(4)
    until = cols[0].date_input("Sent on or before", key="explorer_until", format="YYYY-MM-DD")
    severity = cols[1].selectbox("Hard / soft", list(SEVERITY), key="explorer_severity")
    suppress = cols[2].selectbox("Suppress", list(SUPPRESS), key="explorer_suppress",
                                 help="Whether the rules say the address should leave the list.")
    text = cols[3].text_input("Reply contains", key="explorer_text",
                              placeholder="e.g. quota, DMARC, 5.7.1")
    every = st.toggle("Include messages that did not fail", key="explorer_all",
                      help="Off: only failures (bounces, rejections, deferrals, junk, "
                           "quarantine, drops). On: every message.")

exact = st.session_state.get("explorer_exact_times", {})


def _when(value: dt.date | None, name: str) -> str | None:
    """The date widget's value; a finer time from the URL survives if its day is unchanged."""
    if value is None:
        return None
    kept = exact.get(name)
    return kept if kept and _date_part(kept) == value else value.isoformat()


f = Filters(since=_when(since, "since"), until=_when(until, "until"),
            severity=SEVERITY[severity], suppress=SUPPRESS[suppress],
            text=text.strip() or None, **chosen)
params = f.to_params() | ({"all": "1"} if every else {})
if dict(st.query_params) != params:
    st.query_params.from_dict(params)
st.session_state["explorer_url_applied"] = (tuple(sorted(f.to_params().items())), every)

failures_only = not every
tab_rows, tab_miss = st.tabs(["Messages", "What the rules miss"])
with tab_rows:
    with st.spinner("Filtering…"):
        total = engine(store, "queries.explorer_count", filters=f, failures_only=failures_only)
    sentence = "; ".join(f.describe()) or "no filter"
    what = "messages" if every else "failed messages"
    st.markdown(f"**{total:,}** {what} · {sentence}")
    st.caption("Copy the page address to share exactly this view.")
    if total == 0:
        st.info("Nothing matches these filters. Remove a filter, or switch on "
                "“Include messages that did not fail”.")
    else:
        c1, c2, c3 = st.columns([1, 1, 2])
        size = c1.selectbox("Rows per page", PAGE_SIZES, index=1, key="explorer_page_size")
        pages = max(1, math.ceil(total / size))
        if st.session_state.get("explorer_page", 1) > pages:
            st.session_state["explorer_page"] = pages
        page = c2.number_input(f"Page (of {pages:,})", 1, pages, key="explorer_page")
        c3.download_button(
            f"Download {total:,} rows as CSV", key="explorer_download",
            data=lambda: to_csv_bytes(on_cursor(store, explorer_rows, f, limit=None,
                                                failures_only=failures_only)),
            file_name="delivery-trace-failures.csv", mime="text/csv", on_click="ignore",
            help="Exactly the rows these filters select (all pages), spreadsheet-safe.")
        rows = engine(store, "queries.explorer_rows", filters=f, limit=int(size),
                      offset=(int(page) - 1) * int(size), failures_only=failures_only)
        event = st.dataframe(
            rows, hide_index=True, key="explorer_table", on_select="rerun",
            selection_mode="single-row",
            column_order=["sent_at", "recipient", "verdict", "failure_code", "failure_enhanced",
                          "category", "reason", "permanent", "suppress", "rule_id", "advice",
                          "failure_text", "recipient_domain", "campaign", "match",
                          "trace_format"],
            column_config={
                "sent_at": st.column_config.DatetimeColumn("sent (UTC)",
                                                           format="YYYY-MM-DD HH:mm:ss"),
                "failure_code": st.column_config.NumberColumn("code", format="%d"),
                "failure_enhanced": "enhanced",
                "rule_id": "rule that fired",
                "advice": st.column_config.TextColumn("advice", width="large"),
                "failure_text": st.column_config.TextColumn("reply", width="large"),
                "permanent": st.column_config.CheckboxColumn("hard"),
                "suppress": st.column_config.CheckboxColumn("suppress"),
            })
        # A selection survives a filter change; ignore it once it points past the rows.
        picked_rows = [i for i in (event.selection.rows if event is not None else [])
                       if i < len(rows)]
        if picked_rows:
            r = rows.iloc[picked_rows[0]]
            with st.container(border=True, key="explorer_detail"):
                code = " ".join(str(v) for v in (r["failure_code"], r["failure_enhanced"])
                                if v is not None and str(v) not in ("nan", "<NA>", "None"))
                st.markdown(f"**{r['recipient']}** · {r['verdict'].replace('_', ' ')} · "
                            f"{code or 'no code'} · {r['category'] or 'unclassified'} / "
                            f"{r['reason'] or '—'}")
                if isinstance(r["failure_text"], str):
                    st.code(r["failure_text"], language=None, wrap_lines=True)
                if isinstance(r["advice"], str):
                    st.markdown(f"**What to do:** {r['advice']}")
                if isinstance(r["rule_id"], str):
                    st.caption(f"Rule that fired: `{r['rule_id']}`")
                st.page_link("pages/message.py", label="Open this message's timeline",
                             icon=":material/timeline:",
                             query_params={"journey": str(int(r["journey_id"]))})
        else:
            st.caption("Select a row to see its full reply and advice, and to open its "
                       "timeline.")

with tab_miss:
    st.caption("Failure replies that no classification rule explains, most frequent first. "
               "Each is a candidate for a new rule in analysis/classify.py.")
    if has_engine("classify.unclassified_templates"):
        missed = engine(store, "classify.unclassified_templates")
    else:
        missed = engine(store, "queries.unclassified_failures", filters=f)
    if missed is None or len(missed) == 0:
        st.success("Every failure reply in this selection is explained by a rule.")
    else:
        st.dataframe(missed, hide_index=True, key="explorer_missed")
