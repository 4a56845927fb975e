#!/usr/bin/env bash
# smegd against HashiCorp Serf, in one run, on loopback (see BENCHMARKS.md for the method).
#
# For each N in BENCH_N, for each system in turn (smegd, then serf; one torn down before the
# other starts): N-1 processes are started and joined through the first one, then
#   1. join: a new process starts, and its join command is timed until every other member
#      lists it as alive;
#   2. idle: after BENCH_SETTLE_SECONDS, CPU seconds (/proc/PID/stat) and bytes on the wire
#      (nftables counters on loopback output, the system's own ports) over BENCH_IDLE_SECONDS,
#      then RSS per process (/proc/PID/status);
#   3. failure: kill -9 of a member that is neither the bootstrap nor (smegd) the leader, timed
#      until every remaining member no longer lists it; then the next join trial, and so on
#      for BENCH_TRIALS trials of each;
#   4. smegd only: kill -9 of the leader, timed the same way (Serf has no leader).
# Both systems run with their default protocol settings. The timing is done by
# scripts/lib/bench.py, which polls every process of both systems the same way.
#
# Usage (as root, after a release build): scripts/bench.sh   or   make bench
# Environment: BENCH_N ("20 100"), BENCH_TRIALS (3), BENCH_IDLE_SECONDS (60),
# BENCH_SETTLE_SECONDS (5), BENCH_POLL_INTERVAL (0.1), BENCH_SYSTEMS ("smegd serf"),
# BENCH_OUT (.build/bench: the JSON and the table), SMEG_BIN (directory of smegd and smegctl),
# BENCH_KEEP=1 (keep the processes' logs).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_N=${BENCH_N:-"20 100"}
BENCH_TRIALS=${BENCH_TRIALS:-3}
BENCH_IDLE_SECONDS=${BENCH_IDLE_SECONDS:-60}
BENCH_SETTLE_SECONDS=${BENCH_SETTLE_SECONDS:-5}
BENCH_POLL_INTERVAL=${BENCH_POLL_INTERVAL:-0.1}
BENCH_SYSTEMS=${BENCH_SYSTEMS:-"smegd serf"}
BENCH_OUT=${BENCH_OUT:-.build/bench}
SMEG_BIN=${SMEG_BIN:-$(swift build -c release --show-bin-path)}
JOIN_TIMEOUT=60
FAIL_TIMEOUT=120
SETTLE_TIMEOUT=300

for tool in "$SMEG_BIN/smegd" "$SMEG_BIN/smegctl"; do
    [[ -x $tool ]] || {
        echo "bench: $tool missing; build a release first (make bench does)" >&2
        exit 1
    }
done
command -v serf >/dev/null || {
    echo "bench: serf missing (SMEG_EXTRA_PACKAGES=serf scripts/deps.sh)" >&2
    exit 1
}

LAB_DIR=$(mktemp -d /tmp/smegbench.XXXXXX)
# shellcheck source=scripts/lib/mesh-lab.sh
source scripts/lib/mesh-lab.sh
POLL=(python3 scripts/lib/bench.py)
NFT_TABLE="smegbench$$"
NFT_CHAIN=idle
have_nft=0
RAW="$LAB_DIR/raw.jsonl"
: >"$RAW"

