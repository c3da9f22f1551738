# nnmagics: `make demo` and `make test` work on a fresh machine (they create .venv when missing).
# `make test-colab` runs the same suite on Google Colab's versions (.venv-colab, constraints/colab.txt).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CVENV  := .venv-colab
CPY    := $(CVENV)/bin/python
CSTAMP := $(CVENV)/.installed
# the other Keras backends, each in an environment WITHOUT TensorFlow
JVENV  := .venv-jax
JPY    := $(JVENV)/bin/python
JSTAMP := $(JVENV)/.installed
TVENV  := .venv-torch
TPY    := $(TVENV)/bin/python
TSTAMP := $(TVENV)/.installed
# PyTorch's CPU build (a plain `torch` from PyPI pulls several GB of CUDA libraries)
TORCH  ?= torch==2.13.0
export MPLBACKEND := Agg
export KERAS_BACKEND := tensorflow
# a worker per core (at most 3: each holds TensorFlow and a kernel), each test file on one worker in its order
# (most tests are single-threaded Python: kernels, Keras' tracing); `make test XDIST=` runs serially
XDIST ?= -n auto --maxprocesses 3 --dist loadfile

# the French catalogue: the .po files (one per layer) compiled into the .mo that gettext reads; pip compiles
# it at install (setup.py), this recompiles it when a .po changes (with whichever environment exists)
PO := $(wildcard nnmagics/i18n/fr/*.po)
MO := nnmagics/i18n/fr/LC_MESSAGES/nnmagics.mo
ANYPY = $(firstword $(wildcard $(PY) $(CPY) $(JPY) $(TPY)))

.PHONY: install install-colab install-jax install-torch catalogue po browser test test-fast test-colab test-jax test-colab-jax test-torch demo bench lab clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) catalogue

$(MO): $(PO)
	$(ANYPY) -m nnmagics.i18n compile

catalogue: $(MO)

# what still lacks its French: nnmagics/i18n/missing-fr.po, ready to fill in (docs/translations.md)
po: install
	$(PY) -m nnmagics.i18n missing nnmagics/i18n/missing-fr.po

# Colab's stack: every package Colab pins stays at Colab's version (Python 3.11 stands in for Colab's 3.13).
$(CPY):
	$(PYTHON) -m venv $(CVENV) || python3 -m venv $(CVENV)
	$(CPY) -m pip install --quiet --upgrade pip

$(CSTAMP): pyproject.toml constraints/colab.txt | $(CPY)
	$(CPY) -m pip install --quiet -c constraints/colab.txt -e ".[test,jax]"
	touch $(CSTAMP)

install-colab: $(CSTAMP)
	$(MAKE) catalogue

# JAX (CPU) and PyTorch (CPU) with Keras, no TensorFlow: nnmagics' numpy pipeline and PIL/simplejpeg decoder
$(JPY):
	$(PYTHON) -m venv $(JVENV) || python3 -m venv $(JVENV)
	$(JPY) -m pip install --quiet --upgrade pip

$(JSTAMP): pyproject.toml | $(JPY)
	$(JPY) -m pip install --quiet -e ".[test-tools,jax]"
	touch $(JSTAMP)

install-jax: $(JSTAMP)
	$(MAKE) catalogue

$(TPY):
	$(PYTHON) -m venv $(TVENV) || python3 -m venv $(TVENV)
	$(TPY) -m pip install --quiet --upgrade pip

$(TSTAMP): pyproject.toml | $(TPY)
	$(TPY) -m pip install --quiet "$(TORCH)"
	$(TPY) -m pip install --quiet -e ".[test-tools,torch]" "$(TORCH)"
	touch $(TSTAMP)

install-torch: $(TSTAMP)
	$(MAKE) catalogue

# The browser test drives Debian's Chromium (Playwright never downloads its own browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium ) >/dev/null \
	  || echo "nnmagics: could not install chromium; the browser test will be skipped (outside CI)"; }

test: install browser
	$(PY) -m pytest -q $(XDIST)

# the suite without notebooks and browsers: the quick loop while developing
test-fast: install
	$(PY) -m pytest -q $(XDIST) -m "not notebook and not browser"

# the whole suite on Colab's versions, demos included (tests/test_notebooks.py runs them in a real
# kernel); only the browser test (JupyterLab in Chromium, which Colab does not have) skips there
test-colab: install-colab
	NNMAGICS_STACK=colab $(CPY) -m pytest -q $(XDIST)

# the whole suite on JAX without TensorFlow, notebooks included (CI runs it): every TensorFlow-only test skips
# with its reason (tests/conftest.py); about 23 min on 2 cores (9 without the notebooks): JAX compiles each new
# shape, and tests/conftest.py gives the run one XLA compilation cache, which reads repeated programs back
test-jax: install-jax
	KERAS_BACKEND=jax $(JPY) -m pytest -q $(XDIST) -m "not browser"

# the backend-facing files: the course's steps in a kernel, the import hook, the decoder and batches, devices,
# training, building, Grad-CAM, the panel's Stop click and interrupt in a kernel (Keras runs the batch hook on a
# worker thread on JAX and PyTorch)
BACKEND_TESTS := tests/test_backends.py tests/test_quiet_tf.py tests/test_decode.py tests/test_batches.py \
                 tests/test_device.py tests/test_train.py tests/test_build.py tests/test_gradcam.py tests/test_panel.py

# the same files on JAX in Colab's stack, where TensorFlow is installed too (Colab ships jax 0.7.2 beside
# TensorFlow 2.20): TensorFlow's tensors must not reach JAX, nor TensorFlow be imported for nothing
test-colab-jax: install-colab
	KERAS_BACKEND=jax NNMAGICS_STACK=colab $(CPY) -m pytest -q $(XDIST) $(BACKEND_TESTS)

# on PyTorch without TensorFlow: every test that is not a notebook (each TensorFlow-only test skips with its
# reason), then the course's steps and the panel's Stop click in a real kernel
test-torch: install-torch
	KERAS_BACKEND=torch $(TPY) -m pytest -q $(XDIST) -m "not notebook and not browser"
	KERAS_BACKEND=torch $(TPY) -m pytest -q $(XDIST) -m notebook tests/test_backends.py tests/test_panel.py

demo: install
	$(PY) -m nnmagics._notebooks demos

# every benchmark in one go (~15 min on 2 cores), then README.md's table is rewritten between its
# markers; `make bench BENCH_ARGS=--quick` is a smaller check that leaves README.md alone
bench: install
	$(PY) bench/run_all.py $(BENCH_ARGS)

lab: install
	$(VENV)/bin/jupyter lab demos

clean:
	rm -rf $(VENV) $(CVENV) $(JVENV) $(TVENV) demos/executed .pytest_cache
