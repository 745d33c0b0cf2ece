# synchost — the two commands of the README, and the rest.
#   make demo   install what is missing, build, start the simulators and a host with every plugin wired to them
#   make test   install what is missing, build once, run the whole test suite
#   make bench  benchmarks (never part of make test); writes BENCHMARKS.md
#   make plugin NAME=acme  scaffold a plugin package (own folder, against SDK/) that builds, tests and loads as generated
#   make plugin-readmes  rewrite the plugin READMEs' generated manifest tables after a manifest change

SWIFT ?= swift
PORT ?= 8080
DATA_DIR ?= ./data

.PHONY: setup build demo serve test bench plugin plugin-readmes clean

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build

demo: build
	.build/debug/synchost demo --port $(PORT)

serve: build
	mkdir -p $(DATA_DIR)
	.build/debug/synchost serve --port $(PORT) --data-dir $(DATA_DIR)

# The in-tree plugins' suites, run a second time with every plugin in a worker process (--isolate all).
PLUGIN_SUITES = VOSPluginTests|GuankePluginTests|WeComPluginTests|ProjectSyncPluginTests|NotifyPluginTests

# Every test: SYNCHOST_TEST_ALL=1 makes a test whose server, browser or tool is missing fail instead of
# skipping. The store suite runs against SQLite and against a real PostgreSQL server that scripts/postgres.sh
# installs and starts (a throwaway cluster on 127.0.0.1:54329); SYNCHOST_TEST_POSTGRES_URL overrides it.
test: setup
	$(SWIFT) build --build-tests
	url="$${SYNCHOST_TEST_POSTGRES_URL:-$$(scripts/postgres.sh)}" && \
	SYNCHOST_TEST_ALL=1 SYNCHOST_TEST_POSTGRES_URL="$$url" $(SWIFT) test --skip-build && \
	SYNCHOST_TEST_ISOLATION=process SYNCHOST_TEST_ALL=1 SYNCHOST_TEST_POSTGRES_URL="$$url" $(SWIFT) test --skip-build --filter "$(PLUGIN_SUITES)"

bench: setup
	scripts/bench.sh

# A new plugin package of its own against the plugin kit: make plugin NAME=acme [DIR=../acme-plugin]
plugin: build
	@test -n "$(NAME)" || { echo "usage: make plugin NAME=acme [DIR=path]" >&2; exit 2; }
	.build/debug/synchost plugins new $(NAME) $(if $(DIR),--dir $(DIR),)

# After changing a manifest: rewrite the generated tables of every plugin README (a test checks them).
plugin-readmes: setup
	scripts/plugin-readmes.sh

clean:
	rm -rf .build .build-*
