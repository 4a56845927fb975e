#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The invites this node issued as an owner (`invites.json`, mode 0600): written before any
/// grant is sent, so a use counted is never forgotten by a crash and a single-use invite cannot
/// be redeemed twice across a restart. Read as untrusted: every ticket and admission is
/// verified again, and what fails is dropped on its own.
public struct PersistedInvites: Codable, Equatable, Sendable {
    public static let currentFormat = 1

    public struct Invite: Codable, Equatable, Sendable {
        /// `InviteTicket.bytes`, base64.
        public var ticket: String
        public var issuedAt: UInt64
        public var revoked: Bool
        /// The admissions granted (`OwnerStatement.bytes`, base64).
        public var redeemed: [String]
    }

    public var format = PersistedInvites.currentFormat
    public var invites: [Invite]

    public init(_ book: InviteBook) {
        invites = book.entries.values.sorted { ($0.issuedAt, $0.ticket.id) < ($1.issuedAt, $1.ticket.id) }.map {
            Invite(
                ticket: Data($0.ticket.bytes).base64EncodedString(), issuedAt: $0.issuedAt, revoked: $0.revoked,
                redeemed: $0.redeemed.values.map { Data($0.bytes).base64EncodedString() }.sorted())
        }
    }

    /// The book the file describes for `mesh`, and how many entries were refused.
    public func book(mesh: MeshID) -> (InviteBook, refused: Int) {
        var book = InviteBook()
        var refused = 0
        for invite in invites.prefix(InviteBook.capacity) {
            guard let bytes = Data(base64Encoded: invite.ticket),
                let ticket = try? InviteTicket(bytes: Array(bytes), mesh: mesh)
            else {
                refused += 1
                continue
            }
            book.add(ticket, issuedAt: invite.issuedAt)
            if invite.revoked { _ = book.revoke(ticket.id) }
            for text in invite.redeemed.prefix(InviteTicket.maxUses) {
                guard let data = Data(base64Encoded: text),
                    let statement = try? OwnerStatement(bytes: Array(data), mesh: mesh),
                    case .admit(let admission) = statement.decision, admission.invite == ticket.id
                else {
                    refused += 1
                    continue
                }
                book.restore(statement, member: admission.member, invite: ticket.id)
            }
        }
        return (book, refused + max(0, invites.count - InviteBook.capacity))
    }
}

extension InviteBook {
    mutating func restore(_ admission: OwnerStatement, member: SigningPublicKey, invite: InviteID) {
        entries[invite]?.redeemed[member] = admission
    }
}
