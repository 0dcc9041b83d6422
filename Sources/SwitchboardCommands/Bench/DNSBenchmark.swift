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

/// `switchboard bench dns`: `dnsperf` on loopback against a real `switchboard dns` and against Knot DNS serving
/// a zone file of the same records, with the same query file, on one core and on two.
struct DNSBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Queries per second, latency and memory of `switchboard dns` against Knot DNS, with dnsperf on loopback.",
        discussion: """
            Starts `switchboard up` (this executable) on loopback with a temporary data directory and creates \
            --services selector-less Services in --namespaces namespaces (two named TCP ports each, --headless of \
            them headless), each with an EndpointSlice of --endpoints ready endpoints. Writes a zone file with the \
            records `switchboard dns` answers for them (generated from the same objects, read back from the API) \
            for Knot DNS, and one dnsperf query file used for both servers (70% A of ClusterIP Services, 15% SRV \
            of their named ports, 15% names that are NXDOMAIN: search-path expansions and missing Services). \
            Then, for each server: the maximum throughput with the server pinned to core 1 and dnsperf to core 0 \
            (`switchboard dns --threads 1`, Knot `udp-workers: 1`), the same with both cores and no pinning \
            (`--threads 2`, `udp-workers: 2`), and the latency at half of switchboard's maximum rate of that \
            configuration (per-query latencies from `dnsperf -v`). Memory is VmRSS/VmHWM of `switchboard dns` \
            after the load. Needs dnsperf, knotd and taskset (apt-get install dnsperf knot util-linux) and two \
            cores. Every process is stopped by PID and the directory removed on every exit path, Ctrl-C included. \
            Only loopback traffic, in the host's network namespace.
            """)

    @Option(help: "Services created (ClusterIP ones plus --headless headless ones).")
    var services = 10_000

    @Option(help: "How many of the Services are headless (clusterIP: None).")
    var headless = 1_000

    @Option(help: "Ready endpoints in each Service's EndpointSlice.")
    var endpoints = 5

    @Option(help: "Namespaces the Services are spread over.")
    var namespaces = 10

    @Option(help: "Concurrent clients creating the objects.")
    var clients = 16

    @Option(help: "Seconds of each dnsperf run.")
    var duration = 10

    @Option(help: "Lines of the dnsperf query file.")
    var queries = 100_000

    @Option(help: "dnsperf -c: client sockets.")
    var dnsperfClients = 8

    @Option(help: "dnsperf -T: threads (each a sender and a receiver).")
    var dnsperfThreads = 1

    @Option(help: "dnsperf -q: queries outstanding at most.")
    var outstanding = 500

    @Flag(help: "Print results as JSON.")
    var json = false

    func run() async throws {
        guard services >= 2, headless >= 0, headless < services, endpoints >= 1, namespaces >= 1, clients >= 1, duration >= 1,
            queries >= 100, dnsperfClients >= 1, dnsperfThreads >= 1, outstanding >= 1
        else { throw ValidationError("--services must be at least 2 and more than --headless; the other counts at least 1 (--queries 100)") }
        var tools: [String: String] = [:]
        for (tool, fallback) in [("dnsperf", "/usr/bin/dnsperf"), ("knotd", "/usr/sbin/knotd"), ("taskset", "/usr/bin/taskset")] {
            guard let path = HostCommandRunner.which(tool) ?? HostCommandRunner.which(fallback) else {
                throw CommandLineError("the dns benchmark needs `\(tool)` (apt-get install dnsperf knot util-linux)")
            }
            tools[tool] = path
        }
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        guard cores >= 2 else { throw CommandLineError("the dns benchmark pins the server and dnsperf to different cores and needs two (this machine has \(cores))") }
        let settings = DNSBenchmark.Settings(
            services: services, headless: headless, endpoints: endpoints, namespaces: namespaces, clients: clients,
            duration: duration, queries: queries, perfClients: dnsperfClients, perfThreads: dnsperfThreads, outstanding: outstanding)
        let bench = DNSBenchmark(settings: settings, dnsperf: tools["dnsperf"]!, knotd: tools["knotd"]!, taskset: tools["taskset"]!)
        // Ctrl-C or SIGTERM ends the measurement; the clean-up below runs on every path.
        try await runInterruptible(title: "switchboard bench dns", json: json, { try await bench.run() }, cleanUp: { await bench.cleanUp() })
    }
}

/// One run: the processes it started, its directory, and the measurement.
final class DNSBenchmark: Sendable {
    struct Settings: Sendable {
        var services: Int
        var headless: Int
        var endpoints: Int
        var namespaces: Int
        var clients: Int
        var duration: Int
        var queries: Int
        var perfClients: Int
        var perfThreads: Int
        var outstanding: Int
    }

