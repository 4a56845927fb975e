#!/usr/bin/env python3
"""JSON and metrics readings for the shell test stages, one subcommand each.

Reads `smegctl ... --json` output, members.json, smeg-attack's JSON lines, a Prometheus scrape
or `wg show IFACE allowed-ips` on standard input (or from the files named), and prints plain
values a shell script can compare. A lookup whose value is absent prints an empty line and exits
1, so that a `set -e` script stops where the value went missing, unless the caller gives a
DEFAULT to print instead (for callers that test for the empty value themselves).
Named meshjson, not json, so that it never shadows the standard module it imports.
"""
import base64
import ipaddress
import json
import re
import sys


def load(source=None):
    """The JSON document, or {} when there is none (a daemon that did not answer)."""
    try:
        text = open(source).read() if source else sys.stdin.read()
        return json.loads(text) if text.strip() else {}
    except (OSError, ValueError):
        return {}


def members(view):
    return view.get("members", [])


def shell_value(value):
    """A JSON value as a script compares it: booleans as true/false, as the JSON spells them."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def found(value, default):
    """Prints a lookup's value; an absent one (None) as DEFAULT, or as an empty line and exit 1."""
    if value is not None:
        print(shell_value(value))
    elif default:
        print(default[0])
    else:
        print()
        sys.exit(1)


def field(args):
    """field PATH [DEFAULT]: the value at a dotted path (e.g. mesh.meshId, meshes.0.meshId: a
    number indexes a list)."""
    value = load()
    for key in args[0].split("."):
        if isinstance(value, list) and key.isdigit():
            value = value[int(key)] if int(key) < len(value) else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    found(value, args[1:])


def member(args):
    """member KEY=VALUE FIELD [DEFAULT]: FIELD of the first member whose KEY is VALUE (alias=c1,
    shortId=1a2b3c4d, id=KEY...); a null FIELD counts as absent."""
    key, _, wanted = args[0].partition("=")
    match = next((m for m in members(load()) if key in m and shell_value(m[key]) == wanted), {})
    found(match.get(args[1]), args[2:])


def member_count(_args):
    """The number of members in a view; 0 when there is none (a daemon that did not answer)."""
    print(len(members(load())))


def leader_name(_args):
    """The alias, or else the short id, of the member the view marks as leader; nothing if none."""
    for m in members(load()):
        if m.get("isLeader"):
            print(m.get("alias") or m["shortId"])


def mesh(args):
    """mesh MESH FIELD [DEFAULT]: FIELD of mesh MESH (its id) in a `smegctl list --json`."""
    match = next((m for m in load().get("meshes") or [] if m.get("meshId") == args[0]), {})
    found(match.get(args[1]), args[2:])


def no_path(what):
    """Stops with a clear message: the daemon does not report paths (no direct paths in it)."""
    print(f"meshjson: {what} has no \"path\" object: this smegd does not report paths "
          "(direct paths through NAT are not in this build)", file=sys.stderr)
    sys.exit(2)


def path_words(path, view):
    """A path object as KIND ENDPOINT VIA REASON on one line: VIA the relays' aliases (else short
    ids) joined by '>', '-' for a null endpoint, no relay or no reason; REASON last (it has spaces)."""
    names = {m["shortId"]: m.get("alias") or m["shortId"] for m in members(view)}
    via = ">".join(names.get(short, short) for short in path.get("via") or []) or "-"
    return f"{path.get('kind')} {path.get('endpoint') or '-'} {via} {path.get('reason') or '-'}"


def path(args):
    """path KEY=VALUE: the path to the first member whose KEY is VALUE, as path_words prints it;
    an empty line and exit 1 when there is no such member, exit 2 with a message when the member
    has no path (a smegd without direct paths)."""
    view = load()
    key, _, wanted = args[0].partition("=")
    match = next((m for m in members(view) if key in m and shell_value(m[key]) == wanted), None)
    if match is None:
        found(None, [])
    if not isinstance(match.get("path"), dict):
        no_path(f"member {wanted} in smegctl get --json")
    print(path_words(match["path"], view))


