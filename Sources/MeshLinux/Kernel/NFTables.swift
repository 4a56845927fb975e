import MeshCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `nft -f -` (the nftables package) with a `PacketFilter` script on its standard input.
/// The script replaces one table in one transaction, so a failure leaves the table as it was.
enum NFTables {
    enum Failure: Error, CustomStringConvertible {
        /// No `nft` on PATH, in /usr/sbin or in /sbin.
        case missing
        case failed(status: Int32, message: String)
        case system(String)

        var description: String {
            switch self {
            case .missing: "the nft program is missing (install the nftables package)"
            case .failed(let status, let message):
                "nft exited with status \(status)" + (message.isEmpty ? "" : ": \(message)")
            case .system(let message): message
            }
        }
    }

    /// Where `nft` is looked for when PATH does not have it: a daemon started without sbin on its
    /// PATH still finds Debian's /usr/sbin/nft.
    static let fallbacks = ["/usr/sbin/nft", "/sbin/nft"]

    /// Runs the first of `programs` that exists (`nft` on PATH, then the fallbacks).
    static func run(script: String, programs: [String] = ["nft"] + fallbacks) throws {
        var lastError = Failure.missing
        for program in programs {
            do {
                try run(program: program, script: script)
                return
            } catch Failure.missing {
                continue
            } catch let failure as Failure {
                lastError = failure
                break
            }
        }
        throw lastError
    }

    /// Spawns `program -f -`, writes `script` to its stdin and reads its stderr until it exits.
    private static func run(program: String, script: String) throws {
        // Standard input is a socket, not a pipe, so that writing to an nft that exited early
        // is EPIPE (MSG_NOSIGNAL) rather than a SIGPIPE that would end the daemon.
        var input: [Int32] = [0, 0]
        var errors: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &input) == 0 else {
            throw Failure.system("socketpair: \(String(cString: strerror(errno)))")
        }
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &errors) == 0 else {
            close(input[0])
            close(input[1])
            throw Failure.system("socketpair: \(String(cString: strerror(errno)))")
        }
        var readEnd = errors[0]
        var writeEnd = input[1]
        defer {
            if readEnd >= 0 { close(readEnd) }
            if writeEnd >= 0 { close(writeEnd) }
        }
        // As for wireguard-go: the child inherits nothing but the descriptors given here.
        UserspaceWireGuardBackend.markAllDescriptorsCloseOnExec()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        let arguments = [program, "-f", "-"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, program, &actions, nil, &argv, environ)
        close(input[0])
        close(errors[1])
        guard spawned == 0 else {
            if spawned == ENOENT { throw Failure.missing }
            throw Failure.system("cannot start \(program): \(String(cString: strerror(spawned)))")
        }
        // A script is a few hundred bytes: it fits the socket's buffer, so writing first cannot
        // block on a child blocked on a full stderr.
        let bytes = Array(script.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes {
                send(writeEnd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }  // nft exited early; its status says why
            written += count
        }
        close(writeEnd)
        writeEnd = -1
        var message: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            if message.count < 16_384 { message += buffer[..<count] }
        }
        close(readEnd)
        readEnd = -1
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                throw Failure.system("wait for \(program): \(String(cString: strerror(errno)))")
            }
        }
        let exit = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exit == 0 else {
            let text = String(decoding: message, as: UTF8.self)
                .split(separator: "\n").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
                .prefix(3).joined(separator: "; ")
            throw Failure.failed(status: exit, message: text)
        }
    }
}
