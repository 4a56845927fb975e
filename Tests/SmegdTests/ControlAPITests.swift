import Foundation
import Logging
import MeshLinux
import NIOCore
import NIOPosix
import Testing

@testable import MeshCore
@testable import smegd

/// A service that records calls and answers with fixed values, to test routing and transport.
private actor RecordingService: ControlService {
    var calls: [String] = []
    let summary = MeshSummary(
        meshId: "m1", name: nil, interface: "smeg0", address: "fd00::1", prefix: "fd00::/64", role: "peer",
        members: 1, leader: nil, isLeader: true)

    private func record(_ call: String) { calls.append(call) }
    func recorded() -> [String] { calls }

    func status() async throws -> StatusResponse {
        record("status")
        return StatusResponse(version: "t", backend: "none", uptimeSeconds: 1, meshes: [])
    }
    func listMeshes() async throws -> MeshListResponse {
        record("list")
        return MeshListResponse(meshes: [summary])
    }
    func createMesh(_ request: CreateMeshRequest) async throws -> CreateMeshResponse {
        record("create \(request.options.role ?? "-")")
        return CreateMeshResponse(mesh: summary, token: "smeg1-x")
    }
    func joinMesh(_ request: JoinMeshRequest) async throws -> MeshSummary {
        record("join \(request.token ?? "-")")
        return summary
    }
    func mesh(_ id: String) async throws -> MeshDetail {
        record("get \(id)")
        guard id == "m1" else { throw ControlError.notFound("no mesh \(id)") }
        return MeshDetail(mesh: summary, members: [])
    }
    func leaveMesh(_ id: String) async throws { record("leave \(id)") }
    func invite(_ id: String) async throws -> InviteResponse {
        record("invite \(id)")
        return InviteResponse(token: "smeg1-x")
    }
    func setAlias(_ id: String, _ value: String) async throws -> MeshDetail {
        record("alias \(id) \(value)")
        return MeshDetail(mesh: summary, members: [])
    }
    func setDescription(_ id: String, _ value: String) async throws -> MeshDetail {
        record("describe \(id) \(value)")
        return MeshDetail(mesh: summary, members: [])
    }
    func setService(_ id: String, name: String, value: String) async throws -> MeshDetail {
        record("service \(id) \(name)=\(value)")
        return MeshDetail(mesh: summary, members: [])
    }
    func deleteService(_ id: String, name: String) async throws -> MeshDetail {
        record("unservice \(id) \(name)")
        return MeshDetail(mesh: summary, members: [])
    }
    func graph() async throws -> GraphResponse {
        record("graph")
        return GraphResponse(meshes: [])
    }
    func owners(_ id: String) async throws -> OwnersResponse {
        record("owners \(id)")
        return OwnersResponse(meshId: id, owners: [], isOwner: false, statements: 0)
    }
    func addOwner(_ id: String, member: String) async throws -> OwnersResponse {
        record("owner add \(id) \(member)")
        return OwnersResponse(meshId: id, owners: [], isOwner: true, statements: 1)
    }
    func removeOwner(_ id: String, member: String) async throws -> OwnersResponse {
        record("owner remove \(id) \(member)")
        return OwnersResponse(meshId: id, owners: [], isOwner: true, statements: 2)
    }
    func evict(_ id: String, member: String) async throws -> MeshDetail {
        record("evict \(id) \(member)")
        return MeshDetail(mesh: summary, members: [])
    }
    func setSettings(_ id: String, _ request: SettingsRequest) async throws -> MeshDetail {
        record("settings \(id) \(request.name ?? "-")")
        return MeshDetail(mesh: summary, members: [])
    }
    func rotate(_ id: String) async throws -> MeshDetail {
        record("rotate \(id)")
        return MeshDetail(mesh: summary, members: [])
    }
    func invites(_ id: String) async throws -> InvitesResponse {
        record("invites \(id)")
        return InvitesResponse(meshId: id, invites: [])
    }
    func createInvite(_ id: String, _ request: CreateInviteRequest) async throws -> InviteResponse {
        record("new invite \(id) uses=\(request.uses ?? 1)")
        return InviteResponse(token: "smeg2-x")
    }
    func revokeInvite(_ id: String, invite: String) async throws -> InvitesResponse {
        record("revoke \(id) \(invite)")
        return InvitesResponse(meshId: id, invites: [])
    }
    func ping(_ id: String, member: String, plan: PingRequest.Plan) async throws -> PingResult {
        let ms = { (duration: Duration) in Int(duration.seconds * 1000) }
        record("ping \(id) \(member) \(plan.count)x\(ms(plan.interval))/\(ms(plan.timeout))")
        return PingResult(member: member, alias: nil, address: "fd00::2", path: PathView(kind: "direct"), replies: [])
    }
    var policy: AccessPolicyView {
        AccessPolicyView(
            meshId: "m1", isDefault: true, text: "", rules: 0, version: nil, signedBy: nil, signedAtMillis: nil,
            tagged: [], isOwner: false)
    }
    func accessPolicy(_ id: String) async throws -> AccessPolicyView {
        record("acl \(id)")
        return policy
    }
    func setAccessPolicy(_ id: String, _ request: AccessPolicyRequest) async throws -> AccessPolicyView {
        record("acl set \(id) \(request.text.count)")
        return policy
    }
    func checkAccess(_ id: String, _ request: AccessCheckRequest) async throws -> AccessCheckResponse {
        record("acl check \(id) \(request.from) \(request.to) \(request.protocol ?? "-") \(request.port ?? 0)")
        let member = MemberTagsView(id: "k", shortId: "s", alias: nil, tags: [])
        return AccessCheckResponse(
            meshId: id, from: member, to: member, flow: "any traffic", allowed: true, reason: "no-policy",
            ruleNumber: nil, rule: nil, forward: "", reverse: "", session: true)
    }
    func changeTags(_ id: String, member: String, _ request: TagChangeRequest) async throws -> MemberTagsView {
        record("tag \(id) \(member) +\(request.add ?? []) -\(request.remove ?? [])")
        return MemberTagsView(id: "k", shortId: "s", alias: nil, tags: request.add ?? [])
    }
}

