"""The idle window of scripts/bench-wg-idle.sh: per node (a network namespace), the bytes and
packets its uplink sends and receives, split by port into gossip, WireGuard and other (the
nftables counters bench-wg-idle.sh put in each namespace), and the CPU and RSS of its smegd and
its wireguard-go."""

import json
import os
import statistics
import subprocess
import time

from bench.idle import read_procs

CLASSES = ("gossip", "wireguard", "other")
# Inner packets on the mesh's WireGuard interface: already inside the "wireguard" bytes above.
TUNNEL = ("tunnel-gossip", "tunnel-redirect", "tunnel-other")


def read_counters(namespace, table):
    """{"gossip sent": [bytes, packets], ...}: the counters of TABLE in NAMESPACE, by comment."""
    result = subprocess.run(["ip", "netns", "exec", namespace, "nft", "-j", "list", "table", "inet", table],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench-wg-idle: cannot read the counters in {namespace}: {result.stderr.strip()}")
    out = {}
    for item in json.loads(result.stdout).get("nftables", []):
        rule = item.get("rule") or {}
        for statement in rule.get("expr", []):
            if "counter" in statement and rule.get("comment"):
                out[rule["comment"]] = [statement["counter"]["bytes"], statement["counter"]["packets"]]
    return out


def wireguard_pids(namespace):
    """The wireguard-go processes in a namespace (userspace WireGuard: one per interface)."""
    listing = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout
    pids = []
    for pid in listing.split():
        try:
            with open(f"/proc/{pid}/comm") as file:
                if file.read().strip().startswith("wireguard-go"):
                    pids.append(int(pid))
        except OSError:
            pass
    return pids


def cmd_wg_idle(args):
    nodes = []
    for spec in args.nodes:
        parts = spec.split("=")
        if len(parts) != 4 or not parts[3].isdigit():
            raise SystemExit(f"bench-wg-idle: a node is NAME=ROLE=NAMESPACE=PID, not {spec!r}")
        nodes.append({"name": parts[0], "role": parts[1], "namespace": parts[2], "smegd": int(parts[3])})
    for node in nodes:
        node["wireguard_go"] = wireguard_pids(node["namespace"])
    before = {n["name"]: read_counters(n["namespace"], args.table) for n in nodes}
    smegd0, _, _ = read_procs([n["smegd"] for n in nodes])
    wg0 = [read_procs(n["wireguard_go"])[0] for n in nodes]
    began = time.monotonic()
    time.sleep(args.seconds)
    smegd1, rss, _ = read_procs([n["smegd"] for n in nodes])
    wg1 = [read_procs(n["wireguard_go"]) for n in nodes]
    elapsed = time.monotonic() - began
    after = {n["name"]: read_counters(n["namespace"], args.table) for n in nodes}
    minutes = elapsed / 60
    for k, node in enumerate(nodes):
        rates = {}
        for cls in CLASSES + TUNNEL:
            for way in ("sent", "recv"):
                key = f"{cls} {way}"
                a, b = before[node["name"]].get(key, [0, 0]), after[node["name"]].get(key, [0, 0])
                cls_key = cls.replace("-", "_")
                rates[f"{cls_key}_{way}_bytes_per_minute"] = round((b[0] - a[0]) / minutes)
                rates[f"{cls_key}_{way}_packets_per_minute"] = round((b[1] - a[1]) / minutes, 1)
        node.update(rates)
        node["smegd_cpu_seconds_per_minute"] = round((smegd1[k] - smegd0[k]) / minutes, 3)
        node["smegd_rss_mib"] = round(rss[k] / 1024, 1)
        node["wireguard_go_cpu_seconds_per_minute"] = round((sum(wg1[k][0]) - sum(wg0[k])) / minutes, 3)
        node["wireguard_go_rss_mib"] = round(sum(wg1[k][1]) / 1024, 1)
        node["total_sent_bytes_per_minute"] = sum(rates[f"{c}_sent_bytes_per_minute"] for c in CLASSES)
        node["total_recv_bytes_per_minute"] = sum(rates[f"{c}_recv_bytes_per_minute"] for c in CLASSES)

    bytes_columns = [  # header, key, format
        ("gossip out", "gossip_sent_bytes_per_minute", "{:.0f}"),
        ("gossip in", "gossip_recv_bytes_per_minute", "{:.0f}"),
        ("wg out", "wireguard_sent_bytes_per_minute", "{:.0f}"),
        ("wg in", "wireguard_recv_bytes_per_minute", "{:.0f}"),
        ("other out", "other_sent_bytes_per_minute", "{:.0f}"),
        ("other in", "other_recv_bytes_per_minute", "{:.0f}"),
        ("tun gsp out", "tunnel_gossip_sent_bytes_per_minute", "{:.0f}"),
        ("tun gsp in", "tunnel_gossip_recv_bytes_per_minute", "{:.0f}"),
        ("tun redir out", "tunnel_redirect_sent_bytes_per_minute", "{:.0f}"),
        ("tun oth out", "tunnel_other_sent_bytes_per_minute", "{:.0f}"),
        ("tun oth in", "tunnel_other_recv_bytes_per_minute", "{:.0f}"),
    ]
    other_columns = [
        ("pkts out", None, "{:.0f}"),
        ("pkts in", None, "{:.0f}"),
        ("gossip out", "gossip_sent_packets_per_minute", "{:.0f}"),
        ("wg out", "wireguard_sent_packets_per_minute", "{:.0f}"),
        ("wg in", "wireguard_recv_packets_per_minute", "{:.0f}"),
        ("smegd CPU", "smegd_cpu_seconds_per_minute", "{:.3f}"),
        ("smegd RSS", "smegd_rss_mib", "{:.1f}"),
        ("wg-go CPU", "wireguard_go_cpu_seconds_per_minute", "{:.3f}"),
        ("wg-go RSS", "wireguard_go_rss_mib", "{:.1f}"),
    ]

    def value(node, header, key):
        if key:
            return node[key]
        way = "sent" if header.endswith("out") else "recv"
        return sum(node[f"{c}_{way}_packets_per_minute"] for c in CLASSES)

    groups = [("mean", nodes)] + [(f"mean {r}", [n for n in nodes if n["role"] == r])
                                  for r in sorted({n["role"] for n in nodes})]
    lines = [f"Idle with WireGuard in namespaces: {len(nodes)} nodes, {elapsed:.0f} s window, "
             "per minute, on each node's uplink (eth0)"]
    means = {}
    for title, columns in (("bytes (B/min); tun = inner packets on the WireGuard interface, "
                            "already inside wg out/in", bytes_columns),
                           ("packets (/min), CPU (s/min), RSS (MiB)", other_columns)):
        lines.append(f"  {title}")
        lines.append(f"  {'node':8} {'role':7}" + "".join(f" {h:>11}" for h, _, _ in columns))
        for node in nodes:
            lines.append(f"  {node['name']:8} {node['role']:7}"
                         + "".join(f" {f.format(value(node, h, k)):>11}" for h, k, f in columns))
        for label, group in groups:
            if not group:
                continue
            row = [statistics.mean(value(n, h, k) for n in group) for h, k, _ in columns]
            means.setdefault(label, {}).update(
                {(k or h.replace(" ", "_")): round(v, 3) for (h, k, _), v in zip(columns, row)})
            lines.append(f"  {label:16}" + "".join(f" {f.format(v):>11}" for (_, _, f), v in zip(columns, row)))
    total = statistics.mean(n["total_sent_bytes_per_minute"] for n in nodes)
    gossip = statistics.mean(n["gossip_sent_bytes_per_minute"] for n in nodes)
    wireguard = statistics.mean(n["wireguard_sent_bytes_per_minute"] for n in nodes)
    lines.append(f"  per node, mean: {total:.0f} B/min sent on the uplink, of which gossip {gossip:.0f} "
                 f"and WireGuard {wireguard:.0f}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"seconds": round(elapsed, 3), "nodes": nodes, "means": means,
                       "gossip_port": args.gossip_port, "wireguard_port": args.wireguard_port,
                       "kernel": os.uname().release}, file, indent=1)
            file.write("\n")
    if args.text:
        with open(args.text, "w") as file:
            file.write(text)
    return 0
