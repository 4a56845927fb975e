# smegmesh — every target installs what it needs (Debian, as root) and builds what it runs.

SWIFT ?= swift
SWIFT_TEST_FLAGS ?=

.PHONY: all deps build release lint unit fuzz test netns-test daemon-test failure-test vm-test demo bench clean help

all: build

help:
	@echo "make demo   build a release and run a multi-node mesh in network namespaces"
	@echo "make test   install dependencies, lint, build and run every test"
	@echo "make fuzz   run the decoder fuzzers for longer (FUZZ_SECONDS per target)"
	@echo "make bench  smegd against Serf on loopback, N = 20 and 100 (BENCH_N); see BENCHMARKS.md"
	@echo "make daemon-test / netns-test / vm-test   one stage of make test"

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
	@scripts/netns-test.sh
	@scripts/daemon-netns-test.sh
	@scripts/failure-test.sh
	@scripts/vm-test.sh
	@echo "make test: all stages passed"

# WireGuard end to end: userspace (wireguard-go) in namespaces, and the kernel module in a VM.
netns-test: build
	@scripts/netns-test.sh

# Three real smegd daemons with WireGuard in namespaces: join, ping, prune, restart.
daemon-test: build
	@scripts/daemon-netns-test.sh

# Six nodes: garbage input, kill -9 of leader and member, restart, partition and heal, 20% loss.
failure-test: build
	@scripts/failure-test.sh

vm-test: deps
	@scripts/vm-test.sh

demo: release
	@SMEG_BIN="$$($(SWIFT) build -c release --show-bin-path)" scripts/demo.sh

# smegd and Serf (Debian's serf), N processes each on loopback, side by side; about 10 minutes.
bench:
	@SMEG_EXTRA_PACKAGES=serf scripts/deps.sh
	@$(MAKE) --no-print-directory release
	@SMEG_BIN="$$($(SWIFT) build -c release --show-bin-path)" scripts/bench.sh

clean:
	rm -rf .build .build-*
