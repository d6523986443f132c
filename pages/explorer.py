"""Bounce explorer: filter failures by code, domain, category."""

from __future__ import annotations

import streamlit as st

from pages._common import get_store, query

store = get_store()
st.title("Bounce explorer")
rows = query(store, "SELECT recipient, recipient_domain, esp_event, smtp_code, enhanced_code, "
                    "smtp_text, verdict FROM journeys WHERE verdict NOT IN "
                    "('delivered', 'accepted_no_trace') ORDER BY sent_at LIMIT 1000")
if rows.empty:
    st.info("No failures to show. Upload an ESP export on the **Upload** page.")
else:
    st.dataframe(rows, hide_index=True, key="explorer_table")
