"""The idle window: CPU seconds and RSS per process from /proc, bytes on the wire from nftables."""

import json
import os
import subprocess
import time


def read_procs(pids):
    """utime+stime in seconds, VmRSS and RssAnon (the part not backed by files: heap, stacks)
    in KiB of each pid, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu, rss, anon = [], [], []
    for pid in pids:
        with open(f"/proc/{pid}/stat") as file:
            # The command name may hold spaces: count fields after its closing parenthesis.
            fields = file.read().rsplit(")", 1)[1].split()
        cpu.append((int(fields[11]) + int(fields[12])) / ticks)
        with open(f"/proc/{pid}/status") as file:
            status = dict(line.split(":", 1) for line in file if ":" in line)
        rss.append(int(status["VmRSS"].split()[0]))
        anon.append(int(status["RssAnon"].split()[0]))
    return cpu, rss, anon


def read_nft(table, chain):
    """Sum of the byte and packet counters of every rule in one nftables chain."""
    listing = json.loads(subprocess.run(
        ["nft", "-j", "list", "chain", "inet", table, chain],
        check=True, capture_output=True, text=True).stdout)
    total_bytes = total_packets = 0
    for item in listing.get("nftables", []):
        for statement in item.get("rule", {}).get("expr", []):
            if "counter" in statement:
                total_bytes += statement["counter"]["bytes"]
                total_packets += statement["counter"]["packets"]
    return total_bytes, total_packets


def cmd_idle(args):
    """CPU seconds per process and wire bytes over an idle window, then RSS per process."""
    counters = (lambda: read_nft(args.table, args.chain)) if args.table else (lambda: (None, None))
    bytes0, packets0 = counters()
    cpu0, _, _ = read_procs(args.pids)
    began = time.monotonic()
    time.sleep(args.seconds)
    cpu1, rss, anon = read_procs(args.pids)
    elapsed = time.monotonic() - began
    bytes1, packets1 = counters()
    print(json.dumps({
        "seconds": round(elapsed, 3),
        "cpu_seconds": [round(b - a, 3) for a, b in zip(cpu0, cpu1)],
        "rss_kib": rss,
        "rss_anon_kib": anon,
        "wire_bytes": None if bytes0 is None else bytes1 - bytes0,
        "wire_packets": None if packets0 is None else packets1 - packets0,
    }))
    return 0
