#!/usr/bin/env bash
# Roles and routes with real smegd daemons and real (userspace) WireGuard in network namespaces,
# real NAT (nftables masquerade) in front of the clients:
#
#   mesh alpha (exit nodes and bridges allowed)      mesh beta (bridges allowed)
#     p1          peer, created alpha                  b1   peer, created beta
#     e1, e2      peers, exits: advertise ::/0         br   in alpha and beta, bridges both ways
#                 and 0.0.0.0/0 (e1 with --advertise-
#                 default-route, e2 with both prefixes),
#                 each with a link to
#                 "inet", a server the mesh has no
#                 other way to (and no route back)
#     c1, c2      clients, each behind its own NAT
#     br          (the bridge)
#
#   1. every member of alpha pings every other, over IPv6 and IPv4 (each has its IPv4 address on
#      its interface); each client has exactly one peer, the one the others say it is attached
#      to; c1's DNS responder answers AAAA and A for every alias of alpha
#   2. the exits: every chooser reaches an IPv6 address only the exits hold, and the IPv4
#      server beyond them (masqueraded: it has no route to the mesh), through the exit its
#      daemon reports per family, and those choices are what WireGuard carries; the exits hold
#      their nftables table, the others none; the split is printed
#   3. a TCP response larger than the mesh MTU comes back through the exit: a 2 MiB download
#      from the server, then again as a sender whose MSS does not know the tunnel, through an
#      ICMP black hole, which only the exit's MSS clamping gets through
#   4. the bridge: c1 and p1 (alpha) ping b1 (beta) and back
#   5. c1's peer dies (every process in its namespace): c1 moves to another peer and pings again
#   6. an exit dies: everybody moves to the other exit, for both families
#   7. the bridge leaves beta: alpha's route to beta goes away everywhere
#   8. the surviving exit restarts (its table is replaced, once), then leaves alpha (its table
#      goes)
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/mesh-lab.sh
lab_begin routing-test

# An address on the "internet" behind both exits (anycast): reachable only through an exit.
internet=2001:db8:ffff::1
# The IPv4 server, in a namespace of its own linked to both exits: it knows only the exits' ends
# of those links, so it answers a member only when the exit masquerades.
server=203.0.113.80
started=$SECONDS
lab_setup_switch
lab_add_node p1 1
lab_add_node e1 2
lab_add_node e2 3
lab_add_node br 4
lab_add_node b1 5
lab_add_nat_client c1 11
lab_add_nat_client c2 12
lab_add_host inet
ip -n "$LAB_PREFIX-inet" addr add "$server/32" dev lo
link=0
for exit in e1 e2; do
    ns="$LAB_PREFIX-$exit"
    ip -n "$ns" addr add "$internet/128" dev lo
    lab_veth "$ns" up0 "$LAB_PREFIX-inet" "x$exit"
    ip -n "$ns" addr add "198.51.100.$((link + 1))/30" dev up0
    ip -n "$LAB_PREFIX-inet" addr add "198.51.100.$((link + 2))/30" dev "x$exit"
    ip -n "$ns" link set up0 up
    ip -n "$LAB_PREFIX-inet" link set "x$exit" up
    ip -n "$ns" route add default via "198.51.100.$((link + 2))"
    link=$((link + 4))
done
big_size=$((2 * 1024 * 1024))
mkdir -p "$LAB_DIR/www"
head -c "$big_size" /dev/urandom >"$LAB_DIR/www/big"
lab_spawn "$LAB_DIR/www.log" ip netns exec "$LAB_PREFIX-inet" \
    python3 -m http.server 8080 --bind "$server" --directory "$LAB_DIR/www"
for name in p1 e1 e2 br b1 c2; do lab_start "$name"; done
# c1 also answers DNS queries for the members' names, on its loopback.
lab_start c1 --set dnsListen=127.0.0.1:53

alpha_token=$(lab_ctl p1 create --name alpha --alias p1 --allow-exit-nodes --allow-bridged-meshes --json |
    lab_json field token)
beta_token=$(lab_ctl b1 create --name beta --alias b1 --allow-bridged-meshes --json | lab_json field token)
alpha=$(lab_mesh p1)
beta=$(lab_mesh b1)
lab_ctl e1 join --alias e1 --advertise-default-route "$alpha_token" >/dev/null
lab_ctl e2 join --alias e2 --advertise-route ::/0 --advertise-route 0.0.0.0/0 "$alpha_token" >/dev/null
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

