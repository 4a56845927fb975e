#!/usr/bin/env bash
# Direct paths through NAT: real smegd daemons in network namespaces, real (userspace) WireGuard,
# real NAT routers (nftables masquerade, each with a home router's stateful firewall). Three
# public peers p1, p2, p3 start once and form the mesh; each case then starts and joins a pair of
# clients, and they leave when it is done:
#
#   1. a1, a2 behind two port-preserving NATs: direct within DIRECT_BAR s of a2's join on both
#      ends, each one's WireGuard sending to the other's NAT's public address; ping -6 and -4
#   5. (with case 1's pair) pings both ways every 0.2 s while a1's router drops the UDP between
#      the two NATs' public addresses: relayed within FALLBACK_BAR s, the longest gap in the
#      pings within GAP_BAR s; after the break, direct again within RECOVERY_BAR s (the backoff)
#   2. r1, r2 behind two port-randomising NATs (checked with a plain UDP probe first): they stay
#      relayed, with a reason, and ping each other
#   3. l1, l2 behind the same NAT, on one LAN: direct over the LAN (each sends to the other's LAN
#      address, not to the NAT's public one)
#   4. v1, v2 with global IPv6 addresses (2001:db8::/32) behind stateful firewalls, their IPv4
#      NATs port-randomising: direct over IPv6, to each other's global address
#
# Every case prints what it measured; a bar missed fails the stage at its end, with the numbers.
# DIRECT_CASES="1 5 2 3 4" (the default) picks the cases and their order.
# The path is read from `smegctl get MESH --json` (each member's "path") and `smegctl ping`; the
# stage stops with a clear message when the daemon does not report them.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/mesh-lab.sh
lab_begin direct-paths-test

# The bars, in seconds.
direct_bar=${DIRECT_BAR:-5}          # cases 1, 3, 4: the second client's join until direct on both ends
fallback_bar=${FALLBACK_BAR:-10}     # case 5: the break until relayed on both ends
gap_bar=${GAP_BAR:-10}               # case 5: the longest time without a ping reply, either way
recovery_bar=${RECOVERY_BAR:-60}     # case 5: the end of the break until direct again on both ends
# Not bars: how long case 2 watches a pair that cannot punch, and case 5 keeps the break after
# the fallback (pings must go on through the relays).
relayed_watch=${RELAYED_WATCH:-8}
break_hold=${BREAK_HOLD:-3}
port=51820 # every node's WireGuard listen port (smegd's default)

started=$SECONDS
lab_setup_switch
for index in 1 2 3; do lab_add_node "p$index" "$index"; done
lab_add_nat_client a1 11
lab_add_nat_client a2 12
lab_add_nat_client r1 13 random
lab_add_nat_client r2 14 random
lab_add_nat_client l1 15
lab_add_lan_client l2 l1 3
lab_add_nat_client v1 16 random
lab_add_nat_client v2 17 random
for name in v1 v2; do lab_global6 "$name"; done

