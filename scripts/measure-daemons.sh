#!/usr/bin/env bash
# Starts N control-plane-only smegd daemons on loopback, joins them into one mesh, and reports
# the time until every daemon sees all N members and the resident memory per daemon (idle
# alone, and in the N-member mesh after it settles). Usage: scripts/measure-daemons.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
bin=${SMEG_BIN:-$(swift build -c release --show-bin-path)}
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
base=$((30000 + RANDOM % 20000))

start() {
    local i=$1
    mkdir -p "$work/$i"
    "$bin/smegd" --control-plane-only --state-dir "$work/$i/state" --socket "$work/$i/s.sock" \
        --gossip-port $((base + i)) --set metricsListen=off --set gossipBind=127.0.0.1 --log-level warning \
        >"$work/$i/log" 2>&1 &
    pids+=($!)
}
ctl() { local i=$1; shift; "$bin/smegctl" --socket "$work/$i/s.sock" "$@"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
wait_socket() { for _ in $(seq 200); do ctl "$1" status >/dev/null 2>&1 && return; sleep 0.05; done; echo "daemon $1 did not start" >&2; exit 1; }

start 0
wait_socket 0
sleep 2
idle=$(rss_kib "${pids[0]}")
token=$(ctl 0 create --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
mesh=$(ctl 0 list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["meshes"][0]["meshId"])')
for i in $(seq 1 $((n - 1))); do start "$i"; done
for i in $(seq 1 $((n - 1))); do wait_socket "$i"; done
t0=$(date +%s.%N)
for i in $(seq 1 $((n - 1))); do ctl "$i" join "$token" >/dev/null & done
converged=""
for _ in $(seq 600); do
    low=$n
    for i in 0 $((n / 2)) $((n - 1)); do
        m=$(ctl "$i" list --json | python3 -c 'import json,sys; d=json.load(sys.stdin)["meshes"]; print(d[0]["members"] if d else 0)')
        ((m < low)) && low=$m
    done
    if ((low == n)); then converged=$(python3 -c "import time; print(f'{time.time() - $t0:.2f}')"); break; fi
    sleep 0.1
done
sleep 10
total=0
for pid in "${pids[@]}"; do total=$((total + $(rss_kib "$pid"))); done
echo "daemons:                 $n (control-plane-only, loopback, release build)"
echo "idle daemon, no mesh:    $((idle / 1024)) MiB RSS"
echo "converged (3 sampled):   ${converged:-no} s after the joins were sent"
echo "in the $n-member mesh:   $((total / n / 1024)) MiB RSS per daemon (mean, 10 s after convergence)"
