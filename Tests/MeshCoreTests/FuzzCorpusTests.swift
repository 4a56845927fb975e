import Foundation
import GossipCRDT
import Testing

@testable import MeshCore

/// The fuzzers' seed corpora (valid encodings of every kind), made from the real encoders. Seeds
/// let the fuzzers start from deep, valid inputs instead of guessing magic bytes, so a seed that
/// no longer decodes silently makes a fuzzer shallow: every run checks that each seed decodes
/// with the decoder its fuzz target calls, and that `Fuzz/<Target>/corpus` holds the same bytes.
///
/// The seeds are deterministic (fixed identities, Ed25519's deterministic signatures, a fixed
/// nonce per frame), which is what makes the comparison with the repository possible. To rewrite
/// the repository's corpora after an encoding change: `SMEG_WRITE_CORPUS=$PWD swift test
/// --filter FuzzCorpus`. Nothing is written into the repository without that variable.
@Suite struct FuzzCorpusTests {
    /// One seed: its fuzz target, file name and bytes.
    struct Seed {
        var target: String
        var name: String
        var bytes: [UInt8]
    }

    /// Which parser of the FuzzAddress target each address seed is for.
    enum AddressKind {
        case ipv6, ipv4, prefix, endpoint, meshID
    }

    static let addressTexts: [(String, AddressKind)] = [
        ("2001:db8::1", .ipv6), ("::ffff:192.0.2.1", .ipv6), ("fe80::1:2:3:4", .ipv6), ("10.1.2.3", .ipv4),
        ("fd45:d5b5:95eb::/64", .prefix), ("10.0.0.0/8", .prefix), ("[2001:db8::7]:51820", .endpoint),
        ("203.0.113.7:51820", .endpoint), ("vpn.example.com:51820", .endpoint), ("aaaqeayeaudaocaj", .meshID),
    ]

    static let tokenEndpoints = [
        Endpoint("203.0.113.7:51821")!, Endpoint("[2001:db8::7]:51821")!, Endpoint("vpn.example.com:1")!,
    ]

    static let sealer = FrameSealer(mesh: Fixtures.mesh1, secret: Fixtures.secret)

    static let dnsQueries: [(String, UInt16)] = [
        ("alpha.lab.smeg", DNSType.aaaa), ("1a2b3c4d.lab.smeg", DNSType.any), ("nobody.lab.smeg", DNSType.aaaa),
        ("beta.aaaqeayeaudaocaj.smeg", DNSType.a), ("example.com", DNSType.aaaa),
    ]

    /// Messages small enough to be useful seeds (libFuzzer's default length limit is 4 KiB).
    static var seedMessages: [(index: Int, bytes: [UInt8])] {
        GossipMessageCodecTests.messages.enumerated().compactMap { index, message in
            let bytes = try! GossipMessageCodec.encode(message)
            return bytes.count < 4096 ? (index, bytes) : nil
        }
    }

