# One target per habit. Every target creates the virtual environment it needs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV := .local/uv/bin/uv
TOOLS := .local/tools
SAM := $(TOOLS)/bin/sam
LOCKED := pyproject.toml infra/pyproject.toml uv.lock .python-version
export AWS_DEFAULT_REGION ?= eu-west-1
export SAM_CLI_TELEMETRY := 0
# Templates deployed apart from the application: the optional foundation, and the WAF (us-east-1).
INFRA_TEMPLATES := infra/foundation/template.yaml infra/edge/waf.yaml

.PHONY: help install lock lint fmt test faults dev demo migrate bench launch build invoke eval validate openapi schema-snapshot clean \
	foundation-params publish-web remote-ops

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# uv, at the version and hashes of infra/tools/uv.txt (from the lock), in a venv of its own.
$(UV): infra/tools/uv.txt
	$(PYTHON) -m venv .local/uv
	.local/uv/bin/pip install -q --disable-pip-version-check --require-hashes -r infra/tools/uv.txt
	touch $@

# .venv exactly as uv.lock says (Python from .python-version); fails if the lock is out of date.
$(STAMP): $(LOCKED) $(UV)
	$(UV) sync --locked
	touch $@

# SAM CLI pins its own boto3/pydantic, so it lives in a venv of its own, at the pins of infra/tools/sam.txt.
$(SAM): infra/tools/sam.txt $(UV)
	$(UV) venv -q --clear $(TOOLS)
	$(UV) pip sync -q --python $(TOOLS)/bin/python --require-hashes infra/tools/sam.txt
	touch $@

install: $(STAMP) ## create .venv with runtime and dev dependencies, as locked in uv.lock

lock: $(UV) ## refresh uv.lock and the SAM CLI's pins after editing dependencies (UPGRADE=1: newest allowed)
	$(UV) lock $(if $(UPGRADE),--upgrade)
	$(UV) export -q --locked --only-group uv --no-emit-project --output-file infra/tools/uv.txt
	$(UV) pip compile -q --universal --python-version 3.13 --generate-hashes $(if $(UPGRADE),--upgrade) \
		--custom-compile-command "make lock" infra/tools/sam.in --output-file infra/tools/sam.txt

lint: $(STAMP) $(SAM) ## ruff, mypy strict, template lint (sam validate --lint, cfn-lint)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared functions infra tests
	$(BIN)/cfn-lint template.yaml $(INFRA_TEMPLATES)
	$(SAM) validate --lint --template template.yaml
	for t in $(INFRA_TEMPLATES); do $(SAM) validate --lint --template $$t || exit 1; done

fmt: $(STAMP) ## format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The proxied pass: integration and e2e again through PgBouncer in transaction mode (RDS Proxy's stand-in).
PGBOUNCER := $(or $(shell command -v pgbouncer 2>/dev/null),$(wildcard /usr/sbin/pgbouncer))

test: $(STAMP) ## the whole suite on a real (embedded) PostgreSQL, then the database-facing parts through PgBouncer
	$(BIN)/pytest $(ARGS)
ifneq ($(PGBOUNCER),)
	RECKONING_TEST_PROXY=pgbouncer $(BIN)/pytest tests/integration tests/e2e tests/local_stack $(ARGS)
else
	@echo "pgbouncer is not installed (apt-get install pgbouncer): the proxied pass is skipped" >&2
endif

faults: $(STAMP) ## the fault suite (every step x every failure it can meet); writes its table to docs/reliability.md
	FAULTS=all FAULTS_TABLE=docs/reliability.md $(BIN)/pytest tests/faults -p no:xdist -q $(ARGS)

.PHONY: fuzz
fuzz: $(STAMP) ## the property-based HTTP tests, longer: FUZZ_EXAMPLES per operation (default here 500)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} POWERTOOLS_LOG_LEVEL=WARNING $(BIN)/pytest tests/e2e/test_fuzz.py -s $(ARGS)

