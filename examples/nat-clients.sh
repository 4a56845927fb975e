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
cd "$(dirname "$0")/.."
source scripts/lib/mesh-lab.sh
lab_begin nat-clients --build # as root; builds the debug binaries if needed; removes the lab on exit
lab_setup_switch
lab_add_node vps1 1
lab_add_node vps2 2
lab_add_nat_client laptop1 1
lab_add_nat_client laptop2 2
for name in vps1 vps2 laptop1 laptop2; do lab_start "$name"; done

token=$(lab_ctl vps1 create --alias vps1 --name home | grep -o 'smeg[12]-[a-z0-9]*')
lab_ctl vps2 join --alias vps2 "$token" >/dev/null
lab_ctl laptop1 join --alias laptop1 --role client "$token" >/dev/null
lab_ctl laptop2 join --alias laptop2 --role client "$token" >/dev/null
mesh=$(lab_mesh vps1)
declare -A addr
for name in vps1 vps2 laptop1 laptop2; do addr[$name]=$(lab_address "$name" "$mesh"); done

echo "every node pings every other:"
for from in vps1 vps2 laptop1 laptop2; do
    for to in vps1 vps2 laptop1 laptop2; do [[ $from == "$to" ]] || lab_wait_ping "$from" "${addr[$to]}"; done
done
lab_ctl vps1 get home

home=$(lab_ctl vps1 get home --json)
via_id=$(lab_json member alias=laptop1 via <<<"$home")
via=$(lab_json member shortId="$via_id" alias <<<"$home")
other=vps1
[[ $via == vps1 ]] && other=vps2
echo
echo "laptop1 is attached to $via; stopping $via (every process in it, like a power cut)"
lab_kill_node "$via"
lab_wait_ping laptop1 "${addr[$other]}"
lab_wait_ping laptop1 "${addr[laptop2]}"
lab_ctl "$other" get home
echo "nat-clients: laptop1 moved to $other by itself and reaches everyone again"
