import Glibc
import Testing

@testable import MeshCore

/// Compares the pure-Swift parsers and formatter with glibc's `inet_pton` / `inet_ntop` on many
/// generated inputs: an independent implementation catches what hand-picked examples miss.
@Suite struct IPAddressDifferentialTests {
    /// Deterministic, so a failure reproduces.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func glibcParses6(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    func glibcParses4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    func glibcFormat6(_ bytes: [UInt8]) -> String {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test func formattingMatchesGlibc() {
        var rng = SplitMix(state: 1)
        for _ in 0..<20_000 {
            // Mostly-zero groups exercise the "::" placement rules.
            let groups = (0..<8).map { _ in rng.next() % 3 == 0 ? UInt64(rng.next() & 0xFFFF) : 0 }
            let high = groups[0..<4].reduce(0) { $0 << 16 | $1 }
            let low = groups[4..<8].reduce(0) { $0 << 16 | $1 }
            let address = IPv6Address(high: high, low: low)
            // glibc prints the deprecated IPv4-compatible range ::/96 in dotted form; RFC 5952 does not.
            if high == 0 && low >> 32 == 0 { continue }
            #expect(address.description == glibcFormat6(address.bytes), "\(groups)")
            #expect(IPv6Address(address.description) == address)
        }
    }

    @Test func parsingAgreesWithGlibc() {
        var rng = SplitMix(state: 2)
        let alphabet = Array("0123456789abcdefABCDEF:.::::".utf8)
        var valid = 0
        for _ in 0..<50_000 {
            let length = Int(rng.next() % 24) + 1
            let text = String(
                decoding: (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }, as: UTF8.self)
            let ours = IPv6Address(text)?.bytes
            if ours != nil { valid += 1 }
            #expect(ours == glibcParses6(text), "\(text)")
            #expect((IPv4Address(text) != nil) == glibcParses4(text), "\(text)")
        }
        // The generator must produce enough valid addresses for the comparison to mean something.
        #expect(valid > 500, "only \(valid) valid inputs")
    }

    @Test func dottedQuadsAgreeWithGlibc() {
        var rng = SplitMix(state: 3)
        let alphabet = Array("0123456789.".utf8)
        for _ in 0..<50_000 {
            let length = Int(rng.next() % 16) + 1
            let text = String(
                decoding: (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }, as: UTF8.self)
            #expect((IPv4Address(text) != nil) == glibcParses4(text), "\(text)")
            #expect(IPv6Address("::ffff:" + text)?.bytes == glibcParses6("::ffff:" + text), "\(text)")
        }
    }
}
