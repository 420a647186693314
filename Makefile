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

# One worker per kind of work, all on this machine: events are never stuck behind an import or a rescore.
# At scale run each line on machines of its own (see the README's "Workers and queues").
worker: venv
	@trap 'kill 0' INT TERM EXIT; \
	$(VENV)/bin/celery -A salesapp worker -Q events -c 2 -n events@%h -l $${WORKER_LOG_LEVEL:-warning} & \
	$(VENV)/bin/celery -A salesapp worker -Q rescoring,periodic -c 1 -n rescoring@%h -l $${WORKER_LOG_LEVEL:-warning} & \
	$(VENV)/bin/celery -A salesapp worker -Q jobs -c 1 -n jobs@%h -l $${WORKER_LOG_LEVEL:-warning} & \
	wait

beat: venv
	$(VENV)/bin/celery -A salesapp beat -l $${WORKER_LOG_LEVEL:-warning}
