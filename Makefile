# The two commands the README opens with. Both work on a fresh machine with only Python 3.11:
# they create .venv and install signoff into it on first use.
PYTHON ?= python3
EXTRAS ?= dev
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

# `make demo PORT=8600` picks the port; without it, 8501 or the next free one. Run twice, it
# reuses the app already serving the demo database and prints its links again.
demo: $(STAMP)
	$(BIN)/signoff demo $(if $(PORT),--port $(PORT))

test: $(STAMP)
	$(BIN)/ruff check reviewer judge tests data bench docs
	$(BIN)/python -m pytest -n auto --doctest-modules reviewer judge tests

lint: $(STAMP)
	$(BIN)/ruff check reviewer judge tests data bench docs
	$(BIN)/ruff format --check reviewer judge tests data bench docs

bench: $(STAMP)
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/judge_throughput.py

# docs/cli.md and docs/schema.md are generated from the code; tests/test_docs.py fails when stale.
docs: $(STAMP)
	$(BIN)/python docs/generate.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache signoff-demo.duckdb
