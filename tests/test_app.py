"""The app as a user meets it (AppTest): first start, every page, an upload."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.store import Store
from tests.conftest import SAMPLES

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["pages/overview.py", "pages/explorer.py", "pages/message.py", "pages/report.py",
         "pages/upload.py", "pages/guide.py"]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace with the sample ESP export, marked so the demo is not loaded."""
    path = tmp_path / "ws.duckdb"
    store = Store(path)
    store.set_meta("demo_offered", "yes")
    store.close()
    monkeypatch.setenv("DELIVERY_TRACE_WORKSPACE", str(path))
    return path


def run(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    if page:
        at.switch_page(page).run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_workspace(workspace: Path, page: str) -> None:
    at = run(page)
    assert not at.exception, at.exception


def test_upload_page_loads_a_file(workspace: Path) -> None:
    at = run("pages/upload.py")
    data = (SAMPLES / "esp" / "touchbasepro_activity.csv").read_bytes()
    at.selectbox(key="upload_tz").select("Africa/Johannesburg").run()
    at.file_uploader(key="upload_files").set_value(
        ("touchbasepro_activity.csv", data, "text/csv")).run()
    assert not at.exception, at.exception
    assert any("touchbasepro_csv" in m.value for m in at.markdown)
    at.button(key="upload_load").click().run()
    assert not at.exception, at.exception
    assert any("28 rows loaded, 0 rejected" in s.value for s in at.success)
    table = next(d.value for d in at.dataframe if "import_id" in d.value.columns)
    assert table["rows_loaded"].tolist() == [28]
    assert table["tz"].tolist() == ["Africa/Johannesburg"]
    # A new session's sidebar says what is loaded, and the overview counts the journeys.
    fresh = run()  # the default page is the overview
    assert any("ESP exports: 1 files, 28 rows" in c.value for c in fresh.sidebar.caption), [c.value for c in fresh.sidebar.caption] + [str(fresh.exception)]
    assert fresh.metric[0].value == "18"


def test_upload_page_says_how_to_export_exchange_recipients(workspace: Path) -> None:
    """Plain Export-Csv writes 'System.String[]' for every recipient: the rows load, and the
    page says which command keeps them (exchange_onprem.md 2.2)."""
    at = run("pages/upload.py")
    data = (SAMPLES / "exchange" / "get-messagetrackinglog_export.csv").read_bytes()
    at.file_uploader(key="upload_files").set_value(
        ("tracking.csv", data, "text/csv")).run()
    at.button(key="upload_load").click().run()
    assert not at.exception, at.exception
    assert any("16 rows loaded, 0 rejected" in s.value for s in at.success)
    (warning,) = [w.value for w in at.warning if "System.String[]" in w.value]
    assert warning.startswith("tracking.csv: 16 rows name their recipients")
    assert "$_.Recipients -join ';'" in warning
    # The warning replaces the raw note; the other notes stay in the caption.
    (caption,) = [c.value for c in at.caption if c.value.startswith("tracking.csv: ")]
    assert "records: 16" in caption and "recipients not exported" not in caption


def test_upload_page_rejects_garbage_with_a_message(workspace: Path) -> None:
    at = run("pages/upload.py")
    at.file_uploader(key="upload_files").set_value(
        ("garbage.csv", bytes(range(256)) * 4, "text/csv")).run()
    at.button(key="upload_load").click().run()
    assert not at.exception, at.exception
    assert any("garbage.csv" in e.value and "binary data" in e.value for e in at.error)



def test_first_start_loads_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A workspace that never held data gets the demo, once (clearing it: test_browser.py,
    as AppTest drops the sidebar on reruns of an st.navigation app)."""
    path = tmp_path / "fresh.duckdb"
    monkeypatch.setenv("DELIVERY_TRACE_WORKSPACE", str(path))
    at = run()
    assert not at.exception, at.exception
    assert any("demo data" in w.value for w in at.sidebar.warning)
    assert any(c.value.startswith("Trace files: ") for c in at.sidebar.caption)
    assert [t.value for t in at.title] == ["Overview"]
    assert not at.error, [e.value for e in at.error]
