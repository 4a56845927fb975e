# smegmesh — every target installs what it needs (Debian, as root) and builds what it runs.

SWIFT ?= swift
SWIFT_TEST_FLAGS ?=
# Release binaries carry the Swift runtime (one file to copy to a machine, and 5 MiB less resident
# memory per daemon than with the shared runtime, BENCHMARKS.md); their own build directory keeps
# the other release builds (sim, benchmarks, fuzzers) from rebuilding each other.
RELEASE_TREE = .build-release
RELEASE = -c release --static-swift-stdlib --scratch-path $(RELEASE_TREE) $(LAYOUT)
# Code layout of the release link (docs/operations.md, "Why the release link is special"): every
# function in its own section, the functions a running daemon executes (scripts/layout/smegd.order,
# made by scripts/layout-profile.sh; make test fails when it goes stale, scripts/layout-check.sh) placed together, packed relative relocations, and no symbol
# table exported to the dynamic linker. Together they halve the code pages each daemon keeps
# resident.
# libstdc++, which the Swift runtime uses, is linked in as well: STATIC_CXX holds only its static
# archive and comes first in the library search path, so only the parts the runtime calls are
# linked, in the same order, and its start-up (1.2 MiB resident as a shared library) is gone.
STATIC_CXX = $(CURDIR)/$(RELEASE_TREE)/static-libstdc++
# Identical functions are folded into one (--icf=all: 1.5 MB less of smegd, docs/operations.md,
# "What each binary holds").
LINK = -Xswiftc -L$(STATIC_CXX) -Xswiftc -Xfrontend -Xswiftc -function-sections -Xswiftc -use-ld=lld \
	-Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic -Xlinker --icf=all \
	-Xlinker -T -Xlinker $(CURDIR)/scripts/layout/private-text.ld
# The order file is smegd's: linked into smegctl, every name in it would be a warning.
LAYOUT = $(LINK) -Xlinker --symbol-ordering-file=$(CURDIR)/scripts/layout/smegd.order

.PHONY: all deps build release layout-check lint unit fuzz test netns-test daemon-test routing-test failure-test hostile-test hostile-netns-test owners-test acl-test roaming-test direct-paths-test examples vm-test demo sim bench-crdt bench bench-wg bench-direct clean help

all: build

help:
	@echo "make demo   build a release and run a multi-node mesh in network namespaces"
	@echo "make test   install dependencies, lint, build and run every test"
	@echo "make fuzz   run the decoder fuzzers for longer (FUZZ_SECONDS per target)"
	@echo "make bench  smegd against Serf (plain and encrypted) on loopback, N = 20 and 100 (BENCH_N); see BENCHMARKS.md"
	@echo "make bench-wg   an idle mesh with WireGuard in namespaces: uplink bytes per node, gossip and WireGuard"
	@echo "make bench-direct   two NAT'd clients, direct against relayed: round trips and iperf3 TCP throughput"
	@echo "make daemon-test / routing-test / failure-test / hostile-test / hostile-netns-test / owners-test / acl-test / roaming-test / direct-paths-test / examples / netns-test / vm-test   one stage of make test"
	@echo "make sim    the simulator's bars at 1000 nodes, 20 seeds, without and with 10% loss"
	@echo "make bench-crdt   merge and delta micro-benchmark on a 10,000-entry store"
	@echo "make deb   out/deb/smegmesh_VERSION_amd64.deb (and -dbgsym), checked by lintian"
	@echo "make install PREFIX=/usr/local DESTDIR=   the package's layout without a package"
	@echo "make package-test   install the package into a fresh Debian root, run it, upgrade it, purge it"

deps:
	@scripts/deps.sh

build: deps
	$(SWIFT) build

release: deps
	@scripts/release-tree.sh "$(RELEASE_TREE)" "$(STATIC_CXX)" "$(LINK)"
	$(SWIFT) build $(RELEASE) --product smegd
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path $(RELEASE_TREE) $(LINK) --product smegctl

# Whether scripts/layout/smegd.order still describes the release smegd (see the script).
layout-check: release
	@scripts/layout-check.sh "$$($(SWIFT) build $(RELEASE) --show-bin-path)/smegd"

lint: deps
	@scripts/lint.sh

