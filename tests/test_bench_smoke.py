"""Smoke run of the benchmark at a tiny size so it never rots: the generator writes the real
layouts, every generated file loads without a rejected row, and the runner names every
target. No timing assertions: the machine is shared and noisy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest

from analysis.sources import ParseOptions
from analysis.store import Store
from bench import gen_esp, run
from bench import generate as G
from bench.measure_names import FILTERED, QUERY_NAMES
from bench.targets import CSV_INPUTS

SIZE = 2000
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "formats" / "samples"
if not SAMPLES.exists():
    SAMPLES = Path(__file__).resolve().parent / "fixtures" / "samples"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, G.Input]]:
    return G.generate(SIZE, 7, tmp_path_factory.mktemp("bench"), log=lambda m: None)


def _first_line(path: Path, encoding: str) -> str:
    return path.read_bytes().decode(encoding).splitlines()[0]


def test_sizes_and_row_counts(generated: tuple[Path, dict[str, G.Input]]) -> None:
    folder, inputs = generated
    assert set(inputs) == set(G.KEYS)
    assert inputs["esp"].rows == inputs["o365"].rows == inputs["exchange"].rows == SIZE
    assert inputs["postfix"].rows == 4 * SIZE and inputs["xlsx"].rows == SIZE // 10
    lines = (folder / "mail.log").read_bytes().count(b"\n")
    assert lines == 4 * SIZE
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    assert manifest["distinct_failure_texts"] > 20


def test_layouts_match_the_samples(generated: tuple[Path, dict[str, G.Input]]) -> None:
    folder, _ = generated
    esp = (folder / "touchbasepro_activity.csv").read_bytes()
    sample = (SAMPLES / "esp" / "touchbasepro_activity.csv").read_bytes()
    assert esp.startswith(b"\xef\xbb\xbf") and esp.split(b"\r\n")[0] == sample.split(b"\r\n")[0]
    assert b"\r\n" in esp and esp.count(b"\n") == esp.count(b"\r\n")
    v1 = (folder / "get-messagetrace_export.csv").read_bytes()
    assert v1.isascii() and b"\r\n" in v1
    assert _first_line(folder / "get-messagetrace_export.csv", "ascii") == _first_line(
        SAMPLES / "office365" / "get-messagetrace_export.csv", "ascii")
    trk_sample = (SAMPLES / "exchange" / "MSGTRK20251104-1.LOG").read_bytes().split(b"\r\n")
    for name in ("MSGTRK20251103-1.LOG", "MSGTRKMD20251103-1.LOG"):
        head = (folder / name).read_bytes().split(b"\r\n")
        assert head[0] == trk_sample[0] and head[4] == trk_sample[4]  # BOM + #Software, #Fields
        assert head[1:3] == trk_sample[1:3]
    stamp = re.compile(r"^[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d mx1 [\w/-]+(\[\d+\])?: ")
    log = (folder / "mail.log").read_text("utf-8").splitlines()
    assert all(stamp.match(x) for x in log[:2000])
    wb = openpyxl.load_workbook(folder / "touchbasepro_activity.xlsx", read_only=True)
    header = next(wb.worksheets[0].iter_rows(values_only=True))
    assert list(header) == list(gen_esp.HEADER)
    wb.close()


def test_generation_is_deterministic(tmp_path: Path,
                                     generated: tuple[Path, dict[str, G.Input]]) -> None:
    folder, inputs = generated
    again, _ = G.generate(SIZE, 7, tmp_path, log=lambda m: None)
    for inp in inputs.values():
        for f in inp.files:
            assert (again / f).read_bytes() == (folder / f).read_bytes(), f


@pytest.mark.parametrize("key", G.KEYS)
def test_generated_file_loads_without_rejects(generated: tuple[Path, dict[str, G.Input]],
                                              key: str) -> None:
    folder, inputs = generated
    fmt = run.resolve_formats({key: inputs[key]}, folder)[key]
    if fmt.get("skipped"):
        pytest.skip(fmt["skipped"])
    inp = inputs[key]
    store = Store(":memory:")
    try:
        results = store.load_files([folder / f for f in inp.files], format=fmt["format"],
                                   opts=ParseOptions(tz=inp.tz, year=inp.year))
        assert all(r.ok for r in results), [r.error for r in results]
        assert sum(r.rows_rejected for r in results) == 0, store.rejected().head(3)
        assert sum(r.rows_loaded for r in results) > 0
    finally:
        store.close()


def test_runner_names_every_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    md = tmp_path / "results.md"
    assert run.main(["--sizes", str(SIZE), "--repeat", "1", "--no-browser", "--out",
                     str(tmp_path), "--markdown", str(md)]) == 0
    result = json.loads((tmp_path / "results" / "latest.json").read_text())
    names = {t["target"] for t in result["targets"]}
    expected = {"Postfix log ingest vs pflogsumm throughput", "Postfix counts agree with pflogsumm",
                "classification (classify.refresh)", "journeys join + verdicts (journeys.rebuild)",
                "peak RSS, loading every input + refresh", "Overview first render (chromium)"}
    expected |= {f"CSV ingest {label} vs bare read_csv" for _, label in CSV_INPUTS}
    expected |= {f"query {q}" for q in QUERY_NAMES} | {f"query {q} [filtered]" for q in FILTERED}
    assert expected <= names
    assert all(t["status"] in ("PASS", "FAIL", "SKIP") for t in result["targets"])
    printed = capsys.readouterr().out
    assert all(name in printed for name in expected)
    assert "Targets at 2,000 ESP rows" in md.read_text()


def test_browser_measurement_draws_the_overview_and_its_baseline(tmp_path: Path) -> None:
    """bench.browser on the demo: the Overview (via serve.py) and the bare baseline page both
    draw all 8 charts in a real Chromium (no timings asserted)."""
    from bench import browser

    if browser.skip_reason():
        pytest.skip(browser.skip_reason())
    from analysis import demo

    ws = tmp_path / "demo.duckdb"
    store = Store(ws)
    try:
        demo.load_demo(store)
    finally:
        store.close()
    assert len(browser.overview_figures(str(ws))) == 8
    res = browser.first_render(str(ws), timeout=120, log=tmp_path / "streamlit.log")
    assert res.get("ok"), (res, (tmp_path / "streamlit.log").read_text()[-2000:])
    assert res["charts"] == 8
    assert 0 < res["bare_tiles_seconds"] <= res["bare_seconds"]
    assert "engine loaded in" in (tmp_path / "streamlit.log").read_text()  # serve.py warmed up
