#!/usr/bin/env python3
"""Measurement side of scripts/bench.sh: polls N smegd daemons or N Serf agents in parallel.

bench.sh starts and stops the processes; this program times what they see. It treats both
systems the same way: one persistent connection per process (smegd: HTTP/1.1 keep-alive on its
control socket, `GET /v1/meshes`; Serf: its msgpack RPC on TCP, `members-filtered` by name),
every process polled every --interval seconds at a random phase, and per process the first poll
that sees the condition. The reported time is the maximum over processes, so it is an upper
bound with a resolution of one interval (plus one request's latency) for both systems alike.

Subcommands (targets files hold one `INDEX ADDRESS` line per process: a socket path for smegd,
HOST:PORT of the RPC listener for Serf):
  settle   wait until every target sees COUNT live members (not timed precisely; setup only)
  join     spawn the join command, time until every target lists NAME as alive
  fail     kill -9 PID, time until no target lists NAME (smegd: member count back to COUNT)
  leader   print the index of the smegd target that reports itself leader
  idle     CPU seconds (from /proc) and wire bytes (nftables counters) over an idle window,
           then the RSS of each process
  report   the side-by-side table and the JSON file, from the raw JSON lines bench.sh wrote
Standard library only, so it runs with any python3 (Serf's msgpack is encoded by hand below).
"""

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import struct
import subprocess
import sys
import time


# MessagePack, only the types Serf's RPC sends and receives.


def pack(value) -> bytes:
    if value is None:
        return b"\xc0"
    if value is True:
        return b"\xc3"
    if value is False:
        return b"\xc2"
    if isinstance(value, int):
        if 0 <= value < 128:
            return bytes([value])
        if 0 <= value < 2**32:
            return b"\xce" + struct.pack(">I", value)
        raise ValueError("integer out of range for this encoder")
    if isinstance(value, str):
        raw = value.encode()
        if len(raw) < 32:
            return bytes([0xA0 | len(raw)]) + raw
        return b"\xda" + struct.pack(">H", len(raw)) + raw
    if isinstance(value, dict):
        if len(value) >= 16:
            raise ValueError("map too large for this encoder")
        out = bytes([0x80 | len(value)])
        for key, item in value.items():
            out += pack(key) + pack(item)
        return out
    raise TypeError(f"cannot encode {type(value)}")


class Incomplete(Exception):
    """The buffer ends inside a value: read more bytes and decode again."""


