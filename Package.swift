// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// Fuzz targets define `LLVMFuzzerTestOneInput` and no `main`, so they only link under
/// `--sanitize=fuzzer`. They are declared only when `SMEG_FUZZ=1` (see scripts/fuzz.sh), which
/// keeps `swift build` and `swift test` free of them.
let fuzzing = ProcessInfo.processInfo.environment["SMEG_FUZZ"] == "1"

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

var targets: [Target] = [
    // C libraries, located through pkg-config. Function-like macros are wrapped as static inline
    // functions in each shim header, because Swift does not import them.
    .systemLibrary(
        name: "CSodium",
        path: "Sources/CSodium",
        pkgConfig: "libsodium",
        providers: [.apt(["libsodium-dev"])]
    ),
    .systemLibrary(
        name: "CMnl",
        path: "Sources/CMnl",
        pkgConfig: "libmnl",
        providers: [.apt(["libmnl-dev"])]
    ),

    // The version the build was made from, written by the version plugin (scripts/version.sh).
    .target(name: "SmegBuildInfo", swiftSettings: strict, plugins: ["VersionPlugin"]),
    .plugin(name: "VersionPlugin", capability: .buildTool()),

    // Pure replicated state: no I/O, no clock, no randomness of its own.
    .target(name: "GossipCRDT", swiftSettings: strict),

    // The control API's definition: its routes, request and response types and framing, and the
    // few values they carry. Apart from MeshCore (which re-exports it) so that smegctl, a client,
    // links neither the protocol, the crypto nor the evaluation code (docs/operations.md).
    .target(name: "MeshAPI", dependencies: ["SmegBuildInfo"], swiftSettings: strict),
    // The mesh domain, pure: identity, addresses, records, codecs, sealing, the desired kernel
    // state. No socket, file or process.
    .target(
        name: "MeshCore",
        dependencies: ["MeshAPI", "GossipCRDT", "CSodium", "SmegBuildInfo"],
        swiftSettings: strict
    ),
    // The drivers, as NIOPosix is to NIOCore: rtnetlink and generic netlink, the WireGuard
    // backends (kernel netlink, wireguard-go over UAPI), files, the control socket's client.
    // The control socket's blocking client, apart from the drivers so that smegctl links neither
    // them nor the Foundation they use (MeshLinux re-exports it).
    .target(
        name: "MeshControl",
        dependencies: ["MeshAPI"],
        swiftSettings: strict
    ),
    .target(
        name: "MeshLinux",
        dependencies: ["MeshCore", "MeshControl", "CMnl"],
        swiftSettings: strict
    ),

    .executableTarget(
        name: "smegd",
        dependencies: [
            "MeshCore",
            "MeshLinux",
            "GossipCRDT",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ],
        swiftSettings: strict
    ),
    .executableTarget(
        name: "smegctl",
        dependencies: [
            "MeshAPI",
            "MeshControl",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        swiftSettings: strict
    ),
    // Applies and dumps WireGuard/rtnetlink state through MeshCore; used by the namespace and VM tests.
    .executableTarget(
        name: "smeg-netcheck",
        dependencies: [
            "MeshCore",
            "MeshLinux",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        swiftSettings: strict
    ),
    // A member holding a valid invite token that misbehaves on purpose: scripts/hostile-test.sh
    // runs it against real daemons to check that the mesh refuses, counts and survives each attack.
    .executableTarget(
        name: "smeg-attack",
        dependencies: [
            "MeshCore",
            "MeshLinux",
            "GossipCRDT",
            "CSodium",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        swiftSettings: strict
    ),
    // Runs many instances of the GossipCRDT protocol over a simulated network.
    .executableTarget(
        name: "smeg-sim",
        dependencies: [
            "GossipCRDT",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        swiftSettings: strict
    ),
    // Micro-benchmark of store merge and delta at 10,000 entries; run it from a release build.
    .executableTarget(name: "smeg-crdt-bench", dependencies: ["GossipCRDT"], swiftSettings: strict),

    .testTarget(
        name: "GossipCRDTTests",
        dependencies: [
            "GossipCRDT",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ],
        swiftSettings: strict
    ),
    .testTarget(
        name: "MeshCoreTests",
        dependencies: ["MeshCore", "MeshLinux", "CSodium", "CMnl"],
        swiftSettings: strict
    ),
    // The daemon's pure parts (configuration, API routing) tested in-process.
    .testTarget(
        name: "SmegdTests",
        dependencies: [
            "smegd", "MeshCore", "MeshLinux",
            .product(name: "Logging", package: "swift-log"),
            // The reference the configuration reader is held to (FlatYAMLTests); smegd itself
            // does not link it (docs/operations.md).
            .product(name: "Yams", package: "Yams"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "PropertyBased", package: "swift-property-based"),
        ],
        // State directories of older daemons, read by path (StateFixtureTests).
        exclude: ["Fixtures"],
        swiftSettings: strict
    ),
    // The CLI's output formatting (tables, DOT, filters) tested in-process.
    .testTarget(
        name: "SmegctlTests",
        dependencies: ["smegctl", "MeshCore", "MeshLinux"],
        swiftSettings: strict
    ),
    // Multi-process tests: they run the built executables (and, as root, network namespaces).
    .testTarget(
        name: "IntegrationTests",
        dependencies: ["MeshCore", "MeshLinux"],
        swiftSettings: strict
    ),
]

if fuzzing {
    let fuzzRoot = Context.packageDirectory + "/Fuzz"
    let names = (try? FileManager.default.contentsOfDirectory(atPath: fuzzRoot)) ?? []
    for name in names.sorted() where name.hasPrefix("Fuzz") {
        targets.append(
            .executableTarget(
                name: name,
                dependencies: ["MeshCore", "MeshLinux", "GossipCRDT"],
                path: "Fuzz/\(name)",
                swiftSettings: strict
            )
        )
    }
}

let package = Package(
    name: "smegmesh",
    products: [
        .executable(name: "smegd", targets: ["smegd"]),
        .executable(name: "smegctl", targets: ["smegctl"]),
        .executable(name: "smeg-sim", targets: ["smeg-sim"]),
        .executable(name: "smeg-crdt-bench", targets: ["smeg-crdt-bench"]),
        .executable(name: "smeg-netcheck", targets: ["smeg-netcheck"]),
        .executable(name: "smeg-attack", targets: ["smeg-attack"]),
        .library(name: "MeshAPI", targets: ["MeshAPI"]),
        .library(name: "MeshCore", targets: ["MeshCore"]),
        .library(name: "MeshControl", targets: ["MeshControl"]),
        .library(name: "MeshLinux", targets: ["MeshLinux"]),
        .library(name: "GossipCRDT", targets: ["GossipCRDT"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: targets
)
