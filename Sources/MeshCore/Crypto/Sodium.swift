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
        out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) }
        return out
    }

    /// Version string of the linked libsodium, for `status` and logs.
    public static var version: String {
        String(cString: sodium_version_string())
    }
}
