#!/usr/bin/env bash
# Roles and routes with real smegd daemons and real (userspace) WireGuard in network namespaces,
# real NAT (nftables masquerade) in front of the clients:
#
#   mesh alpha (exit nodes and bridges allowed)      mesh beta (bridges allowed)
#     p1          peer, created alpha                  b1   peer, created beta
#     e1, e2      peers, exits: advertise ::/0         br   in alpha and beta, bridges both ways
#     c1, c2      clients, each behind its own NAT
#     br          (the bridge)
#
#   1. every member of alpha pings every other; each client has exactly one peer, the one the
#      others say it is attached to; c1's DNS responder resolves every alias of alpha
#   2. the exits: every chooser reaches an address only the exits hold through the exit its
#      daemon reports, and those choices are what WireGuard carries; the split is printed
#   3. the bridge: c1 and p1 (alpha) ping b1 (beta) and back
#   4. c1's peer dies (every process in its namespace): c1 moves to another peer and pings again
#   5. an exit dies: everybody moves to the other exit
#   6. the bridge leaves beta: alpha's route to beta goes away everywhere
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/mesh-lab.sh
lab_begin routing-test

# An address on the "internet" behind both exits (anycast): reachable only through an exit.
internet=2001:db8:ffff::1
started=$SECONDS
lab_setup_switch
lab_add_node p1 1
lab_add_node e1 2
lab_add_node e2 3
lab_add_node br 4
lab_add_node b1 5
lab_add_nat_client c1 11
lab_add_nat_client c2 12
for exit in e1 e2; do ip -n "$LAB_PREFIX-$exit" addr add "$internet/128" dev lo; done
for name in p1 e1 e2 br b1 c2; do lab_start "$name"; done
# c1 also answers DNS queries for the members' names, on its loopback.
lab_start c1 --set dnsListen=127.0.0.1:53

alpha_token=$(lab_ctl p1 create --name alpha --alias p1 --allow-exit-nodes --allow-bridged-meshes --json |
    lab_json field token)
beta_token=$(lab_ctl b1 create --name beta --alias b1 --allow-bridged-meshes --json | lab_json field token)
alpha=$(lab_mesh p1)
beta=$(lab_mesh b1)
lab_ctl e1 join --alias e1 --advertise-default-route "$alpha_token" >/dev/null
lab_ctl e2 join --alias e2 --advertise-default-route "$alpha_token" >/dev/null
lab_ctl c1 join --alias c1 --role client "$alpha_token" >/dev/null
lab_ctl c2 join --alias c2 --role client "$alpha_token" >/dev/null
lab_ctl br join --alias br --bridge "$alpha_token" >/dev/null
lab_ctl br join --alias br --bridge "$beta_token" >/dev/null
lab_log "alpha $alpha (p1 e1 e2 c1 c2 br), beta $beta (b1 br)"

alpha_nodes=(p1 e1 e2 c1 c2 br)
declare -A addr
for name in "${alpha_nodes[@]}"; do addr[$name]=$(lab_address "$name" "$alpha"); done
addr[b1]=$(lab_address b1 "$beta")
beta_prefix=$(lab_ctl b1 list --json | lab_json field meshes.0.prefix)
alpha_if=smeg${alpha:0:8}


# detail NAME: `smegctl get alpha --json` as NAME's daemon sees it.
detail() { lab_ctl "$1" get "$alpha" --json; }

# wg_holder NAME PREFIX: the short id (first 8 hex digits of the key) of the WireGuard peer whose
# AllowedIPs on NAME's alpha interface contain exactly PREFIX, or nothing.
wg_holder() {
    lab_exec "$1" wg show "$alpha_if" allowed-ips | lab_json wg-holder "$2"
}

# 1. clients behind NAT: one peer each, the one everybody agrees on.
lab_wait 60 "all-pairs ping -6 in alpha" lab_pings "${alpha_nodes[@]}"
lab_log "1/6 all pairs of alpha ping, clients included ($((SECONDS - started)) s since start)"
attached() {
    # attached CLIENT: the peer p1 says the client is attached through
    detail p1 | lab_json member alias="$1" via ""
}
alpha_prefix=$(lab_ctl p1 list --json | lab_json field meshes.0.prefix)
for client in c1 c2; do
    via=$(attached "$client")
    [[ -n $via ]] || lab_fail "p1 does not know which peer $client is attached to"
    holder=$(wg_holder "$client" "$alpha_prefix")
    [[ $holder == "$via" ]] || lab_fail "$client routes the mesh through '$holder', p1 says it is attached to '$via'"
    lab_log "    $client is attached to $via (mesh prefix on that peer only)"
done
resolves() {
    local name
    for name in p1 e1 e2 c2 br; do
        [[ $(ip netns exec "$LAB_PREFIX-c1" dig +short +time=1 +tries=1 @127.0.0.1 "$name.alpha.smeg" AAAA) == "${addr[$name]}" ]] ||
            return 1
    done
}
lab_wait 10 "c1's DNS responder answers every alias of alpha" resolves
rcode=$(ip netns exec "$LAB_PREFIX-c1" dig +time=1 +tries=1 @127.0.0.1 nobody.alpha.smeg AAAA | grep -o 'status: [A-Z]*')
[[ $rcode == "status: NXDOMAIN" ]] || lab_fail "an unknown alias gave '$rcode', not NXDOMAIN"
lab_log "    dig @c1 resolves <alias>.alpha.smeg to each member's address; unknown names are NXDOMAIN"

