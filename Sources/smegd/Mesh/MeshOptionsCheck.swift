import Glibc
import MeshCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Validates create/join input before anything is written, so a bad alias or endpoint is a
/// 400 with the reason rather than a mesh that silently fails to publish its record.
enum MeshOptionsCheck {
    /// Checks `options` for a node of `mesh`, whose members accept routes under `policy`.
    static func validate(_ options: MeshOptions, mesh: MeshID, policy: RoutePolicy, ipv4Prefix: IPPrefix? = nil) throws
    {
        if let problem = options.problem { throw ControlError.badRequest(problem.description) }
        if options.advertiseDefaultRoute == true && !policy.allowExitNodes {
            throw ControlError.badRequest(
                "mesh \(mesh) does not allow exit nodes, so this node cannot advertise the default route; "
                    + "its creator decides that (`smegctl create --allow-exit-nodes`)")
        }
        if options.bridge == true && !policy.allowBridgedMeshes {
            throw ControlError.badRequest(
                "mesh \(mesh) does not allow bridges, so this node cannot bridge other meshes into it; "
                    + "its creator decides that (`smegctl create --allow-bridged-meshes`)")
        }
        if let alias = options.alias { try validateAlias(alias) }
        try dryRunRecord(options, mesh: mesh, policy: policy, ipv4Prefix: ipv4Prefix)
    }

    /// Refuses an alias no node could ever hold: one shaped like a short id is void on every
    /// member (docs/dns.md, "Names"), so accepting it would leave this node nameless with no
    /// error. The record rules (a lowercase DNS label) are checked with the rest of the record.
    static func validateAlias(_ alias: String) throws {
        guard AliasTable.isShapedLikeShortID(alias) else { return }
        throw ControlError.badRequest(
            "alias '\(alias)' is 8 hex digits, the form of a member's short id, so no member can hold it; "
                + "choose one with a letter outside a-f or another length (e.g. 'host-\(alias)')")
    }

    /// The routes a node publishes for `options`: its own prefixes, then `::/0` for an exit.
    static func advertisedRoutes(_ options: MeshOptions) -> [AdvertisedRoute] { options.advertisedRoutes }

    /// The policy a create request asks for, or a 400 naming the bad prefix.
    static func policy(_ view: RoutePolicyView?) throws -> RoutePolicy {
        guard let view else { return .default }
        switch view.policy() {
        case .success(let policy):
            guard policy.allowedPrefixes.count <= MeshSettingsLimits.maxAllowedPrefixes else {
                throw ControlError.badRequest(
                    "at most \(MeshSettingsLimits.maxAllowedPrefixes) allowed prefixes fit in an invite token")
            }
            return policy
        case .failure(let error): throw ControlError.badRequest("\(error)")
        }
    }

    /// Mesh names appear in DNS names and graphs: a DNS label.
    static func validateName(_ name: String) throws {
        guard DNSName.isValidLabel(Array(name.utf8)), name == name.lowercased() else {
            throw ControlError.badRequest(
                "mesh name must be a lowercase DNS label (a-z, 0-9, -), at most 63 characters")
        }
    }

    /// Checks a record with the requested content under a throwaway identity: the record rules
    /// (alias, description, routes, sizes) are checked exactly as receivers will check them.
    /// Routes inside the mesh's IPv4 network are refused too: receivers would ignore them, and
    /// this node would not publish them while its operator thinks it does.
    private static func dryRunRecord(
        _ options: MeshOptions, mesh: MeshID, policy: RoutePolicy, ipv4Prefix: IPPrefix?
    ) throws {
        let identity = try NodeIdentity.generate()
        var record = NodeRecord(
            identity: identity, mesh: mesh, endpoints: options.endpoint.flatMap(Endpoint.init).map { [$0] } ?? [],
            wireGuardPort: options.resolvedListenPort, gossipPort: 51900, role: options.resolvedRole)
        record.alias = options.alias ?? ""
        record.description = options.description ?? ""
        record.routes = advertisedRoutes(options)
        do {
            try record.validateContent(in: mesh, policy: policy, ipv4Prefix: ipv4Prefix)
        } catch {
            throw ControlError.badRequest("\(error)")
        }
    }
}

/// Reads a join request: an invite token, or mesh id + secret + bootstrap endpoints.
enum JoinRequestParser {
    struct Parsed {
        var mesh: MeshID
        var secret: MeshSecret
        var bootstrap: [Endpoint]
        var name: String? = nil
        var policy = RoutePolicy.default
        /// Verified by `InviteToken`; nil for a token of a mesh made before owners existed.
        var charter: MeshCharter? = nil
    }

    /// A join by mesh id and secret carries no name and the default policy; a token carries both.
    /// A token whose charter does not vouch for its settings is refused with its own sentence,
    /// since it is not a copying mistake: someone other than an owner made it.
    static func parse(_ request: JoinMeshRequest) throws -> Parsed {
        if let text = request.token {
            do {
                let token = try InviteToken(text)
                return Parsed(
                    mesh: token.mesh, secret: token.secret, bootstrap: token.bootstrap, name: token.name,
                    policy: token.policy, charter: token.charter)
            } catch {
                if case .unsignedSettings = error { throw ControlError.badRequest("\(error)") }
                throw ControlError.badRequest("invalid token: \(error)")
            }
        }
        guard let meshText = request.meshId, let secretText = request.secret, let bootstrap = request.bootstrap,
            !bootstrap.isEmpty
        else {
            throw ControlError.badRequest("give a token, or meshId, secret and at least one bootstrap endpoint")
        }
        let mesh: MeshID
        do {
            mesh = try MeshID.parse(meshText)
        } catch {
            throw ControlError.badRequest("invalid mesh id: \(error)")
        }
        guard let data = Data(base64Encoded: secretText.trimmingWhitespace()),
            let secret = MeshSecret(bytes: Array(data))
        else {
            throw ControlError.badRequest("the secret must be 32 bytes in base64")
        }
        let endpoints = try bootstrap.map { text -> Endpoint in
            guard let endpoint = Endpoint(text) else {
                throw ControlError.badRequest("bootstrap endpoint '\(text)' is not HOST:PORT")
            }
            return endpoint
        }
        return Parsed(mesh: mesh, secret: secret, bootstrap: endpoints)
    }
}
