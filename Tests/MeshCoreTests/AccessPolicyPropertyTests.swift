import GossipCRDT
import Testing

@testable import MeshCore

/// Random policies over random members, checked against a brute-force reference that lists
/// every allowed (source, destination, protocol, port) over a small universe of ports: the
/// decision, the traffic between a pair, the pair-level "no session" and each receiver's
/// inbound list must all agree with it. Also: the default allows everything, and random
/// policies survive the binary and the text round trips.
@Suite struct AccessPolicyPropertyTests {
    static let tags = ["a", "b", "c", "d"].map { AccessTag($0)! }
    /// Ports the random rules use, and one far outside them that only "every port" reaches.
    static let ports: [UInt16] = Array(1...12) + [40_000]
    /// What the reference enumerates: ICMP, TCP and UDP by port, and "another IP protocol"
    /// (GRE, ESP...), which only a rule without protocols allows.
    enum Kind: Hashable { case icmp, tcp(UInt16), udp(UInt16), other }
    static let kinds: [Kind] = [.icmp, .other] + ports.map(Kind.tcp) + ports.map(Kind.udp)

    struct Case {
        var members: [AccessMember]
        var policy: AccessPolicy
    }

    static func randomCase(_ rng: inout SplitMix64) -> Case {
        let count = 2 + Int(rng.next() % 5)
        let members = (0..<count).map { index in
            AccessMember(
                id: NodeID(UInt64(index + 1), 0, 0, rng.next()), tags: tags.filter { _ in rng.next() % 3 == 0 })
        }
        func selector() -> AccessSelector {
            switch rng.next() % 5 {
            case 0: .anyMember
            case 1, 2: .tag(tags[Int(rng.next() % UInt64(tags.count))])
            default: .member(members[Int(rng.next() % UInt64(members.count))].id)
            }
        }
        func ports() -> PortSet {
            if rng.next() % 4 == 0 { return .all }
            return PortSet(
                (0..<(1 + rng.next() % 3)).map { _ in
                    let first = UInt16(1 + rng.next() % 12)
                    return first...min(12, first + UInt16(rng.next() % 3))
                })
        }
        var rules: [AccessRule] = []
        for _ in 0..<(1 + rng.next() % 6) {
            let traffic: AccessTraffic
            if rng.next() % 5 == 0 {
                traffic = .everything
            } else {
                traffic = AccessTraffic(
                    icmp: rng.next() % 3 == 0, tcp: rng.next() % 2 == 0 ? ports() : .none,
                    udp: rng.next() % 3 == 0 ? ports() : .none)
            }
            if let rule = AccessRule(from: selector(), to: selector(), traffic: traffic) { rules.append(rule) }
        }
        if rules.isEmpty { rules = [AccessRule(from: selector(), to: selector())!] }
        return Case(members: members, policy: try! AccessPolicy(rules: rules))
    }

    /// The reference: for each rule, matched by hand, every kind of flow it lets through.
    static func reference(_ rule: AccessRule, from: AccessMember, to: AccessMember) -> Set<Kind> {
        func matches(_ selector: AccessSelector, _ member: AccessMember) -> Bool {
            switch selector {
            case .anyMember: return true
            case .tag(let tag): return member.tags.contains(tag)
            case .member(let id): return member.id == id
            }
        }
        guard matches(rule.from, from), matches(rule.to, to) else { return [] }
        if rule.traffic.anyProtocol { return Set(kinds) }
        var allowed: Set<Kind> = rule.traffic.icmp ? [.icmp] : []
        for port in ports {
            if rule.traffic.tcp.ranges.contains(where: { $0.contains(port) }) { allowed.insert(.tcp(port)) }
            if rule.traffic.udp.ranges.contains(where: { $0.contains(port) }) { allowed.insert(.udp(port)) }
        }
        return allowed
    }

    static func question(_ kind: Kind) -> (AccessProtocol?, UInt16?)? {
        switch kind {
        case .icmp: (.icmp, nil)
        case .tcp(let port): (.tcp, port)
        case .udp(let port): (.udp, port)
        case .other: nil
        }
    }

