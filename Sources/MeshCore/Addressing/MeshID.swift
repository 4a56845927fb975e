/// A mesh's name: 10 bytes written as 16 lowercase base32 characters, e.g. `k5vq3xw7pmz2a4bd`.
/// A mesh made today hashes its first owner key into them (`committing(to:salt:)`, so the id
/// vouches for the owner); meshes made before owners existed have random bytes (`generate`).
///
/// Pseudo-random rather than chosen by a person so that two operators' meshes never share a ULA
/// prefix or interface name; 80 bits make a collision negligible. 16 characters of `a-z2-7` fit a DNS label,
/// a file name and a shell argument without quoting. Only this exact form is accepted: no
/// uppercase, no padding, no separators, so a mesh has one spelling to hash and compare.
public struct MeshID: Hashable, Comparable, Sendable {
    public static let byteCount = 10
    public static let textLength = 16

    /// The 10 raw bytes, as carried in frames and route paths.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    public init?(_ text: String) {
        let utf8 = text.utf8
        guard utf8.count == Self.textLength,
            utf8.allSatisfy({ Base32.alphabet.contains($0) }),
            let bytes = Base32.decode(text)
        else { return nil }
        self.bytes = bytes
    }

    /// A random id, as meshes had before owners; new meshes use `committing(to:salt:)`.
    public static func generate() throws -> MeshID {
        MeshID(bytes: try Sodium.randomBytes(byteCount))!
    }

    /// The canonical text form; also the input to every derivation in docs/addressing.md.
    public var text: String { Base32.encode(bytes) }

    public static func < (lhs: MeshID, rhs: MeshID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

extension MeshID: CustomStringConvertible {
    public var description: String { text }
}

/// Why a mesh id string was refused, worded for the person who typed it.
public enum MeshIDError: Error, Equatable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let text):
            let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
            return "invalid mesh id \"\(shown)\": expected 16 characters of a-z and 2-7, as printed by `smegctl create`"
        }
    }
}

extension MeshID {
    /// Parses like `init?(_:)`, but with an error an operator can act on.
    public static func parse(_ text: String) throws(MeshIDError) -> MeshID {
        guard let id = MeshID(text) else { throw .invalid(text) }
        return id
    }
}
