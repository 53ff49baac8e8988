# Two commands for a newcomer: `make dev` and `make test`. Both bootstrap their tools
# from the package registries (crates.io, npm) and skip what is already installed.

SHELL := bash
# No -u: when wrangler runs `make build` with a socket on stdin, bash sources
# /etc/bash.bashrc, which reads an unset PS1.
.SHELLFLAGS := -e -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
CARGO_BIN := $(HOME)/.cargo/bin
WORKER_BUILD_VERSION := 0.8.7
# wasm-bindgen-cli must equal the wasm-bindgen library in Cargo.lock.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/[^0-9.]/, ""); print }' Cargo.lock)

# Wrangler and Miniflare need Node 22+. The npm package `node` (a devDependency) brings
# one; it is put first on PATH only when the system Node is older.
SYSTEM_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
NODE22_DIR := $(ROOT)/node_modules/node/bin
ifeq ($(shell test $(SYSTEM_NODE_MAJOR) -ge 22 && echo yes),yes)
export PATH := $(CARGO_BIN):$(PATH):$(ROOT)/node_modules/.bin
else
export PATH := $(NODE22_DIR):$(CARGO_BIN):$(PATH):$(ROOT)/node_modules/.bin
endif

# worker-build downloads these from the internet by default; use local binaries instead.
export WASM_BINDGEN_BIN := $(CARGO_BIN)/wasm-bindgen
export ESBUILD_BIN := $(ROOT)/node_modules/.bin/esbuild
export WASM_OPT_BIN := $(ROOT)/node_modules/.bin/wasm-opt
export WRANGLER_SEND_METRICS := false

.PHONY: help bootstrap bootstrap-rust bootstrap-node bootstrap-browser bootstrap-python build cli dev migrate-local test lint unit e2e deploy clean load fuzz bootstrap-fuzz

help:
	@echo "make dev    build and serve on http://127.0.0.1:8787 (PORT=... for another; local D1 + KV)"
	@echo "make test   fmt, clippy, unit tests, release wasm build, Miniflare tests"
	@echo "make deploy build, migrate and deploy with wrangler, setting missing secrets (docs/deploy.md)"
	@echo "make bundle bundle/: the built worker, deployable with Node alone (docs/deploy.md)"
	@echo "make load   20,000 redirects and 1,000 concurrent creations under Miniflare, then checks"
	@echo "make fuzz   each cargo-fuzz target for FUZZ_SECONDS (default 60)"
	@echo "make bench  the redirect benchmark (bench/results.md); make bench-clicks: the click store (bench/clicks.md)"
	@echo "make cli    the command-line tool, target/release/shortener (or: cargo install --path cli)"
	@echo "make bench-import  import throughput through the CLI (bench/import.md)"
	@echo "make bench-probe   the CPU cost of one D1 or KV call under Miniflare (bench/probe.md)"

bootstrap: bootstrap-rust bootstrap-node

bootstrap-rust:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
	  || rustup target add wasm32-unknown-unknown
	@worker-build --version 2>/dev/null | grep -q "$(WORKER_BUILD_VERSION)" \
	  || cargo install worker-build --version $(WORKER_BUILD_VERSION) --locked
	@test -n "$(WASM_BINDGEN_VERSION)" || { echo "no wasm-bindgen in Cargo.lock"; exit 1; }
	@# --locked first; its lock file can name a dependency version the registry has
	@# since yanked (seen with 0.2.130), so fall back to resolving within the pinned version.
	@wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $(WASM_BINDGEN_VERSION)" \
	  || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --locked \
	  || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

# npm ci only when package-lock.json changed since the last install.
bootstrap-node: node_modules/.package-lock.json
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# worker-build's wasm-opt pass (-Oz, from [package.metadata.wasm-pack] in Cargo.toml)
# keeps the name section (about 130 KB of function names). This finishing pass strips it
# and the producers section, and runs -Oz once more over the final module, which saves
# another 1.4 KB gzip (measured: 250,227 -> 248,795 B). The bench baseline gets the same.
WASM_FINISH := wasm-opt -Oz --strip-debug --strip-producers
# One build per start: `make dev` builds here, then wrangler's [build] command runs
# `make build` again, which finds build/index.js newer than every source and does
# nothing. A real change to a source rebuilds.
# src/assets/ is not in the wasm: its files are static assets (below). The domain crate
# (domain/) is compiled into it.
WORKER_SOURCES := $(shell find src domain -type f -not -path 'src/assets/*') Cargo.toml Cargo.lock
# The static assets' directory, as wrangler.toml's [assets] names it.
ASSETS_DIR := $(shell sed -n '/^\[assets\]/,/^\[/ s/^directory = "\(.*\)"/\1/p' wrangler.toml)
build: build/index.js $(ASSETS_DIR)/_headers
build/index.js: $(WORKER_SOURCES) | bootstrap
	worker-build --release
	$(WASM_FINISH) build/index_bg.wasm -o build/index_bg.wasm
	@touch $@

