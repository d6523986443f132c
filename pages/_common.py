"""Shared page plumbing: the cached store, cached queries, the sidebar. Not a page."""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from analysis import settings
from analysis.errors import DeliveryTraceError
from analysis.store import Store


@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> Store:
    return Store(path)


def get_store() -> Store:
    """The workspace of this app process (one connection, shared by every session)."""
    return _open_store(settings.workspace_path(os.environ.get(settings.ENV_WORKSPACE)))


def data_version(store: Store) -> int:
    """Changes whenever the loaded data changes; part of every cache key."""
    return store.last_import_id()


def ensure_demo(store: Store) -> None:
    """Load the demo campaign into a workspace that has never held data."""
    if store.get_meta("demo_offered") is not None:
        return
    store.set_meta("demo_offered", "yes")
    if not store.is_empty():
        return
    from analysis import demo

    with st.spinner("First start: loading the demo campaign…"):
        try:
            demo.load_demo(store)
        except DeliveryTraceError as e:
            st.error(f"The demo data could not be loaded: {e}")


@st.cache_data(show_spinner=False, max_entries=256)
def cached_df(_store: Store, version: int, sql: str, params: tuple = ()) -> pd.DataFrame:
    """A read query's result, cached per data version and parameters."""
    return _store.df(sql, list(params))


def query(store: Store, sql: str, params: tuple = ()) -> pd.DataFrame:
    return cached_df(store, data_version(store), sql, params)


def sidebar(store: Store) -> None:
    """Workspace, what is loaded, and the demo notice."""
    with st.sidebar:
        st.caption(f"Workspace: `{store.path}`")
        imports = query(store, "SELECT side, count(*) AS files, sum(rows_loaded) AS rows "
                               "FROM imports GROUP BY side ORDER BY side")
        if imports.empty:
            st.info("Nothing loaded yet. Go to **Upload** to add an ESP export and traces.")
        else:
            labels = {"esp": "ESP exports", "trace": "Trace files"}
            for row in imports.itertuples():
                st.caption(f"{labels.get(row.side, row.side)}: {row.files} files, "
                           f"{int(row.rows):,} rows")
        if store.has_demo():
            st.warning("Showing **demo data** (an invented campaign).")
            if st.button("Clear demo data", key="sidebar_clear_demo"):
                store.clear(origin="demo")
                st.cache_data.clear()
                st.rerun()
