import CSodium

/// libsodium must be initialised once per process before any other call; `sodium_init` is
/// idempotent and thread-safe, so every entry point that uses libsodium calls `ensureReady()`.
public enum Sodium {
    public struct InitializationFailed: Error, CustomStringConvertible {
        public var description: String { "libsodium failed to initialise (sodium_init returned -1)" }
    }

    public static func ensureReady() throws {
        if sodium_init() < 0 { throw InitializationFailed() }
    }

    /// Cryptographically secure random bytes from libsodium.
    public static func randomBytes(_ count: Int) throws -> [UInt8] {
        try ensureReady()
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { randombytes_buf(base, count) }
        }
        return out
    }

    /// Version string of the linked libsodium, for `status` and logs.
    public static var version: String {
        String(cString: sodium_version_string())
    }

    /// Compares secrets and MACs in time independent of where they first differ, so that a
    /// remote peer cannot learn a secret byte by byte from response timing.
    public static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.isEmpty { return true }
        return sodium_memcmp(lhs, rhs, lhs.count) == 0
    }

    /// Overwrites secret material in a way the optimiser may not elide.
    public static func wipe(_ bytes: inout [UInt8]) {
        let count = bytes.count
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { sodium_memzero(base, count) }
        }
    }
}
