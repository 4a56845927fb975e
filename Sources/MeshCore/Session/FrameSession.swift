import GossipCRDT

#if canImport(Glibc)
    import Glibc
#endif

/// Seals and opens gossip frames of version 2 for one node in one mesh (docs/protocol.md,
/// "Frame").
///
/// Version 1 proved only that a frame came from *some* member. Here every frame also carries a
/// pair tag that only the claimed sender and the intended receiver can compute, so a member cannot
/// speak for another and a frame captured on one pair is refused on every other. On top of that
/// the session refuses replays, learns which source addresses a member has proved it receives at,
/// and bounds the bytes a reply to an unproved address may total.
///
/// A value type with no locks: the daemon owns one per mesh on its event loop and mutates it in
/// place. State is bounded by the present set the daemon passes to `retain(members:)` plus a
/// fixed cache; a frame that fails to open, or an introduction, leaves no per-sender state behind
/// (but the pair key of a present member, which depends on nothing the frame says). Frames from
/// senders it holds no key for may cost only `KeyAgreementBudget` X25519s a second.
///
/// Echo, salts and validated addresses are also kept for the 64 most recent peers that are not
/// present (`StrangerCache`), created when this node seals to one or a proven frame from one
/// opens. A join needs them: the bootstrap node holds the joiner present before the joiner holds
/// the bootstrap node's record, and without that state neither side could validate the other's
/// address, so both stayed held to the reply budget.
///
/// Frames from senders outside the present set are authenticated but not replay-checked, since
/// a window that eviction can drop guarantees nothing, and keeping one for every id that ever
/// appears would let one member exhaust memory with made-up peers. A replay of such a frame can do
/// no more than its first delivery did: its records are signed and already merged (the store
/// ignores what it holds), its liveness claim is as stale as the frame, and the replies it causes
/// are held to the amplification budget, because a non-present sender's frame counts as coming
/// from a validated address only when its counter is above every counter accepted from that
/// sender before, which a replay's is not.
public struct FrameSession: Sendable {
    /// Nanoseconds since 1970, the unit of frame counters.
    public typealias Clock = @Sendable () -> UInt64

    /// Bytes a frame adds to its message: 103 (version 1 added 87).
    public static let overhead = FrameCipher.overhead
    /// One UDP datagram.
    public static let maxFrameSize = FrameCipher.maxFrameSize
    public static let maxMessageSize = FrameCipher.maxMessageSize

    /// The realtime clock. Wall time, not a monotonic clock, because counters must keep growing
    /// across restarts without any state; `counterHighWater` covers a clock that steps back.
    public static let wallClock: Clock = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        guard now.tv_sec >= 0, now.tv_nsec >= 0 else { return 0 }
        let (seconds, overflow) = UInt64(now.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? UInt64.max : seconds &+ UInt64(now.tv_nsec)
    }

    /// A frame that opened and passed every check.
    public struct Opened: Sendable, Equatable {
        public let sender: NodeID
        public let message: [UInt8]
        public let counter: UInt64
        /// False for an introduction: the frame was sealed by some member, but the sender id is a
        /// claim. Do not attribute liveness or addresses to it; do answer it (within the budget):
        /// the answer is sealed to that id, so only its holder can verify it came from this node.
        public let isSenderProven: Bool
        /// True when the sender is a present member and the frame passed its replay window.
        public let isReplayChecked: Bool
        /// The source address is one the sender proved it receives at.
        public let isAddressValidated: Bool
        /// Pass to `seal(_:to:at:budget:)` for every reply this frame causes.
        public var replyBudget: ReplyBudget
    }

    public let mesh: MeshID
    public let nodeID: NodeID
    /// The highest counter this session has sealed with, or the floor it was started above.
    /// Persist it, and pass it back to `init` after a restart, so that a clock that steps back
    /// does not make peers refuse this node's frames as replays until it catches up.
    public private(set) var counterHighWater: UInt64

