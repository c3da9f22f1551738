# nnmagics: `make demo` and `make test` work on a fresh machine (they create .venv when missing).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export MPLBACKEND := Agg
export TF_CPP_MIN_LOG_LEVEL := 2
export KERAS_BACKEND := tensorflow

.PHONY: install test demo bench lab clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

test: install
	$(PY) -m pytest -q

demo: install
	$(PY) -m nnmagics._notebooks demos

bench: install
	$(PY) bench/run_all.py

lab: install
	$(PY) -m pip install --quiet jupyterlab
	$(VENV)/bin/jupyter lab demos

clean:
	rm -rf $(VENV) demos/executed .pytest_cache
