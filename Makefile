# The two commands the README promises: `make demo` and `make test`.
# Each depends on `install`, so either works alone on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.installed

.PHONY: install test lint demo bench clean

install: $(STAMP)

# torch goes in first, pinned: a bare `torch` requirement resolved later would
# pull a multi-GB CUDA build. The stamp makes a second `make install` a no-op
# unless pyproject.toml changed.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install "torch==2.13.0"
	$(PIP) install -e ".[dev]"
	@touch $(STAMP)

lint: install
	$(VENV)/bin/ruff check pal_eval heads configs benchmarks tests

test: install lint
	$(VENV)/bin/pytest -q tests
	$(VENV)/bin/pytest -q --doctest-modules pal_eval heads

demo: install
	$(PY) -m pal_eval.cli demo --out work_dirs/demo

bench: install
	$(PY) benchmarks/bench_metrics.py
	$(PY) benchmarks/bench_heads.py
	$(PY) benchmarks/bench_extract.py
	$(PY) benchmarks/bench_pretrain.py

clean:
	rm -rf $(VENV) work_dirs .pytest_cache .ruff_cache
