# The two commands a new user needs: `make run` and `make test` (see README.md).
# Everything installs into .venv; stamps under .venv/ skip work that is already done.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMPS := $(VENV)/.stamps
# Build llama.cpp's library only (no examples, tests, tools or C++ server): ~5 min on 2 cores.
LLAMA_CMAKE_ARGS := -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: run test install install-local install-browser ingest eval bench lint format clean help

help:
	@echo "make run      install what is missing, ingest seeds/, open the chat on http://$(HOST):$(PORT)"
	@echo "make test     install what is missing and run every test (plus the eval gate)"
	@echo "make eval     score the question-answer suite (extractive and local)"
	@echo "make bench    print speed, scale and memory figures"
	@echo "make lint     ruff check + ruff format --check + mypy"

run: install install-local
	$(VENV)/bin/assistant chat --ingest --host $(HOST) --port $(PORT)

test: install install-local install-browser
	bash .ci/test

install: $(STAMPS)/base
install-local: $(STAMPS)/local
install-browser: $(STAMPS)/browser

$(STAMPS)/venv:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	mkdir -p $(STAMPS) && touch $@

# torch first: the local CPU wheel of 2.13.0; any other spec would pull GBs of CUDA packages.
$(STAMPS)/base: $(STAMPS)/venv pyproject.toml
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[openai,chat,eval,bench,dev]'
	touch $@

$(STAMPS)/local: $(STAMPS)/base
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install --quiet -e '.[local]'
	touch $@

# Debian's Chromium for the browser tests (never `playwright install`: it downloads a browser),
# and iproute2 for `ip`, which the offline test run uses inside `unshare -n`.
$(STAMPS)/browser: $(STAMPS)/venv
	command -v chromium >/dev/null && command -v ip >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core iproute2 >/dev/null; }
	touch $@

ingest: install
	$(VENV)/bin/assistant ingest

eval: install install-local
	$(VENV)/bin/assistant eval --generator extractive --generator local

bench: install install-local
	$(VENV)/bin/assistant bench

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy assistant index eval prompts

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf data eval/results .pytest_cache .ruff_cache .mypy_cache
