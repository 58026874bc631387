# The two commands the README opens with. Both work on a fresh machine with only Python 3.11:
# they create .venv and install signoff into it on first use.
PYTHON ?= python3
# EXTRAS=local compiles llama.cpp (llama-cpp-python). Its default -march=native build runs AMX
# kernels on CPUs that report AMX, and on these machines they crash the server on its first
# request (SIGSEGV in ggml_backend_amx_mul_mat): build for AVX2 instead, which every x86-64
# machine here has. A CMAKE_ARGS of your own wins.
ifeq ($(shell uname -m),x86_64)
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
else
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF
endif
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
