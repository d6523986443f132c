"""Upload: add ESP exports and trace files, check what was detected, see what was rejected."""

from __future__ import annotations

import json
import zoneinfo

import pandas as pd
import streamlit as st

from analysis import sources
from analysis.sources._base import ParseOptions
from analysis.sources._espmap import MAPPABLE, REQUIRED, auto_mapping
from pages._common import get_store, query

UPLOAD_TYPES = ["csv", "tsv", "txt", "log", "xlsx", "json", "jsonl", "ndjson", "gz", "zip", "eml"]
AUTO = "(detect)"
COMMON_ZONES = ["UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "Africa/Johannesburg",
                "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Kolkata",
                "Asia/Singapore", "Australia/Sydney"]

store = get_store()
st.title("Upload")
st.write("Add the ESP's activity or bounce export and the recipient servers' message traces. "
         "Files can be CSV, TSV, logs, XLSX, JSON, e-mails (.eml), or .gz/.zip archives of them.")

zones = COMMON_ZONES + sorted(z for z in zoneinfo.available_timezones() if z not in COMMON_ZONES)
col_tz, col_year = st.columns([2, 1])
tz = col_tz.selectbox(
    "Time zone of timestamps that carry no offset", zones, key="upload_tz",
    help="ESP exports are usually in the account's time zone; syslog files in the server's. "
         "Files that state their zone (UTC stamps, offsets) ignore this.")
year_text = col_year.text_input("Year of year-less syslog lines (optional)", key="upload_year",
                                 placeholder="from the data")
year = int(year_text) if year_text.strip().isdigit() else None
if year_text.strip() and year is None:
    st.error("The year must be a number such as 2025.")

uploads = st.file_uploader(
    "Export files", type=UPLOAD_TYPES, accept_multiple_files=True, key="upload_files",
    help=f"Up to {st.get_option('server.maxUploadSize'):,} MB per file "
         "(server.maxUploadSize in .streamlit/config.toml). Archives may unpack to at most "
         f"{store.limits.max_expanded_bytes / 1024**3:g} GiB; see docs/security.md.")
if uploads:
    items = [(u.name, u.getvalue()) for u in uploads]
    format_names = [AUTO] + [s.NAME for s in sources.formats()]
    plan: list[tuple[tuple[str, bytes], str | None, dict[str, str] | None]] = []
    st.subheader("Detected formats")
    for i, item in enumerate(items):
        found = sources.inspect([item])
        with st.container(border=True):
            for ins in found:
                if ins.error:
                    st.error(ins.error)
                elif ins.best:
                    st.write(f"**{ins.name}** — {ins.best.format} "
                             f"({ins.best.confidence:.0%} confident, {ins.best.side} side)")
                else:
                    st.warning(f"**{ins.name}** — not recognised. Map its columns below, "
                               "or choose a format.")
            choice = st.selectbox("Format", format_names, key=f"upload_format_{i}",
                                  help="Override the detected format for this file.")
            fmt = None if choice == AUTO else choice
            mapping = None
            unrecognised = found and not found[0].error and found[0].best is None
            headers = list(found[0].headers) if found else []
            if (choice == "mapped" or unrecognised) and headers:
                st.caption("Column mapping (fields marked * are required)")
                saved = store.mapping_names()
                use_saved = st.selectbox("Saved mapping", ["(none)"] + saved,
                                         key=f"upload_saved_mapping_{i}")
                if use_saved != "(none)":
                    mapping = store.mapping(use_saved)
                else:
                    guess = auto_mapping(headers)
                    cols = st.columns(3)
                    mapping = {}
                    for j, field in enumerate(MAPPABLE):
                        label = field + (" *" if field in REQUIRED else "")
                        options = ["—"] + headers
                        default = options.index(guess[field]) if field in guess else 0
                        picked = cols[j % 3].selectbox(label, options, index=default,
                                                       key=f"upload_map_{i}_{field}")
                        if picked != "—":
                            mapping[field] = picked
                    save_name = st.text_input("Save this mapping as", key=f"upload_map_name_{i}")
                    if st.button("Save mapping", key=f"upload_map_save_{i}") and save_name:
                        store.save_mapping(save_name, mapping)
                        st.success(f"Saved mapping “{save_name}”.")
                fmt = "mapped"
            plan.append((item, fmt, mapping))

    if st.button("Load files", type="primary", key="upload_load"):
        bar = st.progress(0.0, text="Starting…")
        results = []
        for n, (item, fmt, mapping) in enumerate(plan):
            def progress(frac: float, msg: str, n: int = n) -> None:
                bar.progress(min((n + frac) / len(plan), 1.0), text=msg)

            opts = ParseOptions(tz=tz, year=year, mapping=mapping)
            results += store.load_files([item], format=fmt, opts=opts, origin="upload",
                                        progress=progress)
        bar.progress(1.0, text="Done")
        st.cache_data.clear()
        st.session_state["upload_results"] = [r.as_dict() for r in results]
        st.rerun()  # so the sidebar and every cached view show the new data

