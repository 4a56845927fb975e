import Foundation
import MeshCore

/// Maps `/v1/...` requests to `ControlService` calls and every outcome to a JSON reply.
///
/// Nothing a client sends can escape as a crash: unknown paths are 404, wrong methods 405,
/// undecodable bodies 400, and any unexpected error becomes a 500 with its text.
struct ControlRouter: Sendable {
    let service: any ControlService
    /// Serves `GET /v1/hosts`; without one (routers built to test other paths) that path is 404.
    var hosts: (any HostsSource)?

    func handle(_ request: HTTPRequest) async -> HTTPReply {
        do {
            return try await route(request)
        } catch let error as ControlError {
            return Self.error(error.status, error.message)
        } catch {
            return Self.error(500, "internal error: \(error)")
        }
    }

    private func route(_ request: HTTPRequest) async throws -> HTTPReply {
        let pathOnly = request.path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        let rawSegments = pathOnly.split(separator: "/")
        let decoded = rawSegments.compactMap(PathSegment.unescape)
        guard decoded.count == rawSegments.count else {
            throw ControlError.badRequest("malformed percent-encoding in path \(pathOnly)")
        }
        let segments = decoded
        guard segments.first == ControlAPI.version else {
            throw ControlError.notFound("unknown path \(pathOnly); this daemon serves /\(ControlAPI.version)/...")
        }
        let method = request.method
        switch Array(segments.dropFirst()) {
        case ["status"]:
            try allow(method, "GET")
            return try Self.json(await service.status())
        case ["graph"]:
            try allow(method, "GET")
            return try Self.json(await service.graph())
        case ["hosts"]:
            try allow(method, "GET")
            guard let hosts else { throw ControlError.notFound("this daemon serves no hosts export") }
            return HTTPReply(
                status: 200, body: Array(await hosts.hostsText().utf8), contentType: "text/plain; charset=utf-8")
        case ["meshes"]:
            try allow(method, "GET", "POST")
            if method == "GET" { return try Self.json(await service.listMeshes()) }
            return try Self.json(await service.createMesh(decode(request.body)), status: 201)
        case ["meshes", "join"]:
            try allow(method, "POST")
            return try Self.json(await service.joinMesh(decode(request.body)), status: 201)
        case let parts where parts.count == 2 && parts[0] == "meshes":
            try allow(method, "GET", "DELETE")
            if method == "GET" { return try Self.json(await service.mesh(parts[1])) }
            try await service.leaveMesh(parts[1])
            return HTTPReply(status: 204, body: [])
        case let parts where parts.count == 3 && parts[0] == "meshes" && parts[2] == "invite":
            try allow(method, "GET")
            return try Self.json(await service.invite(parts[1]))
        case let parts where parts.count == 4 && parts[0] == "meshes" && parts[2] == "self":
            try allow(method, "PUT")
            let value: SetValueRequest = try decode(request.body)
            switch parts[3] {
            case "alias":
                try MeshOptionsCheck.validateAlias(value.value)
                return try Self.json(await service.setAlias(parts[1], value.value))
            case "description": return try Self.json(await service.setDescription(parts[1], value.value))
            default: throw ControlError.notFound("unknown field \(parts[3]); use alias, description or services/NAME")
            }
        case let parts where parts.count == 5 && parts[0] == "meshes" && parts[2] == "self" && parts[3] == "services":
            try allow(method, "PUT", "DELETE")
            if method == "DELETE" { return try Self.json(await service.deleteService(parts[1], name: parts[4])) }
            let value: SetValueRequest = try decode(request.body)
            return try Self.json(await service.setService(parts[1], name: parts[4], value: value.value))
        default:
            throw ControlError.notFound("unknown path \(pathOnly); see docs/api.md for the endpoints")
        }
    }

    private func allow(_ method: String, _ allowed: String...) throws {
        guard allowed.contains(method) else {
            throw ControlError(
                status: 405, message: "method \(method) not allowed here; use \(allowed.joined(separator: " or "))")
        }
    }

    private func decode<Body: Decodable>(_ bytes: [UInt8]) throws -> Body {
        guard !bytes.isEmpty else { throw ControlError.badRequest("request body is empty; expected JSON") }
        do {
            return try JSONDecoder().decode(Body.self, from: Data(bytes))
        } catch DecodingError.keyNotFound(let key, _) {
            throw ControlError.badRequest("missing field '\(key.stringValue)' in request body")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ControlError.badRequest("field '\(field)' has the wrong type")
        } catch {
            throw ControlError.badRequest("request body is not valid JSON")
        }
    }

    static func json(_ value: some Encodable, status: Int = 200) throws -> HTTPReply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return HTTPReply(status: status, body: Array(try encoder.encode(value)))
    }

    static func error(_ status: Int, _ message: String) -> HTTPReply {
        (try? json(APIErrorBody(error: message), status: status))
            ?? HTTPReply(status: status, body: Array("{\"error\":\"internal\"}".utf8))
    }
}