# Every member's IPv4 address, as its daemon reports it and as its interface carries it.
declare -A addr4
ipv4_on_interfaces() {
    local name
    for name in "${alpha_nodes[@]}"; do
        addr4[$name]=$(lab_ipv4 "$name" "$alpha") || return 1
        ip -n "$LAB_PREFIX-$name" -4 -o addr show dev "$alpha_if" | grep -q " ${addr4[$name]}/" || return 1
    done
}

# detail NAME: `smegctl get alpha --json` as NAME's daemon sees it.
detail() { lab_ctl "$1" get "$alpha" --json; }

# wg_holder NAME PREFIX: the short id (first 8 hex digits of the key) of the WireGuard peer whose
# AllowedIPs on NAME's alpha interface contain exactly PREFIX, or nothing.
wg_holder() {
    lab_exec "$1" wg show "$alpha_if" allowed-ips | lab_json wg-holder "$2"
}

# 1. clients behind NAT: one peer each, the one everybody agrees on; both families.
lab_wait 60 "all-pairs ping -6 in alpha" lab_pings "${alpha_nodes[@]}"
lab_log "1/8 all pairs of alpha ping, clients included ($((SECONDS - started)) s since start)"
lab_wait 30 "every member of alpha has its IPv4 address on $alpha_if" ipv4_on_interfaces
lab_wait 30 "all-pairs ping -4 in alpha" lab_pings4 "${alpha_nodes[@]}"
lab_log "    and over IPv4: $(for name in "${alpha_nodes[@]}"; do printf '%s=%s ' "$name" "${addr4[$name]}"; done)"
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
ask() { ip netns exec "$LAB_PREFIX-c1" dig +short +time=1 +tries=1 @127.0.0.1 "$1.alpha.smeg" "$2"; }
resolves() {
    local name
    for name in p1 e1 e2 c2 br; do [[ $(ask "$name" AAAA) == "${addr[$name]}" ]] || return 1; done
}
resolves4() {
    local name
    for name in p1 e1 e2 c2 br; do [[ $(ask "$name" A) == "${addr4[$name]}" ]] || return 1; done
}
lab_wait 10 "c1's DNS responder answers AAAA for every alias of alpha" resolves
lab_wait 10 "c1's DNS responder answers A for every alias of alpha with its IPv4 address" resolves4
rcode=$(ip netns exec "$LAB_PREFIX-c1" dig +time=1 +tries=1 @127.0.0.1 nobody.alpha.smeg AAAA | grep -o 'status: [A-Z]*')
[[ $rcode == "status: NXDOMAIN" ]] || lab_fail "an unknown alias gave '$rcode', not NXDOMAIN"
lab_log "    dig @c1 resolves <alias>.alpha.smeg to each member's addresses (AAAA and A); unknown names are NXDOMAIN"

# 2. exits: each chooser's daemon names its exit per family, WireGuard carries the default
# route to it (or, for a client that leaves the choice to its peer, to that peer), and the
# internet answers: the IPv6 address on the exits, the IPv4 server beyond them, which answers
# only masqueraded packets.
exit_of() {
    detail "$1" | lab_json route "${2:-::/0}" 2>/dev/null
}
reaches_internet() {
    local name
    for name in "$@"; do lab_ping "$name" "$internet" >/dev/null || return 1; done
}
reaches_internet4() {
    local name
    for name in "$@"; do lab_ping4 "$name" "$server" >/dev/null || return 1; done
}
choosers=(p1 c1 c2 br)
lab_wait 30 "every chooser reaches $internet through an exit" reaches_internet "${choosers[@]}"
lab_wait 30 "every chooser reaches $server beyond an exit" reaches_internet4 "${choosers[@]}"
short() { detail "$1" | lab_json member isSelf=true shortId; }
e1_id=$(short e1)
e2_id=$(short e2)
declare -A chose chose4
for name in "${choosers[@]}"; do
    for route in ::/0 0.0.0.0/0; do
        read -r exit via < <(exit_of "$name" "$route")
        [[ $exit == "$e1_id" || $exit == "$e2_id" ]] ||
            lab_fail "$name reports exit '$exit' for $route, not e1 ($e1_id) or e2 ($e2_id)"
        [[ $(wg_holder "$name" "$route") == "$via" ]] ||
            lab_fail "$name reports $route via $via but WireGuard carries it elsewhere"
        [[ $route == ::/0 ]] && chose[$name]=$exit || chose4[$name]=$exit
    done
    [[ $(ip netns exec "$LAB_PREFIX-$name" sysctl -n net.ipv4.conf.all.src_valid_mark) == 1 ]] ||
        lab_fail "$name routes 0.0.0.0/0 into the mesh without src_valid_mark=1"
