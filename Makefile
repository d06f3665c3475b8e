# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test install install-test benchmarks schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-test: $(STAMP_TEST)

demo: $(STAMP_RUN)
	$(BIN)/python -m profiler demo

test: $(STAMP_TEST)
	$(BIN)/python -m pytest

# Benchmarks run in their own venv so that baselines with conflicting pins (factor_analyzer needs
# scikit-learn < 1.8) are timed in the same run as profiler without touching .venv.
BENCH := .venv-bench
$(BENCH)/.installed: pyproject.toml benchmarks/requirements.txt
	$(PYTHON) -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH)/bin/python -m pip install --quiet -e '.[web,postgres,batch]' -r benchmarks/requirements.txt
	touch $@

benchmarks: $(BENCH)/.installed
	$(BENCH)/bin/python -m benchmarks

schema: $(STAMP_RUN)
	$(BIN)/profiler schema > questionnaires/schema.json
	$(BIN)/python -m pip install --quiet -e '.[web]'
	$(BIN)/profiler api openapi > docs/openapi-v1.json

clean:
	rm -rf $(VENV) $(BENCH) build dist *.egg-info .pytest_cache
