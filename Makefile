# The two ways in (see README): `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

LOCK := requirements/lock.txt
BUILD_LOCK := requirements/build.txt
# [build-system] requires, one a line: the lock holds the build backend too.
BUILD_REQUIRES = $(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")'
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command 'make lock'

.PHONY: help demo test lint typecheck unit audit lock sbom clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# Every package comes from the lock, pinned and hash-checked (SECURITY.md, supply chain): a
# substituted or compromised release of any of them, direct or transitive, stops the install.
# The build backend is installed first and nothing is built in isolation, because pip does not
# hash-check what it downloads into an isolated build environment (PyICU is built from source).
$(STAMP): pyproject.toml $(LOCK) $(BUILD_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(BUILD_LOCK)
	$(BIN)/pip install --quiet --require-hashes --no-deps --no-build-isolation -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
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

# The lock, not the venv: the verdict is on the versions we ship, whatever is installed here.
# --disable-pip takes the lock as already resolved and installs nothing; --require-hashes refuses
# an entry without hashes. Environment markers are evaluated for this machine's Python.
audit: $(STAMP)  ## known vulnerabilities in the versions the lock pins (needs pypi.org; SECURITY.md)
	$(BIN)/pip-audit --requirement $(LOCK) --requirement $(BUILD_LOCK) --require-hashes --disable-pip --progress-spinner off --strict

# The only way to change a dependency: edit pyproject.toml, `make lock`, commit both. Versions
# already in the lock are kept unless pyproject.toml asks for another.
lock: $(STAMP)  ## re-solve requirements/ (every package, with PyPI's hashes) from pyproject.toml
	$(BUILD_REQUIRES) | $(UV_COMPILE) pyproject.toml - --extra dev --output-file $(LOCK)
	$(BUILD_REQUIRES) | $(UV_COMPILE) - --output-file $(BUILD_LOCK)

sbom: $(STAMP)  ## CycloneDX bill of materials of the lock, in var/sbom.cdx.json
	mkdir -p var
	$(BIN)/cyclonedx-py requirements --pyproject pyproject.toml --of JSON --output-reproducible -o var/sbom.cdx.json $(LOCK)

clean:  ## remove the virtualenv and local data
	rm -rf $(VENV) var
