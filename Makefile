# Quick start: `make demo` then `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
DEMO_CUSTOMERS ?= 20000

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint install install-dev system-deps serve clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/cxvalue demo --customers $(DEMO_CUSTOMERS) --store demo/cxvalue.duckdb --report demo/cxvalue-report.html
	@echo ""
	@echo "Next: open the workplace with  $(BIN)/cxvalue serve --store demo/cxvalue.duckdb"
	@echo "(the first start asks for an admin account; then browse http://127.0.0.1:8000/)"

serve: install
	$(BIN)/cxvalue serve --store demo/cxvalue.duckdb

# the browser tests drive the Debian chromium (never a downloaded browser); CJK fonts for the zh pages
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium fonts-noto-cjk; fi

test: install-dev system-deps
	$(BIN)/ruff check src tests benchmarks
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=15

lint: install-dev
	$(BIN)/ruff check src tests benchmarks

bench: install-dev
	@echo "see benchmarks/README.md"

clean:
	rm -rf $(VENV) demo .pytest_cache build *.egg-info src/*.egg-info
