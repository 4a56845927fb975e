#!/usr/bin/env bash
# Hostile members with a real data plane: four honest smegd nodes and the attacker's client
# daemon m in network namespaces with userspace WireGuard, and smeg-attack run from m's namespace
# as m (a member that holds a valid token). After each attack every live honest node must still
# ping every other one over the mesh, all must see the same members and one leader, and a node
# killed during an attack must be pruned everywhere within 10 s. The loopback stage
# (hostile-test.sh) checks each attack's refusals in detail; this one checks that the mesh still
# carries traffic. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/mesh-lab.sh
lab_begin hostile-netns-test
ATTACK="$(dirname "$SMEGD")/smeg-attack"
[[ -x $ATTACK ]] || lab_fail "no smeg-attack next to smegd: swift build --product smeg-attack"

started=$SECONDS
honest=(n1 n2 n3 n4)
lab_setup_switch
index=1
for name in "${honest[@]}" m; do
    lab_add_node "$name" "$index"
    lab_start "$name" --set metricsListen=127.0.0.1:9469
    index=$((index + 1))
done
token=$(lab_ctl n1 create --alias n1 --json | lab_json field token)
mesh=$(lab_mesh n1)
for name in n2 n3 n4; do lab_ctl "$name" join --alias "$name" "$token" >/dev/null; done
lab_ctl m join --alias mallory --role client "$token" >/dev/null

# addr is read by lab_pings (mesh-lab.sh).
# shellcheck disable=SC2034
declare -A addr id ip
index=1
for name in "${honest[@]}" m; do
    addr[$name]=$(lab_address "$name" "$mesh")
    id[$name]=$(lab_ctl "$name" get "$mesh" --json | lab_json self-id)
    ip[$name]=10.77.0.$index
    index=$((index + 1))
done
live=("${honest[@]}")
lab_wait 30 "five members everywhere" lab_all_see "$mesh" 5 "${live[@]}" m
lab_wait 30 "all-pairs ping between the honest nodes" lab_pings "${live[@]}"
lab_log "mesh up, honest nodes ping each other ($((SECONDS - started)) s)"

# attack TARGET SUBCOMMAND [ARGS...]: smeg-attack from m's namespace, as m, at TARGET's gossip port.
attack() {
    local target=$1 sub=$2
    shift 2
    ip netns exec "$LAB_PREFIX-m" "$ATTACK" "$sub" --mesh-file "$LAB_DIR/m/state/meshes/$mesh/mesh.json" --to "${ip[$target]}:51900" \
        --to-key "${id[$target]}" --from "${ip[m]}" --identity "$LAB_DIR/m/state/meshes/$mesh/identity.key" "$@" |
        cut -c 1-200 | sed 's/^/    sent: /'
}

# One leader, the same in every live honest view.
one_leader() {
    local name leaders=()
    for name in "${live[@]}"; do leaders+=("$(lab_leader "$name" "$mesh")"); done
    [[ -n ${leaders[0]} ]] && (($(printf '%s\n' "${leaders[@]}" | sort -u | wc -l) == 1))
}

rejected() {
    local name total=0
    for name in "${live[@]}"; do
        total=$((total + $(lab_metric "$name" smeg_frames_rejected_total) + $(lab_metric "$name" smeg_records_rejected_total)))
    done
    echo "$total"
}

# still_working WHAT: every live honest node sees the live honest members and m, one leader, and
# pings every other live honest node.
still_working() {
    lab_wait 15 "$1: $((${#live[@]} + 1)) members everywhere" lab_all_see "$mesh" $((${#live[@]} + 1)) "${live[@]}"
    lab_wait 15 "$1: one leader" one_leader
    lab_wait 15 "$1: all-pairs ping between ${live[*]}" lab_pings "${live[@]}"
    lab_log "PASS $1: ${#live[@]} honest nodes ping each other, leader $(lab_leader n1 "$mesh")"
}

before=$(rejected)
lab_log "--- epoch-overflow: heartbeats, probes and digests near 2^64 naming every honest leader"
attack n2 epoch-overflow --leaders "${id[n1]}" "${id[n2]}" "${id[n3]}" "${id[n4]}"
still_working epoch-overflow

lab_log "--- sybils: 5000 fresh identities that never acknowledge"
attack n2 sybils --count 5000 | tail -n 1
still_working sybils

lab_log "--- sender-flood: 100000 frames claiming fresh sender ids"
attack n3 sender-flood --frames 100000 | tail -n 1
still_working sender-flood

leader=$(lab_leader n1 "$mesh")
victim=n4
[[ $leader == n4 ]] && victim=n3
target=$leader
lab_log "--- forge-acks: $victim killed while m forges its acks at the leader $target"
attack "$target" forge-acks --seconds 12 --as "${id[$victim]}" &
forger=$!
lab_kill_node "$victim"
killed_at=$SECONDS
live=()
for name in "${honest[@]}"; do [[ $name == "$victim" ]] || live+=("$name"); done
lab_wait 10 "the killed $victim pruned everywhere despite the forged acks" lab_all_see "$mesh" $((${#live[@]} + 1)) "${live[@]}"
lab_log "killed $victim pruned everywhere after $((SECONDS - killed_at)) s"
wait "$forger" || true
still_working forge-acks

after=$(rejected)
((after > before)) || lab_fail "no rejection counted on the honest nodes during the attacks ($before before, $after after)"
lab_log "rejections counted on the honest nodes: $((after - before))"
lab_log "hostile-netns-test: passed in $((SECONDS - started)) s"
