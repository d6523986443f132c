"""Plotly figures from `queries` results, shared by the app pages and the reports.

Every function takes the DataFrame (or dict) a named query returns and gives back a
`plotly.graph_objects.Figure`; none touches the database or streamlit. Colours are
fixed per category and verdict so a category looks the same on every chart, and are
mid-tone so they read on light and dark backgrounds. Clickable charts carry
`customdata` = the filter values of the bar/cell (see `SELECT_FIELDS`), which the
overview turns into an explorer link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

CATEGORY_ORDER = ["invalid_address", "mailbox_unavailable", "spam_or_reputation",
                  "authentication", "policy_or_configuration", "connectivity", "throttling",
                  "unknown"]
CATEGORY_COLORS = {
    "invalid_address": "#e45756", "mailbox_unavailable": "#f58518",
    "spam_or_reputation": "#b279a2", "authentication": "#ff9da6",
    "policy_or_configuration": "#9d755d", "connectivity": "#4c78a8",
    "throttling": "#72b7b2", "unknown": "#8c8c8c",
}
# Short display names for legends and axes; data values stay the category names.
CATEGORY_LABELS = {
    "invalid_address": "invalid address", "mailbox_unavailable": "mailbox unavailable",
    "spam_or_reputation": "spam / reputation", "authentication": "authentication",
    "policy_or_configuration": "policy / config", "connectivity": "connectivity",
    "throttling": "throttling", "unknown": "unknown",
}
VERDICT_ORDER = ["delivered", "forwarded", "accepted_no_trace", "junk", "quarantined",
                 "dropped", "bounced_after_accept", "rejected", "expired", "deferred", "unknown"]
VERDICT_COLORS = {
    "delivered": "#54a24b", "forwarded": "#88d27a", "accepted_no_trace": "#9ecae9",
    "junk": "#eeca3b", "quarantined": "#f58518", "dropped": "#9d755d",
    "bounced_after_accept": "#ff9da6", "rejected": "#e45756", "expired": "#b279a2",
    "deferred": "#72b7b2", "unknown": "#8c8c8c",
}
# Trace/ESP event -> colour on the message timeline.
EVENT_COLORS = {
    "sent": "#4c78a8", "received": "#4c78a8", "delivered": "#54a24b", "opened": "#88d27a",
    "clicked": "#88d27a", "junk": "#eeca3b", "quarantined": "#f58518", "held": "#f58518",
    "dropped": "#9d755d", "bounced": "#e45756", "failed": "#e45756", "rejected": "#e45756",
    "deferred": "#72b7b2", "expanded": "#8c8c8c", "forwarded": "#88d27a", "other": "#8c8c8c",
    "complained": "#b279a2", "unsubscribed": "#b279a2",
}
# Where an event sits in a message's life, to order events logged in the same second.
EVENT_STAGE = {"sent": 0, "received": 1, "expanded": 2, "forwarded": 2, "other": 3,
               "delivered": 4, "junk": 5, "quarantined": 5, "held": 5, "dropped": 5,
               "deferred": 6, "rejected": 6, "failed": 6, "bounced": 6, "opened": 8,
               "clicked": 8, "complained": 8, "unsubscribed": 8}
# The customdata each clickable chart carries per point, in order.
CUSTOMDATA = {
    "verdicts": ("verdict",),
    "failures_by_code": ("smtp_code", "category", "enhanced_codes"),
    "failures_by_domain": ("domain", "category"),
    "domain_heatmap": ("domain", "category"),
    "domain_incidents": ("domain",),
    "failures_over_time": ("category",),  # the bucket start is the point's x
    "category_sunburst": ("path",),  # "category/reason/code" (also the slice's id)
}
LABEL_WIDTH = 28  # longest domain label shown before it is shortened


def _layout(fig: go.Figure, title: str | None, height: int, **kw: Any) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0, xanchor="left", y=1, yanchor="top",
                                 yref="container", pad=dict(t=8)) if title else None,
                      height=height, margin=dict(l=10, r=10, t=50 if title else 20, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.14, x=0,
                                  title_text="", font=dict(size=11)),
                      hoverlabel=dict(namelength=-1), **kw)
    return fig


def label(category: str) -> str:
    """The short display name of a category."""
    return CATEGORY_LABELS.get(category, str(category).replace("_", " "))


def empty_figure(message: str = "Nothing to show", height: int = 300) -> go.Figure:
    """A blank figure carrying a centred message, for an empty query result."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper",
                       showarrow=False, font=dict(size=16))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, None, height)


