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
import KubeAPI
import KubeClient
import KubeClientHTTP
import Synchronization
import UnixSignals

/// `switchboard bench proxy-memory`: the resident memory of a real `switchboard proxy` process watching N
/// Services with 2 endpoints each, against a fresh `switchboard up`.
struct ProxyMemoryBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy-memory",
        abstract: "Resident memory (VmRSS, VmHWM) of a real `switchboard proxy` at 30,000 Services × 2 endpoints (needs root).",
        discussion: """
            Starts `switchboard up` (this executable) on loopback with a temporary data directory, creates --services \
            selector-less Services and for each an EndpointSlice with 2 ready endpoints, then starts `switchboard \
            proxy` in a network namespace of its own (sb-bench-mem-PID) and reads /proc/PID/status after its first \
            full sync, after one more Service (a partial sync) and after its first periodic resync. Every process, \
            the namespace and the directory are removed on every exit path, Ctrl-C included. Nothing is changed in \
            the host's network namespace.
            """)

    @Option(help: "Services created (each with an EndpointSlice of 2 ready endpoints).")
    var services = 30_000

    @Option(help: "Concurrent clients creating the objects.")
    var clients = 16

    @Option(help: "Seconds the proxy has for its first full sync.")
    var timeout = 300

    @Flag(help: "Do not wait for the proxy's first periodic resync (30 s after its start).")
    var noResync = false

    @Flag(help: "Print results as JSON.")
    var json = false

    func run() async throws {
        guard getuid() == 0 else { throw CommandLineError("the proxy-memory benchmark creates a network namespace and needs root (run it with sudo)") }
        guard services >= 1, clients >= 1, timeout >= 1 else { throw ValidationError("--services, --clients and --timeout must be at least 1") }
        for tool in ["ip", "nft"] where HostCommandRunner.which(tool) == nil {
            throw CommandLineError("the proxy-memory benchmark needs `\(tool)` (apt-get install iproute2 nftables)")
        }
        let bench = ProxyMemoryBenchmark(services: services, clients: clients, timeout: .seconds(timeout), resync: !noResync)
        // Ctrl-C or SIGTERM ends the measurement; the clean-up below runs on every path.
        try await runInterruptible(title: "switchboard bench proxy-memory", json: json, { try await bench.run() }, cleanUp: { await bench.cleanUp() })
    }
}

/// One run: the processes it started, its namespace and its directory, and the measurement.
final class ProxyMemoryBenchmark: Sendable {
    let services: Int
    let clients: Int
    let timeout: Duration
    let resync: Bool
    let namespace = "sb-bench-mem-\(getpid())"
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-bench-mem-\(getpid())").path
    let namespaces = NetworkNamespaces()
    /// Everything started, in order (the control plane, then the proxy): stopped in reverse.
    let started = Mutex<[ChildProcess]>([])
    /// The proxier's period between full resyncs (`switchboard proxy`'s default).
    static let syncPeriod: Duration = .seconds(30)

    init(services: Int, clients: Int, timeout: Duration, resync: Bool) {
        self.services = services
        self.clients = clients
        self.timeout = timeout
        self.resync = resync
    }

    var dataDirectory: String { directory + "/data" }
    var proxyLog: String { directory + "/proxy.log" }

    func run() async throws -> [BenchmarkResult] {
        let clock = ContinuousClock()
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)

        // The control plane, on loopback in this (the host's) namespace; its API address from its kubeconfig.
        let upLog = directory + "/up.log"
        try spawn(ChildProcess.currentExecutable, ["up", "--data-dir", dataDirectory, "--listen", "127.0.0.1:0"], log: upLog)
        let endpoint = try await waitForKubeconfig(log: upLog)
        let client = HTTPClusterClient(endpoint: endpoint, maxIdleConnections: clients)
        defer { Task { await client.shutdown() } }

