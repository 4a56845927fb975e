/// Answers one DNS query from a zone snapshot: bytes in, bytes out, no I/O and no state, so
/// every rule is a unit test and the fuzzer can run it on anything.
///
/// Rules, in order:
/// - fewer than 12 bytes (no header), or the QR bit set (a response): no reply. Answering a
///   response could start an endless exchange with another server that answers errors too.
/// - opcode other than QUERY: NOTIMP. Undecodable message, other than exactly one question,
///   several OPT records or one not at the root, or more than 512 bytes without EDNS (1232
///   with it): FORMERR. These replies carry the header only.
/// - EDNS version other than 0: BADVERS (RFC 6891 §6.1.3).
/// - class other than IN or ANY, a zone transfer, or a name outside the zone: REFUSED.
/// - a name in the zone that does not exist: NXDOMAIN, with the SOA for negative caching.
/// - an existing name: its IPv6 address for AAAA, its IPv4 address for A, both for ANY, the SOA
///   for SOA and ANY at the origin, else NODATA (NOERROR, no answer, the SOA): so also A at a
///   member without an IPv4 address, and any address type at a mesh apex.
/// Replies from the zone are authoritative (AA); the question is echoed as sent.
public struct DNSResponder: Sendable {
    /// TTL of every record sent, and the negative-caching TTL. Short because membership moves:
    /// a member that dies is pruned after three heartbeats (3 s by default) and a new member
    /// should resolve as soon as it has joined, so resolvers may keep an answer for only a few
    /// seconds; 10 s still spares the responder a resolver's repeat queries in a burst.
    public static let ttl: UInt32 = 10
    /// The largest reply without EDNS (RFC 1035 §4.2.1); larger queries are malformed too.
    public static let plainLimit = 512
    /// The largest reply with EDNS whatever the client offers: 1232 bytes fit the IPv6 minimum
    /// MTU without fragmentation (the DNS flag day 2020 value). Also the largest query read.
    public static let ednsLimit = 1232

    public struct Reply: Equatable, Sendable {
        public var bytes: [UInt8]
        public var rcode: DNSResponseCode
    }

    public let zone: DNSZone

    public init(zone: DNSZone) {
        self.zone = zone
    }

    public func respond(to query: [UInt8]) -> Reply? {
        guard let header = DNSHeader(prefixOf: query), !header.isResponse else { return nil }
        var reply = DNSMessage(header: DNSHeader(id: header.id))
        reply.header.isResponse = true
        reply.header.opcode = header.opcode
        reply.header.recursionDesired = header.recursionDesired
        reply.header.checkingDisabled = header.checkingDisabled
        guard header.opcode == 0 else { return Self.finish(reply, .notImplemented) }
        guard query.count <= Self.ednsLimit, let message = try? DNSMessage(decoding: query),
            message.questions.count == 1
        else { return Self.finish(reply, .formatError) }
        let options = message.additionals.filter { $0.type == DNSType.opt }
        guard options.count <= 1, options.first.map({ $0.name == .root }) ?? true,
            !options.isEmpty || query.count <= Self.plainLimit
        else { return Self.finish(reply, .formatError) }
        let question = message.questions[0]
        reply.questions = [question]
        var limit = Self.plainLimit
        if let option = options.first {
            limit = min(max(Int(option.recordClass), Self.plainLimit), Self.ednsLimit)
            // Echo only the DO bit (RFC 3225 §3); we add no options of our own.
            reply.additionals = [Self.option(dnssecOK: option.ttl & 0x8000 != 0)]
            guard option.ttl >> 16 & 0xFF == 0 else { return Self.finish(reply, .badVersion) }
        }
        let rcode = answer(question, into: &reply)
        return Self.finish(reply, rcode, limit: limit)
    }

    /// Fills in the answer to a well-formed question and says which rcode it has.
    private func answer(_ question: DNSQuestion, into reply: inout DNSMessage) -> DNSResponseCode {
        guard question.recordClass == DNSClass.internet || question.recordClass == DNSClass.any,
            question.type != DNSType.axfr, question.type != DNSType.ixfr
        else { return .refused }
        reply.header.isAuthoritative = true
        switch zone.lookup(question.name) {
        case .outside:
            reply.header.isAuthoritative = false
            return .refused
        case .nonexistent:
            reply.authorities = [startOfAuthority]
            return .nameError
        case .origin where question.type == DNSType.soa || question.type == DNSType.any:
            reply.answers = [startOfAuthority]
        case .name(let address?, let ipv4):
            reply.answers = Self.addresses(of: question, ipv6: address, ipv4: ipv4)
            if reply.answers.isEmpty { reply.authorities = [startOfAuthority] }
        case .origin, .name:
            reply.authorities = [startOfAuthority]
        }
        return .noError
    }

    /// The address records a member name answers `question` with: AAAA, A (when the member has
    /// an IPv4 address) or both for ANY; none for any other type (NODATA).
    private static func addresses(of question: DNSQuestion, ipv6: IPv6Address, ipv4: IPv4Address?) -> [DNSRecord] {
        func record(_ type: UInt16, _ data: DNSRecordData) -> DNSRecord {
            DNSRecord(name: question.name, type: type, recordClass: DNSClass.internet, ttl: ttl, data: data)
        }
        var records: [DNSRecord] = []
        if question.type == DNSType.aaaa || question.type == DNSType.any {
            records.append(record(DNSType.aaaa, .aaaa(ipv6)))
        }
        if let ipv4, question.type == DNSType.a || question.type == DNSType.any {
            records.append(record(DNSType.a, .a(ipv4)))
        }
        return records
    }

    /// The zone's SOA. Nothing transfers this zone, so refresh, retry, expire and the serial
    /// carry no meaning; `minimum` and the TTL set how long a "no such name" may be cached.
    private var startOfAuthority: DNSRecord {
        // hostmaster.<origin>, unless the origin is too long to take one more label.
        let mailbox = DomainName(labels: [Array("hostmaster".utf8)] + zone.origin.labels) ?? zone.origin
        let soa = DNSStartOfAuthority(
            primary: zone.origin, mailbox: mailbox, serial: 1, refresh: 3600, retry: 600, expire: 86400,
            minimum: Self.ttl)
        return DNSRecord(
            name: zone.origin, type: DNSType.soa, recordClass: DNSClass.internet, ttl: Self.ttl, data: .soa(soa))
    }

    /// The OPT record of a reply: our payload size, version 0, no options (RFC 6891 §6.1.2).
    private static func option(dnssecOK: Bool) -> DNSRecord {
        DNSRecord(
            name: .root, type: DNSType.opt, recordClass: UInt16(ednsLimit), ttl: dnssecOK ? 0x8000 : 0,
            data: .opaque([]))
    }

    private static func finish(_ reply: DNSMessage, _ rcode: DNSResponseCode, limit: Int = plainLimit) -> Reply {
        var reply = reply
        reply.header.rcode = UInt8(rcode.rawValue & 0xF)
        if rcode.rawValue > 0xF, let index = reply.additionals.firstIndex(where: { $0.type == DNSType.opt }) {
            reply.additionals[index].ttl |= UInt32(rcode.rawValue >> 4) << 24
        }
        return Reply(bytes: reply.encoded(limit: limit), rcode: rcode)
    }

}
