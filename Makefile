# Two commands do all set-up on a fresh machine (Python 3.11+, Node 20+):
#   make run    the portal with demo data at http://127.0.0.1:8000 (make run HOST=... PORT=... to move it)
#   make test   ruff and the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup lint messages bench clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (found %s)." % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

setup: $(VENV)/.installed node_modules/.installed

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} STREAM_ALLOWED_NETWORKS=$${STREAM_ALLOWED_NETWORKS-127.0.0.1/32} \
		$(PY) manage.py serve --host $(HOST) --port $(PORT)

lint: setup
	$(VENV)/bin/ruff check .

test: setup lint
	$(PY) -m pytest

messages: setup
	$(PY) manage.py makemessages -l es --ignore=.venv --ignore=node_modules --ignore=var --ignore='*/tests/*'
	$(PY) manage.py compilemessages

bench: setup
	@ls bench/*.py >/dev/null 2>&1 && for f in bench/*.py; do $(PY) $$f; done || echo "No benchmarks yet."

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .ruff_cache