# The CPU-bound suites (thousands of X25519s, simulated meshes, hostile scripts) run on their own:
# in one process with the others they hold both threads of the cooperative pool for seconds on
# a 2-core machine, and the suites that serve real sockets in-process time out waiting for it.
HEAVY_SUITES = AccessTests|AccessEnforcementTests|AccessPolicyPropertyTests|OwnerLedgerTests|DirectPathHarnessTests|DirectPathsTests|NATHarnessTests|RoamingTests|FrameV2BoundsTests|FrameV2NetworkTests|HostileMemberTests|HostileCapacityTests|HostileRegressionTests|KeyAgreementBudgetTests|SimulationTests|GossipCoreTests|EvictionAtScaleTests
# The suites that serve real sockets in-process run on their own too: even hundreds of small
# tests in parallel kept the pool busy long enough for the metrics server's test to time out.
SOCKET_SUITES = MetricsTests|ControlServerLimitTests|ControlServerTests|NameServiceTests
unit: build
	$(SWIFT) test $(SWIFT_TEST_FLAGS) --skip "$(HEAVY_SUITES)|$(SOCKET_SUITES)"
	$(SWIFT) test $(SWIFT_TEST_FLAGS) --filter "$(SOCKET_SUITES)"
	$(SWIFT) test $(SWIFT_TEST_FLAGS) --filter "$(HEAVY_SUITES)"

fuzz: deps
	@scripts/fuzz.sh

test: deps lint unit package-test
	@$(MAKE) --no-print-directory demo
	@scripts/layout-check.sh "$$($(SWIFT) build $(RELEASE) --show-bin-path)/smegd"
	@scripts/fuzz.sh
	@scripts/netns-test.sh
	@scripts/daemon-netns-test.sh
	@scripts/routing-test.sh
	@scripts/failure-test.sh
	@scripts/hostile-test.sh
	@scripts/hostile-netns-test.sh
	@scripts/owners-test.sh
	@scripts/acl-test.sh
	@scripts/roaming-test.sh
	@scripts/direct-paths-test.sh
	@scripts/examples-test.sh
	@scripts/vm-test.sh
	@echo "make test: all stages passed"

# WireGuard end to end: userspace (wireguard-go) in namespaces, and the kernel module in a VM.
netns-test: build
	@scripts/netns-test.sh

# Three real smegd daemons with WireGuard in namespaces: join, ping, prune, restart (also without
# the bootstrap node), SIGTERM with and without removeInterfacesOnShutdown.
daemon-test: build
	@scripts/daemon-netns-test.sh

# Clients behind NAT, exits for ::/0, and a bridge between two meshes, with real WireGuard.
routing-test: build
	@scripts/routing-test.sh

# Every runnable topology under examples/.
examples: build
	@scripts/examples-test.sh

# Six nodes: garbage input, kill -9 of leader and member, restart, partition and heal, 20% loss.
failure-test: build
	@scripts/failure-test.sh

# A member with a valid token attacks four honest daemons on loopback, one attack per fresh mesh;
# every case reports PASS or FAIL and the stage ends with "N passed, N failed".
hostile-test: build
	@scripts/hostile-test.sh

# The same attacker against four nodes with real (userspace) WireGuard in namespaces: after each
# attack every honest node still pings every other one, and a node killed meanwhile is pruned.
hostile-netns-test: build
	@scripts/hostile-netns-test.sh

# Owners evict a laptop behind NAT (frozen, then woken) and a running member; the founder's
# machine is destroyed and a second owner evicts and invites.
owners-test: build
	@scripts/owners-test.sh

acl-test: build
	@scripts/acl-test.sh

# A laptop behind NAT frozen for 20 s and 90 s, its smegd stopped, killed and restarted, and
# moved to another NAT: pings both ways with three peers within 2 s of each (docs/operations.md).
roaming-test: build
	@scripts/roaming-test.sh

# Clients behind port-preserving, port-randomising and shared NATs, and behind IPv6 firewalls:
# direct or relayed as the NATs allow, the time to each, and a break between two NATs (fallback
# to the relays and back, with pings running).
direct-paths-test: build
	@scripts/direct-paths-test.sh

vm-test: deps
	@scripts/vm-test.sh

