import GossipCRDT

/// The text operators write and `smegctl acl` prints (docs/acl.md):
///
/// ```
/// # laptops reach the servers' ssh and web ports, and ping them; not each other
/// allow tag:laptop -> tag:server tcp/22,443 icmp
/// allow * -> tag:dns udp/53
/// allow web1 -> db1 tcp/5432
/// ```
///
/// One rule per line, `#` starts a comment. A side is `*`, `tag:NAME` or a member (alias,
/// short id, key or a unique start of one). After the destination come protocols: `tcp`,
/// `udp` or `icmp`, the first two optionally with ports (`tcp/22,443,8000-8100`); none means
/// every protocol on every port.
///
/// Parsing is in two steps because only the second needs the mesh: `parse` checks the
/// syntax and the limits anywhere (smegctl does it before sending, so a typo is a usage error
/// with its line and column), and `AccessPolicyDraft.resolve` turns member names into keys on
/// the owner's node, which knows the members.
public enum AccessPolicyText {
    /// Larger files are refused before they are read: 256 rules naming two keys each, with
    /// comments, fit.
    public static let maxBytes = AccessPolicyRequest.maxTextBytes
    /// At most this many errors are reported, one per line.
    static let maxErrors = 20

    public static func parse(_ text: String) throws(AccessPolicyTextErrors) -> AccessPolicyDraft {
        let size = text.utf8.count
        guard size <= maxBytes else {
            throw AccessPolicyTextErrors(
                line: 1, column: 1, "the file is \(size) bytes, more than the \(maxBytes) allowed")
        }
        var rules: [AccessPolicyDraft.Rule] = []
        var errors: [AccessPolicyTextError] = []
        var encoded = AccessPolicyCodec.headerSize
        // "\r\n" is one Character, so lines end at any newline, not only "\n".
        for (offset, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = offset + 1
            let content = raw.prefix { $0 != "#" }
            let tokens = tokenize(Array(content))
            guard !tokens.isEmpty else { continue }
            do throws(AccessPolicyTextError) {
                let rule = try parseRule(tokens, line: line, end: content.count + 1)
                guard rules.count < AccessPolicy.maxRules else {
                    throw AccessPolicyTextError(
                        line: line, column: 1,
                        "this is rule \(rules.count + 1); a policy has at most \(AccessPolicy.maxRules)")
                }
                encoded += rule.encodedSize
                guard encoded <= AccessPolicy.maxEncodedBytes else {
                    throw AccessPolicyTextError(
                        line: line, column: 1,
                        "the rules up to here encode to \(encoded) bytes, more than the \(AccessPolicy.maxEncodedBytes) "
                            + "a policy may take; name groups with tags instead of members one by one")
                }
                rules.append(rule)
            } catch {
                errors.append(error)
                if errors.count == maxErrors { break }
            }
        }
        guard errors.isEmpty else { throw AccessPolicyTextErrors(errors) }
        guard !rules.isEmpty else {
            throw AccessPolicyTextErrors(
                line: 1, column: 1,
                "the file holds no rule, and a policy without rules would deny every flow; "
                    + "write `allow * -> *` to let everyone reach everyone")
        }
        return AccessPolicyDraft(rules: rules)
    }

    struct Token {
        var text: String
        /// 1-based, in characters.
        var column: Int
        var isArrow: Bool { text == "->" }
    }

    /// Words apart by blanks; `->` is a word of its own even without blanks around it.
    static func tokenize(_ characters: [Character]) -> [Token] {
        var tokens: [Token] = []
        var index = 0
        func arrow(at i: Int) -> Bool { characters[i] == "-" && i + 1 < characters.count && characters[i + 1] == ">" }
        while index < characters.count {
            if characters[index] == " " || characters[index] == "\t" || characters[index] == "\r" {
                index += 1
            } else if arrow(at: index) {
                tokens.append(Token(text: "->", column: index + 1))
                index += 2
            } else {
                let start = index
                while index < characters.count, !" \t\r".contains(characters[index]), !arrow(at: index) { index += 1 }
                tokens.append(Token(text: String(characters[start..<index]), column: start + 1))
            }
        }
        return tokens
    }