# The static assets ([assets] in wrangler.toml, served before the worker runs): the
# files of src/assets/ at /static/, the OpenAPI document, the /docs reference and the
# /docs/try console with Swagger UI from node_modules. Built by the native tool in
# site/ (see site/src/main.rs), never committed.
$(ASSETS_DIR)/_headers: $(WORKER_SOURCES) $(shell find src/assets site -type f) node_modules/.package-lock.json | bootstrap
	cargo run -q --locked -p shortener-site -- $(ASSETS_DIR)

# The links database, then every analytics database bound in wrangler.toml (ANALYTICS
# and its shards ANALYTICS_n, each with migrations_dir = "migrations-analytics").
ANALYTICS_DATABASES = $(shell sed -n 's/^binding = "\(ANALYTICS[_0-9]*\)"/\1/p' wrangler.toml)
migrate-local: bootstrap
	wrangler d1 migrations apply DB --local
	@for db in $(ANALYTICS_DATABASES); do wrangler d1 migrations apply $$db --local; done

# The port of `make dev` (PORT=8788 make dev, or make dev PORT=8788).
PORT ?= 8787
dev: build migrate-local dev-vars
	wrangler dev --ip 127.0.0.1 --port $(PORT)

# .dev.vars holds the local secrets (gitignored). A first `make dev` writes a random
# ADMIN_TOKEN there, so the operator API and the dashboard work at once, and a random
# COOKIE_SECRET, so /healthz is not degraded for want of it; every start
# prints it with the dashboard's address. wrangler dev reads .dev.vars only when it
# starts: restart it after an edit.
.PHONY: dev-vars
dev-vars:
	@touch .dev.vars
	@grep -qE '^ADMIN_TOKEN="?[^"[:space:]]' .dev.vars || { \
	  printf 'ADMIN_TOKEN=%s\n' "$$(node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("base64url"))')" >> .dev.vars; \
	  echo "make dev: wrote a new ADMIN_TOKEN to .dev.vars"; }
	@# Password cookies are signed with COOKIE_SECRET; without it /healthz says degraded.
	@grep -qE '^COOKIE_SECRET="?[^"[:space:]]' .dev.vars || { \
	  printf 'COOKIE_SECRET=%s\n' "$$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))')" >> .dev.vars; \
	  echo "make dev: wrote a new COOKIE_SECRET to .dev.vars"; }
	@echo ""
	@echo "  Dashboard:   http://127.0.0.1:$(PORT)/dashboard"
	@echo "  Admin token: $$(sed -n 's/^ADMIN_TOKEN="\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$$/\1/p' .dev.vars | tail -n 1)   (from .dev.vars)"
	@echo "  In a shell:  export ADMIN_TOKEN=\"$$(sed -n 's/^ADMIN_TOKEN="\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$$/\1/p' .dev.vars | tail -n 1)\""
	@echo ""

# The workspace: the worker, the domain (domain/), the command-line tool (cli/) and the
# site builder (site/).
lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace

# The command-line tool, native; the e2e tests run this binary against the worker.
cli:
	cargo build --release -p shortener-cli

