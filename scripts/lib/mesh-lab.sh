# Helpers for running real smegd nodes in network namespaces on one machine (sourced).
#
# Topology: a "switch" namespace holds a bridge; every node namespace has one veth into it with
# an address in 10.77.0.0/24 (IPv4 underlay) and fd77::/64 (IPv6 underlay). Only namespaces this
# script creates are touched.
#
# Each smegd runs in its node's network namespace and in a private mount namespace where
# /run/wireguard is bind-mounted from the node's own directory: userspace WireGuard keeps its
# UAPI socket there, and every node's interface for a mesh has the same name. The directory
# outlives a smegd process, so a restarted daemon finds the wireguard-go that kept running.

LAB_PREFIX=${LAB_PREFIX:-smeglab$$}
LAB_DIR=${LAB_DIR:-$(mktemp -d)}
LAB_SWITCH="$LAB_PREFIX-sw"
declare -a LAB_NODES=()
declare -a LAB_ROUTERS=()
declare -A LAB_PID=()

lab_log() { echo "$(date +%T) $*"; }

# lab_begin SCRIPT [SWIFT BUILD FLAGS...]: the common start of every namespace script. Fails
# unless root and unless smegd and smegctl are built (SMEG_BIN overrides where), sets SMEGD and
# SMEGCTL, and arranges that the lab is removed on exit, with each node's last log lines when
# the script failed.
lab_begin() {
    local script=$1
    shift
    [[ $(id -u) -eq 0 ]] || { echo "$script: FAIL: needs root (network namespaces): run it as root" >&2; exit 1; }
    local bin=${SMEG_BIN:-$(swift build "$@" --show-bin-path)}
    SMEGD="$bin/smegd"
    SMEGCTL="$bin/smegctl"
    [[ -x $SMEGD && -x $SMEGCTL ]] || { echo "$script: no smegd and smegctl in $bin: build them first" >&2; exit 1; }
    trap 'lab_end $?' EXIT
}

# lab_end STATUS: prints the nodes' last log lines after a failure, then removes the lab.
lab_end() {
    local name
    if (($1)); then
        for name in "${LAB_NODES[@]}"; do
            echo "--- $name log"
            grep -v '[│┌└]' "$LAB_DIR/$name/smegd.log" 2>/dev/null | tail -n 15 || true
        done
    fi
    lab_cleanup
}

lab_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

lab_setup_switch() {
    ip netns add "$LAB_SWITCH"
    ip -n "$LAB_SWITCH" link add br0 type bridge
    ip -n "$LAB_SWITCH" link set br0 up
    ip -n "$LAB_SWITCH" link set lo up
}

# lab_add_node NAME INDEX: a namespace NAME with 10.77.0.INDEX and fd77::INDEX on the switch.
lab_add_node() {
    local name=$1 index=$2 ns="$LAB_PREFIX-$1"
    ip netns add "$ns"
    ip link add "v$index-$$" type veth peer name "s$index-$$"
    ip link set "v$index-$$" netns "$ns"
    ip link set "s$index-$$" netns "$LAB_SWITCH"
    ip -n "$LAB_SWITCH" link set "s$index-$$" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "v$index-$$" name eth0
    ip -n "$ns" addr add "10.77.0.$index/24" dev eth0
    ip -n "$ns" addr add "fd77::$index/64" dev eth0 nodad
    ip -n "$ns" link set eth0 up
    mkdir -p "$LAB_DIR/$name/wg" "$LAB_DIR/$name/state"
    LAB_NODES+=("$name")
}

# lab_start NAME [smegd flags...]: starts smegd in the node (logs to $LAB_DIR/NAME/smegd.log).
lab_start() {
    local name=$1 ns="$LAB_PREFIX-$1"
    shift
    ip netns exec "$ns" unshare --mount --propagation private sh -c '
        mount --bind "$0/wg" /run/wireguard 2>/dev/null || { mkdir -p /run/wireguard && mount --bind "$0/wg" /run/wireguard; }
        exec "$@"' "$LAB_DIR/$name" \
        "$SMEGD" --state-dir "$LAB_DIR/$name/state" --socket "$LAB_DIR/$name/smegd.sock" \
        --set metricsListen=off --set wireguardBackend=userspace ${LAB_SMEGD_FLAGS:-} "$@" >>"$LAB_DIR/$name/smegd.log" 2>&1 &
    LAB_PID[$name]=$!
    for _ in $(seq 100); do
        [[ -S "$LAB_DIR/$name/smegd.sock" ]] && "$SMEGCTL" --socket "$LAB_DIR/$name/smegd.sock" status >/dev/null 2>&1 && return 0
        kill -0 "${LAB_PID[$name]}" 2>/dev/null || { tail -n 20 "$LAB_DIR/$name/smegd.log" >&2; lab_fail "smegd on $name exited"; }
        sleep 0.1
    done
    lab_fail "smegd on $name did not open its control socket"
}

