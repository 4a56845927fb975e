extension DNSMessage {
    /// The message on the wire, at most `limit` bytes (once the header and questions fit).
    ///
    /// Answer and authority records that would pass the limit are left out and TC is set, so
    /// the client knows the answer is incomplete (RFC 2181 §9). Space for the additional
    /// records (the OPT record) is kept first: EDNS must survive truncation. Names are
    /// compressed against earlier names (RFC 1035 §4.1.4) spelled with the same bytes, case
    /// included, so every name decodes exactly as it was given.
    public func encoded(limit: Int = 65_535) -> [UInt8] {
        var writer = DNSWriter()
        var header = header
        writer.header(header, counts: [questions.count, 0, 0, 0])
        for question in questions {
            writer.name(question.name)
            writer.u16(question.type)
            writer.u16(question.recordClass)
        }
        let reserved = additionals.reduce(0) { $0 + $1.uncompressedSize }
        var counts = [questions.count, 0, 0, 0]
        sections: for (index, section) in [answers, authorities].enumerated() {
            for record in section {
                guard writer.append(record, limit: limit - reserved) else {
                    header.isTruncated = true
                    break sections
                }
                counts[index + 1] += 1
            }
        }
        for record in additionals where writer.append(record, limit: limit) {
            counts[3] += 1
        }
        writer.header(header, counts: counts)
        return writer.bytes
    }
}

extension DNSRecord {
    /// Bytes this record takes with no name compressed: an upper bound of its encoded size.
    var uncompressedSize: Int {
        let dataSize: Int
        switch data {
        case .aaaa: dataSize = 16
        case .a: dataSize = 4
        case .soa(let soa): dataSize = soa.primary.wireLength + soa.mailbox.wireLength + 20
        case .opaque(let bytes): dataSize = bytes.count
        }
        return name.wireLength + 10 + dataSize
    }
}

/// Appends fields and names, remembering where each name suffix was written for compression.
struct DNSWriter {
    private(set) var bytes: [UInt8] = []
    /// Name suffix → offset of its first label. Pointers hold 14 bits, so only suffixes
    /// written in the first 16 KiB can be pointed at.
    private var suffixes: [DomainName: Int] = [:]

    init() {
        bytes.reserveCapacity(512)
    }

    /// Writes (or overwrites) the 12-byte header with the given section counts.
    mutating func header(_ header: DNSHeader, counts: [Int]) {
        var fields = [header.id, header.flags]
        fields += counts.map { UInt16(clamping: $0) }
        let encoded = fields.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        if bytes.count >= DNSMessage.headerSize {
            bytes.replaceSubrange(0..<DNSMessage.headerSize, with: encoded)
        } else {
            bytes = encoded
        }
    }

    mutating func u16(_ value: UInt16) {
        bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
    }

    mutating func u32(_ value: UInt32) {
        u16(UInt16(value >> 16))
        u16(UInt16(value & 0xFFFF))
    }

    mutating func name(_ name: DomainName) {
        for index in name.labels.indices {
            let suffix = DomainName(checked: Array(name.labels[index...]))
            if let offset = suffixes[suffix] {
                u16(0xC000 | UInt16(offset))
                return
            }
            if bytes.count < 0x4000 { suffixes[suffix] = bytes.count }
            bytes.append(UInt8(name.labels[index].count))
            bytes += name.labels[index]
        }
        bytes.append(0)
    }

    /// Appends a record unless the message would then pass `limit`; then writes nothing.
    mutating func append(_ record: DNSRecord, limit: Int) -> Bool {
        let mark = bytes.count
        let known = suffixes
        name(record.name)
        u16(record.type)
        u16(record.recordClass)
        u32(record.ttl)
        let lengthAt = bytes.count
        u16(0)
        switch record.data {
        case .aaaa(let address):
            bytes += address.bytes
        case .a(let address):
            bytes += address.bytes
        case .soa(let soa):
            name(soa.primary)
            name(soa.mailbox)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { u32(value) }
        case .opaque(let data):
            bytes += data
        }
        let length = bytes.count - lengthAt - 2
        guard bytes.count <= limit, length <= Int(UInt16.max) else {
            bytes.removeSubrange(mark...)
            suffixes = known
            return false
        }
        bytes[lengthAt] = UInt8(length >> 8)
        bytes[lengthAt + 1] = UInt8(length & 0xFF)
        return true
    }
}
