"""The HTML report in a real Chromium: charts draw offline, nothing is fetched, no script runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from analysis.report import build_report
from analysis.report_html import render_html
from analysis.sources._base import ParseOptions
from analysis.store import Store
from tests.conftest import SAMPLE_TZ, SAMPLES
from tests.test_report import ESP_FILE, HOSTILE_CSV, SCRIPT, story_files

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
    pytest.skip("no chromium (make test installs Debian's chromium)", allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The story plus the hostile export, reported with hashed addresses."""
    tmp = tmp_path_factory.mktemp("report_browser")
    hostile = tmp / "hostile_activity.csv"
    hostile.write_bytes(HOSTILE_CSV.encode("utf-8"))
    store = Store(":memory:")
    for rel in story_files():
        store.load_files([SAMPLES / rel], opts=ParseOptions(tz=SAMPLE_TZ.get(rel, "UTC")))
    (r,) = store.load_files([hostile], opts=ParseOptions(tz=SAMPLE_TZ[ESP_FILE]))
    assert r.error is None
    html = render_html(build_report(store.cursor(), redact="hash", key="k"))
    store.close()
    out = tmp / "report.html"
    out.write_text(html, encoding="utf-8")
    return out


def test_report_draws_offline_and_stays_inert(report_file: Path, tmp_path: Path) -> None:
    requests: list[str] = []
    dialogs: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists()
                                    else shutil.which("chromium"))
        try:
            context = browser.new_context(viewport={"width": 900, "height": 1400})

            def route(r: object) -> None:
                url = r.request.url  # type: ignore[attr-defined]
                requests.append(url)
                if url.startswith(("file:", "data:", "blob:", "about:")):
                    r.continue_()  # type: ignore[attr-defined]
                else:
                    r.abort()  # type: ignore[attr-defined]

            context.route("**/*", route)
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(report_file.as_uri())
            charts = page.locator("div.chart")
            assert charts.count() == 8
            page.wait_for_function(
                "document.querySelectorAll('div.chart .main-svg').length >= "
                "document.querySelectorAll('div.chart').length", timeout=30_000)
            for i in range(charts.count()):
                assert charts.nth(i).locator(".main-svg").count() >= 1
            # Bars really drew: the SMTP-code chart has one rect path per bar.
            bars = page.locator('[data-chart="failures_by_code"] g.point path')
            assert bars.count() >= 4
            # The hostile reply and campaign show as text, and no script of theirs ran.
            assert page.get_by_text("alert(1)", exact=False).count() >= 1
            assert page.evaluate("document.scripts.length") == 2
            assert SCRIPT in page.inner_text("body")
            # Hashed addresses in the appendix, no plain ones.
            assert "marco.rossi@" not in page.content()
            page.emulate_media(media="print")
            page.screenshot(path=str(tmp_path / "print.png"), full_page=True)
        finally:
            browser.close()
    outside = [u for u in requests if not re.match(r"(file|data|blob|about):", u)]
    assert not outside, outside
    assert not dialogs and not errors, (dialogs, errors)
