#!/usr/bin/env bash
# Starts N control-plane-only smegd daemons on loopback, joins them into one mesh, and reports
# the time until every daemon sees all N members and the resident memory per daemon (idle
# alone, and in the N-member mesh after it settles). Usage: scripts/measure-daemons.sh [N]
# (scripts/bench.sh measures the same and more, side by side with Serf.)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
SMEG_BIN=${SMEG_BIN:-$(swift build -c release --show-bin-path)}
LAB_DIR=$(mktemp -d)
# shellcheck source=scripts/lib/mesh-lab.sh
source scripts/lib/mesh-lab.sh
trap lab_cleanup EXIT
base=$(lab_free_range "$n")
pids=()

start() {
    lab_start_loopback "$1" $((base + $1)) --set metricsListen=off --log-level warning
    pids+=("$LAB_LAST_PID")
}

start 0
lab_wait_daemon 0
sleep 2
idle=$(lab_rss_kib "${pids[0]}")
token=$(lab_ctl 0 create --json | lab_json field token)
for i in $(seq 1 $((n - 1))); do start "$i"; done
for i in $(seq 1 $((n - 1))); do lab_wait_daemon "$i"; done
t0=$(date +%s.%N)
for i in $(seq 1 $((n - 1))); do lab_ctl "$i" join "$token" >/dev/null & done
converged=""
for _ in $(seq 600); do
    low=$n
    for i in 0 $((n / 2)) $((n - 1)); do
        m=$(lab_ctl "$i" list --json | lab_json field meshes.0.members 0)
        ((m < low)) && low=$m
    done
    if ((low == n)); then
        converged=$(awk -v from="$t0" -v to="$(date +%s.%N)" 'BEGIN { printf "%.2f", to - from }')
        break
    fi
    sleep 0.1
done
sleep 10
total=0
most=0
for pid in "${pids[@]}"; do
    rss=$(lab_rss_kib "$pid")
    total=$((total + rss))
    ((rss > most)) && most=$rss
done
mib() { awk -v kib="$1" 'BEGIN { printf "%.1f", kib / 1024 }'; }
echo "daemons:                 $n (control-plane-only, loopback, release build)"
echo "idle daemon, no mesh:    $(mib "$idle") MiB RSS"
echo "converged (3 sampled):   ${converged:-no} s after the joins were sent"
echo "in the $n-member mesh:   $(mib $((total / n))) MiB RSS per daemon (mean, 10 s after convergence; max $(mib "$most"))"
