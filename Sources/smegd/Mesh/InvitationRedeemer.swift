import Logging
import MeshCore
import NIOCore

/// Redeems an invitation with its issuing owner before the node is a member: a join request
/// from a socket of its own (the node has no mesh runtime, and no secret, yet), resent to each
/// bootstrap endpoint every second until a grant or a refusal signed by the issuer comes back,
/// for 15 s at most. Everything it decides is `JoinMessage`'s; this only moves the datagrams.
///
/// Why that long: a fleet redeeming one invite at once is a burst at one issuer, which drops
/// datagrams that waited more than a second in its input (`InputBacklog`). With 4 sends over 6 s,
/// 2 of 98 simultaneous joiners in the N = 100 bench gave up while the issuer was behind; a
/// resend after the backlog clears gets through. Delays growing from 1 to 4 s were tried and let
/// the joins of a mass join finish later (7.3 s median over 5 trials, against 6.0 s with 1 s).
/// A requester that was granted before gets the same admission again (`InviteBook.redeem`), so
/// resending costs the invite no use.
enum InvitationRedeemer {
    static let attempts = 15
    static let interval: Duration = .seconds(1)
    static var patience: Duration { interval * attempts }

    enum Outcome: Sendable {
        case granted(JoinMessage.Granted)
        case refused(JoinRefusal)
    }

    static func redeem(
        _ invitation: Invitation, identity: NodeIdentity, role: NodeRecord.Role, logger: Logger
    ) async throws -> JoinMessage.Granted {
        let socket: UDPSocket
        do {
            socket = try UDPSocket.bind(
                host: "::", port: 0, options: .init(dualStack: true, threadName: "smegd-join"),
                purpose: "the join socket", logger: logger)
        } catch {
            socket = try UDPSocket.bind(
                host: "0.0.0.0", port: 0, options: .init(threadName: "smegd-join"), purpose: "the join socket",
                logger: logger)
        }
        defer { socket.close() }
        let targets = invitation.bootstrap.compactMap {
            GossipAddressing.socketAddress($0.host, port: $0.port, dualStack: socket.isIPv6)
        }
        let where_ = invitation.bootstrap.map(\.description).joined(separator: ", ")
        guard !targets.isEmpty else {
            throw ControlError.badRequest("none of the invitation's endpoints (\(where_)) resolves")
        }
        let nonce = try Sodium.randomBytes(16)
        let mesh = invitation.mesh
        let issuer = invitation.ticket.issuer
        let request = JoinMessage.request(
            ticket: invitation.ticket, role: role, identity: identity, nonce: nonce, sentAt: DaemonClock.wallMillis(),
            mesh: mesh)
        let outcome = await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                for await datagram in socket.datagrams {
                    switch JoinMessage.decode(datagram.bytes, mesh: mesh) {
                    case .grant(let grant):
                        if let granted = JoinMessage.open(
                            grant, nonce: nonce, identity: identity, issuer: issuer, mesh: mesh)
                        {
                            return .granted(granted)
                        }
                    case .refusal(let refusal) where refusal.nonce == nonce && refusal.responder == issuer:
                        return .refused(refusal.reason)
                    default:
                        continue
                    }
                }
                return nil
            }
            group.addTask {
                for _ in 0..<attempts {
                    for target in targets { socket.send(request, to: target) }
                    try? await Task.sleep(for: interval)
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            socket.close()
            return first
        }
        switch outcome {
        case .granted(let granted): return granted
        case .refused(let reason): throw ControlError(status: 403, message: "cannot join: \(reason)")
        case nil:
            throw ControlError(
                status: 504,
                message:
                    "the owner that issued this invite did not answer at \(where_) within \(patience.components.seconds) s; it must be "
                    + "running and reachable on its gossip port when you join (invites are redeemed with it)")
        }
    }
}