    let cipher: FrameCipher
    private let legacy: FrameSealer
    private let privateKey: [UInt8]
    private let clock: Clock
    private var random: any RandomNumberGenerator & Sendable
    private(set) var present: Set<NodeID> = []
    /// Present members by the first 8 bytes of their id, to resolve short frames.
    private(set) var presentByWord: [UInt64: [NodeID]] = [:]
    /// State of present members only; non-present peers' state lives in `strangers`.
    var members: [NodeID: MemberState] = [:]
    private(set) var strangers = StrangerCache()
    private var agreements = KeyAgreementBudget()

    /// - Parameters:
    ///   - counterHighWater: the persisted `counterHighWater` of a previous run, or 0.
    ///   - clock: nanoseconds since 1970; injected for tests.
    ///   - random: the source of salts. Salts prove address ownership, so it must be
    ///     unpredictable in production; the system generator is.
    public init(
        mesh: MeshID, secret: MeshSecret, identity: NodeIdentity, counterHighWater: UInt64 = 0,
        clock: @escaping Clock = FrameSession.wallClock,
        random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.mesh = mesh
        self.nodeID = identity.nodeID
        self.counterHighWater = counterHighWater
        self.cipher = FrameCipher(mesh: mesh, secret: secret)
        self.legacy = FrameSealer(mesh: mesh, secret: secret)
        self.privateKey = identity.wireGuardPrivateKey.bytes
        self.clock = clock
        self.random = random
    }

    /// The size of the frame that carries `messageBytes`, saturating instead of trapping.
    public static func frameSize(messageBytes: Int) -> Int {
        let (sum, overflow) = max(messageBytes, 0).addingReportingOverflow(overhead)
        return overflow ? Int.max : sum
    }

    /// The mesh a frame of either version names, read before any key is chosen: one socket serves
    /// every mesh, so the daemon routes by it, including version 1 frames (whose sender it then
    /// names with `versionOneSender(of:)`). Unauthenticated until the frame opens.
    public static func meshID(of frame: [UInt8]) throws(FrameError) -> MeshID {
        // Join frames (version 3) come from nodes without the secret and are routed the same way.
        if JoinMessage.isJoinFrame(frame) { return MeshID(bytes: Array(frame[5..<FrameCipher.headerSize]))! }
        do {
            try FrameCipher.checkHeader(frame, mesh: nil)
        } catch .versionOne {
            guard frame.count >= FrameCipher.headerSize else { throw .truncated }
        }
        return MeshID(bytes: Array(frame[5..<FrameCipher.headerSize]))!
    }

    // MARK: Membership

    /// Sets the present members: the only senders whose frames are replay-checked. State of
    /// members that left moves to the bounded stranger cache, and a joining member's state moves
    /// out of it, so salts sent and addresses validated before a record arrived are not lost. A
    /// member that joins starts with an empty window, opened by its next frame.
    public mutating func retain(members newPresent: Set<NodeID>) {
        for id in present.subtracting(newPresent) {
            if let state = members.removeValue(forKey: id) { strangers.insert(state, for: id) }
            presentByWord[id.leadingWord]?.removeAll { $0 == id }
            if presentByWord[id.leadingWord]?.isEmpty == true { presentByWord[id.leadingWord] = nil }
        }
        for id in newPresent.subtracting(present) {
            if let state = strangers.remove(id) { members[id] = state }
            presentByWord[id.leadingWord, default: []].append(id)
        }
        present = newPresent
    }

    public func isValidated(_ address: PeerAddress, for member: NodeID) -> Bool {
        state(of: member)?.isValidated(address) ?? false
    }

    func state(of peer: NodeID) -> MemberState? {
        members[peer] ?? strangers.peek(peer)
    }

    /// Keeps `state` in the map that matches the peer's presence, so each peer is in at most one.
    private mutating func store(_ state: MemberState, for peer: NodeID) {
        if present.contains(peer) { members[peer] = state } else { strangers.insert(state, for: peer) }
    }

    // MARK: Sealing

    /// Seals a frame this node sends on its own initiative (a gossip round, a probe): nothing an
    /// attacker can trigger, so no budget applies.
    public mutating func seal(
        _ message: [UInt8], to receiver: NodeID, at address: PeerAddress
    ) throws(FrameError) -> [UInt8] {
        var budget = ReplyBudget.unlimited
        return try seal(message, to: receiver, at: address, budget: &budget)
    }

