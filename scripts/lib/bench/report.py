"""The side-by-side table, the verdict on every bar and the JSON file, from the raw lines
bench.sh wrote."""

import json
import statistics
import sys

# The Serf variants smegd is judged against, and what each one is.
SERF_VARIANTS = {
    "serf": "Serf, gossip in plain text (its default)",
    "serf-enc": "Serf with gossip encryption on (-encrypt): the fair comparison, since smegd "
                "seals every frame",
}


def _stats(values):
    """Median, min and max of the completed trials; a timeout (None) is counted, not dropped:
    `timeouts` says how many of `trials` never completed."""
    done = [v for v in values if v is not None]
    out = {"trials": len(values), "completed": len(done), "timeouts": len(values) - len(done)}
    if done:
        out.update({"median": round(statistics.median(done), 3), "max": round(max(done), 3),
                    "min": round(min(done), 3)})
    else:
        out.update({"median": None, "max": None, "min": None})
    return out if values else None


def _idle_entry(idle):
    """The per-process idle numbers of one run: CPU, RSS, bytes and packets on the wire (in
    total per process, and sent, received and the busiest process's split, per minute)."""
    minutes = idle["seconds"] / 60
    rss = [kib / 1024 for kib in idle["rss_kib"]]
    count = len(rss)

    def per_minute(total):
        return None if total is None else round(total / count / minutes)

    cpu = [sec / minutes for sec in idle["cpu_seconds"]]
    entry = {
        "processes": count,
        "rss_mib": {"mean": round(statistics.mean(rss), 1), "max": round(max(rss), 1)},
        "rss_anon_mib": {"mean": round(statistics.mean(kib / 1024 for kib in idle["rss_anon_kib"]), 1)},
        "cpu_seconds_per_minute": {"mean": round(statistics.mean(cpu), 3), "max": round(max(cpu), 3)},
        "wire_bytes_per_process_per_minute": per_minute(idle["wire_bytes"]),
        "wire_packets_per_process_per_minute": per_minute(idle["wire_packets"]),
        "idle_window_seconds": idle["seconds"],
    }
    sent, recv = idle.get("sent_bytes"), idle.get("recv_bytes")
    sent_p, recv_p = idle.get("sent_packets"), idle.get("recv_packets")
    if sent is not None and recv is not None:
        members = idle.get("members") or list(range(count))
        busiest = max(range(count), key=lambda k: sent[k] + recv[k])
        entry.update({
            "sent_bytes_per_minute": {"mean": round(sum(sent) / count / minutes),
                                      "max": round(max(sent) / minutes)},
            "recv_bytes_per_minute": {"mean": round(sum(recv) / count / minutes),
                                      "max": round(max(recv) / minutes)},
            "sent_packets_per_minute": {"mean": round(sum(sent_p) / count / minutes)},
            "recv_packets_per_minute": {"mean": round(sum(recv_p) / count / minutes)},
            "busiest": {"member": members[busiest],
                        "sent_bytes_per_minute": round(sent[busiest] / minutes),
                        "recv_bytes_per_minute": round(recv[busiest] / minutes),
                        "sent_packets_per_minute": round(sent_p[busiest] / minutes),
                        "recv_packets_per_minute": round(recv_p[busiest] / minutes)},
        })
    return entry


def summarize(records):
    """Groups the raw lines by (N, system) into the numbers of the table."""
    runs = {}
    for record in records:
        run = runs.setdefault((record["n"], record["system"]),
                              {"join": [], "fail": [], "leader": [], "setup": []})
        kind, result = record["kind"], record["result"]
        seconds = result.get("seconds") if isinstance(result, dict) else None
        if kind in ("join", "fail", "leader"):
            run[kind].append(seconds)
        elif kind == "idle":
            run["idle"] = result
        elif kind == "setup":
            # From the first join command until all settled: the commands' own time plus the
            # settle poll's, which starts when they have all returned.
            run["setup"].append(None if seconds is None
                                else round(record["join_commands_seconds"] + seconds, 3))
    summary = {}
    for (n, system), run in sorted(runs.items()):
        entry = {"join_seconds": _stats(run["join"]), "fail_seconds": _stats(run["fail"]),
                 "leader_fail_seconds": _stats(run["leader"]),
                 "mass_join_settled_seconds": _stats(run["setup"])}
        if run.get("idle"):
            entry.update(_idle_entry(run["idle"]))
        summary.setdefault(str(n), {})[system] = entry
    return summary


def _fmt(value, form):
    return "-" if value is None else form.format(value)


def _get(entry, *path):
    for key in path:
        if not isinstance(entry, dict) or entry.get(key) is None:
            return None
        entry = entry[key]
    return entry


def _order(systems):
    known = [s for s in ("smegd", "serf", "serf-enc") if s in systems]
    return known + sorted(s for s in systems if s not in known)


