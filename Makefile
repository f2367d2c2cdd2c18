# Two commands matter: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
UV := .uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_LINK_MODE := copy
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate messages compilemessages seed lint format bench-ingest bench-scoring bench-pages bench-faults bench-handoff bench-import-sqlite bench-review bench-reports worker beat clean system-deps

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check "uv>=0.8,<0.20"

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON) --all-groups
	touch $@

install: $(VENV)/.installed

compilemessages: install
	$(PY) manage.py compile_translations

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py rescore --full

## make run: set up (venv, database, translations, demo data) and serve on http://$(HOST):$(PORT)
run: compilemessages seed
	@echo "Portal: http://$(HOST):$(PORT)  (demo users: marketing, insidesales, sales, manager, admin …; password: demo)"
	$(PY) manage.py runserver $(HOST):$(PORT)

## make test: the whole suite (SQLite by default; Postgres/Redis when DATABASE_URL/REDIS_URL are set)
test: compilemessages system-deps
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

system-deps:
	@bash scripts/ensure_system_deps.sh

messages: install
	$(PY) manage.py makemessages -l ja --no-location --ignore ".venv/*" --ignore ".uv/*" --ignore "static/vendor/*"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make bench-ingest: API and CSV ingestion throughput on PostgreSQL, beside COPY and INSERT floors
bench-ingest: compilemessages
	$(PY) benchmarks/bench_ingest.py

## make bench-scoring: full (Celery, chunked) and incremental rescoring on PostgreSQL, beside one SQL statement
bench-scoring: compilemessages
	$(PY) benchmarks/bench_scoring.py

## make bench-pages: the leads pages' p95 and the export on PostgreSQL at 200,000 leads
bench-pages: compilemessages
	$(PY) benchmarks/bench_pages.py

## make bench-faults: the injected faults (killed worker, Redis restart, two rescores, dropped connection)
bench-faults: compilemessages
	$(PY) benchmarks/bench_faults.py

## make bench-handoff: the queue pages and MQL assignment on PostgreSQL at 100,000 open MQLs
bench-handoff: compilemessages
	$(PY) benchmarks/bench_handoff.py

## make bench-reports: the six feedback report pages on PostgreSQL with a year of history
bench-reports: compilemessages
	$(PY) benchmarks/bench_reports.py

## make bench-import-sqlite: a 41,000-row CP932 import on SQLite (embedded default) beside PostgreSQL
bench-import-sqlite: compilemessages
	$(PY) benchmarks/bench_import_sqlite.py

## make bench-review: the threshold review on the UCI bank-marketing calls (SQLite; TRAIN= TEST= to choose files)
bench-review: compilemessages
	$(PY) benchmarks/bench_review.py

worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=2

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO

clean:
	rm -rf $(VENV) .uv staticfiles db.sqlite3*