# The browser tests (tests/browser-*.test.mjs) need Debian's Chromium (never a browser
# download). Installed here when we may (root with apt-get). Without it a developer's
# run skips them, saying why; CI (CI set, as every CI service sets it) fails instead,
# so a green CI run never means "skipped".
CHROMIUM_PATH ?= /usr/bin/chromium
CHROMIUM_HINT := install Debian's chromium (sudo apt-get install -y chromium) or set CHROMIUM_PATH
bootstrap-browser:
	@if [ -x "$(CHROMIUM_PATH)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q chromium >/dev/null 2>&1 \
	    || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } \
	    || echo "could not install chromium"; \
	fi
	@if [ ! -x "$(CHROMIUM_PATH)" ]; then \
	  if [ -n "$$CI" ] && [ "$$CI" != false ]; then \
	    echo "no Chromium at $(CHROMIUM_PATH), and CI does not skip the browser tests: $(CHROMIUM_HINT)"; exit 1; \
	  else echo "no Chromium at $(CHROMIUM_PATH): the browser tests will be skipped ($(CHROMIUM_HINT))"; fi; \
	fi

# The YOURLS adapter's test drives the `yourls` client from PyPI (tests/compat-yourls.test.mjs),
# installed into a venv under build/ (pinned here; PYTHON for another interpreter).
# Without python3 a developer's run skips that test, saying why; CI fails instead.
PYTHON ?= python3
YOURLS_CLIENT := yourls==1.2.3
YOURLS_VENV := build/yourls-venv
PYTHON_HINT := install Python 3 with venv (sudo apt-get install -y python3 python3-venv) or set PYTHON
bootstrap-python:
	@if ! command -v $(PYTHON) >/dev/null; then \
	  if [ -n "$$CI" ] && [ "$$CI" != false ]; then \
	    echo "no $(PYTHON), and CI does not skip the YOURLS client test: $(PYTHON_HINT)"; exit 1; \
	  else echo "no $(PYTHON): the YOURLS client test will be skipped ($(PYTHON_HINT))"; exit 0; fi; \
	fi; \
	if ! $(YOURLS_VENV)/bin/python -c 'import yourls' 2>/dev/null; then \
	  $(PYTHON) -m venv $(YOURLS_VENV) && $(YOURLS_VENV)/bin/pip install -q --disable-pip-version-check '$(YOURLS_CLIENT)' \
	    || { echo "could not install $(YOURLS_CLIENT) into $(YOURLS_VENV): $(PYTHON_HINT)"; rm -rf $(YOURLS_VENV); exit 1; }; \
	fi

e2e: build cli bootstrap-browser bootstrap-python
	node --test --test-concurrency=1 --test-timeout=180000 tests/*.test.mjs

test: bootstrap lint unit e2e

# Not part of `make test` (CI runs it after, .ci/run): a few minutes of load on 127.0.0.1,
# bounded so a hang fails instead of eating the CI budget.
load: build
	timeout 900 node tests/load.mjs

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := target_url key route link_request accepted_round_trip

bootstrap-fuzz:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked

# Each target runs for FUZZ_SECONDS; a crash stops the run and leaves its input in
# fuzz/artifacts/<target>/ (turn it into a unit test before fixing). Built with -O, as
# the worker ships: cargo fuzz otherwise turns debug assertions on for every crate, and
# idna_adapter 1.0.0 (pinned, see Cargo.toml) has one that `url` does not satisfy for
# percent-encoded hosts; its release behaviour, an IDNA error, is what ships.
fuzz: bootstrap-fuzz
	@for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  cargo +nightly fuzz run -O --fuzz-dir fuzz $$t -- -max_total_time=$(FUZZ_SECONDS) -max_len=4096 || exit 1; \
	done

# deploy/deploy.mjs, the same script the bundle's `npm run deploy` runs: it refuses a
# placeholder id before anything is built, then migrates every D1 database by binding
# name, deploys (creating what is declared without an id), migrates the databases the
# deploy created, and sets the secrets not set yet (docs/deploy.md).
deploy: bootstrap-node
	node deploy/deploy.mjs --check
	$(MAKE) build
	node deploy/deploy.mjs

# `make bundle`: bundle/ (gitignored), the built worker with its assets, migrations, a
# wrangler.toml without [build], and a package.json whose only dependency is wrangler
# (and Node 22): `npm ci && npm run deploy` there needs no Rust. tests/bundle.test.mjs
# checks it without a Rust toolchain; .github/workflows/deploy-branch.yml publishes it.
.PHONY: bundle
bundle: build
	node deploy/bundle.mjs bundle

clean:
	rm -rf build dist target .wrangler

# `make bench`: wrk against the release build and a constant-302 baseline worker, both
# under Miniflare on 127.0.0.1; writes bench/results.md (see bench/README.md).
BENCH_BASELINE := bench/baseline
BENCH_BASELINE_BINDGEN = $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/[^0-9.]/, ""); print }' $(BENCH_BASELINE)/Cargo.lock)

.PHONY: bench bench-baseline bench-wrk bench-clicks bench-import bench-probe bench-guards

bench: build bench-baseline bench-wrk
	timeout 900 node bench/run.mjs

# `make bench-clicks`: the click store's rows written, rows read and bytes stored per
# 1,000 clicks, and the stats of a 10-million-click link; writes bench/clicks.md.
bench-clicks: build
	timeout 900 node bench/clicks.mjs

# `make bench-probe`: what one D1 or KV call costs under Miniflare (a plain JavaScript
# worker, no build), the figures behind bench/README.md's cold-path argument; writes
# bench/probe.md.
bench-probe: bootstrap-node
	timeout 600 node bench/probe.mjs

# `make bench-guards`: bytes per queue-mode batch guard in SQLite (docs/scaling.md);
# writes bench/guards.md.
bench-guards: bootstrap-node
	timeout 300 node bench/guards.mjs

# `make bench-import`: links/s imported end to end through the CLI into the worker
# under Miniflare on 127.0.0.1, several rounds; writes bench/import.md.
bench-import: build cli
	timeout 900 node bench/import.mjs

# Same worker-build, same env and PATH as `make build`. The baseline's wasm-bindgen must
# be the root's, since only one wasm-bindgen CLI is installed.
bench-baseline: bootstrap
	@test "$(BENCH_BASELINE_BINDGEN)" = "$(WASM_BINDGEN_VERSION)" || { \
	  echo "bench baseline: wasm-bindgen $(BENCH_BASELINE_BINDGEN) -> $(WASM_BINDGEN_VERSION)"; \
	  cargo update --manifest-path $(BENCH_BASELINE)/Cargo.toml -p wasm-bindgen --precise $(WASM_BINDGEN_VERSION); }
	cd $(BENCH_BASELINE) && worker-build --release
	$(WASM_FINISH) $(BENCH_BASELINE)/build/index_bg.wasm -o $(BENCH_BASELINE)/build/index_bg.wasm

bench-wrk:
	@command -v wrk >/dev/null || { \
	  test "$$(id -u)" = 0 || { echo "make bench needs wrk: sudo apt-get install -y wrk"; exit 1; }; \
	  apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; }
