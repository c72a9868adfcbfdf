# One target per habit. Every target creates the virtual environment it needs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS := .local/tools
SAM := $(TOOLS)/bin/sam
export AWS_DEFAULT_REGION ?= eu-west-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help install lint fmt test dev demo migrate bench build invoke validate openapi clean

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade 'pip>=25.1'
	$(BIN)/pip install -q --disable-pip-version-check -e . --group dev
	touch $@

# SAM CLI pins its own boto3/pydantic, so it lives in a venv of its own.
$(SAM):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --disable-pip-version-check 'aws-sam-cli>=1.170'

install: $(STAMP) ## create .venv with runtime and dev dependencies

lint: $(STAMP) $(SAM) ## ruff, mypy strict, template lint (sam validate --lint, cfn-lint)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared functions infra tests
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml

fmt: $(STAMP) ## format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) ## the whole suite on a real (embedded) PostgreSQL
	$(BIN)/pytest $(ARGS)

.PHONY: fuzz
fuzz: $(STAMP) ## the property-based HTTP tests, longer: FUZZ_EXAMPLES per operation (default here 500)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} POWERTOOLS_LOG_LEVEL=WARNING $(BIN)/pytest tests/e2e/test_fuzz.py -s $(ARGS)

dev: $(STAMP) ## serve the API on 127.0.0.1:$${PORT:-3000} with embedded PostgreSQL
	$(BIN)/python -m reckoning_local serve

demo: $(STAMP) ## run the whole flow locally and print what happened
	$(BIN)/python -m reckoning_local demo

migrate: $(STAMP) ## apply database migrations to $$DATABASE_URL
	$(BIN)/reckoning migrate

bench: $(STAMP) ## benchmarks that print figures
	$(BIN)/python -m tests.bench

validate: $(STAMP) ## re-check a report: make validate REPORT=… SUBMISSION=…
	$(BIN)/reckoning validate $(REPORT) $(SUBMISSION)

build: $(STAMP) ## Lambda artifacts in .aws-sam/build for sam deploy (PLATFORM=host to import them here)
	$(BIN)/python -m reckoning_build $(if $(PLATFORM),--platform $(PLATFORM))

openapi: $(STAMP) ## regenerate docs/openapi.json from the route definitions
	$(BIN)/python -m reckoning_local.openapi

invoke: $(STAMP) ## run one function with one event in-process: make invoke FN=Submit EVENT=infra/events/…
	$(BIN)/python -m reckoning_local invoke $(FN) $(EVENT)

clean: ## remove local state (.local) and build output
	rm -rf .local .aws-sam build
