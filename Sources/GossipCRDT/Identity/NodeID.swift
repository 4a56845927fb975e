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
    ///
    /// Every decoded frame, ledger record and key conversion comes through here, so it reads
    /// contiguous storage as four unaligned big-endian loads and allocates nothing; a profile of
    /// a 100-node mass join had the old array-building loop at 7% of the daemons' CPU.
    @inlinable
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == NodeID.byteCount else { return nil }
        // A collection without contiguous storage (rare: a lazy view) is copied once first.
        self =
            bytes.withContiguousStorageIfAvailable { NodeID(raw: UnsafeRawBufferPointer($0)) }
            ?? Array(bytes).withUnsafeBytes { NodeID(raw: $0) }
    }

    /// `raw` must hold exactly 32 bytes (the public initializer checks).
    @inlinable
    init(raw: UnsafeRawBufferPointer) {
        self.init(
            UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
            UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
    }

    /// Builds an id from its four big-endian words; mostly for tests and the simulator.
    @inlinable
    public init(_ w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// The first 8 key bytes as a big-endian word: what a frame names a sender by once the
    /// receiver is known to hold it (docs/protocol.md, "Short frames").
    @inlinable
    public var leadingWord: UInt64 { w0 }

    /// The 32 raw key bytes.
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: NodeID.byteCount) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.storeBytes(of: w0.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: w1.bigEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: w2.bigEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: w3.bigEndian, toByteOffset: 24, as: UInt64.self)
            count = NodeID.byteCount
        }
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
