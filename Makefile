# Quick start: `make demo` then `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
DEMO_CUSTOMERS ?= 20000

.PHONY: demo test lint install install-dev clean bench

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

test: install-dev
	$(BIN)/ruff check src tests benchmarks
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

lint: install-dev
	$(BIN)/ruff check src tests benchmarks

bench: install-dev
	@echo "see benchmarks/README.md"

clean:
	rm -rf $(VENV) demo .pytest_cache build *.egg-info src/*.egg-info
