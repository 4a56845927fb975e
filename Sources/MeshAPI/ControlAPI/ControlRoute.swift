/// Every endpoint of the control API, in one place: smegctl builds its requests from these
/// and smegd routes requests by parsing them back, so a path or a method cannot be written two
/// ways. docs/api.md documents the same table.
public enum ControlRoute: Hashable, Sendable {
    case status
    case graph
    case hosts
    case listMeshes
    case createMesh
    case joinMesh
    case mesh(String)
    case leaveMesh(String)
    case invite(String)
    case setAlias(String)
    case setDescription(String)
    case setService(String, name: String)
    case deleteService(String, name: String)
    case owners(String)
    case addOwner(String)
    case removeOwner(String, member: String)
    case evict(String)
    case invites(String)
    case createInvite(String)
    case revokeInvite(String, id: String)
    case rotate(String)
    case setSettings(String)
    case ping(String)
    case accessPolicy(String)
    case setAccessPolicy(String)
    case checkAccess(String)
    case changeTags(String, member: String)

    public var method: String {
        switch self {
        case .status, .graph, .hosts, .listMeshes, .mesh, .invite, .owners, .invites, .accessPolicy: "GET"
        case .createMesh, .joinMesh, .addOwner, .evict, .createInvite, .rotate, .ping, .checkAccess, .changeTags:
            "POST"
        case .setAlias, .setDescription, .setService, .setSettings, .setAccessPolicy: "PUT"
        case .leaveMesh, .deleteService, .removeOwner, .revokeInvite: "DELETE"
        }
    }

    /// The path, every name in it percent-encoded so that it can never add a path level.
    public var path: String {
        "/\(ControlAPI.version)/" + segments.map(PathSegment.escape).joined(separator: "/")
    }

    private var segments: [String] {
        switch self {
        case .status: ["status"]
        case .graph: ["graph"]
        case .hosts: ["hosts"]
        case .listMeshes, .createMesh: ["meshes"]
        case .joinMesh: ["meshes", "join"]
        case .mesh(let mesh), .leaveMesh(let mesh): ["meshes", mesh]
        case .invite(let mesh): ["meshes", mesh, "invite"]
        case .setAlias(let mesh): ["meshes", mesh, "self", "alias"]
        case .setDescription(let mesh): ["meshes", mesh, "self", "description"]
        case .setService(let mesh, let name), .deleteService(let mesh, let name):
            ["meshes", mesh, "self", "services", name]
        case .owners(let mesh), .addOwner(let mesh): ["meshes", mesh, "owners"]
        case .removeOwner(let mesh, let member): ["meshes", mesh, "owners", member]
        case .evict(let mesh): ["meshes", mesh, "evict"]
        case .invites(let mesh), .createInvite(let mesh): ["meshes", mesh, "invites"]
        case .revokeInvite(let mesh, let id): ["meshes", mesh, "invites", id]
        case .rotate(let mesh): ["meshes", mesh, "rotate"]
        case .setSettings(let mesh): ["meshes", mesh, "settings"]
        case .ping(let mesh): ["meshes", mesh, "ping"]
        case .accessPolicy(let mesh), .setAccessPolicy(let mesh): ["meshes", mesh, "acl"]
        case .checkAccess(let mesh): ["meshes", mesh, "acl", "check"]
        case .changeTags(let mesh, let member): ["meshes", mesh, "acl", "tags", member]
        }
    }

    /// The route a request names, or why there is none (a 400, 404 or 405 for the reply).
    public init(method: String, path: String) throws(ControlRouteError) {
        let pathOnly = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        let raw = pathOnly.split(separator: "/")
        let segments = raw.compactMap(PathSegment.unescape)
        guard segments.count == raw.count else { throw .malformed("malformed percent-encoding in path \(pathOnly)") }
        guard segments.first == ControlAPI.version else {
            throw .notFound("unknown path \(pathOnly); this daemon serves /\(ControlAPI.version)/...")
        }
        let byMethod = Self.routes(for: Array(segments.dropFirst()))
        guard let byMethod else { throw .notFound("unknown path \(pathOnly); see docs/api.md for the endpoints") }
        guard let route = byMethod[method] else {
            throw .methodNotAllowed(method, allowed: ["GET", "POST", "PUT", "DELETE"].filter { byMethod[$0] != nil })
        }
        guard let route else {
            throw .notFound("unknown field \(segments[4]); use alias, description or services/NAME")
        }
        self = route
    }

