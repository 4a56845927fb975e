#!/usr/bin/env bash
# Access control suite: real smegd nodes in network namespaces with real (userspace) WireGuard,
# three peers and two laptops behind NAT routers (nftables masquerade). The owner tags the
# laptops `laptop` and one peer `server`, chosen so that it is neither the owner nor the first
# laptop's own peer (the relay its whole traffic goes through), and signs
#     allow tag:laptop -> tag:server tcp/22 icmp
#   1. every ordered pair pings (-6 and -4) exactly when the policy allows it: a laptop pings the
#      server; the server cannot ping back (rules are directional); two peers with no rule have
#      no WireGuard session at all; a laptop and its own peer cannot reach each other (that peer
#      carries the laptop's whole mesh prefix, so the laptop's own filter drops it: its counter
#      rises); the two laptops cannot reach each other through their peers
#   2. a laptop reaches the server on tcp/22 and not on tcp/80 (nc), over both families
#   3. an nc session from a laptop to the server's tcp/22 is open when the owner signs
#         allow tag:laptop -> tag:server icmp
#         allow tag:laptop -> tag:laptop icmp
#      every member applies the new version, the session stops, tcp/22 is refused and the laptops
#      ping each other through their peers, each within 5 s; the laptops' tcp/80 is still
#      dropped by the relay (its counter rises)
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/mesh-lab.sh
lab_begin acl-test

lab_setup_switch
for index in 1 2 3; do
    lab_add_node "p$index" "$index"
    lab_start "p$index"
done
# Without direct paths the laptops' pair always crosses their peers, whose relay filter step 3
# checks; a direct pair is a session like any other (its AllowedIPs follow the policy).
lab_add_nat_client c1 6
lab_start c1 --set directPaths=false
lab_add_nat_client c2 7
lab_start c2 --set directPaths=false
token=$(lab_ctl p1 create --alias p1 --json | lab_json field token)
mesh=$(lab_mesh p1)
for name in p2 p3; do lab_ctl "$name" join --alias "$name" "$token" >/dev/null; done
for name in c1 c2; do lab_ctl "$name" join --alias "$name" --role client "$token" >/dev/null; done

nodes=(p1 p2 p3 c1 c2)
peers=(p1 p2 p3)
lab_wait 30 "five members everywhere" lab_all_see "$mesh" 5 "${nodes[@]}"
declare -A addr addr4
has_ipv4() {
    local name
    for name in "${nodes[@]}"; do addr4[$name]=$(lab_ipv4 "$name" "$mesh") || return 1; done
}
lab_wait 30 "every member has its IPv4 address" has_ipv4
for name in "${nodes[@]}"; do addr[$name]=$(lab_address "$name" "$mesh"); done
iface=$(lab_interface p1 "$mesh")
lab_wait 40 "all-pairs ping -6 without a policy" lab_pings "${nodes[@]}"
lab_wait 40 "all-pairs ping -4 without a policy" lab_pings4 "${nodes[@]}"

# attachment CLIENT: the peer the client's traffic goes through (the one peer it reaches
# directly: peers never punch paths to other peers' clients).
attachment() {
    local name
    for name in "${peers[@]}"; do
        [[ $(lab_path "$1" "$mesh" "$name" | cut -d' ' -f1) == direct ]] && echo "$name" && return 0
    done
    return 1
}
relay1=$(attachment c1)
relay2=$(attachment c2)
server=""
# Not p1 either, which signs: the server learns each policy through gossip, as any member.
for name in "${peers[@]}"; do [[ $name == "$relay1" || $name == p1 || -n $server ]] || server=$name; done
others=()
for name in "${peers[@]}"; do [[ $name == "$server" ]] || others+=("$name"); done
lab_log "0/3 five members ping each other; c1's peer is $relay1, c2's is $relay2; the server is $server"

lab_ctl p1 tag "$mesh" c1 laptop >/dev/null
lab_ctl p1 tag "$mesh" c2 laptop >/dev/null
lab_ctl p1 tag "$mesh" "$server" server >/dev/null
policy=$LAB_DIR/policy.acl
echo "allow tag:laptop -> tag:server tcp/22 icmp" >"$policy"
lab_ctl p1 acl set "$mesh" "$policy" >/dev/null

# version NAME: the version of the access policy NAME's daemon applies (0 for none).
version() { lab_ctl "$1" acl "$mesh" --json | python3 -c 'import json, sys; print(json.load(sys.stdin).get("version") or 0)'; }
everywhere() {
    local name
    for name in "${nodes[@]}"; do [[ $(version "$name") == "$1" ]] || return 1; done
}
lab_wait 10 "every member applies the policy" everywhere 1

