# Two commands: `make demo` and `make test`. Each installs what it needs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_EVENTS ?= 1000000
UI_PORT ?= 3000
API_PORT ?= 8000
# test processes side by side (pytest-xdist), one per logical CPU, each given whole test files
# (a module's database and dbt builds are made once): 2 processes on 2 CPUs took the database
# tests from 472 to 298 s; a third gained nothing
TEST_WORKERS ?= logical
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

.PHONY: install demo stop test test-db bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/wfa db up
	$(BIN)/wfa generate --events $(DEMO_EVENTS) --if-empty
	$(BIN)/wfa run
	@echo ""
	@echo "Marts are materialised. The Dagster UI starts now on http://127.0.0.1:$(UI_PORT)"
	@echo "  Lineage:      http://127.0.0.1:$(UI_PORT)/asset-groups"
	@echo "  Marts:        http://127.0.0.1:$(UI_PORT)/assets/marts"
	@echo "  Runs:         http://127.0.0.1:$(UI_PORT)/runs"
	@echo "  SQL/BI:       $$($(BIN)/wfa db url)   (schema marts)"
	@echo "  API:          http://127.0.0.1:$(API_PORT)/docs   key (account of the first workflow, admin):"
	@$(BIN)/wfa apikey create --role admin --account "$$($(BIN)/python -c 'import psycopg; from warehouse.settings import get_settings; print(psycopg.connect(get_settings().warehouse_url).execute("select account_id from marts.dim_workflows order by workflow_id limit 1").fetchone()[0])')"
	@echo "Stop with Ctrl-C; 'make stop' stops the warehouse."
	$(BIN)/wfa serve --port $(API_PORT) & api=$$!; trap "kill $$api" EXIT; $(BIN)/wfa ui --port $(UI_PORT)

stop: install
	$(BIN)/wfa db down

test: install
	$(PYTEST)

# The database tests only, e.g. against WFA_TEST_DATABASE_URL.
test-db: install
	$(PYTEST) -m db

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .wfa dbt_project/target dbt_project/logs
