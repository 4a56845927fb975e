#!/usr/bin/env bash
# Regenerates scripts/layout/smegd.order, the list of functions a running smegd executes, which
# the release link (Makefile, RELEASE) places first and together in the binary's code. A daemon
# touches a few MiB of a 20 MiB text section; scattered, those functions fault in most of it
# (the kernel maps 64 KiB around every fault), and every page counts in each daemon's RSS.
#
# How: two control-plane-only daemons run under valgrind's callgrind on loopback, one creating a
# mesh and one joining it, with six native daemons around them. They gossip and serve every
# smegctl read verb and a metrics scrape; native leaders are killed until a profiled daemon leads
# (the leader runs code no other member does); a member is killed and pruned, another leaves and
# rejoins; then they stop on SIGTERM. Then WireGuard mode in network namespaces
# (scripts/lib/mesh-lab.sh): a profiled peer creates a mesh that a native peer and a native
# client behind NAT join, pings cross it, the other peer dies and the profiled one, now leading,
# prunes it, and stops on SIGTERM. Every function callgrind saw in any of the three is written
# out, one symbol name per line. Run it after changes that move much code around (a stale list
# still links; functions missing from it are placed after the listed ones). Installs valgrind if
# it is missing; builds the release itself.
# Usage: scripts/layout-profile.sh [OUTPUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-scripts/layout/smegd.order}
command -v valgrind >/dev/null || apt-get install -y -qq valgrind >/dev/null
make -s release >/dev/null
SMEG_BIN=$PWD/.build-release/release
SMEGD=$SMEG_BIN/smegd
SMEGCTL=$SMEG_BIN/smegctl
# shellcheck source=scripts/lib/mesh-lab.sh
source scripts/lib/mesh-lab.sh
trap lab_cleanup EXIT

# Valgrind 3.19 cannot read DWARF 5: profile a copy without debug sections (symbols stay).
strip --strip-debug -o "$LAB_DIR/smegd" "$SMEG_BIN/smegd"
base=$(lab_free_range 10)
declare -A pid

# under_callgrind OUTPUT: prints the path of a wrapper that runs the profiled copy of smegd with
# its arguments under callgrind, writing OUTPUT.
under_callgrind() {
    local wrapper
    wrapper=$LAB_DIR/callgrind-$(basename "$1" .callgrind)
    cat >"$wrapper" <<SH
#!/bin/sh
exec valgrind --tool=callgrind --demangle=no --callgrind-out-file="$1" "$LAB_DIR/smegd" "\$@"
SH
    chmod +x "$wrapper"
    echo "$wrapper"
}
# profiled NAME PORT [smegd flags...]: a loopback daemon under callgrind (NAME.callgrind).
profiled() {
    SMEGD=$(under_callgrind "$LAB_DIR/$1.callgrind") lab_start_loopback "$@"
    pid[$1]=$LAB_LAST_PID
}
reads() {
    local name=$1
    lab_ctl "$name" list >/dev/null
    lab_ctl "$name" list --json >/dev/null
    lab_ctl "$name" get mesh >/dev/null
    lab_ctl "$name" get mesh --json >/dev/null
    lab_ctl "$name" graph >/dev/null
    lab_ctl "$name" status >/dev/null
    lab_ctl "$name" status --json >/dev/null
    lab_ctl "$name" hosts >/dev/null
    lab_ctl "$name" invite mesh >/dev/null 2>&1 || true  # a member that is not an owner is refused
    lab_ctl "$name" owner list mesh >/dev/null
    lab_ctl "$name" query mesh --role peer >/dev/null
    lab_ctl "$name" get nosuchmesh >/dev/null 2>&1 || true
}

# leader_alias: the alias of the member p0 sees leading.
leader_alias() {
    local name
    name=$(lab_ctl p0 get mesh --json | lab_json leader-name)
    echo "${name:-?}"
}

natives=(n2 n3 n4 n5 n6 n7)
profiled p0 "$base" --set metricsListen=127.0.0.1:$((base + 9)) --log-level info
profiled p1 $((base + 1)) --set metricsListen=off --log-level warning
for i in 2 3 4 5 6 7; do
    lab_start_loopback "n$i" $((base + i)) --set metricsListen=off --log-level warning
    pid[n$i]=$LAB_LAST_PID
