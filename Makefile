# synchost — the two commands of the README, and the rest.
#   make demo   install what is missing, build, start the host with every plugin and the admin API
#   make test   install what is missing, build once, run the whole test suite
#   make bench  benchmarks (never part of make test); writes BENCHMARKS.md

SWIFT ?= swift
PORT ?= 8080
DATA_DIR ?= ./data

.PHONY: setup build demo serve test bench clean

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build

demo: build
	mkdir -p $(DATA_DIR)
	.build/debug/synchost serve --port $(PORT) --data-dir $(DATA_DIR)

serve: demo

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: setup
	scripts/bench.sh

clean:
	rm -rf .build .build-*
