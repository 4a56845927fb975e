import GossipCRDT

/// One mesh's frames on the gossip socket: the authenticated frame session, where each member
/// was last heard from, and the members still speaking frame version 1.
///
/// The rules live in `FrameSession` (MeshCore); this adds the decoding of messages, what an
/// introduction may carry, learnt addresses and the version-1 senders. Addresses are the
/// session's `PeerAddress`: the shell converts to and from its socket's at the edge.
struct MeshWire: Sendable {
    private(set) var session: FrameSession
    /// The session of the secret before a rotation, for opening only, until `previousUntil`.
    private(set) var previous: FrameSession?
    private(set) var previousUntil: Instant?
    /// The underlay address each present member was last heard from in a frame that proved
    /// its sender: the one address that works through its NAT.
    private(set) var learned: [NodeID: PeerAddress] = [:]
    /// Claimed senders of version-1 frames, for the log and `status` (bounded: a claim).
    private(set) var legacySenders: Set<NodeID> = []
    static let maxLegacySenders = 64

    init(session: FrameSession) {
        self.session = session
    }

    /// What a datagram turned out to be.
    enum Inbound {
        case frame(Opened)
        /// A version-1 frame from `sender` (a claim): newly seen is true the first time.
        case legacy(sender: NodeID?, newlySeen: Bool)
        case refused(reason: String)
    }

    /// What a frame carries: the membership protocol's messages, or the owner ledger's.
    enum Payload {
        case gossip(GossipMessage)
        case owners(OwnerMessage)
        case paths(PathMessage)
    }

    struct Opened {
        var sender: NodeID
        var payload: Payload
        /// False for an introduction (a joiner that does not know our id yet): the sender is a
        /// claim, so nothing may be learnt about it from this frame.
        var proven: Bool
        var source: PeerAddress
        var budget: ReplyBudget
        /// Opened under the secret before a rotation: replies go under it too, so that a
        /// member that has not switched yet can read them.
        var underPrevious = false
    }

    mutating func open(_ bytes: [UInt8], from source: PeerAddress, now: Instant) -> Inbound {
        let opened: FrameSession.Opened
        let underPrevious: Bool
        do {
            (opened, underPrevious) = try openEither(bytes, from: source, now: now)
        } catch .versionOne {
            guard let sender = try? session.versionOneSender(of: bytes) else {
                return .legacy(sender: nil, newlySeen: false)
            }
            guard !legacySenders.contains(sender) else { return .legacy(sender: sender, newlySeen: false) }
            if legacySenders.count < Self.maxLegacySenders { legacySenders.insert(sender) }
            return .legacy(sender: sender, newlySeen: true)
        } catch {
            return .refused(reason: error.reason)
        }
        let payload: Payload
        if OwnerMessage.isOwnerMessage(opened.message) {
            // Owner messages carry decisions: never from a sender that did not prove itself.
            guard opened.isSenderProven else { return .refused(reason: "unproven-sender") }
            guard let message = try? OwnerMessage.decode(opened.message, mesh: session.mesh) else {
                return .refused(reason: "malformed-owner-message")
            }
            payload = .owners(message)
        } else if PathMessage.isPathMessage(opened.message) {
            // Path messages make a node send handshakes and answers: a proven sender only.
            guard opened.isSenderProven else { return .refused(reason: "unproven-sender") }
            guard let message = try? PathMessage.decode(opened.message) else {
                return .refused(reason: "malformed-path-message")
            }
            payload = .paths(message)
        } else {
            let message: GossipMessage
            do {
                message = try GossipMessageCodec.decode(opened.message) { session.presentMember(withLeadingWord: $0) }
            } catch {
                return .refused(reason: "malformed")
            }
            // An introduction may only open an exchange: anything else would let a member speak
            // in another's name (an ack, a probe) without the pair key.
            if !opened.isSenderProven {
                guard case .digest = message else { return .refused(reason: "unproven-sender") }
            }
            payload = .gossip(message)
        }
        return .frame(
            Opened(
                sender: opened.sender, payload: payload, proven: opened.isSenderProven, source: source,
                budget: opened.replyBudget, underPrevious: underPrevious))
    }

    /// The current session, then, while the overlap after a rotation lasts, the previous one.
    private mutating func openEither(
        _ bytes: [UInt8], from source: PeerAddress, now: Instant
    ) throws(FrameError)
        -> (FrameSession.Opened, underPrevious: Bool)
    {
        do {
            return (try session.open(bytes, from: source), false)
        } catch .authenticationFailed {
            guard var old = previous, let until = previousUntil, now < until else { throw .authenticationFailed }
            defer { previous = old }
            return (try old.open(bytes, from: source), true)
        }
    }

    /// Seals with `session` from now on; the old session opens frames until `until`.
    mutating func rotate(to newSession: FrameSession, keepingPreviousUntil until: Instant) {
        previous = session
        previousUntil = until
        session = newSession
    }

    /// Remembers where a present member was heard from. An address inside the mesh (a frame
    /// relayed through the mesh itself) never replaces the underlay one: it dies with the
    /// relaying peer, and the overlay fallback finds it anyway.
    mutating func learn(_ member: NodeID, at source: PeerAddress, overlay: IPPrefix) {
        guard !overlay.contains(source.ip) else { return }
        learned[member] = source
        legacySenders.remove(member)
    }

    mutating func restoreLearned(_ addresses: [NodeID: PeerAddress]) {
        for (id, address) in addresses { learned[id] = address }
    }

    /// Keeps the session's per-member state for exactly the present members, and addresses for
    /// those the engine may still dial (`reachable`: present or pruned, not gone or left): a
    /// pruned member is re-dialled so that partitions heal, and only its last address reaches it
    /// behind NAT.
    mutating func retain(present: Set<NodeID>, reachable: Set<NodeID>) {
        session.retain(members: present)
        previous?.retain(members: present)
        learned = learned.filter { reachable.contains($0.key) }
        legacySenders = legacySenders.filter { present.contains($0) }
    }

    /// Seals `message` for `receiver` at `address`; within `budget` when the address is the one
    /// an unvalidated frame came from.
    mutating func seal(
        _ message: [UInt8], to receiver: NodeID, at address: PeerAddress, budget: inout ReplyBudget?,
        underPrevious: Bool = false
    ) throws -> [UInt8] {
        if underPrevious, var old = previous {
            defer { previous = old }
            return try Self.seal(message, to: receiver, at: address, budget: &budget, in: &old)
        }
        return try Self.seal(message, to: receiver, at: address, budget: &budget, in: &session)
    }

    private static func seal(
        _ message: [UInt8], to receiver: NodeID, at address: PeerAddress, budget: inout ReplyBudget?,
        in session: inout FrameSession
    ) throws -> [UInt8] {
        if var limit = budget {
            defer { budget = limit }
            return try session.seal(message, to: receiver, at: address, budget: &limit)
        }
        return try session.seal(message, to: receiver, at: address)
    }

    mutating func sealIntroduction(_ message: [UInt8]) throws -> [UInt8] {
        try session.sealIntroduction(message)
    }
}