    /// The routes at one path, by method; nil for a path that names no resource. A nil route
    /// under an allowed method is a field of `self` that does not exist.
    private static func routes(for parts: [String]) -> [String: ControlRoute?]? {
        switch parts {
        case ["status"]: return ["GET": .status]
        case ["graph"]: return ["GET": .graph]
        case ["hosts"]: return ["GET": .hosts]
        case ["meshes"]: return ["GET": .listMeshes, "POST": .createMesh]
        case ["meshes", "join"]: return ["POST": .joinMesh]
        case let parts where parts.count == 2 && parts[0] == "meshes":
            return ["GET": .mesh(parts[1]), "DELETE": .leaveMesh(parts[1])]
        case let parts where parts.count == 3 && parts[0] == "meshes" && parts[2] == "invite":
            return ["GET": .invite(parts[1])]
        case let parts where parts.count == 3 && parts[0] == "meshes" && parts[2] == "owners":
            return ["GET": .owners(parts[1]), "POST": .addOwner(parts[1])]
        case let parts where parts.count == 4 && parts[0] == "meshes" && parts[2] == "owners":
            return ["DELETE": .removeOwner(parts[1], member: parts[3])]
        case let parts where parts.count == 3 && parts[0] == "meshes" && parts[2] == "evict":
            return ["POST": .evict(parts[1])]
        case let parts where parts.count == 3 && parts[0] == "meshes" && parts[2] == "rotate":
            return ["POST": .rotate(parts[1])]
        case let parts where parts.count == 3 && parts[0] == "meshes" && parts[2] == "settings":
            return ["PUT": .setSettings(parts[1])]
        case let parts where parts.count == 3 && parts[0] == "meshes" && parts[2] == "ping":
            return ["POST": .ping(parts[1])]
        case let parts where parts.count == 3 && parts[0] == "meshes" && parts[2] == "acl":
            return ["GET": .accessPolicy(parts[1]), "PUT": .setAccessPolicy(parts[1])]
        case let parts where parts.count == 4 && parts[0] == "meshes" && parts[2] == "acl" && parts[3] == "check":
            return ["POST": .checkAccess(parts[1])]
        case let parts where parts.count == 5 && parts[0] == "meshes" && parts[2] == "acl" && parts[3] == "tags":
            return ["POST": .changeTags(parts[1], member: parts[4])]
        case let parts where parts.count == 3 && parts[0] == "meshes" && parts[2] == "invites":
            return ["GET": .invites(parts[1]), "POST": .createInvite(parts[1])]
        case let parts where parts.count == 4 && parts[0] == "meshes" && parts[2] == "invites":
            return ["DELETE": .revokeInvite(parts[1], id: parts[3])]
        case let parts where parts.count == 4 && parts[0] == "meshes" && parts[2] == "self":
            switch parts[3] {
            case "alias": return ["PUT": .setAlias(parts[1])]
            case "description": return ["PUT": .setDescription(parts[1])]
            default: return ["PUT": ControlRoute?.none]
            }
        case let parts where parts.count == 5 && parts[0] == "meshes" && parts[2] == "self" && parts[3] == "services":
            return ["PUT": .setService(parts[1], name: parts[4]), "DELETE": .deleteService(parts[1], name: parts[4])]
        default: return nil
        }
    }
}

/// Why a request names no route, with the HTTP status the reply carries.
public enum ControlRouteError: Error, Equatable, Sendable {
    case malformed(String)
    case notFound(String)
    case methodNotAllowed(String, allowed: [String])

    public var status: Int {
        switch self {
        case .malformed: 400
        case .notFound: 404
        case .methodNotAllowed: 405
        }
    }

    public var message: String {
        switch self {
        case .malformed(let message), .notFound(let message): message
        case .methodNotAllowed(let method, let allowed):
            "method \(method) not allowed here; use \(allowed.joined(separator: " or "))"
        }
    }
}
