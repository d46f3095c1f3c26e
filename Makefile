# statbot — the two commands a fresh machine needs are `make run` and `make test`.
# Both create or update .venv/ first (quick when nothing changed): `make run` with only what
# running needs (`make install`), `make test` with the test tools too (`make install-dev`).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.installed-dev-stamp
PYTEST_ARGS ?=

.PHONY: install install-dev run test test-fast lint bench clean sandbox

# What running statbot needs and nothing more: no system packages, no test tools (issue 9).
install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $(STAMP)

# The tests' tools on top: the dev extras, and the real engines they start (redis-server,
# promtool, chromium) from Debian's packages.
install-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP) scripts/install-test-system.sh
	bash scripts/install-test-system.sh
	$(PY) -m pip install -q -e '.[dev]'
	touch $(DEV_STAMP)

run: install
	bash scripts/run.sh

# pytest exits 5 when it collected nothing: that is neither a pass nor an ordinary failure,
# so it is reported by name and fails the target (a suite that ran nothing proves nothing).
test: install-dev
	@set +e; $(PY) -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5) — treated as failure"; exit 1; fi; \
	exit $$rc

# The unit tier alone (in-process, no servers, no browser, no subprocess drills): under two
# minutes, for the edit-test loop. `make test` stays the full suite.
test-fast: install-dev
	@set +e; $(PY) -m pytest -q -m unit $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test-fast: pytest collected no tests (exit 5) — treated as failure"; exit 1; fi; \
	exit $$rc

lint: install-dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src
	$(VENV)/bin/mypy

bench: install-dev
	bash scripts/bench.sh

# The Bot API emulator and its web chat alone (point any bot at it; `statbot run` without a
# token starts it together with statbot).
sandbox: install
	$(VENV)/bin/statbot sandbox

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
