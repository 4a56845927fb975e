#!/usr/bin/env bash
# An exit node: a public peer advertises the default routes ::/0 and 0.0.0.0/0, and a laptop
# behind NAT sends everything it does not route elsewhere through it. The "internet" is two
# addresses only the exit holds (2001:db8:ffff::1 and 203.0.113.1); a real exit forwards to its
# uplink, masquerading the members' IPv4 addresses (IPv6 ULA sources are the operator's choice:
# see docs/routing.md). The mesh's creator must allow exit nodes.
# Run as root: examples/exit-node.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/mesh-lab.sh
lab_begin exit-node --build # as root; builds the debug binaries if needed; removes the lab on exit
internet=2001:db8:ffff::1
internet4=203.0.113.1
lab_setup_switch
lab_add_node vps 1
lab_add_node exit 2
lab_add_nat_client laptop 1
ip -n "$LAB_PREFIX-exit" addr add "$internet/128" dev lo
ip -n "$LAB_PREFIX-exit" addr add "$internet4/32" dev lo
for name in vps exit laptop; do lab_start "$name"; done

token=$(lab_ctl vps create --alias vps --name office --allow-exit-nodes | grep -o 'smeg[12]-[a-z0-9]*')
lab_ctl exit join --alias exit --advertise-default-route "$token" >/dev/null
lab_ctl laptop join --alias laptop --role client "$token" >/dev/null

echo "the laptop reaches the internet through the exit:"
lab_wait_ping laptop "$internet"
lab_wait 30 "the laptop pings $internet4 through the exit" lab_ping4 laptop "$internet4"
lab_ctl laptop get office
echo
echo "the laptop's policy routing (wg-quick style: its own table, marked WireGuard packets skip it):"
ip -n "$LAB_PREFIX-laptop" -6 rule show | grep -v "lookup local"
ip -n "$LAB_PREFIX-laptop" -6 route show table all | grep '^default'
ip -n "$LAB_PREFIX-laptop" -4 route show table all | grep '^default'
echo "exit-node: ::/0 and 0.0.0.0/0 go through the exit; the mesh and the LAN stay on their own routes"
