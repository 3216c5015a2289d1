# Two commands for a newcomer: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
# Dropped and recreated by every `make bench`: never point it at a database you keep.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/haochaping_bench
PYTEST_WORKERS ?= 2
CHROMIUM ?= /usr/bin/chromium

.PHONY: install run serve migrate demo test test-pg test-browser test-dates date-deps browser-deps bench bench-large bench-import bench-rebuild bench-painpoints lint docs messages clean mutation

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/haochaping migrate --no-input

demo: migrate
	$(BIN)/haochaping demo

# HAOCHAPING_DEMO=1 waives TOTP for the demo accounts (`make run` only; `make serve` keeps it).
run: demo
	HAOCHAPING_DEMO=1 $(BIN)/haochaping serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/haochaping serve --host $(HOST) --port $(PORT)

# The whole suite except the browser tests, on the embedded SQLite database. Tests marked pg_only (they need a
# PostgreSQL server, e.g. the benchmark's smoke test) run in `make test-pg`, so this needs nothing but Python.
test: install
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not browser and not pg_only" $(PYTEST_ARGS)

# The same suite on PostgreSQL.
test-pg: install
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not browser" $(PYTEST_ARGS)

# The suite again on fixed dates (tests/clock.py: the clock starts there and ticks), each a day on which a
# date-dependent rule used to pass or fail by chance: a Saturday, just after Beijing midnight (where a 办件 the
# factories accept "today" meets a test's "five minutes ago"); the first day of the National Day week; the last
# working day of a year whose next-year holiday notice is not yet published (chinese-calendar knows up to 2026).
TEST_DATES ?= 2026-12-05T00:00:30+08:00 2026-10-01T09:30:00+08:00 2026-12-31T16:00:00+08:00

# libfaketime puts server processes the tests start on the same clock. Installs only what is missing.
date-deps:
	@test -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime; }

test-dates: install date-deps
	@set -e; for now in $(TEST_DATES); do \
	  echo "== make test-dates: HAOCHAPING_TEST_NOW=$$now"; \
	  HAOCHAPING_TEST_NOW=$$now $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not browser and not pg_only" -q $(PYTEST_ARGS); \
	done

# Debian's Chromium and a CJK font (without one, Chinese renders as empty boxes). Installs only what is
# missing; needs root and apt. Playwright's own browser download is not used.
browser-deps:
	@if ! test -x $(CHROMIUM) || ! fc-list :lang=zh family 2>/dev/null | grep -q .; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; \
	fi

# Pages in a real browser (Debian's Chromium driven by playwright). One process: the tests share one
# Chromium and pytest-django's live server. Selecting no test at all exits non-zero (pytest's code 5).
test-browser: install browser-deps
	HAOCHAPING_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -m browser -p no:xdist $(PYTEST_ARGS)

# Evaluations/s through the real server on PostgreSQL beside bare INSERT+COMMITs, then the statistics API's latency
# at 10^5 and 10^6 evaluations (about 10 minutes on 2 cores; BENCH_STATS_ARGS="--sizes …"), then the fraud detectors'
# recall per planted pattern and false positives on untouched units (BENCH_FRAUD_ARGS="--records …"). See bench/README.md.
bench: install
	$(BIN)/python bench/ingest.py --database-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)
	$(BIN)/python bench/stats.py --database-url $(BENCH_DATABASE_URL) $(BENCH_STATS_ARGS)
	$(BIN)/python bench/log.py --database-url $(BENCH_DATABASE_URL) $(BENCH_LOG_ARGS)
	$(BIN)/python bench/fraud.py --database-url $(BENCH_DATABASE_URL) $(BENCH_FRAUD_ARGS)
	$(BIN)/python bench/painpoints.py $(BENCH_PAINPOINTS_ARGS)

# Pain-point classifier alone: held-out purity, NMI, per-kind precision/recall, throughput, memory (no database).
bench-painpoints: install
	$(BIN)/python bench/painpoints.py $(BENCH_PAINPOINTS_ARGS)

