import GossipCRDT

/// The names this node answers for, as a plain value: a snapshot of the members of every mesh
/// it is in, taken by the daemon and then read without locks by the responder.
///
/// Each present member has `<alias>.<mesh-label>.<origin>` (when it holds its alias) and
/// `<short-id>.<mesh-label>.<origin>` (unless another member shares the short id), decided by
/// `AliasTable`; each mesh has its apex `<mesh-label>.<origin>`, which exists without addresses
/// so that a mistyped member name is NXDOMAIN rather than REFUSED. A mesh's label is its name
/// when that is a host label no other mesh of this node has as its name or id, else its id.
/// So every name has at most one address of each family (the member's IPv6 address, and its
/// IPv4 address when it holds one): a name answered with two members' addresses would send a
/// resolver to whichever it picks, a hostile one included. Names over 255 bytes are left out.
public struct DNSZone: Equatable, Sendable {
    public struct Member: Equatable, Sendable {
        public var id: NodeID
        /// The alias the member's record claims ("" or nil for none); the zone decides whether
        /// it is the member's name.
        public var alias: String?
        public var address: IPv6Address
        /// Its IPv4 overlay address; nil when the mesh has no IPv4 network or the member holds
        /// no address in it (`IPv4Assignment`).
        public var ipv4: IPv4Address?

        public init(id: NodeID, alias: String?, address: IPv6Address, ipv4: IPv4Address? = nil) {
            self.id = id
            self.alias = alias
            self.address = address
            self.ipv4 = ipv4
        }
    }

    public struct Mesh: Equatable, Sendable {
        public var id: MeshID
        /// The name it was created with, if any.
        public var name: String?
        /// Every present member; one entry per member id.
        public var members: [Member]

        public init(id: MeshID, name: String?, members: [Member]) {
            self.id = id
            self.name = name
            self.members = members
        }
    }

    /// One member's addresses and its fully qualified names (no final dot): a hosts file line
    /// per address.
    public struct Entry: Equatable, Sendable {
        public var address: IPv6Address
        public var ipv4: IPv4Address?
        public var names: [String]
    }

    public enum Lookup: Equatable, Sendable {
        /// Not under the origin: not ours to answer.
        case outside
        /// Under the origin but not a name in the zone.
        case nonexistent
        /// The origin itself, which holds the SOA.
        case origin
        /// A mesh apex (nil, no IPv4) or a member name and its one address of each family:
        /// always an IPv6 one, an IPv4 one when the member holds one.
        case name(IPv6Address?, ipv4: IPv4Address? = nil)
    }

    public let origin: DomainName
    /// Every member name, sorted by mesh label, then address.
    public let entries: [Entry]
    /// Lowercased labels under the origin ([host, mesh] or [mesh]) → the member, nil at an apex.
    private let index: [[[UInt8]]: Member?]

    public init(origin: DomainName, meshes: [Mesh]) {
        let origin = origin.lowercased()
        var entries: [Entry] = []
        var index: [[[UInt8]]: Member?] = [:]
        for (label, mesh) in Self.labels(meshes).sorted(by: { $0.0 < $1.0 }) {
            let meshLabel = Array(label.utf8)
            guard Self.isName([meshLabel], under: origin) else { continue }
            index[[meshLabel]] = .some(nil)
            var claims: [NodeID: String] = [:]
            var members: [NodeID: Member] = [:]
            for member in mesh.members {
                claims[member.id] = member.alias ?? ""
                members[member.id] = member
            }
            let table = AliasTable(claims: claims)
            for (id, member) in members.sorted(by: { ($0.value.address, $0.key) < ($1.value.address, $1.key) }) {
                var names: [String] = []
                for host in table.names(of: id).map({ Array($0.utf8) })
                where Self.isName([host, meshLabel], under: origin) && index[[host, meshLabel]] == nil {
                    index[[host, meshLabel]] = member
                    let labels = [host, meshLabel] + origin.labels
                    names.append(labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "."))
                }
                if !names.isEmpty { entries.append(Entry(address: member.address, ipv4: member.ipv4, names: names)) }
            }
        }
        self.origin = origin
        self.entries = entries
        self.index = index
    }

    /// Each mesh under the label it is named by: its name when no other mesh has it as name or
    /// id, else its id text (ids are distinct, and never equal another mesh's unique name).
    static func labels(_ meshes: [Mesh]) -> [(String, Mesh)] {
        var uses: [String: Int] = [:]
        for mesh in meshes {
            uses[mesh.id.text, default: 0] += 1
            if let name = mesh.name, name != mesh.id.text { uses[name, default: 0] += 1 }
        }
        return meshes.map { mesh in
            guard let name = mesh.name, uses[name] == 1, DNSName.isValidLabel(name.utf8) else {
                return (mesh.id.text, mesh)
            }
            return (name, mesh)
        }
    }

    public func lookup(_ name: DomainName) -> Lookup {
        guard let relative = name.labels(before: origin) else { return .outside }
        if relative.isEmpty { return .origin }
        guard let member = index[relative] else { return .nonexistent }
        return .name(member?.address, ipv4: member?.ipv4)
    }

    /// Mesh labels, aliases and short ids must each be a host label (lowercase letters, digits,
    /// inner hyphens: what the record validator already requires of aliases), and the whole name
    /// must fit in 255 bytes.
    private static func isName(_ labels: [[UInt8]], under origin: DomainName) -> Bool {
        labels.allSatisfy(DNSName.isValidLabel) && DomainName(labels: labels + origin.labels) != nil
    }
}
