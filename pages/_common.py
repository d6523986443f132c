"""Shared page plumbing: the cached store, cached engine calls, the sidebar. Not a page."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from analysis import settings
from analysis.errors import DeliveryTraceError
from analysis.queries import Filters
from analysis.store import Store

# Engine modules a page may call through `engine()` (module name -> import path).
ENGINE_MODULES = {"queries": "analysis.queries", "classify": "analysis.classify",
                  "journeys": "analysis.journeys"}
UPLOAD_HINT = ("Go to **Upload** and add your ESP's activity or bounce export (TouchBasePro / "
               "Campaign Monitor CSV or XLSX, SendGrid, Mailgun, SES, Mailchimp, Postmark), "
               "then the recipient servers' message traces — the **Guide** says how to get them.")


@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> Store:
    return Store(path)


def _leave_pages_directory_mode() -> None:
    """Rerun through app.py when Streamlit ran a page file directly (first request a deep link).

    A fresh server whose first request is e.g. /explorer?codes=550 finds a `pages/` folder,
    runs pages/explorer.py on its own (Streamlit's v1 multipage mode: no app.py, no
    st.navigation, no sidebar) and stays in that mode until st.navigation is called —
    which app.py never gets to do. Streamlit's advice is to rename pages/ (streamlit/
    streamlit#9624; the hybrid warning in commands/navigation.py); DESIGN.md fixes the
    folder name, so switch the mode off and rerun, which keeps the URL and its page.
    app.py calls st.navigation before any helper, so a normal run never gets here.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the v1 fallback
        return
    # Only on a session's first run: a rerun then loses no widget event. (AppTest resets the
    # mode before every run and switches pages this way; its sessions already have state.)
    if getattr(PagesManager, "uses_pages_directory", False) and len(st.session_state) == 0:
        PagesManager.uses_pages_directory = False
        st.rerun()


def get_store() -> Store:
    """The workspace of this app process (one connection, shared by every session)."""
    _leave_pages_directory_mode()
    return _open_store(settings.workspace_path(os.environ.get(settings.ENV_WORKSPACE)))


def data_version(store: Store) -> str:
    """Names the workspace and changes whenever its data changes; part of every cache key."""
    return f"{store.path}#{store.last_import_id()}"


def ensure_demo(store: Store) -> None:
    """Load the demo campaign into a workspace that has never held data."""
    if store.get_meta("demo_offered") is not None:
        return
    store.set_meta("demo_offered", "yes")
    if not store.is_empty():
        return
    try:
        from analysis import demo
    except ImportError:  # the demo module has not landed in this build
        return

    with st.spinner("First start: loading the demo campaign…"):
        try:
            demo.load_demo(store)
        except DeliveryTraceError as e:
            st.error(f"The demo data could not be loaded: {e}")


@st.cache_data(show_spinner=False, max_entries=256)
def cached_df(_store: Store, version: str, sql: str, params: tuple = ()) -> pd.DataFrame:
    """A read query's result, cached per data version and parameters."""
    return _store.df(sql, list(params))


def query(store: Store, sql: str, params: tuple = ()) -> pd.DataFrame:
    """A read query's result, cached until the data changes."""
    return cached_df(store, data_version(store), sql, params)


def has_engine(name: str) -> bool:
    """Whether `module.function` exists in this build (features that land later)."""
    module, _, func = name.partition(".")
    try:
        mod = importlib.import_module(ENGINE_MODULES[module])
    except (KeyError, ImportError):
        return False
    return callable(getattr(mod, func, None))


def on_cursor(store: Store, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """fn(cursor, *args, **kwargs) on a cursor of its own, closed afterwards (a download's
    data callback runs later, on another thread than the page's script)."""
    con = store.cursor()
    try:
        return fn(con, *args, **kwargs)
    finally:
        con.close()


@st.cache_data(show_spinner=False, max_entries=1024)
def _cached_engine(_store: Store, version: str, name: str, fkey: tuple | None, args: tuple,
                   kwargs: tuple) -> Any:
    module, _, func = name.partition(".")
    fn = getattr(importlib.import_module(ENGINE_MODULES[module]), func)
    if fkey is not None:
        args = (Filters.from_params(dict(fkey)), *args)
    return on_cursor(_store, fn, *args, **dict(kwargs))


def engine(store: Store, name: str, *args: Any, filters: Filters | None = None,
           **kwargs: Any) -> Any:
    """`module.function(cursor, [filters], *args, **kwargs)`, cached per data version + filters."""
    fkey = None if filters is None else tuple(sorted(filters.to_params().items()))
    return _cached_engine(store, data_version(store), name, fkey, tuple(args),
                          tuple(sorted(kwargs.items())))


def has_journeys(store: Store) -> bool:
    """Whether any ESP send has been loaded (the analysis pages need one)."""
    return int(query(store, "SELECT count(*) AS n FROM journeys")["n"].iloc[0]) > 0


def empty_state(what: str) -> None:
    """Tell the user the page has nothing to show yet and what to upload."""
    st.info(f"{what} {UPLOAD_HINT}", icon=":material/upload_file:")
    st.page_link("pages/upload.py", label="Upload files", icon=":material/upload_file:")


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
