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
        // Traits off: Switchboard uses neither swift-configuration nor full Foundation through Hummingbird.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Pure: IP addresses, CIDRs and the ClusterIP allocator. No I/O, no dependencies.
        .target(name: "IPAM", swiftSettings: strictSettings),
        // Pure: the DNS wire format (RFC 1035, EDNS0): messages, name compression, truncation, TCP framing, fuzzer.
        .target(name: "DNSWire", swiftSettings: strictSettings),
        // Pure: Kubernetes API objects, their JSON codec, patches, labels and field selectors, validation.
        .target(name: "KubeAPI", dependencies: ["IPAM"], swiftSettings: strictSettings),
        // Pure: YAML and JSON manifests (multi-document) to and from typed objects.
        .target(
            name: "Manifests",
            dependencies: ["KubeAPI", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings),
        // Pure: Service create/update/delete as kube-apiserver's registry does it (defaults, IP families, ClusterIPs).
        .target(name: "ServiceRegistry", dependencies: ["KubeAPI", "IPAM"], swiftSettings: strictSettings),
        // The Kubernetes client contract: list and watch, create, update, delete; informer caches. No transport.
        .target(
            name: "KubeClient",
            dependencies: ["KubeAPI", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        // KubeClient over HTTP/1.1 (SwiftNIO), on TCP or a Unix socket: for components in other processes.
        .target(
            name: "KubeClientHTTP",
            dependencies: [
                "KubeAPI", "KubeClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        // The EndpointSlice and Endpoints controllers: pure computations and their watch-driven runners.
        .target(
            name: "Controllers",
            dependencies: ["KubeAPI", "IPAM", "KubeClient", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        // SQLite, the system library (Debian: libsqlite3-dev).
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The durable object store: versioned objects, watches, group-committed SQLite persistence.
        .target(
            name: "ClusterStore",
            dependencies: [
                "KubeAPI", "CSQLite",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        // The Kubernetes API over HTTP (Hummingbird), admission, tables, and the in-process client.
        .target(
            name: "APIServer",
            dependencies: [
                "KubeAPI", "ClusterStore", "ServiceRegistry", "KubeClient", "Manifests",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        // Pure: the proxy's desired state from Services and EndpointSlices, and the nftables ruleset it renders.
        .target(name: "ProxyCore", dependencies: ["KubeAPI", "IPAM"], swiftSettings: strictSettings),
        // Pure: the cluster DNS zone (CoreDNS's `kubernetes` plugin): Services and EndpointSlices → answers, no wire format.
        .target(name: "DNSZone", dependencies: ["KubeAPI", "IPAM"], swiftSettings: strictSettings),
        // The cluster DNS server: zone snapshots from list/watch, UDP and TCP on SwiftNIO, cache and upstream forwarding.
        .target(
            name: "ClusterDNS",
            dependencies: [
                "DNSWire", "DNSZone", "KubeAPI", "KubeClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        // The proxier: watches Services and EndpointSlices and programs nftables in its network namespace.
        .target(
            name: "Proxy",
            dependencies: [
                "ProxyCore", "KubeAPI", "IPAM", "KubeClient", "HostNetwork", "UserspaceProxy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        // The userspace proxy mode: a SwiftNIO relay in the proxy's own process that accepts on each Service
        // port (the ClusterIP, or a loopback address it maps to) and relays TCP streams and UDP datagrams to a
        // ready endpoint. No root, no netfilter.
        .target(
            name: "UserspaceProxy",
            dependencies: [
                "ProxyCore", "IPAM",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        // The built-in test workload: TCP, UDP and HTTP servers that answer with the pod's name and the client
        // address they saw, and the matching client.
        .target(
            name: "Echo",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        // I/O adapter: running host commands (`ip`, `ip netns exec`) and the network namespace, veth, bridge,
        // address and route operations built on them.
        .target(
            name: "HostNetwork",
            dependencies: ["IPAM", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        // The node agent (kubelet's job): registers the Node, runs its pods as processes in network namespaces,
        // probes readiness and reports status. Pure state machines beside the runtime that drives them.
        .target(
            name: "NodeAgent",
            dependencies: [
                "KubeAPI", "IPAM", "KubeClient", "KubeClientHTTP", "HostNetwork", "Proxy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        // The closed-world lab: a cluster of network namespaces on one machine (topology plan and lifecycle).
        .target(
            name: "Lab",
            dependencies: [
                "IPAM", "KubeAPI", "KubeClient", "KubeClientHTTP", "HostNetwork", "NodeAgent",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        // Wiring: the subcommands of the `switchboard` executable.
        .target(
            name: "SwitchboardCommands",
            dependencies: [
                "IPAM", "KubeAPI", "Manifests", "ServiceRegistry", "Controllers", "ClusterStore", "APIServer",
                "KubeClient", "KubeClientHTTP", "Echo", "HostNetwork", "NodeAgent", "Lab", "ProxyCore", "Proxy", "UserspaceProxy",
                "DNSWire", "DNSZone", "ClusterDNS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        .executableTarget(name: "switchboard", dependencies: ["SwitchboardCommands"], swiftSettings: strictSettings),

        .testTarget(name: "IPAMTests", dependencies: ["IPAM"], swiftSettings: strictSettings),
        .testTarget(name: "DNSWireTests", dependencies: ["DNSWire"], swiftSettings: strictSettings),
        .testTarget(name: "KubeAPITests", dependencies: ["KubeAPI"], swiftSettings: strictSettings),
        .testTarget(
            name: "ManifestsTests", dependencies: ["Manifests", "KubeAPI", "IPAM"], exclude: ["Fixtures"],
            swiftSettings: strictSettings),
        .testTarget(name: "ServiceRegistryTests", dependencies: ["ServiceRegistry", "KubeAPI", "IPAM"], swiftSettings: strictSettings),
        .testTarget(name: "ControllersTests", dependencies: ["Controllers", "KubeAPI", "KubeClient"], swiftSettings: strictSettings),
        .testTarget(name: "ClusterStoreTests", dependencies: ["ClusterStore", "KubeAPI"], swiftSettings: strictSettings),
        .testTarget(
            name: "APIServerTests",
            dependencies: ["APIServer", "ClusterStore", "KubeAPI", "KubeClient", "KubeClientHTTP", "SwitchboardCommands"],
            swiftSettings: strictSettings),
        .testTarget(name: "ProxyCoreTests", dependencies: ["ProxyCore", "KubeAPI", "IPAM"], swiftSettings: strictSettings),
        .testTarget(name: "DNSZoneTests", dependencies: ["DNSZone", "KubeAPI", "IPAM"], swiftSettings: strictSettings),
        .testTarget(name: "ClusterDNSTests", dependencies: ["ClusterDNS", "DNSWire", "DNSZone", "KubeAPI", "KubeClient"], swiftSettings: strictSettings),
        .testTarget(
            name: "UserspaceProxyTests", dependencies: ["UserspaceProxy", "ProxyCore", "IPAM", "Echo"], swiftSettings: strictSettings),
        .testTarget(name: "EchoTests", dependencies: ["Echo"], swiftSettings: strictSettings),
        .testTarget(name: "NodeAgentTests", dependencies: ["NodeAgent", "KubeAPI", "IPAM"], swiftSettings: strictSettings),
        .testTarget(name: "LabTests", dependencies: ["Lab", "IPAM"], swiftSettings: strictSettings),
        .testTarget(name: "SwitchboardCommandsTests", dependencies: ["SwitchboardCommands"], swiftSettings: strictSettings),
        // End to end: the real kubectl and HTTP clients against a real `switchboard up` child process; and, as
        // root, lab clusters in network namespaces the tests create, with real pods and real traffic (`Lab/`).
        .testTarget(
            name: "ControlPlaneTests", dependencies: ["KubeAPI", "KubeClient", "KubeClientHTTP", "HostNetwork"],
            swiftSettings: strictSettings),
    ]
)
