# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# The demo runs with DEBUG on, on SQLite and the filesystem broker unless DATABASE_URL/REDIS_URL say otherwise.
# Links in e-mails point at the address actually served (honcho gives each process a PORT of its
# own, so the worker that sends them cannot read it from PORT).
LINK_HOST := $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))
RUN_ENV := DEBUG=$${DEBUG:-1} PORT=$(PORT) HOST=$(HOST) SITE_URL=$${SITE_URL:-http://$(LINK_HOST):$(PORT)}
# Tests run the production code path (DEBUG off) over plain HTTP, with their own var/ folder.
TEST_ENV := DEBUG=0 SECRET_KEY=test-only-secret-key-not-for-production-use-0123456789 \
	SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 STATIC_MANIFEST=0 \
	CELERY_TASK_ALWAYS_EAGER=1 FAST_PASSWORD_HASHER=1 PORTAL_VAR_DIR=$(CURDIR)/var/test ALLOWED_HOSTS=testserver,localhost,127.0.0.1
# What production looks like to `check --deploy`.
DEPLOY_ENV := DEBUG=0 SECRET_KEY=deploy-check-7f3c9a1e5b2d8f4a6c0e9b3d7a1f5c8e2b6d0a4f9c3e7b1d ALLOWED_HOSTS=portal.example.com \
	PORTAL_VAR_DIR=$(CURDIR)/var/deploy-check

.PHONY: install messages run test lint typecheck format check-deploy migrate demo totp clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The locked versions (with hashes; requirements/compile.sh regenerates them), then the project.
$(VENV)/.installed: pyproject.toml requirements/dev-lock.txt | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements/dev-lock.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: $(VENV)/.installed

messages: install
	DEBUG=1 $(BIN)/python manage.py compile_translations

migrate: install
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput

demo: migrate
	$(RUN_ENV) $(BIN)/python manage.py seed_demo

run: messages demo
	@echo ""
	@echo "Service Portal: http://$(HOST):$(PORT)/   (API docs: http://$(HOST):$(PORT)/api/docs/)"
	@echo "Starting web, Celery worker and Celery beat; Ctrl-C stops them all."
	PATH=$(CURDIR)/$(BIN):$$PATH $(RUN_ENV) $(BIN)/honcho start -f Procfile

# The demo admin's current TOTP code (the secret is public demo data; DEBUG only).
totp: install
	@DEBUG=1 $(BIN)/python manage.py demo_totp_code

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# mypy with the Django and DRF plugins ([tool.mypy] in pyproject.toml; its cache is var/mypy).
typecheck: install
	$(TEST_ENV) $(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-deploy: install
	$(DEPLOY_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING

test: messages lint typecheck check-deploy
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf var/test var/deploy-check var/mypy artifacts
