#!/usr/bin/env bash
# smegd against HashiCorp Serf, in one run, on loopback (see BENCHMARKS.md for the method).
#
# For each N in BENCH_N, for each system in turn (smegd, serf, then serf-enc: Serf with gossip
# encryption on, since every smegd frame is sealed; one torn down before the next starts):
#   0. mass join, BENCH_MASS_TRIALS times, each from fresh processes: N-1 processes start and
#      all but the first join through the first at once, timed until every one sees N-1 live
#      members; the last trial's mesh is the one the steps below use;
#   1. join: a new process starts, and its join command is timed until every other member
#      lists it as alive;
#   2. idle: after BENCH_SETTLE_SECONDS, CPU seconds (/proc/PID/stat) and bytes on the wire
#      (nftables counters on loopback, the system's own gossip ports, per process: what each
#      one sends and receives) over BENCH_IDLE_SECONDS, then RSS per process (/proc/PID/status);
#   3. failure: kill -9 of a member that is neither the bootstrap nor (smegd) the leader, timed
#      until every remaining member no longer lists it; then the next join trial, and so on
#      for BENCH_TRIALS trials of each;
#   4. smegd only: kill -9 of the leader, timed the same way (Serf has no leader).
# Every system runs with its default protocol settings (serf-enc adds only -encrypt). The timing
# is done by scripts/lib/bench.py, which polls every process of every system the same way, and
# which prints the table and the verdict: every bar at the largest N against each Serf variant.
# The exit status is 1 when any bar fails (after printing every verdict line).
#
# Usage (as root, after a release build): scripts/bench.sh   or   make bench
# Environment: BENCH_N ("20 100"), BENCH_TRIALS (3), BENCH_MASS_TRIALS (5), BENCH_IDLE_SECONDS
# (60), BENCH_SETTLE_SECONDS (5), BENCH_POLL_INTERVAL (0.1), BENCH_SYSTEMS ("smegd serf serf-enc"),
# BENCH_OUT (.build/bench: the JSON and the table), SMEG_BIN (directory of smegd and smegctl),
# BENCH_KEEP=1 (keep the processes' logs).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_N=${BENCH_N:-"20 100"}
BENCH_TRIALS=${BENCH_TRIALS:-3}
BENCH_MASS_TRIALS=${BENCH_MASS_TRIALS:-5}
BENCH_IDLE_SECONDS=${BENCH_IDLE_SECONDS:-60}
BENCH_SETTLE_SECONDS=${BENCH_SETTLE_SECONDS:-5}
BENCH_POLL_INTERVAL=${BENCH_POLL_INTERVAL:-0.1}
BENCH_SYSTEMS=${BENCH_SYSTEMS:-"smegd serf serf-enc"}
BENCH_OUT=${BENCH_OUT:-.build/bench}
SMEG_BIN=${SMEG_BIN:-$(swift build -c release --show-bin-path)}
JOIN_TIMEOUT=60
FAIL_TIMEOUT=120
SETTLE_TIMEOUT=300

for system in $BENCH_SYSTEMS; do
    case $system in
    smegd | serf | serf-enc) ;;
    *)
        echo "bench: unknown system '$system' in BENCH_SYSTEMS (smegd, serf, serf-enc)" >&2
        exit 2
        ;;
    esac
done
((BENCH_MASS_TRIALS >= 1)) || {
    echo "bench: BENCH_MASS_TRIALS must be at least 1: $BENCH_MASS_TRIALS" >&2
    exit 2
}
for tool in "$SMEG_BIN/smegd" "$SMEG_BIN/smegctl"; do
    [[ -x $tool ]] || {
        echo "bench: $tool missing; build a release first (make bench does)" >&2
        exit 1
    }
done
if [[ " $BENCH_SYSTEMS " == *" serf"* ]]; then
    command -v serf >/dev/null || {
        echo "bench: serf missing (SMEG_EXTRA_PACKAGES=serf scripts/deps.sh)" >&2
        exit 1
    }
fi

LAB_DIR=$(mktemp -d /tmp/smegbench.XXXXXX)
# shellcheck source=scripts/lib/mesh-lab.sh
source scripts/lib/mesh-lab.sh
POLL=(python3 scripts/lib/bench.py)
NFT_TABLE="smegbench$$"
have_nft=0
CGROUP=""
RAW="$LAB_DIR/raw.jsonl"
: >"$RAW"

