# Delivery Trace — set-up, run, test. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
UV := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
PORT ?= 8501

.PHONY: run test lint bench browser postfix office clean-workspace

run: .venv/.ok
	.venv/bin/streamlit run app.py --server.port $(PORT)

# pytest's exit 5 ("no tests collected") is a broken suite: report it as a failure.
test: .venv/.ok browser postfix office
	@.venv/bin/pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

lint: .venv/.ok
	.venv/bin/ruff check .

bench: .venv/.ok postfix
	.venv/bin/python -m bench

.venv/.ok: pyproject.toml | $(UV)
	$(UV) venv --allow-existing .venv
	$(UV) pip install --python .venv/bin/python -e . --group dev
	touch $@

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

# Debian packages for the browser tests and chart export (chromium) and for the real
# Postfix integration test and the pflogsumm baseline. Installed only when we are root
# on Debian; elsewhere the tests that need them skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null; \
	  else echo "no chromium: browser tests skip"; fi; }

postfix:
	@{ [ -x /usr/sbin/postfix ] && command -v pflogsumm >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
	    apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq postfix pflogsumm >/dev/null; \
	  else echo "no postfix: the Postfix integration test skips"; fi; }

# LibreOffice Calc opens the Excel report in the tests (it must open without repair).
office:
	@command -v soffice >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
	      --no-install-recommends libreoffice-calc >/dev/null; \
	  else echo "no LibreOffice: the workbook-opens test skips"; fi; }

clean-workspace:
	rm -f data/workspace.duckdb data/workspace.duckdb.wal
