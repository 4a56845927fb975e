import GossipCRDT

/// Short frames (version 4) name their sender by the first 8 bytes of its id, which saves 24 of
/// the 103 bytes a frame adds: about a ninth of an idle mesh's traffic, whose frames are mostly a
/// heartbeat in and an acknowledgement out per second (docs/protocol.md, "Short frames").
///
/// A sender uses the short form only towards a peer whose last frame echoed one of its recent
/// salts, which that peer had to accept, so it holds the sender (present, or in its cache), and
/// only for a few frames past that echo, so a peer that restarted or evicted it loses at most
/// those before the sender names itself in full again. The receiver resolves the 8 bytes among
/// the peers it holds and lets the pair tag, which covers the whole id, decide: 8 bytes only pick
/// candidates, so a member that makes up a key sharing another's first 8 bytes (2^64 tries) gains
/// nothing but a few more tag checks.
extension FrameSession {
    /// Candidates per short frame at most: ids sharing 8 bytes are made on purpose, and each
    /// costs a BLAKE2b (and an X25519 for a present member whose key is not cached yet).
    static let shortCandidateLimit = 4

    mutating func resolveShort(
        _ unsealed: FrameCipher.Unsealed, word: UInt64
    ) throws(FrameError) -> (
        NodeID, [UInt8]
    ) {
        let candidates = Array(
            ((presentByWord[word] ?? []) + strangers.ids(withLeadingWord: word)).prefix(Self.shortCandidateLimit))
        var reflected = false
        for candidate in candidates {
            guard candidate != nodeID else {
                reflected = true
                continue
            }
            guard let key = try heldPairKey(candidate) else { continue }
            if tagMatches(unsealed, sender: candidate, key: key, receiver: nodeID.bytes) { return (candidate, key) }
        }
        if reflected && candidates.count == 1 { throw .fromSelf }
        throw candidates.isEmpty ? .unresolvedSender : .badPairTag
    }
}

extension FrameSession {
    /// Whether frames to `peer` name us short now: it held us a moment ago, so it is in the mesh
    /// and follows its leader, and a heartbeat to it may name the leader short too.
    public func holds(_ peer: NodeID) -> Bool { state(of: peer)?.mayNameUsShort ?? false }

    /// The one present member (or this node) whose id starts with `word`; nil for none or several.
    public func presentMember(withLeadingWord word: UInt64) -> NodeID? {
        var found = presentByWord[word] ?? []
        if nodeID.leadingWord == word, !found.contains(nodeID) { found.append(nodeID) }
        return found.count == 1 ? found[0] : nil
    }
}

extension StrangerCache {
    func ids(withLeadingWord word: UInt64) -> [NodeID] {
        entries.keys.filter { $0.leadingWord == word }
    }
}
