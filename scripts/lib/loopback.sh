# shellcheck shell=bash
# Helpers for running many processes on loopback in one script (sourced by measure-daemons.sh
# and bench.sh): control-plane-only smegd daemons, free port ranges, /proc readings, and
# cleanup of every process started through them. The caller sets SMEG_BIN (the directory
# holding smegd and smegctl) and LB_DIR (a scratch directory the caller removes).

declare -a LB_PIDS=()
LB_LAST_PID=""

# lb_start_bg LOGFILE CMD...: starts CMD in the background, remembered for lb_stop_all.
lb_start_bg() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    LB_LAST_PID=$!
    LB_PIDS+=("$LB_LAST_PID")
}

# lb_smegd_start NAME GOSSIP_PORT [smegd flags...]: a control-plane-only smegd on 127.0.0.1 with
# its state, socket and log under LB_DIR/NAME. Its pid is in LB_LAST_PID. LB_SMEGD, when set,
# is the program run instead of SMEG_BIN/smegd (a wrapper, e.g. under a profiler).
lb_smegd_start() {
    local name=$1 port=$2
    shift 2
    mkdir -p "$LB_DIR/$name"
    lb_start_bg "$LB_DIR/$name/log" "${LB_SMEGD:-$SMEG_BIN/smegd}" --control-plane-only \
        --state-dir "$LB_DIR/$name/state" --socket "$LB_DIR/$name/s.sock" \
        --gossip-port "$port" --set gossipBind=127.0.0.1 "$@"
}

lb_smegd_socket() { echo "$LB_DIR/$1/s.sock"; }

lb_ctl() {
    local name=$1
    shift
    "$SMEG_BIN/smegctl" --socket "$LB_DIR/$name/s.sock" "$@"
}

# lb_wait_ready WHAT PID LOG CMD...: retries CMD every 50 ms (LB_READY_SECONDS, default 10, at
# most) until it succeeds; fails early, with the tail of LOG, when PID exits.
lb_wait_ready() {
    local what=$1 pid=$2 log=$3
    shift 3
    for _ in $(seq $((${LB_READY_SECONDS:-10} * 20))); do
        "$@" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "$what did not start; its log:" >&2
    tail -n 20 "$log" >&2 || true
    return 1
}

# lb_smegd_wait NAME PID: until the daemon answers on its control socket.
lb_smegd_wait() {
    lb_wait_ready "smegd $1" "$2" "$LB_DIR/$1/log" lb_ctl "$1" status
}

lb_rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# lb_free_range COUNT: prints a random base port B such that B..B+COUNT-1 are all free and lie
# below the kernel's ephemeral range, so no outgoing connection can take one of them later.
lb_free_range() {
    local count=$1 low base port busy
    low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range)
    ((low - count > 10000)) || low=65535
    for _ in $(seq 50); do
        base=$((10000 + RANDOM % (low - count - 10000)))
        busy=$(ss -Htuln | awk '{n = split($5, a, ":"); print a[n]}' |
            awk -v lo="$base" -v hi="$((base + count))" '$1 >= lo && $1 < hi' | head -n 1)
        if [[ -z $busy ]]; then
            echo "$base"
            return 0
        fi
    done
    echo "no free range of $count ports found" >&2
    return 1
}

# lb_stop PID...: SIGTERM, a moment's grace, then SIGKILL; reaps them.
lb_stop() {
    local pid alive
    (($# > 0)) || return 0
    kill -TERM "$@" 2>/dev/null || true
    for _ in $(seq 20); do
        alive=0
        for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1 && break; done
        ((alive)) || break
        sleep 0.1
    done
    kill -KILL "$@" 2>/dev/null || true
    for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

# lb_stop_all: every process started through lb_start_bg.
lb_stop_all() {
    lb_stop "${LB_PIDS[@]}"
    LB_PIDS=()
}
