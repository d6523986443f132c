"""A new user in a real browser (Playwright on the system Chromium): upload the sample story
through the real uploader, read the overview, click a bar into the explorer, reopen the link,
open one message's timeline; and the first start on the demo data.

Screenshots go to the test's tmp dir, and also to $DELIVERY_TRACE_SCREENSHOTS when set
(that is how docs/*.png are refreshed).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis.store import Store
from tests.conftest import SAMPLE_TZ, SAMPLES
from tests.test_pages import story_files

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# Keep Chromium quiet: no update checks, sync, metrics or other calls home.
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--disable-extensions",
                 "--no-first-run", "--metrics-recording-only", "--disable-breakpad",
                 "--disable-domain-reliability"]
VIEWPORT = {"width": 1400, "height": 1500}

if not Path(CHROMIUM).exists():
    pytest.skip("no /usr/bin/chromium (make test installs Debian's chromium)",
                allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(workspace: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """Run serve.py (as `make run` does) on a free local port against `workspace`; wait."""
    port = _free_port()
    env = os.environ | {"DELIVERY_TRACE_WORKSPACE": str(workspace)}
    cmd = [sys.executable, "serve.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true",
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, process_group=0,
                                stdout=subprocess.DEVNULL, stderr=err)
    url, end = f"http://127.0.0.1:{port}", time.monotonic() + 60
    while True:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                stop_app(proc)
                raise RuntimeError(f"streamlit did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)


def stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.fixture
def browser() -> Iterator:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_page(browser, url: str, errors: list[str], scheme: str = "light"):
    """A page that may talk to the app only, and records JavaScript errors."""
    page = browser.new_page(viewport=VIEWPORT, color_scheme=scheme)
    page.set_default_timeout(60_000)
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(url)
               else route.abort())
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def shoot(target, path: Path, **kw) -> None:
    """Screenshot into the tmp dir, and into $DELIVERY_TRACE_SCREENSHOTS when set."""
    target.screenshot(path=path, **kw)
    extra = os.environ.get("DELIVERY_TRACE_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)


def charts_drawn(page, at_least: int = 1) -> None:
    """Wait until `at_least` plotly charts have drawn their SVG."""
    page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for()
    page.locator('[data-testid="stPlotlyChart"]').nth(at_least - 1) \
        .locator(".main-svg").first.wait_for()
    time.sleep(1.0)  # the last traces settle


def nav_labels(page) -> str:
    return page.locator('[data-testid="stSidebarNav"]').inner_text()


def tile(page, label: str) -> str:
    """The text of one KPI tile ('Sent\\n18\\n…')."""
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).first.inner_text()


def upload_groups() -> list[tuple[str, list[Path]]]:
    """The story files that this build reads, grouped by the zone their stamps are in."""
    groups: dict[str, list[Path]] = {}
    for rel in story_files():
        groups.setdefault(SAMPLE_TZ.get(rel, "UTC"), []).append(SAMPLES / rel)
    return list(groups.items())


def upload(page, url: str, tz: str, files: list[Path]) -> None:
    """Choose the time zone, drop the files on the real uploader, press Load, wait."""
    page.goto(url + "/upload")  # a fresh session: an empty uploader, no earlier results
    page.get_by_text("Export files").first.wait_for()
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Time zone")
    box.click()
    page.keyboard.type(tz)
    page.keyboard.press("Enter")
    assert box.locator("input").input_value() == tz
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(files)
    for f in files:  # every file sniffed before Load is pressed
        page.get_by_text(f"{f.name} — ").first.wait_for()
    page.locator('[data-testid="stButton"]').filter(has_text="Load files").locator(
        "button").click()
    for f in files:
        page.locator('[data-testid="stAlertContentSuccess"]').filter(
            has_text=f"{f.name}:").filter(has_text="rows loaded").first.wait_for()


def click_element(page, element) -> None:
    """Hover then click the middle of a plotly point (plotly picks what is under the pointer)."""
    element.scroll_into_view_if_needed()
    b = element.bounding_box()
    cx, cy = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
    page.mouse.move(cx, cy)
    time.sleep(0.3)
    page.mouse.click(cx, cy)


def click_bar(page, chart_title: str, x: str) -> None:
    """Click the first bar at category `x` of the plotly chart titled `chart_title`."""
    handle = page.evaluate_handle("""([title, x]) => {
      for (const gd of document.querySelectorAll('.js-plotly-plot')) {
        const t = gd.layout && gd.layout.title && gd.layout.title.text;
        if (!t || !t.includes(title)) continue;
        for (let c = 0; c < gd.data.length; c++) {
          const i = Array.from(gd.data[c].x || []).map(String).indexOf(x);
          if (i >= 0) return gd.querySelectorAll('.trace.bars')[c].querySelectorAll('.point')[i];
        }
      }
      return null;
    }""", [chart_title, x])
    bar = handle.as_element()
    assert bar is not None, f"no bar {x} in {chart_title}"
    click_element(page, bar)


def click_heatmap_cell(page, chart_title: str) -> None:
    """Click the first non-empty cell of the heatmap titled `chart_title`."""
    handle = page.evaluate_handle("""(title) => {
      for (const gd of document.querySelectorAll('.js-plotly-plot')) {
        const t = gd.layout && gd.layout.title && gd.layout.title.text;
        if (t && t.includes(title)) return gd.querySelector('.scatterlayer .point');
      }
      return null;
    }""", chart_title)
    cell = handle.as_element()
    assert cell is not None, f"no clickable cell in {chart_title}"
    click_element(page, cell)


def test_new_user_uploads_the_story_and_follows_a_bounce(browser, tmp_path: Path) -> None:
    workspace = tmp_path / "ws.duckdb"
    store = Store(workspace)
    store.set_meta("demo_offered", "yes")  # an empty workspace: the user brings the files
    store.close()
    proc, url = start_app(workspace, tmp_path / "streamlit.log")
    errors: list[str] = []
    try:
        page = new_page(browser, url, errors)
        # A deep link is the first request this server sees: it must still get the app.
        page.goto(url + "/upload")
        page.get_by_text("Export files").first.wait_for()
        assert "Bounce explorer" in nav_labels(page)
        for tz, files in upload_groups():
            upload(page, url, tz, files)
        shoot(page, tmp_path / "upload.png")

        page.locator('[data-testid="stSidebarNav"]').get_by_text("Overview").click()
        page.get_by_text("Failures by SMTP code").first.wait_for()
        charts_drawn(page, 8)
        assert "18" in tile(page, "Sent").split()
        assert "4 · 22%" in tile(page, "Rejected")
        shoot(page, tmp_path / "overview.png")
        # The incidents table is built only once its expander is opened (a data grid cost
        # the first render ~1 s even in a closed expander).
        assert page.locator('[data-testid="stDataFrame"]').count() == 0
        page.get_by_text("Per-domain incidents (table)").click()
        page.locator('[data-testid="stDataFrame"]').first.wait_for()
        charts_drawn(page, 8)

        # A heatmap cell opens the explorer on that domain and category.
        click_heatmap_cell(page, "Domain × category")
        page.wait_for_url("**/explorer?**domains=**")
        assert "categories=" in page.url
        page.get_by_text("failed messages ·").first.wait_for()
        assert "Recipient domain is" in page.get_by_text("failed messages ·").first.inner_text()
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Overview").click()
        page.get_by_text("Failures by SMTP code").first.wait_for()
        charts_drawn(page, 8)

        # Click the 550 bar: the explorer opens filtered to it, and says so in the URL.
        click_bar(page, "Failures by SMTP code", "550")
        page.wait_for_url("**/explorer?**codes=550**")
        headline = page.get_by_text("failed messages ·").first
        headline.wait_for()
        assert "SMTP code is 550" in headline.inner_text()
        shown = headline.inner_text()
        # The copied link, opened afresh, shows the same view.
        link = page.url
        page.goto("about:blank")
        page.goto(link)
        page.get_by_text("failed messages ·").first.wait_for()
        assert page.get_by_text("failed messages ·").first.inner_text() == shown
        # Narrow it to exactly code 550 for the screenshot and the timeline.
        page.goto(url + "/explorer?codes=550")
        headline = page.get_by_text("failed messages ·").first
        headline.wait_for()
        assert headline.inner_text().startswith("5 failed messages · SMTP code is 550")
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.wait_for()
        time.sleep(1.0)
        box = grid.bounding_box()
        # Newest first: nadia, marco, julia.schmidt (M10, accepted then bounced by Exchange).
        row_h = 35  # st.dataframe's header and row height
        page.mouse.click(box["x"] + 15, box["y"] + row_h + row_h // 2 + 2 * row_h)
        open_link = page.get_by_role("link", name="Open this message's timeline")
        open_link.wait_for()
        detail = page.locator(".st-key-explorer_detail").inner_text()
        assert "julia.schmidt@fabrikam.example.net" in detail and "What to do:" in detail
        shoot(page, tmp_path / "explorer.png")

        open_link.click()
        page.wait_for_url("**/message?journey=*")
        page.get_by_text("Verdict: bounced after accept").first.wait_for()
        charts_drawn(page)
        assert "Timeline" in page.locator("h2, h3").all_inner_texts()
        shoot(page, tmp_path / "timeline.png")

        dark = new_page(browser, url, errors, scheme="dark")
        dark.goto(url)
        dark.get_by_text("Failures by SMTP code").first.wait_for()
        charts_drawn(dark, 8)
        shoot(dark, tmp_path / "overview_dark.png")
        assert not errors, errors
    except Exception:
        shoot(page, tmp_path / "failure.png")
        raise
    finally:
        stop_app(proc)


def test_first_start_loads_the_demo_and_it_can_be_cleared(browser, tmp_path: Path) -> None:
    pytest.importorskip("analysis.demo")
    proc, url = start_app(tmp_path / "fresh.duckdb", tmp_path / "streamlit.log")
    errors: list[str] = []
    try:
        page = new_page(browser, url, errors)
        page.goto(url)
        page.get_by_text("Showing demo data").wait_for(timeout=120_000)
        page.get_by_text("Failures by SMTP code").first.wait_for()
        charts_drawn(page, 8)
        assert "Changes are against the previous campaign" in page.inner_text("body")
        shoot(page, tmp_path / "demo_overview.png")
        page.goto(url + "/guide")
        page.get_by_text("Get a message trace").first.wait_for()
        page.get_by_text("SMTP code reference").click()
        page.get_by_placeholder("e.g. 550, 5.7.26").fill("5.7.26")
        page.keyboard.press("Enter")
        page.get_by_text("1 code.").wait_for()
        # The sidebar's button removes the demo, and a new visit does not bring it back.
        page.get_by_role("button", name="Clear demo data").click()
        page.get_by_text("Nothing loaded yet").wait_for(timeout=60_000)
        page.goto(url)
        page.get_by_text("Nothing loaded yet").wait_for(timeout=60_000)
        assert "Showing demo data" not in page.inner_text("body")
        assert not errors, errors
    finally:
        stop_app(proc)


def test_report_page_downloads_every_row(browser, tmp_path: Path) -> None:
    """The Report page previews the first rows of each table (build_report(rows=...)); its
    Excel and CSV downloads are built on click, on Streamlit's download thread, with every
    row. The demo campaign has more journeys than the preview holds."""
    import csv
    import io

    from openpyxl import load_workbook

    from analysis import demo
    from analysis.report import PREVIEW_ROWS

    ws = tmp_path / "demo.duckdb"
    store = Store(ws)
    demo.load_demo(store)
    journeys = store.cursor().execute("SELECT count(*) FROM journeys").fetchall()[0][0]
    store.close()
    assert journeys > PREVIEW_ROWS
    proc, url = start_app(ws, tmp_path / "streamlit.log")
    errors: list[str] = []
    try:
        page = new_page(browser, url, errors)
        page.goto(url + "/report")
        page.get_by_text("What to do first").first.wait_for(timeout=120_000)
        with page.expect_download(timeout=120_000) as xlsx:
            page.get_by_role("button", name="Excel workbook").click()
        xlsx.value.save_as(tmp_path / "report.xlsx")
        wb = load_workbook(tmp_path / "report.xlsx", read_only=True)
        assert wb.sheetnames[:1] == ["Summary"]
        assert sum(1 for _ in wb["Journeys"].iter_rows(min_row=2)) == journeys
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Table as CSV") \
            .locator('[role="combobox"], input').first.click()
        page.get_by_role("option", name="journeys", exact=True).click()
        button = page.get_by_role("button", name=f"CSV: journeys ({journeys:,} rows)")
        with page.expect_download(timeout=120_000) as got:
            button.click()
        text = Path(got.value.path()).read_text(encoding="utf-8-sig")
        assert len(list(csv.DictReader(io.StringIO(text)))) == journeys
        assert not errors, errors
    finally:
        stop_app(proc)
