/// The names this node answers for, as a plain value: a snapshot of the members of every mesh
/// it is in, taken by the daemon and then read without locks by the responder.
///
/// Each present member has `<alias>.<mesh-label>.<origin>` (when it has an alias) and
/// `<short-id>.<mesh-label>.<origin>`; each mesh has its apex `<mesh-label>.<origin>`, which
/// exists without addresses so that a mistyped member name is NXDOMAIN rather than REFUSED.
/// Names that would not be valid (a label that is not a lowercase host label, or a name over
/// 255 bytes) are left out. When several members share a name (two members with one alias, or
/// two meshes with one name) the name has all their addresses.
public struct DNSZone: Equatable, Sendable {
    public struct Member: Equatable, Sendable {
        public var alias: String?
        public var shortId: String
        public var address: IPv6Address

        public init(alias: String?, shortId: String, address: IPv6Address) {
            self.alias = alias
            self.shortId = shortId
            self.address = address
        }
    }

    public struct Mesh: Equatable, Sendable {
        /// The mesh's name when it has one, else its 16-character id.
        public var label: String
        public var members: [Member]

        public init(label: String, members: [Member]) {
            self.label = label
            self.members = members
        }
    }

    /// One address and its fully qualified names (no final dot), as a hosts file line.
    public struct Entry: Equatable, Sendable {
        public var address: IPv6Address
        public var names: [String]
    }

    public enum Lookup: Equatable, Sendable {
        /// Not under the origin: not ours to answer.
        case outside
        /// Under the origin but not a name in the zone.
        case nonexistent
        /// The origin itself, which holds the SOA.
        case origin
        /// A mesh apex (no addresses) or a member name.
        case name([IPv6Address])
    }

    public let origin: DomainName
    /// Every member name, sorted by mesh label, then address.
    public let entries: [Entry]
    /// Lowercased labels under the origin ([host, mesh] or [mesh]) → addresses, sorted.
    private let index: [[[UInt8]]: [IPv6Address]]

    public init(origin: DomainName, meshes: [Mesh]) {
        let origin = origin.lowercased()
        var entries: [Entry] = []
        var index: [[[UInt8]]: Set<IPv6Address>] = [:]
        for mesh in meshes.sorted(by: { $0.label < $1.label }) {
            let meshLabel = Array(mesh.label.utf8)
            guard Self.isName([meshLabel], under: origin) else { continue }
            if index[[meshLabel]] == nil { index[[meshLabel]] = [] }
            for member in mesh.members.sorted(by: { $0.address < $1.address }) {
                var names: [String] = []
                for host in [member.alias, member.shortId].compactMap({ $0.map { Array($0.utf8) } })
                where Self.isName([host, meshLabel], under: origin)
                    && index[[host, meshLabel], default: []].insert(member.address).inserted
                {
                    let labels = [host, meshLabel] + origin.labels
                    names.append(labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "."))
                }
                if !names.isEmpty { entries.append(Entry(address: member.address, names: names)) }
            }
        }
        self.origin = origin
        self.entries = entries
        self.index = index.mapValues { $0.sorted() }
    }

    public func lookup(_ name: DomainName) -> Lookup {
        guard let relative = name.labels(before: origin) else { return .outside }
        if relative.isEmpty { return .origin }
        return index[relative].map(Lookup.name) ?? .nonexistent
    }

    /// Mesh labels, aliases and short ids must each be a host label (lowercase letters, digits,
    /// inner hyphens: what the record validator already requires of aliases), and the whole name
    /// must fit in 255 bytes.
    private static func isName(_ labels: [[UInt8]], under origin: DomainName) -> Bool {
        labels.allSatisfy(DNSName.isValidLabel) && DomainName(labels: labels + origin.labels) != nil
    }
}
