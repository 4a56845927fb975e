import GossipCRDT

/// The stateless half of frame version 2: key derivation, sealing with given nonce fields, and
/// the checks every frame passes before any per-sender state is consulted. Layout and rationale
/// are in docs/protocol.md ("Frame"); `FrameSession` adds counters, replay windows, address
/// validation and caches on top.
struct FrameCipher: Sendable {
    static let version: UInt8 = 2
    /// The same frame with the sender named by the first 8 bytes of its id: for a receiver that
    /// is known to hold the sender (docs/protocol.md, "Short frames"). Version 3 is join frames.
    static let shortVersion: UInt8 = 4
    static let headerSize = 4 + 1 + MeshID.byteCount
    static let nonceSize = Sodium.xchachaNonceBytes
    static let pairTagSize = 16
    static let shortSenderSize = 8
    static let overhead = headerSize + nonceSize + NodeID.byteCount + pairTagSize + Sodium.xchachaTagBytes
    static let shortOverhead = overhead - NodeID.byteCount + shortSenderSize
    static let maxFrameSize = FrameSealer.maxFrameSize
    static let maxMessageSize = maxFrameSize - overhead

    static let frameKeyDomain: [UInt8] = Array("smegmesh/v2/frame-key".utf8) + [0]
    static let pairKeyDomain: [UInt8] = Array("smegmesh/v2/pair-key".utf8) + [0]
    static let tagDomain: [UInt8] = Array("smegmesh/v2/frame-tag".utf8) + [0]
    static let introKeyDomain: [UInt8] = Array("smegmesh/v2/intro-key".utf8) + [0]
    /// The receiver field of an introduction, whose sender does not know who will answer.
    static let anyReceiver = [UInt8](repeating: 0, count: NodeID.byteCount)

    /// The three clear nonce fields; the nonce is their big-endian concatenation.
    struct Nonce: Equatable, Sendable {
        var counter: UInt64
        var echo: UInt64
        var salt: UInt64

        var bytes: [UInt8] { bigEndian(counter) + bigEndian(echo) + bigEndian(salt) }

        init(counter: UInt64, echo: UInt64, salt: UInt64) {
            self.counter = counter
            self.echo = echo
            self.salt = salt
        }

        init(_ bytes: ArraySlice<UInt8>) {
            let start = bytes.startIndex
            counter = readBigEndian(bytes[start..<start + 8])
            echo = readBigEndian(bytes[start + 8..<start + 16])
            salt = readBigEndian(bytes[start + 16..<start + 24])
        }
    }

    /// Who a frame says sent it: the whole id, or (a short frame) its first 8 bytes, which the
    /// receiver resolves among the peers it holds and the pair tag then settles.
    enum Sender: Sendable, Equatable {
        case full(NodeID)
        case short(UInt64)
    }

    /// A frame whose outer AEAD verified; its pair tag is not checked yet.
    struct Unsealed: Sendable {
        var nonce: Nonce
        var sender: Sender
        var message: [UInt8]
        var tag: [UInt8]
        var isShort: Bool {
            if case .short = sender { return true }
            return false
        }
    }

    let mesh: MeshID
    let frameKey: [UInt8]
    let header: [UInt8]
    let shortHeader: [UInt8]

    init(mesh: MeshID, secret: MeshSecret) {
        self.mesh = mesh
        self.frameKey = Sodium.blake2b(
            [Self.frameKeyDomain, Array(mesh.text.utf8)], outputLength: 32, key: secret.bytes)
        self.header = FrameSealer.magic + [Self.version] + mesh.bytes
        self.shortHeader = FrameSealer.magic + [Self.shortVersion] + mesh.bytes
    }

    /// The key only the two ends of a pair can compute. Both public keys go in, in a fixed order,
    /// so that the key names the pair and not only the shared point; nil for a small-order peer.
    func pairKey(ownPrivate: [UInt8], ownPublic: NodeID, peer: NodeID) -> [UInt8]? {
        guard let shared = Sodium.x25519(privateKey: ownPrivate, publicKey: peer.bytes) else { return nil }
        let (lower, higher) = ownPublic < peer ? (ownPublic, peer) : (peer, ownPublic)
        return Sodium.blake2b(
            [Self.pairKeyDomain, shared, lower.bytes, higher.bytes], outputLength: 32, key: frameKey)
    }

    /// The key of introductions: derived from the frame key and the claimed sender only, so any
    /// member can compute it and an introduction proves membership, not identity.
    func introKey(sender: NodeID) -> [UInt8] {
        Sodium.blake2b([Self.introKeyDomain, sender.bytes], outputLength: 32, key: frameKey)
    }

