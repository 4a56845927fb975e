import Foundation
import Testing
import Yams

@testable import smegd

/// `FlatYAML` against Yams, the YAML library smegd used before: on generated files mixing what
/// the configuration uses with what it refuses, whatever FlatYAML accepts Yams reads as the same
/// keys, values and lines, and what it refuses is named with its line. That is the promise of
/// the reader: a file is never read differently from what a YAML library reads.
@Suite struct FlatYAMLTests {
    @Test(arguments: 0..<400)
    func acceptedFilesReadAsYAMLReadsThem(seed: Int) throws {
        var rng = Mix(seed: UInt64(seed))
        let text = Document.random(using: &rng, hostile: seed % 2 == 1)
        let reference = Self.yams(text)
        do {
            let entries = try FlatYAML.parse(text)
            #expect(reference == entries.map { [$0.key, $0.value, "\($0.line)"] }, "\(text.debugDescription)")
        } catch {
            let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
            #expect(error.line >= 1 && error.line <= lines.count)
        }
    }

    /// Plain configuration files, the kind smegd's own files and documentation show, are all read.
    @Test(arguments: 0..<200)
    func supportedFilesAreAccepted(seed: Int) throws {
        var rng = Mix(seed: UInt64(seed) &+ 10_000)
        let text = Document.random(using: &rng, hostile: false)
        let entries = try FlatYAML.parse(text)
        #expect(Self.yams(text) == entries.map { [$0.key, $0.value, "\($0.line)"] }, "\(text.debugDescription)")
    }

    @Test(arguments: [
        ("a:\n  b: 1\n", 2), ("- a\n", 1), ("a: [1]\n", 1), ("a: {b: 1}\n", 1), ("a: &x 1\n", 1),
        ("a: *x\n", 1), ("a: !!str 1\n", 1), ("a: |\n  text\n", 1), ("a: >\n", 1), ("a: \"open\n", 1),
        ("a: 'open\n", 1), ("a: b: c\n", 1), ("a: 1\n---\nb: 2\n", 2), ("%YAML 1.2\n---\na: 1\n", 1),
        ("a: 1\n...\n", 2), ("a: \"\\q\"\n", 1), ("a: \"x\" y\n", 1), ("a: 1\n  continued\n", 2),
        ("just text\n", 1), ("\"a\": 1\n", 1), ("a: @x\n", 1),
    ])
    func unsupportedYAMLIsRefusedWithItsLine(text: String, line: Int) {
        #expect(throws: FlatYAML.SyntaxError.self) { try FlatYAML.parse(text) }
        do {
            _ = try FlatYAML.parse(text)
        } catch {
            #expect(error.line == line, "\(text.debugDescription): \(error)")
        }
    }

    @Test func valuesKeepWhatQuotesAndEscapesSay() throws {
        let text = """
            \u{FEFF}---
            a: "tab\\there \\"quoted\\" \\u00e9 \\x41 # not a comment"   # a comment
            b: 'it''s: #1'
            c: 127.0.0.1:9469 # comment
            d:
            e: a#b
            """
        let entries = try FlatYAML.parse(text.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(
            entries.map(\.value) == [
                "tab\there \"quoted\" é A # not a comment", "it's: #1", "127.0.0.1:9469", "", "a#b",
            ])
        #expect(entries.map(\.line) == [2, 3, 4, 5, 6])
    }

    /// Yams' reading as [key, value, line] triples, or nil when Yams refuses the file or reads
    /// anything but a flat mapping of scalars.
    static func yams(_ text: String) -> [[String]]? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            return nil
        }
        guard let root else { return [] }  // no document: nothing set
        if case .scalar(let scalar) = root, scalar.string.isEmpty, scalar.style == .plain { return [] }  // "---" alone
        guard case .mapping(let mapping) = root else { return nil }
        var out: [[String]] = []
        for (key, value) in mapping {
            guard case .scalar(let k) = key, case .scalar(let v) = value, let line = key.mark?.line else { return nil }
            out.append([k.string, v.string, "\(line)"])
        }
        return out
    }
}

