# The two commands the README promises: `make demo` and `make test`.
# Each depends on `install`, so either works alone on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
# Optional dependency groups of pyproject.toml, e.g. `make install EXTRAS=dev,tensorboard`.
EXTRAS ?= dev
comma  := ,
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: install test lint demo bench clean

install: $(STAMP)

# torch goes in first, pinned: a bare `torch` requirement resolved later would
# pull a multi-GB CUDA build. The stamp makes a second `make install` a no-op
# unless pyproject.toml (or EXTRAS) changed.
# One OpenCV: mmaction2 1.2.0 declares opencv-contrib-python, mmengine and mmcv-lite declare
# opencv-python; both write the same cv2/ package (the last one installed wins, the other's
# libraries stay behind, ~200 MB) and uninstalling either breaks cv2. Nothing pal-eval runs
# needs a contrib module (only mmaction2's optional tools/misc/flow_extraction.py uses
# cv2.optflow), so the contrib copy goes and opencv-python's files are put back. Any later
# `pip install` of pal-eval brings contrib back: install extras through this target.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install "torch==2.13.0"
	$(PIP) install -e ".[$(EXTRAS)]"
	@if $(PY) -m pip show -q opencv-contrib-python 2>/dev/null; then \
		$(PIP) uninstall -y opencv-contrib-python && \
		$(PIP) install --no-deps --force-reinstall \
			"opencv-python==$$($(PY) -c 'import importlib.metadata as m; print(m.version("opencv-python"))')"; \
	fi
	@# yapf's grammar cache, built once here: processes importing MMEngine together right
	@# after an install can otherwise read it half-written (pal_eval/compat.py).
	@$(PY) -c 'from pal_eval.compat import prime_yapf_grammar_cache as p; p()'
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