if st.session_state.get("upload_results"):
    st.subheader("Result")
    res = pd.DataFrame(st.session_state["upload_results"])
    for r in st.session_state["upload_results"]:
        if r["error"]:
            st.error(r["error"])
        elif r["skipped"]:
            st.info(f"{r['file']}: already loaded — nothing added.")
        else:
            st.success(f"{r['file']}: {r['format']} — {r['rows_loaded']:,} rows loaded, "
                       f"{r['rows_rejected']:,} rejected.")
        notes = {k: v for k, v in (r.get("notes") or {}).items() if k not in ("mapping", "message")}
        for warning in sources.note_warnings(notes) if not r["error"] else ():
            st.warning(f"{r['file']}: {warning}")
        shown = {k: v for k, v in notes.items()
                 if k not in sources.WARNING_NOTES and not isinstance(v, (dict, list))}
        if shown and not r["error"]:
            st.caption(f"{r['file']}: " + ", ".join(f"{k.replace('_', ' ')}: {v}"
                                                    for k, v in shown.items()))
    st.dataframe(res[["file", "format", "side", "rows_read", "rows_loaded", "rows_rejected",
                      "skipped", "tz"]], hide_index=True, key="upload_result_table")

st.subheader("Loaded files")
imports = query(store, "SELECT import_id, file_name, format, side, rows_read, rows_loaded, "
                       "rows_rejected, tz, origin, imported_at, notes FROM imports "
                       "ORDER BY import_id")
if imports.empty:
    st.info("No files loaded yet.")
else:
    st.dataframe(imports.drop(columns=["notes"]), hide_index=True, key="upload_imports_table")
    ids = imports["import_id"].tolist()
    labels = {int(r.import_id): f"{r.import_id}: {r.file_name}" for r in imports.itertuples()}
    col_a, col_b = st.columns(2)
    with col_a:
        chosen = st.selectbox("Rejected rows of", ids, format_func=lambda i: labels[int(i)],
                              key="upload_rejected_of")
        rej = query(store, "SELECT row_no, error, raw FROM rejected_rows WHERE import_id = ? "
                           "ORDER BY row_no LIMIT 1000", (int(chosen),))
        if rej.empty:
            st.caption("No rejected rows in this file.")
        else:
            st.dataframe(rej, hide_index=True, key="upload_rejected_table")
        note = imports.loc[imports["import_id"] == chosen, "notes"].iloc[0]
        if note and note not in ("{}", "null"):
            with st.expander("Parser notes (skipped and unknown lines, mapping)"):
                st.json(json.loads(note))
    with col_b:
        to_delete = st.multiselect("Delete imports", ids, format_func=lambda i: labels[int(i)],
                                   key="upload_delete_ids")
        if st.button("Delete selected", key="upload_delete", disabled=not to_delete):
            for i in to_delete:
                store.delete_import(int(i))
            st.cache_data.clear()
            st.rerun()

st.subheader("Forget this data")
if store.in_memory:
    st.caption("This workspace is kept **in memory only** (DELIVERY_TRACE_WORKSPACE=:memory:): "
               "nothing loaded is written to disk, and it is gone when the app stops.")
else:
    st.caption(f"Everything loaded here is stored on this machine in `{store.path}`, shared by "
               "everyone using this app. Forgetting deletes that file and starts a new, empty "
               "one (the demo stays off); to keep nothing on disk at all, start the app with "
               "`DELIVERY_TRACE_WORKSPACE=:memory:`.")
confirm = st.checkbox("Delete every loaded file, mapping and result, for every user of this app",
                      key="upload_forget_confirm")
if st.button("Forget all data", key="upload_forget", disabled=not confirm):
    removed = store.forget()
    st.cache_data.clear()
    st.cache_resource.clear()  # the next get_store() opens a new, empty workspace
    get_store().set_meta("demo_offered", "yes")  # forgetting must not bring the demo back
    st.session_state.pop("upload_results", None)
    st.session_state["upload_forgotten"] = removed
    st.rerun()
gone = st.session_state.pop("upload_forgotten", None)
if gone is not None:
    st.success("Forgotten: " + (", ".join(gone) if gone else "the in-memory workspace was "
                                "dropped") + ". The workspace is empty now.")
