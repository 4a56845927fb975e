/// A DNS message (RFC 1035 §4.1) with the parts a responder reads and writes.
///
/// Section counts are not stored: they are the lengths of the arrays, so a message built in
/// code cannot claim more records than it holds. Record data is typed for AAAA, A and SOA (what
/// this responder answers with) and kept as bytes for every other type, OPT included.
public struct DNSMessage: Equatable, Sendable {
    public var header: DNSHeader
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]
    public var authorities: [DNSRecord]
    public var additionals: [DNSRecord]

    public init(
        header: DNSHeader, questions: [DNSQuestion] = [], answers: [DNSRecord] = [], authorities: [DNSRecord] = [],
        additionals: [DNSRecord] = []
    ) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    /// Header (12 bytes) before the first section.
    public static let headerSize = 12
}

/// The fixed 12-byte header without its four counts.
public struct DNSHeader: Equatable, Sendable {
    public var id: UInt16
    public var isResponse = false
    /// 4 bits; 0 is a standard QUERY.
    public var opcode: UInt8 = 0
    public var isAuthoritative = false
    public var isTruncated = false
    public var recursionDesired = false
    public var recursionAvailable = false
    /// The reserved bit; must be zero in what we send.
    public var zero = false
    public var authenticData = false
    public var checkingDisabled = false
    /// The low 4 bits of the response code; EDNS carries the upper 8 in the OPT record.
    public var rcode: UInt8 = 0

    public init(id: UInt16) {
        self.id = id
    }

    /// Reads the first 12 bytes; nil when there are fewer.
    public init?(prefixOf bytes: [UInt8]) {
        guard bytes.count >= DNSMessage.headerSize else { return nil }
        self.init(id: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), flags: UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
    }

    init(id: UInt16, flags: UInt16) {
        self.id = id
        isResponse = flags & 0x8000 != 0
        opcode = UInt8(flags >> 11 & 0xF)
        isAuthoritative = flags & 0x0400 != 0
        isTruncated = flags & 0x0200 != 0
        recursionDesired = flags & 0x0100 != 0
        recursionAvailable = flags & 0x0080 != 0
        zero = flags & 0x0040 != 0
        authenticData = flags & 0x0020 != 0
        checkingDisabled = flags & 0x0010 != 0
        rcode = UInt8(flags & 0xF)
    }

    var flags: UInt16 {
        var flags = UInt16(opcode & 0xF) << 11 | UInt16(rcode & 0xF)
        for (bit, isSet) in [
            (0x8000, isResponse), (0x0400, isAuthoritative), (0x0200, isTruncated), (0x0100, recursionDesired),
            (0x0080, recursionAvailable), (0x0040, zero), (0x0020, authenticData), (0x0010, checkingDisabled),
        ] where isSet {
            flags |= UInt16(bit)
        }
        return flags
    }
}

public struct DNSQuestion: Equatable, Sendable {
    public var name: DomainName
    public var type: UInt16
    public var recordClass: UInt16

    public init(name: DomainName, type: UInt16, recordClass: UInt16 = DNSClass.internet) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }
}

public struct DNSRecord: Equatable, Sendable {
    public var name: DomainName
    public var type: UInt16
    /// For OPT, the requester's UDP payload size (RFC 6891 §6.1.2).
    public var recordClass: UInt16
    /// For OPT: extended rcode (8 bits), version (8), flags (16).
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DomainName, type: UInt16, recordClass: UInt16, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }
}

public enum DNSRecordData: Equatable, Sendable {
    case aaaa(IPv6Address)
    case a(IPv4Address)
    case soa(DNSStartOfAuthority)
    /// Any other type, as sent. Names inside it stay compressed, so it is only echoed or skipped.
    case opaque([UInt8])
}

/// SOA data (RFC 1035 §3.3.13). `minimum` is the negative-caching TTL (RFC 2308 §4).
public struct DNSStartOfAuthority: Equatable, Sendable {
    public var primary: DomainName
    public var mailbox: DomainName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(
        primary: DomainName, mailbox: DomainName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32,
        minimum: UInt32
    ) {
        self.primary = primary
        self.mailbox = mailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

/// Record types this code names. Values from the IANA DNS parameters registry.
public enum DNSType {
    public static let a: UInt16 = 1
    public static let soa: UInt16 = 6
    public static let mx: UInt16 = 15
    public static let aaaa: UInt16 = 28
    public static let opt: UInt16 = 41
    public static let ixfr: UInt16 = 251
    public static let axfr: UInt16 = 252
    /// The `*` query type ("ANY").
    public static let any: UInt16 = 255
}

public enum DNSClass {
    public static let internet: UInt16 = 1
    /// The `*` query class.
    public static let any: UInt16 = 255
}

/// Response codes this responder sends. `badVersion` does not fit the header's 4 bits: its
/// upper bits travel in the OPT record (RFC 6891 §6.1.3).
public enum DNSResponseCode: UInt16, Sendable, CaseIterable {
    case noError = 0
    case formatError = 1
    case serverFailure = 2
    case nameError = 3
    case notImplemented = 4
    case refused = 5
    case badVersion = 16

    /// The mnemonic dig prints, used as the metrics label.
    public var name: String {
        switch self {
        case .noError: return "NOERROR"
        case .formatError: return "FORMERR"
        case .serverFailure: return "SERVFAIL"
        case .nameError: return "NXDOMAIN"
        case .notImplemented: return "NOTIMP"
        case .refused: return "REFUSED"
        case .badVersion: return "BADVERS"
        }
    }
}
