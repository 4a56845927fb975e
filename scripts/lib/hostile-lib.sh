# shellcheck shell=bash
# Helpers of scripts/hostile-test.sh: a fresh loopback mesh per case (honest h1..h4 and the
# attacker's client daemon m), the attack runner, and the checks every case shares. Each check
# adds a reason to PROBLEMS instead of exiting, so that every case runs and reports.
# Needs SMEG_BIN, ROOT_DIR, PORT_BASE and mesh-lab.sh; each mesh's daemons are under its own
# LAB_DIR in ROOT_DIR.

declare -A PID=() PORT=() METRICS=() ID=() SHORT=() KILLED=() LOG_OFFSET=() METRICS_BEFORE=()
declare -a PROBLEMS=()
HONEST=(h1 h2 h3 h4)
MESH_INDEX=0
PASSED=0
FAILED=0
CASE=""
CASE_STARTED=0
CASE_DIR=""
TOKEN=""
MESH=""
ATTACK_PID=""

view() { lab_ctl "$1" get "$MESH" --json 2>/dev/null; }

problem() { PROBLEMS+=("$*"); }

alive() { [[ -n ${PID[$1]:-} ]] && kill -0 "${PID[$1]}" 2>/dev/null; }

# Honest daemons that are running and were not killed on purpose.
live_honest() {
    local name
    for name in "${HONEST[@]}"; do
        [[ -z ${KILLED[$name]:-} ]] && alive "$name" && echo "$name"
    done
}

identity_file() { echo "$LAB_DIR/$1/state/meshes/$MESH/identity.key"; }
mesh_file() { echo "$LAB_DIR/$1/state/meshes/$MESH/mesh.json"; }
state_file() { echo "$LAB_DIR/$1/state/meshes/$MESH/$2"; }

scrape() { curl -s --max-time 2 "http://127.0.0.1:${METRICS[$1]}/metrics" | lab_json metrics; }

# start_node NAME INDEX: a daemon on this mesh's ports (gossip PORT_BASE + 20 * mesh + INDEX,
# metrics 10 above), waited for.
start_node() {
    local name=$1 index=$2
    PORT[$name]=$((PORT_BASE + 20 * MESH_INDEX + index))
    METRICS[$name]=$((PORT[$name] + 10))
    restart_node "$name"
}

# restart_node NAME: starts NAME again on its ports and state, stopping it first if it runs.
restart_node() {
    local name=$1
    alive "$name" && lab_stop "${PID[$name]}"
    # The log holds the current run only: the identity-key case reads all of it.
    mkdir -p "$LAB_DIR/$name" && : >"$LAB_DIR/$name/smegd.log"
    lab_start_loopback "$name" "${PORT[$name]}" --set "metricsListen=127.0.0.1:${METRICS[$name]}"
    PID[$name]=$LAB_LAST_PID
    unset "KILLED[$name]"
    lab_wait_daemon "$name"
}

