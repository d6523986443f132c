"""Report: preview the stakeholder report for the chosen filters and download it."""

from __future__ import annotations

import re

import streamlit as st

from analysis.export import to_csv_bytes
from analysis.queries import Filters
from analysis.redact import ENV_KEY, resolve_key
from analysis.report import (
    PREVIEW_ROWS,
    ROW_TABLES,
    ReportData,
    build_report,
    report_tables,
    row_table,
)
from analysis.report_html import TILES, render_html, safe_figures
from analysis.report_pdf import charts_zip, pdf_bytes, unavailable_reason
from analysis.report_xlsx import workbook_bytes
from analysis.store import Store
from pages._common import (
    data_version,
    empty_state,
    engine,
    get_store,
    has_journeys,
    on_cursor,
)

REDACT = {"none": "Keep addresses", "mask": "Mask (j***@example.com)",
          "hash": "Keyed hash (h:…@example.com)"}
MAX_OPTIONS = 2000
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def md(text: str) -> str:
    """Text shown literally by st.markdown (a campaign called `![x](http://…)` stays text)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


@st.cache_data(show_spinner=False, max_entries=16)
def _report(_store: Store, version: str, fkey: tuple, mode: str, key: str | None) -> ReportData:
    """The preview: the first PREVIEW_ROWS rows of each row table, cached per filter."""
    return _build(_store, fkey, mode, key, PREVIEW_ROWS)


def _build(store: Store, fkey: tuple, mode: str, key: str | None,
           rows: int | None) -> ReportData:
    return on_cursor(store, build_report, Filters.from_params(dict(fkey)), mode, key,
                     rows=rows)


store = get_store()
st.title("Report")
if not has_journeys(store):
    empty_state("No sends loaded yet, so there is nothing to report.")
    st.stop()

options = engine(store, "queries.filter_options")
with st.expander("Filters", expanded=True):
    c = st.columns(4)
    campaigns = c[0].multiselect("Campaign", options["campaign"], key="report_campaigns",
                                 placeholder="all")
    since = c[1].date_input("Sent on or after", value=None, key="report_since",
                            format="YYYY-MM-DD")
    until = c[2].date_input("Sent on or before", value=None, key="report_until",
                            format="YYYY-MM-DD")
    codes = c[3].multiselect("SMTP code", options["failure_code"], key="report_codes",
                             placeholder="any")
    domains = st.multiselect("Recipient domain", list(options["recipient_domain"])[:MAX_OPTIONS],
                             key="report_domains", placeholder="any", accept_new_options=True)
c1, c2 = st.columns([2, 2])
mode = c1.radio("Addresses in the report", list(REDACT), format_func=REDACT.get,
                key="report_redact", horizontal=True,
                help="Applies to every output: text, tables, chart hovers, Excel, CSV, PDF.")
key = None
if mode == "hash":
    key = resolve_key(c2.text_input(
        "Hash key", type="password", key="report_key",
        help=f"Share it only with whoever must match rows. Default: ${ENV_KEY}.")) or None
    if not key:
        st.info("Enter a key for the keyed hash (the same key gives the same token for the "
                "same address, so two parties can match rows).")
        st.stop()

f = Filters(campaigns=tuple(campaigns), since=since.isoformat() if since else None,
            until=until.isoformat() if until else None, domains=tuple(domains),
            codes=tuple(int(x) for x in codes))
fkey = tuple(sorted(f.to_params().items()))
with st.spinner("Building the report…"):
    data = _report(store, data_version(store), fkey, mode, key)


def whole() -> ReportData:
    """Every row of every table, for the workbook: built when it is downloaded, never
    cached (at 1,000,000 sends the rows take ~1.5 GB in pandas)."""
    return _build(store, fkey, mode, key, None)


def csv_table(name: str) -> bytes:
    """One table as CSV: a row table read whole when downloaded, the others as previewed."""
    if name not in ROW_TABLES:
        return to_csv_bytes(report_tables(data)[name])
    return to_csv_bytes(on_cursor(store, row_table, name, f, mode, key))


st.subheader("Download")
d = st.columns(4)
d[0].download_button("HTML report", key="report_dl_html", on_click="ignore",
                     data=lambda: render_html(data).encode("utf-8"),
                     file_name="delivery-report.html", mime="text/html",
                     help="One file that works offline; print it to PDF from the browser.")
d[1].download_button("Excel workbook", key="report_dl_xlsx", on_click="ignore",
                     data=lambda: workbook_bytes(whole()), file_name="delivery-report.xlsx",
                     mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
why_not = unavailable_reason()
if why_not is None:
    d[2].download_button("PDF report", key="report_dl_pdf", on_click="ignore",
                         data=lambda: pdf_bytes(data), file_name="delivery-report.pdf",
                         mime="application/pdf", help="Printed by the server's Chromium.")
    d[3].download_button("Charts (PNG, zip)", key="report_dl_png", on_click="ignore",
                         data=lambda: charts_zip(data), file_name="delivery-report-charts.zip",
                         mime="application/zip")
else:
    d[2].caption(f"PDF and PNG export are not available here: {why_not}. Download the HTML "
                 "report and use the browser's Print → Save as PDF.")
tables = report_tables(data)
t1, t2 = st.columns([2, 2])
table = t1.selectbox("Table as CSV", list(tables), key="report_csv_table",
                     format_func=lambda n: n.replace("_", " "))
rows = data.total(table) if table in ROW_TABLES else len(tables[table])
t2.download_button(f"CSV: {table.replace('_', ' ')}" + ("" if rows is None else f" ({rows:,} rows)"),
                   key="report_dl_csv", on_click="ignore",
                   data=lambda: csv_table(table),
                   file_name=f"delivery-report-{table}.csv", mime="text/csv")

st.subheader("Preview")
st.caption(md(" · ".join(data.filters) or "No filters: every campaign, date, domain and code.")
           + "  \n" + md(data.redaction_note))
with st.container(border=True, key="report_summary"):
    s = data.summary
    st.markdown(f"**{md(s.headline)}**")
    for p in s.paragraphs:
        st.markdown(md(p))
    if s.causes:
        st.markdown("**Top causes**\n\n" + "\n".join(f"* {md(x)}" for x in s.causes))
    if s.actions:
        st.markdown("**What to do first**\n\n"
                    + "\n".join(f"{i}. {md(a)}" for i, a in enumerate(s.actions, 1)))
sent = data.kpis.get("sent", 0) or 0
for row in (TILES[:4], TILES[4:8], TILES[8:]):
    for col, (k, label, _) in zip(st.columns(4), row, strict=True):
        v = data.kpis.get(k, 0)
        shown = f"{v:.0%}" if k == "match_rate" else f"{int(v):,}" + (
            f" · {v / sent:.0%}" if sent and k != "sent" else "")
        col.metric(label, shown, border=True)
for name, fig in safe_figures(data).items():
    st.plotly_chart(fig, key=f"report_chart_{name}")
