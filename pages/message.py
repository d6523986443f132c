"""Message timeline: one message's path across the ESP and every trace."""

from __future__ import annotations

import streamlit as st

from pages._common import get_store, query

store = get_store()
st.title("Message timeline")
needle = st.text_input("Find by recipient, message ID or queue ID", key="message_find")
if needle:
    found = query(store, "SELECT journey_id, recipient, remote_id, verdict FROM journeys "
                         "WHERE recipient = lower(?) OR remote_id = ? LIMIT 50",
                  (needle.strip(), needle.strip()))
    st.dataframe(found, hide_index=True, key="message_found")
