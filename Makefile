# The two commands a newcomer needs:  make serve   and   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
FSDD   ?= ../shared/data/fsdd

.PHONY: serve test lint default-bundle study-bundle clean bench soak audit

# Serving needs only the `serve` extra: no TensorFlow.
$(BIN)/.serve: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[serve]'
	touch $@

# Tests and training need everything.
$(BIN)/.dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(BIN)/.serve

serve: $(BIN)/.serve
	$(BIN)/uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT) --no-access-log

test: $(BIN)/.dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/.dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Retrain the shipped default bundle on FSDD (about 5 minutes on 2 cores).
default-bundle: $(BIN)/.dev
	$(BIN)/python -m training fit --data $(FSDD) --layout fsdd --model mlp \
		--widths 64 32 --latent-dim 16 --epochs 100 --out models/default

# The study's exact MLP (37.65 M parameters, ~150 MB: not committed).
study-bundle: $(BIN)/.dev
	$(BIN)/python -m training fit --data $(FSDD) --layout fsdd --model mlp \
		--widths 1024 512 256 --latent-dim 2 --epochs 60 --out models/study-mlp

clean:
	rm -rf $(VENV) .cache runs .pytest_cache .ruff_cache *.egg-info

# Speed benchmark (Markdown table + reports/bench.json) and the 10-minute soak.
bench: $(BIN)/.dev
	$(BIN)/python -m benchmarks run

soak: $(BIN)/.dev
	$(BIN)/python -m benchmarks soak --minutes 10

# Known vulnerabilities in what the serving image installs; --strict fails when a package
# could not be checked (needs a vulnerability database:
# PyPI's JSON API or OSV, which CI's network may not reach).
audit: $(BIN)/.dev
	rm -rf .cache/audit-venv && $(PYTHON) -m venv .cache/audit-venv
	.cache/audit-venv/bin/pip install --quiet '.[serve]'
	$(BIN)/pip-audit --strict --progress-spinner off --path .cache/audit-venv/lib/python*/site-packages