lab_ctl() {
    local name=$1
    shift
    "$SMEGCTL" --socket "$LAB_DIR/$name/smegd.sock" "$@"
}

lab_kill9() {
    kill -9 "${LAB_PID[$1]}" 2>/dev/null || true
    wait "${LAB_PID[$1]}" 2>/dev/null || true
}

# lab_all_see MESH COUNT NAME...: every named node's daemon sees COUNT members in MESH.
lab_all_see() {
    local mesh=$1 count=$2 name
    shift 2
    for name in "$@"; do [[ $(lab_members "$name" "$mesh") == "$count" ]] || return 1; done
}

# lab_pings NAME...: every listed node pings every other one at ${addr[NAME]}, an associative
# array of overlay addresses the calling script fills in.
lab_pings() {
    local from to
    for from in "$@"; do
        for to in "$@"; do
            [[ $from == "$to" ]] || lab_ping "$from" "${addr[$to]}" >/dev/null || return 1
        done
    done
}

# lab_kill_node NAME: the machine dies: kill -9 of every process in its namespace (smegd and
# wireguard-go), so its WireGuard stops answering too, not just its daemon.
lab_kill_node() {
    local ns="$LAB_PREFIX-$1" pid
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    wait "${LAB_PID[$1]}" 2>/dev/null || true
}

# lab_exec NAME CMD...: runs a command in the node's network namespace and WireGuard mount.
# lab_term NAME: SIGTERM to the node's smegd, as systemd sends on stop; fails unless the
# daemon exits (a graceful shutdown) within 15 s.
lab_term() {
    local pid=${LAB_PID[$1]}
    kill -TERM "$pid" 2>/dev/null || lab_fail "smegd on $1 was not running"
    for _ in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || {
            wait "$pid" 2>/dev/null || true
            return 0
        }
        sleep 0.1
    done
    lab_fail "smegd on $1 did not exit within 15 s of SIGTERM"
}

# lab_interface NAME MESH: the name of the node's WireGuard interface for the mesh.
lab_interface() {
    lab_ctl "$1" list --json | python3 -c '
import json, sys
for m in json.load(sys.stdin)["meshes"]:
    if m["meshId"] == sys.argv[1]:
        print(m["interface"])' "$2"
}

# lab_has_link NAME LINK: true while the link exists in the node's namespace.
lab_has_link() {
    ip -n "$LAB_PREFIX-$1" link show dev "$2" >/dev/null 2>&1
}

lab_exec() {
    local name=$1 ns="$LAB_PREFIX-$1"
    shift
    ip netns exec "$ns" unshare --mount --propagation private sh -c 'mount --bind "$0/wg" /run/wireguard && exec "$@"' \
        "$LAB_DIR/$name" "$@"
}

# lab_address NAME MESH: the node's overlay address in the mesh, from its own daemon.
lab_address() {
    lab_ctl "$1" list --json | python3 -c '
import json, sys
mesh = sys.argv[1]
for m in json.load(sys.stdin)["meshes"]:
    if m["meshId"] == mesh:
        print(m["address"])' "$2"
}

# lab_members NAME MESH: the number of members NAME's daemon sees in the mesh.
lab_members() {
    lab_ctl "$1" get "$2" --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["members"]))' 2>/dev/null || echo 0
}

# lab_wait SECONDS DESCRIPTION CMD...: retries CMD every 0.2 s until it succeeds.
lab_wait() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || lab_fail "timed out after ${seconds}s waiting for: $what"
        sleep 0.2
    done
}

# lab_ping NAME ADDRESS [TIMEOUT]: one ping -6, waiting TIMEOUT seconds (default 1) for the
# answer; timings use a short timeout so a lost first ping does not count as a second.
lab_ping() {
    ip netns exec "$LAB_PREFIX-$1" ping -6 -c 1 -W "${3:-1}" "$2"
}

