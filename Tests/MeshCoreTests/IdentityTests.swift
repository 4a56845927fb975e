import Foundation
import GossipCRDT
import Testing

@testable import MeshCore

@Suite struct IdentityTests {
    @Test func wireGuardKeyIsDerivedFromSigningKey() throws {
        let identity = try NodeIdentity.generate()
        #expect(identity.signingKey.derivedWireGuardKey == identity.wireGuardPublicKey)
        #expect(identity.wireGuardPrivateKey.publicKey == identity.wireGuardPublicKey)
        #expect(identity.nodeID == NodeID(bytes: identity.wireGuardPublicKey.bytes))
        #expect(WireGuardPublicKey(nodeID: identity.nodeID) == identity.wireGuardPublicKey)
    }

    @Test func sameSeedSameIdentity() throws {
        let a = try NodeIdentity(seed: Fixtures.seed1)
        let b = try NodeIdentity(seed: Fixtures.seed1)
        #expect(a.wireGuardPublicKey == b.wireGuardPublicKey)
        #expect(a.signingKey == b.signingKey)
        #expect(a.wireGuardPublicKey != Fixtures.identity2.wireGuardPublicKey)
    }

    @Test func rejectsSeedOfWrongLength() {
        #expect(throws: IdentityError.badSeedLength(31)) { try NodeIdentity(seed: Array(0..<31)) }
    }

    /// The real `wg` tool must compute the same public key from our private key, or WireGuard
    /// would authenticate a different key than the one gossip names.
    @Test func wgPubkeyAgreesWithDerivedPublicKey() throws {
        for identity in [Fixtures.identity1, try NodeIdentity.generate(), try NodeIdentity.generate()] {
            let output = try runWgPubkey(identity.wireGuardPrivateKey.base64)
            #expect(output == identity.wireGuardPublicKey.base64)
        }
    }

    @Test func publicKeyBase64RoundTrips() throws {
        let key = Fixtures.identity1.wireGuardPublicKey
        #expect(key.base64.count == 44)
        #expect(WireGuardPublicKey(base64: key.base64) == key)
        #expect(WireGuardPublicKey(base64: String(key.base64.dropLast())) == nil)
        #expect(WireGuardPublicKey(base64: key.base64 + "A") == nil)
        // Non-zero trailing bits: the same 32 bytes must have exactly one accepted spelling.
        let altered = String(key.base64.dropLast(2)) + "F="
        #expect(WireGuardPublicKey(base64: altered) == nil)
    }

    @Test func signaturesVerifyOnlyForTheSignedMessage() {
        let message: [UInt8] = Array("hello".utf8)
        let signature = Fixtures.identity1.sign(message)
        #expect(Fixtures.identity1.signingKey.isValidSignature(signature, for: message))
        #expect(!Fixtures.identity1.signingKey.isValidSignature(signature, for: message + [0]))
        #expect(!Fixtures.identity2.signingKey.isValidSignature(signature, for: message))
        #expect(!Fixtures.identity1.signingKey.isValidSignature(Array(signature.dropLast()), for: message))
    }

    @Test func secretsAreRedactedInDescriptions() {
        let identity = Fixtures.identity1
        #expect(!identity.wireGuardPrivateKey.description.contains(identity.wireGuardPrivateKey.base64))
        #expect(!Fixtures.secret.description.contains(Base64.encode(Fixtures.secret.bytes)))
    }