done
split="p1→${chose[p1]} c1→${chose[c1]} c2→${chose[c2]} br→${chose[br]}"
split4="p1→${chose4[p1]} c1→${chose4[c1]} c2→${chose4[c2]} br→${chose4[br]}"
lab_log "2/8 every chooser reaches $internet and $server through its exits (e1=$e1_id e2=$e2_id)"
lab_log "    ::/0 $split; 0.0.0.0/0 $split4"
alpha_mtu=$(ip -n "$LAB_PREFIX-p1" -o link show dev "$alpha_if" | grep -o 'mtu [0-9]*' | cut -d' ' -f2)
alpha_ipv4=$(lab_ctl p1 list --json | lab_json mesh "$alpha" ipv4Prefix)
table() { ip netns exec "$LAB_PREFIX-$1" nft list table inet "$alpha_if" 2>/dev/null; }
for name in e1 e2; do
    rules=$(table "$name") || lab_fail "exit $name has no nftables table inet $alpha_if"
    for rule in "ip saddr $alpha_ipv4 oifname != \"smeg*\" counter" \
        "iifname \"$alpha_if\" meta nfproto ipv4 tcp flags syn / syn,rst tcp option maxseg size > $((alpha_mtu - 40))" \
        "oifname \"$alpha_if\" meta nfproto ipv6 tcp flags syn / syn,rst tcp option maxseg size > $((alpha_mtu - 60))"; do
        grep -qF "$rule" <<<"$rules" || lab_fail "exit $name's table has no rule with '$rule': $rules"
    done
done
for name in p1 c1 c2 br; do
    rules=$(table "$name") || lab_fail "$name uses the exits but has no nftables table inet $alpha_if"
    ! grep -qE "masquerade|maxseg" <<<"$rules" || lab_fail "$name, no exit, masquerades or clamps: $rules"
    grep -qF 'iifname != "smeg*" ct state new counter packets' <<<"$rules" ||
        lab_fail "$name uses the exits but does not mark inbound connections: $rules"
done
lab_log "    the exits masquerade $alpha_ipv4 and clamp the MSS to $((alpha_mtu - 40))/$((alpha_mtu - 60)) (MTU $alpha_mtu); their users only mark inbound connections"

# A peer that uses the exits still answers a host outside the mesh that it reaches through its
# own default route (SSH to a VPS peer's public address): the reply must not go to the exit.
lab_add_host out
lab_uplink "$LAB_PREFIX-out" eth0 sout
ip -n "$LAB_PREFIX-out" addr add 10.77.0.250/24 dev eth0
ip -n "$LAB_PREFIX-out" link set eth0 up
ip -n "$LAB_PREFIX-out" addr add 192.0.2.77/32 dev lo
ip -n "$LAB_PREFIX-p1" route add default via 10.77.0.250
from_outside() { ip netns exec "$LAB_PREFIX-out" ping -c 1 -W 1 -I 192.0.2.77 10.77.0.1 >/dev/null; }
lab_wait 10 "p1 answers 192.0.2.77, outside the mesh, through its own default route" from_outside
# Without the mark the reply goes into the tunnel and is lost: the check above means something.
ip netns exec "$LAB_PREFIX-p1" nft flush chain inet "$alpha_if" replies
! from_outside || lab_fail "p1 answered 192.0.2.77 without the reply mark; the check proves nothing"
ip netns exec "$LAB_PREFIX-p1" nft add rule inet "$alpha_if" replies ct mark 0x536d67 counter meta mark set 0x536d67
lab_wait 10 "p1 answers 192.0.2.77 again with the reply mark back" from_outside
ip -n "$LAB_PREFIX-p1" route del default via 10.77.0.250
lab_log "    p1, whose IPv4 default goes through an exit, answers a host outside the mesh directly (and not without the mark)"

# 3. a response larger than the mesh MTU, through the exit: a 2 MiB download from the server.
fetches() {
    local name got
    for name in "$@"; do
        got=$(ip netns exec "$LAB_PREFIX-$name" curl -4 -s -o /dev/null -w '%{size_download}' --max-time 5 \
            "http://$server:8080/big") || return 1
        [[ $got == "$big_size" ]] || return 1
    done
}
lab_wait 10 "c1 and p1 download $big_size bytes from $server" fetches c1 p1
# Then as a sender whose MSS does not know the tunnel (a container or a LAN host behind the
# member, on an MTU of 1500): c1's SYNs to the server say 1460, and the exits drop the ICMP
# "fragmentation needed" they would send the server for its full-size segments (an ICMP black
# hole). Only the exit's clamp of that SYN keeps the server's segments within the tunnel.
for name in e1 e2; do
    lab_filter "$LAB_PREFIX-$name" output
    ip netns exec "$LAB_PREFIX-$name" nft add rule inet smeglab output icmp type destination-unreachable \
        icmp code frag-needed drop
