#!/usr/bin/env python3
"""Measurement side of scripts/bench.sh: polls N smegd daemons or N Serf agents in parallel.

bench.sh starts and stops the processes; this program times what they see. It treats both
systems the same way: one persistent connection per process (smegd: HTTP/1.1 keep-alive on its
control socket, `GET /v1/meshes`; Serf: its msgpack RPC on TCP, `members-filtered` by name),
every process polled every --interval seconds at a random phase, and per process the first poll
that sees the condition. The reported time is the maximum over processes, so it is an upper
bound with a resolution of one interval (plus one request's latency) for both systems alike.

Subcommands (targets files hold one `INDEX ADDRESS` line per process: a socket path for smegd,
HOST:PORT of the RPC listener for Serf; --system is the protocol, serf for both Serf variants):
  settle   time until every target sees COUNT live members (the mass join)
  join     spawn the join command, time until every target lists NAME as alive
  fail     kill -9 PID, time until no target lists NAME (smegd: member count back to COUNT)
  leader   print the index of the smegd target that reports itself leader
  idle     CPU seconds (from /proc) and wire bytes (nftables counters, in total and sent and
           received per process) over an idle window, then the RSS of each process
  wg-idle  scripts/bench-wg-idle.sh's window: per node (namespace), uplink bytes and packets
           split into gossip, WireGuard and other, and CPU and RSS of smegd and wireguard-go
  report   the side-by-side table, the verdict on every bar and the JSON file, from the raw
           JSON lines bench.sh wrote; exit status 1 when any bar fails
Standard library only, so it runs with any python3 (Serf's msgpack is encoded by hand). This file
is the command line; each job is a module of the bench package next to it (bench/__init__.py).
"""

import argparse
import sys

# Run from a source checkout, often as root: leave no compiled files in it.
sys.dont_write_bytecode = True

from bench import idle, polling, report, wgidle  # noqa: E402 (after the line above, on purpose)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command_name", required=True)

    def polled(name):
        p = sub.add_parser(name)
        p.add_argument("--system", choices=["smegd", "serf"], required=True)
        p.add_argument("--targets", required=True)
        p.add_argument("--interval", type=float, default=0.1)
        p.add_argument("--timeout", type=float, default=60)
        p.add_argument("--count", type=int, default=0)
        return p

    polled("settle").set_defaults(run=polling.cmd_settle)
    p = polled("join")
    p.add_argument("--name", default="")
    p.add_argument("command", nargs="+")
    p.set_defaults(run=polling.cmd_join)
    p = polled("fail")
    p.add_argument("--name", default="")
    p.add_argument("--pid", type=int, required=True)
    p.set_defaults(run=polling.cmd_fail)
    p = sub.add_parser("leader")
    p.add_argument("--targets", required=True)
    p.set_defaults(run=polling.cmd_leader)
    p = sub.add_parser("idle")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--table", default="", help="nftables inet table; empty: no wire bytes")
    p.add_argument("--members", default="", help="comma-separated member indices, one per pid")
    p.add_argument("pids", nargs="+", type=int)
    p.set_defaults(run=idle.cmd_idle)
    p = sub.add_parser("wg-idle")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--table", required=True, help="the nftables inet table in every namespace")
    p.add_argument("--gossip-port", type=int, required=True)
    p.add_argument("--wireguard-port", type=int, required=True)
    p.add_argument("--json")
    p.add_argument("--text")
    p.add_argument("nodes", nargs="+", help="NAME=ROLE=NAMESPACE=SMEGD_PID")
    p.set_defaults(run=wgidle.cmd_wg_idle)
    p = sub.add_parser("report")
    p.add_argument("--raw", required=True)
    p.add_argument("--meta", required=True)
    p.add_argument("--json", required=True)
    p.add_argument("--text")
    p.add_argument("--bar-n", type=int, default=100)
    p.set_defaults(run=report.cmd_report)
    args = parser.parse_args()
    try:
        sys.exit(args.run(args))
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: bench.sh's trap cleans up


if __name__ == "__main__":
    main()
