# The two commands a new user needs: `make run` and `make test` (see README.md).
# Everything installs into .venv; stamps under .venv/ skip work that is already done.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMPS := $(VENV)/.stamps
# Build llama.cpp's library only (no examples, tests, tools or C++ server): ~5 min on 2 cores.
# CPU features are named from /proc/cpuinfo instead of -march=native, which also turns on
# llama.cpp's AMX kernels on CPUs that advertise AMX; in this workplace's virtual machines
# those crash (SIGSEGV in ggml_backend_amx_mul_mat, seen 2026-11-30), so AMX stays off.
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
has = $(filter $(1),$(CPU_FLAGS))
LLAMA_CPU_ARGS := -DGGML_NATIVE=OFF \
  $(if $(call has,avx512f),-DGGML_AVX512=ON) \
  $(if $(call has,avx512_vnni),-DGGML_AVX512_VNNI=ON) \
  $(if $(call has,avx512vbmi),-DGGML_AVX512_VBMI=ON) \
  $(if $(call has,avx512_bf16),-DGGML_AVX512_BF16=ON) \
  $(if $(call has,avx_vnni),-DGGML_AVX_VNNI=ON)
LLAMA_CMAKE_ARGS := -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF $(strip $(LLAMA_CPU_ARGS))
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: run test install install-local install-browser install-postgres ingest eval bench lint format clean help

help:
	@echo "make run      install what is missing, ingest seeds/, open the chat on http://$(HOST):$(PORT)"
	@echo "make test     install what is missing and run every test (plus the eval gate)"
	@echo "make eval     score the seed suite and the squad2-open, users'-words, everyday and injection test parts"
	@echo "make bench    print speed, scale and memory figures"
	@echo "make lint     ruff check + ruff format --check + mypy"

run: install install-local
	$(VENV)/bin/assistant chat --ingest --host $(HOST) --port $(PORT)

test: install install-local install-browser install-postgres
	bash .ci/test

install: $(STAMPS)/base
install-local: $(STAMPS)/local
install-browser: $(STAMPS)/browser
install-postgres: $(STAMPS)/postgres

$(STAMPS)/venv:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	mkdir -p $(STAMPS) && touch $@

# torch first: the local CPU wheel of 2.13.0; any other spec would pull GBs of CUDA packages.
$(STAMPS)/base: $(STAMPS)/venv pyproject.toml
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[openai,chat,eval,bench,dev]'
	touch $@

# llama.cpp is compiled for this machine's CPU, so a wheel built elsewhere (or with other
# flags, pip's wheel cache does not know CMAKE_ARGS) is never reused.
$(STAMPS)/local: $(STAMPS)/base
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install --quiet --no-cache-dir -e '.[local]'
	touch $@

# Debian's Chromium for the browser tests (never `playwright install`: it downloads a browser),
# and iproute2 for `ip`, which the offline test run uses inside `unshare -n`.
$(STAMPS)/browser: $(STAMPS)/venv
	command -v chromium >/dev/null && command -v ip >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core iproute2 >/dev/null; }
	touch $@

# Debian's PostgreSQL binaries for the store tests, which start a server of their own (initdb
# in a temporary folder, eval/deploy/postgres.py). No service is started: a policy-rc.d that refuses
# is put in place for the install when the machine has none (and removed after).
$(STAMPS)/postgres: $(STAMPS)/venv
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && \
	  made=; [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && \
	    chmod +x /usr/sbin/policy-rc.d && made=1; }; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; status=$$?; \
	  [ -z "$$made" ] || rm -f /usr/sbin/policy-rc.d; exit $$status; }
	touch $@

ingest: install
	$(VENV)/bin/assistant ingest

eval: install install-local
	$(VENV)/bin/assistant eval --generator extractive --generator local
	$(VENV)/bin/assistant eval --suite squad2-open --generator extractive --generator local
	$(VENV)/bin/assistant eval --suite users-words --generator extractive --generator local
	$(VENV)/bin/assistant eval --suite everyday --generator extractive --generator local
	$(VENV)/bin/assistant eval --suite injection --generator extractive --generator local

bench: install install-local install-postgres
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
