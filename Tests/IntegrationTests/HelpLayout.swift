/// Checks how argument-parser laid out a help text for a terminal of a given width.
///
/// argument-parser wraps every line of a text on its own, so a paragraph that was wrapped by hand
/// in the source comes out broken twice: once where the source broke it and once at the terminal's
/// width. Paragraphs must be single lines in the source (a `\` at the end of a source line of a
/// multi-line string literal continues it), and example lines short enough never to be wrapped.
struct HelpLayout {
    /// One thing wrong with a help text, with the line it is about.
    struct Problem: CustomStringConvertible {
        let line: Int
        let text: String
        let reason: String
        var description: String { "line \(line + 1): \(reason): \"\(text)\"" }
    }

    let lines: [String]
    let columns: Int

    init(_ text: String, columns: Int) {
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        self.columns = columns
    }

    /// The section each line belongs to: the heading ("OVERVIEW", "USAGE", "OPTIONS", ...) above it.
    var sections: [String] {
        var current = "OVERVIEW"
        return lines.map { line in
            if let heading = Self.heading(of: line) { current = heading }
            return current
        }
    }

    /// Lines of the overview and discussion that are indented: examples.
    var exampleLines: [String] {
        zip(lines, sections).filter { $0.1 == "OVERVIEW" && Self.indent(of: $0.0) > 0 }.map(\.0)
    }

    /// Subcommand names listed under SUBCOMMANDS.
    var subcommands: [String] {
        zip(lines, sections).compactMap { line, section in
            guard section == "SUBCOMMANDS", Self.indent(of: line) == 2 else { return nil }
            let name = line.drop { $0 == " " }.prefix { $0 != " " }
            return name.isEmpty || line.contains("'") ? nil : String(name)
        }
    }

    /// Lines wider than the terminal (the usage line, which argument-parser never wraps, aside)
    /// and lines broken before a word that would still have fitted on them.
    var problems: [Problem] {
        var found: [Problem] = []
        let sections = self.sections
        for (index, line) in lines.enumerated() {
            if sections[index] != "USAGE" && line.count > columns {
                found.append(Problem(line: index, text: line, reason: "wider than \(columns) columns"))
            }
            guard index > 0, sections[index] == sections[index - 1], let word = Self.firstWord(of: line)
            else { continue }
            let previous = lines[index - 1]
            if Self.continues(line, after: previous, inOverview: sections[index] == "OVERVIEW")
                && previous.count + 1 + word.count < columns
            {
                found.append(Problem(line: index, text: line, reason: "broken before \"\(word)\", which fits above"))
            }
        }
        return found
    }

    /// Whether `line` carries on the text of `previous` (rather than starting an example, an
    /// option or a paragraph of its own).
    private static func continues(_ line: String, after previous: String, inOverview: Bool) -> Bool {
        guard heading(of: line) == nil, !previous.allSatisfy({ $0 == " " }) else { return false }
        if inOverview {
            // Prose is not indented; an indented line is an example.
            return indent(of: line) == 0 && indent(of: previous) == 0
        }
        // In the option and subcommand columns, continuation lines are indented past the names,
        // and the line above holds help text too: it is a continuation as well, or a name
        // followed by a gap and the first words of its help.
        guard indent(of: line) > 2 else { return false }
        let name = previous.drop { $0 == " " }
        return indent(of: previous) > 2 || name.contains("  ")
    }

    static func heading(of line: String) -> String? {
        guard let colon = line.firstIndex(of: ":"), let first = line.first, first.isUppercase else { return nil }
        let name = line[..<colon]
        guard name.allSatisfy({ $0.isUppercase || $0 == " " || $0 == "-" }) else { return nil }
        let rest = line[line.index(after: colon)...]
        return rest.isEmpty || rest.first == " " ? String(name) : nil
    }

    static func indent(of line: String) -> Int {
        line.prefix { $0 == " " }.count
    }

    static func firstWord(of line: String) -> Substring? {
        let word = line.drop { $0 == " " }.prefix { $0 != " " }
        return word.isEmpty ? nil : word
    }
}
