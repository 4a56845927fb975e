import GossipCRDT

/// Percentiles over runs, the bars, and their two renderings.
struct Summary {
    let reports: [SimulationReport]
    let wallSeconds: Double

    /// Nearest-rank percentile; nil when any run did not complete, since a missing time is worse
    /// than every measured one.
    static func percentile(_ values: [Double?], _ fraction: Double) -> Double? {
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else { return nil }
        let sorted = values.compactMap { $0 }.sorted()
        let rank = max(1, Int((fraction * Double(sorted.count)).rounded(.up)))
        return sorted[rank - 1]
    }

    var joinRoundsP99: [Double?] { (0..<3).map { q in Summary.percentile(reports.map { $0.joinRounds[q] }, 0.99) } }
    var joinSecondsP99: [Double?] {
        (0..<3).map { q in Summary.percentile(reports.map { $0.joinSeconds[q] }, 0.99) }
    }
    var pruneSecondsP99: [Double?] {
        (0..<2).map { q in Summary.percentile(reports.map { $0.pruneSeconds[q] }, 0.99) }
    }
    var falsePrunes: Int { reports.reduce(0) { $0 + $1.falsePrunes } }
    var bytesMean: Double { reports.map(\.steadyBytesPerNodeMean).reduce(0, +) / Double(reports.count) }
    var bytesMax: Double { reports.map(\.steadyBytesPerNodeMax).max() ?? 0 }
    /// The run whose busiest node (sent plus received) was busiest.
    var busiest: SimulationReport? {
        reports.max {
            $0.steadyBusiestInPerSecond + $0.steadyBusiestOutPerSecond
                < $1.steadyBusiestInPerSecond + $1.steadyBusiestOutPerSecond
        }
    }
    var busiestTotal: Double { busiest.map { $0.steadyBusiestInPerSecond + $0.steadyBusiestOutPerSecond } ?? 0 }
    /// Bytes a node sends from a partition's heal through its settling, worst run's mean.
    var healBytesMean: Double? {
        let values = reports.compactMap(\.healBytesPerNodeMean)
        return values.count == reports.count ? values.max() : nil
    }
    var converged: Bool { reports.allSatisfy(\.converged) }

    struct Bar {
        let name: String
        let measured: String
        let pass: Bool
    }

    func bars(config: SimulationConfig) -> [Bar] {
        // Three intervals plus one second without loss, plus two with it (issue bars at 10,000).
        let interval = reports.first?.heartbeatInterval ?? 1
        let pruneBar = 3 * interval + (config.loss > 0 ? 2 : 1)
        let busiestBar = config.loss > 0 ? 30_000.0 : 10_000.0
        let join = joinRoundsP99[2]
        let prune = pruneSecondsP99[1]
        var bars = [
            Bar(
                name: "join reaches 100% in <= 12 rounds (p99 over seeds)", measured: format(join),
                pass: (join ?? .infinity) <= 12),
            Bar(
                name: "steady traffic <= 2048 B/s per node (mean)", measured: format(bytesMean), pass: bytesMean <= 2048
            ),
            Bar(
                name: config.crashLeader
                    ? "leader crash pruned by 100% (failover; no bar)"
                    : "crash pruned by 100% within \(format(pruneBar)) s (p99)",
                measured: format(prune), pass: config.crashLeader ? prune != nil : (prune ?? .infinity) <= pruneBar),
            Bar(
                name: "busiest node in + out <= \(format(busiestBar / 1000)) KB/s",
                measured: "\(format(busiestTotal)) (in \(format(busiest?.steadyBusiestInPerSecond)), "
                    + "out \(format(busiest?.steadyBusiestOutPerSecond)))",
                pass: busiestTotal <= busiestBar),
            Bar(name: "zero false prunes", measured: "\(falsePrunes)", pass: falsePrunes == 0),
            Bar(name: "all replicas converged", measured: "\(converged)", pass: converged),
        ]
        if config.partition != nil {
            bars.append(
                Bar(
                    name: "partition heal <= 300 KB sent per node (mean)", measured: format(healBytesMean),
                    pass: (healBytesMean ?? .infinity) <= 300_000))
        }
        if config.nodes >= 10_000 {
            bars.append(Bar(name: "completes in < 300 s wall", measured: format(wallSeconds), pass: wallSeconds < 300))
        }
        return bars
    }

