"""The idle window: CPU seconds and RSS per process from /proc, bytes on the wire from nftables
(in total, and sent and received per process)."""

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


def read_nft(table):
    """The counters of the bench's nftables table, by rule comment: the sum of the rules
    commented "total" (bytes, packets), and per member index the "sent I" and "recv I" rules
    (dicts of index -> [bytes, packets])."""
    result = subprocess.run(["nft", "-j", "list", "table", "inet", table],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench: cannot read the nftables counters of table {table}: "
                         f"{result.stderr.strip()}")
    total = [0, 0]
    per = {"sent": {}, "recv": {}}
    for item in json.loads(result.stdout).get("nftables", []):
        rule = item.get("rule")
        if not rule:
            continue
        comment = rule.get("comment", "")
        for statement in rule.get("expr", []):
            if "counter" not in statement:
                continue
            counted = [statement["counter"]["bytes"], statement["counter"]["packets"]]
            what, _, index = comment.partition(" ")
            if comment == "total":
                total = [total[0] + counted[0], total[1] + counted[1]]
            elif what in per and index.isdigit():
                per[what][int(index)] = counted
    return total, per


def cmd_idle(args):
    """CPU seconds per process and wire bytes (in total and per process, what each sends and
    receives) over an idle window, then RSS per process."""
    members = [int(i) for i in args.members.split(",")] if args.members else []
    if members and len(members) != len(args.pids):
        raise SystemExit("bench: idle: --members must list one index per pid")
    counters = (lambda: read_nft(args.table)) if args.table else (lambda: (None, None))
    total0, per0 = counters()
    cpu0, _, _ = read_procs(args.pids)
    began = time.monotonic()
    time.sleep(args.seconds)
    cpu1, rss, anon = read_procs(args.pids)
    elapsed = time.monotonic() - began
    total1, per1 = counters()

    def delta(what, field):
        # One number per process, in the order of the pids; None without per-process rules.
        if per0 is None or not members or not per1[what]:
            return None
        return [per1[what].get(i, [0, 0])[field] - per0[what].get(i, [0, 0])[field]
                for i in members]

    print(json.dumps({
        "seconds": round(elapsed, 3),
        "members": members,
        "cpu_seconds": [round(b - a, 3) for a, b in zip(cpu0, cpu1)],
        "rss_kib": rss,
        "rss_anon_kib": anon,
        "wire_bytes": None if total0 is None else total1[0] - total0[0],
        "wire_packets": None if total0 is None else total1[1] - total0[1],
        "sent_bytes": delta("sent", 0),
        "sent_packets": delta("sent", 1),
        "recv_bytes": delta("recv", 0),
        "recv_packets": delta("recv", 1),
    }))
    return 0