    static func seeds() throws -> [Seed] {
        var seeds: [Seed] = []
        var record = Fixtures.record()
        seeds.append(Seed(target: "FuzzRecord", name: "full", bytes: Fixtures.signed(record).encoded))
        record.routes = []
        record.services = [:]
        record.role = .client
        record.endpoints = []
        seeds.append(Seed(target: "FuzzRecord", name: "minimal", bytes: Fixtures.signed(record).encoded))
        record.candidates = [
            PathCandidate(Endpoint("203.0.113.9:40000")!, kind: .reflexive),
            PathCandidate(Endpoint("192.168.1.2:51820")!, kind: .local),
        ]
        seeds.append(Seed(target: "FuzzRecord", name: "candidates", bytes: Fixtures.signed(record).encoded))
        for (index, message) in PathCandidateTests.messages.enumerated() {
            seeds.append(Seed(target: "FuzzPaths", name: "message-\(index)", bytes: message.encoded()))
        }

        for (index, bytes) in seedMessages {
            seeds.append(Seed(target: "FuzzMessage", name: "message-\(index)", bytes: bytes))
            // A fixed nonce per seed keeps the corpus reproducible; these frames are sealed under
            // the public test secret, so the nonce rule of the AEAD protects nothing here.
            let nonce = [UInt8](repeating: UInt8(index), count: Sodium.xchachaNonceBytes)
            let frame = try sealer.seal(sender: Fixtures.identity1.nodeID, message: bytes, nonce: nonce)
            seeds.append(Seed(target: "FuzzFrame", name: "frame-\(index)", bytes: frame))
        }

        // A heartbeat naming its leader short, resolved the way the fuzzer resolves it.
        let shortHeartbeat = GossipMessage.heartbeat(
            Heartbeat(
                epoch: EpochStamp(leader: NodeID(0x4701_d084_8845_1f54, 1, 2, 3), number: 300), stableSummary: 9,
                proof: [7, 7], scope: Scope(bits: 2, prefix: 0x40 << 56)))
        seeds.append(
            Seed(
                target: "FuzzMessage", name: "heartbeat-short",
                bytes: try GossipMessageCodec.encode(shortHeartbeat, shortLeader: true)))
        seeds += try frameV2Seeds()

        let token = try InviteToken(mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: tokenEndpoints)
        seeds.append(Seed(target: "FuzzToken", name: "three-endpoints", bytes: Array(token.text.utf8)))
        let single = try InviteToken(mesh: Fixtures.mesh2, secret: Fixtures.secret, bootstrap: [tokenEndpoints[0]])
        seeds.append(Seed(target: "FuzzToken", name: "one-endpoint", bytes: Array(single.text.utf8)))
        let settings = try InviteToken(
            mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: [tokenEndpoints[0]], name: "home",
            policy: RoutePolicy(allowExitNodes: true, allowedPrefixes: [IPPrefix("192.168.1.0/24")!]))
        seeds.append(Seed(target: "FuzzToken", name: "with-settings", bytes: Array(settings.text.utf8)))
        let signed = try InviteToken(
            secret: Fixtures.secret, bootstrap: [tokenEndpoints[0]],
            charter: MeshCharter.sign(
                owner: Fixtures.identity1, salt: Array(0xA0..<0xB0), name: "home", policy: settings.policy))
        seeds.append(Seed(target: "FuzzToken", name: "with-charter", bytes: Array(signed.text.utf8)))

        // Queries made by our own encoder; the corpus also holds queries captured from dig.
        for (index, (name, type)) in dnsQueries.enumerated() {
            var query = DNSMessage(header: DNSHeader(id: UInt16(0x5e00 + index)))
            query.header.recursionDesired = true
            query.questions = [DNSQuestion(name: DomainName(name)!, type: type)]
            seeds.append(Seed(target: "FuzzDNS", name: "query-\(index)", bytes: query.encoded()))
        }

        for (index, (text, _)) in addressTexts.enumerated() {
            seeds.append(Seed(target: "FuzzAddress", name: "text-\(index)", bytes: Array(text.utf8)))
        }

        // Scripts of attacks rather than encodings: any bytes decode, so what is checked is
        // that each runs clean (see HostileScript).
        for (name, bytes) in HostileScript.seeds {
            seeds.append(Seed(target: "FuzzHostileMesh", name: name, bytes: bytes))
        }
        seeds += try ownerSeeds()
        seeds += try accessSeeds()
        return seeds
    }