def _categories(df: pd.DataFrame) -> list[str]:
    seen = list(dict.fromkeys(df["category"].fillna("unknown")))
    return [c for c in CATEGORY_ORDER if c in seen] + [c for c in seen if c not in CATEGORY_ORDER]


def _short(label: str) -> str:
    return label if len(label) <= LABEL_WIDTH else label[: LABEL_WIDTH - 1] + "…"


def chart_funnel(k: Mapping[str, float], title: str | None = "Delivery funnel",
                 height: int = 320) -> go.Figure:
    """Sent -> accepted -> delivered -> inbox from `queries.kpis`."""
    stages = [("Sent", k.get("sent", 0)), ("Accepted by the server", k.get("accepted", 0)),
              ("Delivered (any folder)", k.get("delivered", 0)),
              ("Inbox (trace shows it)", k.get("inbox", 0))]
    if not stages[0][1]:
        return empty_figure("No sends loaded", height)
    fig = go.Figure(go.Funnel(
        y=[s for s, _ in stages], x=[int(v) for _, v in stages],
        textinfo="value+percent initial",
        marker=dict(color=["#4c78a8", "#72b7b2", "#9ecae9", "#54a24b"]),
        hovertemplate="%{y}: %{x:,} (%{percentInitial:.1%} of sent)<extra></extra>"))
    return _layout(fig, title, height)


def chart_verdicts(df: pd.DataFrame, title: str | None = "Verdicts",
                   height: int = 320) -> go.Figure:
    """Horizontal bars of `queries.verdict_counts` (verdict, journeys)."""
    if df.empty:
        return empty_figure("No sends loaded", height)
    order = [v for v in VERDICT_ORDER if v in set(df["verdict"])] + \
        [v for v in df["verdict"] if v not in VERDICT_ORDER]
    d = df.set_index("verdict").reindex(order).reset_index()
    fig = go.Figure(go.Bar(
        y=d["verdict"], x=d["journeys"], orientation="h", text=d["journeys"],
        marker_color=[VERDICT_COLORS.get(v, "#8c8c8c") for v in d["verdict"]],
        customdata=d[["verdict"]].to_numpy(),
        hovertemplate="%{y}: %{x:,} messages<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title=None)
    fig.update_xaxes(title="messages")
    return _layout(fig, title, height, showlegend=False)


def chart_failures_by_code(df: pd.DataFrame, title: str | None = "Failures by SMTP code",
                           height: int = 380) -> go.Figure:
    """Stacked bars per SMTP code by category from `queries.failures_by_code`."""
    if df.empty:
        return empty_figure("No failures", height)
    d = df.assign(code=df["smtp_code"].astype("Int64").astype(str),
                  enhanced_codes=df["enhanced_codes"].fillna("—"))
    codes = sorted(d["code"].unique())
    fig = go.Figure()
    for cat in _categories(d):
        part = d[d["category"] == cat]
        fig.add_bar(
            x=part["code"], y=part["failures"], name=label(cat),
            marker_color=CATEGORY_COLORS.get(cat, "#8c8c8c"),
            customdata=part[["smtp_code", "category", "enhanced_codes"]].to_numpy(),
            hovertemplate=("SMTP %{x} · %{customdata[1]}<br>%{y:,} failures"
                           "<br>enhanced codes: %{customdata[2]}<extra></extra>"))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=codes,
                     title=None)
    fig.update_yaxes(title="failures")
    return _layout(fig, title, height, barmode="stack", clickmode="event+select")


def _domain_order(df: pd.DataFrame) -> list[str]:
    totals = df.groupby("domain")["failures"].sum().sort_values(ascending=False)
    order = [d for d in totals.index if d != "other"]
    return order + (["other"] if "other" in totals.index else [])


def chart_failures_by_domain(df: pd.DataFrame,
                             title: str | None = "Failures by recipient domain",
                             height: int | None = None) -> go.Figure:
    """Horizontal stacked bars per domain (top N + other) from `queries.failures_by_domain`."""
    if df.empty:
        return empty_figure("No failures", height or 300)
    order = _domain_order(df)
    height = height or max(260, 60 + 26 * len(order))
    fig = go.Figure()
    for cat in _categories(df):
        part = df[df["category"].fillna("unknown") == cat]
        fig.add_bar(
            y=part["domain"], x=part["failures"], name=label(cat), orientation="h",
            marker_color=CATEGORY_COLORS.get(cat, "#8c8c8c"),
            customdata=part[["domain", "category"]].to_numpy(),
            hovertemplate="%{y} · %{customdata[1]}<br>%{x:,} failures<extra></extra>")
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=order,
                     autorange="reversed", title=None,
                     tickvals=order, ticktext=[_short(d) for d in order])
    fig.update_xaxes(title=None)
    return _layout(fig, title, height, barmode="stack", clickmode="event+select")


