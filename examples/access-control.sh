#!/usr/bin/env bash
# Laptops reach servers, not each other, and the servers cannot reach back:
#
#   web1, db1    public peers, tagged `server`
#   laptop1      behind nat1, tagged `laptop`     laptop2   behind nat2, tagged `laptop`
#
# The owner (web1, which created the mesh) tags the machines and signs one rule; every member
# then enforces it (WireGuard sessions and nftables, docs/acl.md). Run as root:
# examples/access-control.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/mesh-lab.sh
lab_begin access-control --build # as root; builds the debug binaries if needed; removes the lab on exit
lab_setup_switch
lab_add_node web1 1
lab_add_node db1 2
lab_add_nat_client laptop1 1
lab_add_nat_client laptop2 2
for name in web1 db1 laptop1 laptop2; do lab_start "$name"; done

token=$(lab_ctl web1 create --alias web1 --name office | grep -o 'smeg[12]-[a-z0-9]*')
lab_ctl db1 join --alias db1 "$token" >/dev/null
lab_ctl laptop1 join --alias laptop1 --role client "$token" >/dev/null
lab_ctl laptop2 join --alias laptop2 --role client "$token" >/dev/null
mesh=$(lab_mesh web1)
declare -A addr
for name in web1 db1 laptop1 laptop2; do addr[$name]=$(lab_address "$name" "$mesh"); done
lab_wait_ping laptop1 "${addr[laptop2]}"
echo "without a policy, everyone reaches everyone (laptop1 pings laptop2)"

lab_ctl web1 tag office web1 server
lab_ctl web1 tag office db1 server
lab_ctl web1 tag office laptop1 laptop
lab_ctl web1 tag office laptop2 laptop
policy=$LAB_DIR/office.acl
cat >"$policy" <<'EOF'
# laptops open ssh to the servers and ping them; servers talk among themselves
allow tag:laptop -> tag:server tcp/22 icmp
allow tag:server -> tag:server
EOF
lab_ctl web1 acl set office "$policy"
lab_ctl web1 acl office
lab_ctl laptop2 acl check office laptop1 db1 22 || true
lab_ctl laptop2 acl check office db1 laptop1 || true

lab_wait_ping laptop1 "${addr[db1]}"
lab_wait_ping laptop2 "${addr[web1]}"
lab_wait_ping web1 "${addr[db1]}"
denied() { ! lab_ping "$1" "${addr[$2]}" 1 >/dev/null 2>&1; }
for pair in "db1 laptop1" "laptop1 laptop2" "laptop2 laptop1"; do
    read -r from to <<<"$pair"
    lab_wait 10 "$from can no longer ping $to" denied "$from" "$to"
    echo "  $from -> $to: denied"
done
lab_ctl laptop1 get office
echo "access-control: laptops reach the servers, the servers each other, and nobody else anyone"
