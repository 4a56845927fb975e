#if canImport(Glibc)
    import Glibc
#endif

/// Persists secrets: a node's identity seed (so a restart keeps the same key and overlay address)
/// and a mesh's shared secret.
///
/// There is no load-or-create: a key that is missing where one was written is lost state to
/// report, and replacing it silently would turn the node into another member (and, for the
/// mesh's creator, discard the owner key). Callers make keys only when they mean to.
///
/// Each file is one line, `<header> <base64 of 32 bytes>`, with a header per kind
/// (`smegmesh-ed25519-seed-v1`, `smegmesh-mesh-secret-v1`), so neither can be mistaken for the
/// other or for a WireGuard key file, and a future format can be told apart. Writes go to a
/// temporary file in the same directory that is fsynced and renamed over the target, then the
/// directory is fsynced: after a crash the file is either the old secret or the new one, never
/// empty or half written.
public enum KeyFile {
    static let identityHeader = "smegmesh-ed25519-seed-v1"
    static let meshSecretHeader = "smegmesh-mesh-secret-v1"
    static let maxFileSize = 4096

    public static func write(_ identity: NodeIdentity, to path: String) throws(KeyFileError) {
        try writeSecret(identity.seed, header: identityHeader, to: path)
    }

    public static func write(_ secret: MeshSecret, to path: String) throws(KeyFileError) {
        try writeSecret(secret.bytes, header: meshSecretHeader, to: path)
    }

    /// Loads an identity, refusing a file that anyone but its owner could read or that the
    /// current user does not own: a key others may have seen is no longer a secret.
    public static func load(from path: String) throws(KeyFileError) -> NodeIdentity {
        var seed = try loadSecret(header: identityHeader, from: path)
        defer { Sodium.wipe(&seed) }
        do {
            return try NodeIdentity(seed: seed)
        } catch {
            throw KeyFileError(path: path, problem: .malformed(error.description))
        }
    }

    /// Loads a mesh secret, with the same ownership and permission rules as an identity.
    public static func loadMeshSecret(from path: String) throws(KeyFileError) -> MeshSecret {
        MeshSecret(uncheckedBytes: try loadSecret(header: meshSecretHeader, from: path))
    }

    static func writeSecret(_ secret: [UInt8], header: String, to path: String) throws(KeyFileError) {
        var content = Array((header + " " + Base64.encode(secret) + "\n").utf8)
        defer { Sodium.wipe(&content) }
        let directory = directoryName(of: path)
        let suffix = (try? Sodium.randomBytes(6)).map { Base32.encode($0) } ?? "tmp"
        let temporary = "\(path).\(suffix).tmp"

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw KeyFileError(path: path, problem: .io("create \(temporary)", errno)) }
        var failure: KeyFileError?
        if fchmod(fd, 0o600) != 0 {
            failure = KeyFileError(path: temporary, problem: .io("chmod", errno))
        } else if !FileDescriptorIO.writeAll(fd, content) {
            failure = KeyFileError(path: temporary, problem: .io("write", errno))
        } else if fsync(fd) != 0 {
            failure = KeyFileError(path: temporary, problem: .io("fsync", errno))
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw failure
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw KeyFileError(path: path, problem: .io("rename", code))
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryFD >= 0 else { throw KeyFileError(path: directory, problem: .io("open directory", errno)) }
        defer { close(directoryFD) }
        guard fsync(directoryFD) == 0 else {
            throw KeyFileError(path: directory, problem: .io("fsync directory", errno))
        }
    }

    static func loadSecret(header: String, from path: String) throws(KeyFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw KeyFileError(path: path, problem: .missing)
            case ELOOP: throw KeyFileError(path: path, problem: .notRegularFile)
            default: throw KeyFileError(path: path, problem: .io("open", code))
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw KeyFileError(path: path, problem: .io("stat", errno)) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw KeyFileError(path: path, problem: .notRegularFile) }
        let mode = info.st_mode & 0o7777
        guard mode & 0o077 == 0 else { throw KeyFileError(path: path, problem: .permissions(mode: mode)) }
        guard info.st_uid == geteuid() else {
            throw KeyFileError(path: path, problem: .owner(uid: info.st_uid, expected: geteuid()))
        }
        guard info.st_size <= maxFileSize else {
            throw KeyFileError(path: path, problem: .malformed("file is too large"))
        }

        var content = [UInt8](repeating: 0, count: maxFileSize + 1)
        defer { Sodium.wipe(&content) }
        var total = 0
        while total <= maxFileSize {
            let count = content.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress! + total, buffer.count - total)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw KeyFileError(path: path, problem: .io("read", errno))
            }
            if count == 0 { break }
            total += count
        }
        guard total <= maxFileSize else { throw KeyFileError(path: path, problem: .malformed("file is too large")) }
        return try parse(content[..<total], header: header, path: path)
    }

    static func parse(_ content: ArraySlice<UInt8>, header: String, path: String) throws(KeyFileError) -> [UInt8] {
        var line = content
        if line.last == UInt8(ascii: "\n") { line = line.dropLast() }
        let headerBytes = Array((header + " ").utf8)
        guard line.starts(with: headerBytes) else {
            throw KeyFileError(path: path, problem: .malformed("it does not start with \"\(header) \""))
        }
        let encoded = String(decoding: line.dropFirst(headerBytes.count), as: UTF8.self)
        guard let secret = Base64.decode(encoded, expectedLength: 32) else {
            throw KeyFileError(path: path, problem: .malformed("the key is not 32 bytes of base64"))
        }
        return secret
    }

    private static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// A key file that cannot be used, naming the file and what to do about it.
public struct KeyFileError: Error, Equatable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        case missing
        case notRegularFile
        case permissions(mode: mode_t)
        case owner(uid: uid_t, expected: uid_t)
        case malformed(String)
        case io(String, Int32)
    }

    public let path: String
    public let problem: Problem

    public var description: String {
        switch problem {
        case .missing:
            return "key file \(path) does not exist"
        case .notRegularFile:
            return "key file \(path) is not a regular file; point smegd at the key file itself (symlinks are refused)"
        case .permissions(let mode):
            let octal = String(mode, radix: 8)
            return "key file \(path) is accessible by group or others (mode 0\(octal)); "
                + "run `chmod 600 \(path)`, and if others may have read it, treat the key as leaked and replace it"
        case .owner(let uid, let expected):
            return "key file \(path) is owned by uid \(uid), not by the user running smegd (uid \(expected)); "
                + "run `chown \(expected) \(path)`"
        case .malformed(let reason):
            return "key file \(path) is not usable: \(reason)"
        case .io(let operation, let code):
            return "key file \(path): \(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}
