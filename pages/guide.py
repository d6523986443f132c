"""Guide: how to get traces from each server type, SMTP codes, causes and remedies."""

from __future__ import annotations

import streamlit as st

from analysis import guide_content

st.title("Guide")
st.write("How to get a message trace from the recipient's mail server and export it for "
         "upload, what each SMTP code means, and what to do about each kind of failure.")

pages = guide_content.sections()
traces = [p for p in pages if p.slug != "remedies"]
remedies = next((p for p in pages if p.slug == "remedies"), None)

tab_trace, tab_codes, tab_fix = st.tabs(["Get a message trace", "SMTP code reference",
                                         "Causes and remedies"])
with tab_trace:
    choice = st.radio("Recipient's mail system", [p.title for p in traces], horizontal=True,
                      key="guide_server")
    page = next(p for p in traces if p.title == choice)
    st.markdown(page.body)
    st.caption("Then open **Upload**, add the ESP export and the trace files together, and "
               "choose the time zone of files whose times carry no offset.")

with tab_codes:
    needle = st.text_input("Search codes", key="guide_search",
                           placeholder="e.g. 550, 5.7.26, 4.2, mailbox full, dmarc")
    ref = guide_content.search_codes(needle)
    st.caption(f"{len(ref):,} code{'' if len(ref) == 1 else 's'}. *usually* and *category* are "
               "what Delivery Trace's rules "
               "make of the bare code; the reply text can change it.")
    st.dataframe(ref, hide_index=True, key="guide_codes",
                 column_config={"meaning": st.column_config.TextColumn(width="large")})

with tab_fix:
    if remedies is None:
        st.info("The causes-and-remedies page is missing from docs/guide/.")
    else:
        st.markdown(remedies.body)
