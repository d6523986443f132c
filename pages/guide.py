"""Guide: how to get traces from each server type and what SMTP codes mean."""

from __future__ import annotations

import streamlit as st

st.title("Guide")
st.write("How to export message traces and what each SMTP code means.")