# What the NATs do, with plain UDP before any daemon runs: from the WireGuard port to two peers.
# mapping NAME KIND: preserving keeps the port for both; random gives each destination its own.
mapping() {
    local name=$1 kind=$2 public to_p1 to_p2
    public=$(lab_public4 "$name")
    { read -r to_p1 && read -r to_p2; } < <(lab_nat_mapping "$name" "$port" p1 p2)
    [[ ${to_p1%:*} == "$public" && ${to_p2%:*} == "$public" ]] ||
        lab_fail "$name's NAT: port $port reached p1 as $to_p1 and p2 as $to_p2, not from $public"
    case $kind in
        preserving) [[ ${to_p1##*:} == "$port" && ${to_p2##*:} == "$port" ]] ;;
        random) [[ ${to_p1##*:} != "${to_p2##*:}" ]] ;;
    esac || lab_fail "$name's NAT is not $kind: port $port reached p1 as $to_p1 and p2 as $to_p2"
    lab_log "    $name's NAT ($kind): port $port reaches p1 as $to_p1, p2 as $to_p2"
}
lab_log "the NATs, probed with plain UDP:"
for name in a1 a2 l1; do mapping "$name" preserving; done
for name in r1 r2 v1 v2; do mapping "$name" random; done
# The IPv6 firewalls: nothing unasked gets in; a datagram out lets the answer in (a punch).
v1_global=$(lab_global6_address v1)
v2_global=$(lab_global6_address v2)
[[ $(lab_udp_probe p1 40000 "v1=$v1_global") == none ]] || lab_fail "p1 reaches v1 at $v1_global through its firewall, unasked"
[[ $(lab_udp_probe v2 40000 "v1=$v1_global") == none ]] || lab_fail "v2 reaches v1 at $v1_global through its firewall, unasked"
punched=$(lab_udp_probe v1 40000 "v2=$v2_global")
[[ $punched == "[$v1_global]:40000" ]] || lab_fail "v1 does not reach v2 at $v2_global once v2 sent to it (got $punched)"
lab_log "    v1's and v2's IPv6 firewalls drop what nobody asked for; v1 reaches v2 once v2 sent to v1 (plain UDP)"

for name in p1 p2 p3; do lab_start "$name"; done
token=$(lab_ctl p1 create --alias p1 --name direct --json | lab_json field token)
mesh=$(lab_mesh p1)
for name in p2 p3; do lab_ctl "$name" join --alias "$name" "$token" >/dev/null; done
peers=(p1 p2 p3)
declare -A addr addr4
for name in "${peers[@]}"; do addr[$name]=$(lab_address "$name" "$mesh"); done
lab_wait 30 "three peers everywhere" lab_all_see "$mesh" 3 "${peers[@]}"
lab_log "three peers in mesh $mesh ($((SECONDS - started)) s since start)"

# --- Readings

view() { lab_ctl "$1" get "$mesh" --json 2>/dev/null; }

# path_of FROM TO: FROM's path to TO: KIND ENDPOINT VIA REASON.
path_of() { lab_path "$1" "$mesh" "$2"; }

# both_are KIND A B: A's path to B and B's to A are of KIND.
both_are() { lab_paths_are "$1" "$mesh" "$2" "$3"; }

# sees A B: A's daemon lists B and B's lists A.
sees() { view "$1" | lab_json member alias="$2" shortId && view "$2" | lab_json member alias="$1" shortId; }

# wg_endpoint FROM TO: where FROM's WireGuard sends to TO ("-" if nowhere).
wg_endpoint() { lab_wg_endpoint "$1" "$mesh" "$2"; }

# endpoint_is FROM TO HOST: FROM's WireGuard sends to TO at HOST, and FROM's path says the same.
endpoint_is() {
    local endpoint kind path_endpoint
    endpoint=$(wg_endpoint "$1" "$2")
    read -r kind path_endpoint _ < <(path_of "$1" "$2")
    [[ $kind == direct && $(host_of "$endpoint") == "$3" && $path_endpoint == "$endpoint" ]]
}

# host_of ENDPOINT: the address of ip:port or [ip]:port.
host_of() {
    local host=${1%:*}
    host=${host#[}
    echo "${host%]}"
}

# pings_both A B: ping -6 and ping -4 (the mesh's default IPv4 network) both ways.
pings_both() {
    lab_ping "$1" "${addr[$2]}" && lab_ping "$2" "${addr[$1]}" &&
        lab_ping4 "$1" "${addr4[$2]}" && lab_ping4 "$2" "${addr4[$1]}"
}

# smeg_ping LABEL FROM TO KIND: `smegctl ping` from FROM to TO reports a path of KIND (which may
# be alternatives, as lab_paths_are's) and replies; logs its line, or records a problem of case
# LABEL.
smeg_ping() {
    local label=$1 from=$2 to=$3 kind=$4 answer result words got sent rtt
    if ! "$SMEGCTL" ping --help 2>/dev/null | grep -q -- --count; then
        problem "$label" "this smegctl has no ping command with --count (smegctl ping MESH MEMBER --count N --json)"
        return 0
    fi
    if ! answer=$(lab_ctl "$from" ping "$mesh" "$to" --count 3 --json 2>&1); then
        problem "$label" "smegctl ping $mesh $to --count 3 --json failed on $from: $(head -n 1 <<<"$answer")"
        return 0
    fi
    if ! result=$(lab_json ping-result <<<"$answer"); then
        problem "$label" "smegctl ping --json on $from: no path and replies in its answer: $answer"
        return 0
    fi
    { read -r words && read -r got sent rtt; } <<<"$result"
    if ! [[ ${words%% *} =~ ^($kind)$ ]]; then
        problem "$label" "smegctl ping from $from to $to reports path '$words', not $kind"
    elif ((got == 0)); then
        problem "$label" "smegctl ping from $from to $to: no reply of $sent"
    else
        lab_log "    smegctl ping $from -> $to: ${words%% *}, $got/$sent replies, $rtt ms on average"
    fi
}

# --- Results

declare -a results=()
failed=0

# record CASE WHAT VALUE BAR: VALUE (seconds or "never") against BAR; one missed fails the stage
# at its end.
record() {
    local verdict=ok
    lab_within "$3" "$4" || {
        verdict="ABOVE THE BAR"
        failed=1
    }
    results+=("$(printf '%-26s %-44s %8s s  (bar %s s)  %s' "$1" "$2" "$3" "$4" "$verdict")")
    lab_log "    $2: $3 s (bar $4 s) $verdict"
}

# measured CASE WHAT VALUE: a number without a bar.
measured() {
    results+=("$(printf '%-26s %-44s %8s s  (no bar)' "$1" "$2" "$3")")
    lab_log "    $2: $3 s"
}

# problem CASE WHAT: a check other than a time failed; the stage fails at its end.
problem() {
    results+=("$(printf '%-26s %s' "$1" "FAILED: $2")")
    lab_log "    FAILED: $2"
    failed=1
}

# --- The pairs

# join_pair A B: starts both clients' daemons, joins A and waits until it pings every peer, then
# joins B; JOINED is the time of B's join (an EPOCHREALTIME).
join_pair() {
    local a=$1 b=$2 name
    lab_start "$a"
    lab_start "$b"
    lab_ctl "$a" join --alias "$a" --role client "$token" >/dev/null
    addr[$a]=$(lab_address "$a" "$mesh")
    lab_wait 30 "$a pings every peer" lab_pings "$a" "${peers[@]}"
    lab_require_paths "$a" "$mesh" p1
    JOINED=$EPOCHREALTIME
    lab_ctl "$b" join --alias "$b" --role client "$token" >/dev/null
    addr[$b]=$(lab_address "$b" "$mesh")
    for name in "$a" "$b"; do
        lab_wait 30 "$name has its IPv4 address" lab_ipv4 "$name" "$mesh"
        addr4[$name]=$(lab_ipv4 "$name" "$mesh")
    done
    lab_wait 30 "$a and $b see each other" sees "$a" "$b"
}

# retire NAME...: the clients leave the mesh and stop.
retire() {
    local name
    for name in "$@"; do
        lab_ctl "$name" leave "$mesh" >/dev/null
        lab_term "$name"
    done
}

# direct_case CASE A B EXPECT_A EXPECT_B: after B's join the pair is direct on both ends within
# the bar; WireGuard on B sends to A at EXPECT_A, and on A to B at EXPECT_B (addresses), as the
# daemons' paths say; they ping each other both ways (and smegctl ping says direct).
direct_case() {
    local label=$1 a=$2 b=$3 took from to expect endpoint kind path_endpoint _rest
    took=$(lab_until "$JOINED" $((direct_bar * 4)) both_are direct "$a" "$b") || true
    record "$label" "$b's join until direct on both ends" "$took" "$direct_bar"
    [[ $took != never ]] || {
        problem "$label" "$a: $(path_of "$a" "$b"); $b: $(path_of "$b" "$a")"
        return 0
    }
    for from in "$a" "$b"; do
        if [[ $from == "$a" ]]; then to=$b expect=$5; else to=$a expect=$4; fi
        # Up to 3 s for the two to agree: the device and the daemon are read one after the other.
        lab_until "$EPOCHREALTIME" 3 endpoint_is "$from" "$to" "$expect" >/dev/null || true
        endpoint=$(wg_endpoint "$from" "$to")
        read -r kind path_endpoint _rest < <(path_of "$from" "$to")
        lab_log "    $from -> $to: path $kind to $path_endpoint, WireGuard endpoint $endpoint"
        [[ $(host_of "$endpoint") == "$expect" ]] ||
            problem "$label" "$from's WireGuard sends to $to at $endpoint, not at $expect"
        [[ $path_endpoint == "$endpoint" ]] ||
            problem "$label" "$from's path to $to says $path_endpoint, its WireGuard $endpoint"
    done
    if lab_until "$EPOCHREALTIME" 10 pings_both "$a" "$b" >/dev/null; then
        lab_log "    $a and $b ping each other both ways, -6 and -4"
    else
        problem "$label" "$a and $b do not ping each other both ways, -6 and -4"
        for from in "$a" "$b"; do
            if [[ $from == "$a" ]]; then to=$b; else to=$a; fi
            lab_log "    $from: path to $to $(path_of "$from" "$to"); its WireGuard:"
            lab_wg_show "$from" "$mesh"
        done
    fi
    smeg_ping "$label" "$a" "$b" direct
}

work="$LAB_DIR/direct"
mkdir -p "$work"

# use_pair A B: A and B are the clients in the mesh (joined by join_pair), and no others.
PAIR=""
use_pair() {
    [[ $PAIR != "$1 $2" ]] || return 0
    # shellcheck disable=SC2086 # the two names
    [[ -z $PAIR ]] || retire $PAIR
    join_pair "$1" "$2"
    PAIR="$1 $2"
}

case_1() {
    lab_log "1/5 two clients behind port-preserving NATs"
    use_pair a1 a2
    direct_case "1 preserving NATs" a1 a2 "$(lab_public4 a1)" "$(lab_public4 a2)"
}

# 5. The break: a1's router drops the UDP to and from a2's NAT; the peers stay reachable.
case_5() {
    local label="5 break" pair from to broke fell healed back ended gap replies relayed_since relayed_replies
    local -A ping_pid
    lab_log "5/5 the UDP between a1's and a2's NATs dropped, then let through again"
    use_pair a1 a2
    lab_until "$EPOCHREALTIME" 20 both_are direct a1 a2 >/dev/null || {
        problem "$label" "not run: a1 and a2 are not direct ($(path_of a1 a2))"
        return 0
    }
    for pair in a1:a2 a2:a1; do
        from=${pair%:*} to=${pair#*:}
        lab_spawn "$work/$from-$to.ping" ip netns exec "$LAB_PREFIX-$from" ping -6 -D -n -i 0.2 -W 1 "${addr[$to]}"
        ping_pid[$from]=$LAB_LAST_PID
    done
    sleep 2
    broke=$EPOCHREALTIME
    lab_block_udp a1-nat "$(lab_public4 a2)"
    # Relayed, or relayed while trying a direct path again (punching): off the direct path.
    fell=$(lab_until "$broke" $((fallback_bar * 3)) both_are "relayed|punching" a1 a2) || true
    record "$label" "the break until relayed on both ends" "$fell" "$fallback_bar"
    lab_log "    a1 -> a2 during the break: $(path_of a1 a2)"
    sleep "$break_hold"
    healed=$EPOCHREALTIME
    lab_heal a1-nat
    back=$(lab_until "$healed" $((recovery_bar + 15)) both_are direct a1 a2) || true
    sleep 1
    ended=$EPOCHREALTIME
    lab_stop "${ping_pid[a1]}" "${ping_pid[a2]}"
    for pair in a1:a2 a2:a1; do
        from=${pair%:*} to=${pair#*:}
        read -r gap replies < <(lab_json ping-gaps "$broke" "$ended" "$work/$from-$to.ping")
        record "$label" "longest gap in $from's pings to $to" "$gap" "$gap_bar"
        if [[ $fell != never ]]; then
            relayed_since=$(awk -v t="$broke" -v d="$fell" 'BEGIN { printf "%.6f", t + d }')
            read -r _ relayed_replies < <(lab_json ping-gaps "$relayed_since" "$healed" "$work/$from-$to.ping")
            lab_log "    $from -> $to: $replies replies in $(lab_since "$broke") s, $relayed_replies while relayed"
            ((relayed_replies > 0)) || problem "$label" "no reply to $from's pings to $to while relayed"
        fi
    done
    record "$label" "the break's end until direct on both ends" "$back" "$recovery_bar"
    [[ $back == never ]] ||
        lab_log "    a1 -> a2 again: $(path_of a1 a2); WireGuard endpoint $(wg_endpoint a1 a2)"
}

case_2() {
    local label="2 randomising NATs" watched pair from to kind via reason both gave_up=never
    local -A seen=()
    lab_log "2/5 two clients behind port-randomising NATs"
    use_pair r1 r2
    # Watch the pair: it may try to punch (kind punching), but it must never be direct; the time
    # from r2's join until both ends are relayed again after punching is the case's number.
    watched=$EPOCHREALTIME
    while lab_within "$(lab_since "$watched")" "$relayed_watch"; do
        both=""
        for pair in r1:r2 r2:r1; do
            read -r kind _ < <(path_of "${pair%:*}" "${pair#*:}") || kind=none
            seen[$kind]=1
            both+=" $kind"
        done
        [[ $gave_up != never || -z ${seen[punching]:-} || $both != " relayed relayed" ]] ||
            gave_up=$(lab_since "$JOINED")
        sleep 0.2
    done
    lab_log "    kinds seen, watched for ${relayed_watch} s after r2's join: ${!seen[*]}"
    measured "$label" "r2's join until both relayed after punching" "$gave_up"
    [[ -z ${seen[direct]:-} ]] || problem "$label" "r1 and r2 were direct at some moment behind port-randomising NATs"
    # A retry may be punching now: wait for relayed on both ends.
    if lab_until "$EPOCHREALTIME" 10 both_are relayed r1 r2 >/dev/null; then
        for pair in r1:r2 r2:r1; do
            from=${pair%:*} to=${pair#*:}
            read -r kind _ via reason < <(path_of "$from" "$to")
            lab_log "    $from -> $to: $kind via $via ($reason); WireGuard endpoint $(wg_endpoint "$from" "$to")"
            [[ $via != - ]] || problem "$label" "$from's relayed path to $to names no relay"
            [[ $reason != - ]] || problem "$label" "$from's relayed path to $to gives no reason"
        done
    else
        problem "$label" "not relayed on both ends: r1 $(path_of r1 r2); r2 $(path_of r2 r1)"
    fi
    if lab_until "$EPOCHREALTIME" 10 pings_both r1 r2 >/dev/null; then
        lab_log "    r1 and r2 ping each other through the relays, -6 and -4"
    else
        problem "$label" "r1 and r2 do not ping each other both ways, -6 and -4"
    fi
    smeg_ping "$label" r1 r2 "relayed|punching"
}

case_3() {
    lab_log "3/5 two clients behind the same NAT, on one LAN"
    use_pair l1 l2
    direct_case "3 same NAT" l1 l2 "$(lab_lan4 l1)" "$(lab_lan4 l2)"
}

case_4() {
    lab_log "4/5 two clients with global IPv6 behind stateful firewalls (IPv4 NATs port-randomising)"
    use_pair v1 v2
    direct_case "4 global IPv6" v1 v2 "$v1_global" "$v2_global"
}

# DIRECT_CASES picks cases and their order (5 uses case 1's pair, joining it if 1 did not run).
for number in ${DIRECT_CASES:-1 5 2 3 4}; do
    [[ $(type -t "case_$number") == function ]] || lab_fail "no case $number (DIRECT_CASES: 1 to 5)"
    "case_$number"
done

echo
echo "direct-paths-test: what was measured"
for line in "${results[@]}"; do echo "  $line"; done
echo "direct-paths-test: what the clients' smegd said about paths (their logs):"
for name in a1 a2 r1 r2 l1 l2 v1 v2; do
    grep -E "direct path|relaying|punch" "$LAB_DIR/$name/smegd.log" 2>/dev/null |
        sed -E "s/^[^ ]+T([0-9:]+)[^ ]* [a-z]+ smegd: (mesh=[a-z0-9]+ )?\[smegd\] /  $name \1 /" || true
done
echo "direct-paths-test: $((SECONDS - started)) s"
((failed == 0)) || lab_fail "some case failed or missed its bar (above)"
lab_log "direct-paths-test: PASS"
