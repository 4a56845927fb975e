import Foundation
import Logging
import MeshLinux
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import MeshCore
@testable import smegd

/// The control socket against clients that read slowly, connect too often or send slowly,
/// over a real Unix socket.
@Suite(.serialized) struct ControlServerLimitTests {
    private struct LargeHosts: HostsSource {
        static let text = String(repeating: "fd00::1\tweb.lab.smeg\n", count: 60_000)
        func hostsText() async -> String { Self.text }
    }

    private struct NoMeshes: ControlService {
        func status() async throws -> StatusResponse {
            StatusResponse(version: "t", backend: "none", uptimeSeconds: 1, meshes: [])
        }
        func listMeshes() async throws -> MeshListResponse { MeshListResponse(meshes: []) }
        func createMesh(_ request: CreateMeshRequest) async throws -> CreateMeshResponse { throw Self.none }
        func joinMesh(_ request: JoinMeshRequest) async throws -> MeshSummary { throw Self.none }
        func mesh(_ id: String) async throws -> MeshDetail { throw Self.none }
        func leaveMesh(_ id: String) async throws { throw Self.none }
        func invite(_ id: String) async throws -> InviteResponse { throw Self.none }
        func setAlias(_ id: String, _ value: String) async throws -> MeshDetail { throw Self.none }
        func setDescription(_ id: String, _ value: String) async throws -> MeshDetail { throw Self.none }
        func setService(_ id: String, name: String, value: String) async throws -> MeshDetail { throw Self.none }
        func deleteService(_ id: String, name: String) async throws -> MeshDetail { throw Self.none }
        func graph() async throws -> GraphResponse { GraphResponse(meshes: []) }
        func owners(_ id: String) async throws -> OwnersResponse { throw Self.none }
        func addOwner(_ id: String, member: String) async throws -> OwnersResponse { throw Self.none }
        func removeOwner(_ id: String, member: String) async throws -> OwnersResponse { throw Self.none }
        func evict(_ id: String, member: String) async throws -> MeshDetail { throw Self.none }
        func rotate(_ id: String) async throws -> MeshDetail { throw Self.none }
        func setSettings(_ id: String, _ request: SettingsRequest) async throws -> MeshDetail { throw Self.none }
        func invites(_ id: String) async throws -> InvitesResponse { throw Self.none }
        func createInvite(_ id: String, _ request: CreateInviteRequest) async throws -> InviteResponse {
            throw Self.none
        }
        func revokeInvite(_ id: String, invite: String) async throws -> InvitesResponse { throw Self.none }
        func ping(_ id: String, member: String, plan: PingRequest.Plan) async throws -> PingResult { throw Self.none }
        func accessPolicy(_ id: String) async throws -> AccessPolicyView { throw Self.none }
        func setAccessPolicy(_ id: String, _ request: AccessPolicyRequest) async throws -> AccessPolicyView {
            throw Self.none
        }
        func checkAccess(_ id: String, _ request: AccessCheckRequest) async throws -> AccessCheckResponse {
            throw Self.none
        }
        func changeTags(_ id: String, member: String, _ request: TagChangeRequest) async throws -> MemberTagsView {
            throw Self.none
        }
        static let none = ControlError.notFound("no meshes here")
    }