    private static func parseRule(
        _ tokens: [Token], line: Int, end: Int
    ) throws(AccessPolicyTextError) -> AccessPolicyDraft.Rule {
        func token(_ index: Int) -> Token? { index < tokens.count ? tokens[index] : nil }
        func found(_ token: Token?) -> String { token.map { "'\($0.text)'" } ?? "the end of the line" }
        func fail(_ token: Token?, _ message: String) -> AccessPolicyTextError {
            AccessPolicyTextError(line: line, column: token?.column ?? end, message)
        }
        guard tokens[0].text == "allow" else {
            throw fail(tokens[0], "expected 'allow' at the start of a rule, found \(found(tokens[0]))")
        }
        let from = try side(token(1), "a source", line: line, end: end)
        guard let arrow = token(2), arrow.isArrow else {
            throw fail(token(2), "expected '->' after the source, found \(found(token(2)))")
        }
        let to = try side(token(3), "a destination after '->'", line: line, end: end)
        var traffic = AccessTraffic.nothing
        for item in tokens.dropFirst(4) {
            traffic = traffic.union(try protocolTraffic(item, line: line))
        }
        if tokens.count <= 4 { traffic = .everything }
        guard traffic.portRangeCount <= AccessPolicy.maxPortRangesPerRule else {
            throw fail(
                tokens[4],
                "this rule names \(traffic.portRangeCount) port ranges; a rule may have at most "
                    + "\(AccessPolicy.maxPortRangesPerRule) (write neighbouring ports as a range, 8000-8100)")
        }
        return AccessPolicyDraft.Rule(line: line, from: from, to: to, traffic: traffic)
    }

    private static let memberCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=._-")

    private static func side(
        _ token: Token?, _ what: String, line: Int, end: Int
    ) throws(AccessPolicyTextError) -> AccessPolicyDraft.Side {
        let expected = "expected \(what) ('*', 'tag:NAME' or a member: alias, short id or key)"
        guard let token, !token.isArrow else {
            throw AccessPolicyTextError(
                line: line, column: token?.column ?? end,
                "\(expected), found \(token.map { "'\($0.text)'" } ?? "the end of the line")")
        }
        if token.text == "*" { return .selector(.anyMember) }
        if token.text.hasPrefix("tag:") {
            let name = String(token.text.dropFirst(4))
            guard let tag = AccessTag(name) else {
                throw AccessPolicyTextError(
                    line: line, column: token.column + 4,
                    "'\(name)' is not a tag: 1 to \(AccessTag.maxLength) of a-z, 0-9 and '-', not starting with '-'")
            }
            return .selector(.tag(tag))
        }
        guard token.text.allSatisfy(memberCharacters.contains) else {
            throw AccessPolicyTextError(line: line, column: token.column, "\(expected), found '\(token.text)'")
        }
        return .member(token.text, column: token.column)
    }

