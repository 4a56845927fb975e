#!/usr/bin/env bash
# Laptops come back at once (docs/operations.md, "Sleep, wake, network changes and restarts"):
# real smegd daemons in network namespaces, real (userspace) WireGuard, real NAT routers
# (nftables masquerade). Three peers p1, p2, p3 and a laptop (a client) behind its own NAT,
# with a second NAT router it can move to.
#
#   1. the whole laptop frozen for 20 s: every process in its namespace (smegd and
#      wireguard-go) stopped, then continued
#   2. the same for 90 s
#   3. only its smegd stopped for 20 s while WireGuard runs (a hung daemon)
#   4. its smegd killed with kill -9 and started again
#   5. the laptop moves to the other NAT with a new LAN address (and a new public one)
#
# After each, the laptop and every peer ping each other both ways every 0.2 s, and the stage
# prints the time from the laptop's return until every direction answered, and until every
# node's membership was whole again. The bar is 2 s for the pings in every case; a case above it
# fails the stage (ROAMING_BAR=SECONDS changes the bar, for measuring).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/mesh-lab.sh
lab_begin roaming-test

bar=${ROAMING_BAR:-2}
started=$SECONDS
lab_setup_switch
for index in 1 2 3; do lab_add_node "p$index" "$index"; done
lab_add_nat_client laptop 11

# The second NAT router, with a link into the laptop's namespace (eth1, down until the move).
second_nat() { lab_nat_router "$LAB_PREFIX-laptop-nat2" 12 "$LAB_PREFIX-laptop" eth1; }
second_nat

for name in p1 p2 p3 laptop; do lab_start "$name"; done
token=$(lab_ctl p1 create --alias p1 --name roam --json | lab_json field token)
mesh=$(lab_mesh p1)
for name in p2 p3; do lab_ctl "$name" join --alias "$name" "$token" >/dev/null; done
lab_ctl laptop join --alias laptop --role client "$token" >/dev/null

nodes=(p1 p2 p3 laptop)
peers=(p1 p2 p3)
declare -A addr
for name in "${nodes[@]}"; do addr[$name]=$(lab_address "$name" "$mesh"); done
lab_wait 30 "four members everywhere" lab_all_see "$mesh" 4 "${nodes[@]}"
lab_wait 40 "all-pairs ping -6" lab_pings "${nodes[@]}"
lab_log "three peers and a laptop behind NAT: all pairs ping ($((SECONDS - started)) s since start)"

now() { date +%s.%N; }
work="$LAB_DIR/roaming"
mkdir -p "$work"

# measure CASE T0: from T0, the laptop pings every peer and every peer pings the laptop, each
# every 0.2 s until its first answer (60 s at most); meanwhile every node's membership is read
# every 0.2 s until all four see four members. Prints the times and records the pings' in
# $work/CASE.result ("never" when some direction never answered).
measure() {
    local case=$1 t0=$2 dir="$work/$1" pids=() name
    mkdir -p "$dir"
    for name in "${peers[@]}"; do
        (ip netns exec "$LAB_PREFIX-laptop" ping -6 -n -q -c 1 -i 0.2 -w 60 "${addr[$name]}" >/dev/null 2>&1 &&
            now >"$dir/laptop-$name") &
        pids+=($!)
        (ip netns exec "$LAB_PREFIX-$name" ping -6 -n -q -c 1 -i 0.2 -w 60 "${addr[laptop]}" >/dev/null 2>&1 &&
            now >"$dir/$name-laptop") &
        pids+=($!)
    done
    (
        for _ in $(seq 300); do
            if lab_all_see "$mesh" 4 "${nodes[@]}" 2>/dev/null; then
                now >"$dir/members"
                break
            fi
            sleep 0.2
        done
    ) &
    pids+=($!)
    wait "${pids[@]}" || true
    python3 - "$dir" "$t0" "$case" "$bar" >"$work/$case.result" <<'PY'
import os, sys
directory, t0, case, bar = sys.argv[1], float(sys.argv[2]), sys.argv[3], float(sys.argv[4])
directions = [f"laptop-p{i}" for i in (1, 2, 3)] + [f"p{i}-laptop" for i in (1, 2, 3)]
times = {}
for name in directions + ["members"]:
    path = os.path.join(directory, name)
    times[name] = float(open(path).read()) - t0 if os.path.exists(path) else None
pings = [times[d] for d in directions]
worst = None if None in pings else max(pings)
each = ", ".join(f"{d} {'never' if times[d] is None else f'{times[d]:.2f}'}" for d in directions)
members = "never" if times["members"] is None else f"{times['members']:.2f} s"
verdict = "ok" if worst is not None and worst <= bar else "ABOVE THE BAR"
print(f"{'never' if worst is None else f'{worst:.2f}'} {verdict} | {case}: pings both ways "
      f"{'never' if worst is None else f'{worst:.2f} s'} (bar {bar:g} s; {each}), membership whole {members}")
PY
    lab_log "$(cut -d'|' -f2- "$work/$case.result")"
}

# steady: before each case, every pair pings and membership is whole, then a few quiet seconds.
steady() {
    lab_wait 60 "four members everywhere" lab_all_see "$mesh" 4 "${nodes[@]}"
    lab_wait 60 "all-pairs ping -6" lab_pings "${nodes[@]}"
    sleep 3
}

# freeze SECONDS: SIGSTOP every process in the laptop's namespace, then SIGCONT after SECONDS.
freeze() {
    local pids
    pids=$(ip netns pids "$LAB_PREFIX-laptop")
    # shellcheck disable=SC2086 # a list of pids
    kill -STOP $pids
    sleep "$1"
    # shellcheck disable=SC2086
    kill -CONT $pids
}

steady
freeze 20
measure frozen-20s "$(now)"

steady
freeze 90
measure frozen-90s "$(now)"

steady
kill -STOP "${LAB_PID[laptop]}"
sleep 20
kill -CONT "${LAB_PID[laptop]}"
measure smegd-stopped-20s "$(now)"

steady
lab_kill9 laptop
t0=$(now)
lab_start laptop
measure smegd-kill9-restart "$t0"

steady
t0=$(now)
ns="$LAB_PREFIX-laptop"
ip -n "$ns" addr flush dev eth0
ip -n "$ns" link set eth0 down
ip -n "$ns" link set eth1 up
ip -n "$ns" addr add 192.168.12.2/24 dev eth1
ip -n "$ns" route add default via 192.168.12.1
measure moved-to-another-nat "$t0"

echo
echo "roaming-test: time from the laptop's return until pings work both ways with every peer (bar ${bar} s)"
failed=0
for case in frozen-20s frozen-90s smegd-stopped-20s smegd-kill9-restart moved-to-another-nat; do
    line=$(cat "$work/$case.result")
    echo "  ${line#*| }"
    [[ $line == *" ok |"* ]] || failed=1
done
echo "roaming-test: what the laptop's smegd said (its log):"
grep -E "back after|network changed|pruned by the leader|caught up" "$LAB_DIR/laptop/smegd.log" |
    sed -E 's/^[^ ]+ [a-z]+ smegd: (mesh=[a-z0-9]+ )?\[smegd\] /  /' || true
echo "roaming-test: $((SECONDS - started)) s"
((failed == 0)) || lab_fail "some case took longer than ${bar} s (above)"
lab_log "roaming-test: PASS"
