# The two ways in (see README): `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help demo test lint typecheck unit audit clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## set up, load the seed case into SQLite and serve it on http://127.0.0.1:8000/
	$(BIN)/solidarity demo
	$(BIN)/solidarity serve

lint: $(STAMP)  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)  ## mypy --strict over the package and tests
	$(BIN)/mypy solidarity tests

unit: $(STAMP)  ## the test suite on the database named by DATABASE_URL (SQLite if unset)
	$(BIN)/pytest -n 2 --dist loadfile

test: lint typecheck unit  ## set up and run everything CI runs for one database

audit: $(STAMP)  ## known vulnerabilities in the installed packages (needs pypi.org; SECURITY.md)
	$(BIN)/pip freeze --exclude-editable | $(BIN)/pip-audit --requirement /dev/stdin --no-deps --disable-pip --progress-spinner off --strict

clean:  ## remove the virtualenv and local data
	rm -rf $(VENV) var
