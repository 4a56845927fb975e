#!/usr/bin/env bash
# Three real smegd daemons in network namespaces with real (userspace) WireGuard:
# create a mesh on one, join the other two with the invite token, then check all-pairs
# `ping -6` and `ping -4` over the overlay, IPv4 networks that overlap the host's refused,
# pruning after kill -9, and the same address after a restart;
# a restart once the bootstrap node of the token is gone; and what SIGTERM does to the
# interface with and without removeInterfacesOnShutdown.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/mesh-lab.sh
lab_begin daemon-netns-test

started=$SECONDS
lab_setup_switch
for index in 1 2 3; do lab_add_node "n$index" "$index"; done
for name in n1 n2 n3; do lab_start "$name"; done

lab_ctl n1 create --alias one --name lab >"$LAB_DIR/create.txt"
token=$(grep -o 'smeg[12]-[a-z0-9]*' "$LAB_DIR/create.txt")
mesh=$(lab_mesh n1)
lab_log "created mesh $mesh on n1"
join_started=$SECONDS
lab_ctl n2 join --alias two "$token" >/dev/null
lab_ctl n3 join --alias three "$token" >/dev/null

declare -A addr
for name in n1 n2 n3; do addr[$name]=$(lab_address "$name" "$mesh"); done
lab_log "addresses: n1=${addr[n1]} n2=${addr[n2]} n3=${addr[n3]}"


lab_wait 30 "all-pairs ping -6 between n1 n2 n3" lab_pings n1 n2 n3
lab_log "all-pairs ping -6 works ($((SECONDS - join_started)) s after the first join)"

# IPv4: every node has the address its owner signed on its interface, all pairs ping -4.
declare -A addr4
for name in n1 n2 n3; do
    addr4[$name]=$(lab_ctl "$name" list --json | lab_json mesh "$mesh" ipv4Address "")
    [[ -n ${addr4[$name]} ]] || lab_fail "$name has no IPv4 overlay address"
    lab_exec "$name" ip -4 -o addr show dev "$(lab_interface "$name" "$mesh")" | grep -qF " ${addr4[$name]}/" \
        || lab_fail "$name's interface does not carry ${addr4[$name]}"
done
[[ $(printf '%s\n' "${addr4[@]}" | sort -u | wc -l) == 3 ]] || lab_fail "two nodes share an IPv4 address: ${addr4[*]}"
lab_wait 20 "all-pairs ping -4 between n1 n2 n3" lab_pings4 n1 n2 n3
lab_log "IPv4: n1=${addr4[n1]} n2=${addr4[n2]} n3=${addr4[n3]}, all pairs ping -4"

# The mesh's IPv4 network must not overlap the host's: create picks around them, refuses when
# nothing is left, and join refuses a mesh whose network the host already routes.
# A veth pair stands in for a LAN or VPN interface (this kernel may lack the dummy module).
lab_exec n2 ip link add smegtest0 type veth peer name smegtest1
lab_exec n2 ip link set smegtest1 up
lab_exec n2 ip link set smegtest0 up
lab_exec n2 ip route add 100.64.0.0/10 dev smegtest0
if lab_ctl n2 create --name full >"$LAB_DIR/full.txt" 2>&1; then lab_fail "create picked a prefix inside a routed 100.64.0.0/10"; fi
grep "every /16 of 100.64.0.0/10 overlaps a network this host uses" "$LAB_DIR/full.txt" | grep -q "route 100.64.0.0/10 dev smegtest0" \
    || lab_fail "create's refusal does not name the route: $(cat "$LAB_DIR/full.txt")"
lab_exec n2 ip addr add 10.99.1.1/24 dev smegtest0
lab_ctl n1 create --name other --ipv4-prefix 10.99.0.0/16 >"$LAB_DIR/other.txt"
other_token=$(grep -o 'smeg2-[a-z0-9]*' "$LAB_DIR/other.txt")
if lab_ctl n2 join "$other_token" >"$LAB_DIR/join-overlap.txt" 2>&1; then lab_fail "join accepted an overlapping IPv4 network"; fi
grep -q "10.99.0.0/16 overlaps address 10.99.1.1/24 on smegtest0" "$LAB_DIR/join-overlap.txt" \
    || lab_fail "join's refusal does not name the address: $(cat "$LAB_DIR/join-overlap.txt")"
