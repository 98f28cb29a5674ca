# Developer entry points. Kafka and the MongoDB-wire server (FerretDB) for tests come from
# infra/ with no Docker: `make test` starts a private pair around pytest and stops it after.
PYTHON ?= python3
VENV := .venv
PYTEST_ARGS ?=

.PHONY: venv run test infra-up infra-down lint bench

venv: $(VENV)/.installed

# The stamp makes pip run again only when pyproject.toml or the lock changes. The lock pins
# every run-time dependency (the image installs the same); the extras pin their tools.
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -c requirements.lock -e '.[test,bench]'
	touch $@

run: venv
	$(VENV)/bin/medoffice serve

# The FHIR validator, kustomize and promtool are built (or found cached) first: a cold build
# fetches HAPI FHIR from Maven Central or kustomize and promtool from the Go proxy, not to be
# charged to a test's timeout. Chromium and its driver (the console's browser tests) come from
# apt when missing.
test: venv
	infra/fhir-validator/validator.sh build
	deploy/kustomize.sh >/dev/null
	deploy/promtool.sh >/dev/null
	infra/browser.sh install >/dev/null
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
