# alwidgets — everything a fresh machine needs is installed from here.
#   make demo   create .venv, install, open the quickstart notebook in JupyterLab
#   make test   create/update .venv, install test needs (incl. the browser, node), run the whole suite
#   make bench  run the benchmarks and print tables
#   make docs   run every notebook in the Binder environment, build the site into docs/_build/html
#   make dist   build the sdist and the wheel into dist/ and check them with twine
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
PORT   ?= 8888
NOTEBOOK ?= notebooks/quickstart.ipynb

.PHONY: demo test lint typecheck pytest browser-deps js-deps pg-deps bench-deps bench docs dist clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamps re-run an install only when pyproject.toml changes.
$(VENV)/.lab: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[lab]"
	touch $@

# torch FIRST, before the [embeddings] extra pulls it: a CPU build. Here pip finds
# torch-2.13.0+cpu on disk (find-links), which ranks above PyPI's 2.13.0; elsewhere pass
# TORCH_ARGS="--index-url <PyTorch's CPU-only wheel index>" (PyPI's default build is the
# multi-GB CUDA one).
TORCH ?= torch==2.13.0
TORCH_ARGS ?=

$(VENV)/.torch: | $(PY)
	$(PIP) install --quiet "$(TORCH)" $(TORCH_ARGS)
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.torch | $(PY)
	$(PIP) install --quiet -e ".[test]"
	touch $@

$(VENV)/.docs: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[docs]"
	touch $@

$(VENV)/.bench: pyproject.toml $(VENV)/.torch | $(PY)
	$(PIP) install --quiet -e ".[bench]"
	touch $@

# JupyterLab refuses to run as root without --allow-root (containers, cloud VMs run as root).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
ROOT_NOTE := note: running as root (container or VM), so JupyterLab starts with --allow-root

demo: $(VENV)/.lab
	@$(if $(ROOT_FLAG),echo "$(ROOT_NOTE)")
	$(VENV)/bin/jupyter lab --port=$(PORT) $(ROOT_FLAG) $(if $(wildcard $(NOTEBOOK)),$(NOTEBOOK),notebooks/)

# $(call apt-dep,CHECK,PACKAGE,WHAT): when CHECK fails, install Debian PACKAGE if root;
# in CI (CI=true) a missing PACKAGE that cannot be installed is an error, else WHAT skips.
define apt-dep
	@if $(1); then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing Debian $(2) for $(3)"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(2) >/dev/null; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI needs $(2) for $(3) and cannot install it (not root or no apt-get)"; exit 1; \
	else \
		echo "note: $(2) missing and not root; $(3) will skip"; \
	fi
endef

# Debian's chromium for the real-browser test (never `playwright install`: it downloads).
browser-deps:
	$(call apt-dep,[ -x /usr/bin/chromium ],chromium,the browser tests)

# Node.js (>= 18) for the front end's JavaScript tests (tests/js, `node --test`).
js-deps:
	$(call apt-dep,command -v node >/dev/null,nodejs,the JavaScript tests)

# Debian's PostgreSQL server for the team-session tests: the suite runs against a throwaway
# cluster on 127.0.0.1 in a temporary directory (scripts/pg_cluster.py).
pg-deps:
	$(call apt-dep,command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1,postgresql,the PostgreSQL tests)

lint: $(VENV)/.test
	$(VENV)/bin/ruff check alwidgets tests benchmarks
	$(VENV)/bin/ruff format --check alwidgets tests benchmarks

typecheck: $(VENV)/.test
	$(VENV)/bin/mypy -p alwidgets

# The suite's PostgreSQL server is stopped (and its directory removed) even when pytest fails.
pytest: $(VENV)/.test browser-deps js-deps pg-deps
	@if command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		eval "$$($(PY) scripts/pg_cluster.py start)" || exit 1; \
	fi; \
	$(PY) -m pytest tests alwidgets notebooks --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=300 --timeout=900 -p no:cacheprovider --durations=40 \
		-n 2 --dist loadgroup --no-loadscope-reorder; status=$$?; \
	if [ -n "$$ALW_PGDATA" ]; then $(PY) scripts/pg_cluster.py stop "$$ALW_PGDATA"; fi; \
	exit $$status

# The site: the notebooks run once in the Binder environment (a fresh venv from binder/,
# JupyterLab in headless Chromium; reused while nothing they depend on changed), then
# Sphinx renders guide, API reference and executed notebooks with every warning an error
# (-W -n: broken links, unknown names, a public name missing from the reference). -E:
# every page is read again, so no warning hides in a cached one. No network.
docs: $(VENV)/.docs browser-deps
	$(PY) scripts/run_binder.py --reuse
	$(PY) -m sphinx -W -n --keep-going -E -q -b html docs docs/_build/html
	@echo "site: docs/_build/html/index.html"

# The release files: sdist + wheel, checked with twine (tests/test_wheel.py installs the
# wheel in a fresh venv and runs it).
dist: $(VENV)/.docs
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*

test: lint typecheck pytest docs dist

# Debian's fortune cookies: the ten-topic text set of the description benchmark (bench_text).
bench-deps:
	$(call apt-dep,[ -f /usr/share/games/fortunes/computers ],fortunes,the fortune-topics benchmark set)

bench: $(VENV)/.bench bench-deps
	$(PY) -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache docs/_build docs/api docs/examples
