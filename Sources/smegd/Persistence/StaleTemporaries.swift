import Glibc
import MeshCore
import MeshLinux

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Temporary files that a crash-safe write leaves behind when the daemon is killed between
/// creating and renaming them (kill -9, power loss). Each may hold a copy of a secret (a mesh
/// secret, an identity seed), and nothing else ever removes them, so the daemon removes them
/// from its state directory as it starts, before it writes anything itself.
///
/// Only names of our own two temporary patterns are touched, only regular files (never a
/// directory, nor a symlink or what it points to), and only in the tree the daemon lays out
/// (the state directory, `meshes/` and each mesh's directory): deleting is the one thing here
/// that cannot be undone.
enum StaleTemporaries {
    /// `root`, `root/meshes`, `root/meshes/<id>`.
    static let maximumDepth = 2
    /// Entries looked at per directory: a directory stuffed with names cannot stall the start.
    static let maximumEntries = 10_000

    enum Writer: Equatable {
        /// An `AtomicFile` temporary, named with the pid of the process that wrote it.
        case process(Int32)
        /// A key file temporary: `<name>.<10 base32 characters>.tmp`, or `<name>.tmp.tmp` when no
        /// random suffix could be drawn (see `KeyFile.writeSecret`). Its name carries no pid.
        case keyFile
    }

    /// Who wrote `name`, when it is one of our temporary names.
    static func writer(of name: String) -> Writer? {
        if let pid = AtomicFile.writer(ofTemporary: name) { return .process(pid) }
        guard name.hasSuffix(".tmp") else { return nil }
        let stem = name.dropLast(4)
        guard let dot = stem.lastIndex(of: "."), dot > stem.startIndex else { return nil }
        let suffix = stem[stem.index(after: dot)...]
        let base32 = suffix.utf8.count == 10 && suffix.utf8.allSatisfy(isBase32)
        return base32 || suffix == "tmp" ? .keyFile : nil
    }

    /// Removes the stale temporaries under `root` and returns their paths. An `AtomicFile`
    /// temporary whose writer is a live process other than this one is left alone: a second
    /// daemon started on the same directory by mistake must not lose a write in flight.
    static func remove(under root: String, isRunning: (Int32) -> Bool = processExists) -> [String] {
        var removed: [String] = []
        visit(root, depth: 0) { path, name in
            switch writer(of: name) {
            case .process(let pid) where pid != getpid() && isRunning(pid): return
            case nil: return
            default: break
            }
            if unlink(path) == 0 { removed.append(path) }
        }
        return removed.sorted()
    }

    private static func isBase32(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "2") && byte <= UInt8(ascii: "7"))
    }

    static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    private static func visit(_ directory: String, depth: Int, _ regularFile: (String, String) -> Void) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names.prefix(maximumEntries) {
            let path = directory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFREG: regularFile(path, name)
            case S_IFDIR where depth < maximumDepth: visit(path, depth: depth + 1, regularFile)
            default: continue
            }
        }
    }
}