# Every live honest daemon sees every live honest member (and m, when it runs) and the same leader.
converged() {
    local name ids=() leaders=() want
    for name in $(live_honest); do ids+=("${ID[$name]}"); done
    want=${#ids[@]}
    if alive m; then
        ids+=("${ID[m]}")
        want=$((want + 1))
    fi
    for name in $(live_honest); do
        local v
        v=$(view "$name")
        [[ $(lab_json count-present "${ids[@]}" <<<"$v") == "$want" ]] || return 1
        leaders+=("$(lab_json leader <<<"$v")")
    done
    [[ -n ${leaders[0]:-} ]] && (($(printf '%s\n' "${leaders[@]}" | sort -u | wc -l) == 1))
}

wait_converged() {
    local deadline=$((SECONDS + $1))
    while ((SECONDS < deadline)); do
        converged && return 0
        sleep 0.2
    done
    return 1
}

# mesh_up: a fresh mesh in its own directory: h1 creates it, h2..h4 join, and m joins as a
# client (clients never lead, so the leader is always honest).
mesh_up() {
    MESH_INDEX=$((MESH_INDEX + 1))
    LAB_DIR=$ROOT_DIR/mesh-$MESH_INDEX
    mkdir -p "$LAB_DIR"
    KILLED=()
    local index=1 name
    for name in "${HONEST[@]}" m; do
        start_node "$name" "$index" || return 1
        index=$((index + 1))
    done
    lab_ctl h1 create --alias h1 --json >"$LAB_DIR/create.json" || return 1
    TOKEN=$(lab_json field token <"$LAB_DIR/create.json")
    MESH=$(lab_json field mesh.meshId <"$LAB_DIR/create.json")
    for name in h2 h3 h4; do lab_ctl "$name" join --alias "$name" "$TOKEN" >/dev/null || return 1; done
    lab_ctl m join --alias mallory --role client "$TOKEN" >/dev/null || return 1
    for name in "${HONEST[@]}" m; do
        ID[$name]=$(view "$name" | lab_json self-id)
        SHORT[$name]=$(view "$name" | lab_json self-short)
    done
    wait_converged 20 || {
        echo "mesh $MESH_INDEX did not converge" >&2
        return 1
    }
}

mesh_down() {
    lab_stop_all
    PID=()
}

case_begin() {
    CASE=$1
    CASE_STARTED=$SECONDS
    PROBLEMS=()
    CASE_DIR=$LAB_DIR/case-$CASE
    mkdir -p "$CASE_DIR"
    mark_logs
    mark_counters
    echo "--- $CASE (mesh $MESH_INDEX)"
}

# mark_counters: check_counted compares with the counters as they are now (again after a
# restart, which starts them from zero).
mark_counters() {
    local name
    for name in "${HONEST[@]}"; do METRICS_BEFORE[$name]=$(scrape "$name"); done
}

# mark_logs: the false-prune check reads the daemons' logs from here on.
mark_logs() {
    local name
    for name in "${HONEST[@]}"; do LOG_OFFSET[$name]=$(stat -c %s "$LAB_DIR/$name/smegd.log" 2>/dev/null || echo 0); done
}

case_end() {
    if ((${#PROBLEMS[@]} == 0)); then
        echo "PASS $CASE ($((SECONDS - CASE_STARTED)) s)"
        PASSED=$((PASSED + 1))
    else
        local joined
        # Each reason once, in the order first seen (sampling loops find the same one repeatedly).
        joined=$(printf '%s\n' "${PROBLEMS[@]}" | awk '!seen[$0]++ { printf "%s%s", (n++ ? "; " : ""), $0 }')
        echo "FAIL $CASE ($((SECONDS - CASE_STARTED)) s): $joined"
        FAILED=$((FAILED + 1))
    fi
}

# attack TARGET SUBCOMMAND [ARGS...]: smeg-attack against TARGET's gossip port; its JSON lines go
# to CASE_DIR/attack.out and, shortened, to the terminal.
attack() {
    local target=$1 sub=$2
    shift 2
    if ! "$SMEG_BIN/smeg-attack" "$sub" --mesh-file "$(mesh_file m)" --to "127.0.0.1:${PORT[$target]}" \
        --to-key "${ID[$target]}" "$@" >"$CASE_DIR/attack.out" 2>"$CASE_DIR/attack.err"; then
        problem "smeg-attack $sub failed: $(tail -n 1 "$CASE_DIR/attack.err")"
    fi
    cut -c 1-220 "$CASE_DIR/attack.out" | sed 's/^/    sent: /'
}

attack_bg() {
    local target=$1 sub=$2
    shift 2
    "$SMEG_BIN/smeg-attack" "$sub" --mesh-file "$(mesh_file m)" --to "127.0.0.1:${PORT[$target]}" \
        --to-key "${ID[$target]}" "$@" >"$CASE_DIR/attack.out" 2>"$CASE_DIR/attack.err" &
    # shellcheck disable=SC2034 # the case waits for it
    ATTACK_PID=$!
}

leader_name() {
    local short name
    short=$(view h1 | lab_json leader)
    for name in "${HONEST[@]}" m; do [[ ${SHORT[$name]} == "$short" ]] && echo "$name" && return; done
}

kill_member() {
    kill -KILL "${PID[$1]}" 2>/dev/null
    wait "${PID[$1]}" 2>/dev/null
    KILLED[$1]=1
}

# check_pruned NAME BOUND: NAME (killed) is gone from every live honest view within BOUND s.
check_pruned() {
    local victim=$1 bound=$2 from=$SECONDS name gone
    while ((SECONDS - from <= bound)); do
        gone=1
        for name in $(live_honest); do
            [[ $(view "$name" | lab_json count-present "${ID[$victim]}") == 0 ]] || gone=0
        done
        if ((gone)); then
            echo "    killed $victim pruned everywhere after $((SECONDS - from)) s"
            return
        fi
        sleep 0.3
    done
    problem "killed $victim still a member after $bound s"
}

# check_growth NAME RSS_BEFORE SECONDS: samples NAME's RSS and members.json for SECONDS; the RSS
# must stay below twice RSS_BEFORE and members.json below 256 KiB.
check_growth() {
    local name=$1 before=$2 deadline=$((SECONDS + $3)) rss most=0 size biggest=0
    while ((SECONDS < deadline)) && alive "$name"; do
        rss=$(lab_rss_kib "${PID[$name]}" 2>/dev/null || echo 0)
        ((rss > most)) && most=$rss
        size=$(stat -c %s "$(state_file "$name" members.json)" 2>/dev/null || echo 0)
        ((size > biggest)) && biggest=$size
        sleep 0.5
    done
    echo "    $name RSS $before KiB before, at most $most KiB after; members.json at most $biggest bytes"
    ((most < 2 * before)) || problem "$name RSS grew from $before to $most KiB"
    ((biggest <= 262144)) || problem "$name members.json grew to $biggest bytes"
}

# check_mesh: the shared assertions, after giving the mesh up to 5 s to settle.
check_mesh() {
    local name deadline=$((SECONDS + 5)) found=()
    while :; do
        found=()
        local live=() ids=() leaders=() v count
        mapfile -t live < <(live_honest)
        for name in "${live[@]}"; do ids+=("${ID[$name]}"); done
        for name in "${live[@]}"; do
            if ! v=$(view "$name"); then
                found+=("$name: smegctl get failed ($(lab_ctl "$name" get "$MESH" --json 2>&1 >/dev/null | cut -c 1-100))")
                continue
            fi
            count=$(lab_json count-present "${ids[@]}" <<<"$v")
            [[ $count == "${#live[@]}" ]] || found+=("$name sees $count of ${#live[@]} live honest members")
            leaders+=("$(lab_json leader <<<"$v")")
        done
        local distinct
        distinct=$(printf '%s\n' "${leaders[@]}" | sort -u | grep -c . || true)
        ((${#live[@]} == 0 || distinct == 1)) || found+=("leaders seen: $(printf '%s ' "${leaders[@]}")")
        ((${#found[@]} == 0 || SECONDS >= deadline)) && break
        sleep 0.5
    done
    PROBLEMS+=("${found[@]}")
    # After the settling time, so that a daemon that crashes a moment after the attack counts.
    for name in "${HONEST[@]}"; do
        [[ -n ${KILLED[$name]:-} ]] && continue
        alive "$name" || problem "$name is not running ($(crash_reason "$name"))"
    done
    for name in "${HONEST[@]}"; do
        [[ -f $LAB_DIR/$name/smegd.log ]] || continue
        local fresh
        fresh=$(tail -c +$((LOG_OFFSET[$name] + 1)) "$LAB_DIR/$name/smegd.log")
        local other
        for other in $(live_honest); do
            # "member pruned (missed heartbeats): ALIAS (SHORT)" or "...: SHORT"; anchored, because an
            # attacker's alias may be another member's short id.
            grep -qE "member pruned \(missed heartbeats\): (.* \()?${SHORT[$other]}\)?\$" <<<"$fresh" &&
                problem "$name pruned the live $other"
        done
        if [[ -z ${KILLED[$name]:-} ]] && grep -q "this node was pruned" <<<"$fresh"; then
            problem "live $name was pruned"
        fi
    done
}

# crash_reason NAME: the runtime's own words from NAME's log (the failing check and its file).
crash_reason() {
    local log=$LAB_DIR/$1/smegd.log reason
    reason=$(grep -m 1 -oE 'Swift runtime failure: .*|Fatal error: .*' "$log" | sed -E 's| at /[^ ]*/| at |')
    [[ -n $reason ]] || reason=$(grep -m 1 -E 'crashed|Fatal' "$log")
    echo "${reason:-exited}" | cut -c 1-160
}

# check_counted [--frames] [--ignore KIND/REASON]... [--only KIND/REASON]... NAME...: the attack shows in the targets'
# rejection counters (see metrics-delta in meshjson.py for what is left out, and why).
check_counted() {
    local options=() name total=0 lines
    while [[ ${1:-} == --* ]]; do
        if [[ $1 == --ignore || $1 == --only ]]; then
            options+=("$1" "$2")
            shift 2
        else
            options+=("$1")
            shift
        fi
    done
    for name in "$@"; do
        if ! alive "$name"; then
            echo "    rejections counted on $name: unknown, it is not running"
            continue
        fi
        mapfile -t lines < <(lab_json metrics-delta "${METRICS_BEFORE[$name]}" "$(scrape "$name")" "${options[@]}")
        total=$((total + ${lines[0]:-0}))
        echo "    rejections counted on $name: ${lines[1]:-none}"
    done
    ((total > 0)) || problem "not counted: no rejection on $* (${options[*]:-refused stale records aside})"
}