def render(summary, interval):
    lines = []
    for n, systems in sorted(summary.items(), key=lambda item: int(item[0])):
        names = _order(systems)
        serfs = [s for s in names if s != "smegd"] if "smegd" in names else []

        def timeouts(key):
            return lambda entry: (None if _get(entry, key) is None else
                                  f"{entry[key]['timeouts']}/{entry[key]['trials']}")

        rows = [  # label, where in the summary (or a function of the entry), format
            ("new member seen alive by all, median (s)", ("join_seconds", "median"), "{:.2f}"),
            ("new member seen alive by all, max (s)", ("join_seconds", "max"), "{:.2f}"),
            ("  timeouts (of trials)", timeouts("join_seconds"), "{}"),
            ("kill -9 member removed by all, median (s)", ("fail_seconds", "median"), "{:.2f}"),
            ("kill -9 member removed by all, max (s)", ("fail_seconds", "max"), "{:.2f}"),
            ("  timeouts (of trials)", timeouts("fail_seconds"), "{}"),
            ("kill -9 of the smegd leader, removed by all (s)", ("leader_fail_seconds", "max"), "{:.2f}"),
            ("  timeouts (of trials)", timeouts("leader_fail_seconds"), "{}"),
            ("mass join: N-1 at once, all settled, median (s)", ("mass_join_settled_seconds", "median"), "{:.2f}"),
            ("mass join: N-1 at once, all settled, max (s)", ("mass_join_settled_seconds", "max"), "{:.2f}"),
            ("  timeouts (of trials)", timeouts("mass_join_settled_seconds"), "{}"),
            ("RSS per process, mean (MiB)", ("rss_mib", "mean"), "{:.1f}"),
            ("RSS per process, max (MiB)", ("rss_mib", "max"), "{:.1f}"),
            ("  of which anonymous (heap, stacks), mean (MiB)", ("rss_anon_mib", "mean"), "{:.1f}"),
            ("idle CPU per process, mean (s/min)", ("cpu_seconds_per_minute", "mean"), "{:.3f}"),
            ("idle CPU per process, max (s/min)", ("cpu_seconds_per_minute", "max"), "{:.3f}"),
            ("idle bytes on the wire per process (B/min)", ("wire_bytes_per_process_per_minute",), "{:.0f}"),
            ("idle packets on the wire per process (/min)", ("wire_packets_per_process_per_minute",), "{:.0f}"),
            ("idle bytes received per process, mean (B/min)", ("recv_bytes_per_minute", "mean"), "{:.0f}"),
            ("idle packets received per process, mean (/min)", ("recv_packets_per_minute", "mean"), "{:.0f}"),
            ("busiest process: bytes sent (B/min)", ("busiest", "sent_bytes_per_minute"), "{:.0f}"),
            ("busiest process: bytes received (B/min)", ("busiest", "recv_bytes_per_minute"), "{:.0f}"),
            ("busiest process: packets sent + received (/min)",
             lambda e: None if _get(e, "busiest") is None else
             e["busiest"]["sent_packets_per_minute"] + e["busiest"]["recv_packets_per_minute"], "{:.0f}"),
            ("busiest process: member index", ("busiest", "member"), "{}"),
        ]
        trials = ", ".join(f"{s} {_get(systems[s], 'join_seconds', 'trials') or 0}"
                           f"+{_get(systems[s], 'mass_join_settled_seconds', 'trials') or 0}" for s in names)
        lines.append(f"N = {n}   (trials, join/failure + mass join: {trials}; "
                     f"poll resolution {interval:.2f} s)")
        header = f"  {'':50}" + "".join(f" {s:>10}" for s in names)
        header += "".join(f" {'smegd/' + s:>15}" for s in serfs)
        lines.append(header)
        for label, path, form in rows:
            values = {s: (path(systems[s]) if callable(path) else _get(systems[s], *path)) for s in names}
            if all(v is None for v in values.values()):
                continue
            line = f"  {label:50}" + "".join(f" {_fmt(values[s], form):>10}" for s in names)
            for s in serfs:
                a, b = values["smegd"], values[s]
                numeric = isinstance(a, (int, float)) and isinstance(b, (int, float))
                ratio = f"{a / b:.2f}" if numeric and b and "index" not in label else "-"
                line += f" {ratio:>15}"
            lines.append(line)
        lines.append("")
    return "\n".join(lines)


