#!/usr/bin/env bash
# Fails when scripts/layout/smegd.order no longer describes the release smegd: the release link
# places the listed functions first and together (Makefile, LAYOUT; docs/operations.md), and an
# order file that names functions which were renamed or removed still links, only with the
# daemon's hot code scattered again and several MiB more resident per daemon. Two checks:
#   - at most MAX_MISSING_PERCENT (default 5) of the listed symbols may be absent from the binary;
#   - every function in HOT below (what every running daemon executes every tick) is listed.
# Regenerate the file with scripts/layout-profile.sh (as root, about 3 minutes).
# Usage: scripts/layout-check.sh [SMEGD_BINARY]   (default: the release build's smegd)
set -euo pipefail
cd "$(dirname "$0")/.."
order=scripts/layout/smegd.order
binary=${1:-.build-release/release/smegd}
max_missing=${MAX_MISSING_PERCENT:-5}
[[ -x $binary ]] || { echo "layout-check: no release smegd at $binary: run make release first" >&2; exit 1; }

# Demangled names (swift-demangle --simplified) of functions on the path of every tick and every
# datagram; a rename of any of them must show up here, not as a slower, bigger daemon.
HOT=(
    "MeshRuntime.run()"
    "MeshRuntime.perform("
    "MeshNode.tick(now:"
    "MeshNode.receive("
    "GossipCore.receive("
    "GossipEngine.tick(now:"
    "GossipEngine.receive("
    "MeshWire.open("
)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
nm --defined-only "$binary" | awk '{print $NF}' | sort -u >"$scratch/defined"
grep -v '^$' "$order" | sort -u >"$scratch/listed"
listed=$(wc -l <"$scratch/listed")
missing=$(comm -23 "$scratch/listed" "$scratch/defined" | wc -l)
percent=$((100 * missing / (listed > 0 ? listed : 1)))
# Hot functions count only through listed names the binary still defines: a function that moved
# (another module, another signature) demangles much as before but is a different symbol.
comm -12 "$scratch/listed" "$scratch/defined" | swift demangle --simplified >"$scratch/demangled"
swift demangle --simplified <"$scratch/defined" >"$scratch/defined-demangled"
absent=()
gone=()
for name in "${HOT[@]}"; do
    if ! grep -qF "$name" "$scratch/defined-demangled"; then
        gone+=("$name")
    elif ! grep -qF "$name" "$scratch/demangled"; then
        absent+=("$name")
    fi
done

echo "layout-check: $order lists $listed symbols, $missing ($percent%) absent from $binary"
status=0
if ((percent > max_missing)); then
    echo "layout-check: FAIL: more than $max_missing% of the listed functions no longer exist" >&2
    status=1
fi
if ((${#gone[@]} > 0)); then
    echo "layout-check: FAIL: not in the binary (renamed, or now inlined): ${gone[*]}; update HOT in $0" >&2
    exit 1
fi
if ((${#absent[@]} > 0)); then
    echo "layout-check: FAIL: hot functions not in the order file: ${absent[*]}" >&2
    status=1
fi
if ((status)); then
    echo "layout-check: the order file is stale; regenerate it: scripts/layout-profile.sh (as root)" >&2
fi
exit "$status"
