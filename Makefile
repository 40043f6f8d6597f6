# Two commands on a fresh machine: `make demo` and `make test`.
#
# The virtual environment holds exactly the versions of requirements.lock (core, every extra and
# the dev tools, Python 3.11 on Linux x86_64 and aarch64); the project itself goes in editable,
# without dependencies. `make lock` regenerates the lock from pyproject.toml; `make test-latest`
# runs the suite against the newest releases the ranges in pyproject.toml allow.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
LATEST := .venv-latest
LOWEST := .venv-lowest
PYTEST_ARGS := -n 2 -q --doctest-modules tests dispatch
# The lock is compiled for Linux x86_64 and checked to be identical for aarch64.
LOCK_ARGS := pyproject.toml --all-extras --python-version 3.11 --quiet \
	--custom-compile-command 'make lock'

.PHONY: demo test lint types unit bench lock test-latest test-lowest clean

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(LOCK) pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dispatch demo

lint: $(STAMP)
	$(BIN)/ruff check dispatch tests benchmarks scripts
	$(BIN)/ruff format --check dispatch tests benchmarks scripts

types: $(STAMP)
	$(BIN)/mypy dispatch

unit: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint types unit

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# The versions already in the lock are kept when they still fit; `make lock LOCK_UPGRADE=--upgrade`
# moves everything to the newest allowed releases.
LOCK_UPGRADE ?=
lock: $(STAMP)
	cp $(LOCK) $(VENV)/lock-x86_64.txt
	cp $(LOCK) $(VENV)/lock-aarch64.txt
	$(BIN)/uv pip compile $(LOCK_ARGS) $(LOCK_UPGRADE) --python-platform x86_64-unknown-linux-gnu \
		-o $(VENV)/lock-x86_64.txt
	$(BIN)/uv pip compile $(LOCK_ARGS) $(LOCK_UPGRADE) --python-platform aarch64-unknown-linux-gnu \
		-o $(VENV)/lock-aarch64.txt
	diff -u $(VENV)/lock-x86_64.txt $(VENV)/lock-aarch64.txt
	cmp -s $(VENV)/lock-x86_64.txt $(LOCK) || cp $(VENV)/lock-x86_64.txt $(LOCK)
	rm -f $(VENV)/lock-x86_64.txt $(VENV)/lock-aarch64.txt

# A separate venv resolved afresh to the newest versions pyproject.toml allows (not the lock):
# prints what is newer than the lock, installs that and runs the suite.
test-latest: $(STAMP)
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(BIN)/uv pip compile $(LOCK_ARGS) --no-header -o $(LATEST)/latest.txt
	diff $(LOCK) $(LATEST)/latest.txt | grep '^[<>] [a-z]' || echo 'the newest releases are the locked ones'
	$(LATEST)/bin/python -m pip install --quiet -c $(LATEST)/latest.txt pip
	$(LATEST)/bin/python -m pip install --quiet -r $(LATEST)/latest.txt
	$(LATEST)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(LATEST)/bin/python -m pytest $(PYTEST_ARGS) -p no:cacheprovider

# The same against the oldest releases the lower bounds in pyproject.toml allow (direct
# dependencies at their bounds; the rest resolved to fit): how those bounds were checked.
test-lowest: $(STAMP)
	rm -rf $(LOWEST)
	$(PYTHON) -m venv $(LOWEST)
	$(BIN)/uv pip compile $(LOCK_ARGS) --no-header --resolution lowest-direct -o $(LOWEST)/lowest.txt
	$(LOWEST)/bin/python -m pip install --quiet -r $(LOWEST)/lowest.txt
	$(LOWEST)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(LOWEST)/bin/python -m pytest $(PYTEST_ARGS) -p no:cacheprovider

clean:
	rm -rf $(VENV) $(LATEST) $(LOWEST) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
