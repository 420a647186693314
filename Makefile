# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv lint check bench worker beat

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

# DEBUG is off unless DJANGO_DEBUG=1: --insecure lets the development server serve the static files all the same.
run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver --insecure $(HOST):$(PORT)

test: venv
	$(PY) -m pytest -q

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# The seed's performance table at BENCH_LEADS leads (default 1,000,000) on PostgreSQL + Redis.
bench: venv
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	BENCH_LEADS=$${BENCH_LEADS:-1000000} $(PY) tests/bench/run_bench.py

worker: venv
	$(VENV)/bin/celery -A salesapp worker -Q celery,events -l info

beat: venv
	$(VENV)/bin/celery -A salesapp beat -l info
