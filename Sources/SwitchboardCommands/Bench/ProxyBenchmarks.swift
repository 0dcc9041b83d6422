#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import HostNetwork
import IPAM
import KubeAPI
import Proxy
import ProxyCore
import Logging

/// `switchboard bench proxy`: programming nftables for synthetic Services, and connecting through them, in a
/// network namespace of its own.
struct ProxyBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "nftables and iptables programming (cold sync, one change, no-op) and connect time at 10 to 30,000 Services (needs root).",
        discussion: """
            Everything happens in a network namespace the benchmark creates (sb-bench-proxy-PID) and removes: \
            Services with 2 endpoints each, an echo server on the namespace's loopback as every endpoint, and a \
            client connecting through one ClusterIP.
            """)

    @Flag(help: "Print results as JSON.")
    var json = false

    @Option(help: "Connections timed per connect-time figure.")
    var connections = 2000

    @Option(help: "Service counts, comma-separated (the first is the baseline of the connect-time ratios).")
    var counts = "10,1000,10000,30000"

    @Flag(help: "nftables only (no iptables comparison).")
    var nftablesOnly = false

    @Option(help: "The largest Service count iptables mode is measured at with iptables-nft (its restore of 10,000 Services takes over a minute and grows faster than the count); the legacy backend is measured at every count.")
    var iptablesNftMax = 10_000

    @Option(help: "iptables backends measured: nft, legacy, or both (nft,legacy). Run legacy on its own: after a legacy ruleset of 1,000 Services is replaced, connects in the namespace wait a clock tick (4 ms) for a while, whichever rules they meet.")
    var iptablesBackends = "nft"

    func run() async throws {
        guard getuid() == 0 else { throw CommandLineError("the proxy benchmark creates a network namespace and needs root (run it with sudo)") }
        // The node (rules, client) and a pod namespace behind a veth pair, both created here and removed on
        // every exit path.
        let namespace = "sb-bench-proxy-\(getpid())"
        let backend = "sb-bench-pod-\(getpid())"
        let namespaces = NetworkNamespaces()
        var server: ChildProcess?
        func cleanUp() async {
            if let server { await server.stop(signal: SIGKILL) }
            try? await namespaces.delete(namespace)
            try? await namespaces.delete(backend)
        }
        do {
            try await namespaces.add(namespace)
            try await namespaces.add(backend)
            try await namespaces.batch(
                ["link set lo up", "link add sbbench0 type veth peer name eth0 netns \(backend)", "addr add 10.250.0.1/24 dev sbbench0",
                 "link set sbbench0 up", "route add 10.96.0.0/12 via 10.250.0.2"], in: namespace)
            try await namespaces.batch(
                ["link set lo up", "addr add 10.250.0.2/24 dev eth0", "addr add 10.250.0.3/24 dev eth0", "link set eth0 up"], in: backend)
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(namespace)-echo.log").path
            server = try ChildProcess.spawn(
                HostCommandRunner.which("ip") ?? "/usr/sbin/ip",
                ["netns", "exec", backend, ChildProcess.currentExecutable, "echo", "--tcp", ":8080"],
                stdout: log, stderr: log, grouping: .newProcessGroup)
            var report = BenchmarkReport(title: "switchboard bench proxy")
            let sizes = counts.split(separator: ",").compactMap { Int($0) }
            guard sizes.count >= 1, sizes.allSatisfy({ $0 >= 1 && $0 <= 60_000 }) else { throw CommandLineError("--counts: numbers from 1 to 60000, e.g. 10,1000,10000") }
            if !nftablesOnly, HostCommandRunner.which("iptables-restore") == nil {
                throw CommandLineError("the iptables comparison needs iptables-restore (apt-get install iptables), or pass --nftables-only")
            }
            report.results = try await ProxyBenchmark(namespace: namespace, namespaces: namespaces, connections: connections)
                .run(counts: sizes, iptables: !nftablesOnly, iptablesNftMax: iptablesNftMax,
                     backends: Set(iptablesBackends.split(separator: ",").map(String.init)))
            await cleanUp()
            print(try report.render(json: json))
        } catch {
            await cleanUp()
            throw error
        }
    }
}

/// Runs every command inside one network namespace (`NetworkNamespaces.exec`), for the proxier's backends;
/// with `legacy`, the iptables programs of the legacy (x_tables) backend instead of the nf_tables one.
struct NamespaceCommandRunner: CommandRunner {
    let namespace: String
    let namespaces: NetworkNamespaces
    var legacy = false

    func run(_ argv: [String], stdin: String?, timeout: Duration) async throws -> CommandResult {
        var argv = argv
        if legacy, let program = argv.first, ["iptables", "iptables-save", "iptables-restore"].contains(program) {
            argv[0] = "iptables-legacy" + program.dropFirst("iptables".count)
        }
        return try await namespaces.exec(namespace, argv, stdin: stdin, timeout: timeout)
    }
}

struct ProxyBenchmark {
    let namespace: String
    let namespaces: NetworkNamespaces
    let connections: Int
    let clock = ContinuousClock()
    static let configuration = ProxyConfiguration(clusterCIDRs: [CIDR("10.244.0.0/16")!], serviceCIDRs: [CIDR("10.96.0.0/12")!])

