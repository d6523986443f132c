"""Start the app: warm the engine, then `streamlit run app.py` with the options given.

    .venv/bin/python serve.py [--server.port 8501 ...]   # what `make run` does

`streamlit run app.py` works as well; this moves the engine's imports and Plotly's first-figure
set-up (analysis/warmup.py, ~4 s on a 2-core machine) from the first visitor's page load to
server start.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")


def main(argv: list[str] | None = None) -> None:
    """Warm the engine, then hand over to Streamlit's own command line (it exits)."""
    from streamlit.web import cli

    from analysis import warmup

    seconds = warmup.warm()
    print(f"Delivery Trace: engine loaded in {seconds:.1f} s", file=sys.stderr, flush=True)
    cli.main(["run", str(APP), *(sys.argv[1:] if argv is None else argv)], prog_name="streamlit")


if __name__ == "__main__":
    main()
