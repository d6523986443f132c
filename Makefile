# Delivery Trace — set-up, run, test. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
UV := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
PORT ?= 8501

.PHONY: run test lint bench browser postfix office sisimai clean-workspace

run: .venv/.ok
	.venv/bin/python serve.py --server.port $(PORT)

# pytest's exit 5 ("no tests collected") is a broken suite: report it as a failure.
test: .venv/.ok browser postfix office sisimai
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

# Debian packages for the browser tests and chart export (chromium), the real Postfix
# integration test and the pflogsumm baseline (postfix, pflogsumm), the workbook test
# (LibreOffice Calc) and the Sisimai-agreement test (libsisimai-perl). Installed only when we are root on Debian; elsewhere the tests that
# need them skip and say why. $(call apt_install,PACKAGES,APT OPTIONS,MESSAGE IF NOT ROOT)
apt_install = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $(2) $(1) >/dev/null; else echo "$(3)"; fi

browser:
	@command -v chromium >/dev/null 2>&1 || { $(call apt_install,chromium,,no chromium: browser tests skip); }

postfix:
	@{ [ -x /usr/sbin/postfix ] && command -v pflogsumm >/dev/null 2>&1; } || { \
	  if command -v debconf-set-selections >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; fi; \
	  $(call apt_install,postfix pflogsumm,,no postfix: the Postfix integration test skips); }

office:
	@command -v soffice >/dev/null 2>&1 || { $(call apt_install,libreoffice-calc,--no-install-recommends,no LibreOffice: the workbook-opens test skips); }

# Sisimai itself (Perl, Debian's libsisimai-perl): the reference the classifier is measured
# against (tests/test_classify_sisimai_program.py).
sisimai:
	@perl -MSisimai -e 1 2>/dev/null || { $(call apt_install,libsisimai-perl,--no-install-recommends,no Sisimai: the Sisimai-agreement test skips); }

clean-workspace:
	rm -f data/workspace.duckdb data/workspace.duckdb.wal
