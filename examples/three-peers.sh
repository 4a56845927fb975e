#!/usr/bin/env bash
# Three public peers in network namespaces, joined with smegctl, until all ping each other.
# Run as root: examples/three-peers.sh (builds a debug binary if needed).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/mesh-lab.sh
lab_begin three-peers --build # as root; builds the debug binaries if needed; removes the lab on exit
lab_setup_switch
for i in 1 2 3; do lab_add_node "peer$i" "$i"; lab_start "peer$i"; done
token=$(lab_ctl peer1 create --alias peer1 | grep -o 'smeg[12]-[a-z0-9]*')
lab_ctl peer2 join --alias peer2 "$token"
lab_ctl peer3 join --alias peer3 "$token"
mesh=$(lab_mesh peer1)
for i in 1 2 3; do
    for j in 1 2 3; do
        [[ $i == "$j" ]] || lab_wait_ping "peer$i" "$(lab_address "peer$j" "$mesh")"
    done
done
lab_ctl peer1 get "$mesh"
echo "three-peers: every peer pings every other over the mesh"