    /// `tcp`, `udp`, `icmp`, `tcp/22,443`, `udp/5000-5100`.
    private static func protocolTraffic(_ token: Token, line: Int) throws(AccessPolicyTextError) -> AccessTraffic {
        let parts = token.text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let proto = AccessProtocol(name: String(parts[0])) else {
            throw AccessPolicyTextError(
                line: line, column: token.column,
                "expected a protocol (tcp, udp or icmp; ports as tcp/22,443 or udp/53), found '\(token.text)'")
        }
        guard parts.count == 2 else {
            return proto == .icmp
                ? AccessTraffic(icmp: true) : proto == .tcp ? AccessTraffic(tcp: .all) : AccessTraffic(udp: .all)
        }
        let slash = token.column + parts[0].count
        guard proto.hasPorts else {
            throw AccessPolicyTextError(line: line, column: slash, "icmp has no ports; write 'icmp' alone")
        }
        var ranges: [ClosedRange<UInt16>] = []
        var column = slash + 1
        for (index, item) in parts[1].split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            ranges.append(try portRange(String(item), after: index == 0 ? "'/'" : "','", line: line, column: column))
            column += item.count + 1
        }
        let ports = PortSet(ranges)
        return proto == .tcp ? AccessTraffic(tcp: ports) : AccessTraffic(udp: ports)
    }

    private static func portRange(
        _ text: String, after: String, line: Int, column: Int
    ) throws(AccessPolicyTextError) -> ClosedRange<UInt16> {
        guard !text.isEmpty else {
            throw AccessPolicyTextError(line: line, column: column, "expected a port after \(after)")
        }
        let bounds = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        var values: [UInt16] = []
        var at = column
        for bound in bounds {
            // At most five digits, so the number cannot overflow before it is checked.
            guard (1...5).contains(bound.count), bound.allSatisfy(\.isASCII), bound.allSatisfy(\.isNumber),
                let value = Int(bound), (1...65535).contains(value)
            else {
                throw AccessPolicyTextError(line: line, column: at, "expected a port from 1 to 65535, found '\(bound)'")
            }
            values.append(UInt16(value))
            at += bound.count + 1
        }
        let first = values[0]
        let last = values.count == 2 ? values[1] : first
        guard first <= last else {
            throw AccessPolicyTextError(
                line: line, column: column, "the port range \(text) is backwards; write \(last)-\(first)")
        }
        return first...last
    }
}

/// A parsed policy whose members are still names: what `resolve` turns into an `AccessPolicy`.
public struct AccessPolicyDraft: Equatable, Sendable {
    public enum Side: Equatable, Sendable {
        case selector(AccessSelector)
        /// An alias, short id, key or start of a key, at this column of the rule's line.
        case member(String, column: Int)
    }

    public struct Rule: Equatable, Sendable {
        public let line: Int
        public let from: Side
        public let to: Side
        public let traffic: AccessTraffic

        /// What the rule encodes to once resolved (a member is a key, whatever its name's length).
        var encodedSize: Int {
            func placeholder(_ side: Side) -> AccessSelector {
                if case .selector(let selector) = side { return selector }
                return .member(NodeID(0, 0, 0, 0))
            }
            let rule = AccessRule(from: placeholder(from), to: placeholder(to), traffic: traffic)
            return rule.map(AccessPolicyCodec.size) ?? 0
        }
    }

    public let rules: [Rule]

    /// The policy, with each member name resolved by `member`; a name it refuses is reported
    /// at its line and column with the refusal's words.
    public func resolve(_ member: (String) throws -> NodeID) throws(AccessPolicyTextErrors) -> AccessPolicy {
        var resolved: [AccessRule] = []
        var errors: [AccessPolicyTextError] = []
        for rule in rules {
            func selector(_ side: Side) -> AccessSelector? {
                switch side {
                case .selector(let selector): return selector
                case .member(let name, let column):
                    do {
                        return .member(try member(name))
                    } catch {
                        errors.append(AccessPolicyTextError(line: rule.line, column: column, "\(error)"))
                        return nil
                    }
                }
            }
            let from = selector(rule.from)
            let to = selector(rule.to)
            if let from, let to, let made = AccessRule(from: from, to: to, traffic: rule.traffic) {
                resolved.append(made)
            }
        }
        guard errors.isEmpty else { throw AccessPolicyTextErrors(Array(errors.prefix(AccessPolicyText.maxErrors))) }
        do {
            return try AccessPolicy(rules: resolved)
        } catch {
            throw AccessPolicyTextErrors(line: rules.last?.line ?? 1, column: 1, "\(error)")
        }
    }
}

/// One thing wrong with a policy file, where it is and what was expected.
public struct AccessPolicyTextError: Error, Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let message: String

    public init(line: Int, column: Int, _ message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}

/// Everything wrong with a policy file: the first error of each line, in order.
public struct AccessPolicyTextErrors: Error, Hashable, Sendable, CustomStringConvertible {
    public let errors: [AccessPolicyTextError]

    public init(_ errors: [AccessPolicyTextError]) { self.errors = errors }

    init(line: Int, column: Int, _ message: String) {
        self.init([AccessPolicyTextError(line: line, column: column, message)])
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