    /// Seals a frame for `receiver`, which will be sent to `address`, and takes its size from
    /// `budget` (the `replyBudget` of the frame being answered). Throws `overBudget`, with no
    /// state changed, when it does not fit; then send a smaller message (see `ReplyBudget`).
    public mutating func seal(
        _ message: [UInt8], to receiver: NodeID, at address: PeerAddress, budget: inout ReplyBudget
    ) throws(FrameError) -> [UInt8] {
        let size = try checkSize(message, budget: budget)
        // Sealing is this node's choice to talk to `receiver`, so it may cost state even for a
        // peer that is not present yet: its echo of this salt is what validates `address`.
        var state: MemberState
        if let known = self.state(of: receiver) {
            state = known
        } else {
            state = MemberState(pairKey: try computePairKey(receiver))
        }
        let short = state.mayNameUsShort
        let nonce = try nextNonce(echo: state.echo)
        state.recordSent(salt: nonce.salt, to: address)
        store(state, for: receiver)
        _ = budget.consume(frameSize: size)
        return cipher.seal(
            message: message, sender: nodeID, receiver: receiver.bytes, key: state.pairKey, nonce: nonce, short: short)
    }

    /// Seals an introduction: a frame for whoever answers at a bootstrap address, whose id this
    /// node does not know yet. It proves membership only (see `Opened.isSenderProven`); the answer
    /// is an ordinary frame that names and proves the bootstrap node.
    public mutating func sealIntroduction(_ message: [UInt8]) throws(FrameError) -> [UInt8] {
        _ = try checkSize(message, budget: .unlimited)
        let nonce = try nextNonce(echo: 0)
        let key = cipher.introKey(sender: nodeID)
        return cipher.seal(message: message, sender: nodeID, receiver: FrameCipher.anyReceiver, key: key, nonce: nonce)
    }

    private func checkSize(_ message: [UInt8], budget: ReplyBudget) throws(FrameError) -> Int {
        guard message.count <= Self.maxMessageSize else {
            throw .messageTooLarge(length: message.count, limit: Self.maxMessageSize)
        }
        let size = Self.frameSize(messageBytes: message.count)
        guard budget.allows(frameSize: size) else {
            throw .overBudget(frameSize: size, remaining: budget.remainingBytes ?? Int.max)
        }
        return size
    }

    /// counter = max(last + 1, now): unique and increasing for this sender across receivers and
    /// restarts. The salt is never 0, which means "nothing to echo".
    private mutating func nextNonce(echo: UInt64) throws(FrameError) -> FrameCipher.Nonce {
        guard counterHighWater < UInt64.max else { throw .counterExhausted }
        let counter = max(counterHighWater + 1, clock())
        var salt: UInt64 = 0
        while salt == 0 { salt = random.next() }
        counterHighWater = counter
        return FrameCipher.Nonce(counter: counter, echo: echo, salt: salt)
    }

    /// The pair key of a peer this session holds: cached, or computed for a present member. A
    /// present member's key depends on the two identities alone, so it is kept even if the frame
    /// that asked for it fails: a forger naming members then costs one agreement per member. Nil
    /// for anyone else, whose agreement the caller budgets.
    mutating func heldPairKey(_ peer: NodeID) throws(FrameError) -> [UInt8]? {
        if let known = state(of: peer)?.pairKey { return known }
        guard present.contains(peer) else { return nil }
        let key = try computePairKey(peer)
        members[peer] = MemberState(pairKey: key)
        return key
    }

    func computePairKey(_ peer: NodeID) throws(FrameError) -> [UInt8] {
        guard let key = cipher.pairKey(ownPrivate: privateKey, ownPublic: nodeID, peer: peer) else {
            throw .lowOrderKey
        }
        return key
    }

    // MARK: Opening

