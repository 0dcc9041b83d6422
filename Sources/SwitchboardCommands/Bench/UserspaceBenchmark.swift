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
import Logging
import NIOCore
import NIOPosix
import ProxyCore
import UserspaceProxy

/// `switchboard bench userspace`: the userspace relay against HAProxy in TCP mode, in front of the same
/// backends, in one run: wrk with keep-alive and with a new connection per request, and a bulk transfer.
struct UserspaceBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "userspace",
        abstract: "The userspace proxy's relay versus HAProxy (TCP mode) with wrk: requests/s, p99, CPU per request, bulk GB/s (needs root).",
        discussion: """
            Runs inside a network namespace it creates (sb-bench-us-PID) and removes; everything talks over that \
            namespace's loopback. The backends are one HAProxy process answering HTTP itself (two addresses, as two \
            endpoints) and a Python sendfile server for the bulk test; the relay and the front HAProxy each get the \
            same number of threads. Needs haproxy, wrk and python3 (apt-get install haproxy wrk python3).
            """)

    @Option(help: "Seconds per wrk run.")
    var duration = 10

    @Option(help: "wrk's concurrent connections.")
    var connections = 64

    @Option(help: "Threads of the relay and of the front HAProxy each.")
    var threads = 1

    @Option(help: "Rounds: each round runs every test against HAProxy, then the relay.")
    var rounds = 1

    @Option(name: .customLong("bulk-mib"), help: "MiB per bulk transfer.")
    var bulkMiB = 2048

    @Flag(help: "Print results as JSON.")
    var json = false

    @Flag(help: .hidden)
    var inNamespace = false

    func run() async throws {
        for tool in ["haproxy", "wrk", "python3"] where HostCommandRunner.which(tool) == nil {
            throw CommandLineError("bench userspace needs \(tool) (apt-get install haproxy wrk python3)")
        }
        guard duration >= 1, connections >= 1, threads >= 1, rounds >= 1, bulkMiB >= 1 else {
            throw CommandLineError("--duration, --connections, --threads, --rounds and --bulk-mib must be at least 1")
        }
        if inNamespace {
            let results = try await UserspaceBenchmark(options: self).run()
            var report = BenchmarkReport(title: "switchboard bench userspace")
            report.results = results
            print(try report.render(json: json))
            return
        }
        guard getuid() == 0 else { throw CommandLineError("the userspace benchmark creates a network namespace and needs root (run it with sudo)") }
        // The measurement runs in a child inside the namespace, which prints JSON; this process stays outside to
        // remove the namespace on every path (Ctrl-C included) and prints the report.
        let namespace = "sb-bench-us-\(getpid())"
        let namespaces = NetworkNamespaces()
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("\(namespace).out").path
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("\(namespace).err").path
        let arguments = [
            "netns", "exec", namespace, ChildProcess.currentExecutable, "bench", "userspace", "--in-namespace", "--json",
            "--duration", String(duration), "--connections", String(connections), "--threads", String(threads),
            "--rounds", String(rounds), "--bulk-mib", String(bulkMiB),
        ]
        try await namespaces.add(namespace)
        try await runInterruptible(title: "switchboard bench userspace", json: json, {
            try await namespaces.batch(["link set lo up"], in: namespace)
            let process = try ChildProcess.spawn(HostCommandRunner.which("ip") ?? "/usr/sbin/ip", arguments, stdout: output, stderr: errors)
            var status: Int32?
            while status == nil {
                status = process.exitStatus()
                if status == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            let failed = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            struct Document: Decodable { var results: [BenchmarkResult] }
            guard status == 0, let document = try? JSONDecoder().decode(Document.self, from: Data(printed.utf8)) else {
                throw BenchError("the benchmark failed: \(failed.split(separator: "\n").suffix(5).joined(separator: "\n"))")
            }
            return document.results
        }, cleanUp: {
            // The child and what it started (HAProxy, the bulk server) are the namespace's processes.
            for pid in await namespaces.pids(namespace) { kill(pid, SIGKILL) }
            try? await namespaces.delete(namespace)
            try? FileManager.default.removeItem(atPath: output)
            try? FileManager.default.removeItem(atPath: errors)
        })
    }
}

