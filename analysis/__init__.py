"""Delivery Trace engine: ingest, classify, join and report. Never imports streamlit."""

__version__ = "0.1.0"
