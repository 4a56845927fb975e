/// Bytes to a hostile run: the shared core of the FuzzHostileMesh fuzzer and of the property
/// tests, so that a crash the fuzzer finds replays as a test from the same bytes.
///
/// The first bytes choose the mesh (honest members, the malicious member's rank, the seed), then
/// each step takes an opcode and its operands. Reading past the end yields zeros, so every byte
/// string is a valid script and small mutations make small changes.
public struct HostileScript {
    /// Virtual time a script may spend before the final settling, so one input runs in
    /// milliseconds.
    public static let maxScriptTime = Duration.seconds(40)
    public static let maxSteps = 400

    var reader: ByteReader
    public private(set) var mesh: HostileMesh
    /// Whether the run steers around the known weaknesses (see `step`); off to replay them.
    public var steers = true
    /// Bars sybils while a crashed leader is being replaced: steering around the fanout
    /// weakness, fixed since (a fanout holds at most one young member), so off by default and
    /// kept for replaying inputs found while it was on.
    public var barsSybilsDuringFailover = false
    /// What happened, one line per step, for the report of a violation.
    public private(set) var log: [String] = []

    public init(_ bytes: [UInt8]) {
        reader = ByteReader(bytes)
        var options = HostileMesh.Options()
        options.honest = 4 + Int(reader.byte() % 3)
        options.attackerRank = 2 + Int(reader.byte()) % (options.honest - 1)
        options.seed = reader.word()
        options.latencyMillis = 1 + UInt64(reader.byte() % 40)
        // Removals are compacted to floors within a run, so that replays meet floors too.
        options.gossip.tombstoneRetentionEpochs = 5
        // Room and rate small enough that scripts reach them: the store bounds are invariants.
        options.gossip.maxMembers = 32
        options.gossip.newMemberBurst = 8
        options.gossip.newMembersPerSecond = 2
        mesh = HostileMesh(options: options)
        // Every honest member follows an epoch before the attack starts. Before its first epoch
        // a member counts every identity it learns as proven (so that a joiner has a leader), and
        // a low-keyed sybil learnt in that moment stalls the mesh: a known weakness, reproduced by
        // HostileMemberTests, which would otherwise hide everything else the fuzzer could find.
        mesh.advance(by: Self.warmUp)
    }

    public static let warmUp = Duration.milliseconds(1500)

    /// Runs every step, checking the invariants after each, then lets the mesh run past the
    /// prune deadline of a crash with the malicious member silent and checks again. Returns
    /// the first violations found, with the steps that led there.
    public mutating func run() -> [String] {
        var steps = 0
        while !reader.isAtEnd, steps < Self.maxSteps {
            steps += 1
            step()
            let found = mesh.violations()
            if !found.isEmpty { return found + log }
        }
        mesh.attackerMuted = true
        let settle = mesh.pruneDeadline + mesh.config.heartbeatInterval
        let halves = settle.nanoseconds / 500_000_000 + 1
        for _ in 0..<halves {
            mesh.advance(by: .milliseconds(500))
            let found = mesh.violations()
            if !found.isEmpty { return found + log }
        }
        return []
    }

    mutating func step() {
        let opcode = reader.byte()
        switch opcode % 16 {
        case 0..<4:
            let duration = Duration.milliseconds(10 * (Int(reader.byte()) + 1))
            guard mesh.now.since(.zero) < Self.maxScriptTime else { return }
            log.append("advance \(duration)")
            mesh.advance(by: duration)
        case 4..<13:
            let target = pickHonest()
            guard let message = buildMessage(for: target) else { return }
            log.append("send \(message.kind) to \(target): \(message)")
            mesh.inject(message, to: target)
        case 13:
            let target = pickHonest()
            // Steered around sybils held across a leader crash: when this script was written they
            // came of age during the failover (youth is now counted in epochs) and made members
            // suspect the successor (a suspected leader that signs is now taken back). Both are
            // fixed; the steering stays so that inputs found with it replay the same way.
            let leader = target == mesh.honest[0]
            guard !steers || !leader || !mesh.holdsSybil else {
                log.append("crash of \(target) skipped: a sybil is held")
                return
            }
            if mesh.crash(target) {
                log.append("crash \(target)")
                if leader && steers { mesh.lowSybilsAllowed = false }
            }
        case 14:
            mesh.attackerMuted.toggle()
            log.append(mesh.attackerMuted ? "attacker mutes" : "attacker talks")
        default:
            guard let message = buildMessage(for: pickHonest()) else { return }
            log.append("send \(message.kind) to all: \(message)")
            for id in mesh.honest { mesh.inject(message, to: id) }
        }
    }

    /// While steering: no sybils until a crashed leader is pruned, the other side of the
    /// fanout weakness (sybils flooded during the failover delay the successor's news).
    mutating func barred(_ message: GossipMessage) -> Bool {
        guard steers, barsSybilsDuringFailover, let crashed = mesh.crashed, crashed.id == mesh.honest[0],
            mesh.now.since(crashed.at) <= mesh.pruneDeadline
        else { return false }
        let updates: Updates
        switch message {
        case .digest(let digest): updates = digest.rumors
        case .delta(let delta): updates = delta.updates
        default: return false
        }
        let sybils = Set(mesh.sybils)
        guard
            updates.records.contains(where: { sybils.contains($0.owner) })
                || updates.tombstones.contains(where: { sybils.contains($0.member) })
        else { return false }
        log.append("send of sybils skipped during the failover")
        return true
    }

    mutating func pickHonest() -> NodeID { mesh.honest[Int(reader.byte()) % mesh.honest.count] }

    /// The malicious member's next message to `target`, read from the script; nil when the
    /// steering bars it.
    mutating func buildMessage(for target: NodeID) -> GossipMessage? {
        var builder = MessageBuilder(reader: reader, mesh: mesh, target: target)
        let message = builder.message()
        reader = builder.reader
        mesh = builder.mesh
        return barred(message) ? nil : message
    }
}

/// Reads a script; zeros past the end.
struct ByteReader {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { index >= bytes.count }

    mutating func byte() -> UInt8 {
        defer { index += 1 }
        return index < bytes.count ? bytes[index] : 0
    }

    mutating func word() -> UInt64 {
        (0..<8).reduce(0) { value, _ in value << 8 | UInt64(byte()) }
    }

    mutating func bool() -> Bool { byte() & 1 == 1 }
}
