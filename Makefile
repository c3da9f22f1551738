# nnmagics: `make demo` and `make test` work on a fresh machine (they create .venv when missing).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export MPLBACKEND := Agg
export KERAS_BACKEND := tensorflow

.PHONY: install browser test demo bench lab clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The browser test drives Debian's Chromium (Playwright never downloads its own browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium ) >/dev/null \
	  || echo "nnmagics: could not install chromium; the browser test will be skipped (outside CI)"; }

test: install browser
	$(PY) -m pytest -q

demo: install
	$(PY) -m nnmagics._notebooks demos

bench: install
	$(PY) bench/run_all.py

lab: install
	$(VENV)/bin/jupyter lab demos

clean:
	rm -rf $(VENV) demos/executed .pytest_cache
