// swift-tools-version:6.2
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
        .library(name: "IPAM", targets: ["IPAM"]),
        .library(name: "KubeAPI", targets: ["KubeAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Pure: IP addresses, CIDRs and the ClusterIP allocator. No I/O, no dependencies.
        .target(name: "IPAM", swiftSettings: strictSettings),
        // Pure: Kubernetes API objects, their JSON codec, labels and field selectors, validation.
        .target(name: "KubeAPI", dependencies: ["IPAM"], swiftSettings: strictSettings),
        // Pure: YAML and JSON manifests (multi-document) to and from typed objects.
        .target(
            name: "Manifests",
            dependencies: ["KubeAPI", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings),
        // Pure: Service create/update/delete as kube-apiserver's registry does it (defaults, IP families, ClusterIPs).
        .target(name: "ServiceRegistry", dependencies: ["KubeAPI", "IPAM"], swiftSettings: strictSettings),
        // Pure: the EndpointSlice and Endpoints computations of the controllers.
        .target(name: "Controllers", dependencies: ["KubeAPI", "IPAM"], swiftSettings: strictSettings),
        // Wiring: the subcommands of the `switchboard` executable.
        .target(
            name: "SwitchboardCommands",
            dependencies: [
                "IPAM", "KubeAPI", "Manifests", "ServiceRegistry", "Controllers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings),
        .executableTarget(name: "switchboard", dependencies: ["SwitchboardCommands"], swiftSettings: strictSettings),

        .testTarget(name: "IPAMTests", dependencies: ["IPAM"], swiftSettings: strictSettings),
        .testTarget(name: "KubeAPITests", dependencies: ["KubeAPI"], swiftSettings: strictSettings),
        .testTarget(name: "ManifestsTests", dependencies: ["Manifests", "KubeAPI", "IPAM"], exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(name: "ServiceRegistryTests", dependencies: ["ServiceRegistry", "KubeAPI", "IPAM"], swiftSettings: strictSettings),
        .testTarget(name: "ControllersTests", dependencies: ["Controllers", "KubeAPI"], swiftSettings: strictSettings),
        .testTarget(name: "SwitchboardCommandsTests", dependencies: ["SwitchboardCommands"], swiftSettings: strictSettings),
    ]
)