done
[[ ${chose4[c1]} == "$e1_id" ]] && c1_exit=e1 || c1_exit=e2
clamped_syns() {
    table "$c1_exit" | awk '/iifname .* ipv4 .*maxseg/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}
before=$(clamped_syns)
ip -n "$LAB_PREFIX-c1" route add "$server/32" dev "$alpha_if" advmss 1460
fetched=$SECONDS
lab_wait 20 "c1 downloads $big_size bytes with an MSS of 1460 through an ICMP black hole" fetches c1
ip -n "$LAB_PREFIX-c1" route del "$server/32" dev "$alpha_if"
for name in e1 e2; do lab_heal "$name"; done
(($(clamped_syns) > before)) || lab_fail "c1's download got through, but $c1_exit's clamp counted no SYN"
lab_log "3/8 a TCP response larger than the MTU comes back through the exit, also with MSS 1460 through an ICMP black hole ($c1_exit clamped $(($(clamped_syns) - before)) SYN(s), $((SECONDS - fetched)) s)"

# 4. the bridge: alpha members reach beta and beta answers.
bridged() {
    lab_ping c1 "${addr[b1]}" >/dev/null && lab_ping p1 "${addr[b1]}" >/dev/null &&
        lab_ping b1 "${addr[c1]}" >/dev/null && lab_ping b1 "${addr[p1]}" >/dev/null
}
lab_wait 30 "c1 and p1 ping b1 across the bridge, and back" bridged
lab_log "4/8 alpha and beta reach each other through the bridge"

# 5. c1's peer dies: c1 moves to another peer within seconds.
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
lab_log "5/8 c1's peer $victim died: c1 moved to $(wg_holder c1 "$alpha_prefix") and all survivors ping again $((SECONDS - killed)) s later"

# 6. an exit dies: everybody moves to the other one, for both families.
if [[ $victim == e1 || $victim == e2 ]]; then
    dead_exit=$victim
else
    dead_exit=e1
    lab_kill_node e1
fi
[[ $dead_exit == e1 ]] && live_id=$e2_id live_exit=e2 || live_id=$e1_id live_exit=e1
killed=$SECONDS
live_choosers=()
for name in "${choosers[@]}"; do [[ $name == "$victim" ]] || live_choosers+=("$name"); done
all_on_live_exit() {
    local name exit via
    for name in "${live_choosers[@]}"; do
        for route in ::/0 0.0.0.0/0; do
            read -r exit via < <(exit_of "$name" "$route") || return 1
            [[ $exit == "$live_id" ]] || return 1
        done
    done
}
lab_wait 30 "every chooser moves to the surviving exit" all_on_live_exit
lab_wait 30 "every chooser reaches $internet through the surviving exit" reaches_internet "${live_choosers[@]}"
lab_wait 30 "every chooser reaches $server through the surviving exit" reaches_internet4 "${live_choosers[@]}"
lab_log "6/8 exit $dead_exit died: all choosers moved to $live_id and reach $internet and $server again $((SECONDS - killed)) s later"

# 7. the bridge leaves beta: alpha's route to beta goes away. (If the bridge was c1's peer, it
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
lab_log "7/8 the bridge $([[ $victim == br ]] && echo died || echo left beta): the route to $beta_prefix is gone from alpha"

# 8. the surviving exit restarts: its first reconcile replaces the table an earlier daemon left
# (the counters start again, no rule is doubled) and the choosers still get out; then it
# leaves alpha, and its table goes.
# masqueraded: the packet counts of the exit's masquerade rules, one line each.
masqueraded() {
    table "$live_exit" | awk '/masquerade/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}
(($(masqueraded) > 0)) || lab_fail "$live_exit masqueraded nothing"
lab_term "$live_exit"
lab_start "$live_exit"
replaced() { [[ $(masqueraded) == 0 ]]; }
lab_wait 20 "$live_exit's restarted daemon replaces its table" replaced
lab_wait 30 "every chooser reaches $server after $live_exit restarted" reaches_internet4 "${live_choosers[@]}"
lab_ctl "$live_exit" leave "$alpha" >/dev/null
table_gone() { ! table "$live_exit" >/dev/null; }
lab_wait 15 "$live_exit's table goes when it leaves alpha" table_gone
lab_log "8/8 exit $live_exit restarted (one table, replaced) and left alpha (table removed)"
lab_log "routing-test: PASS in $((SECONDS - started)) s"