    /// The ClusterIP connected to: the first Service's, the highest of the service CIDR, so that iptables mode's
    /// services chain (sorted by ClusterIP) walks every other rule before it matches, the worst case.
    static let measuredClusterIP = "10.111.255.254"

    /// `count` Services (10.96.x.y:80), 2 endpoints each; the first one's are the echo server's two addresses.
    static func objects(_ count: Int, extra: Int = 0) -> ([Service], [EndpointSlice]) {
        var services: [Service] = []
        var slices: [EndpointSlice] = []
        services.reserveCapacity(count + extra)
        for i in 0..<(count + extra) {
            let ip = i == 0 ? measuredClusterIP : "10.96.\(i / 250).\(i % 250 + 1)"
            var service = Service(metadata: ObjectMeta(name: "s\(i)", namespace: "bench"), spec: ServiceSpec(ports: [ServicePort(port: 80)]))
            service.spec.clusterIP = ip
            service.spec.clusterIPs = [ip]
            services.append(service)
            let addresses = i == 0 ? ["10.250.0.2", "10.250.0.3"] : ["10.244.\(i / 125 % 256).\(i % 125 * 2 + 1)", "10.244.\(i / 125 % 256).\(i % 125 * 2 + 2)"]
            let endpoints = addresses.map { Endpoint(addresses: [$0], conditions: EndpointConditions(ready: true)) }
            slices.append(EndpointSlice(
                metadata: ObjectMeta(name: "s\(i)-1", namespace: "bench", labels: ["kubernetes.io/service-name": "s\(i)"]),
                addressType: .ipv4, endpoints: endpoints, ports: [EndpointPort(name: "", port: 8080, protocol: .tcp)]))
        }
        return (services, slices)
    }

    /// One Service's ports, as the proxier computes them on a watch event.
    static func ports(_ service: Service, _ slice: EndpointSlice) -> [ServicePortState] {
        ProxyState.build(services: [service], slices: [slice], family: .ipv4, nodeName: nil).servicePorts
    }

    static func model(_ services: [Service], _ slices: [EndpointSlice]) -> NFTablesModel {
        NFTablesModel(ProxyState.build(services: services, slices: slices, family: .ipv4, nodeName: nil), family: .ipv4, configuration: configuration)
    }

    func apply(_ text: String) async throws {
        try await namespaces.runner.check(["ip", "netns", "exec", namespace, "nft", "-f", "-"], stdin: text)
    }

    /// Connect times (SYN to SYN-ACK, the packet that walks the rules) of `connections` TCP connections through
    /// the first Service's ClusterIP, timed one by one in the namespace: mean, p50, p99 in µs.
    func connectTimes() async throws -> (mean: Double, p50: Double, p99: Double) {
        let script = """
            import socket, time
            times = []
            for i in range(\(connections)):
                s = socket.socket()
                t = time.perf_counter_ns(); s.connect(('\(Self.measuredClusterIP)', 80)); times.append(time.perf_counter_ns() - t); s.recv(256); s.close()
            times.sort()
            print(sum(times) / len(times) / 1000, times[len(times) // 2] / 1000, times[min(len(times) - 1, len(times) * 99 // 100)] / 1000)
            """
        let result = try await namespaces.exec(namespace, ["python3", "-c", script], timeout: .seconds(300))
        let fields = result.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
        guard result.succeeded, fields.count == 3 else { throw BenchError("connections through the ClusterIP failed: \(result.stderr)") }
        return (fields[0], fields[1], fields[2])
    }

    func connectResult(_ mode: String, _ count: Int, base: Double?) async throws -> (BenchmarkResult, Double) {
        let times = try await connectTimes()
        let ratio = base.map { " (\(BenchmarkReport.format1(times.p99 / $0))× the p99 at the smallest count)" } ?? ""
        return (BenchmarkResult(
            name: "\(mode): connect p99, \(count) Services", value: times.p99, unit: "µs",
            detail: "p50 \(BenchmarkReport.format1(times.p50)) µs, mean \(BenchmarkReport.format1(times.mean)) µs over \(connections) connections\(ratio)"), times.p99)
    }

