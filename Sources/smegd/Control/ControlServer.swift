import Glibc
import Logging
import MeshCore
import NIOCore
import NIOPosix

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The control API on its Unix socket.
struct ControlServer: Sendable {
    let path: String
    let group: String?
    let router: ControlRouter
    let logger: Logger
    private let http: HTTPServer

    init(
        path: String, group: String?, router: ControlRouter, logger: Logger,
        maximumConnections: Int = HTTPServer.defaultMaximumConnections,
        requestTimeout: TimeAmount = HTTPServer.defaultRequestTimeout
    ) {
        self.path = path
        self.group = group
        self.router = router
        self.logger = logger
        self.http = HTTPServer(
            maximumBody: ControlAPI.maximumRequestBody, maximumConnections: maximumConnections,
            requestTimeout: requestTimeout, logger: logger
        ) { [router] request in
            await router.handle(request)
        }
    }

    /// Binds the socket: refuses if another daemon answers on it, removes a stale file, and
    /// gives the socket mode 0660. The mode is set after bind with chmod, not through umask:
    /// umask is process-wide and would race with files other tasks create. Until the chmod the
    /// socket has the process's default mode, which never grants others write (connect) access
    /// under the usual umask 022.
    func bind(on eventLoopGroup: any EventLoopGroup) async throws -> HTTPServer.Listener {
        try SocketPreparation.prepare(path: path)
        let listener = try await http.bind(unixSocket: path, on: eventLoopGroup)
        try SocketPreparation.finish(path: path, group: group)
        return listener
    }

    func serve(_ listener: HTTPServer.Listener) async throws {
        try await http.serve(listener)
    }
}