def ping_result(_args):
    """Reads `smegctl ping MESH MEMBER --json`: the path as path_words prints it, then on a second
    line the replies that came and the pings sent, and their average round trip in ms ("-" if
    none came); exit 2 with a message when the answer lacks the fields."""
    answer = load()
    replies = answer.get("replies")
    if not isinstance(answer.get("path"), dict) or not isinstance(replies, list):
        no_path("the answer of smegctl ping --json (or its \"replies\")")
    print(path_words(answer["path"], {}))
    rtts = [r["rttMilliseconds"] for r in replies if isinstance(r, dict) and "rttMilliseconds" in r]
    print(len(rtts), len(replies), f"{sum(rtts) / len(rtts):.2f}" if rtts else "-")


def wg_endpoint(args):
    """wg-endpoint KEY: reads `wg show IFACE endpoints`; the endpoint of peer KEY, or "-" when it
    has none ("(none)") or is no peer there."""
    for line in sys.stdin:
        words = line.split()
        if len(words) == 2 and words[0] == args[0]:
            print("-" if words[1] == "(none)" else words[1])
            return
    print("-")


def ping_gaps(args):
    """ping-gaps START END FILE: reads the output of `ping -D` (a [unix time] before every reply)
    in FILE; prints the longest time without a reply within START..END (unix times, its edges
    count as replies) in seconds, and how many replies came within it."""
    start, end = float(args[0]), float(args[1])
    times = []
    for line in open(args[2]):
        stamp = re.match(r"^\[(\d+\.\d+)\] \d+ bytes from", line)
        if stamp and start <= float(stamp.group(1)) <= end:
            times.append(float(stamp.group(1)))
    edges = [start] + times + [end]
    print(f"{max(b - a for a, b in zip(edges, edges[1:])):.2f}", len(times))


def route(args):
    """route PREFIX: the exit (empty when the route has none) and the next hop of the view's
    routing entry for PREFIX, on one line; nothing if the view routes no such prefix."""
    for entry in load().get("routing") or []:
        if entry["prefix"] == args[0]:
            print(entry.get("exit") or "", entry["via"])


def wg_holder(args):
    """wg-holder PREFIX: reads `wg show IFACE allowed-ips`; the short id (the first 4 bytes of
    the key, in hex) of every peer whose AllowedIPs list PREFIX exactly."""
    for line in sys.stdin:
        words = line.split()
        if args[0] in words[1:]:
            print(base64.b64decode(words[0])[:4].hex())


def self_id(_args):
    print(next((m["id"] for m in members(load()) if m.get("isSelf")), ""))


def self_short(_args):
    print(next((m["shortId"] for m in members(load()) if m.get("isSelf")), ""))


def member_ids(_args):
    for m in members(load()):
        print(m["id"])


def count_present(args):
    """count-present ID...: how many of the given member keys the view holds."""
    present = {m["id"] for m in members(load())}
    print(sum(1 for key in args if key in present))


def leader(_args):
    print(load().get("mesh", {}).get("leader") or "")


def alias_problems(_args):
    """One line per alias that two members share, or that equals another member's short id."""
    view = members(load())
    seen = {}
    shorts = {m["shortId"]: m["id"] for m in view}
    for member in view:
        alias = member.get("alias") or ""
        if not alias:
            continue
        if alias in seen:
            print(f"alias {alias} held by {seen[alias]} and {member['shortId']}")
        seen.setdefault(alias, member["shortId"])
        if alias in shorts and shorts[alias] != member["id"]:
            print(f"alias {alias} of {member['shortId']} is another member's short id")


