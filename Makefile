# Two commands reproduce and test the study on a fresh Debian machine with Python >= 3.11:
#   make reproduce   creates .venv, installs the pinned environment and system fonts, runs the whole study
#   make test        creates .venv if missing, installs the test browser/office tools, runs the tests
SHELL := /bin/bash
# One BLAS thread: a threaded BLAS splits its sums by thread (machine-dependent last bits) and oversubscribes
# the cores the resamplers use. `resilience` itself also pins the threads, the OpenBLAS kernel and numpy's
# SIMD loops before numpy loads (analysis/_determinism.py; README, Reproducibility: Precision).
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages: CJK font for Chinese labels in figures (reproduce); Chromium and LibreOffice
# (headless checks of the built book and the DOCX report, test only); poppler-utils (pdftotext of the
# report rendered to PDF, test only).
SYS_REPRODUCE := fonts-noto-cjk
SYS_TEST := fonts-noto-cjk chromium libreoffice-writer-nogui poppler-utils

.PHONY: reproduce test test-slow setup book report verify lock sysdeps-reproduce sysdeps-test clean bench

reproduce: $(STAMP) sysdeps-reproduce
	$(BIN)/resilience reproduce

test: $(STAMP) sysdeps-test
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

test-slow: $(STAMP) sysdeps-test
	$(BIN)/python -m pytest -q -m slow

book: $(STAMP) sysdeps-reproduce
	$(BIN)/resilience reproduce book

report: $(STAMP) sysdeps-reproduce
	$(BIN)/resilience reproduce report

verify: $(STAMP) sysdeps-reproduce
	$(BIN)/resilience verify

# Everything installed, nothing run (CI uses this before building the book).
setup: $(STAMP) sysdeps-test

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_bootstrap.py --draws 5000 --semopy 3 --lavaan 30
	$(BIN)/python benchmarks/bench_power.py --full
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_parallel.py
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_fiml_scale.py

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	# compat mode: a plain path entry instead of setuptools' import finder (~16 ms off every command's start-up)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --config-settings editable_mode=compat -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# Install missing Debian packages (as root, or with sudo); otherwise fail with the exact instruction.
define ensure_debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	    echo "Missing Debian packages:$$missing. Install them with: sudo apt-get install -y$$missing" >&2; exit 1; fi; \
	  echo "installing Debian packages:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends$$missing >/dev/null \
	    || { echo "Could not install:$$missing. Install them with: sudo apt-get install -y$$missing" >&2; exit 1; }; \
	  rm -rf $$HOME/.cache/matplotlib; \
	fi
endef

sysdeps-reproduce:
	$(call ensure_debs,$(SYS_REPRODUCE))

sysdeps-test:
	$(call ensure_debs,$(SYS_TEST))

# Refresh the lock file from the current environment (maintainers only).
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e ' | LC_ALL=C sort > requirements.lock

clean:
	rm -rf book/_build reports data/processed .doit.db
