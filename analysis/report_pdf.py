"""PDF reports and PNG charts through the system Chromium (headless), when there is one.

The PDF is Chromium's print of the HTML report (the same print styles as the browser's
"Save as PDF"); PNG charts are one screenshot of a page holding every chart, cut into
one image per chart. Nothing is downloaded: without a Chromium these raise
`ExportUnavailable` with a one-line message naming the alternative. Chromium runs with
its background services off and a proxy on a dead loopback port, so even a stray request
could not leave the machine; the report itself loads nothing (see report_html.CSP).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from plotly.offline import get_plotlyjs

from .errors import DeliveryTraceError
from .report import ReportData

ENV_BROWSER = "BROWSER_PATH"  # the variable kaleido 1.x reads too
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 180
SCALE = 2  # device pixels per CSS pixel of the PNG charts
MAX_SHOT_PX = 15_000  # Chromium's screenshot limit is 16,384 device pixels a side


class ExportUnavailable(DeliveryTraceError):
    """PDF or PNG export was asked for, but no Chromium can be run here."""

    title = "Export unavailable"


def chromium_path() -> str | None:
    """The Chromium to use: $BROWSER_PATH, else the first Chromium/Chrome on PATH."""
    env = os.environ.get(ENV_BROWSER)
    if env:
        return env if Path(env).is_file() and os.access(env, os.X_OK) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def unavailable_reason() -> str | None:
    """Why PDF/PNG export cannot run here, or None when it can."""
    if chromium_path():
        return None
    if os.environ.get(ENV_BROWSER):
        return f"${ENV_BROWSER} is set but is not an executable file"
    return ("no Chromium found (install the chromium package, or set "
            f"${ENV_BROWSER} to a Chromium/Chrome binary)")


def require_chromium(what: str = "PDF") -> str:
    """The Chromium path, or ExportUnavailable with what to do instead."""
    path = chromium_path()
    if path is None:
        alt = ("write the report as .html and use the browser's Print → Save as PDF"
               if what == "PDF" else "the HTML report has the same charts")
        raise ExportUnavailable(f"{what} needs Chromium: {unavailable_reason()}; {alt}")
    return path


def _run(args: list[str], workdir: Path) -> None:
    """Run headless Chromium with everything that could reach the network switched off."""
    cmd = [require_chromium(), "--headless", "--disable-gpu", "--no-first-run",
           "--no-default-browser-check", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--disable-default-apps",
           "--disable-extensions", "--disable-breakpad", "--disable-domain-reliability",
           "--proxy-server=127.0.0.1:9", "--hide-scrollbars", "--mute-audio",
           f"--user-data-dir={workdir / 'profile'}", "--virtual-time-budget=20000",
           "--run-all-compositor-stages-before-draw", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.insert(2, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    try:
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, timeout=TIMEOUT_S,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as e:
        raise ExportUnavailable(f"Chromium did not finish within {TIMEOUT_S} s") from e
    except OSError as e:
        raise ExportUnavailable(f"Chromium could not be started: {e}") from e
    if proc.returncode != 0:
        last = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
        raise ExportUnavailable(f"Chromium failed (exit {proc.returncode}): {last[:200]}")


def html_to_pdf(html: str) -> bytes:
    """Print an HTML document to PDF (A4, the document's print styles, no header/footer)."""
    with tempfile.TemporaryDirectory(prefix="dt-pdf-") as tmp:
        work = Path(tmp)
        src, out = work / "report.html", work / "report.pdf"
        src.write_text(html, encoding="utf-8")
        _run(["--no-pdf-header-footer", f"--print-to-pdf={out}", src.as_uri()], work)
        if not out.is_file() or out.stat().st_size == 0:
            raise ExportUnavailable("Chromium wrote no PDF")
        return out.read_bytes()


def pdf_bytes(data: ReportData) -> bytes:
    """The report as PDF."""
    from .report_html import render_html

    return html_to_pdf(render_html(data))


def _charts_page(specs: list[tuple[str, str, int, int]]) -> str:
    """A page with the charts stacked at known offsets (id, json, width, height)."""
    divs = "".join(f'<div id="{name}" style="width:{w}px;height:{h}px"></div>'
                   for name, _, w, h in specs)
    calls = "".join(f"var f = {js}; Plotly.newPlot('{name}', f.data, f.layout, "
                    "{staticPlot: true, displayModeBar: false});" for name, js, _, _ in specs)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>body{{margin:0;"
            f"background:#fff}}div{{display:block}}</style><script>{get_plotlyjs()}</script>"
            f"</head><body>{divs}<script>{calls}</script></body></html>")


def chart_pngs(data: ReportData) -> dict[str, bytes]:
    """Each report chart as a PNG (2× scale), by chart name."""
    from PIL import Image

    from .report_html import CHART_WIDTH, figure_json, figures

    specs = [(name, figure_json(data, fig), CHART_WIDTH, int(fig.layout.height or 400))
             for name, fig in figures(data).items()]
    out: dict[str, bytes] = {}
    batch: list[tuple[str, str, int, int]] = []
    for spec in specs + [("", "", 0, MAX_SHOT_PX)]:  # the sentinel flushes the last batch
        if batch and (sum(h for *_, h in batch) + spec[3]) * SCALE > MAX_SHOT_PX:
            out |= _shoot(batch, Image)
            batch = []
        if spec[0]:
            batch.append(spec)
    return out


def _shoot(batch: list[tuple[str, str, int, int]], image: object) -> dict[str, bytes]:
    total = sum(h for *_, h in batch)
    width = max(w for _, _, w, _ in batch)
    with tempfile.TemporaryDirectory(prefix="dt-png-") as tmp:
        work = Path(tmp)
        src, shot = work / "charts.html", work / "charts.png"
        src.write_text(_charts_page(batch), encoding="utf-8")
        _run([f"--window-size={width},{total}", f"--force-device-scale-factor={SCALE}",
              f"--screenshot={shot}", src.as_uri()], work)
        full = image.open(shot)  # type: ignore[attr-defined]
        full.load()
    out, top = {}, 0
    for name, _, w, h in batch:
        buf = io.BytesIO()
        full.crop((0, top * SCALE, w * SCALE, (top + h) * SCALE)).save(buf, "PNG")
        out[name] = buf.getvalue()
        top += h
    return out


def charts_zip(data: ReportData) -> bytes:
    """A zip of the report's charts as PNG files."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, png in chart_pngs(data).items():
            z.writestr(f"{name}.png", png)
    return buf.getvalue()
