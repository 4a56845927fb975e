import Logging
import MeshCore
import MeshLinux

/// Keeps the `hostsFile` export equal to the membership: compares once a second, and writes
/// (atomically, mode 0644) only when the text changed, so tools watching the file see a change
/// only when there is one. It writes this one file and never /etc/hosts itself.
struct HostsFileWriter: Sendable {
    static let interval = Duration.seconds(1)
    /// A file larger than this at the path is not an earlier export; it is replaced, not read.
    static let readLimit = 16 * 1024 * 1024

    /// What the writer knows between checks.
    struct State: Equatable {
        /// The file's content as last read or written; nil when unknown or absent.
        var written: String?
        /// The last write error, logged once rather than every second.
        var failure: String?
    }

    let path: String
    let zones: ZoneSnapshots
    let metrics: MetricsRegistry
    let logger: Logger

    func run() async {
        var state = State(
            written: (try? AtomicFile.read(path, limit: Self.readLimit))?.map { String(decoding: $0, as: UTF8.self) })
        while !Task.isCancelled {
            await check(&state)
            try? await Task.sleep(for: Self.interval)
        }
    }

    /// Writes the file when the text it should hold differs from what it holds.
    func check(_ state: inout State) async {
        let text = HostsFile.render(await zones.current())
        guard text != state.written else { return }
        do {
            try AtomicFile.write(Array(text.utf8), to: path, mode: 0o644)
            state = State(written: text)
            metrics.increment("smeg_hosts_file_writes_total", labels: ["result": "ok"])
            logger.info("wrote \(path)")
        } catch {
            metrics.increment("smeg_hosts_file_writes_total", labels: ["result": "error"])
            if state.failure != error.description { logger.error("cannot write the hosts file: \(error)") }
            state.failure = error.description
        }
    }
}
