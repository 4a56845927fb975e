import Glibc
import GossipCRDT
import MeshCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Owners' verbs of the control API: invitations (and redeeming one to join), owners,
/// evictions, rotations and settings. The node decides; this finds the mesh and maps refusals.
extension MeshManager {
    /// Joins with an invitation: redeemed with its issuing owner first, for the secret and this
    /// node's admission, then started like any mesh.
    func redeem(_ text: String, _ request: JoinMeshRequest) async throws -> MeshSummary {
        let invitation: Invitation
        do {
            invitation = try Invitation(text)
        } catch {
            throw ControlError.badRequest("\(error)")
        }
        let charter = invitation.charter
        try MeshOptionsCheck.validate(
            request.options, mesh: invitation.mesh, policy: charter.policy, ipv4Prefix: charter.ipv4Prefix)
        try checkJoinable(invitation.mesh)
        if let prefix = charter.ipv4Prefix {
            try checkIPv4Prefix(
                prefix,
                fix: "members get IPv4 addresses from it, so this host cannot join until that network is "
                    + "moved or removed here (or the mesh's owners make a mesh with another --ipv4-prefix)")
        }
        let identity = try NodeIdentity.generate()
        let role: NodeRecord.Role = request.options.role == "client" ? .client : .peer
        logger.notice(
            "redeeming invite \(invitation.ticket.id) for mesh \(invitation.mesh) at \(invitation.bootstrap.map(\.description).joined(separator: ", "))"
        )
        let granted = try await InvitationRedeemer.redeem(invitation, identity: identity, role: role, logger: logger)
        let runtime = try await start(
            mesh: invitation.mesh, secret: granted.secret, name: charter.name, policy: charter.policy, charter: charter,
            identity: identity, options: request.options, bootstrap: invitation.bootstrap.map(\.description),
            admission: granted.admission)
        state.forgetEviction(invitation.mesh.text)
        logger.notice("admitted to mesh \(invitation.mesh) by its owner; joining")
        for _ in 0..<40 {
            if await runtime.summary().members > 1 { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await runtime.summary()
    }

    /// What `create` prints: valid for a day and up to 100 joins, as `smegctl create` says.
    static let createInviteSeconds = 24 * 3600
    static let createInviteUses = 100

    var gossipPort: UInt16 { UInt16(transport.localPort ?? config.gossipPort) }

    func invites(_ id: String) async throws -> InvitesResponse {
        let runtime = try await find(id)
        guard await runtime.hasOwners else { throw OwnerActionError.noOwners(runtime.mesh).control }
        return await runtime.invites()
    }

    /// An invitation for a mesh with owners; for one made before owners, its old token (which
    /// carries the secret, and has no limits to set).
    func createInvite(_ id: String, _ request: CreateInviteRequest) async throws -> InviteResponse {
        let runtime = try await find(id)
        guard await runtime.hasOwners else {
            guard request == CreateInviteRequest() else {
                throw ControlError.badRequest(
                    "mesh \(runtime.mesh) was made before owners existed: its invites carry the secret and have no "
                        + "expiry, uses or role; create a new mesh to get them")
            }
            return try await legacyInvite(runtime)
        }
        let role: Admission.Role
        switch request.role ?? "member" {
        case "member": role = .member
        case "client": role = .client
        case let other: throw ControlError.badRequest("unknown role '\(other)'; use member or client")
        }
        if let uses = request.uses, !(1...InviteTicket.maxUses).contains(uses) {
            throw ControlError.badRequest("uses must be between 1 and \(InviteTicket.maxUses)")
        }
        if let seconds = request.expiresSeconds, seconds < 1 || Duration.seconds(seconds) > MeshNode.maxInviteLifetime {
            throw ControlError.badRequest("an invite expires after 1 second to 365 days")
        }
        do {
            return try await runtime.invite(request, role: role, gossipPort: gossipPort)
        } catch let error as OwnerActionError {
            throw error.control
        }
    }

    func revokeInvite(_ id: String, invite: String) async throws -> InvitesResponse {
        let runtime = try await find(id)
        do {
            return try await runtime.revokeInvite(invite)
        } catch let error as OwnerActionError {
            throw error.control
        } catch let error as InviteActionError {
            throw ControlError.badRequest("\(error)")
        }
    }

    /// `GET .../invite`: for a mesh with owners a new default invitation (which carries no
    /// secret); for an older mesh its token.
    func invite(_ id: String) async throws -> InviteResponse {
        let runtime = try await find(id)
        if await runtime.hasOwners { return try await createInvite(id, CreateInviteRequest()) }
        return try await legacyInvite(runtime)
    }

    func legacyInvite(_ runtime: MeshRuntime) async throws -> InviteResponse {
        let token = try await inviteToken(runtime)
        return InviteResponse(
            token: token.text, meshId: token.mesh.text, secret: Data(token.secret.bytes).base64EncodedString(),
            bootstrap: token.bootstrap.map(\.description))
    }

    // MARK: Owners

    func owners(_ id: String) async throws -> OwnersResponse {
        try await find(id).owners()
    }

    func addOwner(_ id: String, member: String) async throws -> OwnersResponse {
        let runtime = try await find(id)
        try await decide(runtime) { node, wall, now throws(OwnerActionError) in
            try node.addOwner(member, wallMillis: wall, now: now)
        }
        return await runtime.owners()
    }

    func removeOwner(_ id: String, member: String) async throws -> OwnersResponse {
        let runtime = try await find(id)
        try await decide(runtime) { node, wall, now throws(OwnerActionError) in
            try node.removeOwner(member, wallMillis: wall, now: now)
        }
        return await runtime.owners()
    }

    func evict(_ id: String, member: String) async throws -> MeshDetail {
        let runtime = try await find(id)
        try await decide(runtime) { node, wall, now throws(OwnerActionError) in
            try node.evict(member, wallMillis: wall, now: now)
        }
        logger.notice("evicted \(member) from mesh \(runtime.mesh)")
        return await runtime.detail()
    }

    func rotate(_ id: String) async throws -> MeshDetail {
        let runtime = try await find(id)
        try await decide(runtime) { node, wall, now throws(OwnerActionError) in
            try node.rotateSecret(wallMillis: wall, now: now)
        }
        logger.notice("rotated the secret of mesh \(runtime.mesh)")
        return await runtime.detail()
    }

    func setSettings(_ id: String, _ request: SettingsRequest) async throws -> MeshDetail {
        if let name = request.name { try MeshOptionsCheck.validateName(name) }
        let policy = try MeshOptionsCheck.policy(request.policy)
        let runtime = try await find(id)
        try await decide(runtime) { node, wall, now throws(OwnerActionError) in
            try node.changeSettings(name: request.name, policy: policy, wallMillis: wall, now: now)
        }
        logger.notice("changed the settings of mesh \(runtime.mesh)")
        return await runtime.detail()
    }

    /// An owner decision, its refusal mapped to the status a client can act on.
    func decide(
        _ runtime: MeshRuntime,
        _ decision: @Sendable (inout MeshNode, UInt64, GossipCRDT.Instant) throws(OwnerActionError) -> [MeshNode.Effect]
    ) async throws {
        do {
            try await runtime.decide(decision)
        } catch {
            throw error.control
        }
    }
}

extension OwnerActionError {
    /// The status a client can act on, with the error's own words.
    var control: ControlError {
        switch self {
        case .notAnOwner, .seniorOwner: ControlError.forbidden("\(self)")
        case .unknownMember: ControlError.notFound("\(self)")
        case .alreadyEvicted, .alreadyOwner, .ambiguousMember: ControlError.conflict("\(self)")
        default: ControlError.badRequest("\(self)")
        }
    }
}