def unpack(buf: bytes, pos: int = 0):
    """Decodes one value at pos; returns (value, next position)."""

    def take(count):
        nonlocal pos
        if pos + count > len(buf):
            raise Incomplete
        chunk = buf[pos : pos + count]
        pos += count
        return chunk

    def number(fmt):
        return struct.unpack(fmt, take(struct.calcsize(fmt)))[0]

    def items(count):
        nonlocal pos
        out = []
        for _ in range(count):
            item, pos = unpack(buf, pos)
            out.append(item)
        return out

    def mapping(count):
        flat = items(2 * count)
        return {_text(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}

    byte = take(1)[0]
    if byte <= 0x7F:
        return byte, pos
    if byte >= 0xE0:
        return byte - 0x100, pos
    if 0x80 <= byte <= 0x8F:
        return mapping(byte & 0x0F), pos
    if 0x90 <= byte <= 0x9F:
        return items(byte & 0x0F), pos
    if 0xA0 <= byte <= 0xBF:
        return take(byte & 0x1F).decode(errors="replace"), pos
    simple = {0xC0: None, 0xC2: False, 0xC3: True}
    if byte in simple:
        return simple[byte], pos
    sized = {0xC4: ">B", 0xC5: ">H", 0xC6: ">I", 0xD9: ">B", 0xDA: ">H", 0xDB: ">I"}
    if byte in sized:
        raw = take(number(sized[byte]))
        return (raw if byte <= 0xC6 else raw.decode(errors="replace")), pos
    scalars = {0xCA: ">f", 0xCB: ">d", 0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q",
               0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}
    if byte in scalars:
        return number(scalars[byte]), pos
    if byte in (0xDC, 0xDD):
        return items(number(">H" if byte == 0xDC else ">I")), pos
    if byte in (0xDE, 0xDF):
        return mapping(number(">H" if byte == 0xDE else ">I")), pos
    raise ValueError(f"unsupported msgpack type 0x{byte:02x}")


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


# One connection per process.


class SerfTarget:
    """Serf's RPC: a handshake, then request header + body, response header (+ body)."""

    def __init__(self, address: str):
        host, port = address.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.reader = self.writer = None
        self.buffer = b""
        self.seq = 0

    async def connect(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.buffer = b""
        await self._call("handshake", {"Version": 1}, has_body=False)

    async def _read_value(self):
        while True:
            try:
                value, used = unpack(self.buffer)
                self.buffer = self.buffer[used:]
                return value
            except Incomplete:
                chunk = await self.reader.read(65536)
                if not chunk:
                    raise ConnectionError("serf closed the RPC connection")
                self.buffer += chunk

    async def _call(self, command, body, has_body=True):
        self.seq += 1
        self.writer.write(pack({"Command": command, "Seq": self.seq}) + pack(body))
        await self.writer.drain()
        header = await self._read_value()
        if header.get("Error"):
            raise RuntimeError(f"serf {command}: {header['Error']}")
        return await self._read_value() if has_body else None

    async def members(self, name=None, status=None):
        body = {"Tags": {}, "Status": status or "", "Name": name or ""}
        reply = await self._call("members-filtered", body)
        return reply.get("Members") or []

    async def status_of(self, name):
        """The Serf status of member NAME (alive, leaving, left, failed) or None if unlisted."""
        self.last = None
        for member in await self.members(name=f"^{name}$"):
            if _text(member.get("Name")) == name:
                self.last = _text(member.get("Status"))
        return self.last

    async def live_count(self):
        self.last = len(await self.members(status="^alive$"))
        return self.last

    def close(self):
        if self.writer:
            self.writer.close()


class SmegdTarget:
    """smegd's control API: HTTP/1.1 on a Unix socket, one keep-alive connection."""

    def __init__(self, path: str):
        self.path = path
        self.reader = self.writer = None

    async def connect(self):
        self.reader, self.writer = await asyncio.open_unix_connection(self.path)

    async def _get(self, path):
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: smegd\r\n\r\n".encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.decode().split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        if b"Connection: close" in head:
            self.close()
            await self.connect()
        return json.loads(body)

    async def mesh(self):
        meshes = (await self._get("/v1/meshes")).get("meshes") or []
        return meshes[0] if meshes else {"members": 0, "isLeader": False}

    async def live_count(self):
        self.last = (await self.mesh())["members"]
        return self.last

    def close(self):
        if self.writer:
            self.writer.close()


def load_targets(system, path):
    targets = []
    with open(path) as file:
        for line in file:
            if line.strip():
                index, address = line.split()
                target = SerfTarget(address) if system == "serf" else SmegdTarget(address)
                target.index = int(index)
                targets.append(target)
    return targets


async def connect_all(targets, timeout=30.0):
    async def one(target):
        deadline = time.monotonic() + timeout
        while True:
            try:
                await target.connect()
                return
            except (OSError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    await asyncio.gather(*(one(t) for t in targets))


async def watch(target, condition, t0, interval, deadline):
    """Polls one target at a fixed rate from a random phase; returns seconds from t0 to the
    send time of the first poll that saw the condition, or None at the deadline."""
    due = t0 + random.random() * interval
    while True:
        now = time.monotonic()
        if due > now:
            await asyncio.sleep(due - now)
        sent = time.monotonic()
        try:
            if await condition(target):
                return sent - t0
        except (OSError, ConnectionError, asyncio.IncompleteReadError) as error:
            target.last = f"error: {error}"
            target.close()
            try:
                await target.connect()
            except OSError:
                pass
        if sent > deadline:
            return None
        due += interval
        while due < time.monotonic():
            due += interval  # a slow answer skips polls instead of bunching them up


async def measure(targets, condition, interval, timeout, start):
    """Runs start() (which returns an awaitable for the action's own end, or None), then
    watches every target; returns the raw result."""
    await connect_all(targets)
    t0 = time.monotonic()
    action = start()
    deadline = t0 + timeout
    seen = await asyncio.gather(*(watch(t, condition, t0, interval, deadline) for t in targets))
    action_seconds = await action if action else None
    for target in targets:
        target.close()
    missing = {t.index: getattr(t, "last", None) for t, s in zip(targets, seen) if s is None}
    times = [s for s in seen if s is not None]
    return {
        "seconds": None if missing else round(max(times), 3),
        "median_process_seconds": round(statistics.median(times), 3) if times else None,
        "processes": len(targets),
        "missing": missing,
        "command_seconds": action_seconds,
        "interval": interval,
    }


def run_measure(args, condition, start):
    """Runs one measurement over the targets file and prints it; exit status 1 on a timeout."""
    targets = load_targets(args.system, args.targets)
    result = asyncio.run(measure(targets, condition, args.interval, args.timeout, start))
    print(json.dumps(result))
    return 0 if result["seconds"] is not None else 1


def cmd_settle(args):
    async def condition(target):
        return await target.live_count() == args.count

    return run_measure(args, condition, lambda: None)


def cmd_join(args):
    async def condition(target):
        if args.system == "serf":
            return await target.status_of(args.name) == "alive"
        return await target.live_count() >= args.count

    def start():
        async def run():
            began = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                *args.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            code = await process.wait()
            if code != 0:
                print(f"bench: join command exited {code}: {' '.join(args.command)}", file=sys.stderr)
            return round(time.monotonic() - began, 3)

        return asyncio.ensure_future(run())

    return run_measure(args, condition, start)


def cmd_fail(args):
    async def condition(target):
        if args.system == "serf":
            return await target.status_of(args.name) in (None, "failed", "left")
        return await target.live_count() <= args.count

    def start():
        os.kill(args.pid, signal.SIGKILL)
        return None

    return run_measure(args, condition, start)


def cmd_leader(args):
    targets = load_targets("smegd", args.targets)

    async def run():
        await connect_all(targets)
        meshes = await asyncio.gather(*(t.mesh() for t in targets))
        for target in targets:
            target.close()
        return [t.index for t, m in zip(targets, meshes) if m.get("isLeader")]

    leaders = asyncio.run(run())
    print(" ".join(map(str, leaders)))
    return 0 if len(leaders) == 1 else 1


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


# The report.


def _stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": round(statistics.median(values), 3), "max": round(max(values), 3),
            "min": round(min(values), 3), "trials": len(values)}


def summarize(records):
    """Groups the raw lines by (N, system) into the numbers of the table."""
    runs = {}
    for record in records:
        run = runs.setdefault((record["n"], record["system"]), {"join": [], "fail": [], "leader": []})
        kind = record["kind"]
        if kind in ("join", "fail", "leader"):
            run[kind].append(record["result"]["seconds"] if record["result"] else None)
            run.setdefault(kind + "_raw", []).append(record["result"])
        elif kind == "idle":
            run["idle"] = record["result"]
        elif kind == "setup" and record["result"] and record["result"]["seconds"] is not None:
            run["setup"] = round(record["join_commands_seconds"] + record["result"]["seconds"], 2)
    summary = {}
    for (n, system), run in sorted(runs.items()):
        entry = {"join_seconds": _stats(run["join"]), "fail_seconds": _stats(run["fail"]),
                 "leader_fail_seconds": _stats(run["leader"]),
                 "join_timeouts": run["join"].count(None), "fail_timeouts": run["fail"].count(None),
                 "mass_join_settled_seconds": run.get("setup")}
        idle = run.get("idle")
        if idle:
            minutes = idle["seconds"] / 60
            rss = [kib / 1024 for kib in idle["rss_kib"]]

            def per_minute(total):
                return None if total is None else round(total / len(rss) / minutes)

            cpu = [sec / minutes for sec in idle["cpu_seconds"]]
            entry.update({
                "processes": len(rss),
                "rss_mib": {"mean": round(statistics.mean(rss), 1), "max": round(max(rss), 1)},
                "rss_anon_mib": {"mean": round(statistics.mean(kib / 1024 for kib in idle["rss_anon_kib"]), 1)},
                "cpu_seconds_per_minute": {"mean": round(statistics.mean(cpu), 3), "max": round(max(cpu), 3)},
                "wire_bytes_per_process_per_minute": per_minute(idle["wire_bytes"]),
                "wire_packets_per_process_per_minute": per_minute(idle["wire_packets"]),
                "idle_window_seconds": idle["seconds"],
            })
        summary.setdefault(str(n), {})[system] = entry
    return summary


def _fmt(value, form):
    return "-" if value is None else form.format(value)


def render(summary, interval):
    lines = []
    for n, systems in sorted(summary.items(), key=lambda item: int(item[0])):
        smegd, serf = systems.get("smegd", {}), systems.get("serf", {})

        def get(entry, *path):
            for key in path:
                if not isinstance(entry, dict) or entry.get(key) is None:
                    return None
                entry = entry[key]
            return entry

        rows = [  # label, where in the summary, format
            ("new member seen alive by all, median (s)", ("join_seconds", "median"), "{:.2f}"),
            ("new member seen alive by all, max (s)", ("join_seconds", "max"), "{:.2f}"),
            ("kill -9 member removed by all, median (s)", ("fail_seconds", "median"), "{:.2f}"),
            ("kill -9 member removed by all, max (s)", ("fail_seconds", "max"), "{:.2f}"),
            ("kill -9 of the smegd leader, removed by all (s)", ("leader_fail_seconds", "max"), "{:.2f}"),
            ("RSS per process, mean (MiB)", ("rss_mib", "mean"), "{:.1f}"),
            ("RSS per process, max (MiB)", ("rss_mib", "max"), "{:.1f}"),
            ("  of which anonymous (heap, stacks), mean (MiB)", ("rss_anon_mib", "mean"), "{:.1f}"),
            ("idle CPU per process, mean (s/min)", ("cpu_seconds_per_minute", "mean"), "{:.3f}"),
            ("idle CPU per process, max (s/min)", ("cpu_seconds_per_minute", "max"), "{:.3f}"),
            ("idle bytes on the wire per process (B/min)", ("wire_bytes_per_process_per_minute",), "{:.0f}"),
            ("idle packets on the wire per process (/min)", ("wire_packets_per_process_per_minute",), "{:.0f}"),
            ("setup: N-1 join at once, all settled (s, +-0.5)", ("mass_join_settled_seconds",), "{:.1f}"),
        ]
        trials = get(smegd, "join_seconds", "trials"), get(serf, "join_seconds", "trials")
        lines.append(f"N = {n}   (trials: smegd {trials[0] or 0}, serf {trials[1] or 0}; "
                     f"poll resolution {interval:.2f} s)")
        lines.append(f"  {'':50} {'smegd':>10} {'serf':>10} {'smegd/serf':>11}")
        for label, path, form in rows:
            a, b = get(smegd, *path), get(serf, *path)
            ratio = f"{a / b:.2f}" if a is not None and b else "-"
            lines.append(f"  {label:50} {_fmt(a, form):>10} {_fmt(b, form):>10} {ratio:>11}")
        timeouts = [f"{name} {get(entry, key)} {key.split('_')[0]} timeout(s)"
                    for name, entry in (("smegd", smegd), ("serf", serf))
                    for key in ("join_timeouts", "fail_timeouts") if get(entry, key)]
        if timeouts:
            lines.append("  TIMEOUTS: " + ", ".join(timeouts))
        lines.append("")
    return "\n".join(lines)


def verdict(summary, n):
    systems = summary.get(str(n))
    if not systems or "smegd" not in systems or "serf" not in systems:
        return None
    smegd, serf = systems["smegd"], systems["serf"]

    def below(key, stat):
        a, b = (smegd.get(key) or {}).get(stat), (serf.get(key) or {}).get(stat)
        return None if a is None or b is None else a < b

    rss = None
    if smegd.get("rss_mib") and serf.get("rss_mib"):
        rss = smegd["rss_mib"]["mean"] <= serf["rss_mib"]["mean"]
    return {"n": n, "join_faster": below("join_seconds", "median"),
            "failure_faster": below("fail_seconds", "median"), "rss_not_higher": rss}


def cmd_report(args):
    with open(args.raw) as file:
        records = [json.loads(line) for line in file if line.strip()]
    meta = json.loads(open(args.meta).read())
    summary = summarize(records)
    text = render(summary, meta["poll_interval"])
    bar = verdict(summary, args.bar_n)
    if bar:
        def word(flag):
            return "-" if flag is None else ("yes" if flag else "NO")
        text += (f"Bar at N = {args.bar_n} (medians, same run): join faster than serf: {word(bar['join_faster'])}; "
                 f"failure faster than serf: {word(bar['failure_faster'])}; "
                 f"RSS no higher (mean): {word(bar['rss_not_higher'])}\n")
    print(text, end="")
    with open(args.json, "w") as file:
        json.dump({"meta": meta, "summary": summary, "bar": bar, "raw": records}, file, indent=1)
        file.write("\n")
    if args.text:
        with open(args.text, "w") as file:
            file.write(text)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command_name", required=True)

    def polling(name):
        p = sub.add_parser(name)
        p.add_argument("--system", choices=["smegd", "serf"], required=True)
        p.add_argument("--targets", required=True)
        p.add_argument("--interval", type=float, default=0.1)
        p.add_argument("--timeout", type=float, default=60)
        p.add_argument("--count", type=int, default=0)
        return p

    polling("settle").set_defaults(run=cmd_settle)
    p = polling("join")
    p.add_argument("--name", default="")
    p.add_argument("command", nargs="+")
    p.set_defaults(run=cmd_join)
    p = polling("fail")
    p.add_argument("--name", default="")
    p.add_argument("--pid", type=int, required=True)
    p.set_defaults(run=cmd_fail)
    p = sub.add_parser("leader")
    p.add_argument("--targets", required=True)
    p.set_defaults(run=cmd_leader)
    p = sub.add_parser("idle")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--table", default="", help="nftables inet table; empty: no wire bytes")
    p.add_argument("--chain", default="")
    p.add_argument("pids", nargs="+", type=int)
    p.set_defaults(run=cmd_idle)
    p = sub.add_parser("report")
    p.add_argument("--raw", required=True)
    p.add_argument("--meta", required=True)
    p.add_argument("--json", required=True)
    p.add_argument("--text")
    p.add_argument("--bar-n", type=int, default=100)
    p.set_defaults(run=cmd_report)
    args = parser.parse_args()
    try:
        sys.exit(args.run(args))
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: bench.sh's trap cleans up


if __name__ == "__main__":
    main()