    /// Throws unless `bytes` decode with the decoder the target's fuzzer calls; for seeds the
    /// suite made, also checks that they decode to the value they were made from. A hostile-mesh
    /// script always decodes; it must run without breaking an invariant.
    static func checkDecodes(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
        switch target {
        case "FuzzRecord":
            let signed = try SignedNodeRecord.decode(bytes)
            try signed.verify(in: Fixtures.mesh1)
            #expect(signed.encoded == bytes, "\(name) is not the canonical encoding of its record")
        case "FuzzMessage":
            let message = try GossipMessageCodec.decode(bytes) { NodeID($0, 1, 2, 3) }
            let short = GossipMessageCodec.hasShortLeader(bytes)
            #expect(try GossipMessageCodec.encode(message, shortLeader: short) == bytes, "\(name) is not canonical")
            if let index = messageIndex(name, prefix: "message-") {
                #expect(message == GossipMessageCodecTests.messages[index])
            }
        case "FuzzFrame":
            let opened = try sealer.open(bytes)
            #expect(opened.sender == Fixtures.identity1.nodeID)
            let message = try GossipMessageCodec.decode(opened.message)
            if let index = messageIndex(name, prefix: "frame-") {
                #expect(message == GossipMessageCodecTests.messages[index])
            }
        case "FuzzFrameV2":
            var receiver = frameV2Receiver()
            if name.hasPrefix("v1-") {
                #expect(try receiver.versionOneSender(of: bytes) == Fixtures.identity1.nodeID)
                return
            }
            let opened = try receiver.open(bytes, from: FrameV2Fixtures.addressA)
            #expect(opened.sender == (name.hasPrefix("intro-") ? FrameV2Fixtures.c.nodeID : Fixtures.identity1.nodeID))
            _ = try GossipMessageCodec.decode(opened.message)
        case "FuzzToken":
            let token = try InviteToken(String(decoding: bytes, as: UTF8.self))
            #expect(token.secret == Fixtures.secret)
            #expect([Fixtures.mesh1, Fixtures.mesh2].contains(token.mesh) || token.charter?.mesh == token.mesh)
        case "FuzzAddress":
            let text = String(decoding: bytes, as: UTF8.self)
            let kinds = addressKinds(of: text)
            #expect(!kinds.isEmpty, "\(name) ('\(text)') parses as nothing")
            if let index = messageIndex(name, prefix: "text-"), addressTexts.indices.contains(index),
                addressTexts[index].0 == text
            {
                #expect(kinds.contains(addressTexts[index].1), "'\(text)' does not parse as \(addressTexts[index].1)")
            }
        case "FuzzDNS":
            let query = try DNSMessage(decoding: bytes)
            #expect(!query.header.isResponse && query.questions.count == 1, "\(name) is not a one-question query")
        case "FuzzHostileMesh":
            var script = HostileScript(bytes)
            let found = script.run()
            #expect(found.isEmpty, "\(name) breaks an invariant: \(found.joined(separator: "; "))")
        case "FuzzPaths":
            let message = try PathMessage.decode(bytes)
            #expect(message.encoded() == bytes, "\(name) is not canonical")
            if let index = messageIndex(name, prefix: "message-") {
                #expect(message == PathCandidateTests.messages[index])
            }
        case "FuzzOwners", "FuzzJoin":
            try checkOwnerDecodes(target, name, bytes)
        case "FuzzAccess":
            checkAccessDecodes(name, bytes)
        default:
            Issue.record("no decoder known for fuzz target \(target): add it to FuzzCorpusTests")
        }
    }

    /// The receiver of Fuzz/FuzzFrameV2: the same identity and members (`open` reads neither the
    /// clock nor the salt source).
    static func frameV2Receiver() -> FrameSession {
        var session = FrameV2Fixtures.session(Fixtures.identity2)
        session.retain(members: [Fixtures.identity1.nodeID, FrameV2Fixtures.c.nodeID])
        return session
    }

    /// Frames sealed to the fuzzer's receiver (deterministic clock and salts), a short frame, an
    /// introduction and a version 1 frame, so the fuzzer starts past the AEAD on every path of `open`.
    static func frameV2Seeds() throws -> [Seed] {
        var sender = FrameV2Fixtures.session(Fixtures.identity1)
        var seeds: [Seed] = []
        for (index, bytes) in seedMessages {
            let frame = try sender.seal(bytes, to: Fixtures.identity2.nodeID, at: FrameV2Fixtures.addressB)
            seeds.append(Seed(target: "FuzzFrameV2", name: "frame-\(index)", bytes: frame))
        }
        // A short frame (version 4): the receiver's answer echoes the sender's salt first.
        var answering = frameV2Receiver()
        let first = try sender.seal(seedMessages[0].bytes, to: Fixtures.identity2.nodeID, at: FrameV2Fixtures.addressB)
        _ = try answering.open(first, from: FrameV2Fixtures.addressA)
        let answer = try answering.seal([], to: Fixtures.identity1.nodeID, at: FrameV2Fixtures.addressA)
        _ = try sender.open(answer, from: FrameV2Fixtures.addressB)
        let short = try sender.seal(seedMessages[0].bytes, to: Fixtures.identity2.nodeID, at: FrameV2Fixtures.addressB)
        guard short[4] == FrameCipher.shortVersion else { throw FrameError.unsupportedVersion(short[4]) }
        seeds.append(Seed(target: "FuzzFrameV2", name: "short-0", bytes: short))
        var joiner = FrameV2Fixtures.session(FrameV2Fixtures.c, seed: 3)
        let hello = try joiner.sealIntroduction(seedMessages[0].bytes)
        seeds.append(Seed(target: "FuzzFrameV2", name: "intro-0", bytes: hello))
        let nonce = [UInt8](repeating: 0x5A, count: Sodium.xchachaNonceBytes)
        let v1 = try sealer.seal(sender: Fixtures.identity1.nodeID, message: seedMessages[0].bytes, nonce: nonce)
        seeds.append(Seed(target: "FuzzFrameV2", name: "v1-0", bytes: v1))
        return seeds
    }