/// Random configuration-like files: entries with plain, quoted and escaped values, comments and
/// blank lines, and (when hostile) the YAML constructs the reader refuses.
private enum Document {
    static func random(using rng: inout Mix, hostile: Bool) -> String {
        var lines: [String] = []
        if rng.chance(0.2) { lines.append(rng.chance(0.5) ? "---" : "--- # start") }
        var keys: Set<String> = []
        for _ in 0..<rng.below(12) {
            switch rng.below(10) {
            case 0: lines.append("")
            case 1: lines.append(rng.pick(["# comment", "#", "   # indented comment", "  ", "# key: value"]))
            case 2 where hostile: lines.append(rng.pick(hostileLines))
            default:
                var key = word(using: &rng)
                while !keys.insert(key).inserted { key += "x" }
                lines.append(key + ":" + rng.pick([" ", "  ", " "]) + value(using: &rng, hostile: hostile))
            }
        }
        let newline = rng.chance(0.15) ? "\r\n" : "\n"
        return lines.joined(separator: newline) + (rng.chance(0.7) ? newline : "")
    }

    static let hostileLines = [
        "- item", "  nested: 1", "a: [1, 2]", "b: {c: d}", "c: &anchor v", "d: *anchor", "e: !!str 5", "f: |",
        "g: >-", "h: \"unterminated", "i: 'unterminated", "j: k: l", "---", "...", "%YAML 1.2", "\tk: v",
        "k:\tv", "l: v\t# c", "m: \"a\" b", "? complex", ": value", "n: `x`", "o: @x", "p: - q", "r: #", "s:#t",
        "t : u", "\"v\": w", "x: 'a' # c", "y: \"\\u12\"", "z: \"\\U0001F600\"", "aa: -1", "ab: -x", "ac: ?x",
        "ad: :x", "ae: a : b", "af: a :b", "ag: ~", "ah: null", "ai: 0x1F",
    ]

    static func word(using rng: inout Mix) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let tail = Array("abcdefghijklmnopqrstuvwxyz0123456789_")
        var text = String(letters[rng.below(letters.count)])
        for _ in 0..<rng.below(10) { text.append(tail[rng.below(tail.count)]) }
        return text
    }

    static func value(using rng: inout Mix, hostile: Bool) -> String {
        switch rng.below(hostile ? 8 : 6) {
        case 0: return ""
        case 1:
            return plain(using: &rng)
        case 2:
            return plain(using: &rng) + rng.pick([" # comment", "  #", "\t# tab comment"])
        case 3:
            let pieces = ["a", "#", ": ", "\\n", "\\t", "\\\\", "\\\"", "\\x41", "\\u00e9", "é", " ", "'", "/"]
            var inner = ""
            for _ in 0..<rng.below(6) { inner += rng.pick(pieces) }
            return "\"" + inner + "\"" + rng.pick(["", " # c", "  "])
        case 4:
            let pieces = ["a", "''", "#", ": ", "\"", "\\", " ", "é"]
            var inner = ""
            for _ in 0..<rng.below(6) { inner += rng.pick(pieces) }
            return "'" + inner + "'" + rng.pick(["", " # c"])
        case 5:
            return rng.pick(["~", "null", "yes", "off", "1e3", "0x1F", "-1", "250ms", "/var/lib/smeg", "::1", "a:b"])
        default:
            return rng.pick(hostileLines).split(separator: " ", maxSplits: 1).last.map(String.init) ?? ""
        }
    }

    static func plain(using rng: inout Mix) -> String {
        let first = Array("abcdefghijklmnopqrstuvwxyz0123456789/.")
        let rest = Array("abcdefghijklmnopqrstuvwxyz0123456789/._-:#=+@%")
        var text = String(first[rng.below(first.count)])
        for _ in 0..<rng.below(14) {
            // A space never follows ':' (a second key) nor precedes '#' (a comment) in a value.
            if rng.chance(0.1), text.last != ":" { text.append(" ") }
            let next = rest[rng.below(rest.count)]
            if next == "#", text.last == " " { continue }
            text.append(next)
        }
        while text.last == " " || text.last == ":" { text.removeLast() }
        return text.isEmpty ? "x" : text
    }
}

/// SplitMix64: the same files for the same seed, on every machine.
private struct Mix {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