    func table(config: SimulationConfig) -> String {
        var lines: [String] = []
        lines.append(
            "smeg-sim: \(config.nodes) nodes, fanout \(config.gossip.fanout), loss \(config.loss), "
                + "sync \(format(config.gossip.syncInterval.seconds * 1000)) ms, "
                + "heartbeat \(format(config.gossip.heartbeatInterval.seconds * 1000)) ms, \(reports.count) seed(s)")
        lines.append("")
        let header = [
            "seed", "join50%", "join99%", "join100%", "rounds50%", "rounds99%", "rounds100%", "prune99%",
            "prune100%", "false", "B/s/node", "B/s max", "busy in", "busy out", "heal", "heal KB", "converged",
        ]
        lines.append(header.map { pad($0, 10) }.joined(separator: " "))
        for report in reports {
            let row =
                ["\(report.seed)"] + report.joinSeconds.map { format($0) } + report.joinRounds.map { format($0) } + [
                    format(report.pruneSeconds[0]), format(report.pruneSeconds[1]), "\(report.falsePrunes)",
                    format(report.steadyBytesPerNodeMean), format(report.steadyBytesPerNodeMax),
                    format(report.steadyBusiestInPerSecond), format(report.steadyBusiestOutPerSecond),
                    format(report.partitionHealSeconds), format(report.healBytesPerNodeMean.map { $0 / 1000 }),
                    "\(report.converged)",
                ]
            lines.append(row.map { pad($0, 10) }.joined(separator: " "))
        }
        lines.append("")
        lines.append(
            "p99 over seeds: join reaches 50/99/100% in " + joinRoundsP99.map { format($0) }.joined(separator: " / ")
                + " rounds (" + joinSecondsP99.map { format($0) }.joined(separator: " / ") + " s); crash pruned by "
                + "99/100% in " + pruneSecondsP99.map { format($0) }.joined(separator: " / ") + " s")
        lines.append("times in simulated seconds; rounds = seconds / sync interval; wall \(format(wallSeconds)) s")
        lines.append("")
        for bar in bars(config: config) {
            lines.append("\(bar.pass ? "PASS" : "FAIL")  \(pad(bar.name, 56)) \(bar.measured)")
        }
        return lines.joined(separator: "\n")
    }

    func json(config: SimulationConfig) -> String {
        func number(_ value: Double?) -> String { value.map { format($0, digits: 4) } ?? "null" }
        func array(_ values: [Double?]) -> String { "[" + values.map(number).joined(separator: ",") + "]" }
        let runs = reports.map { report in
            "{\"seed\":\(report.seed),\"joinSeconds\":\(array(report.joinSeconds)),"
                + "\"joinRounds\":\(array(report.joinRounds)),\"pruneSeconds\":\(array(report.pruneSeconds)),"
                + "\"falsePrunes\":\(report.falsePrunes),"
                + "\"steadyBytesPerNodeMean\":\(number(report.steadyBytesPerNodeMean)),"
                + "\"steadyBytesPerNodeMax\":\(number(report.steadyBytesPerNodeMax)),"
                + "\"steadyMessagesPerNodeMean\":\(number(report.steadyMessagesPerNodeMean)),"
                + "\"steadyBusiestInPerSecond\":\(number(report.steadyBusiestInPerSecond)),"
                + "\"steadyBusiestOutPerSecond\":\(number(report.steadyBusiestOutPerSecond)),"
                + "\"healBytesPerNodeMean\":\(number(report.healBytesPerNodeMean)),"
                + "\"healBytesPerNodeMax\":\(number(report.healBytesPerNodeMax)),"
                + "\"partitionHealSeconds\":\(number(report.partitionHealSeconds)),"
                + "\"converged\":\(report.converged),\"simulatedSeconds\":\(number(report.simulatedSeconds)),"
                + "\"events\":\(report.eventsProcessed),\"rejections\":\(report.rejections),"
                + "\"bytesByKind\":{"
                + report.bytesByKind.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }
                .joined(separator: ",") + "}}"
        }
        let bars = bars(config: config).map {
            "{\"bar\":\"\($0.name)\",\"measured\":\"\($0.measured)\",\"pass\":\($0.pass)}"
        }
        return "{\"nodes\":\(config.nodes),\"fanout\":\(config.gossip.fanout),\"loss\":\(config.loss),"
            + "\"syncIntervalSeconds\":\(number(config.gossip.syncInterval.seconds)),"
            + "\"heartbeatIntervalSeconds\":\(number(config.gossip.heartbeatInterval.seconds)),"
            + "\"seeds\":\(reports.count),\"wallSeconds\":\(number(wallSeconds)),"
            + "\"p99\":{\"joinRounds\":\(array(joinRoundsP99)),\"joinSeconds\":\(array(joinSecondsP99)),"
            + "\"pruneSeconds\":\(array(pruneSecondsP99))},\"falsePrunes\":\(falsePrunes),"
            + "\"steadyBytesPerNodeMean\":\(number(bytesMean)),\"steadyBytesPerNodeMax\":\(number(bytesMax)),"
            + "\"steadyBusiestBytesPerSecond\":\(number(busiestTotal)),\"healBytesPerNodeMean\":\(number(healBytesMean)),"
            + "\"converged\":\(converged),\"runs\":[\(runs.joined(separator: ","))],"
            + "\"bars\":[\(bars.joined(separator: ","))]}"
    }
}

func format(_ value: Double?, digits: Int = 2) -> String {
    guard let value else { return "-" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if text.hasSuffix(".0") { text.removeLast(2) }
    return text
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
