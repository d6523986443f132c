"""Two users in two browser contexts (two Streamlit sessions of one app process) uploading
and deleting on the Upload page at the same moment leave a consistent workspace
(tests/test_concurrency.py says what "consistent" means and checks it with threads).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.sources._base import ParseOptions
from analysis.store import Store
from tests.conftest import SAMPLE_TZ, SAMPLES
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, start_app, stop_app
from tests.test_concurrency import (
    Item,
    assert_consistent,
    assert_same_views,
    reference_views,
    views,
)
from tests.test_pages import october_campaign

pytestmark = pytest.mark.browser
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

ESP = "esp/touchbasepro_activity.csv"
DOOMED = ["office365/get-messagetrace_export.csv", "google/email_log_search_export.csv"]
A_FILES = ["exchange/get-messagetrackinglog_export.csv"]
B_FILES = ["posix/postfix_syslog.log", "posix/postfix_maillog_file.log"]


def _page(browser, url: str, errors: list[str]):
    """A page in a context of its own (its own cookies, so its own app session)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(url)
               else route.abort())
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def _idle(page) -> None:
    """Wait until this session's script run has finished (no "Running..." widget)."""
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")


def _open_upload(page, url: str) -> None:
    page.goto(url + "/upload")
    page.get_by_text("Export files").first.wait_for()
    _idle(page)


def _prepare_upload(page, url: str, tz: str, files: list[Path]) -> None:
    """Open the Upload page, pick the zone, drop the files; stop before pressing Load."""
    _open_upload(page, url)
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Time zone")
    box.click()
    page.keyboard.type(tz)
    page.keyboard.press("Enter")
    assert box.locator("input").input_value() == tz
    _idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(files)
    for f in files:
        page.get_by_text(f"{f.name} — ").first.wait_for()
    _idle(page)


def _button(page, label: str):
    return page.locator('[data-testid="stButton"]').filter(has_text=label).locator("button")


def _wait_loaded(page, files: list[Path]) -> None:
    for f in files:
        page.locator('[data-testid="stAlertContentSuccess"]').filter(
            has_text=f"{f.name}:").filter(has_text="rows loaded").first.wait_for()


def _choose_for_delete(page, label: str) -> None:
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Delete imports")
    box.click()
    page.keyboard.type(label)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    box.get_by_text(label).wait_for()
    _idle(page)


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("no /usr/bin/chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_two_browser_sessions_uploading_and_deleting_at_once(browser, tmp_path: Path) -> None:
    workspace = tmp_path / "ws.duckdb"
    october = tmp_path / "october.csv"
    october.write_bytes(october_campaign())
    items = {Path(rel).name: Item(Path(rel).name, (SAMPLES / rel).read_bytes(),
                                  SAMPLE_TZ.get(rel, "UTC"))
             for rel in [ESP, *DOOMED, *A_FILES, *B_FILES]}
    items[october.name] = Item(october.name, october.read_bytes(), SAMPLE_TZ[ESP])
    store = Store(workspace)
    store.set_meta("demo_offered", "yes")
    for rel in [ESP, *DOOMED]:
        (r,) = store.load_files([SAMPLES / rel], opts=ParseOptions(tz=SAMPLE_TZ.get(rel, "UTC")))
        assert r.ok
    doomed = {name: int(i) for name, i in zip(store.imports()["file_name"],
                                              store.imports()["import_id"], strict=True)}
    store.close()

    proc, url = start_app(workspace, tmp_path / "streamlit.log")
    errors: list[str] = []
    pages = {}
    try:
        a = pages["a"] = _page(browser, url, errors)
        b = pages["b"] = _page(browser, url, errors)
        # 1. Both users press Load at the same moment.
        a_files = [SAMPLES / rel for rel in A_FILES]
        b_files = [SAMPLES / rel for rel in B_FILES]
        _prepare_upload(a, url, SAMPLE_TZ[A_FILES[0]], a_files)
        _prepare_upload(b, url, SAMPLE_TZ[B_FILES[0]], b_files)
        _button(a, "Load files").click()
        _button(b, "Load files").click()
        _wait_loaded(a, a_files)
        _wait_loaded(b, b_files)

        # 2. A deletes one import while B loads another campaign and B deletes another.
        first, second = (Path(rel).name for rel in DOOMED)
        _open_upload(a, url)
        _choose_for_delete(a, f"{doomed[first]}: {first}")
        _prepare_upload(b, url, SAMPLE_TZ[ESP], [october])
        _button(a, "Delete selected").click()
        _button(b, "Load files").click()
        _wait_loaded(b, [october])
        a.locator('[data-testid="stSidebar"]').get_by_text("Trace files: 4 files").wait_for()

        _open_upload(b, url)
        _choose_for_delete(b, f"{doomed[second]}: {second}")
        _open_upload(a, url)
        _choose_for_delete(a, f"{doomed[second]}: {second}")  # both delete the same one
        _button(b, "Delete selected").click()
        _button(a, "Delete selected").click()
        # When B's delete lands first, A's choice vanishes from the list, A's click finds the
        # button disabled and A's page does not rerun: its sidebar, drawn before B's commit,
        # stays as it was until A's next interaction (Streamlit does not push). So each user
        # looks again, as a user would, and both must see the same final state.
        for page in (a, b):
            _idle(page)
            assert not page.locator('[data-testid="stException"]').count()
            _open_upload(page, url)
            page.locator('[data-testid="stSidebar"]').get_by_text("Trace files: 3 files") \
                .wait_for()
            page.locator('[data-testid="stSidebar"]').get_by_text("ESP exports: 2 files") \
                .wait_for()
        assert not errors, errors
        assert not a.locator('[data-testid="stException"]').count()
        assert not b.locator('[data-testid="stException"]').count()
    except Exception:
        for name, page in pages.items():  # what each user saw, for the failure report
            page.screenshot(path=tmp_path / f"failure_{name}.png", full_page=True)
        raise
    finally:
        stop_app(proc)

    store = Store(workspace)
    assert sorted(store.imports()["file_name"]) == sorted(
        [Path(ESP).name, *(Path(r).name for r in A_FILES + B_FILES), october.name])
    assert_consistent(store)
    assert_same_views(views(store), reference_views(store, items))
    store.close()
