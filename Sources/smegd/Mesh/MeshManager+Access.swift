import GossipCRDT
import MeshCore

/// Access control's verbs of the control API: the policy, its check, and members' tags. The
/// node decides and signs; this finds the mesh, checks the request and maps refusals.
extension MeshManager {
    func accessPolicy(_ id: String) async throws -> AccessPolicyView {
        let runtime = try await find(id)
        return try await runtime.read { node in node.accessPolicyView() }
    }

    /// Signs the policy `request.text` says; an error in it is a 400 naming its line and column,
    /// and nothing is signed.
    func setAccessPolicy(_ id: String, _ request: AccessPolicyRequest) async throws -> AccessPolicyView {
        let runtime = try await find(id)
        guard await runtime.hasOwners else { throw OwnerActionError.noOwners(runtime.mesh).control }
        try await decide(runtime) { node, wall, now throws(OwnerActionError) in
            try node.setAccessPolicy(request.text, wallMillis: wall, now: now)
        }
        let view = try await runtime.read { node in node.accessPolicyView() }
        logger.notice("access policy of mesh \(runtime.mesh) is version \(view.version ?? 0), \(view.rules) rules")
        return view
    }

    func checkAccess(_ id: String, _ request: AccessCheckRequest) async throws -> AccessCheckResponse {
        let flow: (protocol: AccessProtocol?, port: UInt16?)
        do {
            flow = try request.flow()
        } catch {
            throw ControlError.badRequest("\(error)")
        }
        let runtime = try await find(id)
        do {
            return try await runtime.read { node throws(OwnerActionError) in
                try node.checkAccess(from: request.from, to: request.to, protocol: flow.protocol, port: flow.port)
            }
        } catch {
            throw error.control
        }
    }

    func changeTags(_ id: String, member: String, _ request: TagChangeRequest) async throws -> MemberTagsView {
        let tags: (add: [AccessTag], remove: [AccessTag])
        do {
            tags = try request.parsed()
        } catch {
            throw ControlError.badRequest("\(error)")
        }
        let runtime = try await find(id)
        guard await runtime.hasOwners else { throw OwnerActionError.noOwners(runtime.mesh).control }
        try await decide(runtime) { node, wall, now throws(OwnerActionError) in
            try node.changeTags(of: member, adding: tags.add, removing: tags.remove, wallMillis: wall, now: now)
        }
        do {
            return try await runtime.read { node throws(OwnerActionError) in try node.memberTags(member) }
        } catch {
            throw error.control
        }
    }
}
