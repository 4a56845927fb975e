/// Why bytes from the network were refused. Every decoder in MeshCore reports failure through
/// this type, never by trapping, so a hostile peer can cost a node a dropped frame and a counter
/// increment but never a crash.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended before `field` was complete.
    case truncated(field: String)
    /// Bytes were left over after a complete value; canonical encodings have none.
    case trailingBytes(count: Int)
    /// A length or count prefix exceeded what the format allows for `field`.
    case tooLarge(field: String, length: Int, limit: Int)
    /// A field's value is outside its domain (unknown tag, bad address, unsorted keys…).
    case invalid(field: String, reason: String)
    case badMagic
    case unsupportedVersion(UInt8)
    case unknownMessageType(UInt8)
    /// The frame names a different mesh than the one it was received for.
    case wrongMesh
    /// The AEAD tag did not verify: wrong mesh secret, or the frame was modified or truncated.
    case authenticationFailed

    public var description: String {
        switch self {
        case .truncated(let field): return "truncated input while reading \(field)"
        case .trailingBytes(let count): return "\(count) unexpected trailing bytes"
        case .tooLarge(let field, let length, let limit): return "\(field) is \(length), more than the limit \(limit)"
        case .invalid(let field, let reason): return "invalid \(field): \(reason)"
        case .badMagic: return "not a smegmesh frame (bad magic)"
        case .unsupportedVersion(let version): return "unsupported protocol version \(version)"
        case .unknownMessageType(let type): return "unknown message type \(type)"
        case .wrongMesh: return "frame belongs to another mesh"
        case .authenticationFailed: return "frame failed authentication (wrong mesh secret or modified in transit)"
        }
    }
}
