# Every target works from a fresh clone: `make test` and `make demo` install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INFRA := $(PYTHON) infra/local.py

DBT_VENV ?= .venv-dbt

.PHONY: help install dbt-venv models up down up-secure down-secure connect-up connect-down status fetch test test-fast check lint typecheck contracts duplicates bench chaos demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## create .venv with the package and its dev tools

$(DBT_VENV)/.installed: warehouse/requirements.txt
	$(PYTHON) -m venv $(DBT_VENV)
	$(DBT_VENV)/bin/pip install --quiet --upgrade pip
	$(DBT_VENV)/bin/pip install --quiet -r warehouse/requirements.txt
	touch $@

dbt-venv: $(DBT_VENV)/.installed ## create .venv-dbt with dbt-core and dbt-postgres (pinned in warehouse/requirements.txt)

up: ## start local Kafka (KRaft) and Schema Registry; harmless when already up
	$(INFRA) up

down: ## stop them
	$(INFRA) down

up-secure: up ## also start a SASL_SSL broker with ACLs and the registry behind TLS + basic auth (see README)
	$(INFRA) up --services kafka-secure,registry-secure

down-secure: ## stop the secured broker and registry front (the plain ones keep running)
	$(INFRA) down --services kafka-secure,registry-secure

connect-up: ## also start PostgreSQL and Kafka Connect (JDBC sink); see connect/README.md
	$(INFRA) up --services kafka,registry,postgres,connect

connect-down: ## stop Kafka Connect and PostgreSQL (Kafka and the registry keep running)
	$(INFRA) down --services postgres,connect

status: ## say what runs
	$(INFRA) status

fetch: ## download the JVM artifacts only
	$(INFRA) fetch

demo: install up ## the main job end to end: a sandbox Marketo synced into local Kafka, twice, with summaries
	$(VENV)/bin/marketo-stream demo $(DEMO_ARGS)

test: install up ## run every test in 3 workers; starts the local services first (they keep running: make down)
	-$(INFRA) up --services kafka-secure,registry-secure
	-$(INFRA) up --services postgres,connect
	$(PY) -m pytest -n 3 --dist loadscope

check: lint typecheck contracts duplicates ## static checks run by CI

lint: install
	$(VENV)/bin/ruff check marketo_stream tests infra bench warehouse
	$(VENV)/bin/ruff format --check marketo_stream tests infra bench warehouse

typecheck: install
	$(VENV)/bin/mypy

contracts: install
	@if grep -q '^\[tool.importlinter\]' pyproject.toml; then $(VENV)/bin/lint-imports; else echo "no import contracts yet"; fi

duplicates: install ## ten or more lines repeated anywhere in the package (pylint's duplicate-code check)
	$(VENV)/bin/pylint --disable=all --enable=duplicate-code --min-similarity-lines=10 --ignore-imports=y \
		--ignore-docstrings=y --ignore-comments=y --score=n marketo_stream

models: install dbt-venv connect-up ## demo sync -> Connect sink -> PostgreSQL -> dbt build, then a few rows of each mart
	$(PY) warehouse/run_demo.py $(MODELS_ARGS)

bench: install up ## throughput and memory benchmarks (not part of CI)
	$(PY) -m bench $(BENCH)

chaos: install ## the chaos suite: syncs SIGKILLed across every phase, every Marketo fault, broker and registry stops (not part of CI; CHAOS_RUNS=100)
	$(PY) -m bench.chaos $(CHAOS_ARGS)

clean: down-secure connect-down down
	rm -rf .local $(VENV) $(DBT_VENV) warehouse/target warehouse/logs build dist *.egg-info