    private func withServer(
        maximumConnections: Int = 64, requestTimeout: TimeAmount = .seconds(10),
        _ body: @Sendable (String) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smegd-test-\(UUID().uuidString)")
        let path = directory.appendingPathComponent("smegd.sock").path
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = ControlServer(
            path: path, group: nil, router: ControlRouter(service: NoMeshes(), hosts: LargeHosts()),
            logger: Logger(label: "test"), maximumConnections: maximumConnections, requestTimeout: requestTimeout)
        let listener = try await server.bind(on: MultiThreadedEventLoopGroup.singleton)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve(listener) }
            try await body(path)
            group.cancelAll()
        }
    }

    @Test func aLargeResponseIsWrittenWhollyBeforeTheConnectionCloses() async throws {
        #expect(LargeHosts.text.utf8.count > 1_000_000)
        try await withServer { path in
            let reply = try await offPool {
                try ControlClient(socketPath: path).send(method: "GET", path: "/v1/hosts", body: nil)
            }
            #expect(reply.status == 200)
            #expect(reply.body.count == LargeHosts.text.utf8.count)
            #expect(reply.body == Array(LargeHosts.text.utf8))
        }
    }

    @Test func connectionsBeyondTheLimitAreRefusedAndTheServerCarriesOn() async throws {
        try await withServer(maximumConnections: 3) { path in
            let held = try (0..<3).map { _ in try TestSocket(path: path) }
            // The three connections are taken once the server has answered on each.
            for socket in held {
                try socket.send("GET /v1/status HTTP/1.1\r\nHost: t\r\n\r\n")
                let answer = try await offPool { try socket.readResponseHead() }
                #expect(answer.hasPrefix("HTTP/1.1 200"))
            }
            let extra = try TestSocket(path: path)
            let refused = try await offPool { try extra.readToEnd(limit: 4096) }
            let text = String(decoding: refused, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 503"))
            #expect(text.contains(#""error":"#))
            for socket in held { socket.close() }
            let status = try await eventually {
                try ControlClient(socketPath: path).call(ControlAPI.status())
            }
            #expect(status.backend == "none")
        }
    }

    @Test func aClientTricklingItsHeadersIsCutOff() async throws {
        try await withServer(requestTimeout: .seconds(1)) { path in
            let socket = try TestSocket(path: path)
            let padding = String(repeating: "a", count: 200)
            let request = Array("GET /v1/status HTTP/1.1\r\nHost: t\r\nX-Slow: \(padding)".utf8)
            let started = ContinuousClock.now
            let outcome = try await offPool { () -> (sent: Int, reply: [UInt8]) in
                var sent = 0
                for byte in request {
                    guard (try? socket.sendBytes([byte])) != nil else { break }
                    sent += 1
                    if socket.hasInput { break }
                    usleep(100_000)
                }
                return (sent, try socket.readToEnd(limit: 4096))
            }
            let elapsed = ContinuousClock.now - started
            #expect(String(decoding: outcome.reply, as: UTF8.self).hasPrefix("HTTP/1.1 408"))
            #expect(outcome.sent < request.count)
            #expect(elapsed < .seconds(5))
            let status = try await offPool {
                try ControlClient(socketPath: path).call(ControlAPI.status())
            }
            #expect(status.version == "t")
        }
    }

    @Test func aSlowReaderOfALargeResponseIsNotCutByTheDeadline() async throws {
        try await withServer(requestTimeout: .seconds(1)) { path in
            let socket = try TestSocket(path: path)
            try socket.send("GET /v1/hosts HTTP/1.1\r\nHost: t\r\n\r\n")
            try await Task.sleep(for: .milliseconds(2500))
            let head = try await offPool { try socket.readResponseHead() }
            #expect(head.hasPrefix("HTTP/1.1 200"))
            #expect(head.contains("Content-Length: \(LargeHosts.text.utf8.count)"))
        }
    }

    @Test func aKeptAliveConnectionIdleBeyondTheDeadlineIsClosedQuietly() async throws {
        try await withServer(requestTimeout: .seconds(1)) { path in
            let socket = try TestSocket(path: path)
            try socket.send("GET /v1/status HTTP/1.1\r\nHost: t\r\n\r\n")
            let answer = try await offPool { try socket.readResponseHead() }
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            let started = ContinuousClock.now
            let after = try await offPool { try socket.readToEnd(limit: 4096) }
            #expect(after.isEmpty)
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    /// Retries `work` for up to five seconds: a closed connection frees its slot a moment later.
    private func eventually<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            do {
                return try await offPool(work)
            } catch  where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}

/// A blocking Unix-socket client that sends exactly what a test says, byte by byte if need be.
final class TestSocket: Sendable {
    let descriptor: Int32
    private let closed = Mutex(false)

    init(path: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            throw ControlClientError.transport("connect failed")
        }
    }

    func send(_ text: String) throws { try sendBytes(Array(text.utf8)) }

    func sendBytes(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw ControlClientError.transport("send failed") }
    }

    /// True when the server has written something (or closed) without our asking.
    var hasInput: Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0
    }

    /// Reads one response (its head up to the blank line, then Content-Length bytes of body)
    /// and returns the head.
    func readResponseHead() throws -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while !bytes.ends(with: [13, 10, 13, 10]) {
            guard recv(descriptor, &byte, 1, 0) == 1 else { throw ControlClientError.transport("no answer") }
            bytes.append(byte)
        }
        let head = String(decoding: bytes, as: UTF8.self)
        let length =
            head.split(separator: "\r\n").compactMap { line -> Int? in
                guard line.lowercased().hasPrefix("content-length:") else { return nil }
                return Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
            }.first ?? 0
        var chunk = [UInt8](repeating: 0, count: 65536)
        var left = length
        while left > 0 {
            let count = recv(descriptor, &chunk, min(left, chunk.count), 0)
            guard count > 0 else { throw ControlClientError.transport("short body, \(left) bytes missing") }
            left -= count
        }
        return head
    }

    /// Everything until the server closes, at most `limit` bytes.
    func readToEnd(limit: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while result.count < limit {
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count <= 0 { break }
            result += chunk[0..<count]
        }
        return result
    }

    /// Closes once: a second close could hit a descriptor the process has reused meanwhile.
    func close() {
        let first = closed.withLock { wasClosed in
            defer { wasClosed = true }
            return !wasClosed
        }
        if first { Glibc.close(descriptor) }
    }

    deinit { close() }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
