#!/usr/bin/env bash
# Two meshes bridged by one node that is in both:
#
#   mesh "lab":    lab1, bridge        mesh "office":   office1, bridge
#
# The bridge advertises each mesh's prefix into the other (`join --bridge`; both meshes are
# created with --allow-bridged-meshes) and forwards between its two interfaces, so lab1 pings
# office1. When the bridge leaves "office", the route goes away again. Run as root:
# examples/bridged-meshes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/mesh-lab.sh
lab_begin bridged-meshes --build # as root; builds the debug binaries if needed; removes the lab on exit
lab_setup_switch
lab_add_node lab1 1
lab_add_node office1 2
lab_add_node bridge 3
for name in lab1 office1 bridge; do lab_start "$name"; done

lab_token=$(lab_ctl lab1 create --alias lab1 --name lab --allow-bridged-meshes | grep -o 'smeg[12]-[a-z0-9]*')
office_token=$(lab_ctl office1 create --alias office1 --name office --allow-bridged-meshes |
    grep -o 'smeg[12]-[a-z0-9]*')
lab_ctl bridge join --alias bridge --bridge "$lab_token" >/dev/null
lab_ctl bridge join --alias bridge --bridge "$office_token" >/dev/null
lab_id=$(lab_mesh lab1)
office_id=$(lab_mesh office1)
lab1=$(lab_address lab1 "$lab_id")
office1=$(lab_address office1 "$office_id")
office_prefix=$(lab_ctl office1 list --json | lab_json field meshes.0.prefix)

echo "across the bridge, both ways:"
lab_wait_ping lab1 "$office1"
lab_wait_ping office1 "$lab1"
lab_ctl lab1 get lab
lab_ctl bridge graph >"$LAB_DIR/bridged.dot" && echo "(the bridge's view as DOT: smegctl graph)"

echo
echo "the bridge leaves office:"
lab_ctl bridge leave office
lab_wait 30 "lab1 drops the route to $office_prefix" \
    bash -c "! ip -n $LAB_PREFIX-lab1 -6 route show $office_prefix | grep -q ."
echo "  lab1 has no route to $office_prefix any more"
echo "bridged-meshes: the meshes reached each other only while the bridge was in both"
