import GossipCRDT

/// What the session remembers about one peer, all of it bounded: a present member, or one of the
/// few recent non-present peers in `StrangerCache`.
///
/// Created only when a proven frame from the peer opens completely (never from an introduction or
/// a frame that fails) or when this node seals to it, so junk costs no memory; non-present peers
/// share a fixed-size cache.
struct MemberState: Sendable {
    /// Addresses per member whose sent salts are remembered, and salts per address: enough for a
    /// member reached at an underlay address and its overlay fallback, with a few frames in flight.
    static let addressLimit = 2
    static let saltsPerAddress = 4
    static let validatedLimit = 2

    struct SentSalts: Sendable {
        var address: PeerAddress
        /// Most recent last.
        var salts: [UInt64]
    }

    var pairKey: [UInt8]
    var window = ReplayWindow()
    /// The salt of the member's frame with the highest counter accepted; echoed in every frame
    /// sealed to it, and 0 until one is accepted.
    var echo: UInt64 = 0
    /// The counter of the frame `echo` came from. Kept apart from the window because a
    /// non-present peer has no replay check, yet must still echo its newest salt, not a reordered
    /// older one; it also tells a fresh frame from a replay when granting a stranger a budget.
    private(set) var echoCounter: UInt64 = 0
    /// Most recently used address last.
    private(set) var sent: [SentSalts] = []
    /// Addresses the member proved it receives at; most recently validated last.
    private(set) var validated: [PeerAddress] = []
    /// Frames sealed to the member since its last frame that echoed one of our recent salts, or
    /// nil when its last frame echoed none: then it may not hold us (it restarted, or evicted us
    /// from its cache), and frames to it name us in full.
    private(set) var sentSinceHeld: Int?

    /// Frames to a member that held us a moment ago may name us by 8 bytes instead of 32, until
    /// so many have gone unanswered that it may have dropped us meanwhile.
    static let shortFramesUnanswered = 4

    var mayNameUsShort: Bool { sentSinceHeld.map { $0 < Self.shortFramesUnanswered } ?? false }

    init(pairKey: [UInt8]) {
        self.pairKey = pairKey
    }

    /// Takes the salt of a proven frame as the one to echo if no newer frame was seen; returns
    /// whether the frame was the newest so far.
    @discardableResult
    mutating func noteSalt(_ salt: UInt64, counter: UInt64) -> Bool {
        guard counter > echoCounter else { return false }
        echo = salt
        echoCounter = counter
        return true
    }

    mutating func recordSent(salt: UInt64, to address: PeerAddress) {
        if let count = sentSinceHeld { sentSinceHeld = count + 1 }
        var entry: SentSalts
        if let index = sent.firstIndex(where: { $0.address == address }) {
            entry = sent.remove(at: index)
        } else {
            entry = SentSalts(address: address, salts: [])
            if sent.count >= Self.addressLimit { sent.removeFirst() }
        }
        entry.salts.append(salt)
        if entry.salts.count > Self.saltsPerAddress { entry.salts.removeFirst() }
        sent.append(entry)
    }

    /// An echo of a salt sent to `address` proves the member received that frame there, since
    /// salts are random and travel only inside frames sent to that address. Zero is never a
    /// salt, so "nothing to echo" validates nothing.
    mutating func noteEcho(_ echo: UInt64, from address: PeerAddress) {
        // Echoing a salt we sent lately (to any address) means it accepted that frame, which
        // leaves it holding our state: it can resolve a short sender.
        let held = echo != 0 && sent.contains { $0.salts.contains(echo) }
        sentSinceHeld = held ? 0 : nil
        guard echo != 0, sent.contains(where: { $0.address == address && $0.salts.contains(echo) }) else { return }
        validated.removeAll { $0 == address }
        validated.append(address)
        if validated.count > Self.validatedLimit { validated.removeFirst() }
    }

    func isValidated(_ address: PeerAddress) -> Bool { validated.contains(address) }
}

/// Echo, salt and validation state of recent peers that are not present members, so that a joiner
/// and its bootstrap node validate each other's addresses before either holds the other's record.
/// Without it the joiner's frames carried no echo and its sent salts were forgotten, so both sides
/// stayed held to the reply budget and answered each other with bare digests forever.
///
/// Least recently used out, so memory is fixed however many peers a member makes up; entries are
/// only created by sealing to a peer or by a proven frame from it, never by an introduction or a
/// frame that fails to open. Replay windows are not enforced here (see `FrameSession`).
struct StrangerCache: Sendable {
    static let capacity = 64

    private(set) var entries: [NodeID: (state: MemberState, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0

    var count: Int { entries.count }

    func peek(_ id: NodeID) -> MemberState? { entries[id]?.state }

    mutating func insert(_ state: MemberState, for id: NodeID) {
        clock &+= 1
        if entries[id] == nil, entries.count >= Self.capacity,
            let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
        {
            entries[oldest] = nil
        }
        entries[id] = (state, clock)
    }

    mutating func remove(_ id: NodeID) -> MemberState? {
        entries.removeValue(forKey: id)?.state
    }
}
