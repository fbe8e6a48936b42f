# make run   - a fresh clone becomes the site on http://127.0.0.1:5000
# make test  - installs what the tests need (Chromium, axe-core) and runs everything
# make bench - speed and memory figures (see bench/README.md)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
AXE_VERSION := 4.14.1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test bench lint install install-dev browser nginx migrate index clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) db upgrade

index: migrate
	$(FLASK) index ensure

run: index
	$(FLASK) run --host 127.0.0.1 --port 5000

# Debian's Chromium (Playwright drives it through executable_path), Java for the Nu HTML checker, axe-core from npm.
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@command -v java >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless; }
	@[ -f tests/.axe/node_modules/axe-core/axe.min.js ] || npm install --silent --no-audit --no-fund --prefix tests/.axe axe-core@$(AXE_VERSION)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Two workers (pytest-xdist), each test file on one of them, so a module's shared fixtures are built once.
test: install-dev browser nginx lint
	$(FLASK) content check
	$(BIN)/pytest -n 2 --dist loadfile

# nginx from Debian for the caching-proxy tests and bench; a temporary policy-rc.d stops the package from starting it on port 80.
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  own=; [ -e /usr/sbin/policy-rc.d ] || { own=1; printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d >/dev/null; $(SUDO) chmod 755 /usr/sbin/policy-rc.d; }; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; \
	  [ -z "$$own" ] || $(SUDO) rm -f /usr/sbin/policy-rc.d; }

bench: install-dev nginx
	@command -v wrk >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } || true
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) tests/.axe .pytest_cache