# Dashboards at 10^7 evaluations (issue 14 item 2): the stats API and the dashboard pages (signed-in supervisor, real
# HTTP through `haochaping serve`) at 10^5 and 10^7 evaluations in one run. The counters at 10^7 are recomputed by SQL
# (bench/fill_rollups.py, equal to rebuild_rollups: checked at 10^5), faster than rebuild_rollups there (515 s idle,
# bench/README "Issue 14 re-measured"). Measured 2026-12-07 on an idle 2-core machine: 16 min 48 s with --cases
# (template 2 min, 10^5 1 min, copying to 10^7 7 min, indexes 3.5 min, counters 2 min, cases 0.7 min); 2026-12-06 at
# load average ~20: ~75 min. ~22 GB of disk
# (bench/README.md "Dashboards at 10^7"). `make bench` measures the same at 10^5 and 10^6. With --cases every 差评 gets
# a rectification case (bench/grow_cases.py: 18 min at 10^7, 2026-12-06 second run), so 整改与申诉 is measured too.
bench-large: install
	$(BIN)/python bench/stats.py --database-url $(BENCH_DATABASE_URL) --sizes 100000,10000000 --requests 10 --warmup 2 --sql-rollups-from 10000000 --cases $(BENCH_LARGE_ARGS)

# History import speed (issue 16 item 6): COUNT 办件 and COUNT evaluations through `haochaping import` on PostgreSQL.
bench-import: install
	$(BIN)/python bench/import_history.py $(BENCH_IMPORT_ARGS)

# rebuild_rollups and rebuild_rollups --check: wall time and peak RSS at 10^5 and 10^6 evaluations on PostgreSQL with the
# monthly partitions (BENCH_REBUILD_ARGS="--sizes 100000,1000000,10000000" for 10^7). See bench/README.md.
BENCH_REBUILD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/haochaping_bench_rebuild
bench-rebuild: install
	$(BIN)/python bench/rebuild.py --database-url $(BENCH_REBUILD_DATABASE_URL) $(BENCH_REBUILD_ARGS)

# Mutation testing of the pure rule modules against their own unit tests (docs/mutation.md): mutmut copies the project
# into mutants/, then each module in turn, each capped at MUTATION_TIMEOUT seconds; prints killed/total per module
# and fails when one kills less than MUTATION_MIN percent. About 10 minutes on 2 idle cores.
MUTATION_MODULES ?= accounts.rules core.calendar_rules disclosure.rules evaluation.rules exchange.rules insight.rules org.rules \
	records.rules rectification.rules
MUTATION_CHILDREN ?= 2
MUTATION_TIMEOUT ?= 1200
MUTATION_MIN ?= 90
mutation: install
	rm -rf mutants
	mkdir -p var
	for module in $(MUTATION_MODULES); do \
	  echo "mutmut: haochaping.$$module"; \
	  timeout $(MUTATION_TIMEOUT) $(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) "haochaping.$$module.*" \
	    >> var/mutation.log 2>&1 || echo "mutmut: haochaping.$$module stopped (exit $$?; see var/mutation.log)"; \
	done
	$(BIN)/mutmut results --all true 2>/dev/null | $(BIN)/python tools/mutation_summary.py --min $(MUTATION_MIN) \
	  $(MUTATION_MODULES)

# ruff, then the architecture's contracts (.importlinter: layers, rules modules pure; docs/architecture.md).
lint: install
	$(BIN)/ruff check src tests bench tools
	$(BIN)/lint-imports

docs: install
	$(BIN)/haochaping export_openapi docs/openapi.json

# Recompile the project's translation overrides after editing src/haochaping/locale/*/LC_MESSAGES/django.po.
messages:
	msgfmt -c -o src/haochaping/locale/zh_Hans/LC_MESSAGES/django.mo src/haochaping/locale/zh_Hans/LC_MESSAGES/django.po

clean:
	rm -rf $(VENV) var .pytest_cache mutants
