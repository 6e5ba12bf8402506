PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run serve test lint bench bench-traffic instructions eval clean redis-server wrk chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/resbot chat

# The web page and API (and every webhook whose secret is set); it logs the page's address.
serve: $(STAMP)
	$(BIN)/resbot serve

test: $(STAMP) redis-server chromium
	$(BIN)/python -m pytest -q

# Debian packages the tests and benchmarks use, installed when missing and we are root; otherwise
# the Redis tests skip with a message (they fail under CI=true) and the benchmark falls back to httpx.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get -o DPkg::Lock::Timeout=300 install -y -qq redis-server >/dev/null 2>&1 || (apt-get -o DPkg::Lock::Timeout=300 update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq redis-server)); } \
	  || echo "redis-server is not installed and cannot be installed here: Redis tests will skip"

# The browser tests drive Debian's Chromium (Playwright cannot download its own here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium >/dev/null 2>&1 || (apt-get -o DPkg::Lock::Timeout=300 update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium)); } \
	  || echo "chromium is not installed and cannot be installed here: the browser tests will skip (run apt-get install chromium as root)"

wrk:
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get -o DPkg::Lock::Timeout=300 install -y -qq wrk >/dev/null 2>&1 || (apt-get -o DPkg::Lock::Timeout=300 update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq wrk)); } \
	  || echo "wrk is not installed and cannot be installed here: the benchmark uses its slower Python load generator"

lint: $(STAMP)
	$(BIN)/ruff check bot retrieval tests benchmarks
	$(BIN)/mypy bot retrieval

eval: $(STAMP)
	$(BIN)/resbot eval

bench: $(STAMP) wrk redis-server
	$(BIN)/python benchmarks/run.py

bench-traffic: $(STAMP) wrk redis-server
	$(BIN)/python benchmarks/distinct.py

instructions: $(STAMP)
	$(BIN)/python benchmarks/instructions.py

clean:
	rm -rf $(VENV) build *.egg-info
