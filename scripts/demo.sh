#!/usr/bin/env bash
# The demo: a real mesh in network namespaces on this machine, set up exactly as a user would.
#
#   p1, p2  public peers on a shared "internet" segment (10.77.0.0/24, fd77::/64)
#   c1, c2  laptops, each behind its own NAT router (192.168.N.0/24, masqueraded)
#
# smegd runs in each namespace; `smegctl create` on p1 and `smegctl join <token>` on the others,
# one after the other. After each join the demo times how long until the new node pings every
# member (the bar: under 2 s), then prints the members and the DOT graph (and an SVG when
# graphviz is present), and tears everything down. Every step prints how long it took.
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
lab_add_nat_client c2 2
step "created namespaces: p1, p2 (public), c1 and c2 (each behind its own NAT)"
for name in p1 p2 c1 c2; do lab_start "$name"; done
step "started smegd on p1, p2, c1, c2"

lab_ctl p1 create --alias p1 --name demo | tee "$LAB_DIR/create.txt"
token=$(grep -o 'smeg[12]-[a-z0-9]*' "$LAB_DIR/create.txt")
mesh=$(lab_mesh p1)
step "smegctl create on p1"

declare -A addr
addr[p1]=$(lab_address p1 "$mesh")
members=(p1)
# pings_all NAME: NAME pings every member so far, and every member pings NAME (a 0.25 s timeout
# per ping, retried every 0.2 s: the times below are late by at most about half a second).
pings_all() {
    local other
    for other in "${members[@]}"; do
        [[ $other == "$1" ]] && continue
        lab_ping "$1" "${addr[$other]}" 0.25 >/dev/null || return 1
        lab_ping "$other" "${addr[$1]}" 0.25 >/dev/null || return 1
    done
}
now() { date +%s.%N; }
# seconds_since START: the time since START (a `now`), in seconds with two decimals.
seconds_since() { awk -v from="$1" -v to="$(now)" 'BEGIN { printf "%.2f", to - from }'; }
worst=0
for spec in p2:peer c1:client c2:client; do
    name=${spec%%:*}
    role=${spec##*:}
    started=$(now)
    lab_ctl "$name" join --alias "$name" --role "$role" "$token" >/dev/null
    addr[$name]=$(lab_address "$name" "$mesh")
    members+=("$name")
    lab_wait 30 "$name pings every member and is pinged back" pings_all "$name"
    took=$(seconds_since "$started")
    worst=$(awk -v a="$worst" -v b="$took" 'BEGIN { print (b > a ? b : a) }')
    step "smegctl join on $name ($role): pings all ${#members[@]} members both ways ${took} s after the join command"
done

echo
lab_ctl p1 get "$mesh"
echo
lab_ctl p1 graph >"$out/mesh.dot"
cat "$out/mesh.dot"
if command -v dot >/dev/null; then
    dot -Tsvg "$out/mesh.dot" >"$out/mesh.svg"
    step "wrote $out/mesh.dot and $out/mesh.svg"
fi
verdict=$(awk -v worst="$worst" 'BEGIN { print (worst < 2 ? "under" : "OVER") }')
echo "demo: PASS — slowest join to pinging every member: ${worst} s ($verdict the 2 s bar)"
