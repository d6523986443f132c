"""Names of the page queries measured (kept apart so the runner need not import the engine)."""

# Every engine call behind the Overview and the Bounce explorer (pages/overview.py,
# pages/explorer.py), plus find_journeys (message search).
QUERY_NAMES = ("campaigns", "kpis", "time_span", "verdict_counts", "failures_by_code",
               "failures_by_domain", "domain_category_matrix", "failures_over_time",
               "domain_incidents", "category_tree", "filter_options", "explorer_count",
               "explorer_rows", "find_journeys", "unclassified_templates")
FILTERED = ("explorer_count", "explorer_rows")  # also measured with a typical filter
