/// Why a node record was refused. Each case maps to one rule, so a rejection counter labelled by
/// case tells an operator what a misbehaving member is doing.
public enum RecordRejection: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(WireError)
    case badSignature
    /// The WireGuard key is not the one derived from the signing key.
    case wireGuardKeyMismatch
    /// The key hashes to a reserved interface id, or the conversion rejected it.
    case unusableKey
    case addressMismatch(claimed: IPv6Address, expected: IPv6Address)
    /// The record's key differs from the member id it was stored under.
    case nodeIDMismatch
    case staleVersion(current: UInt64, received: UInt64)
    case notOwnRecord
    case tooLarge(Int)
    /// The endpoint list is too long or repeats an endpoint.
    case invalidEndpoint(String)
    /// An endpoint the receiver's `EndpointPolicy` refuses, with the rule it breaks.
    case refusedEndpoint(Endpoint, EndpointRefusal)
    case invalidPort(String)
    case invalidAlias
    case invalidDescription
    case invalidService(String)
    case routeRejected(String)
    /// The member was evicted by an owner: nothing it signs is merged any more.
    case evicted
    /// The mesh requires an admission signed by an owner, and the record has none that counts.
    case notAdmitted
    /// The record's admission is not an owner's signed admission of this record's key.
    case badAdmission

    public var description: String {
        switch self {
        case .evicted: return "the member was evicted by an owner"
        case .notAdmitted: return "no owner admitted this member (the mesh requires admissions)"
        case .badAdmission: return "the admission is not an owner's signed admission of this key"
        case .malformed(let error): return "malformed record: \(error)"
        case .badSignature: return "signature does not verify"
        case .wireGuardKeyMismatch: return "WireGuard key is not derived from the signing key"
        case .unusableKey: return "key maps to a reserved interface id"
        case .addressMismatch(let claimed, let expected): return "address \(claimed) should be \(expected)"
        case .nodeIDMismatch: return "record key differs from the member it is stored under"
        case .staleVersion(let current, let received): return "version \(received) is not newer than \(current)"
        case .notOwnRecord: return "a node can sign only its own record"
        case .tooLarge(let size): return "record is \(size) bytes, more than \(RecordLimits.maxEncodedSize)"
        case .invalidEndpoint(let endpoint): return "endpoint \(endpoint) is not a usable unicast address"
        case .refusedEndpoint(let endpoint, let refusal): return "endpoint \(endpoint) is refused: \(refusal)"
        case .invalidPort(let which): return "\(which) port must not be 0"
        case .invalidAlias: return "alias must be a lowercase DNS label of at most 63 characters"
        case .invalidDescription:
            return "description must be printable ASCII of at most \(RecordLimits.maxDescriptionLength) bytes"
        case .invalidService(let key): return "service \"\(key)\" has an invalid key or value"
        case .routeRejected(let reason): return reason
        }
    }
}

extension NodeRecord {
    /// The admission a record carries, decoded and its signature checked: an admit statement of
    /// this mesh for this record's own signing key. Whether its issuer is an owner is the
    /// ledger's question (`OwnerLedger.admits`).
    public func verifiedAdmission(_ bytes: [UInt8], in mesh: MeshID) throws(RecordRejection) -> OwnerStatement {
        guard let statement = try? OwnerStatement(bytes: bytes, mesh: mesh),
            case .admit(let grant) = statement.decision,
            grant.member == signingKey
        else { throw .badAdmission }
        return statement
    }

    /// The content rules every record must meet, signature aside. `endpoints` is the receiver's
    /// choice like `policy`; the strict default is what a daemon that manages WireGuard applies.
    public func validateContent(
        in mesh: MeshID, policy: RoutePolicy, endpoints endpointPolicy: EndpointPolicy = .strict,
        ipv4Prefix: IPPrefix? = nil
    ) throws(RecordRejection) {
        guard signingKey.derivedWireGuardKey == wireGuardKey else { throw .wireGuardKeyMismatch }
        // A carried admission is verified where it counts (`MeshRecordValidator`), once.
        if let admission, admission.count > OwnerStatement.admissionByteCount { throw .badAdmission }
        guard InterfaceID(wireGuardKey: wireGuardKey).isUsable else { throw .unusableKey }
        let expected = OverlayAddress.derive(mesh: mesh, wireGuardKey: wireGuardKey)
        guard address == expected else { throw .addressMismatch(claimed: address, expected: expected) }
        guard wireGuardPort != 0 else { throw .invalidPort("WireGuard") }
        guard gossipPort != 0 else { throw .invalidPort("gossip") }
        guard endpoints.count <= RecordLimits.maxEndpoints, Set(endpoints).count == endpoints.count else {
            throw .invalidEndpoint("list (too many or duplicated)")
        }
        let overlay = OverlayAddress.meshPrefix(of: mesh)
        for endpoint in endpoints {
            if let refusal = endpointPolicy.refusal(of: endpoint, overlay: overlay) {
                throw .refusedEndpoint(endpoint, refusal)
            }
        }
        // Candidates are where other members send handshakes when they punch: the same rules as
        // endpoints (`PathCandidates.toTry` adds the rule for site-local ones).
        guard candidates.count <= PathCandidate.maxPerRecord,
            Set(candidates.map(\.endpoint)).count == candidates.count
        else {
            throw .invalidEndpoint("candidate list (too many or duplicated)")
        }
        for candidate in candidates {
            if case .name = candidate.endpoint.host { throw .refusedEndpoint(candidate.endpoint, .name) }
            if let refusal = endpointPolicy.refusal(of: candidate.endpoint, overlay: overlay) {
                throw .refusedEndpoint(candidate.endpoint, refusal)
            }
        }
        guard RecordLimits.isValidAlias(alias) else { throw .invalidAlias }
        guard RecordLimits.isValidText(description, limit: RecordLimits.maxDescriptionLength) else {
            throw .invalidDescription
        }
        guard services.count <= RecordLimits.maxServices else { throw .invalidService("(more than 16)") }
        for (key, value) in services {
            guard RecordLimits.isValidServiceKey(key),
                RecordLimits.isValidText(value, limit: RecordLimits.maxServiceValueLength)
            else { throw .invalidService(key) }
        }
        guard routes.count <= RecordLimits.maxRoutes else { throw .routeRejected("more than 16 routes") }
        for route in routes {
            guard route.path.count <= RecordLimits.maxPathLength else {
                throw .routeRejected("route \(route.prefix) has a path longer than \(RecordLimits.maxPathLength)")
            }
            if let reason = policy.violation(of: route, in: mesh, ipv4Prefix: ipv4Prefix) {
                throw .routeRejected(reason)
            }
        }
    }
}
