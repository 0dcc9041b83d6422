import Foundation
import IPAM
import KubeAPI
import Testing
@testable import ProxyCore

/// The renderer's text against the real thing: `iptables-restore` in a network namespace the test creates and
/// always removes (`sb-ipt-<random>`), so that nothing is ever written in the host's namespace, which is
/// checked too. As root with iptables installed only; the traffic through these rules is the behaviour suite's.
@Suite(.enabled(if: KernelTools.available, "needs root, ip and iptables-restore"), .serialized)
struct IPTablesKernelTests {
    static func tool(_ name: String) -> String? { KernelTools.tool(name) }

    struct Output {
        var status: Int32
        var out: String
        var err: String
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var argv: [String]
        var output: Output
        var description: String { "\(argv.joined(separator: " ")): exit \(output.status): \(output.err)\(output.out)" }
    }

    /// Runs `argv` (argv[0] looked up in the sbin and bin directories), `input` on its standard input.
    static func run(_ argv: [String], input: String? = nil) throws -> Output {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-ipt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool(argv[0]) ?? argv[0])
        process.arguments = Array(argv.dropFirst())
        // Files, not pipes, for input and errors: a full pipe nobody reads would block the child.
        let inputFile = directory.appendingPathComponent("in")
        try (input ?? "").write(to: inputFile, atomically: false, encoding: .utf8)
        process.standardInput = try FileHandle(forReadingFrom: inputFile)
        let errorFile = directory.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let err = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        return Output(status: process.terminationStatus, out: String(decoding: out, as: UTF8.self), err: err)
    }

    /// `run`, failing on a non-zero exit.
    @discardableResult
    static func must(_ argv: [String], input: String? = nil) throws -> String {
        let output = try run(argv, input: input)
        guard output.status == 0 else { throw CommandFailed(argv: argv, output: output) }
        return output.out
    }

    /// The host's rules, without the comments (dates) and counters that change by themselves.
    static func hostRules() throws -> String {
        let text = try must(["iptables-save"]) + (try must(["ip6tables-save"]))
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            line.hasPrefix(":") ? String(line.prefix { $0 != "[" }) : String(line)
        }.joined(separator: "\n")
    }

    /// Runs `body` in a fresh namespace and removes the namespace whatever happens.
    static func withNamespace(_ body: (String) throws -> Void) throws {
        let name = "sb-ipt-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try must(["ip", "netns", "add", name])
        defer { _ = try? run(["ip", "netns", "delete", name]) }
        try must(["ip", "-n", name, "link", "set", "lo", "up"])
        try body(name)
    }

    static func netnsGone(_ name: String) throws -> Bool {
        !(try must(["ip", "netns", "list"])).split(separator: "\n").contains { $0.split(separator: " ").first.map(String.init) == name }
    }

    /// Our chains and their number of rules, per table, in restore text or `iptables-save` output: chains a
    /// text deletes (`-X`) are not counted.
    static func ruleCounts(_ text: String) -> [String: [String: Int]] {
        var counts: [String: [String: Int]] = [:]
        var table = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("*") {
                table = String(line.dropFirst())
            } else if line.hasPrefix(":") {
                let name = String(line.dropFirst().prefix { $0 != " " })
                if IPTablesRuleset.isOurs(name) { counts[table, default: [:]][name] = 0 }
            } else if line.hasPrefix("-A ") {
                let name = String(line.dropFirst(3).prefix { $0 != " " })
                if IPTablesRuleset.isOurs(name) { counts[table, default: [:]][name, default: 0] += 1 }
            } else if line.hasPrefix("-X ") {
                counts[table]?[String(line.dropFirst(3))] = nil
            }
        }
        return counts
    }

    /// Applies the jumps as a proxier does: check, insert when missing.
    static func ensureJumps(_ ns: String, family: IPFamily) throws -> Int {
        var inserted = 0
        for jump in IPTablesRuleset.jumps(family: family) {
            if try run(["ip", "netns", "exec", ns] + jump.arguments(.check)).status != 0 {
                try must(["ip", "netns", "exec", ns] + jump.arguments(.insert))
                inserted += 1
            }
        }
        return inserted
    }

    /// Whether the `recent` list `name` is gone, within two seconds (nf_tables frees a transaction's old rules,
    /// and with them the list, after the commit, from a work queue).
    static func recentListGone(_ ns: String, _ name: String) throws -> Bool {
        for _ in 0..<20 {
            if !(try must(["ip", "netns", "exec", ns, "ls", "/proc/net/xt_recent"])).contains(name) { return true }
            usleep(100_000)
        }
        return false
    }

    static func save(_ ns: String, family: IPFamily) throws -> String {
        try must(["ip", "netns", "exec", ns, family == .ipv4 ? "iptables-save" : "ip6tables-save"])
    }

    static func restore(_ ns: String, _ text: String, family: IPFamily) throws {
        try must(["ip", "netns", "exec", ns] + IPTablesRuleset.restoreCommand(family: family), input: text)
    }

    static func sticky(_ name: String, ip: String, timeout: Int32) -> Service {
        var service = Fixture.service(name, ip: ip)
        service.spec.sessionAffinity = .clientIP
        service.spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: timeout))
        return service
    }

    static let configuration = ProxyConfiguration(
        clusterCIDRs: [CIDR("10.0.0.0/8")!, CIDR("100.64.0.0/10")!, CIDR("fd00:10::/48")!], serviceCIDRs: [CIDR("172.30.0.0/16")!, CIDR("fd00:172:30::/112")!])

    /// A few Services of every kind: plain, two protocols on one port number, sticky, no endpoints, endpoints
    /// only on another node.
    static func ipv4Services(stickyEndpoints: [String], svc1: Bool, emptyGetsOne: Bool, timeout: Int32 = 60) -> ProxyState {
        let dns = [ServicePort(name: "tcp", protocol: .tcp, port: 53), ServicePort(name: "udp", protocol: .udp, port: 53)]
        var services = [
            Fixture.service("svc2", ip: "172.30.0.42", ports: dns), sticky("sticky", ip: "172.30.0.43", timeout: timeout),
            Fixture.service("empty", ip: "172.30.0.44"), Fixture.service("local", ip: "172.30.0.45", local: true),
        ]
        var slices = [
            Fixture.slice(
                "svc2", [Fixture.endpoint("10.180.0.2"), Fixture.endpoint("10.180.0.3")],
                ports: [EndpointPort(name: "tcp", port: 5353, protocol: .tcp), EndpointPort(name: "udp", port: 53, protocol: .udp)]),
            Fixture.slice("sticky", stickyEndpoints.map { Fixture.endpoint($0) }),
            Fixture.slice("local", [Fixture.endpoint("10.180.9.1", node: "node2")]),
        ]
        if svc1 {
            services.append(Fixture.service("svc1", ip: "172.30.0.41"))
            slices.append(Fixture.slice("svc1", [Fixture.endpoint("10.180.0.1")]))
        }
        if emptyGetsOne { slices.append(Fixture.slice("empty", [Fixture.endpoint("10.180.0.7")])) }
        return Fixture.state(services, slices)
    }

    @Test func ipv4FullRestoreJumpsPartialRestoreAndStaleChains() throws {
        let hostBefore = try Self.hostRules()
        var namespace = ""
        try Self.withNamespace { ns in
            namespace = ns
            let c = Self.configuration
            let first = Self.ipv4Services(stickyEndpoints: ["10.180.0.4", "10.180.0.5"], svc1: true, emptyGetsOne: false)
            let full = IPTablesRuleset.render(first, family: .ipv4, configuration: c, existingChains: IPTablesRuleset.ourChains(inSave: try Self.save(ns, family: .ipv4)))
            try Self.restore(ns, full, family: .ipv4)
            #expect(try Self.ensureJumps(ns, family: .ipv4) == 6)
            #expect(try Self.ensureJumps(ns, family: .ipv4) == 0, "idempotent: every jump is found by -C")
            let saved = try Self.save(ns, family: .ipv4)
            #expect(Self.ruleCounts(saved) == Self.ruleCounts(full), "the kernel holds what was rendered:\n\(saved)")
            #expect(IPTablesRuleset.ourChains(inSave: saved).mapValues(\.count) == Self.ruleCounts(full).mapValues(\.count))
            #expect(saved.contains("-A PREROUTING -m comment --comment \"switchboard service portals\" -j SWITCHBOARD-SERVICES"))
            #expect(saved.contains("-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"switchboard service checks\" -j SWITCHBOARD-CHECKS"))
            #expect(saved.contains("-A PREROUTING -m comment --comment \"switchboard external service traffic\" -j SWITCHBOARD-EXTERNAL"))
            #expect(saved.contains("--to-destination 10.180.0.2:5353"))
            #expect(saved.contains("-j MASQUERADE --random-fully"))
            #expect(saved.contains("-j REJECT --reject-with tcp-reset"))

            // A client pinned to 10.180.0.4, written straight into its `recent` list.
            let stickyPort = try #require(first.servicePorts.first { $0.name == "ns/sticky:80" })
            let pinned = IPTablesRuleset.endpointChain(stickyPort, stickyPort.endpoints[0])
            try Self.must(["ip", "netns", "exec", ns, "sh", "-c", "echo +10.0.0.9 > /proc/net/xt_recent/\(pinned)"])
            #expect(try Self.must(["ip", "netns", "exec", ns, "cat", "/proc/net/xt_recent/\(pinned)"]).contains("src=10.0.0.9"))

            // svc1 goes, sticky gains an endpoint, empty gets one: a partial restore.
            let second = Self.ipv4Services(stickyEndpoints: ["10.180.0.4", "10.180.0.5", "10.180.0.6"], svc1: false, emptyGetsOne: true)
            let partial = try #require(IPTablesRuleset.difference(from: first, to: second, family: .ipv4, configuration: c))
            #expect(!partial.contains(":\(pinned) "), "the pinned endpoint's chain is not touched")
            try Self.restore(ns, partial, family: .ipv4)
            let afterPartial = try Self.save(ns, family: .ipv4)
            let expected = IPTablesRuleset.render(second, family: .ipv4, configuration: c)
            #expect(Self.ruleCounts(afterPartial) == Self.ruleCounts(expected), "a partial restore ends where a full one would:\n\(partial)\n\(afterPartial)")
            let svc1Port = try #require(first.servicePorts.first { $0.name == "ns/svc1:80" })
            #expect(!afterPartial.contains(IPTablesRuleset.serviceChain(svc1Port)))
            #expect(try Self.must(["ip", "netns", "exec", ns, "cat", "/proc/net/xt_recent/\(pinned)"]).contains("src=10.0.0.9"), "the pin survives")
            #expect(try Self.ensureJumps(ns, family: .ipv4) == 0, "--noflush keeps the jumps")
            #expect(IPTablesRuleset.difference(from: second, to: second, family: .ipv4, configuration: c) == "")
            // A new timeout rewrites the port's chain (its `--rcheck` rules name the lists), not the endpoints'
            // (their `--set` has no timeout); the new rules find the lists by name.
            let longer = Self.ipv4Services(stickyEndpoints: ["10.180.0.4", "10.180.0.5", "10.180.0.6"], svc1: false, emptyGetsOne: true, timeout: 120)
            let rewrite = try #require(IPTablesRuleset.difference(from: second, to: longer, family: .ipv4, configuration: c))
            #expect(rewrite.contains(":\(IPTablesRuleset.serviceChain(stickyPort)) - [0:0]") && !rewrite.contains(":\(pinned) "))
            try Self.restore(ns, rewrite, family: .ipv4)
            #expect(try Self.save(ns, family: .ipv4).contains("--seconds 120"))
            #expect(try Self.must(["ip", "netns", "exec", ns, "cat", "/proc/net/xt_recent/\(pinned)"]).contains("src=10.0.0.9"), "the pin survives a rewrite")

            // A restarted proxier whose state lost the sticky Service: the full restore deletes its chains.
            let third = Fixture.state(
                [Fixture.service("svc2", ip: "172.30.0.42")], [Fixture.slice("svc2", [Fixture.endpoint("10.180.0.2")])])
            let existing = IPTablesRuleset.ourChains(inSave: try Self.save(ns, family: .ipv4))
            let cleanup = IPTablesRuleset.render(third, family: .ipv4, configuration: c, existingChains: existing)
            #expect(cleanup.contains("-X \(pinned)"))
            try Self.restore(ns, cleanup, family: .ipv4)
            let afterCleanup = try Self.save(ns, family: .ipv4)
            #expect(Self.ruleCounts(afterCleanup) == Self.ruleCounts(cleanup), "\(afterCleanup)")
            #expect(!afterCleanup.contains(pinned))
            #expect(try Self.recentListGone(ns, pinned), "the deleted endpoint's pins go with its last rule")
        }
        #expect(try Self.netnsGone(namespace))
        #expect(try Self.hostRules() == hostBefore, "nothing in the host's namespace")
    }

    @Test func ipv6FullAndPartialRestore() throws {
        let hostBefore = try Self.hostRules()
        var namespace = ""
        try Self.withNamespace { ns in
            namespace = ns
            let c = Self.configuration
            let services = [Fixture.service("v6", ip: "fd00:172:30::41"), Self.sticky("s6", ip: "fd00:172:30::43", timeout: 10800), Fixture.service("e6", ip: "fd00:172:30::44")]
            let first = Fixture.state(
                services,
                [
                    Fixture.slice("v6", [Fixture.endpoint("fd00:10:180::1"), Fixture.endpoint("fd00:10:180::2")], type: .ipv6),
                    Fixture.slice("s6", [Fixture.endpoint("fd00:10:180::4")], type: .ipv6),
                ], family: .ipv6)
            let full = IPTablesRuleset.render(first, family: .ipv6, configuration: c)
            try Self.restore(ns, full, family: .ipv6)
            #expect(try Self.ensureJumps(ns, family: .ipv6) == 6)
            let saved = try Self.save(ns, family: .ipv6)
            #expect(Self.ruleCounts(saved) == Self.ruleCounts(full), "\(saved)")
            #expect(saved.contains("--to-destination [fd00:10:180::1]:80"))
            #expect(saved.contains("--reject-with icmp6-port-unreachable"))
            #expect(try Self.save(ns, family: .ipv4).split(separator: "\n").allSatisfy { !$0.contains("SB-") }, "the families are separate")

            let second = Fixture.state(
                services, [Fixture.slice("v6", [Fixture.endpoint("fd00:10:180::2")], type: .ipv6), Fixture.slice("e6", [Fixture.endpoint("fd00:10:180::5")], type: .ipv6)],
                family: .ipv6)
            let partial = try #require(IPTablesRuleset.difference(from: first, to: second, family: .ipv6, configuration: c))
            try Self.restore(ns, partial, family: .ipv6)
            let afterPartial = try Self.save(ns, family: .ipv6)
            #expect(Self.ruleCounts(afterPartial) == Self.ruleCounts(IPTablesRuleset.render(second, family: .ipv6, configuration: c)), "\(partial)\n\(afterPartial)")
        }
        #expect(try Self.netnsGone(namespace))
        #expect(try Self.hostRules() == hostBefore)
    }
}

/// Outside the suite: its `.enabled(if:)` trait cannot name the suite's own members.
enum KernelTools {
    static var available: Bool {
        getuid() == 0 && tool("ip") != nil && tool("iptables-restore") != nil && tool("ip6tables-restore") != nil
    }

    static func tool(_ name: String) -> String? {
        ["/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"].map { $0 + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
