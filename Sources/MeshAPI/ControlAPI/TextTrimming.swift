extension StringProtocol {
    /// The text without the white space and line breaks around it: Foundation's
    /// `trimmingCharacters(in: .whitespacesAndNewlines)`, which the control API's client and
    /// smegctl cannot use without linking Foundation and ICU (docs/operations.md).
    public func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = lastIndex(where: { !$0.isWhitespace })!
        return String(self[first...last])
    }
}