# 2. exits: each chooser's daemon names its exit for ::/0, WireGuard carries ::/0 to it (or,
# for a client that leaves the choice to its peer, to that peer), and the internet answers.
exit_of() {
    detail "$1" | lab_json route ::/0 2>/dev/null
}
reaches_internet() {
    local name
    for name in "$@"; do lab_ping "$name" "$internet" >/dev/null || return 1; done
}
choosers=(p1 c1 c2 br)
lab_wait 30 "every chooser reaches $internet through an exit" reaches_internet "${choosers[@]}"
short() { detail "$1" | lab_json member isSelf=true shortId; }
e1_id=$(short e1)
e2_id=$(short e2)
declare -A chose
for name in "${choosers[@]}"; do
    read -r exit via < <(exit_of "$name")
    [[ $exit == "$e1_id" || $exit == "$e2_id" ]] || lab_fail "$name reports exit '$exit', not e1 ($e1_id) or e2 ($e2_id)"
    [[ $(wg_holder "$name" ::/0) == "$via" ]] || lab_fail "$name reports ::/0 via $via but WireGuard carries it elsewhere"
    chose[$name]=$exit
done
split="p1→${chose[p1]} c1→${chose[c1]} c2→${chose[c2]} br→${chose[br]} (e1=$e1_id e2=$e2_id)"
lab_log "2/6 every chooser reaches $internet through its exit: $split"

# 3. the bridge: alpha members reach beta and beta answers.
bridged() {
    lab_ping c1 "${addr[b1]}" >/dev/null && lab_ping p1 "${addr[b1]}" >/dev/null &&
        lab_ping b1 "${addr[c1]}" >/dev/null && lab_ping b1 "${addr[p1]}" >/dev/null
}
lab_wait 30 "c1 and p1 ping b1 across the bridge, and back" bridged
lab_log "3/6 alpha and beta reach each other through the bridge"

# 4. c1's peer dies: c1 moves to another peer within seconds.
old=$(attached c1)
victim=""
for name in p1 e1 e2 br; do [[ $(short "$name") == "$old" ]] && victim=$name; done
[[ -n $victim ]] || lab_fail "c1's peer $old is none of the peers"
lab_kill_node "$victim"
killed=$SECONDS
survivors=()
for name in "${alpha_nodes[@]}"; do [[ $name == "$victim" ]] || survivors+=("$name"); done
moved() { local now; now=$(wg_holder c1 "$alpha_prefix"); [[ -n $now && $now != "$old" ]]; }
lab_wait 30 "c1 attaches to another peer after $victim died" moved
lab_wait 30 "all pairs of the survivors ping after $victim died" lab_pings "${survivors[@]}"
lab_log "4/6 c1's peer $victim died: c1 moved to $(wg_holder c1 "$alpha_prefix") and all survivors ping again $((SECONDS - killed)) s later"

# 5. an exit dies: everybody moves to the other one.
if [[ $victim == e1 || $victim == e2 ]]; then
    dead_exit=$victim
else
    dead_exit=e1
    lab_kill_node e1
fi
[[ $dead_exit == e1 ]] && live_id=$e2_id || live_id=$e1_id
killed=$SECONDS
live_choosers=()
for name in "${choosers[@]}"; do [[ $name == "$victim" ]] || live_choosers+=("$name"); done
all_on_live_exit() {
    local name exit via
    for name in "${live_choosers[@]}"; do
        read -r exit via < <(exit_of "$name") || return 1
        [[ $exit == "$live_id" ]] || return 1
    done
}
lab_wait 30 "every chooser moves to the surviving exit" all_on_live_exit
lab_wait 30 "every chooser reaches $internet through the surviving exit" reaches_internet "${live_choosers[@]}"
lab_log "5/6 exit $dead_exit died: all choosers moved to $live_id and reach $internet again $((SECONDS - killed)) s later"

# 6. the bridge leaves beta: alpha's route to beta goes away. (If the bridge was c1's peer, it
# is already dead, and its death must have had the same effect.)
[[ $victim == br ]] || lab_ctl br leave "$beta" >/dev/null
route_gone() {
    local name
    for name in p1 c1 c2; do
        [[ $name == "$victim" ]] && continue
        ip -n "$LAB_PREFIX-$name" -6 route show "$beta_prefix" | grep -q . && return 1
    done
    return 0
}
lab_wait 30 "beta's prefix leaves alpha's routing tables" route_gone
! lab_ping c1 "${addr[b1]}" >/dev/null || lab_fail "c1 still reaches b1 after the bridge left beta"
lab_log "6/6 the bridge $([[ $victim == br ]] && echo died || echo left beta): the route to $beta_prefix is gone from alpha"
lab_log "routing-test: PASS in $((SECONDS - started)) s"