    static func addressKinds(of text: String) -> [AddressKind] {
        var kinds: [AddressKind] = []
        if IPv6Address(text) != nil { kinds.append(.ipv6) }
        if IPv4Address(text) != nil { kinds.append(.ipv4) }
        if IPPrefix(text) != nil { kinds.append(.prefix) }
        if Endpoint(text) != nil { kinds.append(.endpoint) }
        if MeshID(text) != nil { kinds.append(.meshID) }
        return kinds
    }

    static func messageIndex(_ name: String, prefix: String) -> Int? {
        guard name.hasPrefix(prefix) else { return nil }
        return Int(name.dropFirst(prefix.count))
    }

    /// The repository root, from this file's place in it (Tests/MeshCoreTests/).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func write(_ seeds: [Seed], under root: URL) throws {
        for seed in seeds {
            let directory = root.appendingPathComponent("Fuzz/\(seed.target)/corpus")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(seed.bytes).write(to: directory.appendingPathComponent(seed.name))
        }
    }

    @Test func seedsAreDeterministic() throws {
        let first = try Self.seeds()
        let second = try Self.seeds()
        #expect(first.map(\.bytes) == second.map(\.bytes))
        #expect(Set(first.map { "\($0.target)/\($0.name)" }).count == first.count, "two seeds share a name")
    }

    /// Writes the seeds to a temporary directory as the writer would, then reads each back and
    /// decodes it with its target's decoder.
    @Test func everySeedDecodesWithItsTargetsDecoder() throws {
        let seeds = try Self.seeds()
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: temporary) }
        try Self.write(seeds, under: temporary)
        for target in Set(seeds.map(\.target)) {
            #expect(FileManager.default.fileExists(atPath: Self.repositoryRoot.path + "/Fuzz/\(target)"))
        }
        for seed in seeds {
            let read = try Data(contentsOf: temporary.appendingPathComponent("Fuzz/\(seed.target)/corpus/\(seed.name)"))
            #expect(Array(read) == seed.bytes)
            do {
                try Self.checkDecodes(seed.target, seed.name, Array(read))
            } catch {
                Issue.record("seed \(seed.target)/\(seed.name) does not decode: \(error)")
            }
        }
    }

    /// Every file of the repository's corpora decodes with its target's decoder, and a file named
    /// like a seed holds exactly that seed's bytes. With `SMEG_WRITE_CORPUS=<repository root>`
    /// the seeds are written there first.
    @Test func repositoryCorporaMatchTheSeeds() throws {
        let seeds = try Self.seeds()
        if let root = ProcessInfo.processInfo.environment["SMEG_WRITE_CORPUS"] {
            try Self.write(seeds, under: URL(fileURLWithPath: root))
        }
        let fuzz = Self.repositoryRoot.appendingPathComponent("Fuzz")
        let targets = try FileManager.default.contentsOfDirectory(atPath: fuzz.path).filter { $0.hasPrefix("Fuzz") }
        #expect(Set(targets) == Set(seeds.map(\.target)), "every fuzz target needs seeds here, and only they")
        let byPath = Dictionary(uniqueKeysWithValues: seeds.map { ("\($0.target)/\($0.name)", $0.bytes) })
        var compared = 0
        for target in targets.sorted() {
            let corpus = fuzz.appendingPathComponent("\(target)/corpus")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []
            #expect(!names.isEmpty, "Fuzz/\(target)/corpus is empty")
            for name in names.sorted() {
                let bytes = Array(try Data(contentsOf: corpus.appendingPathComponent(name)))
                do {
                    try Self.checkDecodes(target, name, bytes)
                } catch {
                    Issue.record("Fuzz/\(target)/corpus/\(name) does not decode: \(error)")
                }
                guard let expected = byPath["\(target)/\(name)"] else { continue }
                compared += 1
                #expect(
                    bytes == expected,
                    "Fuzz/\(target)/corpus/\(name) differs from its seed: SMEG_WRITE_CORPUS=$PWD swift test --filter FuzzCorpus"
                )
            }
        }
        #expect(compared > 0)
    }
}
