#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One request of the control API with the type of its answer: the route, its JSON body and
/// how the answer is read. `ControlAPI`'s functions are the only way smegctl makes one.
public struct ControlCall<Response: Sendable>: Sendable {
    public let route: ControlRoute
    public let body: [UInt8]?
    public let decode: @Sendable ([UInt8]) throws -> Response

    init(_ route: ControlRoute, body: [UInt8]? = nil, decode: @escaping @Sendable ([UInt8]) throws -> Response) {
        self.route = route
        self.body = body
        self.decode = decode
    }
}

extension ControlCall where Response: Decodable {
    init(_ route: ControlRoute, body: (some Encodable)? = nil as String?) throws {
        let payload = try body.map { [UInt8](try JSONEncoder().encode($0)) }
        self.init(route, body: payload) { bytes in
            do {
                return try JSONDecoder().decode(Response.self, from: Data(bytes))
            } catch {
                throw ControlClientError.badResponse("cannot decode \(Response.self): \(error)")
            }
        }
    }
}

/// The answer of a call that answers with nothing (204).
public struct NoContent: Sendable, Equatable {}

extension ControlAPI {
    public static func status() throws -> ControlCall<StatusResponse> { try .init(.status) }
    public static func graph() throws -> ControlCall<GraphResponse> { try .init(.graph) }

    /// The hosts export, as text.
    public static func hosts() -> ControlCall<String> {
        .init(.hosts) { String(decoding: $0, as: UTF8.self) }
    }

    public static func listMeshes() throws -> ControlCall<MeshListResponse> { try .init(.listMeshes) }

    public static func create(_ request: CreateMeshRequest) throws -> ControlCall<CreateMeshResponse> {
        try .init(.createMesh, body: request)
    }

    public static func join(_ request: JoinMeshRequest) throws -> ControlCall<MeshSummary> {
        try .init(.joinMesh, body: request)
    }

    public static func mesh(_ mesh: String) throws -> ControlCall<MeshDetail> { try .init(.mesh(mesh)) }

    public static func leave(_ mesh: String) -> ControlCall<NoContent> { .init(.leaveMesh(mesh)) { _ in NoContent() } }

    public static func invite(_ mesh: String) throws -> ControlCall<InviteResponse> { try .init(.invite(mesh)) }

    public static func setAlias(_ mesh: String, _ alias: String) throws -> ControlCall<MeshDetail> {
        try .init(.setAlias(mesh), body: SetValueRequest(value: alias))
    }

    public static func setDescription(_ mesh: String, _ text: String) throws -> ControlCall<MeshDetail> {
        try .init(.setDescription(mesh), body: SetValueRequest(value: text))
    }

    public static func setService(_ mesh: String, name: String, value: String) throws -> ControlCall<MeshDetail> {
        try .init(.setService(mesh, name: name), body: SetValueRequest(value: value))
    }

    public static func deleteService(_ mesh: String, name: String) throws -> ControlCall<MeshDetail> {
        try .init(.deleteService(mesh, name: name))
    }

    public static func owners(_ mesh: String) throws -> ControlCall<OwnersResponse> { try .init(.owners(mesh)) }

    public static func addOwner(_ mesh: String, member: String) throws -> ControlCall<OwnersResponse> {
        try .init(.addOwner(mesh), body: MemberRequest(member: member))
    }

    public static func removeOwner(_ mesh: String, member: String) throws -> ControlCall<OwnersResponse> {
        try .init(.removeOwner(mesh, member: member))
    }

    public static func evict(_ mesh: String, member: String) throws -> ControlCall<MeshDetail> {
        try .init(.evict(mesh), body: MemberRequest(member: member))
    }

    public static func invites(_ mesh: String) throws -> ControlCall<InvitesResponse> { try .init(.invites(mesh)) }

    public static func createInvite(
        _ mesh: String, _ request: CreateInviteRequest
    ) throws -> ControlCall<InviteResponse> {
        try .init(.createInvite(mesh), body: request)
    }

    public static func revokeInvite(_ mesh: String, id: String) throws -> ControlCall<InvitesResponse> {
        try .init(.revokeInvite(mesh, id: id))
    }

    public static func rotate(_ mesh: String) throws -> ControlCall<MeshDetail> { try .init(.rotate(mesh)) }

    public static func setSettings(_ mesh: String, _ request: SettingsRequest) throws -> ControlCall<MeshDetail> {
        try .init(.setSettings(mesh), body: request)
    }

    public static func ping(_ mesh: String, _ request: PingRequest) throws -> ControlCall<PingResult> {
        try .init(.ping(mesh), body: request)
    }

    public static func accessPolicy(_ mesh: String) throws -> ControlCall<AccessPolicyView> {
        try .init(.accessPolicy(mesh))
    }

    public static func setAccessPolicy(_ mesh: String, text: String) throws -> ControlCall<AccessPolicyView> {
        try .init(.setAccessPolicy(mesh), body: AccessPolicyRequest(text: text))
    }

    public static func checkAccess(
        _ mesh: String, _ request: AccessCheckRequest
    ) throws -> ControlCall<AccessCheckResponse> {
        try .init(.checkAccess(mesh), body: request)
    }

    public static func changeTags(
        _ mesh: String, member: String, _ request: TagChangeRequest
    ) throws -> ControlCall<MemberTagsView> {
        try .init(.changeTags(mesh, member: member), body: request)
    }
}
