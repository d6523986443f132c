"""charts.py: figures from query frames, empty frames, and click -> filter mapping."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from analysis import charts
from analysis.queries import Filters

BY_CODE = pd.DataFrame({"smtp_code": [550, 550, 452], "category": [
    "invalid_address", "authentication", "mailbox_unavailable"], "failures": [3, 1, 1],
    "enhanced_codes": ["5.1.1, 5.4.1", "5.7.26", "4.2.2"]})
BY_DOMAIN = pd.DataFrame({"domain": ["a.example", "b.example", "other", "a.example"],
                          "category": ["invalid_address", "throttling", "unknown",
                                       "authentication"], "failures": [4, 2, 1, 1]})


def test_failures_by_code_stacks_categories_with_enhanced_codes_on_hover() -> None:
    fig = charts.chart_failures_by_code(BY_CODE)
    assert [t.name for t in fig.data] == ["invalid address", "mailbox unavailable",
                                          "authentication"]  # CATEGORY_ORDER, short labels
    assert fig.layout.barmode == "stack"
    inv = fig.data[0]
    assert list(inv.x) == ["550"] and list(inv.y) == [3]
    assert list(inv.customdata[0]) == [550, "invalid_address", "5.1.1, 5.4.1"]
    assert "enhanced codes" in inv.hovertemplate
    assert inv.marker.color == charts.CATEGORY_COLORS["invalid_address"]


def test_domains_put_other_last_and_the_heatmap_leaves_empty_cells_blank() -> None:
    fig = charts.chart_failures_by_domain(BY_DOMAIN)
    assert list(fig.layout.yaxis.categoryarray) == ["a.example", "b.example", "other"]
    heat = charts.chart_domain_heatmap(BY_DOMAIN)
    z = heat.data[0].z
    assert z[0][0] == 4 and pd.isna(z[1][0])  # b.example has no invalid_address failures
    overlay = heat.data[1]  # the clickable markers on non-empty cells
    assert [list(c) for c in overlay.customdata] == [
        ["a.example", "invalid_address", 4], ["a.example", "authentication", 1],
        ["b.example", "throttling", 2], ["other", "unknown", 1]]


@pytest.mark.parametrize("fn", [charts.chart_failures_by_code, charts.chart_failures_by_domain,
                                charts.chart_domain_heatmap, charts.chart_failures_over_time,
                                charts.chart_domain_incidents, charts.chart_category_sunburst,
                                charts.chart_timeline, charts.chart_verdicts])
def test_an_empty_frame_gives_a_figure_with_a_message(fn) -> None:
    fig = fn(pd.DataFrame())
    assert isinstance(fig, go.Figure) and not fig.data
    assert fig.layout.annotations[0].text


def test_funnel_and_sunburst_values() -> None:
    k = {"sent": 10, "accepted": 8, "delivered": 7, "inbox": 5}
    assert list(charts.chart_funnel(k).data[0].x) == [10, 8, 7, 5]
    tree = pd.DataFrame({"category": ["invalid_address", "invalid_address"],
                         "reason": ["userunknown", "userunknown"], "code": ["5.1.1", "5.4.1"],
                         "failures": [2, 1]})
    sun = charts.chart_category_sunburst(tree).data[0]
    values = dict(zip(sun.ids, sun.values, strict=True))
    assert values == {"invalid_address": 3, "invalid_address/userunknown": 3,
                      "invalid_address/userunknown/5.1.1": 2,
                      "invalid_address/userunknown/5.4.1": 1}


def test_timeline_has_a_lane_per_source_and_server() -> None:
    df = pd.DataFrame({
        "event_time": pd.to_datetime(["2025-11-04 09:00:14Z", "2025-11-04 09:00:14Z",
                                      "2025-11-04 09:00:15Z"]),
        "side": ["ESP", "trace", "trace"], "source": ["touchbasepro_csv", "exchange_msgtrk",
                                                     "exchange_msgtrk"],
        "file_name": ["a.csv", "b.log", "b.log"], "row_no": [2, 7, 9],
        "event": ["delivered", "received", "bounced"], "smtp_code": [250, None, 550],
        "enhanced_code": ["2.6.0", None, "5.1.1"],
        "detail": ["250 ok", None, "550 5.1.1 <not@found>"], "server": [None, "EXCH01", "EXCH01"],
        "match": [None, "exact", "exact"], "raw": [None, "raw", "raw"]})
    fig = charts.chart_timeline(df)
    assert list(fig.layout.yaxis.categoryarray) == ["ESP · touchbasepro_csv",
                                                    "EXCH01 · exchange_msgtrk"]
    labels = {t.name: (list(t.text), list(t.textposition)) for t in fig.data}
    assert labels["bounced"] == (["bounced"], ["bottom center"])  # 2nd label on its lane
    same_second = df.assign(event_time=df["event_time"].where(df["row_no"] != 9,
                                                              df["event_time"].iloc[1]))
    texts = [x for t in charts.chart_timeline(same_second).data for x in t.text]
    assert "received → bounced" in texts and "" in texts  # one label per lane and second
    hover = " ".join(h for t in fig.data for h in t.hovertext)
    assert "&lt;not@found&gt;" in hover and "b.log, line 9" in hover


@pytest.mark.parametrize(("chart", "point", "expected"), [
    ("failures_by_code", {"customdata": [550, "invalid_address", "5.1.1"]},
     {"codes": (550,), "categories": ("invalid_address",)}),
    ("failures_by_domain", {"customdata": ["other", "throttling"]},
     {"categories": ("throttling",)}),
    ("domain_heatmap", {"customdata": ["a.example", "authentication"]},
     {"domains": ("a.example",), "categories": ("authentication",)}),
    ("category_sunburst", {"customdata": ["invalid_address/userunknown/5.1.1"]},
     {"categories": ("invalid_address",), "reasons": ("userunknown",), "enhanced": ("5.1.1",)}),
    ("category_sunburst", {"id": "authentication/authfailure", "label": "authfailure"},
     {"categories": ("authentication",), "reasons": ("authfailure",)}),
    ("category_sunburst", {"customdata": ["spam_or_reputation/spamdetected/550"]},
     {"categories": ("spam_or_reputation",), "reasons": ("spamdetected",), "codes": (550,)}),
    ("verdicts", {"customdata": ["junk"]}, {"verdicts": ("junk",)}),
    ("domain_incidents", {"customdata": ["b.example", "throttling", 3]},
     {"domains": ("b.example",)}),
    ("failures_over_time", {"customdata": ["connectivity"], "x": "2025-11-04 09:00"},
     {"categories": ("connectivity",), "since": "2025-11-04T09:00:00",
      "until": "2025-11-04T09:59:59.999999"}),
    ("failures_by_code", {}, {}),
])
def test_a_click_becomes_explorer_filters(chart, point, expected) -> None:
    changes = charts.filters_from_point(chart, point, "hour")
    assert changes == expected
    Filters().with_(**changes).where()  # valid Filters values
