import MeshCore

/// What the control API can ask of the daemon. The router speaks HTTP and JSON; the daemon
/// implements this protocol, so request parsing is tested without a running mesh.
protocol ControlService: Sendable {
    func status() async throws -> StatusResponse
    func listMeshes() async throws -> MeshListResponse
    func createMesh(_ request: CreateMeshRequest) async throws -> CreateMeshResponse
    func joinMesh(_ request: JoinMeshRequest) async throws -> MeshSummary
    func mesh(_ id: String) async throws -> MeshDetail
    func leaveMesh(_ id: String) async throws
    func invite(_ id: String) async throws -> InviteResponse
    func setAlias(_ id: String, _ value: String) async throws -> MeshDetail
    func setDescription(_ id: String, _ value: String) async throws -> MeshDetail
    func setService(_ id: String, name: String, value: String) async throws -> MeshDetail
    func deleteService(_ id: String, name: String) async throws -> MeshDetail
    func graph() async throws -> GraphResponse
    func owners(_ id: String) async throws -> OwnersResponse
    func addOwner(_ id: String, member: String) async throws -> OwnersResponse
    func removeOwner(_ id: String, member: String) async throws -> OwnersResponse
    func evict(_ id: String, member: String) async throws -> MeshDetail
    func invites(_ id: String) async throws -> InvitesResponse
    func createInvite(_ id: String, _ request: CreateInviteRequest) async throws -> InviteResponse
    func revokeInvite(_ id: String, invite: String) async throws -> InvitesResponse
    func rotate(_ id: String) async throws -> MeshDetail
    func setSettings(_ id: String, _ request: SettingsRequest) async throws -> MeshDetail
    func ping(_ id: String, member: String, plan: PingRequest.Plan) async throws -> PingResult
    func accessPolicy(_ id: String) async throws -> AccessPolicyView
    func setAccessPolicy(_ id: String, _ request: AccessPolicyRequest) async throws -> AccessPolicyView
    func checkAccess(_ id: String, _ request: AccessCheckRequest) async throws -> AccessCheckResponse
    func changeTags(_ id: String, member: String, _ request: TagChangeRequest) async throws -> MemberTagsView
}

/// An error the API reports with a status code and a message a person can act on.
struct ControlError: Error, Equatable, CustomStringConvertible {
    var status: Int
    var message: String

    var description: String { message }

    static func badRequest(_ message: String) -> ControlError { ControlError(status: 400, message: message) }
    static func notFound(_ message: String) -> ControlError { ControlError(status: 404, message: message) }
    static func conflict(_ message: String) -> ControlError { ControlError(status: 409, message: message) }
    static func forbidden(_ message: String) -> ControlError { ControlError(status: 403, message: message) }
    static func unavailable(_ message: String) -> ControlError { ControlError(status: 503, message: message) }
}
