import GossipCRDT
import Testing

@testable import MeshCore

@Suite struct FrameTests {
    let sealer = FrameSealer(mesh: Fixtures.mesh1, secret: Fixtures.secret)
    let sender = Fixtures.identity1.nodeID
    let message: [UInt8] = Array("hello, mesh".utf8)

    @Test func sealedFrameOpens() throws {
        let frame = try sealer.seal(sender: sender, message: message)
        #expect(frame.count == message.count + FrameSealer.overhead)
        let opened = try sealer.open(frame)
        #expect(opened.sender == sender)
        #expect(opened.message == message)
        #expect(try FrameSealer.meshID(of: frame) == Fixtures.mesh1)
    }

    @Test func nonceIsFreshEachTime() throws {
        #expect(try sealer.seal(sender: sender, message: message) != sealer.seal(sender: sender, message: message))
    }

    @Test func emptyMessageRoundTrips() throws {
        #expect(try sealer.open(sealer.seal(sender: sender, message: [])).message == [])
    }

    @Test func wrongMeshSecretFailsAuthentication() throws {
        let frame = try sealer.seal(sender: sender, message: message)
        let other = FrameSealer(mesh: Fixtures.mesh1, secret: MeshSecret(bytes: [UInt8](repeating: 9, count: 32))!)
        #expect(throws: WireError.authenticationFailed) { try other.open(frame) }
    }

    @Test func frameForAnotherMeshIsRefused() throws {
        let frame = try sealer.seal(sender: sender, message: message)
        let other = FrameSealer(mesh: Fixtures.mesh2, secret: Fixtures.secret)
        #expect(throws: WireError.wrongMesh) { try other.open(frame) }
        // Relabelling the clear mesh id does not help: it is authenticated data.
        var relabelled = frame
        relabelled.replaceSubrange(5..<15, with: Fixtures.mesh2.bytes)
        #expect(throws: WireError.authenticationFailed) { try other.open(relabelled) }
    }

    @Test func everyTamperedByteIsDetected() throws {
        let frame = try sealer.seal(sender: sender, message: message)
        for index in frame.indices {
            var tampered = frame
            tampered[index] ^= 0x04
            #expect(throws: WireError.self) { try sealer.open(tampered) }
        }
    }

    @Test func everyTruncationIsATypedError() throws {
        let frame = try sealer.seal(sender: sender, message: message)
        for length in 0..<frame.count {
            #expect(throws: WireError.self) { try sealer.open(frame.prefix(length)) }
        }
        #expect(throws: WireError.self) { try sealer.open(frame + [0]) }
    }

    @Test func badMagicAndVersionAreNamed() throws {
        var frame = try sealer.seal(sender: sender, message: message)
        frame[4] = 2
        #expect(throws: WireError.unsupportedVersion(2)) { try sealer.open(frame) }
        frame[0] = 0
        #expect(throws: WireError.badMagic) { try sealer.open(frame) }
    }

    @Test func oversizedInputIsRefusedUpFront() throws {
        #expect(throws: WireError.self) { try sealer.open([UInt8](repeating: 0, count: FrameSealer.maxFrameSize + 1)) }
        #expect(throws: WireError.self) {
            try sealer.seal(sender: sender, message: [UInt8](repeating: 0, count: FrameSealer.maxMessageSize + 1))
        }
        let largest = try sealer.seal(sender: sender, message: [UInt8](repeating: 7, count: FrameSealer.maxMessageSize))
        #expect(largest.count == FrameSealer.maxFrameSize)
        #expect(try sealer.open(largest).message.count == FrameSealer.maxMessageSize)
    }

    /// The vector in docs/protocol.md ("Sealed frame test vector").
    @Test func documentedTestVector() throws {
        let nonce = [UInt8](repeating: 0x24, count: 24)
        let frame = try sealer.seal(sender: sender, message: [0x01, 0x02, 0x03], nonce: nonce)
        #expect(hex(frame) == ProtocolVectors.sealedFrame)
        let opened = try sealer.open(frame)
        #expect(opened.message == [0x01, 0x02, 0x03])
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// Hex vectors that docs/protocol.md publishes; the tests check the code still produces them.
enum ProtocolVectors {
    static let sealedFrame =
        "534d45470100010203040506070809242424242424242424242424242424242424242424242424c009d7e18c098a339dca2c3a"
        + "cede0d5b939f9b05d731ce1189369a511eed1d140efed56017d2a1dcecd299ad6635a50a392430"
}
