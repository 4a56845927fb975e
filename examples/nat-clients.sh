#!/usr/bin/env bash
# Two laptops behind two different NAT routers (nftables masquerade), one public peer each way:
#
#   vps1, vps2   public peers
#   laptop1      behind nat1 (192.168.1.0/24)    laptop2   behind nat2 (192.168.2.0/24)
#
# Each laptop attaches to one peer (rendezvous hashing) and is reached through it; the two
# laptops reach each other through their peers. Then the first laptop's peer dies, and the
# laptop moves to the other peer by itself. Run as root: examples/nat-clients.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
lab_setup_switch
lab_add_node vps1 1
lab_add_node vps2 2
lab_add_nat_client laptop1 1
lab_add_nat_client laptop2 2
for name in vps1 vps2 laptop1 laptop2; do lab_start "$name"; done

token=$(lab_ctl vps1 create --alias vps1 --name home | grep -o 'smeg1-[a-z0-9]*')
lab_ctl vps2 join --alias vps2 "$token" >/dev/null
lab_ctl laptop1 join --alias laptop1 --role client "$token" >/dev/null
lab_ctl laptop2 join --alias laptop2 --role client "$token" >/dev/null
mesh=$(example_mesh vps1)
declare -A addr
for name in vps1 vps2 laptop1 laptop2; do addr[$name]=$(lab_address "$name" "$mesh"); done

echo "every node pings every other:"
for from in vps1 vps2 laptop1 laptop2; do
    for to in vps1 vps2 laptop1 laptop2; do [[ $from == "$to" ]] || example_pings "$from" "${addr[$to]}"; done
done
lab_ctl vps1 get home

via=$(lab_ctl vps1 get home --json | python3 -c '
import json, sys
members = json.load(sys.stdin)["members"]
via = [m["via"] for m in members if m.get("alias") == "laptop1"][0]
print([m["alias"] for m in members if m["shortId"] == via][0])')
other=vps1
[[ $via == vps1 ]] && other=vps2
echo
echo "laptop1 is attached to $via; stopping $via (every process in it, like a power cut)"
lab_kill_node "$via"
example_pings laptop1 "${addr[$other]}"
example_pings laptop1 "${addr[laptop2]}"
lab_ctl "$other" get home
echo "nat-clients: laptop1 moved to $other by itself and reaches everyone again"
