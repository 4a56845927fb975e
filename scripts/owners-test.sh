#!/usr/bin/env bash
# Owners suite: real smegd nodes in network namespaces with real (userspace) WireGuard, a
# laptop behind a NAT router (nftables masquerade).
#   1. five peers and a laptop: all pairs ping
#   2. the laptop is evicted while its daemon is frozen (a stolen laptop that never hears it):
#      within 5 s no member has its WireGuard peer and it can ping nobody; when it wakes its
#      gossip is refused and counted, it is told, and it tears the mesh down
#   3. an honest member is evicted while running: its interface and state go, `status` says who
#   4. the founder makes a second owner, then the founder's machine is destroyed: the second
#      owner evicts a member and invites a new node, which joins and pings everyone
#   5. the secret is rotated while a member's daemon is frozen for longer than the overlap: it
#      catches up by itself when it continues, and every pair pings
# Every eviction rotates the secret; the evicted laptop cannot join again with its old token.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/mesh-lab.sh
lab_begin owners-test

lab_setup_switch
for index in 1 2 3 4 5; do
    lab_add_node "n$index" "$index"
    lab_start "n$index" --set metricsListen=127.0.0.1:9469
done
lab_add_nat_client laptop 6
lab_start laptop --set metricsListen=127.0.0.1:9469
token=$(lab_ctl n1 create --alias n1 --json | lab_json field token)
mesh=$(lab_mesh n1)
for name in n2 n3 n4 n5; do lab_ctl "$name" join --alias "$name" "$token" >/dev/null; done
lab_ctl laptop join --alias laptop --role client "$token" >/dev/null

