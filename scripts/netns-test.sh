#!/usr/bin/env bash
# WireGuard end to end in network namespaces, configured by smegmesh's own code only.
#
# Three namespaces a - b - c joined by two veth links (b routes between them). In each, a
# userspace WireGuard interface (wireguard-go: this host's kernel has no module) is created and
# configured by `smeg-netcheck apply` — our rtnetlink and UAPI code, never `wg set` or `ip addr`.
# Then `wg show` and `ip` must report exactly what we set, `ping -6` must cross the tunnels,
# re-applying must change nothing, a roamed endpoint must survive, and 500 peers must read back.
#
# Interface names differ per namespace because /var/run/wireguard/<ifname>.sock is one
# directory for all namespaces. Everything is torn down on exit, failure included.
#
# The VM test (scripts/vm-test.sh) runs this same script inside a kernel that has the module,
# with SMEG_WG_BACKEND=kernel, so both backends pass exactly the same checks.
#
# Environment: SMEG_NETCHECK=path of a built smeg-netcheck (default: build it with SwiftPM);
# SMEG_WG_BACKEND=auto|kernel|userspace (default auto, which must pick userspace on a host
# without the module); SMEG_WG_BENCH=1 also prints the 1000-peer timing report, built in
# release unless SMEG_BENCH_NETCHECK names a binary.
set -euo pipefail
cd "$(dirname "$0")/.."

# Never skip: a stage that exits 0 without running would let `make test` report a pass.
if [[ $(id -u) -ne 0 ]]; then
    echo "netns-test: FAIL: needs root (network namespaces): run make test as root" >&2
    exit 1
fi

SWIFT=${SWIFT:-swift}
if [[ -z "${SMEG_NETCHECK:-}" ]]; then
    $SWIFT build --product smeg-netcheck ${SMEG_SCRATCH:+--scratch-path "$SMEG_SCRATCH"} >/dev/null
    SMEG_NETCHECK="$($SWIFT build --show-bin-path ${SMEG_SCRATCH:+--scratch-path "$SMEG_SCRATCH"})/smeg-netcheck"
fi
netcheck=$(realpath "$SMEG_NETCHECK")
backend=${SMEG_WG_BACKEND:-auto}
expected_backend=$backend
if [[ $backend == auto ]]; then
    expected_backend=userspace
    if [[ -d /sys/module/wireguard ]]; then expected_backend=kernel; fi
fi

prefix="smegwg$$"
namespaces=("$prefix-a" "$prefix-b" "$prefix-c")
# Short, per-namespace names (IFNAMSIZ is 16 including the NUL).
suffix=$(($$ % 10000))
declare -A wgif=([a]="swa$suffix" [b]="swb$suffix" [c]="swc$suffix")
bulkif="swbulk$suffix"
benchif="swbench$suffix"
work=$(mktemp -d)
started_at=$(date +%s)

cleanup() {
    local status=$?
    if [[ "${SMEG_NETNS_KEEP:-0}" == 1 ]]; then echo "netns-test: keeping namespaces for debugging" >&2; exit "$status"; fi
    # wireguard-go exits when its TUN link is deleted. Delete the links first: a namespace that
    # still holds a process (wireguard-go itself) outlives `ip netns del`, and so would its links.
    for ns in "${namespaces[@]}"; do
        for link in "${wgif[@]}" "$bulkif" "$benchif"; do
            ip netns exec "$ns" ip link del "$link" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true
    done
    # Then stop any straggler of ours by pid (matched on our unique interface names).
    for _ in $(seq 20); do
        command -v pgrep >/dev/null || break # busybox in the VM has none, and no wireguard-go either
        pids=$(pgrep -x -f "wireguard-go (${wgif[a]}|${wgif[b]}|${wgif[c]}|$bulkif|$benchif)" || true)
        [[ -z "$pids" ]] && break
        sleep 0.1
    done
    if [[ -n "${pids:-}" ]]; then
        # shellcheck disable=SC2086
        kill $pids 2>/dev/null || true
    fi
    rm -f /var/run/wireguard/{"${wgif[a]}","${wgif[b]}","${wgif[c]}",$bulkif,$benchif}.sock
    rm -rf "$work"
    if ((status != 0)); then echo "netns-test: FAILED (see above)" >&2; fi
    exit "$status"
}
trap cleanup EXIT INT TERM

