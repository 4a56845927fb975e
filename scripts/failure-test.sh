#!/usr/bin/env bash
# Failure suite: six real smegd nodes in network namespaces with real (userspace) WireGuard.
#   1. garbage on the gossip port and the control socket: the daemon keeps serving and counts it
#   2. kill -9 of the leader: pruned everywhere, a new leader, nobody else disturbed
#   3. kill -9 of an ordinary member: pruned everywhere
#   4. restart of both: same identity and address, back without any manual step
#   5. partition into two halves and heal: both halves keep working, then converge
#   6. 20% packet loss on every node: membership stays whole (no false prunes)
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/mesh-lab.sh
lab_begin failure-test

nodes=(n1 n2 n3 n4 n5 n6)
started=$SECONDS
lab_setup_switch
for index in 1 2 3 4 5 6; do
    lab_add_node "n$index" "$index"
    lab_start "n$index" --set metricsListen=127.0.0.1:9469
done
token=$(lab_ctl n1 create --alias n1 --json | lab_json field token)
mesh=$(lab_mesh n1)
for name in n2 n3 n4 n5 n6; do lab_ctl "$name" join --alias "$name" "$token" >/dev/null; done

declare -A addr
for name in "${nodes[@]}"; do addr[$name]=$(lab_address "$name" "$mesh"); done

lab_wait 30 "six members everywhere" lab_all_see "$mesh" 6 "${nodes[@]}"
lab_wait 30 "all-pairs ping -6 between six nodes" lab_pings "${nodes[@]}"
lab_log "1/6 six nodes up, all pairs ping"

# 1. garbage: random datagrams at n1's gossip port from n2, and junk on n1's control socket.
ip netns exec "$LAB_PREFIX-n2" python3 - "10.77.0.1" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    size = [0, 1, 5, 40, 200, 1400, 9000][i % 7]
    payload = os.urandom(size) if i % 3 else b"SMEG\x01" + os.urandom(max(size - 5, 0))
    s.sendto(payload, (sys.argv[1], 51900))
PY
python3 - "$LAB_DIR/n1/smegd.sock" <<'PY'
import os, socket, sys
for junk in [os.urandom(5000), b"GET / HTTP/1.1\r\n" + b"X: " + b"a" * 100000 + b"\r\n\r\n", b"\x00" * 64, b"POST /v1/meshes HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n{"]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    try:
        s.sendall(junk)
        s.shutdown(socket.SHUT_WR)
        s.recv(65536)
    except OSError:
        pass
    s.close()
PY
rejected=$(lab_metric n1 smeg_frames_rejected_total)
((rejected >= 1900)) || lab_fail "n1 counted only $rejected rejected frames of 2000 garbage datagrams"
lab_ctl n1 status >/dev/null || lab_fail "n1 stopped answering after garbage"
lab_wait 10 "six members after the garbage" lab_all_see "$mesh" 6 "${nodes[@]}"
lab_log "2/6 garbage: n1 counted $rejected rejected frames and keeps serving"

# 2. kill -9 of the leader.
leader=$(lab_leader n1 "$mesh")
[[ -n $leader ]] || lab_fail "no leader known"
survivors=()
for name in "${nodes[@]}"; do [[ $name == "$leader" ]] || survivors+=("$name"); done
lab_kill9 "$leader"
killed_at=$SECONDS
lab_wait 20 "the dead leader $leader pruned everywhere" lab_all_see "$mesh" 5 "${survivors[@]}"
new_leader=$(lab_leader "${survivors[0]}" "$mesh")
[[ -n $new_leader && $new_leader != "$leader" ]] || lab_fail "no new leader after $leader died"
lab_wait 20 "the survivors still ping each other" lab_pings "${survivors[@]}"
lab_log "3/6 leader $leader killed: pruned everywhere after $((SECONDS - killed_at)) s, new leader $new_leader"