def chart_domain_heatmap(df: pd.DataFrame, title: str | None = "Domain × category",
                         height: int | None = None) -> go.Figure:
    """Heatmap of failures, domains × categories, from `queries.domain_category_matrix`."""
    if df.empty:
        return empty_figure("No failures", height or 300)
    rows = _domain_order(df)
    cols = _categories(df)
    grid = (df.pivot_table(index="domain", columns="category", values="failures",
                           aggfunc="sum", fill_value=0).reindex(index=rows, columns=cols)
            .fillna(0).astype(int))
    text = [[f"{v:,}" if v else "" for v in r] for r in grid.to_numpy()]
    height = height or max(260, 80 + 26 * len(rows))
    fig = go.Figure(go.Heatmap(
        # Empty cells are NaN so they show the background, not the colour of zero.
        z=grid.where(grid > 0).to_numpy(), x=cols, y=[_short(d) for d in rows],
        text=text, texttemplate="%{text}", colorscale="OrRd", xgap=2, ygap=2,
        colorbar=dict(title="failures"), zmin=0, hoverinfo="skip"))
    # Heatmap cells emit no selection events in Streamlit; an invisible marker on each
    # non-empty cell carries the hover and the click (customdata: domain, category).
    cells = [(d, c, int(grid.at[d, c])) for d in rows for c in cols if grid.at[d, c] > 0]
    fig.add_scatter(
        x=[c for _, c, _ in cells], y=[_short(d) for d, _, _ in cells], mode="markers",
        marker=dict(size=22, symbol="square", opacity=0), showlegend=False,
        customdata=[[d, c, n] for d, c, n in cells],
        hovertemplate="%{customdata[0]} · %{customdata[1]}<br>%{customdata[2]:,} failures"
                      "<extra></extra>")
    fig.update_yaxes(autorange="reversed", title=None)
    fig.update_xaxes(title=None, tickangle=-35, tickvals=cols,
                     ticktext=[label(c) for c in cols])
    return _layout(fig, title, height)


def chart_failures_over_time(df: pd.DataFrame,
                             title: str | None = "Failures over time (sent, UTC)",
                             height: int = 340) -> go.Figure:
    """Stacked bars per time bucket by category from `queries.failures_over_time`."""
    if df.empty:
        return empty_figure("No failures", height)
    d = df.assign(bucket=pd.to_datetime(df["bucket"], utc=True).dt.tz_localize(None))
    fig = go.Figure()
    for cat in _categories(d):
        part = d[d["category"].fillna("unknown") == cat]
        fig.add_bar(x=part["bucket"], y=part["failures"], name=label(cat),
                    marker_color=CATEGORY_COLORS.get(cat, "#8c8c8c"),
                    customdata=part[["category"]].to_numpy(),
                    hovertemplate="%{x|%Y-%m-%d %H:%M} UTC · %{customdata[0]}"
                                  "<br>%{y:,} failures<extra></extra>")
    fig.update_xaxes(title=None)
    fig.update_yaxes(title="failures")
    return _layout(fig, title, height, barmode="stack")