fail() {
    echo "netns-test: FAIL: $*" >&2
    exit 1
}
in_ns() {
    local ns="$prefix-$1"
    shift
    ip netns exec "$ns" "$@"
}
expect_eq() { # what, expected, actual
    if [[ "$2" != "$3" ]]; then
        printf 'netns-test: FAIL: %s\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3" >&2
        exit 1
    fi
    echo "  ok: $1"
}

echo "netns-test: namespaces ${namespaces[*]}"
for ns in "${namespaces[@]}"; do
    ip netns add "$ns"
    ip netns exec "$ns" ip link set lo up
done
# Underlay: a <-> b on fd00:aa:1::/64, b <-> c on fd00:aa:2::/64, b forwards.
ip link add "v$suffix-ab" netns "$prefix-a" type veth peer name "v$suffix-ba" netns "$prefix-b"
ip link add "v$suffix-bc" netns "$prefix-b" type veth peer name "v$suffix-cb" netns "$prefix-c"
in_ns a ip addr add fd00:aa:1::1/64 dev "v$suffix-ab" nodad
in_ns b ip addr add fd00:aa:1::2/64 dev "v$suffix-ba" nodad
in_ns b ip addr add fd00:aa:2::2/64 dev "v$suffix-bc" nodad
in_ns c ip addr add fd00:aa:2::3/64 dev "v$suffix-cb" nodad
in_ns a ip link set "v$suffix-ab" up
in_ns b ip link set "v$suffix-ba" up
in_ns b ip link set "v$suffix-bc" up
in_ns c ip link set "v$suffix-cb" up
in_ns b sysctl -qw net.ipv6.conf.all.forwarding=1
in_ns a ip route add fd00:aa:2::/64 via fd00:aa:1::2
in_ns c ip route add fd00:aa:1::/64 via fd00:aa:2::2

declare -A private public overlay port endpoint
overlay=([a]=fd00:5eed::1 [b]=fd00:5eed::2 [c]=fd00:5eed::3)
port=([a]=51821 [b]=51822 [c]=51823)
# c is the "NAT'd client": nobody is told its endpoint; it dials a and b and they learn it.
endpoint=([a]="[fd00:aa:1::1]:51821" [b]="[fd00:aa:1::2]:51822" [c]="")
for node in a b c; do
    private[$node]=$(wg genkey)
    public[$node]=$(echo "${private[$node]}" | "$netcheck" pubkey)
    [[ "${public[$node]}" == "$(echo "${private[$node]}" | wg pubkey)" ]] || fail "our pubkey differs from wg pubkey"
done
# b reaches c's network at its own address there.
endpoint_from_c_to_b="[fd00:aa:2::2]:51822"

spec() { # node [extra-allowed-for-b] [omit-peer]
    local node=$1 extra=${2:-} omit=${3:-} peers="" sep=""
    for other in a b c; do
        [[ $other == "$node" || $other == "$omit" ]] && continue
        local ep="${endpoint[$other]}"
        [[ $node == c && $other == b ]] && ep=$endpoint_from_c_to_b
        local allowed="\"${overlay[$other]}/128\""
        [[ $other == b && -n "$extra" ]] && allowed+=", \"$extra\""
        peers+="$sep{\"publicKey\": \"${public[$other]}\", \"allowedIPs\": [$allowed]"
        [[ -n "$ep" ]] && peers+=", \"endpoint\": \"$ep\""
        [[ $node == c ]] && peers+=", \"persistentKeepalive\": 1"
        peers+="}"
        sep=", "
    done
    local routes="" rsep=""
    for other in a b c; do
        [[ $other == "$node" || $other == "$omit" ]] && continue
        routes+="$rsep\"${overlay[$other]}/128\""
        rsep=", "
    done
    cat <<JSON
{"interface": "${wgif[$node]}", "mtu": 1380, "up": true, "privateKey": "${private[$node]}",
 "listenPort": ${port[$node]}, "fwmark": 0, "peers": [$peers],
 "addresses": ["${overlay[$node]}/64"], "noPrefixRoute": true, "routes": [$routes]}
JSON
}

