# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,osm,distributed]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dispatch demo

lint: $(STAMP)
	$(BIN)/ruff check dispatch tests benchmarks scripts
	$(BIN)/ruff format --check dispatch tests benchmarks scripts

types: $(STAMP)
	$(BIN)/mypy dispatch

unit: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

test: lint types unit

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
