# urbandata: two commands on a fresh machine (only Python and pip needed):
#   make run    set up, load the demo data and serve on http://127.0.0.1:8000 (embedded default)
#   make test   set up and run linters, type checks and the test suite
VENV ?= .venv
DATA ?= ./data
HOST ?= 127.0.0.1
PORT ?= 8000
PYTHON ?= python3
UD = $(VENV)/bin/urbandata

.PHONY: install run demo serve test lint typecheck pytest contract bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed node_modules/.installed

# the portal's map scripts (Leaflet, served under /static/vendor) and axe-core for the browser tests;
# without npm the portal still works (maps fall back to server-drawn images and lists)
node_modules/.installed: package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: skipping node_modules (maps show server-drawn images)"; fi

run: install
	$(UD) --data-dir $(DATA) init
	$(UD) --data-dir $(DATA) demo
	$(UD) --data-dir $(DATA) serve --host $(HOST) --port $(PORT)

lint: install
	$(VENV)/bin/ruff check urbandata tests benchmarks

typecheck: install
	$(VENV)/bin/mypy

pytest: install
	$(VENV)/bin/pytest -q

test: lint typecheck pytest contract

# the names other tools rely on; skipped when the shared checks are not beside the checkout
contract: install
	@if [ -f ../shared/checks/contract.py ]; then \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/python ../shared/checks/contract.py; \
	else echo "contract check skipped: ../shared/checks/contract.py not found"; fi

bench: install
	$(VENV)/bin/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) $(DATA) .mypy_cache .ruff_cache .pytest_cache
