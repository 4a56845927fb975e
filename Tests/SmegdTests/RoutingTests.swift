import Testing

@testable import MeshCore
@testable import MeshLinux
@testable import smegd

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ExitRoutingTests {
    let specific = RouteEntry(destination: IPNet("10.20.0.0/16")!, metric: DesiredMeshState.routeMetric)
    let v6Default = RouteEntry(destination: IPNet("::/0")!, metric: DesiredMeshState.routeMetric)

    @Test func defaultRoutesGoToTheMeshTableWithTwoRulesPerFamily() {
        let routing = ExitRouting(table: 51820, routes: [specific, v6Default])
        #expect(routing.routes[0] == specific, "specific prefixes stay in the main table")
        #expect(routing.routes[1].table == 51820)
        #expect(routing.families == [AF_INET6])
        let rules = routing.desiredRules(family: AF_INET6)
        #expect(rules.count == 2)
        #expect(rules[0].table == RouteEntry.mainTable && rules[0].suppressPrefixLength == 0)
        #expect(rules[1].table == 51820 && rules[1].invert && rules[1].fwmark == ExitRouting.firewallMark)
        #expect(rules[0].priority < rules[1].priority && rules[1].priority < 32766)
        #expect(routing.desiredRules(family: AF_INET).isEmpty)
    }

    @Test func withoutDefaultRoutesThereAreNoRules() {
        let routing = ExitRouting(table: 51820, routes: [specific])
        #expect(routing.families.isEmpty)
        #expect(routing.desiredRules(family: AF_INET6).isEmpty)
    }

    @Test func meshesOfOneNodeGetDistinctRulePriorities() {
        let first = ExitRouting(table: 51820, routes: []).priorities
        let second = ExitRouting(table: 51821, routes: []).priorities
        #expect(Set([first.suppress, first.tunnel, second.suppress, second.tunnel]).count == 4)
    }
}

@Suite struct MeshOptionsPolicyTests {
    let mesh = MeshID(bytes: Array(0..<10))!

    /// A route inside the members' IPv4 network could capture their addresses: every member
    /// ignores it, so `create` and `join` refuse it instead of publishing nothing.
    @Test func routesInsideTheMeshsIPv4NetworkAreRefused() throws {
        let ipv4Prefix = IPPrefix("100.70.0.0/16")!
        let policy = RoutePolicy(allowedPrefixes: [IPPrefix("100.64.0.0/10")!])
        for route in ["100.70.3.0/24", "100.64.0.0/10"] {
            #expect(throws: ControlError.self) {
                try MeshOptionsCheck.validate(
                    MeshOptions(advertiseRoutes: [route]), mesh: mesh, policy: policy, ipv4Prefix: ipv4Prefix)
            }
        }
        try MeshOptionsCheck.validate(
            MeshOptions(advertiseRoutes: ["100.71.0.0/16"]), mesh: mesh, policy: policy, ipv4Prefix: ipv4Prefix)
        try MeshOptionsCheck.validate(
            MeshOptions(advertiseRoutes: ["100.70.3.0/24"]), mesh: mesh, policy: policy, ipv4Prefix: nil)
    }

    @Test func exitsAndBridgesNeedTheMeshToAllowThem() throws {
        let exit = MeshOptions(advertiseDefaultRoute: true)
        let bridge = MeshOptions(bridge: true)
        #expect(throws: ControlError.self) { try MeshOptionsCheck.validate(exit, mesh: mesh, policy: .default) }
        #expect(throws: ControlError.self) { try MeshOptionsCheck.validate(bridge, mesh: mesh, policy: .default) }
        try MeshOptionsCheck.validate(exit, mesh: mesh, policy: RoutePolicy(allowExitNodes: true))
        try MeshOptionsCheck.validate(bridge, mesh: mesh, policy: RoutePolicy(allowBridgedMeshes: true))
        #expect(
            MeshOptionsCheck.advertisedRoutes(exit) == [
                AdvertisedRoute(prefix: .ipv6Default), AdvertisedRoute(prefix: .ipv4Default),
            ])
        var both = exit
        both.advertiseRoutes = ["0.0.0.0/0"]
        #expect(
            MeshOptionsCheck.advertisedRoutes(both) == [
                AdvertisedRoute(prefix: .ipv4Default), AdvertisedRoute(prefix: .ipv6Default),
            ],
            "each family once")
    }

    @Test func advertisedPrefixesAreCheckedAgainstThePolicy() throws {
        let lan = MeshOptions(advertiseRoutes: ["192.168.7.0/24"])
        #expect(throws: ControlError.self) { try MeshOptionsCheck.validate(lan, mesh: mesh, policy: .default) }
        try MeshOptionsCheck.validate(
            lan, mesh: mesh, policy: RoutePolicy(allowedPrefixes: [IPPrefix("192.168.0.0/16")!]))
    }

    @Test func aPolicyWithABadPrefixIsABadRequest() {
        #expect(throws: ControlError.self) {
            _ = try MeshOptionsCheck.policy(RoutePolicyView(allowedPrefixes: ["10.0.0.1/8"]))
        }
        #expect(throws: ControlError.self) {
            _ = try MeshOptionsCheck.policy(
                RoutePolicyView(allowedPrefixes: (0..<13).map { "10.\($0).0.0/16" }))
        }
    }
}
