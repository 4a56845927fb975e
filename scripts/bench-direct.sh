#!/usr/bin/env bash
# Direct against relayed, in one run on one topology: two peers p1, p2 and two clients a1, a2,
# each behind its own port-preserving NAT router, real smegd and real (userspace) WireGuard in
# network namespaces. Once a1 and a2 are direct: round trips a1 -> a2 over the overlay (ping -6,
# BENCH_PINGS pings every 0.05 s) and TCP throughput a1 -> a2 (iperf3, BENCH_SECONDS s). Then
# a1's router drops the UDP between the two NATs' public addresses, the pair falls back to the
# relays, and the same again. Prints a table (BENCHMARKS.md, "Direct paths").
#
# This kernel has no netem: no delay is added to any link, so the round trips are what the
# namespaces, the NAT routers, wireguard-go and the relays' forwarding cost on this machine, and
# a relay's cost shows in full; over real links the distance to the relays adds to it.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/mesh-lab.sh
lab_begin bench-direct

pings=${BENCH_PINGS:-50}
seconds=${BENCH_SECONDS:-10}
command -v iperf3 >/dev/null || lab_fail "no iperf3: run scripts/deps.sh"

lab_setup_switch
lab_add_node p1 1
lab_add_node p2 2
lab_add_nat_client a1 11
lab_add_nat_client a2 12
for name in p1 p2 a1 a2; do lab_start "$name"; done
token=$(lab_ctl p1 create --alias p1 --name bench --json | lab_json field token)
mesh=$(lab_mesh p1)
lab_ctl p2 join --alias p2 "$token" >/dev/null
for name in a1 a2; do lab_ctl "$name" join --alias "$name" --role client "$token" >/dev/null; done
target=$(lab_address a2 "$mesh")
lab_wait 30 "four members everywhere" lab_all_see "$mesh" 4 p1 p2 a1 a2
lab_require_paths a1 "$mesh" a2

# measure KIND [KINDS]: the path must be of KINDS (default KIND; "relayed|punching" is relayed
# whether or not the pair is trying to punch meanwhile) on both ends before and after; prints a
# table row for KIND.
measure() {
    local kind=$1 kinds=${2:-$1} via rtt throughput
    lab_paths_are "$kinds" "$mesh" a1 a2 || lab_fail "a1 and a2 are not $kind: $(lab_path a1 "$mesh" a2)"
    read -r _ _ via _ < <(lab_path a1 "$mesh" a2)
    lab_wait 10 "a1 pings a2" lab_ping a1 "$target"
    rtt=$(ip netns exec "$LAB_PREFIX-a1" ping -6 -n -q -c "$pings" -i 0.05 "$target" |
        awk -F'[/ ]+' '/^rtt/ { print $7 " / " $8 " / " $9 }')
    [[ -n $rtt ]] || lab_fail "ping -c $pings from a1 to a2 ($kind) gave no round trips"
    lab_spawn "$LAB_DIR/iperf3-server.log" ip netns exec "$LAB_PREFIX-a2" iperf3 -s -1 -B "$target"
    lab_wait 5 "iperf3 listens on a2" iperf3_listens
    throughput=$(ip netns exec "$LAB_PREFIX-a1" iperf3 -c "$target" -t "$seconds" -f m |
        awk '/receiver/ { print $(NF - 2) }')
    lab_stop "$LAB_LAST_PID"
    [[ -n $throughput ]] || lab_fail "iperf3 from a1 to a2 ($kind) measured nothing"
    lab_paths_are "$kinds" "$mesh" a1 a2 ||
        lab_fail "a1's path to a2 changed during the $kind measurement: $(lab_path a1 "$mesh" a2)"
    rows+=("$(printf '%-9s %-9s %-26s %s' "$kind" "$via" "$rtt" "$throughput")")
    lab_log "$kind (via $via): rtt $rtt ms, TCP $throughput Mbit/s"
}
iperf3_listens() { ip netns exec "$LAB_PREFIX-a2" ss -Hltn "sport = :5201" | grep -q .; }

rows=()
lab_wait 30 "a1 and a2 direct" lab_paths_are direct "$mesh" a1 a2
measure direct
lab_block_udp a1-nat "$(lab_public4 a2)"
lab_wait 30 "a1 and a2 relayed once the UDP between their NATs is dropped" lab_paths_are "relayed|punching" "$mesh" a1 a2
measure relayed "relayed|punching"

echo
echo "bench-direct: a1 -> a2, two clients behind port-preserving NATs (nftables masquerade), userspace WireGuard (wireguard-go)"
echo "  no netem on this kernel: no delay is added to any link; the round trips are this machine's processing alone"
printf '  %-9s %-9s %-26s %s\n' path via "rtt min / avg / max (ms)" "TCP ${seconds} s (Mbit/s)"
for row in "${rows[@]}"; do echo "  $row"; done
echo "  ($pings pings every 0.05 s; iperf3 -t $seconds, one stream, a2 receiving; $(nproc) cores)"
