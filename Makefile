# Gonghao: `make run` starts the product, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?= -n 2

.PHONY: install run test lint bench clean messages browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Gonghao needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Local demo on plain HTTP at http://127.0.0.1:8000 (production defaults stay HTTPS-only).
run: $(STAMP)
	GONGHAO_LOCAL_HTTP=1 $(BIN)/gonghao migrate --noinput
	GONGHAO_LOCAL_HTTP=1 $(BIN)/gonghao bootstrap
	GONGHAO_LOCAL_HTTP=1 $(BIN)/gonghao serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/bandit -c pyproject.toml -r gonghao --severity-level high --quiet

test: $(STAMP) lint
	$(BIN)/pytest $(PYTEST_ARGS)
	@if [ -n "$$GONGHAO_TEST_PG" ]; then \
		echo "== again on PostgreSQL ($$GONGHAO_TEST_PG)"; \
		DATABASE_URL="$$GONGHAO_TEST_PG" $(BIN)/pytest $(PYTEST_ARGS); \
	fi

# The browser journeys drive Debian's Chromium (Playwright cannot download its own here).
browser:
	@test -x /usr/bin/chromium || { \
		echo "== installing Chromium and CJK fonts for the browser journeys"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# Benchmarks of issue 7 (not part of `make test`): BENCH_SCALE=small for a quick run; PostgreSQL
# too when GONGHAO_TEST_PG (or a postgres DATABASE_URL) names a server. See bench/README.md.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH)

messages: $(STAMP)
	cd gonghao && ../$(BIN)/python ../manage.py makemessages -l zh_Hans -l en --no-obsolete --no-location
	cd gonghao && ../$(BIN)/python ../manage.py compilemessages

clean:
	rm -rf $(VENV) var/test build *.egg-info