def _timed_bar(label, key, smegd, serf, name, strict):
    """A bar on a timed measurement (medians), with the timeout rule of BENCHMARKS.md: any
    smegd timeout fails it; a Serf timeout does not hand smegd a win, the bar is judged on
    Serf's completed trials and flagged; with none completed it cannot be judged and fails."""
    a, b = smegd.get(key), serf.get(key)
    if not a or not b:
        return False, f"{label}: not measured for {'smegd' if not a else name}"
    if a["timeouts"]:
        return False, (f"{label}: smegd timed out in {a['timeouts']} of {a['trials']} trials"
                       + (f" (median of the others {a['median']:.2f} s)" if a["median"] is not None else ""))
    if b["median"] is None:
        return False, f"{label}: {name} timed out in all {b['trials']} trials: nothing to compare with"
    ok = a["median"] < b["median"] if strict else a["median"] <= b["median"]
    text = f"{label}: smegd {a['median']:.2f} s {'<' if strict else '<='} {name} {b['median']:.2f} s"
    if not ok:
        text = f"{label}: smegd {a['median']:.2f} s, not {'below' if strict else 'at or below'} {name}'s {b['median']:.2f} s"
    if b["timeouts"]:
        text += (f" [FLAG: {name} timed out in {b['timeouts']} of {b['trials']} trials; "
                 f"judged on its {b['completed']} completed]")
    return ok, text


def _level_bar(label, path, unit, form, smegd, serf, name):
    a, b = _get(smegd, *path), _get(serf, *path)
    if a is None or b is None:
        return False, f"{label}: not measured for {'smegd' if a is None else name}"
    ok = a <= b
    if ok:
        return True, f"{label}: smegd {form.format(a)} {unit} <= {name} {form.format(b)} {unit}"
    return False, (f"{label}: smegd {form.format(a)} {unit}, above {name}'s {form.format(b)} {unit} "
                   f"({a / b:.2f}x)" if b else f"{label}: smegd {form.format(a)} {unit}, above {name}'s 0")


def verdict(summary, n):
    """Every bar at N against each Serf variant present: a list of {variant, bars: [{bar, pass,
    text}]}, or None when N has no smegd run or no Serf run."""
    systems = summary.get(str(n))
    if not systems or "smegd" not in systems:
        return None
    variants = [s for s in _order(systems) if s != "smegd"]
    if not variants:
        return None
    smegd = systems["smegd"]
    out = []
    for name in variants:
        serf = systems[name]
        bars = [
            ("a", _level_bar("idle bytes on the wire per process", ("wire_bytes_per_process_per_minute",),
                             "B/min", "{:.0f}", smegd, serf, name)),
            ("b", _level_bar("idle CPU per process, mean", ("cpu_seconds_per_minute", "mean"),
                             "s/min", "{:.3f}", smegd, serf, name)),
            ("c", _timed_bar("new member seen alive by all, median", "join_seconds", smegd, serf, name, True)),
            ("d", _timed_bar("kill -9 member removed by all, median", "fail_seconds", smegd, serf, name, True)),
            ("e", _timed_bar("mass join settled, median", "mass_join_settled_seconds", smegd, serf, name, False)),
            ("f", _level_bar("RSS per process, mean", ("rss_mib", "mean"), "MiB", "{:.1f}", smegd, serf, name)),
        ]
        out.append({"variant": name,
                    "bars": [{"bar": key, "pass": ok, "text": text} for key, (ok, text) in bars]})
    return out


def cmd_report(args):
    try:
        with open(args.raw) as file:
            records = [json.loads(line) for line in file if line.strip()]
        with open(args.meta) as file:
            meta = json.load(file)
    except (OSError, ValueError) as error:
        print(f"bench: cannot read the raw results: {error}", file=sys.stderr)
        return 1
    summary = summarize(records)
    text = render(summary, meta["poll_interval"])
    bar = verdict(summary, args.bar_n)
    failed = 0
    if bar:
        for variant in bar:
            text += (f"Verdict at N = {args.bar_n} against {variant['variant']}: "
                     f"{SERF_VARIANTS.get(variant['variant'], 'another system')}\n")
            for item in variant["bars"]:
                text += f"  {'PASS' if item['pass'] else 'FAIL'} ({item['bar']}) {item['text']}\n"
                failed += not item["pass"]
        passes = sum(item["pass"] for variant in bar for item in variant["bars"])
        text += f"Verdict: {passes} bars passed, {failed} failed\n"
    else:
        text += f"No verdict: N = {args.bar_n} needs a smegd run and a Serf run\n"
    print(text, end="")
    with open(args.json, "w") as file:
        json.dump({"meta": meta, "summary": summary, "bar": bar, "raw": records}, file, indent=1)
        file.write("\n")
    if args.text:
        with open(args.text, "w") as file:
            file.write(text)
    # Every bar counts (the bars, docs/operations.md for memory): any FAIL fails the
    # bench, after every verdict line has been printed.
    if failed:
        print(f"bench: FAIL: {failed} bar(s) missed at N = {args.bar_n}", file=sys.stderr)
        return 1
    return 0
