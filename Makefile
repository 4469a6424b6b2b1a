# QReady 质评通 — two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
PORT ?= 5000
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
REPORT_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk
TEST_DEBS := $(REPORT_DEBS) chromium chromium-driver poppler-utils redis-server
BENCH_DEBS := $(REPORT_DEBS) poppler-utils wrk redis-server
PO := $(wildcard webapp/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: run test install debs test-debs translations messages lint test-sqlite test-postgres bench clean

run: install debs translations
	$(FLASK) db upgrade
	$(FLASK) demo
	@echo "QReady is serving on http://127.0.0.1:$(PORT)  (Ctrl-C stops it)"
	$(VENV)/bin/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

test: install test-debs translations lint test-sqlite test-postgres

install: $(STAMP)

$(STAMP):
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

debs:
	@scripts/ensure-debs $(REPORT_DEBS)

test-debs:
	@scripts/ensure-debs $(TEST_DEBS)

translations: $(MO)

%.mo: %.po $(STAMP)
	$(VENV)/bin/pybabel compile --statistics -i $< -o $@

# After changing UI strings: extract them, merge into the catalogs, then translate the new entries.
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -o webapp/translations/messages.pot .
	$(VENV)/bin/pybabel update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy scoring assessments

test-sqlite: install translations
	$(VENV)/bin/pytest -W error -q

test-postgres: install translations
	@$(PY) scripts/pg_ready.py "$(TEST_DATABASE_URL)"; rc=$$?; \
	if [ $$rc = 0 ]; then \
	  echo "== the database tests again, on PostgreSQL ($(TEST_DATABASE_URL))"; \
	  QREADY_TEST_DATABASE_URL="$(TEST_DATABASE_URL)" $(VENV)/bin/pytest -W error -q -m db; \
	elif [ $$rc = 1 ]; then \
	  echo "!! PostgreSQL at $(TEST_DATABASE_URL) is not reachable: the PostgreSQL run was SKIPPED."; \
	  echo "!! Start it with: pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start"; \
	else exit $$rc; fi

bench: install translations
	@scripts/ensure-debs $(BENCH_DEBS)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
