# Two commands for a fresh machine: `make run` (the shop with its demo catalog on
# SQLite at http://127.0.0.1:8000) and `make test` (everything CI checks).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Production-like variables for `check --deploy`; nothing here is a real secret.
DEPLOY_ENV := DEBUG=0 SECRET_KEY=deploy-check-only-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ ALLOWED_HOSTS=shop.example

.PHONY: run test cluster-test soak install lint format bench clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

SANDBOX_PORT ?= 12111

# The shop, the task worker that sends its mail, and the payment sandbox it pays
# through; Ctrl-C stops all three.
run: install
	mkdir -p var
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py load_demo_catalog
	@echo "Arkiv is at http://$(HOST):$(PORT)/ (pay with test card 4242 4242 4242 4242)"
	DEBUG=1 $(BIN)/python manage.py run_payment_sandbox --port $(SANDBOX_PORT) \
		--webhook-url http://$(HOST):$(PORT)/orders/webhooks/stripe/ & sandbox=$$!; \
	DEBUG=1 $(BIN)/python manage.py db_worker --queue-name '*' --no-reload & worker=$$!; \
	trap 'kill $$sandbox $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 STRIPE_API_BASE=http://127.0.0.1:$(SANDBOX_PORT) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	mkdir -p var
	DEBUG=1 $(BIN)/python manage.py check
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	env $(DEPLOY_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(PYTEST_ARGS)

# Several servers on one machine (deploy/haproxy.cfg in front of two gunicorn app servers,
# Redis, two task workers, the payment sandbox, an SMTP server) on a fresh PostgreSQL
# database made from DATABASE_URL; needs haproxy and redis-server.
cluster-test: install
	ARKIV_CLUSTER=1 $(BIN)/pytest tests/cluster -m cluster $(PYTEST_ARGS)

# The same cluster under 10 minutes of mixed traffic (SOAK_SECONDS to change it); prints
# what it saw and each app worker's memory. Not run by CI.
soak: install
	ARKIV_CLUSTER=1 ARKIV_SOAK=1 $(BIN)/pytest tests/cluster/test_soak.py -m soak -s $(PYTEST_ARGS)

# After changing translatable text: collect it into locale/de/LC_MESSAGES/django.po,
# translate what is new there, then run again to compile (needs gettext's msgfmt). Both
# files are committed, so the shop runs without gettext installed.
MESSAGES_IGNORE := --ignore=.venv --ignore=var --ignore=tests --ignore=bench --ignore=deploy --ignore=static
messages: install
	DEBUG=1 $(BIN)/python manage.py makemessages --locale de --no-obsolete --add-location file $(MESSAGES_IGNORE)
	DEBUG=1 $(BIN)/python manage.py compilemessages --locale de $(MESSAGES_IGNORE)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Issue 8's table on this machine (needs wrk; redis-server for --redis): 100,000 releases
# on DATABASE_URL or var/bench-100k.sqlite3, loaded on first use. Options in BENCH_ARGS,
# e.g. BENCH_ARGS="--redis" or "--demo"; see bench/catalog_pages.py.
bench: install
	$(BIN)/python bench/catalog_pages.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
