# alwidgets — everything a fresh machine needs is installed from here.
#   make demo   create .venv, install, open the quickstart notebook in JupyterLab
#   make test   create/update .venv, install test needs (incl. the browser), run the whole suite
#   make bench  run the benchmarks and print tables
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
PORT   ?= 8888
NOTEBOOK ?= notebooks/quickstart.ipynb

.PHONY: demo test lint typecheck pytest browser-deps pg-deps bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamps re-run an install only when pyproject.toml changes.
$(VENV)/.lab: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[lab]"
	touch $@

$(VENV)/.test: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[test]"
	touch $@

$(VENV)/.bench: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[bench]"
	touch $@

# JupyterLab refuses to run as root without --allow-root (containers, cloud VMs run as root).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
ROOT_NOTE := note: running as root (container or VM), so JupyterLab starts with --allow-root

demo: $(VENV)/.lab
	@$(if $(ROOT_FLAG),echo "$(ROOT_NOTE)")
	$(VENV)/bin/jupyter lab --port=$(PORT) $(ROOT_FLAG) $(if $(wildcard $(NOTEBOOK)),$(NOTEBOOK),notebooks/)

# Debian's chromium for the real-browser test (never `playwright install`: it downloads).
browser-deps:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing Debian chromium for the browser test"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI needs /usr/bin/chromium and cannot install it (not root or no apt-get)"; exit 1; \
	else \
		echo "note: /usr/bin/chromium missing and not root; the browser tests will skip"; \
	fi

# Debian's PostgreSQL server binaries for the team-session tests: the suite starts a
# throwaway cluster on 127.0.0.1 in a temporary directory (scripts/pg_cluster.py).
pg-deps:
	@if command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing Debian postgresql for the team-session tests"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI needs the PostgreSQL server (pg_ctl) and cannot install it (not root or no apt-get)"; exit 1; \
	else \
		echo "note: PostgreSQL server binaries missing and not root; the server tests will skip"; \
	fi

lint: $(VENV)/.test
	$(VENV)/bin/ruff check alwidgets tests benchmarks
	$(VENV)/bin/ruff format --check alwidgets tests benchmarks

typecheck: $(VENV)/.test
	$(VENV)/bin/mypy -p alwidgets

# The suite's PostgreSQL server is stopped (and its directory removed) even when pytest fails.
pytest: $(VENV)/.test browser-deps pg-deps
	@if command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		eval "$$($(PY) scripts/pg_cluster.py start)" || exit 1; \
	fi; \
	$(PY) -m pytest tests alwidgets notebooks --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=300 --timeout=900 -p no:cacheprovider; status=$$?; \
	if [ -n "$$ALW_PGDATA" ]; then $(PY) scripts/pg_cluster.py stop "$$ALW_PGDATA"; fi; \
	exit $$status

test: lint typecheck pytest

bench: $(VENV)/.bench
	$(PY) -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