def _duration(seconds: float | None) -> str:
    if seconds is None or pd.isna(seconds):
        return "—"
    s = float(seconds)
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def chart_domain_incidents(df: pd.DataFrame, title: str | None = "When each domain failed (sent, UTC)",
                           top: int = 20, height: int | None = None) -> go.Figure:
    """Per domain a line from first to last failure, from `queries.domain_incidents`."""
    if df.empty:
        return empty_figure("No failures", height or 300)
    d = df.head(top).copy()
    d["first_failure"] = pd.to_datetime(d["first_failure"], utc=True).dt.tz_localize(None)
    d["last_failure"] = pd.to_datetime(d["last_failure"], utc=True).dt.tz_localize(None)
    d["main_category"] = d["main_category"].fillna("unknown")
    d["latency"] = [_duration(v) for v in d["median_latency_s"]]
    height = height or max(260, 60 + 28 * len(d))
    fig = go.Figure()
    for cat in _categories(d.rename(columns={"main_category": "category"})):
        part = d[d["main_category"] == cat]
        xs: list[Any] = []
        ys: list[Any] = []
        for row in part.itertuples():
            xs += [row.first_failure, row.last_failure, None]
            ys += [row.domain, row.domain, None]
        color = CATEGORY_COLORS.get(cat, "#8c8c8c")
        fig.add_scatter(x=xs, y=ys, mode="lines", line=dict(color=color, width=8),
                        name=label(cat), legendgroup=cat, hoverinfo="skip", showlegend=False)
        fig.add_scatter(
            x=part["first_failure"], y=part["domain"], mode="markers", name=label(cat),
            legendgroup=cat, marker=dict(color=color, size=11, line=dict(width=1)),
            customdata=part[["domain", "main_category", "failures", "deferred", "latency",
                             "last_failure"]].to_numpy(),
            hovertemplate=("%{customdata[0]} · %{customdata[1]}<br>%{customdata[2]:,} failures,"
                           " %{customdata[3]:,} deferred/expired<br>first %{x|%Y-%m-%d %H:%M},"
                           " last %{customdata[5]|%Y-%m-%d %H:%M} UTC<br>"
                           "median time to delivery after a deferral: %{customdata[4]}"
                           "<extra></extra>"))
    order = list(d["domain"])
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=order,
                     autorange="reversed", title=None)
    fig.update_xaxes(title=None)
    return _layout(fig, title, height)


def chart_category_sunburst(df: pd.DataFrame, title: str | None = "Category → reason → code",
                            height: int = 460) -> go.Figure:
    """Category -> reason -> code sunburst from `queries.category_tree`."""
    if df.empty:
        return empty_figure("No failures", height)
    d = df.copy()
    d["category"] = d["category"].fillna("unknown")
    ids, labels, parents, values, colors = [], [], [], [], []
    for cat, g in d.groupby("category", sort=False):
        ids.append(cat)
        labels.append(cat)
        parents.append("")
        values.append(int(g["failures"].sum()))
        colors.append(CATEGORY_COLORS.get(cat, "#8c8c8c"))
        for reason, r in g.groupby("reason", sort=False):
            rid = f"{cat}/{reason}"
            ids.append(rid)
            labels.append(reason)
            parents.append(cat)
            values.append(int(r["failures"].sum()))
            colors.append(CATEGORY_COLORS.get(cat, "#8c8c8c"))
            for row in r.itertuples():
                ids.append(f"{rid}/{row.code}")
                labels.append(str(row.code))
                parents.append(rid)
                values.append(int(row.failures))
                colors.append(CATEGORY_COLORS.get(cat, "#8c8c8c"))
    fig = go.Figure(go.Sunburst(
        ids=ids, labels=labels, parents=parents, values=values, branchvalues="total",
        marker=dict(colors=colors, line=dict(width=1)), customdata=[[i] for i in ids],
        insidetextorientation="radial",
        hovertemplate="%{id}<br>%{value:,} failures (%{percentRoot:.1%})<extra></extra>"))
    return _layout(fig, title, height)


def _lane(row: Any) -> str:
    if row.side == "ESP":
        return f"ESP · {row.source}"
    server = row.server if isinstance(row.server, str) and row.server else row.source
    return f"{server} · {row.source}" if server != row.source else str(server)


def _wrap(text: Any, width: int = 90, lines: int = 6) -> str:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return "—"
    s = str(text).replace("\r", "").replace("<", "&lt;").replace(">", "&gt;")
    out = [s[i:i + width] for i in range(0, len(s), width)][:lines]
    return "<br>".join(out) + ("…" if len(s) > width * lines else "")


