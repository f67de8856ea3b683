# The two commands of the README: `make lab` and `make test`. Each creates .venv on first use
# (and refreshes it when pyproject.toml or constraints.txt change).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JUPYTER_PLATFORM_DIRS := 1

.PHONY: lab test lint doctor lock bench clean

lab: $(VENV)/.installed
	$(BIN)/workshop lab $(LAB_ARGS)

# Tests first (pytest-xdist), then every chapter through `workshop check` (nbval per notebook).
test: $(VENV)/.installed
	$(BIN)/pytest -n 2 --dist loadscope tests $(TEST_ARGS)
	$(BIN)/workshop check -j 3

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

doctor: $(VENV)/.installed
	$(BIN)/workshop doctor

bench: $(VENV)/.installed
	$(BIN)/python scripts/bench_postgres.py
	$(BIN)/python scripts/bench_course.py

lock:
	scripts/lock.sh

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -c constraints.txt -e .
	@touch $@

clean:
	-$(BIN)/workshop db stop
	rm -rf $(VENV) .workshop