/// The measurement, inside the namespace.
struct UserspaceBenchmark {
    let options: UserspaceBenchCommand
    let runner = HostCommandRunner()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-bench-us-\(getpid())").path

    /// Where each piece listens: two backend addresses (two endpoints), HAProxy's front, the relay's ClusterIP.
    static let backends = ["127.0.0.2", "127.0.0.3"]
    static let haproxyFront = "127.0.0.10"
    static let relayFront = "127.0.0.11"
    static let httpPort = 8080
    static let bulkPort = 9000

    func run() async throws -> [BenchmarkResult] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var processes: [ChildProcess] = []
        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
        let relay = UserspaceProxy(
            configuration: UserspaceProxyConfiguration(maxConnections: 20_000, loopbackFallback: false), group: group,
            logger: Logger(label: "bench"))
        defer {
            for process in processes { kill(process.pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: directory)
        }
        // Many short connections: every port of the range, and TIME_WAIT sockets reused.
        for (key, value) in [("net.ipv4.ip_local_port_range", "1024 65535"), ("net.ipv4.tcp_tw_reuse", "1")] {
            _ = try? await runner.run(["sysctl", "-q", "-w", "\(key)=\(value)"])
        }
        processes.append(try spawn("haproxy", ["-f", try write("backend.cfg", Self.backendConfiguration()), "-db"], log: "backend"))
        processes.append(try spawn("python3", ["-c", Self.bulkServer(bytes: options.bulkMiB << 20)], log: "bulk"))
        let front = try spawn("haproxy", ["-f", try write("front.cfg", Self.frontConfiguration(threads: options.threads)), "-db"], log: "front")
        processes.append(front)
        let ports = [Self.httpPort, Self.bulkPort].map { port in
            ServicePortState(
                name: "bench/relay:\(port)", clusterIP: IPAddress(Self.relayFront)!, transport: "tcp", port: port,
                endpoints: Self.backends.map { EndpointTarget(address: IPAddress($0)!, port: port) })
        }
        let listeners = await relay.apply(ports)
        if let failed = listeners.first(where: { $0.boundAddress == nil }) { throw BenchError("the relay could not listen: \(failed.error ?? "")") }
        for address in [Self.haproxyFront, Self.relayFront] { try await waitForHTTP(address) }

        var rows: [String: [WrkRun]] = [:]
        var bulk: [String: [Double]] = [:]
        for _ in 0..<options.rounds {
            for (name, address, pid) in [("HAProxy", Self.haproxyFront, front.pid), ("relay", Self.relayFront, getpid())] {
                for keepAlive in [true, false] {
                    let run = try await wrk(address, keepAlive: keepAlive, pid: pid)
                    rows["\(name) \(keepAlive ? "keep-alive" : "new connection per request")", default: []].append(run)
                }
                bulk[name, default: []].append(try await bulkTransfer(address))
            }
        }
        await relay.shutdown()
        try? await group.shutdownGracefully()

        var results: [BenchmarkResult] = []
        for keepAlive in ["keep-alive", "new connection per request"] {
            guard let haproxy = rows["HAProxy \(keepAlive)"]?.median, let ours = rows["relay \(keepAlive)"]?.median else { continue }
            let rpsRatio = ours.requestsPerSecond / haproxy.requestsPerSecond
            let p99Ratio = ours.p99 / haproxy.p99
            for (name, run) in [("HAProxy", haproxy), ("relay", ours)] {
                results.append(BenchmarkResult(
                    name: "\(name), HTTP \(keepAlive): requests/s", value: run.requestsPerSecond, unit: "req/s",
                    target: name == "relay" ? "≥ 0.9 × HAProxy" : nil, meetsTarget: name == "relay" ? rpsRatio >= 0.9 : nil,
                    detail: name == "relay" ? "\(BenchmarkReport.format1(rpsRatio))× HAProxy" : "\(run.requests) requests, \(run.errors) errors"))
                results.append(BenchmarkResult(
                    name: "\(name), HTTP \(keepAlive): p99 latency", value: run.p99 * 1000, unit: "ms",
                    target: name == "relay" ? "≤ 1.2 × HAProxy" : nil, meetsTarget: name == "relay" ? p99Ratio <= 1.2 : nil,
                    detail: "p50 \(BenchmarkReport.format1(run.p50 * 1000)) ms" + (name == "relay" ? ", \(BenchmarkReport.format1(p99Ratio))× HAProxy" : "")))
                results.append(BenchmarkResult(
                    name: "\(name), HTTP \(keepAlive): CPU per request", value: run.cpuPerRequest * 1e6, unit: "µs",
                    detail: name == "relay" ? "\(BenchmarkReport.format1(run.cpuPerRequest / haproxy.cpuPerRequest))× HAProxy" : "the front proxy's process"))
            }
        }
        if let haproxy = bulk["HAProxy"]?.sorted(), let ours = bulk["relay"]?.sorted() {
            let h = haproxy[haproxy.count / 2]
            let r = ours[ours.count / 2]
            results.append(BenchmarkResult(name: "HAProxy, bulk transfer", value: h, unit: "GB/s", detail: "\(options.bulkMiB) MiB per connection"))
            results.append(BenchmarkResult(name: "relay, bulk transfer", value: r, unit: "GB/s", detail: "\(BenchmarkReport.format1(r / h))× HAProxy"))
        }
        results.append(BenchmarkResult(
            name: "setup", value: Double(options.connections), unit: "connections",
            detail: "\(options.duration) s per wrk run, \(options.threads) thread(s) per proxy, \(options.rounds) round(s); medians"))
        return results
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func spawn(_ tool: String, _ arguments: [String], log: String) throws -> ChildProcess {
        let path = directory + "/\(log).log"
        return try ChildProcess.spawn(HostCommandRunner.which(tool) ?? tool, arguments, stdout: path, stderr: path, grouping: .newProcessGroup)
    }

    func waitForHTTP(_ address: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let probe = try? await runner.run(
                ["python3", "-c", "import urllib.request as u; u.urlopen('http://\(address):\(Self.httpPort)/', timeout=1).read()"], stdin: nil,
                timeout: .seconds(3))
            if probe?.succeeded == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("\(address):\(Self.httpPort) did not answer HTTP; logs in \(directory)")
    }

    /// One wrk run against `address`, with the CPU time the proxy process `pid` used during it.
    func wrk(_ address: String, keepAlive: Bool, pid: pid_t) async throws -> WrkRun {
        let before = Self.cpuSeconds(pid)
        var argv = ["wrk", "-t", "1", "-c", String(options.connections), "-d", "\(options.duration)s", "--latency"]
        if !keepAlive { argv += ["-H", "Connection: close"] }
        argv.append("http://\(address):\(Self.httpPort)/")
        let result = try await runner.run(argv, stdin: nil, timeout: .seconds(Int64(options.duration) + 60))
        let cpu = Self.cpuSeconds(pid) - before
        guard result.succeeded, var run = WrkRun(parsing: result.stdout) else { throw BenchError("wrk failed: \(result.stdout) \(result.stderr)") }
        run.cpuPerRequest = run.requests > 0 ? cpu / Double(run.requests) : 0
        return run
    }

    /// GB/s of one connection that reads `bulkMiB` through `address`.
    func bulkTransfer(_ address: String) async throws -> Double {
        let script = """
            import socket, time
            s = socket.create_connection(('\(address)', \(Self.bulkPort)))
            buf = bytearray(1 << 20); view = memoryview(buf); total = 0; t = time.perf_counter()
            while True:
                n = s.recv_into(view)
                if n == 0: break
                total += n
            print(total, time.perf_counter() - t)
            """
        let result = try await runner.run(["python3", "-c", script], stdin: nil, timeout: .seconds(300))
        let fields = result.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
        guard result.succeeded, fields.count == 2, fields[0] >= Double(options.bulkMiB << 20) else {
            let log = (try? String(contentsOfFile: directory + "/bulk.log", encoding: .utf8)) ?? ""
            throw BenchError("the bulk transfer through \(address) failed: \(result.stdout) \(result.stderr); the bulk server: \(log.suffix(500))")
        }
        return fields[0] / fields[1] / 1e9
    }

    /// utime + stime of `pid`, in seconds.
    static func cpuSeconds(_ pid: pid_t) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command name: state is field 3; utime and stime are 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The backends: HAProxy answering every request itself, on two addresses (two endpoints).
    static func backendConfiguration() -> String {
        """
        global
            maxconn 8000
            nbthread 1
        defaults
            mode http
            timeout connect 5s
            timeout client 60s
            timeout server 60s
        frontend backends
        \(backends.map { "    bind \($0):\(httpPort)" }.joined(separator: "\n"))
            http-request return status 200 content-type text/plain string "ok"

        """
    }

    /// The anchor: HAProxy in TCP mode, round robin over the same two endpoints, as the relay does.
    static func frontConfiguration(threads: Int) -> String {
        """
        global
            maxconn 8000
            nbthread \(threads)
        defaults
            mode tcp
            timeout connect 5s
            timeout client 60s
            timeout server 60s
        \([("http", httpPort), ("bulk", bulkPort)].map { name, port in
            """
            frontend \(name)
                bind \(haproxyFront):\(port)
                default_backend \(name)
            backend \(name)
                balance roundrobin
            \(backends.enumerated().map { "    server b\($0.offset) \($0.element):\(port)" }.joined(separator: "\n"))
            """
        }.joined(separator: "\n"))

        """
    }

    /// Sends `bytes` of a sparse file with sendfile to every connection, on both backend addresses.
    static func bulkServer(bytes: Int) -> String {
        """
        import os, socket, tempfile, threading
        f = tempfile.TemporaryFile(); f.truncate(\(bytes))
        def serve(address):
            l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind((address, \(bulkPort))); l.listen(64)
            while True:
                c, _ = l.accept()
                def send(c=c):
                    try:
                        c.sendfile(f, 0, \(bytes))
                    finally:
                        c.close()
                threading.Thread(target=send, daemon=True).start()
        for a in [\(backends.map { "'\($0)'" }.joined(separator: ", "))]: threading.Thread(target=serve, args=(a,), daemon=True).start()
        threading.Event().wait()
        """
    }
}

/// What one wrk run printed.
struct WrkRun {
    var requestsPerSecond: Double
    var requests: Int
    var errors: Int
    var p50: Double
    var p99: Double
    var cpuPerRequest: Double = 0