def chart_timeline(df: pd.DataFrame, title: str | None = "What happened, in time order (UTC)",
                   height: int | None = None) -> go.Figure:
    """One marker per ESP row / trace event, one lane per source and server (`queries.timeline`)."""
    if df.empty:
        return empty_figure("No events", height or 260)
    d = df.copy()
    d["event_time"] = pd.to_datetime(d["event_time"], utc=True).dt.tz_localize(None)
    d["lane"] = [_lane(r) for r in d.itertuples()]
    d = d.sort_values("event_time", kind="stable")
    d["n"] = range(len(d))
    # One label per lane and second ("received → failed"), alternating above and below
    # along the lane, so events logged in the same second stay legible.
    d["second"] = d["event_time"].dt.floor("s")
    d["stage"] = [EVENT_STAGE.get(str(e), 3) for e in d["event"]]
    d = d.sort_values(["second", "stage", "event_time"], kind="stable")
    first = ~d.duplicated(["lane", "second"])
    joined = d.groupby(["lane", "second"])["event"].agg(
        lambda e: " → ".join(dict.fromkeys(str(x) for x in e)))
    d["label"] = [joined[(lane, sec)] if is_first else ""
                  for lane, sec, is_first in zip(d["lane"], d["second"], first, strict=True)]
    slot = d[first].groupby("lane").cumcount().reindex(d.index).ffill().astype(int)
    d["textpos"] = ["top center" if i % 2 == 0 else "bottom center" for i in slot]
    lanes = list(dict.fromkeys(d.sort_values(["side", "event_time"])["lane"]))
    height = height or max(260, 150 + 60 * len(lanes))
    fig = go.Figure()
    for event, part in d.groupby("event", sort=False, dropna=False):
        name = str(event)
        hover = [f"<b>{r.event}</b> · {r.lane}<br>{r.event_time:%Y-%m-%d %H:%M:%S} UTC"
                 f"<br>{r.file_name}, line {r.row_no}"
                 + (f"<br>match: {r.match}" if isinstance(r.match, str) else "")
                 + f"<br>{_wrap(r.detail)}" for r in part.itertuples()]
        fig.add_scatter(
            x=part["event_time"], y=part["lane"], mode="markers+text", name=name,
            text=part["label"], textposition=list(part["textpos"]),
            marker=dict(size=14, color=EVENT_COLORS.get(name, "#8c8c8c"),
                        symbol=["diamond" if s == "ESP" else "circle" for s in part["side"]],
                        line=dict(width=1)),
            customdata=part[["n"]].to_numpy(), hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>")
    # Reversed category axis with room above the first lane for the marker labels.
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=lanes,
                     range=[len(lanes) - 0.3, -0.8], title=None)
    first, last = d["event_time"].min(), d["event_time"].max()
    pad = max((last - first) * 0.05, pd.Timedelta(seconds=30))  # one event: a readable axis
    fig.update_xaxes(title=None, range=[first - pad, last + pad])
    fig = _layout(fig, title, height)
    fig.update_layout(legend=dict(yanchor="bottom", y=1.0, x=1, xanchor="right"))
    return fig


_BUCKET_DELTA = {"minute": pd.Timedelta(minutes=1), "hour": pd.Timedelta(hours=1),
                 "day": pd.Timedelta(days=1)}


def filters_from_point(chart: str, point: Mapping[str, Any],
                       bucket: str = "hour") -> dict[str, Any]:
    """The `Filters` fields a click on one point of `chart` selects (empty if none)."""
    data = point.get("customdata")
    if data is None and not (chart == "category_sunburst" and point.get("id")):
        return {}
    if data is None:
        data = []
    if not isinstance(data, list | tuple):
        data = [data]
    values = dict(zip(CUSTOMDATA.get(chart, ()), data, strict=False))
    out: dict[str, Any] = {}
    if values.get("verdict"):
        out["verdicts"] = (str(values["verdict"]),)
    if values.get("smtp_code") not in (None, ""):
        out["codes"] = (int(values["smtp_code"]),)
    if values.get("domain") and values["domain"] != "other":
        out["domains"] = (str(values["domain"]),)
    if values.get("category"):
        out["categories"] = (str(values["category"]),)
    if chart == "category_sunburst" and not values.get("path") and point.get("id"):
        values["path"] = point["id"]  # Streamlit reports a sunburst slice by its id
    if values.get("path"):
        parts = str(values["path"]).split("/")
        out["categories"] = (parts[0],)
        if len(parts) > 1:
            out["reasons"] = (parts[1],)
        if len(parts) > 2:
            key = "codes" if parts[2].isdigit() else "enhanced"
            out[key] = (int(parts[2]),) if key == "codes" else (parts[2],)
    if chart == "failures_over_time" and point.get("x") and bucket in _BUCKET_DELTA:
        start = pd.Timestamp(point["x"])
        end = start + _BUCKET_DELTA[bucket] - pd.Timedelta(microseconds=1)
        out["since"] = start.strftime("%Y-%m-%dT%H:%M:%S")
        out["until"] = end.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return out
