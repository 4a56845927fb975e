# smegmesh — every target installs what it needs (Debian, as root) and builds what it runs.

SWIFT ?= swift
SWIFT_TEST_FLAGS ?=

.PHONY: all deps build release lint unit fuzz test demo clean help

all: build

help:
	@echo "make demo   build a release and run a multi-node mesh in network namespaces"
	@echo "make test   install dependencies, lint, build and run every test"
	@echo "make fuzz   run the decoder fuzzers for longer (FUZZ_SECONDS per target)"

deps:
	@scripts/deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product smegd
	$(SWIFT) build -c release --product smegctl

lint: deps
	@scripts/lint.sh

unit: build
	$(SWIFT) test $(SWIFT_TEST_FLAGS)

fuzz: deps
	@scripts/fuzz.sh

test: deps lint unit
	@scripts/fuzz.sh
	@echo "make test: all stages passed"

demo: release
	@scripts/demo.sh

clean:
	rm -rf .build .build-*