apply() { # node [spec args...] -> JSON report on stdout
    local node=$1
    shift
    spec "$node" "$@" >"$work/$node.json"
    in_ns "$node" "$netcheck" apply --backend "$backend" "$work/$node.json" 2>"$work/$node.log" || {
        cat "$work/$node.log" >&2
        fail "apply on $node"
    }
}
field() { # json-text key -> value
    grep -o "\"$2\" : [0-9]*" <<<"$1" | grep -o '[0-9]*$'
}

# Checks one node with wg and ip (not our code): keys, port, peers, addresses, routes, link.
verify_node() {
    local node=$1 ifname=${wgif[$1]} expected actual routes link flags ep keep
    expected="${private[$node]}	${public[$node]}	${port[$node]}	off"
    expect_eq "$node: interface keys and port" "$expected" "$(in_ns "$node" wg show "$ifname" dump | head -1)"
    expected=""
    for other in a b c; do
        [[ $other == "$node" ]] && continue
        ep="${endpoint[$other]:-(none)}"
        [[ $node == c && $other == b ]] && ep=$endpoint_from_c_to_b
        keep=off
        [[ $node == c ]] && keep=1
        expected+="${public[$other]} $ep ${overlay[$other]}/128 $keep"$'\n'
    done
    actual=$(in_ns "$node" wg show "$ifname" dump | tail -n +2 | awk '{print $1, $3, $4, $8}' | sort)
    expect_eq "$node: peers, endpoints, allowed ips, keepalive" "$(sort <<<"${expected%$'\n'}")" "$actual"
    expect_eq "$node: global IPv6 addresses" "${overlay[$node]}/64 noprefixroute" \
        "$(in_ns "$node" ip -o -6 addr show dev "$ifname" scope global | awk '{print $4, $7}')"
    routes=""
    for other in a b c; do [[ $other != "$node" ]] && routes+="${overlay[$other]} metric 1024"$'\n'; done
    expect_eq "$node: mesh routes (proto 94)" "$(sort <<<"${routes%$'\n'}")" \
        "$(in_ns "$node" ip -6 route show dev "$ifname" proto 94 | awk '{print $1, $2, $3}' | sort)"
    link=$(in_ns "$node" ip -o link show dev "$ifname")
    flags=$(grep -o '<[^>]*>' <<<"$link" | tr -d '<>' | tr ',' '\n')
    expect_eq "$node: link up with mtu 1380" "up=1 mtu 1380" \
        "up=$(grep -cx UP <<<"$flags") $(grep -o 'mtu [0-9]*' <<<"$link")"
}

# c keeps its peers' sessions alive, so a and b would learn c's endpoint at once: check a and
# b before c exists, so that "exactly what we set" includes "no endpoint for c".
echo "netns-test: configuring WireGuard with smeg-netcheck; wg show and ip must report it exactly"
for node in a b c; do
    report=$(apply "$node")
    grep -q "\"backend\" : \"$expected_backend\"" <<<"$report" || fail "expected the $expected_backend backend: $report"
    if [[ $backend == auto && $expected_backend == userspace ]]; then
        grep -q "the kernel has no WireGuard module" "$work/$node.log" ||
            fail "auto backend did not say why it fell back to userspace"
    fi
    [[ $(field "$report" peersAdded) == 2 ]] || fail "expected 2 peers added on $node: $report"
    verify_node "$node"
done
echo "  ok: $backend backend configured all three as $expected_backend"

echo "netns-test: ping -6 across the tunnels"
in_ns c ping -6 -c 1 -i 0.2 -w 12 "${overlay[a]}" >/dev/null || fail "c cannot ping a over WireGuard"
in_ns c ping -6 -c 1 -i 0.2 -w 12 "${overlay[b]}" >/dev/null || fail "c cannot ping b over WireGuard"
in_ns a ping -6 -c 1 -i 0.2 -w 12 "${overlay[b]}" >/dev/null || fail "a cannot ping b over WireGuard"
in_ns a ping -6 -c 1 -i 0.2 -w 12 "${overlay[c]}" >/dev/null || fail "a cannot ping c (roamed endpoint)"
echo "  ok: a<->b, c->a, c->b and a->c (via c's roamed endpoint)"