done
for name in p0 p1 "${natives[@]}"; do LAB_READY_SECONDS=60 lab_wait_daemon "$name"; done
token=$(lab_ctl p0 create --name mesh --alias p0 --json | lab_json field token)
lab_ctl p1 join "$token" --alias p1 >/dev/null
for name in "${natives[@]}"; do lab_ctl "$name" join "$token" --alias "$name" >/dev/null; done
sleep 20
lab_ctl p1 service set mesh http 8080 >/dev/null
lab_ctl p0 describe mesh "the first node" >/dev/null
reads p0
reads p1
curl -fsS "http://127.0.0.1:$((base + 9))/metrics" >/dev/null
# The leader runs code no other member does: kill -9 native leaders (failover and pruning, also
# worth profiling) until a profiled daemon leads, then let it lead for a while.
for _ in "${natives[@]}"; do
    lead=$(leader_alias)
    [[ $lead == n* ]] || break
    kill -9 "${pid[$lead]}"
    wait "${pid[$lead]}" 2>/dev/null || true
    for index in "${!natives[@]}"; do [[ ${natives[$index]} == "$lead" ]] && unset "natives[$index]"; done
    natives=("${natives[@]}")
    sleep 8
done
echo "profiled daemons under $(leader_alias) as leader"
if ((${#natives[@]} > 1)); then
    kill -9 "${pid[${natives[0]}]}"
    wait "${pid[${natives[0]}]}" 2>/dev/null || true
    sleep 15
fi
if ((${#natives[@]} > 0)); then
    lab_ctl "${natives[-1]}" leave mesh >/dev/null
    sleep 5
    lab_ctl "${natives[-1]}" join "$token" >/dev/null
fi
lab_ctl p1 alias mesh renamed >/dev/null
sleep 15
reads p0
reads p1
lab_stop "${pid[p0]}" "${pid[p1]}"

# WireGuard mode: lab_start runs $SMEGD.
lab_setup_switch
lab_add_node w1 1
lab_add_node w2 2
lab_add_nat_client w3 3
SMEGD=$(under_callgrind "$LAB_DIR/wg.callgrind") lab_start w1 --log-level info
SMEGD=$SMEG_BIN/smegd
lab_start w2
lab_start w3
token=$(lab_ctl w1 create --name wg --alias w1 --json | lab_json field token)
mesh=$(lab_ctl w1 list --json | lab_json field meshes.0.meshId)
lab_ctl w2 join "$token" --alias w2 >/dev/null
lab_ctl w3 join "$token" --alias w3 --role client >/dev/null
lab_wait 120 "w1 sees 3 members" lab_all_see "$mesh" 3 w1
for name in w2 w3; do lab_wait 60 "w1 pings $name" lab_ping w1 "$(lab_address "$name" "$mesh")"; done
lab_ctl w1 get wg >/dev/null
lab_ctl w1 graph >/dev/null
lab_ctl w1 hosts >/dev/null
# w1 is the only peer left once w2 dies, so it leads and removes w2 from WireGuard.
lab_kill_node w2
lab_wait 120 "w1 prunes w2" lab_all_see "$mesh" 2 w1
sleep 10
lab_ctl w1 get wg >/dev/null
lab_term w1

mkdir -p "$(dirname "$out")"
# Only names the linker can place: symbols defined in the binary itself (not the dynamic
# loader's or libc's start-up code callgrind also saw), without callgrind's "'N" suffix for a
# name seen more than once. Then every listed name exists when the file is made, and
# scripts/layout-check.sh measures only how far the code moved since.
nm --defined-only "$SMEG_BIN/smegd" | awk '{print $NF}' >"$LAB_DIR/defined"
python3 - "$LAB_DIR/defined" "$LAB_DIR/p0.callgrind" "$LAB_DIR/p1.callgrind" "$LAB_DIR/wg.callgrind" >"$out" <<'PY'
import re, sys
defined = set(open(sys.argv[1]).read().split())
def functions(path):
    names = set()
    for line in open(path, errors="replace"):
        m = re.match(r"c?fn=\(\d+\)(?: (.+))?$", line.rstrip("\n"))
        if m and m.group(1) and not m.group(1).startswith("0x"):
            name = re.sub(r"'\d+$", "", m.group(1))
            if name in defined:
                names.add(name)
    return names
creator, joiner, wireguard = (functions(path) for path in sys.argv[2:])
loopback = creator | joiner
# Code both modes run first, then control-plane-only code, then WireGuard-only code: each mode's
# working set stays in one stretch. Sorted within a group, so that a regenerated list differs
# from the old one only where the code did.
groups = [loopback & wireguard, loopback - wireguard, wireguard - loopback]
print("\n".join(name for group in groups for name in sorted(group)))
PY
echo "$(wc -l <"$out") functions written to $out; make release relinks with them"
