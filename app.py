"""Delivery Trace: what happened to every message the ESP says it sent."""

from __future__ import annotations

import streamlit as st

from pages._common import ensure_demo, get_store, sidebar

st.set_page_config(page_title="Delivery Trace", page_icon="📬", layout="wide")

# st.navigation first: it tells Streamlit that this app routes its pages itself (see
# pages/_common._leave_pages_directory_mode), before any page helper runs.
nav = st.navigation(
    {
        "Analyse": [
            st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
            st.Page("pages/explorer.py", title="Bounce explorer", icon=":material/manage_search:"),
            st.Page("pages/message.py", title="Message timeline", icon=":material/timeline:"),
            st.Page("pages/report.py", title="Report", icon=":material/description:"),
        ],
        "Data": [
            st.Page("pages/upload.py", title="Upload", icon=":material/upload_file:"),
            st.Page("pages/guide.py", title="Guide", icon=":material/menu_book:"),
        ],
    }
)
store = get_store()
ensure_demo(store)
sidebar(store)
nav.run()
