/// A domain name as its labels, each kept as the bytes that were sent.
///
/// Bytes rather than text: a label on the wire may hold any byte, a dot included, so joining
/// labels with dots and splitting again could turn one label into two and match a name that was
/// never asked. Matching ignores ASCII case only (RFC 4343); every other byte must be equal.
public struct DomainName: Hashable, Sendable {
    /// RFC 1035 §2.3.4: a name takes at most 255 bytes on the wire, length bytes included.
    public static let maximumWireLength = 255
    /// Two high bits of a length byte mark pointers, which leaves 6 bits: 63 bytes.
    public static let maximumLabelLength = 63
    public static let root = DomainName(checked: [])

    public let labels: [[UInt8]]

    /// Nil when a label is empty or longer than 63 bytes, or the name longer than 255 on the wire.
    public init?(labels: [[UInt8]]) {
        guard labels.allSatisfy({ !$0.isEmpty && $0.count <= Self.maximumLabelLength }),
            Self.wireLength(of: labels) <= Self.maximumWireLength
        else { return nil }
        self.labels = labels
    }

    /// Dotted text such as "alpha.lab.smeg", with or without the final dot; "." is the root.
    public init?(_ text: String) {
        var body = Substring(text)
        if body.hasSuffix(".") { body = body.dropLast() }
        if body.isEmpty {
            guard text == "." else { return nil }
            self = .root
            return
        }
        self.init(
            labels: body.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map(Array.init))
    }

    /// For labels the decoder has already bounded.
    init(checked labels: [[UInt8]]) {
        self.labels = labels
    }

    /// Bytes on the wire without compression: a length byte per label, the labels, the final 0.
    public var wireLength: Int { Self.wireLength(of: labels) }

    /// The same name with ASCII letters in lowercase: the key two names match on.
    public func lowercased() -> DomainName {
        DomainName(checked: labels.map(Self.lowercased))
    }

    /// The labels in front of `suffix` (lowercased), or nil when the name does not end in it.
    public func labels(before suffix: DomainName) -> [[UInt8]]? {
        guard labels.count >= suffix.labels.count else { return nil }
        let split = labels.count - suffix.labels.count
        for (mine, theirs) in zip(labels[split...], suffix.labels)
        where Self.lowercased(mine) != Self.lowercased(theirs) {
            return nil
        }
        return labels[..<split].map(Self.lowercased)
    }

    static func lowercased(_ label: [UInt8]) -> [UInt8] {
        label.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
    }

    private static func wireLength(of labels: [[UInt8]]) -> Int {
        labels.reduce(1) { $0 + $1.count + 1 }
    }
}

extension DomainName: CustomStringConvertible {
    /// Dotted text with a final dot, as dig prints names; bytes that are not letters, digits,
    /// '-' or '_' are written `\DDD` so a label with a dot in it stays one label.
    public var description: String {
        guard !labels.isEmpty else { return "." }
        var text = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    text.append(Character(UnicodeScalar(byte)))
                default:
                    let digits = String(byte)
                    text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            text += "."
        }
        return text
    }
}