    /// The pair tag always covers the whole sender id, and the header, whose version says which
    /// form the frame names it in: a short frame is bound to the id it was resolved to.
    func tag(
        key: [UInt8], nonce: Nonce, sender: NodeID, receiver: [UInt8], message: [UInt8], short: Bool = false
    ) -> [UInt8] {
        Sodium.blake2b(
            [Self.tagDomain, header(short: short), nonce.bytes, sender.bytes, receiver, message],
            outputLength: Self.pairTagSize, key: key)
    }

    /// Seals with caller-chosen nonce fields. Reusing (counter, echo, salt) under one mesh breaks
    /// the AEAD, so only `FrameSession` and test vectors call this. `short` names the sender by
    /// its first 8 bytes (version 4); never for an introduction, whose receiver holds nobody.
    func seal(
        message: [UInt8], sender: NodeID, receiver: [UInt8], key: [UInt8], nonce: Nonce, short: Bool = false
    ) -> [UInt8] {
        let pairTag = tag(key: key, nonce: nonce, sender: sender, receiver: receiver, message: message, short: short)
        let senderField = short ? Array(sender.bytes.prefix(Self.shortSenderSize)) : sender.bytes
        return sealRaw(senderField: senderField, message: message, tag: pairTag, nonce: nonce, short: short)
    }

    /// Seals given plaintext fields under the outer AEAD only, tag as given: the last step of
    /// `seal`, and what any holder of the mesh secret can make (tests of forged frames use it).
    func sealRaw(senderField: [UInt8], message: [UInt8], tag: [UInt8], nonce: Nonce, short: Bool) -> [UInt8] {
        let frameHeader = header(short: short)
        let nonceBytes = nonce.bytes
        return frameHeader + nonceBytes
            + Sodium.xchachaSeal(
                senderField + message + tag, additionalData: frameHeader, nonce: nonceBytes, key: frameKey)
    }

    /// The clear header, the associated data of both layers: version 2, or 4 for a short frame.
    func header(short: Bool) -> [UInt8] { short ? shortHeader : header }

    /// Header checks and the outer AEAD. Cheap refusals come first, so junk costs comparisons
    /// and only a frame sealed with the mesh secret reaches anything per-sender.
    func unseal(_ frame: [UInt8]) throws(FrameError) -> Unsealed {
        try Self.checkHeader(frame, mesh: mesh)
        let short = frame[4] == Self.shortVersion
        guard frame.count >= (short ? Self.shortOverhead : Self.overhead) else { throw .truncated }
        let nonceBytes = frame[Self.headerSize..<Self.headerSize + Self.nonceSize]
        let sealed = frame[(Self.headerSize + Self.nonceSize)...]
        guard
            let plaintext = Sodium.xchachaOpen(
                sealed, additionalData: header(short: short), nonce: Array(nonceBytes), key: frameKey)
        else { throw .authenticationFailed }
        // The AEAD verified, so the plaintext is at least sender + tag long (checked above).
        let tagStart = plaintext.count - Self.pairTagSize
        let senderSize = short ? Self.shortSenderSize : NodeID.byteCount
        let sender: Sender =
            short
            ? .short(readBigEndian(plaintext[0..<senderSize]))
            : .full(NodeID(bytes: plaintext[0..<senderSize])!)
        return Unsealed(
            nonce: Nonce(nonceBytes), sender: sender, message: Array(plaintext[senderSize..<tagStart]),
            tag: Array(plaintext[tagStart...]))
    }

    /// Magic, version, size and mesh, in the order that names the most useful error: random junk
    /// is `badMagic` whatever its length, a version 1 frame is `versionOne` whatever its mesh.
    static func checkHeader(_ frame: [UInt8], mesh: MeshID?) throws(FrameError) {
        guard frame.prefix(4).elementsEqual(FrameSealer.magic.prefix(frame.count)) else { throw .badMagic }
        guard frame.count > 4 else { throw .truncated }
        switch frame[4] {
        case Self.version, Self.shortVersion: break
        case FrameSealer.version: throw .versionOne
        case let other: throw .unsupportedVersion(other)
        }
        guard frame.count <= maxFrameSize else { throw .oversized(length: frame.count) }
        guard frame.count >= headerSize else { throw .truncated }
        if let mesh, !frame[5..<headerSize].elementsEqual(mesh.bytes) { throw .wrongMesh }
    }
}

private func bigEndian(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
}

private func readBigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    bytes.reduce(0) { $0 << 8 | UInt64($1) }
}
