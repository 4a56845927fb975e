/// The part of YAML smegd's configuration file is written in: one mapping of `key: value` lines,
/// values plain, single- or double-quoted, with comments and blank lines.
///
/// A reader of its own instead of a YAML library because the library (Yams) imports Foundation
/// proper, and that alone links ICU's 34 MB into the daemon (docs/operations.md, "What each
/// binary holds"). The configuration never needed more: nested values, lists and duplicate keys
/// were errors before. Everything else YAML has (anchors, tags, block scalars, flow
/// collections, several documents, values continued on the next line) is refused with the line
/// and what to write instead, never read differently from what a YAML library would read;
/// `FlatYAMLTests` holds this reader to Yams on generated files.
enum FlatYAML {
    struct Entry: Equatable {
        var key: String
        var value: String
        /// 1-based, as editors count.
        var line: Int
    }

    struct SyntaxError: Error, Equatable, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { message }
    }

    /// The entries in file order. Duplicate keys are the caller's to judge.
    static func parse(_ text: String) throws(SyntaxError) -> [Entry] {
        var entries: [Entry] = []
        // "\r\n" is one Character in Swift, so it separates lines in its own right.
        var lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        if let first = lines.first, first.unicodeScalars.first == "\u{FEFF}" {
            lines[0] = first.dropFirst()
        }
        var sawDocumentStart = false
        for (offset, raw) in lines.enumerated() {
            let number = offset + 1
            let line = raw
            let content = line.drop { $0 == " " || $0 == "\t" }
            if content.isEmpty || content.first == "#" { continue }
            if content.count != line.count {
                // Indented: a nested value, a list item or a continued value under the last key.
                let owner = entries.last.map { "key '\($0.key)': " } ?? ""
                throw SyntaxError(
                    line: number,
                    message: "\(owner)expected a single value; indented lines (nested values, lists, values "
                        + "continued on the next line) are not supported")
            }
            if isMarker(line, "---") {
                guard entries.isEmpty, !sawDocumentStart else {
                    throw SyntaxError(line: number, message: "a second YAML document is not supported")
                }
                sawDocumentStart = true
                continue
            }
            if isMarker(line, "...") || line.first == "%" {
                throw SyntaxError(line: number, message: "YAML directives and document ends are not supported")
            }
            entries.append(try entry(line, number: number))
        }
        return entries
    }

    /// `---` or `...` alone, or followed by white space (then a comment).
    private static func isMarker(_ line: Substring, _ marker: String) -> Bool {
        guard line.hasPrefix(marker) else { return false }
        let rest = line.dropFirst(marker.count)
        return rest.isEmpty || rest.first == " " || rest.first == "\t"
    }

    private static func entry(_ line: Substring, number: Int) throws(SyntaxError) -> Entry {
        if line.first == "-" && (line.count == 1 || line.dropFirst().first == " " || line.dropFirst().first == "\t") {
            throw SyntaxError(line: number, message: "expected a mapping of key: value lines at the top level")
        }
        guard let colon = separator(in: line) else {
            throw SyntaxError(line: number, message: "expected key: value")
        }
        let key = line[..<colon]
        guard let head = key.first, !indicators.contains(head), !key.contains(" #"),
            key.last != " ", key.last != "\t"
        else {
            throw SyntaxError(line: number, message: "keys must be plain names")
        }
        let rest = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
        let value = try scalar(rest, key: String(key), number: number)
        return Entry(key: String(key), value: value, line: number)
    }

    /// The first `:` followed by white space or the end of the line: YAML's mapping indicator
    /// (`127.0.0.1:9469` is one plain scalar).
    private static func separator(in line: Substring) -> Substring.Index? {
        var index = line.startIndex
        while index < line.endIndex {
            if line[index] == "#", index > line.startIndex, [" ", "\t"].contains(line[line.index(before: index)]) {
                return nil  // a comment before any separator
            }
            if line[index] == ":" {
                let next = line.index(after: index)
                if next == line.endIndex || line[next] == " " || line[next] == "\t" { return index }
            }
            index = line.index(after: index)
        }
        return nil
    }

    /// Characters that cannot start a plain scalar (YAML 1.2, c-indicator).
    private static let indicators: Set<Character> = [
        "-", "?", ":", ",", "[", "]", "{", "}", "#", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`",
    ]

    private static func scalar(_ text: Substring, key: String, number: Int) throws(SyntaxError) -> String {
        func fail(_ message: String) -> SyntaxError { SyntaxError(line: number, message: "key '\(key)': \(message)") }
        guard let head = text.first, head != "#" else { return "" }
        switch head {
        case "\"":
            let (value, end) = try doubleQuoted(text, fail: fail)
            try expectNothingAfter(text[end...], fail: fail)
            return value
        case "'":
            let (value, end) = try singleQuoted(text, fail: fail)
            try expectNothingAfter(text[end...], fail: fail)
            return value
        case "[", "{":
            throw fail("expected a single value; lists and mappings ([...], {...}) are not supported")
        case "|", ">":
            throw fail("block values (| and >) are not supported; write the value on one line")
        case "&", "*", "!":
            throw fail("anchors, aliases and tags (&, *, !) are not supported")
        case "@", "`":
            throw fail("a value cannot start with \(head); quote it")
        case "-", "?", ":":
            let next = text.dropFirst().first
            if next == nil || next == " " || next == "\t" {
                throw fail("expected a single value; lists and nested keys are not supported")
            }
        default:
            break
        }
        var end = text.endIndex
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if character == "#", [" ", "\t"].contains(text[text.index(before: index)]) {
                end = index
                break
            }
            if character == ":", next == text.endIndex || text[next] == " " || text[next] == "\t" {
                throw fail("a second ': ' in a value; quote the value if it is meant")
            }
            index = next
        }
        var value = text[..<end]
        while let last = value.last, last == " " || last == "\t" { value = value.dropLast() }
        return String(value)
    }

    private static func expectNothingAfter(
        _ rest: Substring, fail: (String) -> SyntaxError
    ) throws(SyntaxError) {
        let trimmed = rest.drop { $0 == " " || $0 == "\t" }
        guard trimmed.isEmpty || (trimmed.first == "#" && trimmed.count < rest.count) else {
            throw fail("unexpected text after the closing quote")
        }
    }

    private static func singleQuoted(
        _ text: Substring, fail: (String) -> SyntaxError
    ) throws(SyntaxError) -> (String, Substring.Index) {
        var value = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            index = text.index(after: index)
            guard character == "'" else {
                value.append(character)
                continue
            }
            guard index < text.endIndex, text[index] == "'" else { return (value, index) }
            value.append("'")
            index = text.index(after: index)
        }
        throw fail("a quoted value must end on its line")
    }

    private static func doubleQuoted(
        _ text: Substring, fail: (String) -> SyntaxError
    ) throws(SyntaxError) -> (String, Substring.Index) {
        var value = ""
        let scalars = text.unicodeScalars
        var index = scalars.index(after: scalars.startIndex)
        while index < scalars.endIndex {
            let scalar = scalars[index]
            index = scalars.index(after: index)
            if scalar == "\"" { return (value, index) }
            guard scalar == "\\" else {
                value.unicodeScalars.append(scalar)
                continue
            }
            guard index < scalars.endIndex else { break }
            let escape = scalars[index]
            index = scalars.index(after: index)
            if let simple = simpleEscapes[escape] {
                value.unicodeScalars.append(simple)
                continue
            }
            let width: Int
            switch escape {
            case "x": width = 2
            case "u": width = 4
            case "U": width = 8
            default: throw fail("unknown escape \\\(escape) in a quoted value")
            }
            var code: UInt32 = 0
            for _ in 0..<width {
                guard index < scalars.endIndex, let digit = hexValue(scalars[index]) else {
                    throw fail("\\\(escape) needs \(width) hexadecimal digits")
                }
                code = code << 4 | digit
                index = scalars.index(after: index)
            }
            guard let decoded = Unicode.Scalar(code) else { throw fail("\\\(escape) names no character") }
            value.unicodeScalars.append(decoded)
        }
        throw fail("a quoted value must end on its line")
    }

    private static let simpleEscapes: [Unicode.Scalar: Unicode.Scalar] = [
        "0": "\u{0}", "a": "\u{7}", "b": "\u{8}", "t": "\t", "\t": "\t", "n": "\n", "v": "\u{B}", "f": "\u{C}",
        "r": "\r", "e": "\u{1B}", " ": " ", "\"": "\"", "/": "/", "\\": "\\", "N": "\u{85}", "_": "\u{A0}",
        "L": "\u{2028}", "P": "\u{2029}",
    ]

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar.value {
        case 0x30...0x39: scalar.value - 0x30
        case 0x41...0x46: scalar.value - 0x41 + 10
        case 0x61...0x66: scalar.value - 0x61 + 10
        default: nil
        }
    }
}
