import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// A file-system failure naming the file, the step and the errno text.
public struct FileError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: Int32

    public init(path: String, operation: String, errno: Int32) {
        self.path = path
        self.operation = operation
        self.errno = errno
    }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
}

/// Whole-file reads and crash-safe whole-file writes.
///
/// A write goes to a temporary file in the same directory, is fsynced, renamed over the target
/// and the directory is fsynced: after kill -9 or power loss the file holds either the old or
/// the new content, never a torn mix. The temporary file is created with its final mode, so a
/// secret is never readable by others even for a moment.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(FileError) {
        let directory = parentDirectory(of: path)
        let temporary = temporaryName(for: path)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw FileError(path: temporary, operation: "create", errno: errno) }
        var failure: FileError?
        if !FileDescriptorIO.writeAll(descriptor, bytes) {
            failure = FileError(path: temporary, operation: "write", errno: errno)
        } else if fchmod(descriptor, mode) != 0 {
            failure = FileError(path: temporary, operation: "chmod", errno: errno)
        } else if fsync(descriptor) != 0 {
            failure = FileError(path: temporary, operation: "fsync", errno: errno)
        }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 {
            failure = FileError(path: path, operation: "rename into place", errno: errno)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Reads a whole file, refusing files larger than `limit` before reading them.
    /// Returns nil when the file does not exist.
    public static func read(_ path: String, limit: Int) throws(FileError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw FileError(path: path, operation: "open", errno: errno)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw FileError(path: path, operation: "stat", errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw FileError(path: path, operation: "read", errno: EISDIR) }
        guard Int(info.st_size) <= limit else { throw FileError(path: path, operation: "read", errno: EFBIG) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, operation: "read", errno: errno)
            }
            if count == 0 { break }
            offset += count
        }
        return Array(bytes[0..<offset])
    }

    /// Creates a directory and its parents with `mode`, like `mkdir -p`.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(FileError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, mode) == 0 {
                chmod(current, mode)  // mkdir applies the umask; the caller asked for exactly `mode`
            } else if errno != EEXIST {
                throw FileError(path: current, operation: "create directory", errno: errno)
            }
        }
    }

    /// `<path>.tmp-<pid>-<random>`: the writer's pid in the name tells a file left by a writer
    /// that died (kill -9, power loss) from one a live process is writing right now.
    public static func temporaryName(for path: String) -> String {
        "\(path)\(temporaryMarker)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    static let temporaryMarker = ".tmp-"

    /// The writer's pid when `name` (a file name, no directory) is one of our temporary names.
    public static func writer(ofTemporary name: String) -> Int32? {
        let bytes = Array(name.utf8)
        let marker = Array(temporaryMarker.utf8)
        var start = bytes.count - marker.count
        while start > 0 && !bytes[start...].starts(with: marker) { start -= 1 }
        guard start > 0 else { return nil }  // the marker, after a non-empty name
        let parts = bytes[(start + marker.count)...].split(
            separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        let digits = { (part: ArraySlice<UInt8>) in
            (1...10).contains(part.count) && part.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        }
        guard parts.count == 2, parts.allSatisfy(digits),
            let pid = Int32(String(decoding: parts[0], as: UTF8.self)), pid > 0,
            UInt32(String(decoding: parts[1], as: UTF8.self)) != nil
        else { return nil }
        return pid
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }
}
