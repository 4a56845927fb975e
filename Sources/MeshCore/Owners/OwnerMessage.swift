import GossipCRDT

/// The messages that spread the owner ledger, carried in ordinary frames beside gossip
/// messages (their type bytes start at 0x20, gossip's end below 0x10). Only a frame that proves
/// its sender, from a present member, may carry one.
///
/// ```
/// summary    = 0x20 ‖ ledger summary (8) ‖ statement count (2)
/// statements = 0x21 ‖ flags (1; bit 0: answer with what I lack) ‖ count (2)
///              ‖ count × (length (2) ‖ statement)
/// secret     = 0x22 ‖ generation (8) ‖ crypto_box_seal(to the receiver's X25519 key, secret) (80)
/// ```
///
/// A secret message is how a rotating owner hands each member the new secret: sealed to that
/// member, so the frame's other readers (an evicted member still holds the old secret) learn
/// nothing, and checked by the receiver against the rotation statement's commitment.
///
/// Sync is a push-pull on summaries: a member sends its summary to one member every
/// `ledgerInterval`; one whose summary differs answers with all its statements and asks for an
/// answer; that answer carries exactly the statements the asker lacks. A statement new to a
/// member is pushed on to a few others at once, so an eviction spreads in round trips, not
/// summary intervals.
public enum OwnerMessage: Equatable, Sendable {
    case summary(UInt64, count: Int)
    case statements([OwnerStatement], wantsReply: Bool)
    case secret(generation: UInt64, sealed: [UInt8])

    static let summaryType: UInt8 = 0x20
    static let statementsType: UInt8 = 0x21
    static let secretType: UInt8 = 0x22
    static let sealedSecretSize = MeshSecret.byteCount + Sodium.sealedBoxOverhead
    /// The first type byte owner messages use: a frame's message starting at or above it is one.
    public static let firstType: UInt8 = 0x20
    /// Statements per message; a ledger larger than this goes in several.
    public static let maxStatements = 256

    public static func isOwnerMessage(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first else { return false }
        return first >= firstType && first < firstType + 0x10
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64)
        switch self {
        case .summary(let summary, let count):
            writer.writeU8(Self.summaryType)
            writer.writeU64(summary)
            writer.writeU16(UInt16(clamping: count))
        case .statements(let statements, let wantsReply):
            writer.writeU8(Self.statementsType)
            writer.writeU8(wantsReply ? 1 : 0)
            writer.writeCount(statements.count, limit: Self.maxStatements, field: "statements")
            for statement in statements {
                writer.writeLengthPrefixed(statement.bytes, limit: OwnerStatement.maxByteCount, field: "statement")
            }
        case .secret(let generation, let sealed):
            writer.writeU8(Self.secretType)
            writer.writeU64(generation)
            writer.writeBytes(sealed)
        }
        // The only bound is the count, which `chunks` keeps callers within.
        assert(writer.failure == nil, "owner message over its bounds")
        return writer.bytes
    }

    /// Decodes and verifies every statement against `mesh`; one bad statement refuses the
    /// whole message (an honest member sends none).
    public static func decode(_ bytes: [UInt8], mesh: MeshID) throws(OwnerMessageError) -> OwnerMessage {
        var reader = ByteReader(bytes)
        do {
            switch try reader.readU8("message type") {
            case summaryType:
                let summary = try reader.readU64("ledger summary")
                let count = Int(try reader.readU16("statement count"))
                try reader.finish()
                return .summary(summary, count: count)
            case statementsType:
                let flags = try reader.readU8("statements flags")
                guard flags <= 1 else { throw WireError.invalid(field: "statements flags", reason: "unknown bits set") }
                let count = try reader.readCount(
                    "statements", limit: maxStatements, minimumElementSize: 2 + OwnerStatement.headerSize)
                var statements: [OwnerStatement] = []
                statements.reserveCapacity(count)
                for _ in 0..<count {
                    let raw = try reader.readLengthPrefixed("statement", limit: OwnerStatement.maxByteCount)
                    do {
                        statements.append(try OwnerStatement(bytes: raw, mesh: mesh))
                    } catch {
                        throw OwnerMessageError.statement(error)
                    }
                }
                try reader.finish()
                return .statements(statements, wantsReply: flags == 1)
            case secretType:
                let generation = try reader.readU64("generation")
                let sealed = try reader.readBytes(sealedSecretSize, "sealed secret")
                try reader.finish()
                return .secret(generation: generation, sealed: sealed)
            case let other:
                throw WireError.unknownMessageType(other)
            }
        } catch let error as OwnerMessageError {
            throw error
        } catch let error as WireError {
            throw .malformed(error)
        } catch {
            throw .malformed(.truncated(field: "owner message"))
        }
    }

    /// Bytes of statements per message, well inside one frame.
    static let maxChunkBytes = 48_000

    /// `statements` split into messages of at most `maxStatements` and `maxChunkBytes`.
    public static func chunks(_ statements: [OwnerStatement], wantsReply: Bool) -> [OwnerMessage] {
        var messages: [OwnerMessage] = []
        var current: [OwnerStatement] = []
        var bytes = 0
        for statement in statements {
            if current.count == maxStatements || bytes + statement.bytes.count + 2 > maxChunkBytes {
                messages.append(.statements(current, wantsReply: wantsReply))
                (current, bytes) = ([], 0)
            }
            current.append(statement)
            bytes += statement.bytes.count + 2
        }
        if !current.isEmpty { messages.append(.statements(current, wantsReply: wantsReply)) }
        return messages
    }
}

public enum OwnerMessageError: Error, Equatable, Sendable {
    case malformed(WireError)
    case statement(OwnerStatementError)
}
