#!/usr/bin/env bash
# What an idle mesh costs on the wire with real WireGuard, not only its gossip on loopback:
# BENCH_WG_PEERS peers (default 4) and BENCH_WG_CLIENTS clients (default 2, each behind its own
# NAT router), every node in its own network namespace with userspace WireGuard (wireguard-go;
# scripts/lib/mesh-lab.sh), all joined into one mesh. Once every pair pings (so every WireGuard
# handshake is done) and BENCH_SETTLE_SECONDS more have passed, the bytes and packets each node
# sends and receives on its uplink (eth0) are counted over BENCH_IDLE_SECONDS (default 60) by
# nftables in the node's own namespace, split by port: gossip (smegd's UDP gossip port),
# WireGuard (its listen port: keepalives, handshakes, and whatever the tunnel carries) and other
# (ARP is not IP and is not seen; ICMP, neighbour discovery). Also the CPU and RSS of each
# node's smegd and wireguard-go over the same window.
#
# A measurement, not a test (not part of make test). Usage, as root, after a release build:
#   make bench-wg     or     SMEG_BIN=DIR scripts/bench-wg-idle.sh
# Environment: BENCH_WG_PEERS (4), BENCH_WG_CLIENTS (2), BENCH_IDLE_SECONDS (60),
# BENCH_SETTLE_SECONDS (10), BENCH_OUT (.build/bench: the table and the JSON), SMEG_BIN.
# Every namespace and process is removed on exit (mesh-lab.sh's trap).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_WG_PEERS=${BENCH_WG_PEERS:-4}
BENCH_WG_CLIENTS=${BENCH_WG_CLIENTS:-2}
BENCH_IDLE_SECONDS=${BENCH_IDLE_SECONDS:-60}
BENCH_SETTLE_SECONDS=${BENCH_SETTLE_SECONDS:-10}
BENCH_OUT=${BENCH_OUT:-.build/bench}
# Both are the defaults (docs/configuration.md); given explicitly so that the counters match.
GOSSIP_PORT=51900
WG_PORT=51820
TABLE=smegbenchwg

((BENCH_WG_PEERS >= 2 && BENCH_WG_PEERS <= 90)) || {
    echo "bench-wg-idle: BENCH_WG_PEERS must be 2 to 90: $BENCH_WG_PEERS" >&2
    exit 2
}
((BENCH_WG_CLIENTS >= 0 && BENCH_WG_CLIENTS <= 90)) || {
    echo "bench-wg-idle: BENCH_WG_CLIENTS must be 0 to 90: $BENCH_WG_CLIENTS" >&2
    exit 2
}

# shellcheck source=scripts/lib/mesh-lab.sh
source scripts/lib/mesh-lab.sh
lab_begin bench-wg-idle
POLL=(python3 scripts/lib/bench.py)

# count_uplink NAME: nftables counters on NAME's eth0, in its namespace: each packet out (output
# hook) and in (input hook) is counted once, by its local port: the gossip port, the WireGuard
# port, or neither ("other"). The local port is the source on the way out and the destination
# on the way in; behind NAT that is the node's own port (the router translates it later).
# What the tunnel carries is counted too, on the mesh's WireGuard interface (smeg*), as inner
# packets: gossip sent through the tunnel, ICMPv6 redirects (a peer that relays between two
# clients sends them), or anything else; those bytes are also part of the WireGuard count on
# the uplink, encrypted. (Relayed packets cross the forward hook and are not counted inside.)
count_uplink() {
    ip netns exec "$LAB_PREFIX-$1" nft -f - <<NFT
table inet $TABLE {
    chain out {
        type filter hook output priority 0; policy accept;
        oifname "smeg*" udp sport $GOSSIP_PORT counter accept comment "tunnel-gossip sent"
        oifname "smeg*" icmpv6 type nd-redirect counter accept comment "tunnel-redirect sent"
        oifname "smeg*" counter accept comment "tunnel-other sent"
        oifname != "eth0" accept
        udp sport $GOSSIP_PORT counter accept comment "gossip sent"
        udp sport $WG_PORT counter accept comment "wireguard sent"
        counter comment "other sent"
    }
    chain in {
        type filter hook input priority 0; policy accept;
        iifname "smeg*" udp dport $GOSSIP_PORT counter accept comment "tunnel-gossip recv"
        iifname "smeg*" icmpv6 type nd-redirect counter accept comment "tunnel-redirect recv"
        iifname "smeg*" counter accept comment "tunnel-other recv"
        iifname != "eth0" accept
        udp dport $GOSSIP_PORT counter accept comment "gossip recv"
        udp dport $WG_PORT counter accept comment "wireguard recv"
        counter comment "other recv"
    }
}
NFT
}

