/// Reads big-endian fields from untrusted bytes.
///
/// Every length and count is checked against both a format limit and the bytes actually left
/// before anything is allocated, so a 4-byte claim of "4 billion entries" fails immediately
/// instead of reserving memory for them.
public struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private var position: Int

    public init(_ bytes: [UInt8]) {
        self.init(bytes[...])
    }

    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    public var remaining: Int { bytes.endIndex - position }
    public var isAtEnd: Bool { remaining == 0 }

    public mutating func readU8(_ field: String) throws(WireError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated(field: field) }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func readU16(_ field: String) throws(WireError) -> UInt16 {
        UInt16(truncatingIfNeeded: try readUInt(field, width: 2))
    }

    public mutating func readU32(_ field: String) throws(WireError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readUInt(field, width: 4))
    }

    public mutating func readU64(_ field: String) throws(WireError) -> UInt64 {
        try readUInt(field, width: 8)
    }

    /// A view of the next `count` bytes, without copying.
    public mutating func readSlice(_ count: Int, _ field: String) throws(WireError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw .truncated(field: field) }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    public mutating func readBytes(_ count: Int, _ field: String) throws(WireError) -> [UInt8] {
        Array(try readSlice(count, field))
    }

    /// Everything not yet read.
    public mutating func readRest() -> ArraySlice<UInt8> {
        defer { position = bytes.endIndex }
        return bytes[position...]
    }

    /// A byte string with a 1-byte (limit < 256) or 2-byte length prefix, at most `limit` bytes.
    public mutating func readLengthPrefixed(_ field: String, limit: Int) throws(WireError) -> [UInt8] {
        let length = limit < 256 ? Int(try readU8(field)) : Int(try readU16(field))
        guard length <= limit else { throw .tooLarge(field: field, length: length, limit: limit) }
        return try readBytes(length, field)
    }

    /// A UTF-8 string with a length prefix as in `readLengthPrefixed`. Invalid UTF-8 is rejected
    /// rather than repaired, so the string re-encodes to exactly the bytes that were signed.
    public mutating func readString(_ field: String, limit: Int) throws(WireError) -> String {
        let bytes = try readLengthPrefixed(field, limit: limit)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalid(field: field, reason: "not valid UTF-8")
        }
        return text
    }

    /// An element count, checked against `limit` and against the bytes left, given that each
    /// element takes at least `minimumElementSize`. The prefix is as wide as `limit` needs:
    /// 1 byte below 256, 2 below 65,536, else 4.
    public mutating func readCount(_ field: String, limit: Int, minimumElementSize: Int) throws(WireError) -> Int {
        let count: Int
        switch ByteWriter.countWidth(limit: limit) {
        case 1: count = Int(try readU8(field))
        case 2: count = Int(try readU16(field))
        default: count = Int(try readU32(field))
        }
        guard count <= limit else { throw .tooLarge(field: field, length: count, limit: limit) }
        guard count * max(minimumElementSize, 0) <= remaining else { throw .truncated(field: field) }
        return count
    }

    /// Fails unless every byte was consumed.
    public func finish() throws(WireError) {
        guard isAtEnd else { throw .trailingBytes(count: remaining) }
    }

    /// An unsigned LEB128 varint, 7 bits a byte, low group first: at most 10 bytes, and only
    /// the shortest encoding of each value (no trailing zero group, nothing beyond 64 bits), so
    /// that every value has one encoding. Shifts stay below 64, so no input traps.
    public mutating func readVarU64(_ field: String) throws(WireError) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<10 {
            guard remaining >= 1 else { throw .truncated(field: field) }
            let byte = bytes[position]
            position += 1
            let group = UInt64(byte & 0x7f)
            if index == 9, byte > 1 { throw .invalid(field: field, reason: "varint beyond 64 bits") }
            value |= group << UInt64(7 * index)
            if byte & 0x80 == 0 {
                guard byte != 0 || index == 0 else {
                    throw .invalid(field: field, reason: "varint not in its shortest form")
                }
                return value
            }
        }
        throw .invalid(field: field, reason: "varint longer than 10 bytes")
    }

    private mutating func readUInt(_ field: String, width: Int) throws(WireError) -> UInt64 {
        guard remaining >= width else { throw .truncated(field: field) }
        var value: UInt64 = 0
        for offset in 0..<width { value = value << 8 | UInt64(bytes[position + offset]) }
        position += width
        return value
    }
}

/// Writes big-endian fields.
///
/// A value over its limit does not trap: the writer remembers the first such failure in
/// `failure` and the caller checks it once at the end, so a message built from unexpected data
/// (a store grown past the format's bounds) is refused with an error instead of crashing the node.
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []
    public private(set) var failure: WireError?

    public init(capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func writeU8(_ value: UInt8) { bytes.append(value) }

    public mutating func writeU16(_ value: UInt16) { writeUInt(UInt64(value), width: 2) }

    public mutating func writeU32(_ value: UInt32) { writeUInt(UInt64(value), width: 4) }

    public mutating func writeU64(_ value: UInt64) { writeUInt(value, width: 8) }

    /// Mirror of `ByteReader.readVarU64`.
    public mutating func writeVarU64(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    public mutating func writeBytes<C: Collection>(_ value: C) where C.Element == UInt8 {
        bytes.append(contentsOf: value)
    }

    /// Mirror of `ByteReader.readLengthPrefixed`.
    public mutating func writeLengthPrefixed(_ value: [UInt8], limit: Int, field: String = "field") {
        writeCount(value.count, limit: limit, field: field)
        bytes.append(contentsOf: value)
    }

    public mutating func writeString(_ value: String, limit: Int, field: String = "string") {
        writeLengthPrefixed(Array(value.utf8), limit: limit, field: field)
    }

    /// Mirror of `ByteReader.readCount`.
    public mutating func writeCount(_ count: Int, limit: Int, field: String = "count") {
        if count > limit, failure == nil {
            failure = .tooLarge(field: field, length: count, limit: limit)
        }
        let clamped = min(count, limit)
        switch Self.countWidth(limit: limit) {
        case 1: writeU8(UInt8(clamped))
        case 2: writeU16(UInt16(clamped))
        default: writeU32(UInt32(clamped))
        }
    }

    /// Records a failure found by the caller (a rule the writer cannot see, like a sum of counts).
    public mutating func fail(_ error: WireError) {
        if failure == nil { failure = error }
    }

    /// The bytes written, or the first failure.
    public func finish() throws(WireError) -> [UInt8] {
        if let failure { throw failure }
        return bytes
    }

    static func countWidth(limit: Int) -> Int {
        limit < 256 ? 1 : (limit < 65_536 ? 2 : 4)
    }

    private mutating func writeUInt(_ value: UInt64, width: Int) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
