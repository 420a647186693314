# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv venv-dev lint check bench worker beat

# Each step says what it does; pip shows its own progress (installing takes a minute or two the first time).
$(VENV)/.created:
	@echo "==> Creating the virtualenv in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> Upgrading pip"
	$(VENV)/bin/pip install --upgrade --progress-bar on pip
	touch $@

# Running needs only requirements.txt; tests and tools (requirements-dev.txt) are installed by `make test`.
$(VENV)/.installed: requirements.txt $(VENV)/.created
	@echo "==> Installing the runtime requirements (requirements.txt)"
	$(VENV)/bin/pip install --progress-bar on -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	@echo "==> Installing the test and tool requirements (requirements-dev.txt)"
	$(VENV)/bin/pip install --progress-bar on -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

venv-dev: $(VENV)/.installed-dev

# DEBUG is off unless DJANGO_DEBUG=1: --insecure lets the development server serve the static files all the same.
run: venv
	@echo "==> Applying database migrations"
	$(PY) manage.py migrate --noinput
	@echo "==> Loading the demo data (once; skipped when it is already there)"
	$(PY) manage.py seed_demo
	@echo "==> Serving http://$(HOST):$(PORT)/ (Ctrl-C stops)"
	$(PY) manage.py runserver --insecure $(HOST):$(PORT)

# The single sign-on tests run a real OpenID provider (npm package oidc-provider, pinned in tests/oidc).
tests/oidc/node_modules/.installed: tests/oidc/package-lock.json
	@echo "==> Installing the OpenID provider for the sign-on tests (npm ci in tests/oidc)"
	cd tests/oidc && npm ci --no-audit --no-fund
	touch $@

test: venv-dev tests/oidc/node_modules/.installed
	$(PY) -m pytest -q

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# The seed's performance table at BENCH_LEADS leads (default 1,000,000) on PostgreSQL + Redis.
bench: venv-dev
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
