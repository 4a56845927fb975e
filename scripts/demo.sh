#!/usr/bin/env bash
# The demo: a real multi-node mesh in network namespaces on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build -c release --show-bin-path)
echo "demo: built $bin/smegd and $bin/smegctl (release)"
"$bin/smegd" --version
echo "demo: the daemon's mesh services are not implemented yet, so no namespaces or mesh were created."
echo "demo: nothing else was done."