started=$SECONDS
lab_setup_switch
peers=()
clients=()
for i in $(seq 1 "$BENCH_WG_PEERS"); do
    lab_add_node "p$i" "$i"
    peers+=("p$i")
done
for i in $(seq 1 "$BENCH_WG_CLIENTS"); do
    lab_add_nat_client "c$i" $((10 + i))
    clients+=("c$i")
done
nodes=("${peers[@]}" "${clients[@]}")
for name in "${nodes[@]}"; do lab_start "$name" --gossip-port "$GOSSIP_PORT"; done

token=$(lab_ctl p1 create --alias p1 --listen-port "$WG_PORT" --json | lab_json field token)
mesh=$(lab_mesh p1)
for name in "${peers[@]:1}"; do
    lab_ctl "$name" join --alias "$name" --listen-port "$WG_PORT" "$token" >/dev/null
done
for name in "${clients[@]}"; do
    lab_ctl "$name" join --alias "$name" --role client --listen-port "$WG_PORT" "$token" >/dev/null
done
lab_wait 60 "${#nodes[@]} members everywhere" lab_all_see "$mesh" "${#nodes[@]}" "${nodes[@]}"
declare -A addr
for name in "${nodes[@]}"; do addr[$name]=$(lab_address "$name" "$mesh"); done
lab_wait 60 "all-pairs ping -6" lab_pings "${nodes[@]}"
iface=$(lab_interface p1 "$mesh")
for name in "${nodes[@]}"; do
    port=$(lab_exec "$name" wg show "$iface" listen-port)
    [[ $port == "$WG_PORT" ]] || lab_fail "$name's WireGuard listens on $port, not $WG_PORT: the counters would miss it"
done
lab_log "${#peers[@]} peers and ${#clients[@]} clients behind NAT in one mesh, every pair pings ($((SECONDS - started)) s)"

for name in "${nodes[@]}"; do count_uplink "$name"; done
lab_log "settling for ${BENCH_SETTLE_SECONDS}s, then idle for ${BENCH_IDLE_SECONDS}s"
sleep "$BENCH_SETTLE_SECONDS"
specs=()
for name in "${peers[@]}"; do specs+=("$name=peer=$LAB_PREFIX-$name=${LAB_PID[$name]}"); done
for name in "${clients[@]}"; do specs+=("$name=client=$LAB_PREFIX-$name=${LAB_PID[$name]}"); done
mkdir -p "$BENCH_OUT"
stamp=$(date +%Y%m%d-%H%M%S)
"${POLL[@]}" wg-idle --seconds "$BENCH_IDLE_SECONDS" --table "$TABLE" --gossip-port "$GOSSIP_PORT" \
    --wireguard-port "$WG_PORT" --json "$BENCH_OUT/bench-wg-$stamp.json" \
    --text "$BENCH_OUT/bench-wg-$stamp.txt" "${specs[@]}"
# Still a mesh at the end: a node that fell out during the window would make the numbers moot.
lab_all_see "$mesh" "${#nodes[@]}" "${nodes[@]}" || lab_fail "a node lost members during the idle window"
lab_log "bench-wg-idle: done in $((SECONDS - started)) s; numbers in $BENCH_OUT/bench-wg-$stamp.json"
