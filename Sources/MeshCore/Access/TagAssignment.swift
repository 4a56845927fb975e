import GossipCRDT

/// An owner's word on which tags one member carries: the whole set, so that assigning is a
/// replacement and two owners' assignments never have to be merged tag by tag.
///
/// Versioned per member like the settings are for the mesh: every member applies the highest
/// version (ties: the smaller statement id), which `OwnerLedger` decides from the statement set
/// alone, so every member computes the same tags for every member. Owner clocks order nothing
/// (a backdated assignment wins nothing), as elsewhere in the ledger.
///
/// ```
/// subject = member node id (32) ‖ version (8) ‖ count (1, 0…8) ‖ count × (length (1, 1…32) ‖ tag)
/// ```
/// Tags in strictly ascending byte order, so one set has one encoding.
public struct TagAssignment: Hashable, Sendable {
    public static let maxTags = 8

    public let member: NodeID
    public let version: UInt64
    /// Sorted, without duplicates.
    public let tags: [AccessTag]

    /// Nil for more than `maxTags` distinct tags.
    public init?(member: NodeID, version: UInt64, tags: some Sequence<AccessTag>) {
        let sorted = Set(tags).sorted()
        guard sorted.count <= Self.maxTags else { return nil }
        self.member = member
        self.version = version
        self.tags = sorted
    }

    var subjectBytes: [UInt8] {
        var writer = ByteWriter(capacity: 41 + tags.count * 8)
        writer.writeBytes(member.bytes)
        writer.writeU64(version)
        writer.writeU8(UInt8(tags.count))
        for tag in tags { writer.writeString(tag.name, limit: AccessTag.maxLength, field: "tag") }
        return writer.bytes
    }

    /// Reads a subject, refusing invalid tags and any order but the canonical one.
    init(reading reader: inout ByteReader) throws(WireError) {
        let member = NodeID(bytes: try reader.readBytes(32, "member"))!
        let version = try reader.readU64("tags version")
        let count = try reader.readCount("tags", limit: Self.maxTags, minimumElementSize: 2)
        var tags: [AccessTag] = []
        for _ in 0..<count {
            let bytes = try reader.readLengthPrefixed("tag", limit: AccessTag.maxLength)
            guard AccessTag.isValid(bytes), let tag = AccessTag(String(decoding: bytes, as: UTF8.self)) else {
                throw .invalid(field: "tag", reason: "not 1 to 32 of a-z, 0-9 and '-'")
            }
            if let last = tags.last, !(last < tag) {
                throw .invalid(field: "tags", reason: "not in strictly ascending order")
            }
            tags.append(tag)
        }
        self.member = member
        self.version = version
        self.tags = tags
    }
}