cleanup() {
    trap - EXIT INT TERM
    lab_stop_all
    ((have_nft)) && nft delete table inet "$NFT_TABLE" 2>/dev/null
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        echo "bench: logs kept in $LAB_DIR" >&2
    else
        rm -rf "$LAB_DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "$(date +%T) $*" >&2; }

# Bytes on the wire are counted by nftables on loopback output: every datagram or TCP segment
# one of our processes sends crosses that hook exactly once, headers included. Without root
# (or nft) the bench still runs and reports no wire bytes.
if [[ $(id -u) -eq 0 ]] && command -v nft >/dev/null &&
    nft add table inet "$NFT_TABLE" 2>/dev/null; then
    have_nft=1
    nft add chain inet "$NFT_TABLE" "$NFT_CHAIN" '{ type filter hook output priority 0; policy accept; }'
else
    log "no nftables (needs root): bytes on the wire will not be measured"
fi

# nft_count_ports LOW HIGH: counts from now on every TCP and UDP packet on loopback to or from
# the range (each packet once: to the range, or from the range to elsewhere).
nft_count_ports() {
    local range="$1-$2"
    ((have_nft)) || return 0
    nft flush chain inet "$NFT_TABLE" "$NFT_CHAIN"
    nft add rule inet "$NFT_TABLE" "$NFT_CHAIN" oifname lo meta l4proto '{ tcp, udp }' th dport "$range" counter
    nft add rule inet "$NFT_TABLE" "$NFT_CHAIN" oifname lo meta l4proto '{ tcp, udp }' th sport "$range" \
        th dport != "$range" counter
}

# Port layout: four ranges of STRIDE ports from one random free base, reused by every run
# (a run's processes are gone before the next starts).
max_n=0
for n in $BENCH_N; do
    ((n >= 3)) || {
        echo "bench: every N must be at least 3 (a bootstrap, a victim, a watcher): BENCH_N=$BENCH_N" >&2
        exit 2
    }
    ((n > max_n)) && max_n=$n
done
STRIDE=$((max_n + BENCH_TRIALS + 4))
BASE=$(lab_free_range $((4 * STRIDE)))
SMEGD_GOSSIP=$BASE
SMEGD_METRICS=$((BASE + STRIDE))
SERF_BIND=$((BASE + 2 * STRIDE))
SERF_RPC=$((BASE + 3 * STRIDE))

# Per-run state: PID[i] of member i, ALIVE the indices of live members.
declare -A PID=()
declare -a ALIVE=()
SYSTEM=""
N=0
TOKEN=""

# name_of I: member I's name in this run; also its directory, which must be new for each run
# (a smegd state directory left from the previous N would bring back the previous mesh).
name_of() { echo "$SYSTEM-n$N-$1"; }

# start_member I: starts member I of the current system, not yet joined, and waits until it
# answers on its control interface.
start_member() {
    local i=$1 name
    name=$(name_of "$i")
    if [[ $SYSTEM == smegd ]]; then
        # metricsListen is on by default; each daemon needs its own port.
        lab_start_loopback "$name" $((SMEGD_GOSSIP + i)) --set metricsListen=127.0.0.1:$((SMEGD_METRICS + i))
        PID[$i]=$LAB_LAST_PID
    else
        lab_spawn "$LAB_DIR/$name.log" serf agent -node="$name" -bind=127.0.0.1:$((SERF_BIND + i)) \
            -rpc-addr=127.0.0.1:$((SERF_RPC + i))
        PID[$i]=$LAB_LAST_PID
    fi
}

wait_member() {
    local i=$1 name
    name=$(name_of "$i")
    if [[ $SYSTEM == smegd ]]; then
        lab_wait_daemon "$name"
        return
    fi
    lab_wait_ready "serf agent $name" "${PID[$i]}" "$LAB_DIR/$name.log" \
        serf members -rpc-addr=127.0.0.1:$((SERF_RPC + i))
}

# join_command I: sets JOIN to the command that makes member I join through member 0, as a
# user types it.
declare -a JOIN=()
join_command() {
    local i=$1
    if [[ $SYSTEM == smegd ]]; then
        JOIN=("$SMEG_BIN/smegctl" --socket "$(lab_socket "$(name_of "$i")")" join "$TOKEN")
    else
        JOIN=(serf join -rpc-addr=127.0.0.1:$((SERF_RPC + i)) 127.0.0.1:$((SERF_BIND)))
    fi
}

# targets_file I...: the poller's list of members to watch (index and control address).
targets_file() {
    local file="$LAB_DIR/targets" i
    : >"$file"
    for i in "$@"; do
        if [[ $SYSTEM == smegd ]]; then
            echo "$i $(lab_socket "$(name_of "$i")")" >>"$file"
        else
            echo "$i 127.0.0.1:$((SERF_RPC + i))" >>"$file"
        fi
    done
    echo "$file"
}

# record KIND TRIAL JSON [EXTRA]: appends one raw measurement.
record() {
    printf '{"n":%d,"system":"%s","kind":"%s","trial":%d,"result":%s%s}\n' \
        "$N" "$SYSTEM" "$1" "$2" "${3:-null}" "${4:-}" >>"$RAW"
}

# seconds_of RESULT: a measurement's seconds, or None when it has none (a timeout).
seconds_of() { lab_json field seconds None <<<"$1"; }

without() {
    local drop=$1 i
    shift
    for i in "$@"; do [[ $i == "$drop" ]] || echo "$i"; done
}

# setup: members 0..N-2 started, then all joined through member 0 at once (like a fleet being
# rolled out), and settled: every one sees N-1 live members. The time from the first join
# command until then is recorded too (a mass join; polled every 0.5 s).
setup() {
    local i joins=() result failed=0 began joined
    ALIVE=()
    PID=()
    for i in $(seq 0 $((N - 2))); do start_member "$i"; done
    for i in $(seq 0 $((N - 2))); do wait_member "$i"; done
    if [[ $SYSTEM == smegd ]]; then
        TOKEN=$(lab_ctl "$(name_of 0)" create --json | lab_json field token)
    fi
    log "$SYSTEM N=$N: $((N - 1)) members up, joining them"
    began=$(date +%s.%N)
    for i in $(seq 1 $((N - 2))); do
        join_command "$i"
        "${JOIN[@]}" >/dev/null 2>&1 &
        joins+=($!)
    done
    for i in "${joins[@]}"; do wait "$i" || failed=$((failed + 1)); done
    joined=$(date +%s.%N)
    ((failed == 0)) || log "$SYSTEM N=$N: $failed join commands failed"
    mapfile -t ALIVE < <(seq 0 $((N - 2)))
    result=$("${POLL[@]}" settle --system "$SYSTEM" --targets "$(targets_file "${ALIVE[@]}")" \
        --count $((N - 1)) --timeout "$SETTLE_TIMEOUT" --interval 0.5) || {
        echo "bench: $SYSTEM N=$N did not settle: $result" >&2
        return 1
    }
    record setup 0 "$result" ",\"join_commands_seconds\":$(awk -v a="$began" -v b="$joined" 'BEGIN {printf "%.3f", b - a}')"
    log "$SYSTEM N=$N: $((N - 1)) members settled"
}

# join_trial K I: member I starts, then joins; timed until every live member lists it.
join_trial() {
    local k=$1 i=$2 result
    start_member "$i"
    wait_member "$i"
    sleep 1 # let the newcomer finish starting up
    join_command "$i"
    result=$("${POLL[@]}" join --system "$SYSTEM" --targets "$(targets_file "${ALIVE[@]}")" \
        --name "$(name_of "$i")" --count $((${#ALIVE[@]} + 1)) --interval "$BENCH_POLL_INTERVAL" \
        --timeout "$JOIN_TIMEOUT" -- "${JOIN[@]}") || true
    record join "$k" "$result" ",\"member\":$i"
    ALIVE+=("$i")
    log "$SYSTEM N=$N join $k: seen by all $((${#ALIVE[@]} - 1)) others after $(seconds_of "$result") s"
}

# fail_trial KIND K I: kill -9 of member I; timed until no live member lists it.
fail_trial() {
    local kind=$1 k=$2 i=$3 result
    mapfile -t ALIVE < <(without "$i" "${ALIVE[@]}")
    result=$("${POLL[@]}" fail --system "$SYSTEM" --targets "$(targets_file "${ALIVE[@]}")" \
        --name "$(name_of "$i")" --count "${#ALIVE[@]}" --pid "${PID[$i]}" \
        --interval "$BENCH_POLL_INTERVAL" --timeout "$FAIL_TIMEOUT") || true
    wait "${PID[$i]}" 2>/dev/null || true
    record "$kind" "$k" "$result" ",\"member\":$i"
    log "$SYSTEM N=$N $kind $k: member $i removed by all ${#ALIVE[@]} after $(seconds_of "$result") s"
}

# smegd_leader: the index of the live member that leads (asked of every live member).
smegd_leader() {
    "${POLL[@]}" leader --targets "$(targets_file "${ALIVE[@]}")"
}

# victim K: a live member for failure trial K: never member 0 (everyone's bootstrap) nor the
# smegd leader (measured on its own), otherwise the K-th oldest, so both systems lose the same
# members as far as the leader allows.
victim() {
    local k=$1 leader="" i seen=0
    [[ $SYSTEM == smegd ]] && leader=$(smegd_leader)
    for i in "${ALIVE[@]}"; do
        [[ $i == 0 || $i == "$leader" ]] && continue
        seen=$((seen + 1))
        ((seen == k)) && echo "$i" && return
    done
    echo "bench: no member left to kill for trial $k" >&2
    return 1
}

# idle: CPU and wire bytes over the idle window, then RSS, of every live member.
idle() {
    local pids=() i result low high table=""
    for i in "${ALIVE[@]}"; do pids+=("${PID[$i]}"); done
    if [[ $SYSTEM == smegd ]]; then
        low=$SMEGD_GOSSIP
    else
        low=$SERF_BIND
    fi
    high=$((low + STRIDE - 1))
    nft_count_ports "$low" "$high"
    ((have_nft)) && table=$NFT_TABLE
    log "$SYSTEM N=$N: idle for ${BENCH_IDLE_SECONDS}s"
    result=$("${POLL[@]}" idle --seconds "$BENCH_IDLE_SECONDS" \
        --table "$table" --chain "$NFT_CHAIN" "${pids[@]}")
    record idle 0 "$result"
}

run() {
    SYSTEM=$1
    N=$2
    local k next victim_index
    log "$SYSTEM N=$N: starting $((N - 1)) members"
    setup
    next=$((N - 1))
    for k in $(seq 1 "$BENCH_TRIALS"); do
        sleep "$BENCH_SETTLE_SECONDS"
        join_trial "$k" "$next"
        next=$((next + 1))
        sleep "$BENCH_SETTLE_SECONDS"
        ((k == 1)) && idle
        victim_index=$(victim "$k")
        fail_trial fail "$k" "$victim_index"
    done
    if [[ $SYSTEM == smegd ]]; then
        sleep "$BENCH_SETTLE_SECONDS"
        fail_trial leader 1 "$(smegd_leader)"
    fi
    log "$SYSTEM N=$N: done, stopping"
    lab_stop_all
}

started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for n in $BENCH_N; do
    for system in $BENCH_SYSTEMS; do run "$system" "$n"; done
done
wall=$(($(date +%s) - started))

mkdir -p "$BENCH_OUT"
stamp=$(date +%Y%m%d-%H%M%S)
python3 - "$LAB_DIR/meta.json" <<EOF
import json, os, subprocess, sys
def out(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
json.dump({
    "command": "BENCH_N=\"$BENCH_N\" BENCH_TRIALS=$BENCH_TRIALS BENCH_IDLE_SECONDS=$BENCH_IDLE_SECONDS scripts/bench.sh",
    "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
    "wall_seconds": $wall,
    "cpus": os.cpu_count(),
    "load_average_before": "$load_before",
    "load_average_after": open("/proc/loadavg").read().split()[:3],
    "kernel": os.uname().release,
    "serf_version": out("serf", "version"),
    "smegd_version": out("$SMEG_BIN/smegd", "--version"),
    "trials": $BENCH_TRIALS, "idle_seconds": $BENCH_IDLE_SECONDS,
    "settle_seconds": $BENCH_SETTLE_SECONDS, "poll_interval": $BENCH_POLL_INTERVAL,
}, open(sys.argv[1], "w"))
EOF
bar_n=100
[[ " $BENCH_N " == *" 100 "* ]] || bar_n=$max_n
echo
verdict=0
"${POLL[@]}" report --raw "$RAW" --meta "$LAB_DIR/meta.json" --bar-n "$bar_n" \
    --json "$BENCH_OUT/bench-$stamp.json" --text "$BENCH_OUT/bench-$stamp.txt" || verdict=$?
echo "bench: $wall s wall; raw numbers in $BENCH_OUT/bench-$stamp.json"
exit "$verdict"