    private func runWgPubkey(_ privateKey: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/wg")
        process.arguments = ["pubkey"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data((privateKey + "\n").utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

@Suite struct KeyFileTests {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "smeg-keyfile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    @Test func writeThenLoadGivesTheSameIdentityWithMode0600() throws {
        let path = directory + "/node.key"
        let identity = try NodeIdentity.generate()
        try KeyFile.write(identity, to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let loaded = try KeyFile.load(from: path)
        #expect(loaded.wireGuardPublicKey == identity.wireGuardPublicKey)
        #expect(loaded.address(in: Fixtures.mesh1) == identity.address(in: Fixtures.mesh1))
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["node.key"])
    }

    @Test func overwriteReplacesAtomically() throws {
        let path = directory + "/node.key"
        try KeyFile.write(Fixtures.identity1, to: path)
        try KeyFile.write(Fixtures.identity2, to: path)
        #expect(try KeyFile.load(from: path).wireGuardPublicKey == Fixtures.identity2.wireGuardPublicKey)
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o606])
    func refusesGroupOrOtherAccess(_ mode: Int) throws {
        let path = directory + "/node.key"
        try KeyFile.write(Fixtures.identity1, to: path)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        let error = try #require(throws: KeyFileError.self) { try KeyFile.load(from: path) }
        #expect(error.problem == .permissions(mode: mode_t(mode)))
        #expect(error.description.contains(path))
        #expect(error.description.contains("chmod 600"))
    }

    @Test func acceptsOwnerOnlyModes() throws {
        let path = directory + "/node.key"
        try KeyFile.write(Fixtures.identity1, to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path)
        #expect(try KeyFile.load(from: path).wireGuardPublicKey == Fixtures.identity1.wireGuardPublicKey)
    }

    @Test(arguments: [
        "", "garbage\n", "smegmesh-ed25519-seed-v1 \n", "smegmesh-ed25519-seed-v1 AAAA\n",
        "smegmesh-ed25519-seed-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
        "smegmesh-ed25519-seed-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",
        "OJTupJxYCu+BaTV2K+BJVZ1tFEDe3hLmoSXxhB//jm8=\n",
    ])
    func refusesBadContent(_ content: String) throws {
        let path = directory + "/node.key"
        #expect(
            FileManager.default.createFile(
                atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600]))
        let error = try #require(throws: KeyFileError.self) { try KeyFile.load(from: path) }
        guard case .malformed = error.problem else {
            Issue.record("expected malformed, got \(error)")
            return
        }
        #expect(error.description.contains(path))
    }

    @Test func acceptsTheDocumentedFormat() throws {
        let path = directory + "/node.key"
        let content = "smegmesh-ed25519-seed-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        #expect(
            FileManager.default.createFile(
                atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600]))
        #expect(try KeyFile.load(from: path).wireGuardPublicKey == Fixtures.identity1.wireGuardPublicKey)
    }

    @Test func missingFileAndSymlinkAreNamed() throws {
        let missing = directory + "/absent.key"
        let error = try #require(throws: KeyFileError.self) { try KeyFile.load(from: missing) }
        #expect(error.problem == .missing)
        #expect(error.description.contains(missing))

        let target = directory + "/real.key"
        try KeyFile.write(Fixtures.identity1, to: target)
        let link = directory + "/link.key"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(throws: KeyFileError.self) { try KeyFile.load(from: link) }
    }

    @Test func meshSecretFilesRoundTripAndAreNotIdentities() throws {
        let path = directory + "/mesh.secret"
        try KeyFile.write(Fixtures.secret, to: path)
        #expect(try KeyFile.loadMeshSecret(from: path) == Fixtures.secret)
        // The header keeps a secret from being loaded as an identity, and the other way round.
        #expect(throws: KeyFileError.self) { try KeyFile.load(from: path) }
        let identityPath = directory + "/node.key"
        try KeyFile.write(Fixtures.identity1, to: identityPath)
        #expect(throws: KeyFileError.self) { try KeyFile.loadMeshSecret(from: identityPath) }
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        #expect(throws: KeyFileError.self) { try KeyFile.loadMeshSecret(from: path) }
    }

    @Test func writeIntoMissingDirectoryNamesTheTarget() throws {
        let path = directory + "/absent/node.key"
        let error = try #require(throws: KeyFileError.self) { try KeyFile.write(Fixtures.identity1, to: path) }
        #expect(error.description.contains(path))
    }

    @Test func refusesADirectory() throws {
        let error = try #require(throws: KeyFileError.self) { try KeyFile.load(from: directory) }
        #expect(error.problem == .notRegularFile)
    }
}
