# shellcheck shell=bash
# The lab: real smegd daemons on one machine, for the test stages, the demo and the examples
# (sourced). Every function is lab_*; every daemon NAME keeps its state, control socket and log
# under LAB_DIR/NAME, wherever it runs, so lab_ctl and the readings below work for both kinds:
#
# - nodes in network namespaces, with (userspace) WireGuard: lab_begin, lab_setup_switch, then
#   lab_add_node or lab_add_nat_client, and lab_start. A "switch" namespace holds a bridge; every
#   node namespace has one veth into it with an address in 10.77.0.0/24 (IPv4 underlay) and
#   fd77::/64 (IPv6 underlay). Only namespaces this script creates are touched.
#   Each smegd runs in its node's network namespace and in a private mount namespace where
#   /run/wireguard is bind-mounted from the node's own directory: userspace WireGuard keeps its
#   UAPI socket there, and every node's interface for a mesh has the same name. The directory
#   outlives a smegd process, so a restarted daemon finds the wireguard-go that kept running.
# - control-plane-only daemons on loopback, many per script (no root needed): lab_start_loopback,
#   lab_wait_daemon, and lab_free_range for their ports.
#
# SMEG_BIN, when set, is the directory of the binaries (then nothing is built); LAB_DIR a
# scratch directory (default: a new one, removed by lab_cleanup unless LAB_KEEP=1).

LAB_PREFIX=${LAB_PREFIX:-smeglab$$}
LAB_DIR=${LAB_DIR:-$(mktemp -d)}
LAB_SWITCH="$LAB_PREFIX-sw"
LAB_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
declare -a LAB_NODES=()
declare -a LAB_ROUTERS=()
declare -a LAB_PIDS=()
declare -a LAB_LINKS=()
declare -A LAB_PID=()
# Per NAT router namespace: its INDEX, and whether lab_global6 gave its LAN IPv6.
declare -A LAB_NAT_INDEX=() LAB_GLOBAL6=()
# Per node: its public IPv4 address (lab_public4); behind a NAT, its router and host number.
declare -A LAB_PUBLIC4=() LAB_ROUTER=() LAB_HOST=()
# The namespaces with an address in fd77::/64, and the routes (lab_global6) each of them holds.
declare -a LAB_SWITCH6=() LAB_ROUTES6=()
LAB_LAST_PID=""

lab_log() { echo "$(date +%T) $*"; }

lab_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# lab_json SUBCOMMAND ARGS...: scripts/lib/meshjson.py, the one reader of the daemons' JSON.
lab_json() { python3 "$LAB_LIB/meshjson.py" "$@"; }

