# webwork-scim: the two commands a newcomer needs are `make run` and `make test`.

CARGO ?= cargo
# cargo-nextest runs each test in its own process and in parallel; plain cargo test works too.
TEST_CMD := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo "nextest run --no-fail-fast" || echo "test --no-fail-fast")
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test

export DATABASE_URL ?= sqlite://data/webwork-scim.db

.PHONY: run build test test-postgres test-pgbouncer test-openapi test-deploy fuzz bench fmt lint check migrate clean

## Build, migrate the embedded SQLite database under data/, create a demo workspace on first
## start (printing its SCIM Base URL and token), and serve on http://127.0.0.1:8080.
run:
	DEMO_WORKSPACE=true LOG_FORMAT=text $(CARGO) run --bin webwork-scim -- serve

build:
	$(CARGO) build --release --bin webwork-scim

## Every test on the embedded SQLite backend (each test with its own database file).
test:
	$(CARGO) $(TEST_CMD) --workspace

## The persistence and API suites against PostgreSQL at TEST_DATABASE_URL, each test in its own
## schema.
test-postgres:
	TEST_BACKEND=postgres TEST_DATABASE_URL=$(TEST_DATABASE_URL) \
		$(CARGO) $(TEST_CMD) -p webwork-scim-persistence -p webwork-scim-api

## The same PostgreSQL suites with the service's connections through a PgBouncer in transaction
## pooling mode that the target starts (installed from Debian's packages on first use).
test-pgbouncer:
	CARGO=$(CARGO) TEST_CMD="$(TEST_CMD)" TEST_DATABASE_URL=$(TEST_DATABASE_URL) deploy/pgbouncer/test.sh

## docs/openapi.yaml checked against the running server by schemathesis (installed from PyPI
## into target/openapi-venv on first use).
test-openapi:
	crates/api/tests/openapi/check.sh

## The deployment files: Prometheus rules checked and unit-tested with promtool, the Dockerfile
## linted, the Helm chart linted, rendered (defaults and every optional part on) and validated
## against the Kubernetes schemas. Installs promtool, hadolint and the chart tools on first use.
test-deploy:
	deploy/check.sh
	helm/check.sh

## The filter parser, the PATCH path parser and the PATCH engine on generated hostile input, far
## longer than `make test` runs them (FUZZ_CASES per property); then filters' SQL held to the
## in-memory matcher on FILTER_CASES random workspaces of 10 users and 12 filters each
## (TEST_BACKEND=postgres for PostgreSQL).
FUZZ_CASES ?= 100000
FILTER_CASES ?= 2000
fuzz:
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) $(TEST_CMD) -p webwork-scim-domain --test fuzz
	FILTER_AGREEMENT_CASES=$(FILTER_CASES) $(CARGO) $(TEST_CMD) -p webwork-scim-persistence \
		filter_agreement

## The service under load from wrk (installed from Debian's packages on first use): every
## scenario's requests/s, p50, p99, p99.9, errors and ratio to the ceiling measured in the same
## run, on SQLite (TEST_BACKEND=postgres for PostgreSQL); JSON in target/bench/, method and the
## latest figures in docs/performance.md. BENCH_STRICT=1 fails when a target is missed.
bench:
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(CARGO) bench -p webwork-scim-api --bench scim

fmt:
	$(CARGO) fmt --all

## Formatting and lints; the second clippy builds the server as shipped, without the test
## features that the tests' build turns on (code that needs them fails only there).
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	$(CARGO) clippy -p webwork-scim-api --bin webwork-scim -- -D warnings

check: lint test test-postgres test-pgbouncer test-openapi test-deploy

migrate:
	$(CARGO) run --bin webwork-scim -- migrate

clean:
	$(CARGO) clean
	rm -rf data
