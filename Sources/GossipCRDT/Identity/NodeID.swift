/// A member's identity inside the replicated store: its 32-byte WireGuard public key.
///
/// Kept as four big-endian words rather than an array so that comparison, hashing and storage
/// in a 10,000-entry map cost no allocation. Ordering is the raw byte order of the key, which is
/// what leader election ("lowest live key") is defined on.
public struct NodeID: Hashable, Comparable, Sendable {
    public static let byteCount = 32

    @usableFromInline let w0: UInt64
    @usableFromInline let w1: UInt64
    @usableFromInline let w2: UInt64
    @usableFromInline let w3: UInt64

    /// Returns nil unless `bytes` holds exactly 32 bytes.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == NodeID.byteCount else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (index, byte) in bytes.enumerated() {
            words[index / 8] = words[index / 8] << 8 | UInt64(byte)
        }
        self.init(words[0], words[1], words[2], words[3])
    }

    /// Builds an id from its four big-endian words; mostly for tests and the simulator.
    public init(_ w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// The 32 raw key bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(NodeID.byteCount)
        for word in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return out
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        (lhs.w0, lhs.w1, lhs.w2, lhs.w3) < (rhs.w0, rhs.w1, rhs.w2, rhs.w3)
    }
}

extension NodeID: CustomStringConvertible {
    /// The first 8 hex digits: enough to tell members apart in logs and tables.
    public var description: String {
        let hex = String(w0 >> 32, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
