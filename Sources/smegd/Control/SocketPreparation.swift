import Glibc
import MeshCore
import MeshLinux
import NIOCore
import NIOPosix

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// File-system steps around binding the control socket.
enum SocketPreparation {
    struct InUse: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "another smegd is already serving \(path); stop it first or choose another socket with --socket"
        }
    }

    static func prepare(path: String) throws {
        // The socket's path is absolute (configuration checks it); its directory is what the
        // last slash leaves, "/" for a socket at the root.
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            let probe = ControlRoute.status
            _ = try ControlClient(socketPath: path, timeoutSeconds: 2).send(
                method: probe.method, path: probe.path, body: nil)
            throw InUse(path: path)
        } catch ControlClientError.daemonNotRunning {
            try FileManager.default.removeItem(atPath: path)  // stale socket of a dead daemon
        } catch ControlClientError.badResponse {
            throw InUse(path: path)
        }
    }

    struct GroupProblem: Error, CustomStringConvertible {
        let description: String
    }

    static func finish(path: String, group: String?) throws {
        if let group {
            guard let entry = getgrnam(group) else {
                throw GroupProblem(description: "socketGroup '\(group)' does not exist on this system")
            }
            guard chown(path, uid_t(bitPattern: -1), entry.pointee.gr_gid) == 0 else {
                let reason = String(cString: strerror(errno))
                throw GroupProblem(description: "cannot give \(path) to group \(group): \(reason)")
            }
        }
        chmod(path, 0o660)
    }
}
