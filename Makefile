# The two commands a newcomer needs:  make serve   and   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
FSDD   ?= ../shared/data/fsdd
# The speaker no VAE and not the judge ever trains on: every reported figure is on this voice.
HELD_OUT ?= theo
EPOCHS   ?= 50
CMP_MINUTES ?= 12

.PHONY: serve test lint default-bundle cvae-bundle study-bundle judge digits results clean bench soak audit

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

# One worker process per core (WEB_CONCURRENCY=N to choose), metrics shared between them.
serve: $(BIN)/.serve
	$(BIN)/python -m app.serve --host $(HOST) --port $(PORT)

test: $(BIN)/.dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/.dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# The judge: a digit classifier on real recordings of the other speakers (models/judge,
# committed, ~0.6 MB; mel front end, frequency-warp and time-stretch augmentation; about 7
# minutes on one core). Evaluations use it; VAEs never train on it.
judge: $(BIN)/.dev
	$(BIN)/python -m training classifier --data $(FSDD) --test-speakers $(HELD_OUT) \
		--out models/judge

# The default bundle's digit classifier (models/digits, committed, ~0.6 MB): the judge's
# recipe plus 3 waveform-augmented copies of each clip (training/data/augment.py) and the
# espeak-ng TRAIN_VOICES as extra data (training/data/espeak.py; needs espeak-ng), so that it
# names the digit of voices unlike FSDD's; /reconstruct and POST /v1/voices use it.
digits: $(BIN)/.dev
	$(BIN)/python -m training espeak --dest .cache/espeak-train --group train
	$(BIN)/python -m training classifier --data $(FSDD) --test-speakers $(HELD_OUT) \
		--augment 3 --extra-data .cache/espeak-train --out models/digits

# Retrain the shipped default bundle: the speaker-conditioned VAE (training/models/speaker_*.py)
# on FSDD's takes 5-49 (never theo) plus the many-speaker set's training split (trimmed; never
# its 28 held-out speakers), a speaker encoder learned end to end on other clips of the same
# speaker, 24 built-in voices; at most SPEAKER_MINUTES of training on 2 cores and about 3
# minutes of export, with models/digits as its classifier; then evaluate it (report in
# reports/default/, the independent instruments' tables in docs/independent.md).
SPEECH ?= ../shared/data/speech-commands-digits
SPEAKER_MINUTES ?= 40
default-bundle: $(BIN)/.dev
	$(BIN)/python -m training.models.speaker_fit --fsdd $(FSDD) --many $(SPEECH) \
		--held-out $(HELD_OUT) --minutes $(SPEAKER_MINUTES) --classifier models/digits \
		--out models/default
	$(BIN)/python -m training evaluate models/default --data $(FSDD) --many $(SPEECH) --variants
	$(BIN)/python -m training.evaluation.independent models/default --fsdd $(FSDD) \
		--many $(SPEECH) --markdown

# The previous default: the digit-conditional conv VAE on FSDD alone plus 3 augmented copies
# of each clip (at most 40 minutes of training), its voices each speaker's latent region.
cvae-bundle: $(BIN)/.dev
	$(BIN)/python -m training fit --data $(FSDD) --layout fsdd --model cvae \
		--latent-dim 16 --epochs $(EPOCHS) --minutes 40 --kl-warmup 3 --augment 3 \
		--split speaker --test-speakers $(HELD_OUT) --judge models/digits --out models/cvae
	$(BIN)/python -m training evaluate models/cvae --data $(FSDD) --variants

# The comparison table docs/results.md: the same data, split, seed and wall-clock budget
# (CMP_MINUTES of training on 2 cores) for each model, since the study's MLP costs ~15x more
# per epoch than the conv VAEs (about an hour in all; bundles under models/cmp-*, not
# committed), plus the default (evaluated by `make default-bundle`).
CMP_FIT = $(BIN)/python -m training fit --data $(FSDD) --layout fsdd --epochs 1000 \
	--minutes $(CMP_MINUTES) --split speaker --test-speakers $(HELD_OUT)
results: $(BIN)/.dev
	$(CMP_FIT) --model mlp --widths 1024 512 256 --latent-dim 2 --out models/cmp-mlp-study
	$(CMP_FIT) --model mlp --widths 1024 512 256 --latent-dim 16 --out models/cmp-mlp-latent16
	$(CMP_FIT) --model conv --latent-dim 16 --kl-warmup 10 --out models/cmp-conv
	$(CMP_FIT) --model cvae --latent-dim 16 --kl-warmup 10 --judge models/judge --out models/cmp-cvae
	for b in cmp-mlp-study cmp-mlp-latent16 cmp-conv cmp-cvae; do \
		$(BIN)/python -m training evaluate models/$$b --data $(FSDD) || exit 1; done
	$(BIN)/python -m training compare models/cmp-mlp-study models/cmp-mlp-latent16 \
		models/cmp-conv models/cmp-cvae models/default

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
