#!/usr/bin/env bash
# The demo: a real mesh in network namespaces on this machine, set up exactly as a user would.
#
#   p1, p2  public peers on a shared "internet" segment (10.77.0.0/24)
#   c1      a laptop behind its own NAT router (192.168.1.0/24, masqueraded)
#
# smegd runs in each namespace; `smegctl create` on p1 and `smegctl join <token>` on the others.
# The demo waits for ping -6 between every pair that the mesh connects, prints the members and
# the DOT graph (and an SVG when graphviz is present), then tears everything down.
set -euo pipefail
cd "$(dirname "$0")/.."

step_started=$SECONDS
step() {
    local now=$SECONDS
    printf '%s  [%3ss] %s\n' "$(date +%T)" "$((now - step_started))" "$*"
    step_started=$now
}

out=${DEMO_OUT:-out/demo}
mkdir -p "$out"
source scripts/lib/mesh-lab.sh
lab_begin demo -c release
trap 'lab_end $?; step "torn down"' EXIT

step "using $SMEGD"
lab_setup_switch
lab_add_node p1 1
lab_add_node p2 2
lab_add_nat_client c1 1
step "created namespaces: p1, p2 (public), c1 (behind NAT)"
for name in p1 p2 c1; do lab_start "$name"; done
step "started smegd on p1, p2, c1"

lab_ctl p1 create --alias p1 --name demo | tee "$LAB_DIR/create.txt"
token=$(grep -o 'smeg1-[a-z0-9]*' "$LAB_DIR/create.txt")
mesh=$(lab_ctl p1 list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["meshes"][0]["meshId"])')
step "smegctl create on p1"

join_started=$SECONDS
join_clock=$(date +%s.%N)
lab_ctl p2 join --alias p2 "$token"
lab_ctl c1 join --alias laptop --role client "$token"
step "smegctl join on p2 and c1"

declare -A addr
for name in p1 p2 c1; do addr[$name]=$(lab_address "$name" "$mesh"); done
pairs_ping() {
    local pair
    for pair in p1:p2 p2:p1 p1:c1 c1:p1 p2:c1 c1:p2; do
        lab_ping "${pair%%:*}" "${addr[${pair##*:}]}" >/dev/null || return 1
    done
}
lab_wait 30 "ping -6 between every pair" pairs_ping
join_to_ping=$(python3 -c "import time; print(f'{time.time() - $join_clock:.2f}')")
step "ping -6 works between every pair (first join to all pings: ${join_to_ping} s)"

echo
lab_ctl p1 get "$mesh"
echo
lab_ctl p1 graph >"$out/mesh.dot"
cat "$out/mesh.dot"
if command -v dot >/dev/null; then
    dot -Tsvg "$out/mesh.dot" >"$out/mesh.svg"
    step "wrote $out/mesh.dot and $out/mesh.svg"
fi
echo "demo: PASS — join to every ping in ${join_to_ping} s"