nodes=(n1 n2 n3 n4 n5 laptop)
declare -A addr key
for name in "${nodes[@]}"; do
    addr[$name]=$(lab_address "$name" "$mesh")
    key[$name]=$(lab_ctl "$name" get "$mesh" --json | python3 -c '
import json, sys
print(next(m["id"] for m in json.load(sys.stdin)["members"] if m["isSelf"]))')
done
iface=$(lab_interface n1 "$mesh")
lab_wait 30 "six members everywhere" lab_all_see "$mesh" 6 "${nodes[@]}"
lab_wait 40 "all-pairs ping -6 between five peers and the laptop" lab_pings "${nodes[@]}"
lab_log "1/5 five peers and a laptop behind NAT: all pairs ping"

# no_peer KEY NAME...: none of the nodes has KEY as a WireGuard peer any more.
no_peer() {
    local victim=$1 name
    shift
    for name in "$@"; do
        if lab_exec "$name" wg show "$iface" peers | grep -qF "$victim"; then return 1; fi
    done
}
# pings_nobody NAME OTHER...: NAME can ping none of the others.
pings_nobody() {
    local from=$1 name
    shift
    for name in "$@"; do
        if lab_ping "$from" "${addr[$name]}" 0.5 >/dev/null 2>&1; then return 1; fi
    done
}
now() { date +%s.%N; }
seconds_since() { awk -v from="$1" -v to="$(now)" 'BEGIN { printf "%.2f", to - from }'; }

# 2. The laptop's daemon is frozen (SIGSTOP): it cannot learn of its eviction.
kill -STOP "${LAB_PID[laptop]}"
started=$(now)
lab_ctl n1 evict "$mesh" laptop >/dev/null
rest=(n1 n2 n3 n4 n5)
lab_wait 5 "no member keeps the laptop's WireGuard peer" no_peer "${key[laptop]}" "${rest[@]}"
removed=$(seconds_since "$started")
lab_wait 5 "the laptop pings nobody" pings_nobody laptop "${rest[@]}"
cut=$(seconds_since "$started")
lab_wait 30 "the remaining pairs ping" lab_pings "${rest[@]}"
lab_log "2/5 laptop evicted: its peer gone everywhere after ${removed} s, it pings nobody after ${cut} s (bar 5 s)"

before=0
for name in "${rest[@]}"; do
    before=$((before + $(lab_metric "$name" 'smeg_frames_rejected_total{reason="evicted"}')))
done
kill -CONT "${LAB_PID[laptop]}"
# counted_evicted: some member has refused and counted a frame of the evicted laptop.
counted_evicted() {
    local total=0 name
    for name in "${rest[@]}"; do
        total=$((total + $(lab_metric "$name" 'smeg_frames_rejected_total{reason="evicted"}')))
    done
    ((total > before))
}
lab_wait 15 "members refuse and count the woken laptop's gossip" counted_evicted
lab_wait 20 "the laptop learns it was evicted" bash -c \
    "'$SMEGCTL' --socket '$(lab_socket laptop)' status --json | grep -q '\"evicted\"'"
lab_wait 10 "the laptop's interface is gone" bash -c "! ip -n '$LAB_PREFIX-laptop' link show dev '$iface' >/dev/null 2>&1"
lab_ctl laptop status | grep -q "EVICTED by" || lab_fail "the laptop's status does not say who evicted it"
lab_wait 30 "the remaining pairs still ping" lab_pings "${rest[@]}"
lab_log "2/5 the woken laptop's gossip was refused and counted, it was told and tore the mesh down"
# generation NAME: the mesh secret's generation NAME uses.
generation() {
    lab_ctl "$1" status --json | python3 -c "
import json, sys
print(next(m.get('secretGeneration', 0) for m in json.load(sys.stdin)['meshes'] if m['meshId'] == '$mesh'))"
}
# all_at GENERATION NAME...: every node uses the secret of GENERATION.
all_at() {
    local want=$1 name
    shift
    for name in "$@"; do [[ $(generation "$name") == "$want" ]] || return 1; done
}
lab_wait 5 "every remaining member switched to the rotated secret" all_at 1 "${rest[@]}"
if rejoin=$(lab_ctl laptop join --alias laptop --role client "$token" 2>&1); then
    lab_fail "the evicted laptop joined again with its old token"
fi
[[ $rejoin == *revoked* ]] || lab_fail "the old token's refusal does not say it was revoked: $rejoin"
lab_log "2/5 every remaining member uses secret generation 1; the laptop's old token: ${rejoin#smegctl: }"

# 3. n5 is evicted while it runs.
lab_ctl n1 evict "$mesh" n5 >/dev/null
rest=(n1 n2 n3 n4)
lab_wait 5 "no member keeps n5's WireGuard peer" no_peer "${key[n5]}" "${rest[@]}"
lab_wait 10 "n5 tears the mesh down" bash -c "! ip -n '$LAB_PREFIX-n5' link show dev '$iface' >/dev/null 2>&1"
[[ ! -d "$LAB_DIR/n5/state/meshes/$mesh" ]] || lab_fail "n5 kept the evicted mesh's state"
lab_ctl n5 status | grep -q "EVICTED by n1" || lab_fail "n5's status does not name n1 as the evicting owner"
lab_ctl n1 get "$mesh" | grep -E "^n5 .* evicted" >/dev/null || lab_fail "get does not list n5 as evicted"
lab_log "3/5 n5 evicted while running: interface and state gone, status names n1"

# 4. A second owner, then the founder's machine is destroyed.
lab_ctl n1 owner add "$mesh" n2 >/dev/null
lab_wait 10 "n3 sees two owners" bash -c \
    "'$SMEGCTL' --socket '$(lab_socket n3)' owner list '$mesh' --json | python3 -c 'import json,sys; sys.exit(len(json.load(sys.stdin)[\"owners\"]) != 2)'"
lab_kill_node n1
rm -rf "$LAB_DIR/n1/state"
rest=(n2 n3 n4)
lab_wait 20 "the founder pruned everywhere" lab_all_see "$mesh" 3 "${rest[@]}"
lab_ctl n2 evict "$mesh" n4 >/dev/null
rest=(n2 n3)
lab_wait 5 "no member keeps n4's WireGuard peer" no_peer "${key[n4]}" "${rest[@]}"
lab_add_node n7 7
lab_start n7
new_token=$(lab_ctl n2 invite "$mesh")
lab_ctl n7 join --alias n7 "$new_token" >/dev/null
addr[n7]=$(lab_address n7 "$mesh")
rest=(n2 n3 n7)
lab_wait 30 "three members after the new join" lab_all_see "$mesh" 3 "${rest[@]}"
lab_wait 30 "n2, n3 and the new n7 ping each other" lab_pings "${rest[@]}"
lab_log "4/5 founder destroyed: the second owner evicted n4 and invited n7, which pings everyone"

# 5. A rotation while n3's daemon is frozen for longer than the 30 s overlap.
lab_wait 10 "n2, n3 and n7 at generation 3 (three evictions)" all_at 3 "${rest[@]}"
kill -STOP "${LAB_PID[n3]}"
lab_ctl n2 rotate "$mesh" >/dev/null
lab_wait 5 "n2 and n7 at generation 4" all_at 4 n2 n7
sleep 32
kill -CONT "${LAB_PID[n3]}"
continued=$(now)
lab_wait 20 "n3 catches up with the rotated secret" all_at 4 n3
caught=$(seconds_since "$continued")
lab_wait 30 "three members everywhere after the catch-up" lab_all_see "$mesh" 3 "${rest[@]}"
lab_wait 30 "n2, n3 and n7 ping each other" lab_pings "${rest[@]}"
lab_log "5/5 n3 was frozen through a rotation and its overlap: it had the new secret ${caught} s after it continued"

lab_log "owners-test: PASS"