# The GossipCRDT bars of docs/gossip.md, from release builds (debug is ~10x slower).
sim: deps
	$(SWIFT) build -c release --product smeg-sim
	"$$($(SWIFT) build -c release --show-bin-path)/smeg-sim" --nodes 1000 --seeds 20
	"$$($(SWIFT) build -c release --show-bin-path)/smeg-sim" --nodes 1000 --seeds 20 --loss 0.1
	"$$($(SWIFT) build -c release --show-bin-path)/smeg-sim" --nodes 10000
	"$$($(SWIFT) build -c release --show-bin-path)/smeg-sim" --nodes 10000 --loss 0.1
	"$$($(SWIFT) build -c release --show-bin-path)/smeg-sim" --nodes 1000 --partition 30

bench-crdt: deps
	$(SWIFT) build -c release --product smeg-crdt-bench
	"$$($(SWIFT) build -c release --show-bin-path)/smeg-crdt-bench"

demo: release
	@SMEG_BIN="$$($(SWIFT) build $(RELEASE) --show-bin-path)" scripts/demo.sh

# smegd and Serf (Debian's serf, without and with gossip encryption), N processes each on
# loopback, side by side; fails when any bar is missed (BENCHMARKS.md). About 25 minutes at
# N = 100 alone, longer with the default N = 20 and 100.
bench:
	@SMEG_EXTRA_PACKAGES=serf scripts/deps.sh
	@$(MAKE) --no-print-directory release
	@SMEG_BIN="$$($(SWIFT) build $(RELEASE) --show-bin-path)" scripts/bench.sh

# An idle mesh of peers and NAT'd clients with userspace WireGuard in namespaces: what each node
# sends and receives on its uplink, gossip and WireGuard apart; a few minutes.
bench-wg: release
	@SMEG_BIN="$$($(SWIFT) build $(RELEASE) --show-bin-path)" scripts/bench-wg-idle.sh

# Two clients behind NAT, direct against relayed on the same topology: round trips and iperf3
# TCP throughput (BENCHMARKS.md); about a minute.
bench-direct: release
	@SMEG_BIN="$$($(SWIFT) build $(RELEASE) --show-bin-path)" scripts/bench-direct.sh

clean:
	rm -rf .build .build-*

# Installing without a package, and the Debian package (README.md, "Install"). `make install`
# puts the same files where the package does when PREFIX=/usr; DESTDIR stages them elsewhere.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/smegmesh
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
# smegd reads /etc/smegmesh/smegd.yaml whatever the prefix.
SYSCONFDIR ?= /etc
PACKAGE_FILES = $(RELEASE_TREE)/package
DEB_OUT ?= $(CURDIR)/out/deb
VERSION = $(shell SMEG_VERSION="$(SMEG_VERSION)" scripts/version.sh)

.PHONY: package-files install deb package-test

# Man pages and shell completions, made from the release binaries.
package-files: release
	@scripts/package-files.sh "$(CURDIR)/$(RELEASE_TREE)/release" "$(PACKAGE_FILES)"

install: package-files
	@DESTDIR="$(DESTDIR)" BINDIR="$(BINDIR)" SBINDIR="$(SBINDIR)" DATADIR="$(DATADIR)" MANDIR="$(MANDIR)" \
		DOCDIR="$(DOCDIR)" SYSTEMD_UNIT_DIR="$(SYSTEMD_UNIT_DIR)" SYSCONFDIR="$(SYSCONFDIR)" \
		scripts/install.sh "$(CURDIR)/$(RELEASE_TREE)/release" "$(PACKAGE_FILES)"

# out/deb/smegmesh_VERSION_amd64.deb and smegmesh-dbgsym_VERSION_amd64.deb, built by debhelper
# (debian/rules), then checked by lintian. SMEG_VERSION=... builds another version.
deb:
	@SMEG_EXTRA_PACKAGES="debhelper dpkg-dev lintian" scripts/deps.sh
	@mkdir -p "$(DEB_OUT)"
	SMEG_VERSION="$(SMEG_VERSION)" DEB_OUT="$(DEB_OUT)" debian/rules binary
	@test -f "$(DEB_OUT)/smegmesh_$(VERSION)_amd64.deb"
	lintian --fail-on error "$(DEB_OUT)/smegmesh_$(VERSION)_amd64.deb"
	@echo "deb: $(DEB_OUT)/smegmesh_$(VERSION)_amd64.deb"

# The package installed into a fresh Debian root: versions, help, a control-plane-only daemon
# answering smegctl, and an upgrade that keeps identity and state (scripts/package-test.sh).
package-test:
	@scripts/package-test.sh