# 3. kill -9 of an ordinary member.
victim=${survivors[-1]}
[[ $victim != "$new_leader" ]] || victim=${survivors[-2]}
rest=()
for name in "${survivors[@]}"; do [[ $name == "$victim" ]] || rest+=("$name"); done
lab_kill9 "$victim"
killed_at=$SECONDS
lab_wait 20 "member $victim pruned everywhere" lab_all_see "$mesh" 4 "${rest[@]}"
lab_log "4/6 member $victim killed: pruned everywhere after $((SECONDS - killed_at)) s"

# 4. restart both: same address, back in the mesh.
lab_start "$leader" --set metricsListen=127.0.0.1:9469
lab_start "$victim" --set metricsListen=127.0.0.1:9469
lab_wait 30 "six members after the restarts" lab_all_see "$mesh" 6 "${nodes[@]}"
for name in "$leader" "$victim"; do
    [[ $(lab_address "$name" "$mesh") == "${addr[$name]}" ]] || lab_fail "$name came back with another address"
done
lab_wait 30 "all-pairs ping after the restarts" lab_pings "${nodes[@]}"
lab_log "5/6 $leader and $victim restarted with the same addresses; six members, all pairs ping"

# 5. partition {n1,n2,n3} | {n4,n5,n6}, then heal.
for name in n1 n2 n3; do lab_block "$name" 10.77.0.{4,5,6} fd77::{4,5,6}; done
for name in n4 n5 n6; do lab_block "$name" 10.77.0.{1,2,3} fd77::{1,2,3}; done
cut_at=$SECONDS
lab_wait 30 "each half down to its three members" lab_all_see "$mesh" 3 "${nodes[@]}"
lab_pings n1 n2 n3 || lab_fail "the first half stopped working during the partition"
lab_pings n4 n5 n6 || lab_fail "the second half stopped working during the partition"
lab_log "    partition: each half sees its 3 members after $((SECONDS - cut_at)) s and pings inside itself"
for name in "${nodes[@]}"; do lab_heal "$name"; done
healed_at=$SECONDS
lab_wait 60 "six members after the heal" lab_all_see "$mesh" 6 "${nodes[@]}"
lab_wait 30 "all-pairs ping after the heal" lab_pings "${nodes[@]}"
lab_log "6/6 partition healed: six members everywhere $((SECONDS - healed_at)) s after the heal, all pairs ping"

# After a heal the two leaders settle on one (a brief flurry of prunes and rejoins); the loss
# check below starts from a settled mesh: six members and one leader everywhere for 5 s.
one_leader() {
    local first
    first=$(lab_leader n1 "$mesh")
    [[ -n $first ]] || return 1
    for name in "${nodes[@]}"; do [[ $(lab_leader "$name" "$mesh") == "$first" ]] || return 1; done
}
settled_since=-1
settle_deadline=$((SECONDS + 60))
while ((SECONDS < settle_deadline)); do
    if lab_all_see "$mesh" 6 "${nodes[@]}" && one_leader; then
        ((settled_since >= 0)) || settled_since=$SECONDS
        ((SECONDS - settled_since >= 5)) && break
    else
        settled_since=-1
    fi
    sleep 0.5
done
((settled_since >= 0 && SECONDS - settled_since >= 5)) || lab_fail "the mesh did not settle within 60 s of the heal"
lab_log "    settled: six members and one leader everywhere for 5 s, $((SECONDS - healed_at)) s after the heal"

# 6. 20% loss on every node for 30 s: nobody is pruned.
for name in "${nodes[@]}"; do lab_loss "$name" 20; done
lossy_until=$((SECONDS + 30))
false_prunes=0
while ((SECONDS < lossy_until)); do
    for name in "${nodes[@]}"; do
        count=$(lab_members "$name" "$mesh")
        [[ $count == 6 ]] || { false_prunes=$((false_prunes + 1)); lab_log "    $name sees $count members under loss"; }
    done
    sleep 1
done
for name in "${nodes[@]}"; do lab_heal "$name"; done
((false_prunes == 0)) || lab_fail "$false_prunes samples showed a member missing under 20% loss"
lab_wait 30 "all-pairs ping after the loss" lab_pings "${nodes[@]}"
lab_log "    20% loss for 30 s: six members in every sample, no false prunes"
lab_log "failure-test: PASS in $((SECONDS - started)) s"