    /// Opens a datagram received from `address`. Checks, in order: header, outer AEAD (mesh
    /// secret), claimed sender, pair tag (or introduction tag), then, for a present sender, the
    /// replay window. State changes only once all of them pass.
    public mutating func open(_ frame: [UInt8], from address: PeerAddress) throws(FrameError) -> Opened {
        let unsealed = try cipher.unseal(frame)
        let sender: NodeID
        let key: [UInt8]
        let proven: Bool
        switch unsealed.sender {
        case .short(let word):
            (sender, key) = try resolveShort(unsealed, word: word)
            proven = true
        case .full(let named):
            sender = named
            guard sender != nodeID else { throw .fromSelf }
            if let held = try heldPairKey(sender) {
                key = held
            } else if agreements.take(now: clock()) {
                key = try computePairKey(sender)
            } else {
                // Over the budget: only an introduction, which needs no agreement, may still open.
                guard
                    tagMatches(
                        unsealed, sender: sender, key: cipher.introKey(sender: sender),
                        receiver: FrameCipher.anyReceiver)
                else { throw .keyAgreementLimit }
                return Opened(
                    sender: sender, message: unsealed.message, counter: unsealed.nonce.counter, isSenderProven: false,
                    isReplayChecked: false, isAddressValidated: false,
                    replyBudget: ReplyBudget(receivedBytes: frame.count))
            }
            if tagMatches(unsealed, sender: sender, key: key, receiver: nodeID.bytes) {
                proven = true
            } else if tagMatches(
                unsealed, sender: sender, key: cipher.introKey(sender: sender), receiver: FrameCipher.anyReceiver)
            {
                proven = false
            } else {
                throw .badPairTag
            }
        }
        let counter = unsealed.nonce.counter
        var checked = false
        var validated = false
        if proven, present.contains(sender) {
            var state = members[sender] ?? MemberState(pairKey: key)
            guard state.window.accept(counter) else { throw .replay }
            state.noteSalt(unsealed.nonce.salt, counter: counter)
            state.noteEcho(unsealed.nonce.echo, from: address)
            validated = state.isValidated(address)
            store(state, for: sender)
            checked = true
        } else if proven {
            // No window to refuse a replay, so only the newest frame so far may claim its address.
            var state = strangers.peek(sender) ?? MemberState(pairKey: key)
            let newest = state.noteSalt(unsealed.nonce.salt, counter: counter)
            state.noteEcho(unsealed.nonce.echo, from: address)
            validated = newest && state.isValidated(address)
            store(state, for: sender)
        }
        return Opened(
            sender: sender, message: unsealed.message, counter: counter, isSenderProven: proven,
            isReplayChecked: checked, isAddressValidated: validated,
            replyBudget: validated ? .unlimited : ReplyBudget(receivedBytes: frame.count))
    }

    func tagMatches(_ frame: FrameCipher.Unsealed, sender: NodeID, key: [UInt8], receiver: [UInt8]) -> Bool {
        let expected = cipher.tag(
            key: key, nonce: frame.nonce, sender: sender, receiver: receiver, message: frame.message,
            short: frame.isShort)
        return Sodium.constantTimeEqual(expected, frame.tag)
    }

    // MARK: Version 1

    /// The sender a version 1 frame of this mesh claims, for telling the operator which member
    /// still needs an upgrade. Only the mesh secret is checked (all version 1 proves), so the
    /// name is a claim; nothing else of the frame is returned or should be acted on.
    public func versionOneSender(of frame: [UInt8]) throws(FrameError) -> NodeID {
        do {
            return try legacy.open(frame).sender
        } catch .wrongMesh {
            throw .wrongMesh
        } catch .badMagic {
            throw .badMagic
        } catch .unsupportedVersion(let version) {
            throw .unsupportedVersion(version)
        } catch .authenticationFailed {
            throw .authenticationFailed
        } catch .tooLarge(_, let length, _) {
            throw .oversized(length: length)
        } catch {
            throw .truncated
        }
    }

    // MARK: Introspection

    /// How much per-sender state the session holds, for status output: `members` never exceeds
    /// the present set; `strangers` never exceeds `StrangerCache.capacity`.
    public struct Footprint: Sendable, Equatable {
        public let members: Int
        public let strangers: Int
    }

    public var footprint: Footprint {
        Footprint(members: members.count, strangers: strangers.count)
    }
}