# lab_begin SCRIPT [--build] [SWIFT BUILD FLAGS...]: the common start of every namespace script.
# Fails unless root, sets SMEGD and SMEGCTL (from SMEG_BIN, or SwiftPM's bin path for the flags,
# first building smegd and smegctl with --build, for scripts a user runs without make), and
# arranges that the lab is removed on exit, with each node's last log lines when the script
# failed.
lab_begin() {
    local script=$1 build=0
    shift
    [[ ${1:-} == --build ]] && build=1 && shift
    [[ $(id -u) -eq 0 ]] || { echo "$script: FAIL: needs root (network namespaces): run it as root" >&2; exit 1; }
    if [[ -z ${SMEG_BIN:-} ]]; then
        if ((build)); then
            swift build "$@" --product smegd >/dev/null || exit 1
            swift build "$@" --product smegctl >/dev/null || exit 1
        fi
        SMEG_BIN=$(swift build "$@" --show-bin-path) || exit 1
    fi
    SMEGD="$SMEG_BIN/smegd"
    SMEGCTL="$SMEG_BIN/smegctl"
    [[ -x $SMEGD && -x $SMEGCTL ]] || { echo "$script: no smegd and smegctl in $SMEG_BIN: build them first" >&2; exit 1; }
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

# lab_cleanup: stops every process the lab started, removes its namespaces and LAB_DIR.
lab_cleanup() {
    # LAB_HOLD=SECONDS keeps a failed lab up for inspection (ip netns exec LAB_PREFIX-NAME ...).
    if [[ -n ${LAB_HOLD:-} ]]; then
        echo "lab: holding $LAB_PREFIX (state in $LAB_DIR) for ${LAB_HOLD}s" >&2
        sleep "$LAB_HOLD" || true
    fi
    lab_stop_all
    local name ns link router
    for name in "${LAB_NODES[@]}"; do
        ns="$LAB_PREFIX-$name"
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

# --- Processes

# lab_spawn LOG CMD...: CMD in the background, its output appended to LOG; its pid is in
# LAB_LAST_PID, and lab_stop_all stops it.
lab_spawn() {
    local log=$1
    shift
    "$@" >>"$log" 2>&1 &
    LAB_LAST_PID=$!
    LAB_PIDS+=("$LAB_LAST_PID")
}

# lab_forget PID...: processes that are gone; a reaped pid may be reused, and must not be killed.
lab_forget() {
    local keep=() pid
    for pid in "${LAB_PIDS[@]}"; do [[ " $* " == *" $pid "* ]] || keep+=("$pid"); done
    LAB_PIDS=("${keep[@]}")
}

# lab_stop PID...: SIGTERM, a moment's grace, then SIGKILL; reaps them.
lab_stop() {
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
    lab_forget "$@"
}

# lab_stop_all: every process started through the lab that is still running.
lab_stop_all() {
    lab_stop "${LAB_PIDS[@]}"
    LAB_PIDS=()
}

# lab_wait_ready WHAT PID LOG CMD...: retries CMD every 50 ms (LAB_READY_SECONDS, default 10, at
# most) until it succeeds; fails early, with the tail of LOG, when PID exits.
lab_wait_ready() {
    local what=$1 pid=$2 log=$3
    shift 3
    for _ in $(seq $((${LAB_READY_SECONDS:-10} * 20))); do
        "$@" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "$what did not start; its log:" >&2
    tail -n 20 "$log" >&2 || true
    return 1
}

lab_rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# --- Daemons (either kind)

lab_socket() { echo "$LAB_DIR/$1/smegd.sock"; }

lab_ctl() {
    local name=$1
    shift
    "${SMEGCTL:-$SMEG_BIN/smegctl}" --socket "$LAB_DIR/$name/smegd.sock" "$@"
}

# lab_smegd NAME [CMD...] -- [smegd flags...]: starts NAME's smegd through CMD (nothing, or
# LAB_IN: a program that ends by exec'ing it, so that its pid is smegd's), with its state, socket and log under LAB_DIR/NAME. SMEGD, when
# set, is the program run instead of SMEG_BIN/smegd (a wrapper, e.g. under a profiler).
lab_smegd() {
    local name=$1 runner=()
    shift
    while (($#)) && [[ $1 != -- ]]; do
        runner+=("$1")
        shift
    done
    shift
    mkdir -p "$LAB_DIR/$name"
    lab_spawn "$LAB_DIR/$name/smegd.log" "${runner[@]}" "${SMEGD:-$SMEG_BIN/smegd}" \
        --state-dir "$LAB_DIR/$name/state" --socket "$LAB_DIR/$name/smegd.sock" "$@"
    LAB_PID[$name]=$LAB_LAST_PID
}

# lab_wait_daemon NAME: until NAME's daemon answers on its control socket; fails (returns 1,
# with its log) if it exits first.
lab_wait_daemon() {
    lab_wait_ready "smegd on $1" "${LAB_PID[$1]}" "$LAB_DIR/$1/smegd.log" lab_ctl "$1" status
}

# lab_start_loopback NAME GOSSIP_PORT [smegd flags...]: a control-plane-only smegd on 127.0.0.1,
# not waited for (lab_wait_daemon), so that many can start at once. Its pid is in LAB_LAST_PID.
lab_start_loopback() {
    local name=$1 port=$2
    shift 2
    lab_smegd "$name" -- --control-plane-only --gossip-port "$port" --set gossipBind=127.0.0.1 "$@"
}

# lab_free_range COUNT: prints a random base port B such that B..B+COUNT-1 are all free and lie
# below the kernel's ephemeral range, so no outgoing connection can take one of them later.
lab_free_range() {
    local count=$1 low base busy
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

# lab_mesh NAME: the id of the (first) mesh NAME's daemon is in.
lab_mesh() {
    lab_ctl "$1" list --json | lab_json field meshes.0.meshId
}

# lab_address NAME MESH: the node's overlay address in the mesh, from its own daemon.
lab_address() {
    lab_ctl "$1" list --json | lab_json mesh "$2" address ""
}

# lab_ipv4 NAME MESH: the node's IPv4 overlay address in the mesh, from its own daemon (an
# empty line and status 1 while it has none).
lab_ipv4() {
    lab_ctl "$1" list --json | lab_json mesh "$2" ipv4Address
}

# lab_interface NAME MESH: the name of the node's WireGuard interface for the mesh.
lab_interface() {
    lab_ctl "$1" list --json | lab_json mesh "$2" interface ""
}

# lab_members NAME MESH: the number of members NAME's daemon sees in the mesh (0 when it does
# not answer).
lab_members() {
    lab_ctl "$1" get "$2" --json 2>/dev/null | lab_json member-count || true
}

# lab_leader NAME MESH: the alias of the member NAME's daemon shows as leader.
lab_leader() {
    lab_ctl "$1" get "$2" --json 2>/dev/null | lab_json leader-name 2>/dev/null || true
}

# lab_all_see MESH COUNT NAME...: every named node's daemon sees COUNT members in MESH.
lab_all_see() {
    local mesh=$1 count=$2 name
    shift 2
    for name in "$@"; do [[ $(lab_members "$name" "$mesh") == "$count" ]] || return 1; done
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

# --- Nodes in network namespaces

lab_setup_switch() {
    ip netns add "$LAB_SWITCH"
    ip -n "$LAB_SWITCH" link add br0 type bridge
    ip -n "$LAB_SWITCH" link set br0 up
    ip -n "$LAB_SWITCH" link set lo up
}

# lab_netns NS: a new namespace with its loopback up.
lab_netns() {
    ip netns add "$1"
    ip -n "$1" link set lo up
}

# lab_veth NS IFNAME PEER_NS PEER_IFNAME: a veth pair between two namespaces. Each end is made
# under a name unique to this script ($$) in the host's namespace, where concurrent labs meet,
# and renamed once it is in its own.
lab_veth() {
    local ns=$1 ifname=$2 peer_ns=$3 peer_ifname=$4 index=${#LAB_LINKS[@]}
    LAB_LINKS+=("$ifname")
    ip link add "a$index-$$" type veth peer name "b$index-$$"
    ip link set "a$index-$$" netns "$ns"
    ip link set "b$index-$$" netns "$peer_ns"
    ip -n "$ns" link set "a$index-$$" name "$ifname"
    ip -n "$peer_ns" link set "b$index-$$" name "$peer_ifname"
}

# lab_uplink NS IFNAME PORT: NS's link IFNAME to the switch, where it is the bridge port PORT.
lab_uplink() {
    lab_veth "$1" "$2" "$LAB_SWITCH" "$3"
    ip -n "$LAB_SWITCH" link set "$3" master br0 up
}

# lab_node_dirs NAME: the directories of a node's WireGuard sockets and smegd state.
lab_node_dirs() {
    mkdir -p "$LAB_DIR/$1/wg" "$LAB_DIR/$1/state"
    LAB_NODES+=("$1")
}

# lab_add_node NAME INDEX: a namespace NAME with 10.77.0.INDEX and fd77::INDEX on the switch.
lab_add_node() {
    local name=$1 index=$2 ns="$LAB_PREFIX-$1"
    lab_netns "$ns"
    lab_uplink "$ns" eth0 "s$index"
    ip -n "$ns" addr add "10.77.0.$index/24" dev eth0
    ip -n "$ns" addr add "fd77::$index/64" dev eth0 nodad
    ip -n "$ns" link set eth0 up
    LAB_PUBLIC4[$name]=10.77.0.$index
    lab_switch6 "$ns"
    lab_node_dirs "$name"
}

# lab_add_nat_client NAME INDEX [MAPPING]: a node behind its own NAT router (lab_nat_router,
# MAPPING as there). The router namespace NAME-nat has 10.77.0.(100+INDEX) on the switch and
# masquerades 192.168.INDEX.0/24, where the node has 192.168.INDEX.2 and a default route through
# the router. IPv4 only, as behind a typical home router (lab_global6 adds IPv6).
lab_add_nat_client() {
    local name=$1 index=$2 ns="$LAB_PREFIX-$1" router="$LAB_PREFIX-$1-nat"
    lab_netns "$ns"
    lab_nat_router "$router" "$index" "$ns" eth0 "${3:-preserving}"
    lab_lan_node "$name" "$router" 2
}

# lab_add_lan_client NAME OTHER HOST: a node on the LAN of the NAT client OTHER's router, as
# 192.168.INDEX.HOST (behind the same NAT, with the same public address).
lab_add_lan_client() {
    local name=$1 router="$LAB_PREFIX-$2-nat" ns="$LAB_PREFIX-$1"
    lab_netns "$ns"
    lab_lan_port "$router" "$ns" eth0
    lab_lan_node "$name" "$router" "$3"
}

# lab_lan_node NAME ROUTER HOST: NAME's eth0, on ROUTER's LAN, gets 192.168.INDEX.HOST and a
# default route through the router; NAME becomes a node of the lab.
lab_lan_node() {
    local name=$1 router=$2 host=$3 ns="$LAB_PREFIX-$1" index=${LAB_NAT_INDEX[$2]}
    ip -n "$ns" addr add "192.168.$index.$host/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "192.168.$index.1"
    LAB_ROUTER[$name]=$router
    LAB_HOST[$name]=$host
    LAB_PUBLIC4[$name]=10.77.0.$((100 + index))
    lab_node_dirs "$name"
}

# lab_nat_router ROUTER INDEX NS IFNAME [MAPPING]: a masquerading NAT router namespace ROUTER, on
# the switch as 10.77.0.(100 + INDEX) (port wINDEX), whose LAN 192.168.INDEX.0/24 (it is .1, on
# the bridge "lan") has a port linked to NS's interface IFNAME (lab_lan_port adds more); removed
# with the lab. MAPPING is how the NAT picks a connection's public port:
#   preserving  (the default) nftables' plain masquerade: the LAN host's own source port while it
#               is free, for every destination (endpoint-independent, as most home routers)
#   random      masquerade random,fully-random: a new random port for every destination
#               (endpoint-dependent, as carrier-grade and some corporate NATs)
# Either way the router is also a home router's firewall (table inet home): from the WAN only
# what answers a connection from inside passes, to the LAN or to the router itself.
lab_nat_router() {
    local router=$1 index=$2 ns=$3 ifname=$4 mapping=${5:-preserving} flags
    case $mapping in
        preserving) flags="" ;;
        random) flags="random,fully-random" ;;
        *) lab_fail "lab_nat_router: unknown mapping '$mapping' (preserving or random)" ;;
    esac
    lab_netns "$router"
    LAB_ROUTERS+=("$router")
    LAB_NAT_INDEX[$router]=$index
    lab_uplink "$router" wan "w$index"
    ip -n "$router" addr add "10.77.0.$((100 + index))/24" dev wan
    ip -n "$router" link set wan up
    ip -n "$router" link add lan type bridge
    ip -n "$router" addr add "192.168.$index.1/24" dev lan
    ip -n "$router" link set lan up
    lab_lan_port "$router" "$ns" "$ifname"
    ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$router" nft -f - <<NFT
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat;
        oifname "wan" masquerade $flags
    }
}
table inet home {
    chain forward {
        type filter hook forward priority filter;
        iifname "wan" ct state established,related accept
        iifname "wan" drop
    }
    chain input {
        type filter hook input priority filter;
        iifname "wan" ct state established,related accept
        iifname "wan" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
        iifname "wan" drop
    }
}
NFT
}

# lab_lan_port ROUTER NS IFNAME: a link from a port of ROUTER's LAN bridge to NS's IFNAME.
lab_lan_port() {
    local port="l${#LAB_LINKS[@]}"
    lab_veth "$1" "$port" "$2" "$3"
    ip -n "$1" link set "$port" master lan up
}

# lab_switch6 NS: NS has an address in fd77::/64 on the switch: it gets every route lab_global6
# has added so far, and the ones it adds later.
lab_switch6() {
    local route
    for route in "${LAB_ROUTES6[@]}"; do
        # shellcheck disable=SC2086 # "PREFIX via ADDRESS"
        ip -n "$1" -6 route add $route
    done
    LAB_SWITCH6+=("$1")
}

# lab_global6 NAME: the NAT client NAME (lab_add_nat_client or lab_add_lan_client) also gets a
# global IPv6 address, 2001:db8:INDEX::HOST/64 (a documentation prefix), with its router as the
# IPv6 default route. The router (fd77::(100 + INDEX) on the switch) routes that /64 without NAT,
# and every namespace on the switch routes it through the router; its firewall lets in only what
# answers a connection from inside (stateful, as a home router for IPv6). Not in a subshell: it
# records the routes for the namespaces that come later (lab_global6_address tells the address).
lab_global6() {
    local name=$1 ns="$LAB_PREFIX-$1" router=${LAB_ROUTER[$1]} index prefix
    index=${LAB_NAT_INDEX[$router]}
    prefix="2001:db8:$index::"
    if [[ -z ${LAB_GLOBAL6[$router]:-} ]]; then
        ip netns exec "$router" sysctl -qw net.ipv6.conf.all.forwarding=1
        ip -n "$router" addr add "fd77::$((100 + index))/64" dev wan nodad
        ip -n "$router" addr add "${prefix}1/64" dev lan nodad
        local other
        for other in "${LAB_SWITCH6[@]}"; do
            ip -n "$other" -6 route add "$prefix/64" via "fd77::$((100 + index))"
        done
        lab_switch6 "$router"
        LAB_ROUTES6+=("$prefix/64 via fd77::$((100 + index))")
        LAB_GLOBAL6[$router]=1
    fi
    ip -n "$ns" addr add "$(lab_global6_address "$name")/64" dev eth0 nodad
    ip -n "$ns" -6 route add default via "${prefix}1"
}

# lab_global6_address NAME: the global IPv6 address lab_global6 gives NAME.
lab_global6_address() { echo "2001:db8:${LAB_NAT_INDEX[${LAB_ROUTER[$1]}]}::${LAB_HOST[$1]}"; }

# lab_public4 NAME: the IPv4 address the rest of the lab sees NAME's packets come from: its own
# on the switch, or its NAT router's.
lab_public4() { echo "${LAB_PUBLIC4[$1]}"; }

# lab_add_host NAME: a namespace without a daemon (a server on the "internet" behind a node),
# removed with the lab; connect it with lab_veth.
lab_add_host() {
    lab_netns "$LAB_PREFIX-$1"
    LAB_ROUTERS+=("$LAB_PREFIX-$1")
}

# lab_in NAME: sets LAB_IN to the command that runs its arguments in the node's network
# namespace and WireGuard mount (a command, not a function, so that it can run in the background
# and the process started is the one it runs).
lab_in() {
    # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
    LAB_IN=(ip netns exec "$LAB_PREFIX-$1" unshare --mount --propagation private sh -c '
        mount --bind "$0/wg" /run/wireguard 2>/dev/null || { mkdir -p /run/wireguard && mount --bind "$0/wg" /run/wireguard; }
        exec "$@"' "$LAB_DIR/$1")
}

# lab_exec NAME CMD...: runs a command in the node's network namespace and WireGuard mount.
lab_exec() {
    lab_in "$1"
    shift
    "${LAB_IN[@]}" "$@"
}

# lab_start NAME [smegd flags...]: starts smegd in the node (logs to $LAB_DIR/NAME/smegd.log)
# and waits until it answers.
lab_start() {
    local name=$1
    shift
    lab_in "$name"
    # shellcheck disable=SC2086 # LAB_SMEGD_FLAGS is a list of flags
    lab_smegd "$name" "${LAB_IN[@]}" -- --set metricsListen=off --set wireguardBackend=userspace \
        ${LAB_SMEGD_FLAGS:-} "$@"
    lab_wait_daemon "$name" || lab_fail "smegd on $name did not start"
}

lab_kill9() {
    kill -9 "${LAB_PID[$1]}" 2>/dev/null || true
    wait "${LAB_PID[$1]}" 2>/dev/null || true
    lab_forget "${LAB_PID[$1]}"
}

# lab_kill_node NAME: the machine dies: kill -9 of every process in its namespace (smegd and
# wireguard-go), so its WireGuard stops answering too, not just its daemon.
lab_kill_node() {
    local ns="$LAB_PREFIX-$1" pid
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    wait "${LAB_PID[$1]}" 2>/dev/null || true
    lab_forget "${LAB_PID[$1]}"
}

# lab_term NAME: SIGTERM to the node's smegd, as systemd sends on stop; fails unless the
# daemon exits (a graceful shutdown) within 15 s.
lab_term() {
    local pid=${LAB_PID[$1]}
    kill -TERM "$pid" 2>/dev/null || lab_fail "smegd on $1 was not running"
    for _ in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || {
            wait "$pid" 2>/dev/null || true
            lab_forget "$pid"
            return 0
        }
        sleep 0.1
    done
    lab_fail "smegd on $1 did not exit within 15 s of SIGTERM"
}

# lab_has_link NAME LINK: true while the link exists in the node's namespace.
lab_has_link() {
    ip -n "$LAB_PREFIX-$1" link show dev "$2" >/dev/null 2>&1
}

# lab_ping NAME ADDRESS [TIMEOUT]: one ping -6, waiting TIMEOUT seconds (default 1) for the
# answer; timings use a short timeout so a lost first ping does not count as a second.
lab_ping() {
    ip netns exec "$LAB_PREFIX-$1" ping -6 -c 1 -W "${3:-1}" "$2"
}

# lab_pings NAME...: every listed node pings every other one at ${addr[NAME]}, an associative
# array of overlay addresses the calling script fills in.
lab_pings() { lab_pings_with lab_ping addr "$@"; }

# lab_pings_with PING ARRAY NAME...: every listed node pings every other one with PING (lab_ping
# or lab_ping4) at ${ARRAY[NAME]}.
lab_pings_with() {
    local ping=$1 from to
    local -n targets=$2
    shift 2
    for from in "$@"; do
        for to in "$@"; do
            [[ $from == "$to" ]] || "$ping" "$from" "${targets[$to]}" >/dev/null || return 1
        done
    done
}

# lab_ping4 NAME ADDRESS [TIMEOUT]: lab_ping over IPv4.
lab_ping4() {
    ip netns exec "$LAB_PREFIX-$1" ping -4 -c 1 -W "${3:-1}" "$2"
}

# lab_pings4 NAME...: lab_pings at ${addr4[NAME]}, the nodes' IPv4 overlay addresses.
lab_pings4() { lab_pings_with lab_ping4 addr4 "$@"; }

# lab_wait_ping FROM ADDRESS: waits (30 s at most) until FROM pings ADDRESS, and says so.
lab_wait_ping() {
    lab_wait 30 "$1 pings $2" lab_ping "$1" "$2"
    echo "  $1 -> $2: ping ok"
}

# lab_filter NS CHAIN...: the lab's own nftables table in NS, with the named filter chains
# (input, output), for lab_block and lab_loss to add rules to and lab_heal to remove.
lab_filter() {
    local ns=$1 chain
    shift
    ip netns exec "$ns" nft add table inet smeglab 2>/dev/null || true
    for chain in "$@"; do
        ip netns exec "$ns" nft add chain inet smeglab "$chain" "{ type filter hook $chain priority 0; }" 2>/dev/null || true
    done
}

# lab_block NAME ADDRESS...: drops every packet between NAME and the given underlay addresses
# (IPv4 or IPv6; give both of a node's addresses to cut it off).
lab_block() {
    local name=$1 ns="$LAB_PREFIX-$1"
    shift
    lab_filter "$ns" input output
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
    lab_filter "$ns" input
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

# lab_udp_probe NAME PORT DEST=ADDRESS...: NAME sends UDP from its port PORT to port PORT of
# ADDRESS, where the node (or router) DEST listens; prints, one line per DEST in order, the source
# ip:port ([ip]:port) the datagram arrived with there, or "none" if none arrived (a firewall, or
# no route). Run it before anything in NAME or a DEST uses PORT.
lab_udp_probe() {
    local name=$1 port=$2 dest pids=() targets=() dir
    shift 2
    dir=$(mktemp -d "$LAB_DIR/probe.XXXXXX")
    for dest in "$@"; do
        ip netns exec "$LAB_PREFIX-${dest%%=*}" python3 "$LAB_LIB/udpprobe.py" listen "$port" 2 >"$dir/${dest%%=*}" &
        pids+=($!)
        if [[ ${dest#*=} == *:* ]]; then targets+=("[${dest#*=}]:$port"); else targets+=("${dest#*=}:$port"); fi
    done
    ip netns exec "$LAB_PREFIX-$name" python3 "$LAB_LIB/udpprobe.py" send "$port" 0.5 "${targets[@]}"
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    for dest in "$@"; do
        if [[ -s $dir/${dest%%=*} ]]; then cat "$dir/${dest%%=*}"; else echo none; fi
    done
    rm -rf "$dir"
}

# lab_nat_mapping NAME PORT DEST...: lab_udp_probe to the DEST nodes' public IPv4 addresses: what
# NAME's NAT maps a flow from PORT to, per destination.
lab_nat_mapping() {
    local name=$1 port=$2 dest targets=()
    shift 2
    for dest in "$@"; do targets+=("$dest=$(lab_public4 "$dest")"); done
    lab_udp_probe "$name" "$port" "${targets[@]}"
}

# lab_lan4 NAME: a NAT client's address on its router's LAN.
lab_lan4() { echo "192.168.${LAB_NAT_INDEX[${LAB_ROUTER[$1]}]}.${LAB_HOST[$1]}"; }

# lab_block_udp NAME ADDRESS...: NAME (a router, e.g. c1-nat) drops the UDP it forwards to or
# from the given addresses (IPv4 or IPv6); everything else, and its own traffic, passes.
# lab_heal NAME ends it.
lab_block_udp() {
    local ns="$LAB_PREFIX-$1" address family
    shift
    lab_filter "$ns" forward
    for address in "$@"; do
        family=ip
        [[ $address == *:* ]] && family=ip6
        ip netns exec "$ns" nft add rule inet smeglab forward "$family" saddr "$address" meta l4proto udp drop
        ip netns exec "$ns" nft add rule inet smeglab forward "$family" daddr "$address" meta l4proto udp drop
    done
}

# --- Timing

# lab_since T0: the seconds since T0 (an EPOCHREALTIME), with two decimals.
lab_since() {
    local micros=$((${EPOCHREALTIME/./} - ${1/./}))
    printf '%d.%02d\n' $((micros / 1000000)) $((micros % 1000000 / 10000))
}

# lab_until T0 SECONDS CMD...: retries CMD every 0.1 s until it succeeds, or until SECONDS have
# passed since T0 (an EPOCHREALTIME); prints the seconds from T0 to its success (lab_since), or
# "never" and returns 1. For measuring: unlike lab_wait it does not fail the script.
lab_until() {
    local t0=$1 seconds=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        if (((${EPOCHREALTIME/./} - ${t0/./}) > seconds * 1000000)); then
            echo never
            return 1
        fi
        sleep 0.1
    done
    lab_since "$t0"
}

# lab_within VALUE BAR: VALUE (seconds, or "never") is a number no larger than BAR.
lab_within() {
    [[ $1 != never ]] && awk -v value="$1" -v bar="$2" 'BEGIN { exit !(value <= bar) }'
}

# --- Paths between members (direct WireGuard sessions or through relays)

# lab_path FROM MESH TO: FROM's path to the member aliased TO, from FROM's daemon: KIND ENDPOINT
# VIA REASON on one line (meshjson.py path; "-" for a null endpoint, no relay or no reason).
lab_path() {
    lab_ctl "$1" get "$2" --json 2>/dev/null | lab_json path alias="$3"
}

# lab_paths_are KIND MESH A B: A's path to B and B's to A are both of KIND, which may be
# alternatives: "relayed|punching" (relayed, whether or not a direct path is being tried).
lab_paths_are() {
    local kind
    read -r kind _ < <(lab_path "$3" "$2" "$4") && [[ $kind =~ ^($1)$ ]] || return 1
    read -r kind _ < <(lab_path "$4" "$2" "$3") && [[ $kind =~ ^($1)$ ]]
}

# lab_require_paths NAME MESH OTHER: fails the script, saying why, unless NAME's daemon reports a
# path to the member OTHER (a smegd without direct paths reports none).
lab_require_paths() {
    local status=0
    lab_path "$1" "$2" "$3" >/dev/null || status=$?
    ((status != 2)) || lab_fail "$1's smegd reports no \"path\" for members in smegctl get --json (above)"
    ((status == 0)) || lab_fail "$1's smegctl get --json does not list $3"
}

# lab_wg_endpoint FROM MESH TO: where FROM's WireGuard sends to the member TO ("-" if nowhere).
lab_wg_endpoint() {
    local key
    key=$(lab_ctl "$3" get "$2" --json | lab_json self-id)
    lab_exec "$1" wg show "$(lab_interface "$1" "$2")" endpoints | lab_json wg-endpoint "$key"
}

# lab_wg_show NAME MESH: NAME's WireGuard device for the mesh as `wg show` prints it, indented (for
# a failure's report: each peer's endpoint, allowed IPs, latest handshake and transfer).
lab_wg_show() {
    lab_exec "$1" wg show "$(lab_interface "$1" "$2")" 2>&1 | sed 's/^/      /'
}
