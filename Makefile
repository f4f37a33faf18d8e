# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install demo test bench-quick clean

install: $(STAMP)

# torch is pinned to the CPU build through constraints.txt; a plain `torch` would pull CUDA.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test,torch,redis,ray]'
	touch $(STAMP)

demo: install
	$(VENV)/bin/tailor demo

# PostgreSQL is started if installed but stopped; when it is reachable its contract tests are required to run.
# Likewise Redis, for the shared-cache and replica tests (tests/replicas).
test: install
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-browser.sh
	bash scripts/ensure-redis.sh
	TAILOR_REQUIRE_POSTGRES=$$(pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo 1 || echo 0) \
	TAILOR_REQUIRE_REDIS=$$([ "$$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ] && echo 1 || echo 0) \
		$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