dev: $(STAMP) ## serve web/ and the API on 127.0.0.1:$${PORT:-3000} (PARAMS="CorsOrigin=…": template overrides)
	$(BIN)/python -m reckoning_local serve $(foreach p,$(PARAMS),--param $(p))

demo: $(STAMP) ## run the whole flow locally and print what happened
	$(BIN)/python -m reckoning_local demo

migrate: $(STAMP) ## apply database migrations to $$DATABASE_URL
	$(BIN)/reckoning migrate

bench: $(STAMP) ## benchmarks: figures on screen and in .local/bench.json (BENCH_JSON=…), logs in .local/bench.log
	$(BIN)/python -m tests.bench

eval: $(STAMP) ## the quality gate over its labelled corpus: detection and false positives per category (CORPUS=…)
	$(BIN)/reckoning eval $${CORPUS:-tests/corpus/gate/tuning} --min-detection 0.95 --min-certain-detection 0.95 \
		--max-false-positives 0.05 $(ARGS)

launch: $(STAMP) ## launch-day simulation: LAUNCH_ORDERS (1000) paid orders through the rate-limited model stub
	$(BIN)/python -m tests.launch

validate: $(STAMP) ## re-check a report: make validate REPORT=… SUBMISSION=…
	$(BIN)/reckoning validate $(REPORT) $(SUBMISSION)

build: $(STAMP) ## Lambda artifacts in .aws-sam/build for sam deploy (PLATFORM=host to import them here)
	$(BIN)/python -m reckoning_build $(if $(PLATFORM),--platform $(PLATFORM))

# `sam build` runs these (Metadata BuildMethod: makefile in template.yaml), one per function and layer, with
# ARTIFACTS_DIR set and this folder as the working directory: the same builder, the same locked wheels.
build-%: $(STAMP)
	$(BIN)/python -m reckoning_build --only $* --artifacts-dir "$(ARTIFACTS_DIR)" $(if $(PLATFORM),--platform $(PLATFORM))

openapi: $(STAMP) ## regenerate docs/openapi.json from the route definitions
	$(BIN)/python -m reckoning_local.openapi

schema-snapshot: $(STAMP) ## rewrite tests/schema.sql (pg_dump of what the migrations build) after adding a migration
	$(BIN)/python -m tests.schema

invoke: $(STAMP) ## run one function with one event in-process: make invoke FN=Submit EVENT=infra/events/…
	$(BIN)/python -m reckoning_local invoke $(FN) $(EVENT)

# ---------------------------------------------------------------- deployed stacks (README "Deploy"; CONFIG_ENV=dev|prod)
CONFIG_ENV ?= dev
STACK ?= reckoning-$(CONFIG_ENV)
FOUNDATION ?= reckoning-foundation-$(CONFIG_ENV)

foundation-params: $(STAMP) ## print samconfig.toml parameter_overrides from the foundation stack's outputs
	$(BIN)/python infra/deploy.py parameters $(FOUNDATION)

publish-web: $(STAMP) ## upload web/ to the site bucket of $$STACK and invalidate its distribution
	$(BIN)/python infra/deploy.py publish-web $(STACK) web

# The operations function runs a `reckoning` command inside the VPC: make remote-ops CMD=timeline ARGS='<id>'
remote-ops: $(SAM) ## run a `reckoning` command in AWS: make remote-ops CMD=timeline ARGS="<reckoning id>"
	@test -n "$(CMD)" || { echo 'usage: make remote-ops CMD=<command> ARGS="<arguments>" [CONFIG_ENV=prod]' >&2; exit 2; }
	$(SAM) remote invoke OperationsFunction --stack-name $(STACK) --output text \
		--event "$$($(PYTHON) -c 'import json, shlex, sys; print(json.dumps({"command": sys.argv[1], "args": shlex.split(sys.argv[2])}))' '$(CMD)' '$(ARGS)')"

clean: ## remove local state (.local) and build output
	rm -rf .local .aws-sam build
