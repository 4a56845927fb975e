/// A label an owner gives members so that access rules can name groups of machines
/// ("laptop", "server") instead of keys, and a machine changes group without the policy
/// changing.
///
/// Tags are owner-signed (`TagAssignment`), never claimed by the member: a member chooses its
/// own alias, so a rule that trusted aliases would let a stolen laptop rename itself "db" and
/// reach the database. 1 to 32 of `a-z`, `0-9` and `-`, not starting with `-`: short enough
/// for a table column, and nothing a text format or nftables comment needs to escape.
public struct AccessTag: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let maxLength = 32
    public let name: String

    public init?(_ name: String) {
        guard Self.isValid(name.utf8) else { return nil }
        self.name = name
    }

    public static func isValid(_ bytes: some Collection<UInt8>) -> Bool {
        guard (1...maxLength).contains(bytes.count), bytes.first != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
    }

    public var description: String { name }

    /// ASCII only, so the string order is the byte order the encoding sorts by.
    public static func < (lhs: AccessTag, rhs: AccessTag) -> Bool { lhs.name < rhs.name }
}