lab_ctl n1 leave other >/dev/null
lab_exec n2 ip link del smegtest0
lab_log "IPv4 networks that overlap the host's are refused at create and join, naming what they overlap"

# kill -9 of a member: pruned from membership and from WireGuard on the others.
key3=$(lab_ctl n3 get "$mesh" --json | lab_json member isSelf=true id)
lab_kill9 n3
killed_at=$SECONDS
lab_wait 20 "n1 and n2 prune n3" lab_all_see "$mesh" 2 n1 n2
lab_log "n3 pruned everywhere after $((SECONDS - killed_at)) s"
no_peer() { ! lab_exec "$1" wg show all peers | grep -qF "$key3"; }
lab_wait 10 "n3 removed from n1's WireGuard peers" no_peer n1
lab_wait 10 "n3 removed from n2's WireGuard peers" no_peer n2
lab_pings n1 n2 || lab_fail "n1 and n2 lost each other after n3 died"

# restart: same identity and address, back in the mesh without any manual step.
lab_start n3
lab_wait 20 "n3 back in the mesh" lab_all_see "$mesh" 3 n1 n3
[[ $(lab_address n3 "$mesh") == "${addr[n3]}" ]] || lab_fail "n3 came back with another address"
lab_wait 30 "all-pairs ping -6 after n3's restart" lab_pings n1 n2 n3
lab_log "n3 restarted with the same address ${addr[n3]} and all pairs ping again"

# The bootstrap node is gone: n1 created the mesh and its endpoints are the token's only ones.
# A restarted n3 must rejoin through what it remembers (n2), with the same address.
lab_kill9 n1
lab_wait 20 "n2 and n3 prune n1" lab_all_see "$mesh" 2 n2 n3
lab_kill9 n3
lab_wait 20 "n2 prunes n3" lab_all_see "$mesh" 1 n2
lab_start n3
lab_wait 20 "n3 back in the mesh without n1" lab_all_see "$mesh" 2 n2 n3
[[ $(lab_address n3 "$mesh") == "${addr[n3]}" ]] || lab_fail "n3 came back without n1 with another address"
lab_wait 30 "ping -6 between n2 and n3 without n1" lab_pings n2 n3
lab_log "without the bootstrap node n1, a restarted n3 rejoined through n2 with the same address"

# SIGTERM keeps the interface by default: traffic survives a daemon restart or upgrade.
ifname=$(lab_interface n3 "$mesh")
[[ -n $ifname ]] || lab_fail "n3 reports no interface for the mesh"
lab_term n3
lab_has_link n3 "$ifname" || lab_fail "SIGTERM removed $ifname although removeInterfacesOnShutdown is off"
lab_exec n3 wg show "$ifname" peers | grep -q . || lab_fail "$ifname lost its WireGuard peers on SIGTERM"
lab_log "SIGTERM without removeInterfacesOnShutdown: $ifname stays up with its peers"

# With removeInterfacesOnShutdown=true, SIGTERM deletes it (and wireguard-go exits with it).
lab_start n3 --set removeInterfacesOnShutdown=true
lab_wait 20 "n3 back in the mesh after SIGTERM" lab_all_see "$mesh" 2 n2 n3
lab_term n3
! lab_has_link n3 "$ifname" || lab_fail "SIGTERM left $ifname although removeInterfacesOnShutdown is on"
grep -q "removed interface $ifname" "$LAB_DIR/n3/smegd.log" || lab_fail "n3's log does not say it removed $ifname"
lab_log "SIGTERM with removeInterfacesOnShutdown=true: $ifname is gone"
lab_log "daemon-netns-test: PASS in $((SECONDS - started)) s"