cleanup() {
    trap - EXIT INT TERM
    lab_stop_all
    ((have_nft)) && nft delete table inet "$NFT_TABLE" 2>/dev/null
    # The per-member cgroups are empty once their processes are stopped (and reaped).
    if [[ -n $CGROUP && -d $CGROUP ]]; then
        find "$CGROUP" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
        rmdir "$CGROUP" 2>/dev/null || echo "bench: could not remove $CGROUP" >&2
    fi
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        echo "bench: logs kept in $LAB_DIR" >&2
    else
        rm -rf "$LAB_DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "$(date +%T) $*" >&2; }

# Bytes on the wire are counted by nftables on loopback: every datagram or TCP segment one of
# our processes sends crosses the output hook exactly once, headers included, and every one it
# receives crosses the input hook once. Per process, because a quiet mean can hide one busy
# process (a leader): each member runs in its own cgroup (v2), and the rules match the socket's
# cgroup (`socket cgroupv2`), on output the sender's, on input the receiver's. Ports alone
# would not do: Serf's push-pull dials from an ephemeral port. Without root (or nft) the bench
# still runs and reports no wire bytes; without a cgroup2 mount it reports totals only.
if [[ $(id -u) -eq 0 ]] && command -v nft >/dev/null &&
    nft add table inet "$NFT_TABLE" 2>/dev/null; then
    have_nft=1
    nft add chain inet "$NFT_TABLE" out '{ type filter hook output priority 0; policy accept; }'
    nft add chain inet "$NFT_TABLE" in '{ type filter hook input priority 0; policy accept; }'
    cgroup2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
    if [[ -n $cgroup2 ]] && mkdir "$cgroup2/smegbench$$" 2>/dev/null; then
        CGROUP="$cgroup2/smegbench$$"
        # nft resolves a cgroupv2 path under /sys/fs/cgroup: the mount's place relative to it
        # (empty on a pure cgroup v2 system, "unified" on a hybrid one).
        CGROUP_NFT=${cgroup2#/sys/fs/cgroup}
        CGROUP_NFT="${CGROUP_NFT#/}${CGROUP_NFT:+/}smegbench$$"
    else
        log "no cgroup2 mount: wire bytes will be counted in total only, not per process"
    fi
else
    log "no nftables (needs root): bytes on the wire will not be measured"
fi

# member_cgroup I: the cgroup of member index I (made once; every system's member I uses it,
# one system after the other), or nothing without per-process counting.
member_cgroup() {
    [[ -n $CGROUP ]] || return 0
    mkdir -p "$CGROUP/m$1"
    echo "$CGROUP/m$1"
}

# in_cgroup I CMD...: sets RUNNER to a command that moves itself into member I's cgroup and
# then execs CMD, so that the pid started is the member's own.
declare -a RUNNER=()
in_cgroup() {
    local dir
    dir=$(member_cgroup "$1")
    shift
    if [[ -z $dir ]]; then
        RUNNER=("$@")
        return
    fi
    # shellcheck disable=SC2016 # $0, $$ and $@ are the inner shell's
    RUNNER=(sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$dir" "$@")
}

# nft_count_ports LOW HIGH I...: counts from now on every TCP and UDP packet on loopback with
# a source or destination port in LOW..HIGH (the system's gossip ports; its control ports are
# elsewhere): in total, each packet once (the rules commented "total"), and per member I: what
# its sockets send ("sent I", output hook) and receive ("recv I", input hook). Packets of no
# member (none, on loopback) are left out of the per-member rules, not of the total.
nft_count_ports() {
    local range="$1-$2" i rules
    shift 2
    ((have_nft)) || return 0
    nft flush chain inet "$NFT_TABLE" out
    nft flush chain inet "$NFT_TABLE" in
    rules="$LAB_DIR/nft-rules"
    {
        echo "add rule inet $NFT_TABLE out oifname lo meta l4proto { tcp, udp } th dport $range counter comment \"total\""
        echo "add rule inet $NFT_TABLE out oifname lo meta l4proto { tcp, udp } th sport $range th dport != $range counter comment \"total\""
        if [[ -n $CGROUP ]]; then
            # Everything that is not gossip leaves each chain before the per-member rules, so
            # that what the rules cost (CPU charged to the sender) is paid by gossip only.
            for hook in out in; do
                local dev=oifname
                [[ $hook == in ]] && dev=iifname
                echo "add rule inet $NFT_TABLE $hook $dev != lo accept"
                echo "add rule inet $NFT_TABLE $hook meta l4proto != { tcp, udp } accept"
                echo "add rule inet $NFT_TABLE $hook th sport != $range th dport != $range accept"
                for i in "$@"; do
                    local what=sent
                    [[ $hook == in ]] && what=recv
                    echo "add rule inet $NFT_TABLE $hook socket cgroupv2 level 2 \"$CGROUP_NFT/m$i\" counter accept comment \"$what $i\""
                done
            done
        fi
    } >"$rules"
    nft -f "$rules"
}

# nft_stop: no counting outside the idle window (the rules cost a little CPU per packet).
nft_stop() {
    ((have_nft)) || return 0
    nft flush chain inet "$NFT_TABLE" out
    nft flush chain inet "$NFT_TABLE" in
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

# Per-run state: PID[i] of member i, ALIVE the indices of live members. KIND is the protocol
# the poller speaks (serf and serf-enc are both serf); MASS the mass-join trial in progress.
declare -A PID=()
declare -a ALIVE=()
SYSTEM=""
KIND=""
N=0
MASS=0
TOKEN=""
SERF_KEY=""

# name_of I: member I's name in this run; also its directory, which must be new for each run
# and each mass-join trial (a smegd state directory left from before would bring back its mesh).
name_of() { echo "$SYSTEM-n$N-m$MASS-$1"; }

# start_member I: starts member I of the current system, not yet joined (wait_member waits
# until it answers on its control interface), in member I's cgroup.
start_member() {
    local i=$1 name encrypt=()
    name=$(name_of "$i")
    if [[ $KIND == smegd ]]; then
        # lab_start_loopback's flags; metricsListen is on by default and each daemon needs its
        # own port.
        in_cgroup "$i"
        lab_smegd "$name" "${RUNNER[@]}" -- --control-plane-only --gossip-port $((SMEGD_GOSSIP + i)) \
            --set gossipBind=127.0.0.1 --set metricsListen=127.0.0.1:$((SMEGD_METRICS + i))
        PID[$i]=$LAB_LAST_PID
    else
        [[ $SYSTEM == serf-enc ]] && encrypt=(-encrypt="$SERF_KEY")
        in_cgroup "$i" serf agent -node="$name" -bind=127.0.0.1:$((SERF_BIND + i)) \
            -rpc-addr=127.0.0.1:$((SERF_RPC + i)) "${encrypt[@]}"
        lab_spawn "$LAB_DIR/$name.log" "${RUNNER[@]}"
        PID[$i]=$LAB_LAST_PID
    fi
}

wait_member() {
    local i=$1 name
    name=$(name_of "$i")
    if [[ $KIND == smegd ]]; then
        lab_wait_daemon "$name"
        return
    fi
    lab_wait_ready "serf agent $name" "${PID[$i]}" "$LAB_DIR/$name.log" \
        serf members -rpc-addr=127.0.0.1:$((SERF_RPC + i))
}

# join_command I: sets JOIN to the command that makes member I join through member 0, as a
# user types it. SOCKET_OF[I], when set, is member I's control socket: the mass join fills it
# before its clock starts, so that launching every join at once forks nothing but the joins
# themselves (two subshells per smegd joiner, starved by 99 busy daemons on two cores, were
# part of what the timed loop measured, and Serf's line needs only arithmetic).
declare -a JOIN=() SOCKET_OF=()
join_command() {
    local i=$1
    if [[ $KIND == smegd ]]; then
        JOIN=("$SMEG_BIN/smegctl" --socket "${SOCKET_OF[$i]:-$(lab_socket "$(name_of "$i")")}" join "$TOKEN")
    else
        JOIN=(serf join -rpc-addr=127.0.0.1:$((SERF_RPC + i)) 127.0.0.1:$((SERF_BIND)))
    fi
}

# targets_file I...: the poller's list of members to watch (index and control address).
targets_file() {
    local file="$LAB_DIR/targets" i
    : >"$file"
    for i in "$@"; do
        if [[ $KIND == smegd ]]; then
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
seconds_of() { lab_json field seconds None <<<"${1:-{\}}" 2>/dev/null || echo None; }

without() {
    local drop=$1 i
    shift
    for i in "$@"; do [[ $i == "$drop" ]] || echo "$i"; done
}

# check_encrypted: serf-enc's agents must really encrypt (Serf reports it in `serf info`).
check_encrypted() {
    [[ $SYSTEM == serf-enc ]] || return 0
    serf info -rpc-addr=127.0.0.1:$((SERF_RPC)) | grep -Eq '^[[:space:]]*encrypted = true' || {
        echo "bench: serf-enc: member 0 does not report encrypted = true" >&2
        return 1
    }
}

# mass_join T: trial T of the mass join: members 0..N-2 started fresh, then all joined through
# member 0 at once (like a fleet being rolled out), timed from the first join command until
# every one sees N-1 live members, polled every BENCH_POLL_INTERVAL. Returns 1 on a timeout
# (recorded, with seconds null).
mass_join() {
    local i joins=() result failed=0 began joined status=0
    MASS=$1
    ALIVE=()
    PID=()
    for i in $(seq 0 $((N - 2))); do start_member "$i"; done
    for i in $(seq 0 $((N - 2))); do wait_member "$i"; done
    check_encrypted
    if [[ $KIND == smegd ]]; then
        # The mass join uses the creation token, as a fleet rolled out with the printed
        # invitation would; it admits 100 nodes, too few for the join trials after it at
        # N = 100, so they use an invitation of their own with BENCH_TRIALS uses (a used-up
        # token would show up as a join that never completes).
        TOKEN=$(lab_ctl "$(name_of 0)" create --json | lab_json field token)
    fi
    for i in $(seq 1 $((N - 2))); do SOCKET_OF[i]=$(lab_socket "$(name_of "$i")"); done
    log "$SYSTEM N=$N mass join $MASS/$BENCH_MASS_TRIALS: $((N - 1)) members up, joining them"
    began=$(date +%s.%N)
    for i in $(seq 1 $((N - 2))); do
        join_command "$i"
        "${JOIN[@]}" >/dev/null 2>&1 &
        joins+=($!)
    done
    for i in "${joins[@]}"; do wait "$i" || failed=$((failed + 1)); done
    joined=$(date +%s.%N)
    SOCKET_OF=()
    ((failed == 0)) || log "$SYSTEM N=$N: $failed join commands failed"
    mapfile -t ALIVE < <(seq 0 $((N - 2)))
    result=$("${POLL[@]}" settle --system "$KIND" --targets "$(targets_file "${ALIVE[@]}")" \
        --count $((N - 1)) --timeout "$SETTLE_TIMEOUT" --interval "$BENCH_POLL_INTERVAL") || status=1
    record setup "$MASS" "$result" ",\"join_commands_seconds\":$(awk -v a="$began" -v b="$joined" 'BEGIN {printf "%.3f", b - a}'),\"failed_join_commands\":$failed"
    if ((status)); then
        # Which members saw how many is in the raw JSON (its "missing"); 100 of them are too
        # many for a log line.
        log "$SYSTEM N=$N mass join $MASS: TIMEOUT, not settled after $SETTLE_TIMEOUT s"
    else
        log "$SYSTEM N=$N mass join $MASS: $((N - 1)) members settled $(seconds_of "$result") s after the join commands returned"
    fi
    if [[ $KIND == smegd ]]; then
        TOKEN=$(lab_ctl "$(name_of 0)" invite new --json --uses "$BENCH_TRIALS" \
            "$(lab_mesh "$(name_of 0)")" | lab_json field token)
    fi
    return "$status"
}

# setup: BENCH_MASS_TRIALS mass joins, each from fresh processes (the previous trial's are
# stopped first); the last one's mesh is the one the other measurements use. If that one timed
# out, it gets one more SETTLE_TIMEOUT, untimed, to settle before they start.
setup() {
    local t
    for t in $(seq 1 "$BENCH_MASS_TRIALS"); do
        ((t == 1)) || lab_stop_all
        mass_join "$t" && continue
        ((t == BENCH_MASS_TRIALS)) || continue
        "${POLL[@]}" settle --system "$KIND" --targets "$(targets_file "${ALIVE[@]}")" \
            --count $((N - 1)) --timeout "$SETTLE_TIMEOUT" --interval 0.5 >/dev/null || {
            echo "bench: $SYSTEM N=$N did not settle after its last mass join, even given $((2 * SETTLE_TIMEOUT)) s" >&2
            return 1
        }
    done
}

# settled TIMEOUT: every live member sees all the live members (untimed; polled every 0.5 s).
settled() {
    "${POLL[@]}" settle --system "$KIND" --targets "$(targets_file "${ALIVE[@]}")" \
        --count "${#ALIVE[@]}" --timeout "$1" --interval 0.5 >/dev/null
}

# join_trial K I: member I starts, then joins; timed until every live member lists it. A join
# that times out is recorded as such; if the newcomer is still not seen by all after another
# JOIN_TIMEOUT it is stopped, so that the next trials start from a mesh that agrees.
join_trial() {
    local k=$1 i=$2 result status=0
    start_member "$i"
    wait_member "$i"
    sleep 1 # let the newcomer finish starting up
    join_command "$i"
    result=$("${POLL[@]}" join --system "$KIND" --targets "$(targets_file "${ALIVE[@]}")" \
        --name "$(name_of "$i")" --count $((${#ALIVE[@]} + 1)) --interval "$BENCH_POLL_INTERVAL" \
        --timeout "$JOIN_TIMEOUT" -- "${JOIN[@]}") || status=1
    record join "$k" "$result" ",\"member\":$i"
    ALIVE+=("$i")
    if ((status)); then
        log "$SYSTEM N=$N join $k: TIMEOUT, member $i not seen by all $((${#ALIVE[@]} - 1)) others within $JOIN_TIMEOUT s"
        settled "$JOIN_TIMEOUT" && return
        log "$SYSTEM N=$N join $k: member $i still not seen by all; stopping it"
        mapfile -t ALIVE < <(without "$i" "${ALIVE[@]}")
        lab_stop "${PID[$i]}"
        return
    fi
    log "$SYSTEM N=$N join $k: seen by all $((${#ALIVE[@]} - 1)) others after $(seconds_of "$result") s"
}

# fail_trial KIND K I: kill -9 of member I; timed until no live member lists it. smegd's
# condition is a member count, so the mesh must agree before the kill: if it does not within
# SETTLE_TIMEOUT, the trial is not run and is recorded as a timeout (a time from a mesh that
# never agreed would be meaningless, and shorter).
fail_trial() {
    local kind=$1 k=$2 i=$3 result
    if ! settled "$SETTLE_TIMEOUT"; then
        record "$kind" "$k" '{"seconds":null,"not_settled":true}' ",\"member\":$i"
        log "$SYSTEM N=$N $kind $k: TIMEOUT, the mesh did not agree within $SETTLE_TIMEOUT s before the kill"
        return
    fi
    mapfile -t ALIVE < <(without "$i" "${ALIVE[@]}")
    result=$("${POLL[@]}" fail --system "$KIND" --targets "$(targets_file "${ALIVE[@]}")" \
        --name "$(name_of "$i")" --count "${#ALIVE[@]}" --pid "${PID[$i]}" \
        --interval "$BENCH_POLL_INTERVAL" --timeout "$FAIL_TIMEOUT") || true
    wait "${PID[$i]}" 2>/dev/null || true
    lab_forget "${PID[$i]}"
    record "$kind" "$k" "$result" ",\"member\":$i"
    log "$SYSTEM N=$N $kind $k: member $i removed by all ${#ALIVE[@]} after $(seconds_of "$result") s"
}

# smegd_leader: the index of the live member that leads (asked of every live member).
smegd_leader() {
    "${POLL[@]}" leader --targets "$(targets_file "${ALIVE[@]}")"
}

# victim K: a live member for failure trial K: never member 0 (everyone's bootstrap) nor the
# smegd leader (measured on its own), otherwise the K-th oldest, so every system loses the same
# members as far as the leader allows.
victim() {
    local k=$1 leader="" i seen=0
    [[ $KIND == smegd ]] && leader=$(smegd_leader)
    for i in "${ALIVE[@]}"; do
        [[ $i == 0 || $i == "$leader" ]] && continue
        seen=$((seen + 1))
        ((seen == k)) && echo "$i" && return
    done
    echo "bench: no member left to kill for trial $k" >&2
    return 1
}

# idle: CPU and wire bytes (in total and per member) over the idle window, then RSS, of every
# live member.
idle() {
    local pids=() i result low table="" members
    for i in "${ALIVE[@]}"; do pids+=("${PID[$i]}"); done
    if [[ $KIND == smegd ]]; then
        low=$SMEGD_GOSSIP
    else
        low=$SERF_BIND
    fi
    nft_count_ports "$low" $((low + STRIDE - 1)) "${ALIVE[@]}"
    ((have_nft)) && table=$NFT_TABLE
    members=$(IFS=,; echo "${ALIVE[*]}")
    log "$SYSTEM N=$N: idle for ${BENCH_IDLE_SECONDS}s"
    result=$("${POLL[@]}" idle --seconds "$BENCH_IDLE_SECONDS" \
        --table "$table" --members "$members" "${pids[@]}")
    nft_stop
    record idle 0 "$result"
}

run() {
    SYSTEM=$1
    N=$2
    local k next victim_index
    KIND=$SYSTEM
    if [[ $SYSTEM == serf-enc ]]; then
        KIND=serf
        # One key for every agent of this run: 32 random bytes (AES-256-GCM), base64.
        SERF_KEY=$(head -c 32 /dev/urandom | base64)
    fi
    log "$SYSTEM N=$N: $BENCH_MASS_TRIALS mass join(s) of $((N - 1)) members"
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
    if [[ $KIND == smegd ]]; then
        sleep "$BENCH_SETTLE_SECONDS"
        fail_trial leader 1 "$(smegd_leader)"
    fi
    log "$SYSTEM N=$N: done, stopping"
    lab_stop_all
    SERF_KEY=""
}

started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for n in $BENCH_N; do
    for system in $BENCH_SYSTEMS; do run "$system" "$n"; done
done
wall=$(($(date +%s) - started))

mkdir -p "$BENCH_OUT"
stamp=$(date +%Y%m%d-%H%M%S)
serf_version=$(serf version 2>/dev/null | head -n 1 || true)
python3 - "$LAB_DIR/meta.json" <<EOF2
import json, os, subprocess, sys
def out(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
json.dump({
    "command": "BENCH_N=\"$BENCH_N\" BENCH_TRIALS=$BENCH_TRIALS BENCH_MASS_TRIALS=$BENCH_MASS_TRIALS BENCH_IDLE_SECONDS=$BENCH_IDLE_SECONDS BENCH_SYSTEMS=\"$BENCH_SYSTEMS\" scripts/bench.sh",
    "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
    "wall_seconds": $wall,
    "cpus": os.cpu_count(),
    "load_average_before": "$load_before",
    "load_average_after": open("/proc/loadavg").read().split()[:3],
    "kernel": os.uname().release,
    "serf_version": "$serf_version",
    "smegd_version": out("$SMEG_BIN/smegd", "--version"),
    "systems": "$BENCH_SYSTEMS".split(),
    "trials": $BENCH_TRIALS, "mass_trials": $BENCH_MASS_TRIALS, "idle_seconds": $BENCH_IDLE_SECONDS,
    "settle_seconds": $BENCH_SETTLE_SECONDS, "poll_interval": $BENCH_POLL_INTERVAL,
    "timeouts": {"join": $JOIN_TIMEOUT, "fail": $FAIL_TIMEOUT, "mass_join": $SETTLE_TIMEOUT},
    "per_process_bytes": bool("$CGROUP"),
}, open(sys.argv[1], "w"))
EOF2
bar_n=100
[[ " $BENCH_N " == *" 100 "* ]] || bar_n=$max_n
echo
verdict=0
"${POLL[@]}" report --raw "$RAW" --meta "$LAB_DIR/meta.json" --bar-n "$bar_n" \
    --json "$BENCH_OUT/bench-$stamp.json" --text "$BENCH_OUT/bench-$stamp.txt" || verdict=$?
echo "bench: $wall s wall; raw numbers in $BENCH_OUT/bench-$stamp.json"
exit "$verdict"