        // The objects: the proxy is started only once they all exist, so that its first sync is the cold one.
        let existing = try await client.list(Service.self, namespace: nil).items
        let basePorts = existing.reduce(0) { $0 + Self.programmedPorts($1) }
        _ = try await client.create(Namespace(metadata: ObjectMeta(name: "bench")))
        let createStart = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<clients {
                group.addTask {
                    for i in stride(from: worker, to: self.services, by: self.clients) {
                        _ = try await client.create(Self.service(i))
                        _ = try await client.create(Self.slice(i))
                    }
                }
            }
            try await group.waitForAll()
        }
        let created = (clock.now - createStart).seconds
        let expected = basePorts + services

        // The proxy, in a namespace of its own, against the API's Unix socket (loopback TCP of the host is not
        // reachable from there).
        try await namespaces.add(namespace)
        let proxyStart = clock.now
        let proxy = try spawn(
            HostCommandRunner.which("ip") ?? "/usr/sbin/ip",
            [
                "netns", "exec", namespace, ChildProcess.currentExecutable, "proxy", "--server", "unix://\(dataDirectory)/api.sock",
                "--hostname-override", "bench", "--cluster-cidr", "10.244.0.0/16", "--service-cidr", "10.96.0.0/12",
                "--healthz-bind-address", "", "--metrics-bind-address", "",
            ], log: proxyLog,
            // Debug logs name each partial sync: how the add is seen without reading the table back (`nft get
            // element` reads the whole ruleset, 1.5 s at 30,000 Services).
            environment: ProcessInfo.processInfo.environment.filter { $0.key != "SWITCHBOARD_LOG_LEVEL" }.map { "\($0.key)=\($0.value)" }
                + ["SWITCHBOARD_LOG_LEVEL=debug"])
        let marker = "full sync of the ip table: \(expected) service ports"
        try await waitFor("the proxy's first full sync (\(expected) service ports)", proxy, until: proxyStart + timeout) {
            self.logContains(marker)
        }
        let firstSync = (clock.now - proxyStart).seconds
        let atSync = ProcStatus(pid: proxy.pid)
        let coldIdle = await waitForIdle(proxy)
        let cold = ProcStatus(pid: proxy.pid)
        var results = [
            BenchmarkResult(
                name: "objects created", value: Double(2 * services) / created, unit: "creates/s",
                detail: "\(services) Services + \(services) EndpointSlices in \(BenchmarkReport.format1(created)) s, \(clients) clients"),
            BenchmarkResult(
                name: "proxy start → first full sync", value: firstSync, unit: "s",
                detail: "\(expected) service ports (\(services) Services and the API's own): list, decode, state, nft -f"),
            BenchmarkResult(
                name: "proxy RSS after the first full sync", value: cold.rssMiB, unit: "MiB", target: Self.target,
                meetsTarget: cold.rss <= Self.limit,
                detail: "\(Self.idle(coldIdle)); \(BenchmarkReport.format1(atSync.rssMiB)) MiB when it logged the sync"),
            BenchmarkResult(name: "proxy peak RSS (VmHWM) up to then", value: cold.hwmMiB, unit: "MiB", detail: "the initial lists being decoded"),
        ]

        if resync {
            // The periodic resync reads the kernel's table back (`nft list table`) and compares: the largest
            // transient of a steady proxier. Measured before the add, so that the add does not wait for it.
            try await waitFor("the proxy's periodic resync", proxy, until: proxyStart + Self.syncPeriod * 2 + .seconds(30)) {
                self.listing(by: proxy) != nil
            }
            if let nft = listing(by: proxy) {
                try await waitFor("the resync's `nft list`", proxy, until: clock.now + .seconds(60)) {
                    (try? String(contentsOfFile: "/proc/\(nft)/cmdline", encoding: .utf8))?.contains("list") != true
                }
            }
            let resyncIdle = await waitForIdle(proxy)
            let afterResync = ProcStatus(pid: proxy.pid)
            results.append(BenchmarkResult(
                name: "proxy RSS after a periodic resync", value: afterResync.rssMiB, unit: "MiB", target: Self.target,
                meetsTarget: afterResync.rss <= Self.limit, detail: "\(Self.idle(resyncIdle)); it read the table back"))
        }

        // One Service more: its slice first, then the Service, so that usually one partial sync brings both.
        _ = try await client.create(Self.slice(services))
        var seen = syncLines()
        let addStart = clock.now
        let added = try await client.create(Self.service(services))
        guard let ip = added.spec.clusterIP else { throw BenchError("the API allocated no ClusterIP to bench/s\(services)") }
        var add = 0.0
        // Each sync the proxy logs, until one has left the new ClusterIP with its endpoints (the first can be
        // of the Service alone, when its event comes before the slice's).
        while true {
            try await waitFor("a sync of the added Service", proxy, until: addStart + .seconds(30)) { self.syncLines() > seen }
            add = (clock.now - addStart).seconds
            seen = syncLines()
            if await kernelHasBackends(ip) { break }
        }
        let addIdle = await waitForIdle(proxy)
        let afterAdd = ProcStatus(pid: proxy.pid)
        results += [
            BenchmarkResult(
                name: "add one Service: create → rules in the kernel", value: add * 1000, unit: "ms",
                detail: "API, watch event, partial sync, nft -f"),
            BenchmarkResult(
                name: "proxy RSS after the add", value: afterAdd.rssMiB, unit: "MiB", target: Self.target,
                meetsTarget: afterAdd.rss <= Self.limit, detail: Self.idle(addIdle)),
            BenchmarkResult(
                name: "proxy peak RSS (VmHWM), whole run", value: afterAdd.hwmMiB, unit: "MiB",
                detail: resync ? "cold sync, resync, add" : "cold sync, add"),
        ]
        return results
    }

    static let target = "≤ 150 MB (143 MiB)"
    static let limit = 150_000_000.0

    static func idle(_ idle: Bool) -> String { idle ? "idle" : "still busy after 20 s" }

    /// Stops every process this run started (by PID, newest first), then anything still in its namespace;
    /// deletes the namespace and the directory. Safe after a failure at any step.
    func cleanUp() async {
        let processes = started.withLock { list -> [ChildProcess] in
            defer { list.removeAll() }
            return list
        }
        // A process already reaped (seen exiting) is not signalled again.
        for process in processes.reversed() where kill(process.pid, 0) == 0 { await process.stop(signal: SIGTERM, timeout: .seconds(10)) }
        if NetworkNamespaces.exists(namespace) {
            // An `nft` the proxy had running when it was stopped.
            for pid in await namespaces.pids(namespace) { kill(pid, SIGKILL) }
            try? await namespaces.delete(namespace)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Steps

    @discardableResult
    func spawn(_ executable: String, _ arguments: [String], log: String, environment: [String]? = nil) throws -> ChildProcess {
        let process = try ChildProcess.spawn(executable, arguments, stdout: log, stderr: log, environment: environment, grouping: .newProcessGroup)
        started.withLock { $0.append(process) }
        return process
    }

    /// The API address from the kubeconfig `switchboard up` writes once it listens.
    func waitForKubeconfig(log: String) async throws -> APIEndpoint {
        let path = dataDirectory + "/kubeconfig"
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if FileManager.default.fileExists(atPath: path), let endpoint = try? APIConnection.endpoint(server: nil, kubeconfig: path),
                case .tcp = endpoint
            {
                return endpoint
            }
            if let up = started.withLock({ $0.first }), up.exit() != nil {
                throw BenchError("switchboard up exited: \(Self.tail(log))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError("switchboard up wrote no kubeconfig within 30 s: \(Self.tail(log))")
    }

    /// Polls `condition` every 10 ms until it holds; throws when `deadline` passes or the proxy exits.
    func waitFor(_ what: String, _ proxy: ChildProcess, until deadline: ContinuousClock.Instant, _ condition: () async -> Bool) async throws {
        while ContinuousClock.now < deadline {
            if await condition() { return }
            if let exit = proxy.exit() { throw BenchError("the proxy exited (\(exit)) before \(what): \(Self.tail(proxyLog))") }
            if logContains("programming the IPv4 table failed") { throw BenchError("the proxy could not program its table: \(Self.tail(proxyLog))") }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw BenchError("no \(what) in time: \(Self.tail(proxyLog))")
    }

    /// Waits until the process has used no CPU for 500 ms (at most 20 s): what it holds once it is done.
    func waitForIdle(_ process: ChildProcess) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(20)
        var last = ProcStatus.cpuTicks(pid: process.pid)
        var quiet = 0
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            let now = ProcStatus.cpuTicks(pid: process.pid)
            quiet = now == last ? quiet + 1 : 0
            last = now
            if quiet >= 5 { return true }
        }
        return false
    }

    func logContains(_ text: String) -> Bool {
        ((try? String(contentsOfFile: proxyLog, encoding: .utf8)) ?? "").contains(text)
    }

    /// Syncs the proxy has logged (partial at debug level, and full).
    func syncLines() -> Int {
        let text = (try? String(contentsOfFile: proxyLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.contains("partial sync: ") || $0.contains("full sync of the ip table") }.count
    }

    /// True once `service-ips` sends the ClusterIP's port 80 to a 2-endpoint chain (read after the figure is
    /// taken: `nft get element` reads the whole ruleset).
    func kernelHasBackends(_ ip: String) async -> Bool {
        guard let result = try? await namespaces.exec(namespace, ["nft", "get", "element", "ip", "switchboard", "service-ips", "{ \(ip) . tcp . 80 }"])
        else { return false }
        return result.succeeded && result.stdout.contains("endpoints-2")
    }

    /// An `nft list` the proxy is running (its resync reading the table back), by PID.
    func listing(by proxy: ChildProcess) -> pid_t? {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(proxy.pid)/task")) ?? []
        for task in tasks {
            guard let text = try? String(contentsOfFile: "/proc/\(proxy.pid)/task/\(task)/children", encoding: .utf8) else { continue }
            for child in text.split(separator: " ").compactMap({ pid_t($0) }) {
                let command = (try? String(contentsOfFile: "/proc/\(child)/cmdline", encoding: .utf8)) ?? ""
                if command.hasPrefix("nft\0list") || command.contains("/nft\0list") { return child }
            }
        }
        return nil
    }

    // MARK: Objects

    /// `bench/sI`: selector-less, port 80, its ClusterIP allocated by the API.
    static func service(_ i: Int) -> Service {
        Service(metadata: ObjectMeta(name: "s\(i)", namespace: "bench"), spec: ServiceSpec(ports: [ServicePort(port: 80)]))
    }

    /// `bench/sI-1`: 2 ready endpoints in 10.244.0.0/16, port 8080.
    static func slice(_ i: Int) -> EndpointSlice {
        let endpoints = (0..<2).map { j -> Endpoint in
            let k = (2 * i + j) % 65_534 + 1
            return Endpoint(addresses: ["10.244.\(k >> 8).\(k & 255)"], conditions: EndpointConditions(ready: true))
        }
        return EndpointSlice(
            metadata: ObjectMeta(name: "s\(i)-1", namespace: "bench", labels: [EndpointSlice.serviceNameLabel: "s\(i)"]),
            addressType: .ipv4, endpoints: endpoints, ports: [EndpointPort(name: "", port: 8080, protocol: .tcp)])
    }

    /// The IPv4 Service ports the proxier programs for a Service that already exists (the `kubernetes` one).
    static func programmedPorts(_ service: Service) -> Int {
        guard service.type != .externalName, let ip = service.spec.clusterIP, ip != "None", !ip.contains(":") else { return 0 }
        return service.ports.count
    }

    static func tail(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(800))
    }
}

/// A process's memory as /proc/PID/status reports it, in bytes.
struct ProcStatus {
    var rss: Double = 0
    var hwm: Double = 0

    init(pid: pid_t) {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            // `VmRSS:\t  123456 kB`
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kib = Double(fields[1]) else { continue }
            if fields[0] == "VmRSS:" { rss = kib * 1024 }
            if fields[0] == "VmHWM:" { hwm = kib * 1024 }
        }
    }

    var rssMiB: Double { rss / 1_048_576 }
    var hwmMiB: Double { hwm / 1_048_576 }

    /// utime + stime of /proc/PID/stat, in clock ticks.
    static func cpuTicks(pid: pid_t) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else { return -1 }
        // After the command's closing parenthesis: state is field 3, utime 14, stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return -1 }
        return user + system
    }
}