    /// One dnsperf run, as it reported it.
    struct PerfRun: Sendable {
        var qps = 0.0
        var sent = 0
        var completed = 0
        var lost = 0
        var averageLatency = 0.0
        var latencyStdDev = 0.0
        var responseCodes = ""
        var responseSize = 0.0
        /// dnsperf's own run time, seconds.
        var runTime = 0.0
        /// Per-query latencies in seconds (verbose runs only), sorted.
        var latencies: [Double] = []
        /// CPU the server used during the run, in cores.
        var serverCores = 0.0
        /// CPU dnsperf used, in cores.
        var perfCores = 0.0

        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return .nan }
            return latencies[min(latencies.count - 1, Int((p * Double(latencies.count - 1)).rounded()))]
        }

        /// The share of NXDOMAIN answers, from the response-code line.
        var nxdomainShare: Double {
            guard let range = responseCodes.firstRange(of: "NXDOMAIN "), let open = responseCodes[range.upperBound...].firstIndex(of: "("),
                let close = responseCodes[open...].firstIndex(of: "%"), let value = Double(responseCodes[responseCodes.index(after: open)..<close])
            else { return 0 }
            return value / 100
        }
    }

    /// What a server answered for one question: for comparing the two servers.
    struct Reply: Sendable, Hashable {
        var rcode: Int
        var answers: Int
        var additionals: Int
    }

    let settings: Settings
    let dnsperf: String
    let knotd: String
    let taskset: String
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-bench-dns-\(getpid())").path
    /// Everything running that this run started, oldest first; a process leaves the list once reaped.
    let started = Mutex<[ChildProcess]>([])

    static let zone = "cluster.local"
    static let ttl = 30
    /// CoreDNS's published throughput for cluster names, per vCPU.
    static let coreDNSPerVCPU = 17_000.0

    init(settings: Settings, dnsperf: String, knotd: String, taskset: String) {
        self.settings = settings
        self.dnsperf = dnsperf
        self.knotd = knotd
        self.taskset = taskset
    }

    var dataDirectory: String { directory + "/data" }
    var knotDirectory: String { directory + "/knot" }
    var queryFile: String { directory + "/queries.txt" }
    var zoneFile: String { knotDirectory + "/\(Self.zone).zone" }
    var clusterIPServices: Int { settings.services - settings.headless }

    func run() async throws -> [BenchmarkResult] {
        let clock = ContinuousClock()
        let loadAtStart = Self.loadAverage()
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: knotDirectory + "/db", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: knotDirectory + "/run", withIntermediateDirectories: true)

        // The control plane, on loopback; its API address from its kubeconfig.
        let upLog = directory + "/up.log"
        let up = try spawn(ChildProcess.currentExecutable, ["up", "--data-dir", dataDirectory, "--listen", "127.0.0.1:0"], log: upLog)
        let endpoint = try await waitForKubeconfig(up, log: upLog)
        let client = HTTPClusterClient(endpoint: endpoint, maxIdleConnections: settings.clients)
        defer { Task { await client.shutdown() } }

        // The fixture: the cluster DNS Service (the NS glue), then the Services and their slices.
        let settings = self.settings
        for n in 0..<settings.namespaces { _ = try await client.create(Namespace(metadata: ObjectMeta(name: Self.namespace(n)))) }
        _ = try await client.create(Service(
            metadata: ObjectMeta(name: "kube-dns", namespace: "kube-system"),
            spec: ServiceSpec(ports: [
                ServicePort(name: "dns", protocol: .udp, port: 53), ServicePort(name: "dns-tcp", protocol: .tcp, port: 53),
            ])))
        let createStart = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<settings.clients {
                group.addTask {
                    for i in stride(from: worker, to: settings.services, by: settings.clients) {
                        _ = try await client.create(Self.service(i, settings))
                        _ = try await client.create(Self.slice(i, settings))
                    }
                }
            }
            try await group.waitForAll()
        }
        let created = (clock.now - createStart).seconds

        // The Knot zone from what the API holds (ClusterIPs allocated there), and the query file.
        let allServices = try await client.list(Service.self, namespace: nil).items
        let allSlices = try await client.list(EndpointSlice.self, namespace: nil).items
        let (zoneText, zoneRecords) = Self.zoneFile(services: allServices, slices: allSlices)
        try write(zoneText, to: zoneFile)
        var random = DNSBenchRandom(seed: 0x5357_4254_4348)
        let queryLines = Self.queryLines(settings, random: &random)
        try write(queryLines.joined(separator: "\n") + "\n", to: queryFile)
        // A sample of the questions, asked of both servers and compared.
        let sample = (0..<300).map { _ in queryLines[Int.random(in: 0..<queryLines.count, using: &random)] }
        let lastService = "\(Self.serviceName(settings.services - 1)).\(Self.namespace((settings.services - 1) % settings.namespaces)).svc.\(Self.zone)"

        // 1. One core: each server on core 1, dnsperf on core 0.
        let sb1 = try await startSwitchboard(threads: 1, pin: "1", endpoint: dataDirectory + "/kubeconfig", last: lastService)
        let sbReplies = sample.map { query(port: sb1.port, line: $0) }
        let sbMax1 = try await perf(port: sb1.port, server: sb1.process, pin: "0", rate: nil, warmUp: true)
        let half1 = max(1, Int(sbMax1.qps / 2))
        let sbLat1 = try await perf(port: sb1.port, server: sb1.process, pin: "0", rate: half1, warmUp: false)
        let rss1 = Self.memory(sb1.process.pid)
        try await stop(sb1.process)

        let knot1 = try await startKnot(workers: 1, pin: "1", last: lastService)
        let knotReplies = sample.map { query(port: knot1.port, line: $0) }
        let knotMax1 = try await perf(port: knot1.port, server: knot1.process, pin: "0", rate: nil, warmUp: true)
        let knotLat1 = try await perf(port: knot1.port, server: knot1.process, pin: "0", rate: half1, warmUp: false)
        try await stop(knot1.process)

        // 2. Two cores, nothing pinned.
        let sb2 = try await startSwitchboard(threads: 2, pin: nil, endpoint: dataDirectory + "/kubeconfig", last: lastService)
        let idle2 = Self.memory(sb2.process.pid)
        let sbMax2 = try await perf(port: sb2.port, server: sb2.process, pin: nil, rate: nil, warmUp: true)
        let half2 = max(1, Int(sbMax2.qps / 2))
        let sbLat2 = try await perf(port: sb2.port, server: sb2.process, pin: nil, rate: half2, warmUp: false)
        let rss2 = Self.memory(sb2.process.pid)
        try await stop(sb2.process)

        let knot2 = try await startKnot(workers: 2, pin: nil, last: lastService)
        let knotMax2 = try await perf(port: knot2.port, server: knot2.process, pin: nil, rate: nil, warmUp: true)
        let knotLat2 = try await perf(port: knot2.port, server: knot2.process, pin: nil, rate: half2, warmUp: false)
        try await stop(knot2.process)

        // The figures.
        let mismatches = zip(sample, zip(sbReplies, knotReplies)).filter { $0.1.0 != $0.1.1 }
        let fiveX = 5 * Self.coreDNSPerVCPU
        let perfSettings = "dnsperf -c \(settings.perfClients) -T \(settings.perfThreads) -q \(settings.outstanding) -l \(settings.duration)"
        func detail(_ run: PerfRun) -> String {
            "\(BenchmarkReport.format(Self.efficiency(run))) q per server CPU-second; server CPU \(BenchmarkReport.format1(run.serverCores)) cores, dnsperf \(BenchmarkReport.format1(run.perfCores)) cores, "
                + "lost \(run.lost) of \(run.sent), \(BenchmarkReport.format1(run.nxdomainShare * 100))% NXDOMAIN, \(BenchmarkReport.format1(run.responseSize)) B/response"
        }
        func latency(_ who: String, _ run: PerfRun, rate: Int, target: Bool) -> [BenchmarkResult] {
            let p99 = run.percentile(0.99)
            return [
                BenchmarkResult(
                    name: "\(who): p50 / p90 at \(rate) q/s", value: run.percentile(0.5) * 1000, unit: "ms",
                    detail: "p90 \(BenchmarkReport.format1(run.percentile(0.9) * 1000)) ms; dnsperf average \(BenchmarkReport.format1(run.averageLatency * 1000)) ms, "
                        + "stddev \(BenchmarkReport.format1(run.latencyStdDev * 1000)) ms; \(run.latencies.count) answers; achieved \(BenchmarkReport.format1(run.qps)) q/s, lost \(run.lost)"),
                BenchmarkResult(
                    name: "\(who): p99 at \(rate) q/s", value: p99 * 1000, unit: "ms", target: target ? "≤ 1 ms at half of the maximum" : nil,
                    meetsTarget: target ? p99 <= 0.001 : nil,
                    detail: "p99.9 \(BenchmarkReport.format1(run.percentile(0.999) * 1000)) ms, max \(BenchmarkReport.format1((run.latencies.last ?? .nan) * 1000)) ms"),
            ]
        }
        var results = [
            BenchmarkResult(
                name: "objects created", value: Double(2 * settings.services) / created, unit: "creates/s",
                detail: "\(settings.services) Services (\(settings.headless) headless) + \(settings.services) EndpointSlices × \(settings.endpoints) endpoints in \(settings.namespaces) namespaces, \(BenchmarkReport.format1(created)) s, \(settings.clients) clients"),
            BenchmarkResult(
                name: "switchboard dns start → answers the last Service", value: sb1.ready * 1000, unit: "ms",
                detail: "1 thread; \(BenchmarkReport.format1(sb2.ready * 1000)) ms with 2"),
            BenchmarkResult(
                name: "Knot zone file", value: Double(zoneRecords), unit: "records",
                detail: "loaded and answering in \(BenchmarkReport.format1(knot1.ready * 1000)) ms; \(queryLines.count) query lines"),
            BenchmarkResult(
                name: "sample answers identical (rcode, answer and additional counts)", value: Double(sample.count - mismatches.count), unit: "of \(sample.count)",
                target: "all", meetsTarget: mismatches.isEmpty,
                detail: mismatches.first.map { "\(mismatches.count) differ; first: \($0.0) → switchboard \(Self.describe($0.1.0)), knot \(Self.describe($0.1.1))" }),
            BenchmarkResult(
                name: "switchboard dns, 1 core: max", value: sbMax1.qps, unit: "q/s", target: "≥ 5× CoreDNS's 17,000/vCPU (85k)",
                meetsTarget: sbMax1.qps >= fiveX, detail: detail(sbMax1)),
            BenchmarkResult(name: "knotd, 1 core: max", value: knotMax1.qps, unit: "q/s", detail: detail(knotMax1)),
            BenchmarkResult(
                name: "switchboard / knot, 1 core", value: sbMax1.qps / knotMax1.qps, unit: "×", target: "≥ 0.70", meetsTarget: sbMax1.qps >= 0.7 * knotMax1.qps),
            BenchmarkResult(
                name: "switchboard / knot, queries per server CPU-second, 1 core", value: Self.efficiency(sbMax1) / Self.efficiency(knotMax1), unit: "×",
                detail: "\(BenchmarkReport.format(Self.efficiency(sbMax1))) against \(BenchmarkReport.format(Self.efficiency(knotMax1))): what the ratio would be with each server owning its core"),
            BenchmarkResult(
                name: "switchboard / CoreDNS per vCPU, 1 core", value: sbMax1.qps / Self.coreDNSPerVCPU, unit: "×", target: "≥ 5",
                meetsTarget: sbMax1.qps >= fiveX),
            BenchmarkResult(name: "switchboard dns, 2 cores: max", value: sbMax2.qps, unit: "q/s", detail: detail(sbMax2)),
            BenchmarkResult(name: "knotd, 2 cores: max", value: knotMax2.qps, unit: "q/s", detail: detail(knotMax2)),
            BenchmarkResult(
                name: "switchboard / knot, 2 cores", value: sbMax2.qps / knotMax2.qps, unit: "×", target: "≥ 0.70", meetsTarget: sbMax2.qps >= 0.7 * knotMax2.qps),
            BenchmarkResult(
                name: "switchboard / CoreDNS per vCPU, 2 cores", value: sbMax2.qps / 2 / Self.coreDNSPerVCPU, unit: "×",
                detail: "\(BenchmarkReport.format1(sbMax2.qps / 2)) q/s per vCPU, dnsperf sharing the two"),
        ]
        results += latency("switchboard dns, 1 core", sbLat1, rate: half1, target: true)
        results += latency("knotd, 1 core", knotLat1, rate: half1, target: false)
        results += latency("switchboard dns, 2 cores", sbLat2, rate: half2, target: true)
        results += latency("knotd, 2 cores", knotLat2, rate: half2, target: false)
        results += [
            BenchmarkResult(
                name: "switchboard dns RSS after the load, 2 threads", value: rss2.rss / 1_048_576, unit: "MiB", target: "≤ 60 MB (57.2 MiB)",
                meetsTarget: rss2.rss <= 60_000_000,
                detail: "VmHWM \(BenchmarkReport.format1(rss2.hwm / 1_048_576)) MiB; \(BenchmarkReport.format1(idle2.rss / 1_048_576)) MiB before the load"),
            BenchmarkResult(
                name: "switchboard dns RSS after the load, 1 thread", value: rss1.rss / 1_048_576, unit: "MiB", target: "≤ 60 MB (57.2 MiB)",
                meetsTarget: rss1.rss <= 60_000_000, detail: "VmHWM \(BenchmarkReport.format1(rss1.hwm / 1_048_576)) MiB"),
            BenchmarkResult(
                name: "machine load average (1 min) at the end", value: Self.loadAverage(), unit: "",
                detail: "\(BenchmarkReport.format1(loadAtStart)) at the start; above ~0.1 something else shared the 2 cores"),
            BenchmarkResult(
                name: "dnsperf settings", value: Double(settings.duration), unit: "s/run",
                detail: "\(perfSettings) -t 2, after a 2 s warm-up; 1 core: server `taskset -c 1`, dnsperf `taskset -c 0`; 2 cores: no pinning; latency: -Q at half of switchboard's max, -v"),
        ]
        return results
    }

    /// Stops every process this run started that is still running (by PID, newest first); removes the directory.
    /// Safe after a failure at any step.
    func cleanUp() async {
        let processes = started.withLock { list -> [ChildProcess] in
            defer { list.removeAll() }
            return list
        }
        for process in processes.reversed() { await process.stop(signal: SIGTERM, timeout: .seconds(10)) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Processes

    func spawn(_ executable: String, _ arguments: [String], log: String, pin: String? = nil) throws -> ChildProcess {
        let (path, argv) = pin.map { (taskset, ["-c", $0, executable] + arguments) } ?? (executable, arguments)
        let process = try ChildProcess.spawn(path, argv, stdout: log, stderr: log, grouping: .newProcessGroup)
        started.withLock { $0.append(process) }
        return process
    }

    /// Stops one process (SIGTERM, SIGKILL after 10 s) and forgets it.
    func stop(_ process: ChildProcess) async throws {
        await process.stop(signal: SIGTERM, timeout: .seconds(10))
        forget(process)
    }

    func forget(_ process: ChildProcess) { started.withLock { $0.removeAll { $0 == process } } }

    /// The API address from the kubeconfig `switchboard up` writes once it listens.
    func waitForKubeconfig(_ up: ChildProcess, log: String) async throws -> APIEndpoint {
        let path = dataDirectory + "/kubeconfig"
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if FileManager.default.fileExists(atPath: path), let endpoint = try? APIConnection.endpoint(server: nil, kubeconfig: path),
                case .tcp = endpoint
            {
                return endpoint
            }
            if let exit = up.exit() {
                forget(up)
                throw BenchError("switchboard up exited (\(exit)): \(Self.tail(log))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError("switchboard up wrote no kubeconfig within 30 s: \(Self.tail(log))")
    }

    struct Server {
        var process: ChildProcess
        var port: Int
        /// Seconds from the start to the first answer for the last Service.
        var ready: Double
    }

    func startSwitchboard(threads: Int, pin: String?, endpoint kubeconfig: String, last: String) async throws -> Server {
        let port = try Self.freePort()
        let log = directory + "/dns-\(threads).log"
        let start = ContinuousClock.now
        let process = try spawn(
            ChildProcess.currentExecutable,
            [
                "dns", "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:\(port)", "--upstream", "none", "--metrics-bind-address", "",
                "--threads", String(threads),
            ], log: log, pin: pin)
        try await waitForAnswer(process, port: port, name: last, what: "switchboard dns", log: log, timeout: .seconds(120))
        return Server(process: process, port: port, ready: (ContinuousClock.now - start).seconds)
    }

    func startKnot(workers: Int, pin: String?, last: String) async throws -> Server {
        let port = try Self.freePort()
        let conf = knotDirectory + "/knot-\(workers).conf"
        try write(
            """
            server:
                rundir: "\(knotDirectory)/run"
                listen: 127.0.0.1@\(port)
                udp-workers: \(workers)
                tcp-workers: 1
                background-workers: \(workers)
            log:
              - target: stderr
                any: notice
            database:
                storage: "\(knotDirectory)/db"
            template:
              - id: default
                storage: "\(knotDirectory)"
                file: "%s.zone"
                zonefile-sync: -1
                zonefile-load: whole
                journal-content: none
            zone:
              - domain: \(Self.zone)

            """, to: conf)
        let log = knotDirectory + "/knot-\(workers).log"
        let start = ContinuousClock.now
        let process = try spawn(knotd, ["-c", conf], log: log, pin: pin)
        try await waitForAnswer(process, port: port, name: last, what: "knotd", log: log, timeout: .seconds(120))
        return Server(process: process, port: port, ready: (ContinuousClock.now - start).seconds)
    }

    /// Polls with an A query for `name` until the server answers it with an address.
    func waitForAnswer(_ process: ChildProcess, port: Int, name: String, what: String, log: String, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let reply = Self.query(port: port, name: name, type: 1, timeoutMilliseconds: 100), reply.rcode == 0, reply.answers >= 1 { return }
            if let exit = process.exit() {
                forget(process)
                throw BenchError("\(what) exited (\(exit)) before answering \(name): \(Self.tail(log))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError("\(what) did not answer \(name) within \(timeout): \(Self.tail(log))")
    }

    /// One dnsperf run (after a 2 s warm-up run when `warmUp`), with the server's CPU use over it.
    func perf(port: Int, server: ChildProcess, pin: String?, rate: Int?, warmUp: Bool) async throws -> PerfRun {
        if warmUp { _ = try await dnsperfRun(port: port, server: server, pin: pin, rate: rate, seconds: 2, verbose: false) }
        return try await dnsperfRun(port: port, server: server, pin: pin, rate: rate, seconds: settings.duration, verbose: rate != nil)
    }

    func dnsperfRun(port: Int, server: ChildProcess, pin: String?, rate: Int?, seconds: Int, verbose: Bool) async throws -> PerfRun {
        var arguments = [
            "-s", "127.0.0.1", "-p", String(port), "-d", queryFile, "-l", String(seconds), "-t", "2",
            "-c", String(settings.perfClients), "-T", String(settings.perfThreads), "-q", String(settings.outstanding),
        ]
        if let rate { arguments += ["-Q", String(rate)] }
        if verbose { arguments.append("-v") }
        let out = directory + "/dnsperf.out"
        let clock = ContinuousClock()
        let before = Self.cpuSeconds(server.pid)
        let childrenBefore = Self.childrenCPUSeconds()
        let start = clock.now
        let process = try spawn(dnsperf, arguments, log: out, pin: pin)
        let deadline = start + .seconds(seconds + 30)
        var exit: ChildProcess.Exit?
        while exit == nil {
            exit = process.exit()
            if exit != nil { break }
            guard clock.now < deadline else { throw BenchError("dnsperf did not finish within \(seconds + 30) s: \(Self.tail(out))") }
            try await Task.sleep(for: .milliseconds(50))
        }
        forget(process)
        let elapsed = (clock.now - start).seconds
        let serverCPU = Self.cpuSeconds(server.pid) - before
        let perfCPU = Self.childrenCPUSeconds() - childrenBefore
        guard exit == .exited(0) else { throw BenchError("dnsperf failed (\(exit!)): \(Self.tail(out))") }
        if let serverExit = server.exit() {
            forget(server)
            throw BenchError("the server exited (\(serverExit)) during the load")
        }
        let text = try String(contentsOfFile: out, encoding: .utf8)
        var run = Self.parse(text)
        guard run.qps > 0 else { throw BenchError("no `Queries per second` in dnsperf's output: \(Self.tail(out))") }
        // Over dnsperf's run time: the wall time also holds its start and its wait for the last answers.
        let window = run.runTime > 0 ? min(run.runTime, elapsed) : elapsed
        run.serverCores = serverCPU / window
        run.perfCores = perfCPU / window
        try? FileManager.default.removeItem(atPath: out)
        return run
    }

    /// dnsperf's statistics, and with -v the latency of each answered query (`> NOERROR name A 0.000123`).
    static func parse(_ text: String) -> PerfRun {
        var run = PerfRun()
        func number(_ line: Substring, after label: String) -> Double? {
            guard let range = line.firstRange(of: label) else { return nil }
            return line[range.upperBound...].split(separator: " ").first.flatMap { Double($0) }
        }
        for line in text.split(separator: "\n") {
            if line.hasPrefix("> ") {
                if let last = line.split(separator: " ").last, let seconds = Double(last) { run.latencies.append(seconds) }
                continue
            }
            if let v = number(line, after: "Queries per second:") { run.qps = v }
            if let v = number(line, after: "Queries sent:") { run.sent = Int(v) }
            if let v = number(line, after: "Queries completed:") { run.completed = Int(v) }
            if let v = number(line, after: "Queries lost:") { run.lost = Int(v) }
            if let v = number(line, after: "Average Latency (s):") { run.averageLatency = v }
            if let v = number(line, after: "Latency StdDev (s):") { run.latencyStdDev = v }
            if let v = number(line, after: "response ") { run.responseSize = v }
            if let v = number(line, after: "Run time (s):") { run.runTime = v }
            if let range = line.firstRange(of: "Response codes:") {
                run.responseCodes = String(line[range.upperBound...].drop { $0 == " " })
            }
        }
        run.latencies.sort()
        return run
    }

    // MARK: Measuring

    /// VmRSS and VmHWM of /proc/PID/status, in bytes.
    static func memory(_ pid: pid_t) -> (rss: Double, hwm: Double) {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        var rss = 0.0
        var hwm = 0.0
        for line in text.split(separator: "\n") {
            // `VmRSS:\t   1234 kB`: a tab, then spaces.
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kib = Double(fields[1]) else { continue }
            if fields[0] == "VmRSS:" { rss = kib * 1024 }
            if fields[0] == "VmHWM:" { hwm = kib * 1024 }
        }
        return (rss, hwm)
    }

    /// Queries answered per second of the server's CPU time.
    static func efficiency(_ run: PerfRun) -> Double { run.qps / max(run.serverCores, 0.01) }

    /// The first figure of /proc/loadavg.
    static func loadAverage() -> Double {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").first.flatMap { Double($0) } ?? .nan
    }

    /// utime + stime of a running process (all its threads), in seconds.
    static func cpuSeconds(_ pid: pid_t) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU of this process's reaped children, in seconds.
    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    // MARK: DNS over UDP, for readiness and the answer comparison

    func query(port: Int, line: String) -> Reply? {
        let fields = line.split(separator: " ")
        guard fields.count == 2 else { return nil }
        return Self.query(port: port, name: String(fields[0]), type: fields[1] == "SRV" ? 33 : 1, timeoutMilliseconds: 500)
    }

    /// One query on a fresh UDP socket; nil on timeout.
    static func query(port: Int, name: String, type: UInt16, timeoutMilliseconds: Int) -> Reply? {
        let id = UInt16.random(in: 0...UInt16.max)
        var packet: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.utf8.split(separator: UInt8(ascii: ".")) {
            packet.append(UInt8(label.count))
            packet.append(contentsOf: label)
        }
        packet += [0, UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port: port)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard sent == packet.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while ContinuousClock.now < deadline {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count >= 12 else { return nil }
            guard buffer[0] == packet[0], buffer[1] == packet[1] else { continue }
            return Reply(
                rcode: Int(buffer[3] & 0x0f), answers: Int(buffer[6]) << 8 | Int(buffer[7]), additionals: Int(buffer[10]) << 8 | Int(buffer[11]))
        }
        return nil
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        return address
    }

    /// A loopback port free for both UDP and TCP right now.
    static func freePort() throws -> Int {
        for _ in 0..<20 {
            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard udp >= 0 else { break }
            defer { close(udp) }
            var address = loopback(port: 0)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(udp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { continue }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(udp, $0, &length) }
            }
            let port = Int(UInt16(bigEndian: address.sin_port))
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard tcp >= 0 else { break }
            defer { close(tcp) }
            var tcpAddress = loopback(port: port)
            let tcpBound = withUnsafePointer(to: &tcpAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if tcpBound == 0 { return port }
        }
        throw BenchError("found no free loopback port")
    }

    // MARK: The fixture

    static func namespace(_ n: Int) -> String { "team-\(n)" }
    static func serviceName(_ i: Int) -> String { "svc-\(i)" }
    /// Services 0..<headless are headless; the rest (the last one included) have ClusterIPs.
    static func isHeadless(_ i: Int, _ s: Settings) -> Bool { i < s.headless }

    /// `team-(i mod N)/svc-i`: selector-less, ports `http` 80 and `metrics` 9090 (TCP), headless for the first ones.
    static func service(_ i: Int, _ s: Settings) -> Service {
        Service(
            metadata: ObjectMeta(name: serviceName(i), namespace: namespace(i % s.namespaces)),
            spec: ServiceSpec(
                ports: [ServicePort(name: "http", protocol: .tcp, port: 80), ServicePort(name: "metrics", protocol: .tcp, port: 9090)],
                clusterIP: isHeadless(i, s) ? "None" : nil))
    }

    /// `svc-i-1`: --endpoints ready IPv4 endpoints, unique in 10.128.0.0/9; headless ones with hostnames (`pod-J`).
    static func slice(_ i: Int, _ s: Settings) -> EndpointSlice {
        let endpoints = (0..<s.endpoints).map { j -> Endpoint in
            let k = i * s.endpoints + j + 1
            return Endpoint(
                addresses: ["10.\(128 + ((k >> 16) & 127)).\((k >> 8) & 255).\(k & 255)"], conditions: EndpointConditions(ready: true),
                hostname: isHeadless(i, s) ? "pod-\(j)" : nil)
        }
        return EndpointSlice(
            metadata: ObjectMeta(
                name: "\(serviceName(i))-1", namespace: namespace(i % s.namespaces), labels: [EndpointSlice.serviceNameLabel: serviceName(i)]),
            addressType: .ipv4, endpoints: endpoints,
            ports: [EndpointPort(name: "http", port: 8080, protocol: .tcp), EndpointPort(name: "metrics", port: 9090, protocol: .tcp)])
    }

    /// The dnsperf input: 70% A of ClusterIP Services, 15% SRV of their named ports, 15% NXDOMAIN (a short name
    /// expanded with a pod's search path, a fully qualified name without its dot expanded, an external name
    /// expanded, a Service that does not exist), in random order.
    static func queryLines(_ s: Settings, random: inout DNSBenchRandom) -> [String] {
        let clusterIP = s.services - s.headless
        var lines: [String] = []
        lines.reserveCapacity(s.queries)
        for _ in 0..<s.queries {
            let i = s.headless + Int.random(in: 0..<clusterIP, using: &random)
            let ns = namespace(i % s.namespaces)
            let podNamespace = namespace(Int.random(in: 0..<s.namespaces, using: &random))
            let fqdn = "\(serviceName(i)).\(ns).svc.\(zone)"
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<70: lines.append("\(fqdn) A")
            case 70..<85: lines.append("_\(roll % 2 == 0 ? "http" : "metrics")._tcp.\(fqdn) SRV")
            default:
                switch roll % 4 {
                case 0: lines.append("\(serviceName(i)).\(ns).\(podNamespace).svc.\(zone) A")
                case 1: lines.append("\(fqdn).\(podNamespace).svc.\(zone) A")
                case 2: lines.append("www.example-\(i).com.\(podNamespace).svc.\(zone) A")
                default: lines.append("missing-\(i).\(ns).svc.\(zone) A")
                }
            }
        }
        return lines
    }

    /// The zone `switchboard dns` serves for these objects (its defaults: TTL 30, SRV at the Service name,
    /// endpoint names for ClusterIP Services too, the ClusterIPs of kube-system/kube-dns as the NS glue), as a
    /// zone file. Not included: the reverse zones (PTR) and the NODATA of a namespace without Services, which no
    /// zone file can express; neither is in the query mix. IPv4 only (the fixture has no IPv6).
    static func zoneFile(services: [Service], slices: [EndpointSlice]) -> (String, Int) {
        let ttl = Self.ttl
        var out: [String] = [
            "$ORIGIN \(zone).",
            "@ \(min(ttl, 300)) IN SOA ns.dns.\(zone). hostmaster.\(zone). 1 7200 1800 86400 \(ttl)",
            "@ \(ttl) IN NS ns.dns.\(zone).",
            "dns-version 28800 IN TXT \"1.1.0\"",
        ]
        var slicesByService: [String: [EndpointSlice]] = [:]
        for slice in slices where slice.addressType == .ipv4 {
            guard let ns = slice.metadata.namespace, let owner = slice.metadata.labels?[EndpointSlice.serviceNameLabel] else { continue }
            slicesByService["\(ns)/\(owner)", default: []].append(slice)
        }
        for service in services {
            guard let name = service.metadata.name, let ns = service.metadata.namespace, service.type != .externalName else { continue }
            let key = "\(name).\(ns).svc"
            let target = "\(key).\(zone)."
            let clusterIPs = (service.spec.clusterIPs ?? service.spec.clusterIP.map { [$0] } ?? []).filter { $0 != "None" && !$0.contains(":") }
            let headless = service.spec.clusterIP == "None"
            if !headless && clusterIPs.isEmpty { continue }
            if ns == "kube-system" && name == "kube-dns" {
                for ip in clusterIPs { out.append("ns.dns \(ttl) IN A \(ip)") }
            }
            // The ready endpoints, each address once (the first slice by name wins), with their slice's ports.
            var seen: Set<String> = []
            var endpoints: [(label: String, address: String, ports: [EndpointPort])] = []
            for slice in (slicesByService["\(ns)/\(name)"] ?? []).sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }) {
                for endpoint in slice.endpoints where endpoint.conditions.isReady || service.spec.publishNotReadyAddresses == true {
                    for address in endpoint.addresses where seen.insert(address).inserted {
                        let label = endpoint.hostname.flatMap { isLabel($0) ? $0.lowercased() : nil } ?? address.split(separator: ".").joined(separator: "-")
                        endpoints.append((label, address, slice.ports ?? []))
                    }
                }
            }
            for e in endpoints { out.append("\(e.label).\(key) \(ttl) IN A \(e.address)") }
            func srv(_ owner: String, _ records: [(port: Int32, target: String)]) {
                let weight = max(1, 100 / max(records.count, 1))
                for r in records { out.append("\(owner) \(ttl) IN SRV 0 \(weight) \(r.port) \(r.target)") }
            }
            func proto(_ p: TransportProtocol?) -> String { (p ?? .tcp).rawValue.lowercased() }
            if headless {
                guard !endpoints.isEmpty else { continue }
                for e in endpoints { out.append("\(key) \(ttl) IN A \(e.address)") }
                // SRV: one per (endpoint name, port); at the Service name for every port, below it per named port.
                func targets(_ matching: (EndpointPort) -> Bool) -> [(port: Int32, target: String)] {
                    var pairs: Set<String> = []
                    var list: [(port: Int32, target: String)] = []
                    for e in endpoints {
                        for port in e.ports where matching(port) {
                            guard let number = port.port, pairs.insert("\(e.label)/\(number)").inserted else { continue }
                            list.append((number, "\(e.label).\(target)"))
                        }
                    }
                    return list
                }
                srv(key, targets { _ in true })
                var named: Set<String> = []
                for e in endpoints {
                    for port in e.ports {
                        guard let portName = port.name, !portName.isEmpty else { continue }
                        named.insert("_\(portName)._\(proto(port.protocol))")
                    }
                }
                for label in named.sorted() {
                    srv("\(label).\(key)", targets { "_\($0.name ?? "")._\(proto($0.protocol))" == label })
                }
            } else {
                for ip in clusterIPs { out.append("\(key) \(ttl) IN A \(ip)") }
                let ports = service.spec.ports ?? []
                var numbers: [Int32] = []
                for p in ports where !numbers.contains(p.port) { numbers.append(p.port) }
                srv(key, numbers.map { ($0, target) })
                var named: [String: [Int32]] = [:]
                for p in ports {
                    guard let portName = p.name, !portName.isEmpty else { continue }
                    let label = "_\(portName)._\(proto(p.protocol))"
                    if named[label, default: []].contains(p.port) == false { named[label, default: []].append(p.port) }
                }
                for (label, list) in named.sorted(by: { $0.key < $1.key }) { srv("\(label).\(key)", list.map { ($0, target) }) }
            }
        }
        return (out.joined(separator: "\n") + "\n", out.count - 1)
    }

    static func describe(_ reply: Reply?) -> String {
        guard let reply else { return "no answer" }
        return "rcode \(reply.rcode), \(reply.answers) answers, \(reply.additionals) additionals"
    }

    /// A DNS label as the zone takes it (1 to 63 bytes, no dot).
    static func isLabel(_ text: String) -> Bool { !text.isEmpty && text.utf8.count <= 63 && !text.contains(".") }

    func write(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw BenchError("cannot write \(path)") }
    }

    static func tail(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(800))
    }
}

/// SplitMix64: the same query file for the same settings on every run.
struct DNSBenchRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
