extension DNSMessage {
    /// Compression pointers followed at most in one name. Strictly backward pointers already
    /// rule out loops; this bound also caps the work a name costs. Real encoders need one.
    public static let maximumPointersPerName = 16

    /// Decodes a whole message from untrusted bytes.
    ///
    /// Every count is checked against the bytes left (a question takes at least 5, a record
    /// at least 11) before the loop that reads it, so a header claiming 65,535 records in a
    /// 40-byte datagram fails at once. Names are bounded as `DomainName` says; pointers must
    /// point into an earlier part of the message (not into the header) and are followed at most
    /// `maximumPointersPerName` times. Bytes after the last record are an error.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = DNSReader(bytes)
        let id = try reader.bytes.readU16("id")
        let flags = try reader.bytes.readU16("flags")
        let questionCount = Int(try reader.bytes.readU16("question count"))
        let answerCount = Int(try reader.bytes.readU16("answer count"))
        let authorityCount = Int(try reader.bytes.readU16("authority count"))
        let additionalCount = Int(try reader.bytes.readU16("additional count"))
        self.init(header: DNSHeader(id: id, flags: flags))
        try reader.requireRoom(for: questionCount, of: 5, "questions")
        for _ in 0..<questionCount {
            let name = try reader.name("question name")
            let type = try reader.bytes.readU16("question type")
            questions.append(
                DNSQuestion(name: name, type: type, recordClass: try reader.bytes.readU16("question class")))
        }
        answers = try reader.records(answerCount, "answers")
        authorities = try reader.records(authorityCount, "authority records")
        additionals = try reader.records(additionalCount, "additional records")
        try reader.bytes.finish()
    }
}

/// A `ByteReader` over a whole message plus the random access that compression pointers need.
struct DNSReader {
    let message: [UInt8]
    var bytes: ByteReader

    init(_ message: [UInt8]) {
        self.message = message
        self.bytes = ByteReader(message)
    }

    /// Where `bytes` stands in the message.
    var offset: Int { message.count - bytes.remaining }

    mutating func requireRoom(for count: Int, of minimumSize: Int, _ field: String) throws(WireError) {
        guard count * minimumSize <= bytes.remaining else { throw .truncated(field: field) }
    }

    mutating func records(_ count: Int, _ field: String) throws(WireError) -> [DNSRecord] {
        try requireRoom(for: count, of: 11, field)
        var records: [DNSRecord] = []
        for _ in 0..<count { records.append(try record()) }
        return records
    }

    mutating func record() throws(WireError) -> DNSRecord {
        let name = try self.name("record name")
        let type = try bytes.readU16("record type")
        let recordClass = try bytes.readU16("record class")
        let ttl = try bytes.readU32("record ttl")
        let length = Int(try bytes.readU16("record data length"))
        guard length <= bytes.remaining else { throw .truncated(field: "record data") }
        let end = offset + length
        let data: DNSRecordData
        switch type {
        case DNSType.aaaa:
            guard length == 16 else { throw .invalid(field: "AAAA data", reason: "\(length) bytes, not 16") }
            data = .aaaa(IPv6Address(bytes: try bytes.readSlice(16, "AAAA data"))!)
        case DNSType.a:
            guard length == 4 else { throw .invalid(field: "A data", reason: "\(length) bytes, not 4") }
            data = .a(IPv4Address(bytes: try bytes.readSlice(4, "A data"))!)
        case DNSType.soa:
            data = .soa(try startOfAuthority())
            guard offset == end else { throw .invalid(field: "SOA data", reason: "length does not match its fields") }
        default:
            data = .opaque(try bytes.readBytes(length, "record data"))
        }
        return DNSRecord(name: name, type: type, recordClass: recordClass, ttl: ttl, data: data)
    }

    private mutating func startOfAuthority() throws(WireError) -> DNSStartOfAuthority {
        let primary = try name("SOA primary")
        let mailbox = try name("SOA mailbox")
        return DNSStartOfAuthority(
            primary: primary, mailbox: mailbox, serial: try bytes.readU32("SOA serial"),
            refresh: try bytes.readU32("SOA refresh"), retry: try bytes.readU32("SOA retry"),
            expire: try bytes.readU32("SOA expire"), minimum: try bytes.readU32("SOA minimum"))
    }

    /// Reads a possibly compressed name and leaves `bytes` after it (after its first pointer).
    ///
    /// Each pointer must point before the start of the run of labels it ends, so every jump
    /// goes strictly backwards and no pointer chain can loop; the pointer budget and the
    /// 255-byte name limit bound the work whatever the input.
    mutating func name(_ field: String) throws(WireError) -> DomainName {
        var labels: [[UInt8]] = []
        var wireLength = 1
        var cursor = bytes
        var runStart = offset
        var pointers = 0
        var resume: ByteReader?
        while true {
            let length = try cursor.readU8(field)
            switch length >> 6 {
            case 0 where length == 0:
                bytes = resume ?? cursor
                return DomainName(checked: labels)
            case 0:
                wireLength += Int(length) + 1
                guard wireLength <= DomainName.maximumWireLength else {
                    throw .tooLarge(field: field, length: wireLength, limit: DomainName.maximumWireLength)
                }
                labels.append(try cursor.readBytes(Int(length), field))
            case 3:
                let target = Int(length & 0x3F) << 8 | Int(try cursor.readU8(field))
                guard target >= DNSMessage.headerSize, target < runStart else {
                    throw .invalid(field: field, reason: "compression pointer to \(target) does not point back")
                }
                pointers += 1
                guard pointers <= DNSMessage.maximumPointersPerName else {
                    throw .tooLarge(
                        field: "pointers in \(field)", length: pointers, limit: DNSMessage.maximumPointersPerName)
                }
                if resume == nil { resume = cursor }
                cursor = ByteReader(message[target...])
                runStart = target
            default:
                // 01 and 10 were extended label types (RFC 6891 §5); none is in use.
                throw .invalid(field: field, reason: "label length byte \(length) is over 63")
            }
        }
    }
}