lab_cleanup() {
    # LAB_HOLD=SECONDS keeps a failed lab up for inspection (ip netns exec LAB_PREFIX-NAME ...).
    if [[ -n ${LAB_HOLD:-} ]]; then
        echo "lab: holding $LAB_PREFIX (state in $LAB_DIR) for ${LAB_HOLD}s" >&2
        sleep "$LAB_HOLD" || true
    fi
    for name in "${!LAB_PID[@]}"; do kill -TERM "${LAB_PID[$name]}" 2>/dev/null || true; done
    sleep 0.3
    for name in "${!LAB_PID[@]}"; do kill -9 "${LAB_PID[$name]}" 2>/dev/null || true; done
    for name in "${LAB_NODES[@]}"; do
        local ns="$LAB_PREFIX-$name"
        # wireguard-go exits when its TUN link goes; a namespace with a live process outlives `ip netns del`.
        for link in $(ip -n "$ns" -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^smeg' || true); do
            ip -n "$ns" link del "$link" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true
    done
    for router in "${LAB_ROUTERS[@]}"; do ip netns del "$router" 2>/dev/null || true; done
    ip netns del "$LAB_SWITCH" 2>/dev/null || true
    if [[ "${LAB_KEEP:-0}" != 1 ]]; then rm -rf "$LAB_DIR"; fi
}

# lab_add_nat_client NAME INDEX: a node behind its own NAT router. The router namespace
# NAME-nat has 10.77.0.(100+INDEX) on the switch and masquerades 192.168.INDEX.0/24, where
# the node has 192.168.INDEX.2 and a default route through the router. IPv4 only, as behind
# a typical home router.
lab_add_nat_client() {
    local name=$1 index=$2 ns="$LAB_PREFIX-$1" router="$LAB_PREFIX-$1-nat"
    ip netns add "$router"
    ip netns add "$ns"
    ip link add "r$index-$$" type veth peer name "w$index-$$"
    ip link set "r$index-$$" netns "$router"
    ip link set "w$index-$$" netns "$LAB_SWITCH"
    ip -n "$LAB_SWITCH" link set "w$index-$$" master br0 up
    ip -n "$router" link set "r$index-$$" name wan
    ip -n "$router" addr add "10.77.0.$((100 + index))/24" dev wan
    ip -n "$router" link set wan up
    ip -n "$router" link set lo up
    ip link add "c$index-$$" type veth peer name "l$index-$$"
    ip link set "c$index-$$" netns "$ns"
    ip link set "l$index-$$" netns "$router"
    ip -n "$router" link set "l$index-$$" name lan
    ip -n "$router" addr add "192.168.$index.1/24" dev lan
    ip -n "$router" link set lan up
    ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$router" nft -f - <<NFT
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat;
        oifname "wan" masquerade
    }
}
NFT
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "c$index-$$" name eth0
    ip -n "$ns" addr add "192.168.$index.2/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "192.168.$index.1"
    mkdir -p "$LAB_DIR/$name/wg" "$LAB_DIR/$name/state"
    LAB_NODES+=("$name")
    LAB_ROUTERS+=("$router")
}

# lab_leader NAME MESH: the alias of the member NAME's daemon shows as leader.
lab_leader() {
    lab_ctl "$1" get "$2" --json 2>/dev/null | python3 -c '
import json, sys
for m in json.load(sys.stdin)["members"]:
    if m["isLeader"]:
        print(m.get("alias") or m["shortId"])' 2>/dev/null || true
}

# lab_block NAME ADDRESS...: drops every packet between NAME and the given underlay addresses
# (IPv4 or IPv6; give both of a node's addresses to cut it off).
lab_block() {
    local name=$1 ns="$LAB_PREFIX-$1"
    shift
    ip netns exec "$ns" nft add table inet smeglab 2>/dev/null || true
    ip netns exec "$ns" nft add chain inet smeglab input '{ type filter hook input priority 0; }' 2>/dev/null || true
    ip netns exec "$ns" nft add chain inet smeglab output '{ type filter hook output priority 0; }' 2>/dev/null || true
    local address family
    for address in "$@"; do
        family=ip
        [[ $address == *:* ]] && family=ip6
        ip netns exec "$ns" nft add rule inet smeglab input "$family" saddr "$address" drop
        ip netns exec "$ns" nft add rule inet smeglab output "$family" daddr "$address" drop
    done
}

# lab_loss NAME PERCENT: drops PERCENT of the UDP packets arriving at NAME (the host kernel has
# no netem). Applied on every node, each packet between two nodes crosses exactly one lossy
# hop: PERCENT loss on every link.
lab_loss() {
    local ns="$LAB_PREFIX-$1" percent=$2
    ip netns exec "$ns" nft add table inet smeglab 2>/dev/null || true
    ip netns exec "$ns" nft add chain inet smeglab input '{ type filter hook input priority 0; }' 2>/dev/null || true
    ip netns exec "$ns" nft add rule inet smeglab input meta l4proto udp numgen random mod 100 "<" "$percent" drop
}

# lab_heal NAME: removes every rule lab_block and lab_loss added.
lab_heal() {
    ip netns exec "$LAB_PREFIX-$1" nft delete table inet smeglab 2>/dev/null || true
}

# lab_metric NAME SERIES: the summed value of a Prometheus series on the node (metrics on loopback).
lab_metric() {
    ip netns exec "$LAB_PREFIX-$1" curl -s --max-time 2 http://127.0.0.1:9469/metrics |
        awk -v series="$2" 'index($0, series) == 1 { sum += $NF } END { print sum + 0 }'
}
