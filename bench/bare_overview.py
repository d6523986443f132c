"""Baseline page for the Overview's first render: bare Streamlit drawing the same figures.

`bench.browser` writes the Overview's 8 Plotly figures (built by analysis.charts from the
benchmark workspace) to the JSON file named by BENCH_FIGURES and runs this script with
`streamlit run`: a title, 12 metric tiles and the 8 charts in the Overview's layout, with no
engine, no queries, no widgets and no sidebar. What it costs to draw is what Streamlit and
Plotly cost in this Chromium on this machine; the Overview cannot draw faster than this.
"""

import json
import os

import plotly.io as pio
import streamlit as st

st.set_page_config(page_title="Baseline", layout="wide")
with open(os.environ["BENCH_FIGURES"], encoding="utf-8") as f:
    figures = json.load(f)
st.title("Overview")
for row in range(3):
    for i, col in enumerate(st.columns(4)):
        col.metric(f"tile {row * 4 + i + 1}", f"{(row * 4 + i) * 1000:,}", border=True)
pairs, single = figures[:6], figures[6:]
for left_fig, right_fig in zip(pairs[::2], pairs[1::2], strict=True):
    left, right = st.columns(2)
    with left:
        st.plotly_chart(pio.from_json(left_fig))
    with right:
        st.plotly_chart(pio.from_json(right_fig))
for fig in single:
    st.plotly_chart(pio.from_json(fig))
