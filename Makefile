# The two commands of the README: `make lab` and `make test`. Each creates .venv on first use
# (and refreshes it when pyproject.toml or constraints.txt change).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JUPYTER_PLATFORM_DIRS := 1

HUB_PROXY := .workshop/hub-proxy

.PHONY: help setup lab test lint doctor lock bench wheelhouse clean hub-proxy

help:  ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 12

setup: $(VENV)/.installed  ## only create .venv (what `make lab` and `make test` do first)

lab: $(VENV)/.installed  ## set up, start PostgreSQL, open the course in JupyterLab
	$(BIN)/workshop lab $(LAB_ARGS)

# Tests first (pytest-xdist), then every chapter through `workshop check` (nbval per notebook).
test: $(VENV)/.installed $(VENV)/.hub $(HUB_PROXY)/.installed  ## set up, run every test, then every chapter through nbval
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

# What only the JupyterHub test (tests/test_hub.py) needs: the `hub` extra in .venv, and the
# hub's proxy from npm, pinned by tests/hub/package-lock.json, in .workshop/hub-proxy (ignored by
# git). Without npm, or when npm fails: a note, and that test is skipped (it fails in CI).
$(VENV)/.hub: $(VENV)/.installed
	$(BIN)/python -m pip install -qq $(PIP_ARGS) -c constraints.txt -e '.[hub]'
	@touch $@

hub-proxy: $(HUB_PROXY)/.installed  ## configurable-http-proxy (npm) for the JupyterHub test

$(HUB_PROXY)/.installed: tests/hub/package.json tests/hub/package-lock.json
	@if command -v npm >/dev/null; then \
	  mkdir -p $(HUB_PROXY) && cp tests/hub/package.json tests/hub/package-lock.json $(HUB_PROXY)/ \
	  && npm ci --prefix $(HUB_PROXY) --no-audit --no-fund --loglevel=error && touch $@ \
	  || echo "npm could not install configurable-http-proxy: the JupyterHub test will be skipped."; \
	else echo "No npm here: the JupyterHub test will be skipped (it needs Node.js and npm)."; fi

clean:  ## stop the embedded server, remove .venv and its data
	-$(BIN)/workshop db stop
	rm -rf $(VENV) .workshop
