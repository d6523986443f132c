"""Report: share the findings."""

from __future__ import annotations

import streamlit as st

st.title("Report")
st.info("Reports are built by the report module; see the README's Reports section.")
