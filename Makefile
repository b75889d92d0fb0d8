# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_SUBJECTS ?= 3000
DEMO_RECORDS ?= 12000
export XINYONG_DATABASE_URL ?= sqlite:///var/xinyong.db

.PHONY: run test install install-dev system-deps demo serve bench lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

system-deps:
	scripts/install-system-deps.sh

# Creates the environment, migrates, loads demo data once, and serves on http://$(HOST):$(PORT) with the
# worker of the scheduled jobs beside it
run: install
	mkdir -p var
	$(VENV)/bin/xinyong db upgrade
	@if [ ! -f var/.demo-loaded ]; then \
		$(VENV)/bin/xinyong demo load --subjects $(DEMO_SUBJECTS) --records $(DEMO_RECORDS) --seed 1 && touch var/.demo-loaded; \
	fi
	@# The worker runs the scheduled jobs beside the server and stops with it.
	$(VENV)/bin/xinyong worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/xinyong serve --host $(HOST) --port $(PORT)

test: install-dev system-deps
	scripts/test.sh

bench: install-dev system-deps
	$(PY) benchmarks/ingest.py

lint: install-dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/lint-imports

clean:
	rm -rf var test-artifacts
