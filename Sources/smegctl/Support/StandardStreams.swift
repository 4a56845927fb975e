import MeshAPI

#if canImport(Glibc)
    import Glibc
#endif

/// Standard input and error, and files read whole, through the C library: Foundation's
/// FileHandle would link the whole of Foundation, and with it ICU, into smegctl
/// (docs/operations.md, "What each binary holds").
enum StandardStreams {
    static func writeError(_ text: String) {
        _ = FileDescriptorIO.writeAll(STDERR_FILENO, Array(text.utf8))
    }

    /// Standard input up to its end or `limit` bytes, whichever comes first.
    static func readInput(limit: Int) -> [UInt8] {
        readAll(STDIN_FILENO, limit: limit)
    }

    /// The file at `path` up to `limit` bytes, or nil when it cannot be opened.
    static func read(path: String, limit: Int) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        return readAll(descriptor, limit: limit)
    }

    static func exit(_ status: Int32) -> Never {
        Glibc.exit(status)
    }

    private static func readAll(_ descriptor: Int32, limit: Int) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while result.count < limit {
            let wanted = min(chunk.count, limit - result.count)
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, wanted) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            result += chunk[..<count]
        }
        return result
    }
}
