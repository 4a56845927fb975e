import Synchronization

/// Ed25519 checks this process already made, so that the same check is not paid for twice.
///
/// A member's record carries the owner's admission statement, and every new version of the
/// record carries the same one: each receiver verified it again with each version, and
/// converted the member's signing key to its WireGuard key again. In a mass join of 99 nodes
/// on two cores (perf, whole system) signature checks were a quarter of all CPU, and these
/// repeats a good part of them, on a host where CPU decides how soon the joins settle.
///
/// Only successes are kept, under a BLAKE2b-256 digest of key ‖ signature ‖ message (fixed
/// lengths first, so the concatenation is unambiguous): a hit needs the exact triple that
/// verified, so a forged signature is never taken from here. The memo is bounded: when full it
/// starts over, which costs checks again, never correctness.
final class SignatureMemo: Sendable {
    static let shared = SignatureMemo()
    static let capacity = 8192

    private struct State {
        var verified: Set<[UInt8]> = []
        var converted: [[UInt8]: [UInt8]] = [:]
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int = SignatureMemo.capacity) {
        self.capacity = capacity
    }

    /// `Sodium.ed25519Verify`, once per distinct triple that verifies.
    func isValid(_ signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == Sodium.ed25519SignatureBytes, publicKey.count == Sodium.ed25519PublicKeyBytes else {
            return false
        }
        let digest = Sodium.blake2b([publicKey, signature, message], outputLength: 32)
        if state.withLock({ $0.verified.contains(digest) }) { return true }
        guard Sodium.ed25519Verify(signature, message: message, publicKey: publicKey) else { return false }
        state.withLock { state in
            if state.verified.count >= capacity { state.verified.removeAll(keepingCapacity: true) }
            state.verified.insert(digest)
        }
        return true
    }

    /// `Sodium.ed25519PublicToX25519`, once per key it converts.
    func x25519(ofSigningKey publicKey: [UInt8]) -> [UInt8]? {
        if let known = state.withLock({ $0.converted[publicKey] }) { return known }
        guard let converted = Sodium.ed25519PublicToX25519(publicKey) else { return nil }
        state.withLock { state in
            if state.converted.count >= capacity { state.converted.removeAll(keepingCapacity: true) }
            state.converted[publicKey] = converted
        }
        return converted
    }

    /// Entries held, for tests of the bound.
    var counts: (verified: Int, converted: Int) {
        state.withLock { ($0.verified.count, $0.converted.count) }
    }
}