echo "netns-test: reconciliation keeps what it should"
roamed=$(in_ns a wg show "${wgif[a]}" endpoints | grep "${public[c]}" | awk '{print $2}')
[[ "$roamed" == "[fd00:aa:2::3]:51823" ]] || fail "a did not learn c's endpoint: $roamed"
handshake_b=$(in_ns a wg show "${wgif[a]}" latest-handshakes | grep "${public[b]}" | awk '{print $2}')
report=$(apply a)
for key in peersAdded peersChanged peersRemoved deviceFieldsChanged; do
    [[ $(field "$report" "$key") == 0 ]] || fail "re-applying an unchanged spec changed something: $report"
done
[[ "$report" == *'"addressesAdded" : [

  ]'* && "$report" == *'"routesReplaced" : [

  ]'* ]] || fail "re-applying changed addresses or routes: $report"
echo "  ok: re-applying the same spec sends nothing"
expect_eq "a: c's roamed endpoint survives a re-apply" "[fd00:aa:2::3]:51823" \
    "$(in_ns a wg show "${wgif[a]}" endpoints | grep "${public[c]}" | awk '{print $2}')"
report=$(apply a fd00:5eed:b::/64)
[[ $(field "$report" peersChanged) == 1 && $(field "$report" peersAdded) == 0 ]] ||
    fail "one changed peer should be one update: $report"
expect_eq "a: b's AllowedIPs grew" "fd00:5eed::2/128 fd00:5eed:b::/64" \
    "$(in_ns a wg show "${wgif[a]}" allowed-ips | grep "${public[b]}" | cut -f2)"
expect_eq "a: b's session was not reset by the change" "$handshake_b" \
    "$(in_ns a wg show "${wgif[a]}" latest-handshakes | grep "${public[b]}" | awk '{print $2}')"
report=$(apply a fd00:5eed:b::/64 c)
[[ $(field "$report" peersRemoved) == 1 ]] || fail "dropping c should remove one peer: $report"
expect_eq "a: c is gone, b stays" "${public[b]}" "$(in_ns a wg show "${wgif[a]}" peers)"
expect_eq "a: c's mesh route is gone" "${overlay[b]}" \
    "$(in_ns a ip -6 route show dev "${wgif[a]}" proto 94 | awk '{print $1}')"
in_ns a "$netcheck" dump "${wgif[a]}" >"$work/dump.json"
grep -q "\"backend\" : \"$expected_backend\"" "$work/dump.json" || fail "dump did not report the $expected_backend backend"
grep -q "\"noPrefixRoute\" : true" "$work/dump.json" || fail "dump lost the noprefixroute flag"

echo "netns-test: 500 peers through the $expected_backend backend"
in_ns b "$netcheck" peers "$bulkif" --count 500 --backend "$expected_backend" 2>/dev/null | tee "$work/bulk.txt"
grep -q "read_back=500 match=true" "$work/bulk.txt" || fail "500 peers did not read back"
expect_eq "wg show counts 500 peers" 500 "$(in_ns b wg show "$bulkif" peers | wc -l)"
if [[ $expected_backend == userspace && ! -d /sys/module/wireguard ]]; then
    if out=$(in_ns b "$netcheck" peers "${bulkif}k" --count 1 --backend kernel 2>&1); then
        fail "forcing the kernel backend on a host without the module should fail"
    fi
    grep -q "no WireGuard module" <<<"$out" || fail "forced kernel backend gave an unclear error: $out"
    echo "  ok: forcing the kernel backend without the module fails clearly"
fi

if [[ "${SMEG_WG_BENCH:-0}" == 1 ]]; then
    echo "netns-test: timing report (release build, $expected_backend backend)"
    bench=${SMEG_BENCH_NETCHECK:-}
    if [[ -z "$bench" ]]; then
        scratch=${SMEG_BENCH_SCRATCH:-.build-wg-rel}
        $SWIFT build -c release --product smeg-netcheck --scratch-path "$scratch" >/dev/null
        bench="$($SWIFT build -c release --show-bin-path --scratch-path "$scratch")/smeg-netcheck"
    fi
    in_ns b "$bench" bench "$benchif" --peers 1000 --rounds "${SMEG_BENCH_ROUNDS:-5}" --backend "$expected_backend" \
        2>/dev/null | tee "$work/bench.json"
    if [[ -n "${SMEG_BENCH_OUT:-}" ]]; then cp "$work/bench.json" "$SMEG_BENCH_OUT"; fi
fi

echo "netns-test: PASS ($(($(date +%s) - started_at)) s)"
