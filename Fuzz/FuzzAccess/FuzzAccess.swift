import GossipCRDT
import MeshCore

/// Access policies arrive as bytes inside owner statements any member passes on, and as text
/// from a person's file. Any bytes must decode cleanly or not at all; what decodes must be its
/// own canonical encoding, print as text that parses back to it, and evaluate without trapping
/// and consistently. Any text must parse, or fail with errors on lines the text has.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let policy = try? AccessPolicy(decoding: bytes) {
        guard policy.bytes == bytes else { fatalError("a decoded policy is not its own encoding") }
        let text = AccessPolicyText.render(policy)
        let parsed = try? AccessPolicyText.parse(text).resolve { name in
            guard let key = WireGuardPublicKey(base64: name) else { throw Unknown() }
            return key.nodeID
        }
        guard parsed == policy || (policy.rules.isEmpty && parsed == nil) else {
            fatalError("a printed policy does not parse back to itself")
        }
        evaluate(policy)
    }
    let text = String(decoding: bytes, as: UTF8.self)
    do {
        let draft = try AccessPolicyText.parse(text)
        // Every name is some member: the result must encode within the limits and decode.
        let policy = try draft.resolve { name in
            NodeID(UInt64(name.utf8.count), 0, 0, name.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) })
        }
        guard (try? AccessPolicy(decoding: policy.bytes)) == policy else {
            fatalError("a parsed policy does not decode")
        }
        evaluate(policy)
    } catch {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count
        for found in error.errors where found.line < 1 || found.line > max(lines, 1) || found.column < 1 {
            fatalError("an error names line \(found.line), column \(found.column) of a \(lines)-line text")
        }
    }
    return 0
}

private struct Unknown: Error {}

/// Members made from the rules' own selectors, and every question asked of each pair: a flow
/// allowed must be inside the pair's traffic, and a pair without a session allows nothing.
private func evaluate(_ policy: AccessPolicy) {
    var tags: Set<AccessTag> = []
    var ids: Set<NodeID> = [NodeID(0, 0, 0, 0)]
    for rule in policy.rules {
        for side in [rule.from, rule.to] {
            switch side {
            case .tag(let tag): tags.insert(tag)
            case .member(let id): ids.insert(id)
            case .anyMember: break
            }
        }
    }
    let members = ids.prefix(8).enumerated().map { index, id in
        AccessMember(id: id, tags: tags.enumerated().filter { ($0.offset + index) % 2 == 0 }.map(\.element))
    }
    for a in members {
        _ = policy.inbound(to: a, from: members)
        for b in members where a.id != b.id {
            let traffic = policy.traffic(from: a, to: b)
            let session = policy.mayConnect(a, b)
            for (proto, port) in [(AccessProtocol.icmp, UInt16?.none), (.tcp, 22), (.udp, 53), (.tcp, 65535)] {
                let allowed = policy.decision(from: a, to: b, protocol: proto, port: port).isAllowed
                if allowed != traffic.admits(proto, port: port) { fatalError("decision and traffic disagree") }
                if allowed && !session { fatalError("a flow allowed to a pair without a session") }
            }
        }
    }
}
