/// A node record with its owner's Ed25519 signature, in the exact bytes that were signed.
///
/// The signature covers `domain ‖ mesh id ‖ body`: the domain string keeps a record signature
/// from ever verifying as any other kind of signed message, and the mesh id keeps a record from
/// being replayed into another mesh. Decoding keeps the received bytes, so verification checks
/// what was sent rather than a re-encoding of it.
public struct SignedNodeRecord: Hashable, Sendable {
    static let signatureDomain: [UInt8] = Array("smegmesh/v1/node-record".utf8) + [0]
    static let formatVersion: UInt8 = 1
    /// Format 1 followed by the record's admission: a record has format 2 exactly when it
    /// carries one, so one record still has one encoding.
    static let admittedFormat: UInt8 = 2
    /// Format 1 followed by the path candidates, then a flag byte and, when it is 1, the
    /// admission. Written only for records that carry candidates, so that a record without any
    /// keeps the encoding older members read.
    static let candidatesFormat: UInt8 = 3

    public let record: NodeRecord
    public let signature: [UInt8]
    /// Body followed by signature: what goes into the replicated store's opaque payload.
    public let encoded: [UInt8]

    /// Signs `record` as `identity`, refusing to sign a record that names another key, or that
    /// receivers would reject anyway.
    ///
    /// Endpoints are checked under the loopback-lab policy by default: the signer cannot know
    /// whether its receivers run as a lab, so it refuses only what no receiver accepts, and the
    /// daemon keeps loopback out of the endpoints it gathers unless it runs as one.
    public static func sign(
        _ record: NodeRecord, identity: NodeIdentity, mesh: MeshID, policy: RoutePolicy = .default,
        endpoints: EndpointPolicy = .loopbackLab
    ) throws(RecordRejection) -> SignedNodeRecord {
        guard record.signingKey == identity.signingKey, record.wireGuardKey == identity.wireGuardPublicKey else {
            throw .notOwnRecord
        }
        try record.validateContent(in: mesh, policy: policy, endpoints: endpoints)
        let body = record.encodedBody()
        let signature = identity.sign(signedMessage(body: body[...], mesh: mesh))
        let encoded = body + signature
        guard encoded.count <= RecordLimits.maxEncodedSize else {
            throw .tooLarge(encoded.count)
        }
        return SignedNodeRecord(record: record, signature: signature, encoded: encoded)
    }

    /// Structural decoding only: limits, tags, canonical order. Call `verify` before trusting it.
    public static func decode<C: Collection>(_ bytes: C) throws(WireError) -> SignedNodeRecord
    where C.Element == UInt8 {
        guard bytes.count <= RecordLimits.maxEncodedSize else {
            throw .tooLarge(field: "node record", length: bytes.count, limit: RecordLimits.maxEncodedSize)
        }
        let all = Array(bytes)
        guard all.count >= Sodium.ed25519SignatureBytes else { throw .truncated(field: "node record") }
        let bodyEnd = all.count - Sodium.ed25519SignatureBytes
        var reader = ByteReader(all[..<bodyEnd])
        let record = try NodeRecord.decodeBody(&reader)
        try reader.finish()
        return SignedNodeRecord(record: record, signature: Array(all[bodyEnd...]), encoded: all)
    }

    /// Every check a receiver makes before merging: signature, key derivation, address
    /// derivation, content rules, route policy and endpoint policy.
    public func verify(
        in mesh: MeshID, policy: RoutePolicy = .default, endpoints: EndpointPolicy = .strict
    ) throws(RecordRejection) {
        let body = encoded[..<(encoded.count - Sodium.ed25519SignatureBytes)]
        guard record.signingKey.isValidSignature(signature, for: Self.signedMessage(body: body, mesh: mesh)) else {
            throw .badSignature
        }
        try record.validateContent(in: mesh, policy: policy, endpoints: endpoints)
    }

    static func signedMessage(body: ArraySlice<UInt8>, mesh: MeshID) -> [UInt8] {
        signatureDomain + mesh.bytes + body
    }
}