@Suite struct ControlRouterTests {
    private func send(_ method: String, _ path: String, _ body: String = "") async -> (HTTPReply, [String]) {
        let service = RecordingService()
        let router = ControlRouter(service: service)
        let reply = await router.handle(HTTPRequest(method: method, path: path, body: Array(body.utf8)))
        return (reply, await service.recorded())
    }

    @Test(arguments: [
        ("GET", "/v1/status", "", 200, "status"),
        ("GET", "/v1/meshes", "", 200, "list"),
        ("POST", "/v1/meshes", #"{"options":{"role":"client"}}"#, 201, "create client"),
        ("POST", "/v1/meshes/join", #"{"token":"smeg1-a","options":{}}"#, 201, "join smeg1-a"),
        ("GET", "/v1/meshes/m1", "", 200, "get m1"),
        ("DELETE", "/v1/meshes/m1", "", 204, "leave m1"),
        ("GET", "/v1/meshes/m1/invite", "", 200, "invite m1"),
        ("PUT", "/v1/meshes/m1/self/alias", #"{"value":"web"}"#, 200, "alias m1 web"),
        ("PUT", "/v1/meshes/m1/self/description", #"{"value":"d"}"#, 200, "describe m1 d"),
        ("PUT", "/v1/meshes/m1/self/services/http", #"{"value":"80"}"#, 200, "service m1 http=80"),
        ("DELETE", "/v1/meshes/m1/self/services/http", "", 200, "unservice m1 http"),
        ("GET", "/v1/graph?x=1", "", 200, "graph"),
        ("GET", "/v1/meshes/m1/owners", "", 200, "owners m1"),
        ("POST", "/v1/meshes/m1/owners", #"{"member":"web"}"#, 200, "owner add m1 web"),
        ("DELETE", "/v1/meshes/m1/owners/web", "", 200, "owner remove m1 web"),
        ("POST", "/v1/meshes/m1/evict", #"{"member":"laptop"}"#, 200, "evict m1 laptop"),
        ("GET", "/v1/meshes/m1/invites", "", 200, "invites m1"),
        ("POST", "/v1/meshes/m1/rotate", "", 200, "rotate m1"),
        ("PUT", "/v1/meshes/m1/settings", #"{"name":"lab","policy":{}}"#, 200, "settings m1 lab"),
        ("POST", "/v1/meshes/m1/invites", #"{"uses":3}"#, 201, "new invite m1 uses=3"),
        ("POST", "/v1/meshes/m1/invites", "", 201, "new invite m1 uses=1"),
        ("DELETE", "/v1/meshes/m1/invites/abc", "", 200, "revoke m1 abc"),
        ("POST", "/v1/meshes/m1/ping", #"{"member":"web"}"#, 200, "ping m1 web 3x200/1000"),
        (
            "POST", "/v1/meshes/m1/ping",
            #"{"member":"fd00::2","count":20,"intervalMilliseconds":50,"timeoutMilliseconds":5000}"#, 200,
            "ping m1 fd00::2 20x50/5000"
        ),
        ("GET", "/v1/meshes/m1/acl", "", 200, "acl m1"),
        ("PUT", "/v1/meshes/m1/acl", #"{"text":"allow * -> *"}"#, 200, "acl set m1 12"),
        ("POST", "/v1/meshes/m1/acl/check", #"{"from":"a","to":"b","port":22}"#, 200, "acl check m1 a b - 22"),
        (
            "POST", "/v1/meshes/m1/acl/tags/web", #"{"add":["server"],"remove":["tag:old"]}"#, 200,
            #"tag m1 web +["server"] -["tag:old"]"#
        ),
    ])
    func routesEveryEndpoint(method: String, path: String, body: String, status: Int, call: String) async {
        let (reply, calls) = await send(method, path, body)
        #expect(reply.status == status)
        #expect(calls == [call])
    }

    @Test(arguments: [
        ("GET", "/", "", 404), ("GET", "/v2/status", "", 404), ("GET", "/v1/nothing", "", 404),
        ("POST", "/v1/status", "", 405), ("PATCH", "/v1/meshes", "", 405),
        ("POST", "/v1/meshes", "", 400), ("POST", "/v1/meshes", "{", 400), ("POST", "/v1/meshes", "[]", 400),
        ("POST", "/v1/meshes", #"{"options":{"role":7}}"#, 400), ("PUT", "/v1/meshes/m1/self/alias", "{}", 400),
        ("PUT", "/v1/meshes/m1/self/colour", #"{"value":"x"}"#, 404), ("GET", "/v1/meshes/zz", "", 404),
        ("POST", "/v1/meshes/m1/evict", "{}", 400), ("GET", "/v1/meshes/m1/evict", "", 405),
        ("PUT", "/v1/meshes/m1/owners", "", 405),
        ("POST", "/v1/meshes/m1/ping", "{}", 400), ("GET", "/v1/meshes/m1/ping", "", 405),
    ])
    func rejectsBadRequestsWithJSONErrors(method: String, path: String, body: String, status: Int) async throws {
        let (reply, _) = await send(method, path, body)
        #expect(reply.status == status)
        let error = try JSONDecoder().decode(APIErrorBody.self, from: Data(reply.body))
        #expect(!error.error.isEmpty)
    }

    @Test func anAliasShapedLikeAShortIdIsRefusedBeforeTheMeshIsTouched() async throws {
        let (reply, calls) = await send("PUT", "/v1/meshes/m1/self/alias", #"{"value":"deadbeef"}"#)
        #expect(reply.status == 400)
        #expect(calls.isEmpty)
        let error = try JSONDecoder().decode(APIErrorBody.self, from: Data(reply.body))
        #expect(error.error.contains("short id") && error.error.contains("choose"))
    }

    @Test(arguments: [
        (#"{"member":"w","count":0}"#, "count must be from 1 to 20, not 0"),
        (#"{"member":"w","count":21}"#, "count must be from 1 to 20, not 21"),
        (#"{"member":"w","intervalMilliseconds":49}"#, "intervalMilliseconds must be from 50 to 2000 ms, not 49"),
        (#"{"member":"w","timeoutMilliseconds":5001}"#, "timeoutMilliseconds must be from 100 to 5000 ms, not 5001"),
        (#"{"member":"w","count":"3"}"#, "field 'count' has the wrong type"),
    ])
    func pingNumbersOutOfBoundsAreRefusedBeforeTheMeshIsTouched(body: String, message: String) async throws {
        let (reply, calls) = await send("POST", "/v1/meshes/m1/ping", body)
        #expect(reply.status == 400)
        #expect(calls.isEmpty)
        #expect(try JSONDecoder().decode(APIErrorBody.self, from: Data(reply.body)).error == message)
    }

    @Test(arguments: [
        ("/v1/meshes/m1/acl/check", #"{"from":"a","to":"b","port":0}"#, "port 0 is not a port from 1 to 65535"),
        ("/v1/meshes/m1/acl/check", #"{"from":"a","to":"b","protocol":"sctp"}"#, "unknown protocol 'sctp'"),
        ("/v1/meshes/m1/acl/check", #"{"from":"a","to":"b","protocol":"icmp","port":8}"#, "icmp has no ports"),
        ("/v1/meshes/m1/acl/tags/web", #"{"add":["Bad Tag"]}"#, "'Bad Tag' is not a tag"),
        ("/v1/meshes/m1/acl/tags/web", #"{}"#, "name at least one tag"),
    ])
    func accessRequestsAreCheckedBeforeTheMeshIsTouched(path: String, body: String, message: String) async throws {
        let (reply, calls) = await send("POST", path, body)
        #expect(reply.status == 400)
        #expect(calls.isEmpty)
        #expect(try JSONDecoder().decode(APIErrorBody.self, from: Data(reply.body)).error.hasPrefix(message))
    }

    private struct FixedHosts: HostsSource {
        func hostsText() async -> String { "fd00::1\tweb.lab.smeg\n" }
    }

    @Test func hostsEndpointServesTheExportAsText() async {
        let router = ControlRouter(service: RecordingService(), hosts: FixedHosts())
        let reply = await router.handle(HTTPRequest(method: "GET", path: "/v1/hosts", body: []))
        #expect(reply.status == 200)
        #expect(reply.contentType.hasPrefix("text/plain"))
        #expect(reply.body == Array("fd00::1\tweb.lab.smeg\n".utf8))
        #expect(await router.handle(HTTPRequest(method: "POST", path: "/v1/hosts", body: [])).status == 405)
        let (without, _) = await send("GET", "/v1/hosts")
        #expect(without.status == 404)
    }
}

@Suite(.serialized) struct ControlServerTests {
    private func withServer(_ body: (String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smegd-test-\(UUID().uuidString)")
        let path = directory.appendingPathComponent("smegd.sock").path
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = ControlServer(
            path: path, group: nil, router: ControlRouter(service: RecordingService()),
            logger: Logger(label: "test"))
        let listener = try await server.bind(on: MultiThreadedEventLoopGroup.singleton)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve(listener) }
            try await body(path)
            group.cancelAll()
        }
    }

    @Test func servesRealRequestsOnAUnixSocket() async throws {
        try await withServer { path in
            var attributes = stat()
            #expect(stat(path, &attributes) == 0)
            #expect(attributes.st_mode & 0o777 == 0o660)
            let client = ControlClient(socketPath: path)
            let list = try await offPool { try client.call(ControlAPI.listMeshes()) }
            #expect(list.meshes.first?.meshId == "m1")
            let created = try await offPool {
                try client.call(ControlAPI.create(CreateMeshRequest(options: MeshOptions(role: "peer"))))
            }
            #expect(created.token == "smeg1-x")
            let missing = await #expect(throws: ControlClientError.self) {
                try await offPool { try client.call(ControlAPI.mesh("nope")) }
            }
            #expect(missing == .api(status: 404, message: "no mesh nope"))
        }
    }

    @Test func oversizedAndGarbageRequestsDoNotStopTheServer() async throws {
        try await withServer { path in
            let client = ControlClient(socketPath: path)
            let big = [UInt8](repeating: 0x20, count: ControlAPI.maximumRequestBody + 1)
            let reply = try await offPool { try client.send(method: "POST", path: "/v1/meshes", body: big) }
            #expect(reply.status == 413)
            try await offPool {
                try RawSocket.write(path: path, bytes: Array("\u{0}\u{1}GARBAGE \r\n\r\n\r\n".utf8))
                try RawSocket.write(path: path, bytes: [UInt8](repeating: 0xff, count: 100_000))
            }
            let status = try await offPool { try client.call(ControlAPI.status()) }
            #expect(status.backend == "none")
        }
    }

    @Test func refusesToStealALiveDaemonsSocket() async throws {
        try await withServer { path in
            await #expect(throws: SocketPreparation.InUse.self) {
                try await offPool { try SocketPreparation.prepare(path: path) }
            }
        }
    }

    @Test func clientExplainsAMissingDaemon() {
        let path = "/nonexistent-\(UUID().uuidString)/smegd.sock"
        #expect(throws: ControlClientError.daemonNotRunning(socket: path)) {
            try ControlClient(socketPath: path).send(method: "GET", path: "/v1/status", body: nil)
        }
    }
}

/// Writes raw bytes to a Unix socket and reads whatever comes back, to feed the server garbage.
enum RawSocket {
    static func write(path: String, bytes: [UInt8]) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw ControlClientError.transport("connect failed") }
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        shutdown(descriptor, Int32(SHUT_WR))
        var sink = [UInt8](repeating: 0, count: 4096)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        while recv(descriptor, &sink, sink.count, 0) > 0 {}
    }
}
