# Keel: `make up` starts the server, `make test` runs every gate. Both build .venv from uv.lock, exactly.
#
# Every environment here is installed from a committed lock with exact, hashed versions (uv.lock for Keel,
# benchmarks/peers/*/uv.lock for the tools `make bench` compares with). uv itself comes from PyPI, pinned by
# hash in requirements/uv.txt. torch is the CPU build this machine kind keeps in /opt/wheels; its file is
# checked against requirements/torch.sha256 because uv records no hash for a local wheel. `make lock`
# refreshes the locks on purpose; a lock that disagrees with pyproject.toml stops every target with the fix.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TOOLS  := .venv-tools
UV     := $(TOOLS)/bin/uv
SYNC    = UV_PYTHON=$(PYTHON) UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=$(abspath $(1)) $(abspath $(UV)) sync --frozen --no-progress --quiet --compile-bytecode
SRC    := src tests benchmarks examples
PEERS  := phoenix litellm mlflow

.PHONY: up install dev test check lint typecheck pytest bench lock lock-check doctor clean

$(UV): requirements/uv.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip --disable-pip-version-check -q install --no-deps --require-hashes -r $<
	@touch $@

lock-check: | $(UV)
	@$(UV) lock --check --offline --quiet 2>/dev/null || $(UV) lock --check --quiet 2>/dev/null || \
	  { echo "error: uv.lock does not match pyproject.toml; run 'make lock' and commit uv.lock" >&2; exit 1; }
	@sha256sum --quiet --status -c requirements/torch.sha256 || \
	  { echo "error: /opt/wheels has no torch wheel matching requirements/torch.sha256 (this machine kind's CPU build)" >&2; exit 1; }

lock: | $(UV)
	$(UV) lock
	for peer in $(PEERS); do (cd benchmarks/peers/$$peer && $(abspath $(UV)) lock); done

# A lock change rebuilds the environment from scratch, so what runs is exactly what a new machine installs.
$(VENV)/.installed: uv.lock pyproject.toml | lock-check
	rm -rf $(VENV)
	$(call SYNC,$(VENV)) --extra local --group models
	@touch $@

$(VENV)/.dev: uv.lock pyproject.toml | lock-check
	rm -rf $(VENV)
	$(call SYNC,$(VENV)) --extra local --extra dev --group models
	@touch $@ $(VENV)/.installed

# The UI tests drive Debian's Chromium (Playwright cannot download a browser here).
$(VENV)/.browser: | $(VENV)/.dev
	command -v chromium >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)
	@touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev

up: install
	$(BIN)/keel serve

doctor: install
	$(BIN)/keel doctor

check: lint typecheck

lint: dev
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	@out=$$($(BIN)/lint-imports --no-cache) || { echo "$$out"; exit 1; }; echo "$$out" | tail -n 1

typecheck: dev
	$(BIN)/mypy

# Three workers, each taking whole files (module fixtures stay in one process): e2e files wait on servers,
# training processes and the browser, so a third worker fills those waits on two cores (201 s against 228 s
# with two, measured side by side in docs/testing.md).
# Bytecode is written as modules load (some environments set PYTHONDONTWRITEBYTECODE, which makes every
# server and subprocess the suite starts compile Keel and its libraries again).
pytest: dev $(VENV)/.browser
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n 3 --dist loadfile

test: lock-check check pytest

# Benchmark peers, each in its own locked environment.
.venv-%/.installed: benchmarks/peers/%/uv.lock | $(UV)
	rm -rf .venv-$*
	cd benchmarks/peers/$* && $(call SYNC,.venv-$*)
	@touch $@

bench: dev $(foreach peer,$(PEERS),.venv-$(peer)/.installed)
	$(call SYNC,$(VENV)) --extra local --extra dev --group models --group bench
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(TOOLS) $(foreach peer,$(PEERS),.venv-$(peer)) .mypy_cache .ruff_cache .pytest_cache
