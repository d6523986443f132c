"""`python -m bench`: run the benchmarks (see bench/run.py and docs/benchmarks.md)."""

from .run import main

raise SystemExit(main())
