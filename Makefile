# statbot — the two commands a fresh machine needs are `make run` and `make test`.
# Both call `make install` first, which creates or updates .venv/ (quick when nothing changed).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install run test lint bench clean sandbox

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system.sh
	bash scripts/install-system.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: install
	bash scripts/run.sh

# pytest exits 5 when it collected nothing: that is neither a pass nor an ordinary failure,
# so it is reported by name and fails the target (a suite that ran nothing proves nothing).
test: install
	@set +e; $(PY) -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5) — treated as failure"; exit 1; fi; \
	exit $$rc

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src
	$(VENV)/bin/mypy

bench: install
	bash scripts/bench.sh

# The Bot API emulator and its web chat alone (point any bot at it; `statbot run` without a
# token starts it together with statbot).
sandbox: install
	$(VENV)/bin/statbot sandbox

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