    func run(counts: [Int], iptables: Bool, iptablesNftMax: Int, backends: Set<String>) async throws -> [BenchmarkResult] {
        var results: [BenchmarkResult] = []
        var nftBase: Double?
        var iptBase: [Bool: Double] = [:]
        for count in counts {
            let (services, slices) = Self.objects(count, extra: 1)
            // Cold: every Service through the change tracker, then the whole table in one transaction.
            let start = clock.now
            var tracker = IncrementalModel(family: .ipv4, configuration: Self.configuration)
            _ = tracker.update((0..<count).map { (key: "bench/s\($0)", ports: Self.ports(services[$0], slices[$0])) })
            let text = NFTablesRuleset.render(tracker.model)
            let rendered = clock.now
            try await apply(text)
            let total = (clock.now - start).seconds
            let target: (String, Bool)? = count == 10_000 ? ("≤ 5 s", total <= 5) : count == 30_000 ? ("≤ 15 s", total <= 15) : nil
            results.append(BenchmarkResult(
                name: "nftables: cold sync, \(count) Services × 2 endpoints", value: total * 1000, unit: "ms", target: target?.0, meetsTarget: target?.1,
                detail: "state + render \(BenchmarkReport.format1((rendered - start).seconds * 1000)) ms, nft -f \(BenchmarkReport.format1((clock.now - rendered).seconds * 1000)) ms, \(text.utf8.count / 1024) KiB"))
            if count >= 10_000 {
                // One Service more: from the new object to rules in the kernel (its desired state, the difference,
                // nft -f), as the proxier does on a watch event.
                // The objects come with the watch event: in hand before the clock starts.
                let (newService, newSlice, middle) = (services[count], slices[count], services[count / 2])
                let addStart = clock.now
                let added = tracker.update([(key: "bench/s\(count)", ports: Self.ports(newService, newSlice))])
                let diff = NFTablesRuleset.difference(from: added.before, to: added.after, existingCounts: added.existingCounts) ?? ""
                try await apply(diff)
                let add = (clock.now - addStart).seconds
                results.append(BenchmarkResult(
                    name: "nftables: add one Service at \(count)", value: add * 1000, unit: "ms", target: count == 10_000 ? "≤ 15 ms" : nil,
                    meetsTarget: count == 10_000 ? add <= 0.015 : nil, detail: "\(diff.split(separator: "\n").count) operations; kube-proxy nftables: ~141 ms at 10,000"))
                // One endpoint changes.
                var changedSlice = slices[count / 2]
                changedSlice.endpoints[0].addresses = ["10.245.0.1"]
                let changeStart = clock.now
                let changed = tracker.update([(key: "bench/s\(count / 2)", ports: Self.ports(middle, changedSlice))])
                let changeDiff = NFTablesRuleset.difference(from: changed.before, to: changed.after, existingCounts: changed.existingCounts) ?? ""
                try await apply(changeDiff)
                results.append(BenchmarkResult(
                    name: "nftables: change one endpoint at \(count)", value: (clock.now - changeStart).seconds * 1000, unit: "ms",
                    detail: "\(changeDiff.split(separator: "\n").count) operations"))
                // A sync that finds nothing changed.
                let noopStart = clock.now
                let same = tracker.update([(key: "bench/s\(count / 2)", ports: Self.ports(middle, changedSlice))])
                if !same.isEmpty { throw BenchError("an unchanged Service produced a change") }
                results.append(BenchmarkResult(
                    name: "nftables: no-op sync at \(count)", value: (clock.now - noopStart).seconds * 1e6, unit: "µs", detail: "0 kernel calls"))
            }
            let (nftConnect, nftP99) = try await connectResult("nftables", count, base: nftBase)
            results.append(nftConnect)
            nftBase = nftBase ?? nftP99
            try await apply(NFTablesRuleset.deletion(family: .ipv4))
            guard iptables else { continue }

            // The same Services in iptables mode, through the proxier's own backend (one restore, then the jumps):
            // with the legacy backend at every count, with iptables-nft (what `iptables` is here) up to its limit.
            for legacy in [true, false] where legacy ? backends.contains("legacy") : backends.contains("nft") && count <= iptablesNftMax {
                let label = legacy ? "iptables (legacy)" : "iptables (nft)"
                let runner = NamespaceCommandRunner(namespace: namespace, namespaces: namespaces, legacy: legacy)
                let backend = IPTablesBackend(families: [.ipv4], configuration: Self.configuration, runner: runner, logger: Logger(label: "bench"))
                let updates = (0..<count).map { (key: "bench/s\($0)", ports: Self.ports(services[$0], slices[$0])) }
                let iptStart = clock.now
                _ = try await backend.sync(updates, family: .ipv4, whole: true)
                let cold = (clock.now - iptStart).seconds
                results.append(BenchmarkResult(
                    name: "\(label): cold sync, \(count) Services × 2 endpoints", value: cold * 1000, unit: "ms",
                    detail: "\(BenchmarkReport.format1(cold / total))× nftables' cold sync"))
                if count >= 10_000 {
                    let addStart = clock.now
                    let wrote = try await backend.sync([(key: "bench/s\(count)", ports: Self.ports(services[count], slices[count]))], family: .ipv4, whole: false)
                    let add = (clock.now - addStart).seconds
                    results.append(BenchmarkResult(
                        name: "\(label): add one Service at \(count)", value: add * 1000, unit: "ms",
                        detail: "\(wrote == .partial ? "partial restore: the services chain and the new Service's chains" : "\(wrote)")"))
                }
                var (connect, p99) = try await connectResult(label, count, base: iptBase[legacy])
                iptBase[legacy] = iptBase[legacy] ?? p99
                connect.detail = (connect.detail ?? "") + "; \(BenchmarkReport.format1(p99 / nftP99))× nftables' p99"
                results.append(connect)
                await backend.cleanup()
            }
        }
        results.append(BenchmarkResult(name: "benchmark peak memory", value: Self.peakRSS(), unit: "MiB"))
        return results
    }

    static func peakRSS() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kib / 1024
    }
}