extension NodeRecord {
    /// Canonical body encoding (see docs/protocol.md, "Node record"). Services are written in
    /// key order so that one record has exactly one encoding.
    func encodedBody() -> [UInt8] {
        var writer = ByteWriter(capacity: 256)
        let format =
            !candidates.isEmpty
            ? SignedNodeRecord.candidatesFormat
            : admission == nil ? SignedNodeRecord.formatVersion : SignedNodeRecord.admittedFormat
        writer.writeU8(format)
        writer.writeBytes(wireGuardKey.bytes)
        writer.writeBytes(signingKey.bytes)
        writer.writeBytes(address.bytes)
        writer.writeU64(version)
        writer.writeU8(role.rawValue)
        writer.writeU16(wireGuardPort)
        writer.writeU16(gossipPort)
        writer.writeCount(endpoints.count, limit: RecordLimits.maxEndpoints)
        for endpoint in endpoints { writer.writeEndpoint(endpoint) }
        writer.writeString(alias, limit: RecordLimits.maxAliasLength)
        writer.writeString(description, limit: RecordLimits.maxDescriptionLength)
        writer.writeCount(services.count, limit: RecordLimits.maxServices)
        for key in services.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            writer.writeString(key, limit: RecordLimits.maxServiceKeyLength)
            writer.writeString(services[key]!, limit: RecordLimits.maxServiceValueLength)
        }
        writer.writeCount(routes.count, limit: RecordLimits.maxRoutes)
        for route in routes {
            writer.writePrefix(route.prefix)
            writer.writeCount(route.path.count, limit: RecordLimits.maxPathLength)
            for mesh in route.path { writer.writeBytes(mesh.bytes) }
        }
        if format == SignedNodeRecord.candidatesFormat {
            writer.writeCount(candidates.count, limit: PathCandidate.maxPerRecord)
            for candidate in candidates {
                writer.writeU8(candidate.kind.rawValue)
                writer.writeEndpoint(candidate.endpoint)
            }
            writer.writeU8(admission == nil ? 0 : 1)
        }
        if let admission {
            writer.writeLengthPrefixed(admission, limit: OwnerStatement.admissionByteCount, field: "admission")
        }
        // Callers encode only records that passed `validateContent` or came from `decodeBody`,
        // both of which enforce every limit the writer checks.
        assert(writer.failure == nil, "encoding a record that was never validated")
        return writer.bytes
    }

    static func decodeBody(_ reader: inout ByteReader) throws(WireError) -> NodeRecord {
        let format = try reader.readU8("record format")
        guard (SignedNodeRecord.formatVersion...SignedNodeRecord.candidatesFormat).contains(format) else {
            throw .unsupportedVersion(format)
        }
        let wireGuardKey = WireGuardPublicKey(bytes: try reader.readBytes(32, "wireguard key"))!
        let signingKey = SigningPublicKey(bytes: try reader.readBytes(32, "signing key"))!
        let address = try reader.readIPv6("address")
        let version = try reader.readU64("version")
        let roleByte = try reader.readU8("role")
        guard let role = Role(rawValue: roleByte) else {
            throw .invalid(field: "role", reason: "unknown role \(roleByte)")
        }
        let wireGuardPort = try reader.readU16("wireguard port")
        let gossipPort = try reader.readU16("gossip port")

        let endpointCount = try reader.readCount("endpoints", limit: RecordLimits.maxEndpoints, minimumElementSize: 7)
        var endpoints: [Endpoint] = []
        for _ in 0..<endpointCount {
            endpoints.append(try reader.readEndpoint("endpoint", allowNames: false))
        }
        let alias = try reader.readString("alias", limit: RecordLimits.maxAliasLength)
        let description = try reader.readString("description", limit: RecordLimits.maxDescriptionLength)

        let serviceCount = try reader.readCount("services", limit: RecordLimits.maxServices, minimumElementSize: 2)
        var services: [String: String] = [:]
        var previousKey: String?
        for _ in 0..<serviceCount {
            let key = try reader.readString("service key", limit: RecordLimits.maxServiceKeyLength)
            let value = try reader.readString("service value", limit: RecordLimits.maxServiceValueLength)
            if let previousKey, !previousKey.utf8.lexicographicallyPrecedes(key.utf8) {
                throw .invalid(field: "services", reason: "keys not in strictly increasing order")
            }
            previousKey = key
            services[key] = value
        }

        let routeCount = try reader.readCount("routes", limit: RecordLimits.maxRoutes, minimumElementSize: 7)
        var routes: [AdvertisedRoute] = []
        for _ in 0..<routeCount {
            let prefix = try reader.readPrefix("route prefix")
            let pathCount = try reader.readCount(
                "route path", limit: RecordLimits.maxPathLength, minimumElementSize: MeshID.byteCount)
            var path: [MeshID] = []
            for _ in 0..<pathCount { path.append(try reader.readMeshID("route path")) }
            routes.append(AdvertisedRoute(prefix: prefix, path: path))
        }
        var candidates: [PathCandidate] = []
        var admitted = format == SignedNodeRecord.admittedFormat
        if format == SignedNodeRecord.candidatesFormat {
            let count = try reader.readCount(
                "candidates", limit: PathCandidate.maxPerRecord, minimumElementSize: 8)
            // Format 3 exists only to carry candidates: an empty list has format 1 or 2.
            guard count > 0 else { throw .invalid(field: "candidates", reason: "format 3 without candidates") }
            for _ in 0..<count {
                let kindByte = try reader.readU8("candidate kind")
                guard let kind = PathCandidate.Kind(rawValue: kindByte) else {
                    throw .invalid(field: "candidate kind", reason: "unknown kind \(kindByte)")
                }
                candidates.append(PathCandidate(try reader.readEndpoint("candidate", allowNames: false), kind: kind))
            }
            switch try reader.readU8("admission flag") {
            case 0: admitted = false
            case 1: admitted = true
            case let flag: throw .invalid(field: "admission flag", reason: "\(flag) is neither 0 nor 1")
            }
        }
        let admission =
            admitted ? try reader.readLengthPrefixed("admission", limit: OwnerStatement.admissionByteCount) : nil
        var record = NodeRecord(
            wireGuardKey: wireGuardKey, signingKey: signingKey, address: address, endpoints: endpoints,
            wireGuardPort: wireGuardPort, gossipPort: gossipPort, role: role, alias: alias,
            description: description, services: services, routes: routes, version: version, admission: admission)
        record.candidates = candidates
        return record
    }
}
