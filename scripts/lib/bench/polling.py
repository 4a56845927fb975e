"""The timed measurements: every target polled at a fixed rate until it sees the condition
(settle, join, fail), and the one-shot leader question."""

import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time

from bench.targets import connect_all, load_targets


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
