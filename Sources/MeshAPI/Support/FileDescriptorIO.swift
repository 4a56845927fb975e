#if canImport(Glibc)
    import Glibc
#endif

/// The one write loop key files, atomic files and smegctl's standard error share: `write(2)`
/// may write less than asked, or be interrupted by a signal, and neither is a failure.
public enum FileDescriptorIO {
    /// Writes all of `bytes` to `descriptor`; false on the first real error (errno says which)
    /// or when a write makes no progress.
    /// Takes an array, never copied, so that a caller that wipes a secret afterwards wipes its
    /// only copy (`KeyFile`).
    public static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            // Nothing written for a non-empty buffer would repeat forever: a failure too.
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}
