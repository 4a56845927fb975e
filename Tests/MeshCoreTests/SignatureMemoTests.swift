import Testing

@testable import MeshCore

/// The memo may only ever answer what libsodium would: these compare the two on valid
/// signatures and on every single-bit change of key, signature and message, before and after
/// the valid triple is memoized.
@Suite struct SignatureMemoTests {
    @Test func answersAsLibsodiumForEveryBitFlip() throws {
        let identity = try NodeIdentity.generate()
        let message = Array("a record body".utf8)
        let signature = identity.sign(message)
        let key = identity.signingKey.bytes
        let memo = SignatureMemo(capacity: 64)
        for round in 0..<2 {
            #expect(memo.isValid(signature, message: message, publicKey: key), "round \(round)")
            for index in 0..<(key.count + signature.count + message.count) {
                for bit in [0, 3, 7] {
                    var (k, s, m) = (key, signature, message)
                    if index < k.count {
                        k[index] ^= 1 << bit
                    } else if index < k.count + s.count {
                        s[index - k.count] ^= 1 << bit
                    } else {
                        m[index - k.count - s.count] ^= 1 << bit
                    }
                    let direct = Sodium.ed25519Verify(s, message: m, publicKey: k)
                    #expect(memo.isValid(s, message: m, publicKey: k) == direct)
                }
            }
        }
        #expect(memo.counts.verified == 1)
    }

    @Test func refusesWrongLengthsAndEmptyMessagesLikeLibsodium() throws {
        let identity = try NodeIdentity.generate()
        let memo = SignatureMemo(capacity: 8)
        let signature = identity.sign([])
        #expect(memo.isValid(signature, message: [], publicKey: identity.signingKey.bytes))
        #expect(!memo.isValid(Array(signature.dropLast()), message: [], publicKey: identity.signingKey.bytes))
        #expect(!memo.isValid(signature, message: [], publicKey: Array(identity.signingKey.bytes.dropLast())))
        // The concatenation is unambiguous: moving a byte from the signature to the message
        // is a different triple.
        #expect(
            !memo.isValid(
                Array(signature.dropLast()) + [0], message: [signature.last!], publicKey: identity.signingKey.bytes))
    }

    @Test func staysWithinItsBoundAndStillVerifiesAfterStartingOver() throws {
        let identity = try NodeIdentity.generate()
        let memo = SignatureMemo(capacity: 4)
        var signed: [([UInt8], [UInt8])] = []
        for n in 0..<10 {
            let message = [UInt8(n)]
            signed.append((message, identity.sign(message)))
        }
        for (message, signature) in signed {
            #expect(memo.isValid(signature, message: message, publicKey: identity.signingKey.bytes))
            #expect(memo.counts.verified <= 4)
        }
        for (message, signature) in signed {
            #expect(memo.isValid(signature, message: message, publicKey: identity.signingKey.bytes))
        }
    }

    @Test func convertsKeysAsLibsodiumAndRemembersOnlyConversions() throws {
        let memo = SignatureMemo(capacity: 3)
        for _ in 0..<8 {
            let identity = try NodeIdentity.generate()
            #expect(memo.x25519(ofSigningKey: identity.signingKey.bytes) == identity.wireGuardPublicKey.bytes)
            #expect(memo.x25519(ofSigningKey: identity.signingKey.bytes) == identity.wireGuardPublicKey.bytes)
            #expect(memo.counts.converted <= 3)
        }
        // A key the conversion rejects (not a point) is rejected every time and never held.
        let notAPoint = [UInt8](repeating: 0xff, count: 32)
        let before = memo.counts.converted
        #expect(Sodium.ed25519PublicToX25519(notAPoint) == nil)
        #expect(memo.x25519(ofSigningKey: notAPoint) == nil)
        #expect(memo.counts.converted == before)
    }
}
