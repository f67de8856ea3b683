# The two commands of the README: `make lab` and `make test`. Each creates .venv on first use
# (and refreshes it when pyproject.toml or constraints.txt change).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JUPYTER_PLATFORM_DIRS := 1

.PHONY: help setup lab test lint doctor lock bench wheelhouse clean

help:  ## this list
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 12

setup: $(VENV)/.installed  ## only create .venv (what `make lab` and `make test` do first)

lab: $(VENV)/.installed  ## set up, start PostgreSQL, open the course in JupyterLab
	$(BIN)/workshop lab $(LAB_ARGS)

# Tests first (pytest-xdist), then every chapter through `workshop check` (nbval per notebook).
test: $(VENV)/.installed  ## set up, run every test, then every chapter through nbval
	$(BIN)/pytest -n 2 --dist loadscope tests $(TEST_ARGS)
	$(BIN)/workshop check -j 3

lint: $(VENV)/.installed  ## ruff check and format --check
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

doctor: $(VENV)/.installed  ## is this machine ready for the course?
	$(BIN)/workshop doctor

bench: $(VENV)/.installed  ## benchmark tables (server, chapters)
	$(BIN)/python scripts/bench_postgres.py
	$(BIN)/python scripts/bench_course.py

lock:  ## regenerate constraints.txt from pyproject.toml
	scripts/lock.sh

# For a room without internet: then copy the checkout with wheelhouse/ (a USB stick); there
# `make lab` installs from it alone.
wheelhouse: $(VENV)/.installed  ## every wheel for Linux, macOS and Windows into wheelhouse/
	$(BIN)/python scripts/wheelhouse.py $(WHEELHOUSE_ARGS)

# With a wheelhouse/ (make wheelhouse), pip installs from it and never asks an index.
PIP_ARGS ?= $(if $(wildcard wheelhouse/*.whl),--no-index --find-links wheelhouse)

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq $(PIP_ARGS) --upgrade pip
	$(BIN)/python -m pip install -qq $(PIP_ARGS) -c constraints.txt -e .
	@touch $@

clean:  ## stop the embedded server, remove .venv and its data
	-$(BIN)/workshop db stop
	rm -rf $(VENV) .workshop