def bad_content(_args):
    """One line per member that advertises a default or foreign route, or an unusable endpoint."""
    for member in members(load()):
        for route in member.get("routes", []):
            prefix = ipaddress.ip_network(route["prefix"], strict=False)
            if prefix.prefixlen == 0 or prefix.overlaps(ipaddress.ip_network("8.8.8.8/32")):
                print(f"{member['shortId']} advertises {route['prefix']}")
        for endpoint in member.get("endpoints", []):
            host = endpoint.rsplit(":", 1)[0].strip("[]")
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                print(f"{member['shortId']} has a named endpoint {endpoint}")
                continue
            if address.is_multicast or address.is_unspecified:
                print(f"{member['shortId']} has endpoint {endpoint}")


def record_owner(payload):
    """The member a signed record belongs to: its WireGuard key, right after the format byte."""
    return base64.b64encode(base64.b64decode(payload)[1:33]).decode()


def record_of(args):
    """record-of ID FILE: the base64 record of member ID in a members.json."""
    saved = load(args[1])
    print(next((r for r in saved.get("records", []) if record_owner(r) == args[0]), ""))


def metrics(_args):
    """A Prometheus scrape to {"frames/REASON": n, "records/REASON": n} for the reject counters."""
    out = {}
    pattern = re.compile(r'^smeg_(frames|records)_rejected_total\{reason="([^"]*)"\}\s+(\S+)')
    for line in sys.stdin:
        found = pattern.match(line)
        if found:
            key = f"{found.group(1)}/{found.group(2)}"
            out[key] = out.get(key, 0) + float(found.group(3))
    print(json.dumps(out, sort_keys=True))


def metrics_delta(args):
    """metrics-delta BEFORE AFTER [--frames] [--ignore KEY]... [--only KEY]...: the rejections
    counted in between, then the per-reason deltas.

    Refused stale records are always left out of the total: honest gossip repeats news all the
    time, so they grow without any attack and would make every case look counted. A case whose
    own side effects cause other refusals (a killed member's old records are refused as
    "removed") leaves those out too with --ignore; --frames counts only refused frames, for attacks
    that can only be refused as frames; --only KEY counts just the reasons named.
    """
    before, after = json.loads(args[0] or "{}"), json.loads(args[1] or "{}")
    options = args[2:]
    ignored = {"records/stale"} | {options[i + 1] for i, o in enumerate(options) if o == "--ignore"}
    only = {options[i + 1] for i, o in enumerate(options) if o == "--only"}
    frames_only = "--frames" in options
    deltas = {k: after.get(k, 0) - before.get(k, 0) for k in sorted(set(before) | set(after))}
    deltas = {k: v for k, v in deltas.items() if v}
    counted = [
        v
        for k, v in deltas.items()
        if v > 0 and k not in ignored and (k.startswith("frames/") or not frames_only) and (not only or k in only)
    ]
    print(int(sum(counted)))
    print(" ".join(f"{k}+{int(v)}" for k, v in deltas.items()) or "none")


def lines(args):
    """lines KEY: that field of every smeg-attack JSON line on standard input that has it."""
    for text in sys.stdin:
        text = text.strip()
        if text.startswith("{"):
            value = json.loads(text).get(args[0])
            if value is not None:
                print(value)


def merge_members(args):
    """merge-members A B: members.json A with the records of B added (a state fixture)."""
    first, second = load(args[0]), load(args[1])
    first["records"] = first.get("records", []) + second.get("records", [])
    print(json.dumps(first))


COMMANDS = {
    "field": field,
    "member": member,
    "member-count": member_count,
    "leader-name": leader_name,
    "mesh": mesh,
    "route": route,
    "path": path,
    "ping-result": ping_result,
    "wg-endpoint": wg_endpoint,
    "ping-gaps": ping_gaps,
    "wg-holder": wg_holder,
    "self-id": self_id,
    "self-short": self_short,
    "members": member_ids,
    "count-present": count_present,
    "leader": leader,
    "alias-problems": alias_problems,
    "bad-content": bad_content,
    "record-of": record_of,
    "merge-members": merge_members,
    "metrics": metrics,
    "metrics-delta": metrics_delta,
    "lines": lines,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: meshjson.py {{{','.join(COMMANDS)}}} ARGS...")
    COMMANDS[sys.argv[1]](sys.argv[2:])