    @Test func evaluationAgreesWithTheBruteForceReference() {
        var rng = SplitMix64(seed: 21)
        for _ in 0..<400 {
            let test = Self.randomCase(&rng)
            let policy = test.policy
            for a in test.members {
                for b in test.members where a.id != b.id {
                    let perRule = policy.rules.map { Self.reference($0, from: a, to: b) }
                    let allowed = perRule.reduce(into: Set<Kind>()) { $0.formUnion($1) }
                    let traffic = policy.traffic(from: a, to: b)
                    for kind in Self.kinds {
                        guard let (proto, port) = Self.question(kind) else {
                            #expect(traffic.anyProtocol == allowed.contains(.other))
                            continue
                        }
                        let decision = policy.decision(from: a, to: b, protocol: proto, port: port)
                        #expect(decision.isAllowed == allowed.contains(kind), "\(kind) in \(policy.rules)")
                        #expect(traffic.admits(proto, port: port) == allowed.contains(kind))
                        let first = perRule.firstIndex { $0.contains(kind) }
                        if case .rule(let index, let rule) = decision.reason {
                            #expect(index == first && rule == policy.rules[index])
                        } else {
                            #expect(first == nil && decision.reason == .noRuleAllows)
                        }
                    }
                    #expect(policy.decision(from: a, to: b).isAllowed == !allowed.isEmpty)
                    #expect(traffic.isEmpty == allowed.isEmpty)
                    let back = policy.rules.reduce(into: Set<Kind>()) {
                        $0.formUnion(Self.reference($1, from: b, to: a))
                    }
                    #expect(policy.mayConnect(a, b) == !(allowed.isEmpty && back.isEmpty))
                    #expect(policy.mayConnect(a, b) == policy.mayConnect(b, a))
                }
            }
        }
    }

    @Test func noSessionMeansEveryFlowEitherWayIsDenied() {
        var rng = SplitMix64(seed: 22)
        var isolated = 0
        for _ in 0..<400 {
            let test = Self.randomCase(&rng)
            for a in test.members {
                for b in test.members where a.id != b.id && !test.policy.mayConnect(a, b) {
                    isolated += 1
                    for kind in Self.kinds {
                        guard let (proto, port) = Self.question(kind) else { continue }
                        #expect(!test.policy.decision(from: a, to: b, protocol: proto, port: port).isAllowed)
                        #expect(!test.policy.decision(from: b, to: a, protocol: proto, port: port).isAllowed)
                    }
                    #expect(test.policy.traffic(from: a, to: b).isEmpty && test.policy.traffic(from: b, to: a).isEmpty)
                }
            }
        }
        #expect(isolated > 100, "the random policies isolate enough pairs to say something")
    }

    @Test func eachReceiverAcceptsExactlyWhatTheRulesToItAllow() {
        var rng = SplitMix64(seed: 23)
        for _ in 0..<400 {
            let test = Self.randomCase(&rng)
            for receiver in test.members {
                let inbound = test.policy.inbound(to: receiver, from: test.members.shuffled(using: &rng))
                let expected = test.members.filter { $0.id != receiver.id }.compactMap { source -> AccessInbound? in
                    let traffic = test.policy.traffic(from: source, to: receiver)
                    return traffic.isEmpty ? nil : AccessInbound(source: source.id, traffic: traffic)
                }.sorted { $0.source < $1.source }
                #expect(inbound == expected)
                // A source a receiver accepts something from is a pair that keeps its session.
                for entry in inbound {
                    let source = test.members.first { $0.id == entry.source }!
                    #expect(test.policy.mayConnect(source, receiver))
                }
            }
        }
    }

    @Test func theDefaultLetsEveryoneReachEveryone() {
        var rng = SplitMix64(seed: 24)
        let policy = AccessPolicy.everyoneReachesEveryone
        #expect(policy.isDefault)
        for _ in 0..<50 {
            let members = Self.randomCase(&rng).members
            for a in members {
                for b in members {
                    #expect(policy.mayConnect(a, b))
                    #expect(policy.traffic(from: a, to: b) == .everything)
                    for kind in Self.kinds {
                        guard let (proto, port) = Self.question(kind) else { continue }
                        let decision = policy.decision(from: a, to: b, protocol: proto, port: port)
                        #expect(decision.isAllowed && decision.reason == .noPolicy)
                    }
                }
                let inbound = policy.inbound(to: a, from: members)
                #expect(inbound.count == members.count - 1 && inbound.allSatisfy { $0.traffic == .everything })
            }
        }
        #expect(AccessPolicyUpdate(version: 1, policy: policy) == nil, "the default is never signed")
    }

    @Test func randomPoliciesRoundTripThroughBytesAndText() throws {
        var rng = SplitMix64(seed: 25)
        for _ in 0..<300 {
            let policy = Self.randomCase(&rng).policy
            #expect(try AccessPolicy(decoding: policy.bytes) == policy)
            let text = AccessPolicyText.render(policy)
            let parsed = try AccessPolicyText.parse(text).resolve { name in
                try #require(WireGuardPublicKey(base64: name)).nodeID
            }
            #expect(parsed == policy, "\(text)")
        }
    }
}
