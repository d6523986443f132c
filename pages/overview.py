"""Overview: what happened to the campaign, at a glance."""

from __future__ import annotations

import streamlit as st

from pages._common import get_store, query

store = get_store()
st.title("Overview")
verdicts = query(store, "SELECT verdict, count(*) AS journeys FROM journeys "
                        "GROUP BY verdict ORDER BY journeys DESC")
if verdicts.empty:
    st.info("No sends loaded yet. Upload an ESP export on the **Upload** page.")
else:
    total = int(verdicts["journeys"].sum())
    st.metric("Messages (message × recipient)", f"{total:,}")
    st.dataframe(verdicts, hide_index=True, key="overview_verdicts")
