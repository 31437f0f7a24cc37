# Newsroom: `make run` for a demo site, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# The demo runs with DEBUG on (media served, development secret key) unless you set them.
# Background tasks run in the request in the demo (no worker to start); production queues them.
RUN_ENV := DEBUG=$${DEBUG:-1} TASKS_BACKEND=$${TASKS_BACKEND:-immediate}
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PASSWORD ?= newsroom-demo

.PHONY: run test venv install install-dev migrate demo runserver serve worker lint bench load clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(RUN_ENV) $(PY) manage.py migrate --no-input

demo: migrate
	$(RUN_ENV) $(PY) manage.py import_articles demo/ --publish
	$(RUN_ENV) $(PY) manage.py create_demo_users --password "$(DEMO_PASSWORD)"
	$(RUN_ENV) $(PY) manage.py verify_demo_figures

runserver:
	@echo "Newsroom: site http://$(HOST):$(PORT)/  admin http://$(HOST):$(PORT)/admin/"
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

run: demo runserver

# Production: gunicorn (gunicorn.conf.py) with whitenoise serving the collected static files.
# Takes the environment as it is (DEBUG off unless set): see README "Production deployment".
# Migrations are a separate release step (`manage.py migrate`, once, not on every app server).
serve: install
	$(PY) manage.py collectstatic --no-input --verbosity 0
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn

# The background worker (README "Background work"): runs queued image downloads, figure
# extraction and page-document rebuilds; as many as you like, beside the app servers.
worker: install
	$(PY) manage.py db_worker --no-reload

lint: install-dev
	$(BIN)/ruff check .

test: install-dev
	$(BIN)/ruff check .
	DEBUG=1 $(PY) manage.py check --fail-level WARNING
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	DEBUG=1 $(BIN)/pytest $(PYTEST_ARGS)

# Throughput of the article and list pages against a trivial view, in-process and under
# gunicorn, on a separate database (bench/settings.py); then the JSON API list and NDJSON dump
# of 10,000 generated articles on another (bench/api.py); then the figure extractor's precision
# and recall on the hand-labelled articles, with every miss (bench/figures.py); numbers in README "Performance".
bench: install
	DEBUG=0 DJANGO_SETTINGS_MODULE=bench.settings $(PY) -m bench.run $(BENCH_ARGS)
	$(PY) -m bench.figures

# Load (issue 7): wrk at 64 connections for 60 s over pages and API calls against gunicorn (gunicorn.conf.py)
# on PostgreSQL (its own database, newsroom_load) with the Redis page cache, then the same load while
# PostgreSQL is stopped and started (as root: pg_ctlcluster). See bench/load.py; LOAD_ARGS="--duration 10".
load: install
	@command -v wrk >/dev/null 2>&1 || { echo "make load needs wrk: apt-get install -y wrk (macOS: brew install wrk)"; exit 1; }
	DEBUG=0 DJANGO_SETTINGS_MODULE=bench.settings $(PY) -m bench.load $(LOAD_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .ruff_cache