    /// From wrk's output with `--latency`.
    init?(parsing text: String) {
        var rps: Double?
        var requests: Int?
        var p50: Double?
        var p99: Double?
        var errors = 0
        for raw in text.split(separator: "\n") {
            let fields = raw.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first == "Requests/sec:", fields.count >= 2 { rps = Double(fields[1]) }
            if fields.count >= 2, fields[1] == "requests", let n = Int(first) { requests = n }
            if first == "50%", fields.count >= 2 { p50 = Self.seconds(fields[1]) }
            if first == "99%", fields.count >= 2 { p99 = Self.seconds(fields[1]) }
            if first == "Socket", raw.contains("errors:") {
                // Socket errors: connect 0, read 0, write 0, timeout 0
                errors = fields.compactMap { Int($0.filter(\.isNumber)) }.reduce(0, +)
            }
            if first == "Non-2xx" || first == "Non-2xx/3xx", let n = fields.last.flatMap({ Int($0) }) { errors += n }
        }
        guard let rps, let requests, let p50, let p99 else { return nil }
        self.requestsPerSecond = rps
        self.requests = requests
        self.errors = errors
        self.p50 = p50
        self.p99 = p99
    }

    /// `1.23ms`, `850.00us`, `1.02s` in seconds.
    static func seconds(_ text: Substring) -> Double? {
        for (suffix, scale) in [("us", 1e-6), ("ms", 1e-3), ("s", 1.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return nil
    }
}

extension Array where Element == WrkRun {
    /// The run with the median requests per second.
    var median: WrkRun? { isEmpty ? nil : sorted { $0.requestsPerSecond < $1.requestsPerSecond }[count / 2] }
}
