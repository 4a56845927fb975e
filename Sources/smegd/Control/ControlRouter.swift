import Glibc
import MeshCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Maps `/v1/...` requests (`ControlRoute`, the API's one definition) to `ControlService`
/// calls and every outcome to a JSON reply.
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
        let route: ControlRoute
        do {
            route = try ControlRoute(method: request.method, path: request.path)
        } catch {
            throw ControlError(status: error.status, message: error.message)
        }
        switch route {
        case .status: return try Self.json(await service.status())
        case .graph: return try Self.json(await service.graph())
        case .hosts:
            guard let hosts else { throw ControlError.notFound("this daemon serves no hosts export") }
            return HTTPReply(
                status: 200, body: Array(await hosts.hostsText().utf8), contentType: "text/plain; charset=utf-8")
        case .listMeshes: return try Self.json(await service.listMeshes())
        case .createMesh: return try Self.json(await service.createMesh(decode(request.body)), status: 201)
        case .joinMesh: return try Self.json(await service.joinMesh(decode(request.body)), status: 201)
        case .mesh(let mesh): return try Self.json(await service.mesh(mesh))
        case .leaveMesh(let mesh):
            try await service.leaveMesh(mesh)
            return HTTPReply(status: 204, body: [])
        case .invite(let mesh): return try Self.json(await service.invite(mesh))
        case .setAlias(let mesh):
            let value: SetValueRequest = try decode(request.body)
            try MeshOptionsCheck.validateAlias(value.value)
            return try Self.json(await service.setAlias(mesh, value.value))
        case .setDescription(let mesh):
            let value: SetValueRequest = try decode(request.body)
            return try Self.json(await service.setDescription(mesh, value.value))
        case .setService(let mesh, let name):
            let value: SetValueRequest = try decode(request.body)
            return try Self.json(await service.setService(mesh, name: name, value: value.value))
        case .deleteService(let mesh, let name):
            return try Self.json(await service.deleteService(mesh, name: name))
        case .owners(let mesh): return try Self.json(await service.owners(mesh))
        case .addOwner(let mesh):
            let body: MemberRequest = try decode(request.body)
            return try Self.json(await service.addOwner(mesh, member: body.member))
        case .removeOwner(let mesh, let member):
            return try Self.json(await service.removeOwner(mesh, member: member))
        case .evict(let mesh):
            let body: MemberRequest = try decode(request.body)
            return try Self.json(await service.evict(mesh, member: body.member))
        case .invites(let mesh): return try Self.json(await service.invites(mesh))
        case .createInvite(let mesh):
            let body: CreateInviteRequest = request.body.isEmpty ? CreateInviteRequest() : try decode(request.body)
            return try Self.json(await service.createInvite(mesh, body), status: 201)
        case .revokeInvite(let mesh, let id):
            return try Self.json(await service.revokeInvite(mesh, invite: id))
        case .rotate(let mesh): return try Self.json(await service.rotate(mesh))
        case .setSettings(let mesh):
            return try Self.json(await service.setSettings(mesh, decode(request.body)))
        case .ping(let mesh):
            let body: PingRequest = try decode(request.body)
            let plan: PingRequest.Plan
            do {
                plan = try body.plan()
            } catch {
                throw ControlError.badRequest(error.message)
            }
            return try Self.json(await service.ping(mesh, member: body.member, plan: plan))
        case .accessPolicy(let mesh): return try Self.json(await service.accessPolicy(mesh))
        case .setAccessPolicy(let mesh): return try Self.json(await service.setAccessPolicy(mesh, decode(request.body)))
        case .checkAccess(let mesh):
            // Checked before the mesh is touched, as ping's numbers are.
            let body: AccessCheckRequest = try decode(request.body)
            do {
                _ = try body.flow()
            } catch {
                throw ControlError.badRequest("\(error)")
            }
            return try Self.json(await service.checkAccess(mesh, body))
        case .changeTags(let mesh, let member):
            let body: TagChangeRequest = try decode(request.body)
            do {
                _ = try body.parsed()
            } catch {
                throw ControlError.badRequest("\(error)")
            }
            return try Self.json(await service.changeTags(mesh, member: member, body))
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
