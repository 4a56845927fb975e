import MeshCore

/// `POST /v1/meshes/{mesh}/ping`: finds the mesh and the member, then lets the mesh's runtime
/// send the probes. The member is named as for the owners' verbs, or by its overlay address.
extension MeshManager {
    func ping(_ id: String, member name: String, plan: PingRequest.Plan) async throws -> PingResult {
        let runtime = try await find(id)
        let member: MeshNode.NamedMember
        do {
            member = try await runtime.member(named: name)
        } catch .unknownMember {
            throw ControlError.notFound(
                "no member '\(name)' in mesh \(id); `smegctl get \(id)` lists its members (give an alias, a short id, "
                    + "a key or an overlay address)")
        } catch {
            throw error.control
        }
        guard !member.isSelf else {
            throw ControlError.badRequest(
                "'\(name)' is this node itself; ping another member (`smegctl get \(id)` lists them)")
        }
        let (path, replies) = try await runtime.ping(member.key, plan: plan)
        var result = PingResult(
            member: member.key.base64, alias: member.alias, address: "\(member.address)", path: path,
            replies: replies)
        result.shortId = member.shortId
        return result
    }
}
