# qdn-photos — see README.md. Every target installs what it needs (scripts/bootstrap.sh).
SHELL := /bin/bash
.PHONY: dev test bench fuzz build web deploy sam-build stack-up stack-down events invoke lint tokens check-bucket setup-bucket smoke clean help

help:
	@echo "make dev | test | bench | fuzz [FUZZ_SECONDS=300] | build [ARCH=arm64|x86_64] | web API=… BUCKET_ORIGIN=… | deploy | sam-build | lint | invoke EVENT=events/… | tokens ARGS=… | check-bucket BUCKET=… [ORIGIN=… PIPELINE_ARN=…] | setup-bucket BUCKET=… ORIGIN=… PIPELINE_ARN=… [DRY_RUN=1] | smoke API=… TOKEN=… JOB=… [ORIGIN=…] | stack-up | stack-down | clean"

dev:            ## local stack + the function under cargo lambda watch on :9000
	scripts/dev.sh

test:           ## lint + unit + integration tests against Garage and moto + events via cargo lambda
	scripts/test.sh

bench:          ## criterion benches, /photos against Garage, zip size, cold start
	scripts/bench.sh

FUZZ_SECONDS ?= 300
fuzz:           ## cargo fuzz (nightly libFuzzer) on request handling for FUZZ_SECONDS
	scripts/fuzz.sh $(FUZZ_SECONDS)

ARCH ?= arm64
build:          ## release zip for Lambda (target/lambda/qdn-photos/bootstrap.zip), prints its size
	ARCH=$(ARCH) scripts/build.sh

WEB_OUT ?= target/web
web:            ## the capture page and module for one deployment: API=https://api… BUCKET_ORIGIN=https://bucket.s3.region.amazonaws.com
	@test -n "$(API)" -a -n "$(BUCKET_ORIGIN)" || { echo "usage: make web API=https://api.example.com BUCKET_ORIGIN=https://BUCKET.s3.REGION.amazonaws.com [BASE_URL=https://where.it.is.served] [WEB_OUT=target/web]" >&2; exit 2; }
	python3 scripts/web_build.py --api "$(API)" --bucket-origin "$(BUCKET_ORIGIN)" --out "$(WEB_OUT)" $(if $(BASE_URL),--base-url "$(BASE_URL)")

deploy:         ## sam build + sam deploy (--guided the first time)
	scripts/deploy.sh

sam-build:      ## sam build (rust-cargolambda through cargo lambda; offline): .aws-sam/build/PhotosFunction/bootstrap
	scripts/deploy.sh --build-only

stack-up:       ## just the local S3 (Garage) and DynamoDB (moto) servers
	scripts/bootstrap.sh && scripts/stack.sh up

stack-down:
	scripts/stack.sh down

events:         ## every events/*.json through cargo lambda invoke (stack must be up)
	scripts/check-events.sh

EVENT ?= events/get-upload-url.json
invoke:         ## one event through cargo lambda invoke against `make dev`
	. scripts/lib.sh && cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port $${API_PORT:-9000} --data-file $(EVENT) qdn-photos

lint:           ## rustfmt, clippy, cfn-lint, sam validate --lint
	scripts/bootstrap.sh >/dev/null
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	. scripts/lib.sh && AWS_DEFAULT_REGION=us-east-1 cfn-lint template.yaml
	. scripts/lib.sh && ensure_sam && AWS_DEFAULT_REGION=us-east-1 sam validate --lint --template-file template.yaml

tokens:         ## per-person tokens on the local stack: ARGS="create --name alice --jobs j-1" | "list" | "revoke ID"
	scripts/bootstrap.sh >/dev/null && scripts/stack.sh up >/dev/null
	. scripts/lib.sh && function_env && cargo run --quiet -- tokens $(ARGS)

check-bucket:   ## an existing bucket's settings, each with its fix (AWS credentials from the usual chain): BUCKET=… [ORIGIN=https://… PIPELINE_ARN=…]
	cargo run --quiet -- check-bucket --bucket $(BUCKET) $(if $(ORIGIN),--origin $(ORIGIN)) $(if $(PIPELINE_ARN),--pipeline-arn $(PIPELINE_ARN))

setup-bucket:   ## merge versioning, CORS, the pipeline's notification, noncurrent and archive expiry into BUCKET: ORIGIN=… PIPELINE_ARN=… [DRY_RUN=1]
	cargo run --quiet -- setup-bucket --bucket $(BUCKET) --origin $(ORIGIN) --pipeline-arn $(PIPELINE_ARN) $(if $(DRY_RUN),--dry-run)

smoke:          ## one photo through a deployment, step by step (exit 1 at the first failure): API=… TOKEN=… (or QDN_TOKEN) JOB=… [ORIGIN=https://…] [WAIT=120]
	QDN_TOKEN="$${QDN_TOKEN:-$(TOKEN)}" python3 scripts/smoke.py --api $(API) --job $(JOB) $(if $(ORIGIN),--origin $(ORIGIN)) $(if $(WAIT),--wait $(WAIT))

clean:
	scripts/stack.sh down
	cargo clean
