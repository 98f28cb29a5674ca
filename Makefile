# Developer entry points. Kafka and the MongoDB-wire server (FerretDB) for tests come from
# infra/ with no Docker: `make test` starts a private pair around pytest and stops it after.
PYTHON ?= python3
VENV := .venv
PYTEST_ARGS ?=

.PHONY: venv run test infra-up infra-down lint bench

venv: $(VENV)/.installed

# The stamp makes pip run again only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -e '.[test,bench]'
	touch $@

run: venv
	$(VENV)/bin/medoffice serve

# The FHIR validator is built (or found cached) first: a cold build fetches HAPI FHIR from Maven
# Central, which should not count against the first FHIR test's timeout.
test: venv
	infra/fhir-validator/validator.sh build
	infra/with-infra.sh $(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# A long-lived pair on 9092/27017 for `make run` or manual testing.
infra-up:
	infra/infra.sh up

infra-down:
	infra/infra.sh down

lint: venv
	$(VENV)/bin/ruff check . && $(VENV)/bin/mypy

bench: venv
	infra/with-infra.sh $(VENV)/bin/python -m bench