# allowed FROM TO: whether the policy lets FROM ping TO.
allowed() { [[ $1 == c? && $2 == "$server" ]]; }
# drops NAME CHAIN: packets the counter of CHAIN's final drop rule in NAME's mesh table saw.
drops() {
    lab_exec "$1" nft list chain inet "$iface" "$2" |
        awk '/counter packets [0-9]+ .* drop/ { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}
# matrix: every ordered pair pings exactly when allowed (an allowed one is given 30 s to come
# up, since WireGuard's handshakes follow the new sessions).
matrix() {
    local from to ping target
    for from in "${nodes[@]}"; do
        for to in "${nodes[@]}"; do
            [[ $from != "$to" ]] || continue
            for ping in lab_ping lab_ping4; do
                if [[ $ping == lab_ping ]]; then target=${addr[$to]}; else target=${addr4[$to]}; fi
                if allowed "$from" "$to"; then
                    lab_wait 30 "$from $ping $to (allowed)" "$ping" "$from" "$target"
                elif "$ping" "$from" "$target" 1 >/dev/null 2>&1; then
                    lab_fail "$from $ping $to succeeds, but the policy denies it"
                fi
            done
        done
    done
}
before=$(drops c1 access_input)
matrix
after=$(drops c1 access_input)
((after > before)) || lab_fail "c1's input filter dropped nothing of its own peer's pings ($before -> $after)"
for name in "${others[@]}"; do
    for other in "${others[@]}"; do
        [[ $name == "$other" ]] && continue
        if lab_exec "$name" wg show "$iface" allowed-ips | grep -qF "${addr[$other]}/128"; then
            lab_fail "$name carries the address of $other in a session, though no rule joins them"
        fi
    done
done
lab_log "1/3 pings follow the policy over both families (c1's filter dropped $((after - before)) packets of its peer's);" \
    "${others[*]} have no session with each other"

# Listeners on the server: tcp/22 and tcp/80, both families, everything received in a file.
for port in 22 80; do
    for family in 4 6; do
        lab_spawn "$LAB_DIR/nc-$port-$family.log" ip netns exec "$LAB_PREFIX-$server" nc "-$family" -l -k "$port"
        [[ $port$family != 226 ]] || probe6=$LAB_LAST_PID
    done
done
reaches() { lab_exec "$1" nc -z -w 2 "$2" "$3"; }
lab_wait 20 "c1 reaches the server's tcp/22" reaches c1 "${addr[$server]}" 22
reaches c1 "${addr4[$server]}" 22 || lab_fail "c1 does not reach the server's tcp/22 over IPv4"
for target in "${addr[$server]}" "${addr4[$server]}"; do
    if reaches c1 "$target" 80; then lab_fail "c1 reaches the server's tcp/80 at $target"; fi
    if reaches c2 "$target" 80; then lab_fail "c2 reaches the server's tcp/80 at $target"; fi
done
lab_log "2/3 tcp/22 passes, tcp/80 does not (nc, IPv6 and IPv4)"

# 3. A session open across the revoke, to a listener of its own.
kill "$probe6" 2>/dev/null || true
session_log=$LAB_DIR/session-server.log
lab_spawn "$session_log" ip netns exec "$LAB_PREFIX-$server" nc -6 -l 22
sleep 0.5
# nc itself is the lab's process (stopped at the end: exec), and the lines stop when it has
# gone (EPIPE). A background job's standard input is /dev/null unless redirected in it.
lab_spawn "$LAB_DIR/session.log" ip netns exec "$LAB_PREFIX-c1" bash -c \
    "exec nc -v -6 ${addr[$server]} 22 < <(while echo \"line \$EPOCHREALTIME\"; do sleep 0.1; done)"
growing() { [[ $(wc -l <"$session_log") -gt 20 ]]; }
if ! lab_until "$EPOCHREALTIME" 10 growing >/dev/null; then
    echo "server side: $(wc -l <"$session_log") lines; client side:" >&2
    tail -n 5 "$LAB_DIR/session.log" >&2 || true
    lab_fail "the nc session from c1 to the server's tcp/22 carries no lines"
fi
cat >"$policy" <<'EOF'
# the laptops may only ping: the server, and each other
allow tag:laptop -> tag:server icmp
allow tag:laptop -> tag:laptop icmp
EOF
t0=$EPOCHREALTIME
lab_ctl p1 acl set "$mesh" "$policy" >/dev/null
applied=$(lab_until "$t0" 10 everywhere 2) || true
refused() { ! lab_exec c1 nc -z -w 1 "${addr[$server]}" 22; }
closed=$(lab_until "$t0" 10 refused) || true
c1c2() { lab_ping c1 "${addr[c2]}" 0.5 && lab_ping4 c2 "${addr4[c1]}" 0.5; }
opened=$(lab_until "$t0" 10 c1c2) || true
# Each measured after the one before, so the later ones are upper bounds. The session's
# lines carry the time c1 wrote them; the last to arrive was written when the rules changed.
sleep 3
last=$(tail -n 1 "$session_log" | awk '{print $2}')
stopped=$(awk -v last="$last" -v t0="$t0" 'BEGIN { printf "%.2f", last - t0 }')
lines=$(wc -l <"$session_log")
sleep 2
[[ $(wc -l <"$session_log") == "$lines" ]] || lab_fail "the nc session still carries lines after the revoke"
lab_log "    new policy applied by every member after ${applied} s; the open nc session's last line ${stopped} s" \
    "after signing; tcp/22 refused by ${closed} s; the laptops ping each other by ${opened} s (bar 5 s)"
for value in "$applied" "$stopped" "$closed" "$opened"; do
    lab_within "$value" 5 || lab_fail "a policy change took more than 5 s to take effect (see above)"
done
relays=$(printf '%s\n' "$relay1" "$relay2" | sort -u)
before=0
for name in $relays; do before=$((before + $(drops "$name" access_relay))); done
if reaches c1 "${addr[c2]}" 80; then lab_fail "c1 reaches c2's tcp/80"; fi
after=0
for name in $relays; do after=$((after + $(drops "$name" access_relay))); done
((after > before)) || lab_fail "no relay dropped c1's tcp/80 to c2 ($before -> $after)"
lab_log "3/3 the revoke cut the open session; c1's tcp/80 to c2 dropped by the relay ($((after - before)) packets)"
