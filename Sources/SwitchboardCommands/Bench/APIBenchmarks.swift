#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import HostNetwork
import KubeClientHTTP
import NIOCore
import NIOHTTP1
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `switchboard bench api`: durable creates, list, single-create latency and watch fan-out, over loopback HTTP.
struct APIBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Creates, lists, create latency and watch fan-out against an API server over loopback HTTP.",
        discussion: """
            By default starts a fresh `switchboard up` (this executable) on a temporary data directory and stops it \
            afterwards; --server measures a server that is already running (objects are created in new bench-* \
            namespaces and left there). Run a release build (`swift build -c release`).
            """)

    @Option(help: "A running API server (http://127.0.0.1:6443 or unix:///path/api.sock) instead of a fresh one.")
    var server: String?

    @Option(help: "Services created in each create phase.")
    var services = 10_000

    @Option(help: "Concurrent clients of the concurrent create phase.")
    var clients = 16

    @Option(help: "Watchers of the fan-out figure.")
    var watchers = 100

    @Option(help: "Writes timed in the fan-out and latency figures.")
    var samples = 1_000

    @Flag(help: "Print results as JSON.")
    var json = false

    func run() async throws {
        let child: BenchServerProcess?
        let endpoint: APIEndpoint
        if let server {
            guard let parsed = APIEndpoint(server) else {
                throw ValidationError("--server \(server) is not http://HOST:PORT or unix:///PATH")
            }
            endpoint = parsed
            child = nil
        } else {
            let started = try await BenchServerProcess.start()
            endpoint = started.endpoint
            child = started
        }
        do {
            var report = BenchmarkReport(title: "switchboard bench api")
            report.results = try await APIBenchmarks(
                endpoint: endpoint, services: services, clients: clients, watchers: watchers, samples: samples
            ).run()
            if let child { report.results.append(contentsOf: child.describe()) }
            await child?.stop()
            print(try report.render(json: json))
        } catch {
            await child?.stop()
            throw error
        }
    }
}

struct APIBenchmarks {
    let endpoint: APIEndpoint
    let services: Int
    let clients: Int
    let watchers: Int
    let samples: Int
    let run = String(UInt32.random(in: 0..<UInt32.max), radix: 36)

    func run() async throws -> [BenchmarkResult] {
        let sequential = "bench-\(run)-1"
        let concurrent = "bench-\(run)-\(clients)"
        let fan = "bench-\(run)-fan"
        let setup = try await HTTPConnection.connect(to: endpoint)
        for namespace in [sequential, concurrent, fan] {
            try await expect(201, setup.send(post("/api/v1/namespaces", #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(namespace)"}}"#)))
        }
        await setup.close()
        let clock = ContinuousClock()

        // Creates, one client then many: every create is acknowledged only once it is on disk.
        let one = try await clock.measure { try await createServices(namespace: sequential, count: services, clients: 1) }
        let many = try await clock.measure { try await createServices(namespace: concurrent, count: services, clients: clients) }

        // Single-create latency with the store holding 2 × services objects.
        let connection = try await HTTPConnection.connect(to: endpoint)
        var latencies: [Double] = []
        for i in 0..<samples {
            let start = clock.now
            try await expect(201, connection.send(post("/api/v1/namespaces/\(sequential)/services", Self.serviceJSON("latency-\(i)"))))
            latencies.append((clock.now - start).seconds)
        }
        latencies.sort()

        // Listing the concurrent phase's namespace, whole (no paging).
        var listTimes: [Double] = []
        var listBytes = 0
        for _ in 0..<5 {
            let start = clock.now
            let response = try await connection.send(APIRequestMessage(method: .GET, target: "/api/v1/namespaces/\(concurrent)/services"))
            try expect(200, response)
            listTimes.append((clock.now - start).seconds)
            listBytes = response.body.readableBytes
        }
        listTimes.sort()
        await connection.close()

        let fanOut = try await fanOutLatencies(namespace: fan)
        let p50 = latencies[latencies.count / 2]
        let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        let fanP50 = fanOut[fanOut.count / 2]
        let fanP99 = fanOut[min(fanOut.count - 1, fanOut.count * 99 / 100)]
        let manyRate = Double(services) / many.seconds
        let listMedian = listTimes[listTimes.count / 2]
        return [
            BenchmarkResult(
                name: "durable creates, 1 client", value: Double(services) / one.seconds, unit: "creates/s",
                detail: "\(services) Services in \(BenchmarkReport.format1(one.seconds)) s"),
            BenchmarkResult(
                name: "durable creates, \(clients) clients", value: manyRate, unit: "creates/s", target: "≥ 3000/s",
                meetsTarget: manyRate >= 3000, detail: "\(services) Services in \(BenchmarkReport.format1(many.seconds)) s"),
            BenchmarkResult(
                name: "single create p50 at \(2 * services) objects", value: p50 * 1000, unit: "ms",
                detail: "\(samples) sequential creates"),
            BenchmarkResult(
                name: "single create p99 at \(2 * services) objects", value: p99 * 1000, unit: "ms", target: "≤ 5 ms",
                meetsTarget: p99 <= 0.005, detail: "upstream SLO: 1 s"),
            BenchmarkResult(
                name: "list \(services) Services", value: listMedian * 1000, unit: "ms", target: "≤ 150 ms",
                meetsTarget: listMedian <= 0.150, detail: "median of 5, \(listBytes / 1024) KiB of JSON"),
            BenchmarkResult(
                name: "watch fan-out p50, \(watchers) watchers", value: fanP50 * 1000, unit: "ms",
                detail: "create sent → \(watchers)th delivery, \(fanOut.count) writes"),
            BenchmarkResult(
                name: "watch fan-out p99, \(watchers) watchers", value: fanP99 * 1000, unit: "ms", target: "≤ 20 ms",
                meetsTarget: fanP99 <= 0.020),
        ]
    }

    static func serviceJSON(_ name: String) -> String {
        #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","labels":{"bench":"api"}},"spec":{"selector":{"app":"\#(name)"},"ports":[{"name":"http","port":80,"targetPort":8080}]}}"#
    }

    func post(_ target: String, _ json: String) -> APIRequestMessage {
        APIRequestMessage(method: .POST, target: target, headers: [("Content-Type", "application/json")], body: ByteBuffer(string: json))
    }

    func expect(_ status: Int, _ response: APIResponseMessage) throws {
        guard response.status == status else {
            throw BenchError("the server answered \(response.status), not \(status): \(String(buffer: response.body).prefix(300))")
        }
    }

    /// `count` creates from `clients` connections, each sending its next create when the last is answered.
    func createServices(namespace: String, count: Int, clients: Int) async throws {
        let target = "/api/v1/namespaces/\(namespace)/services"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    let connection = try await HTTPConnection.connect(to: endpoint)
                    for i in stride(from: client, to: count, by: clients) {
                        try expect(201, try await connection.send(post(target, Self.serviceJSON("svc-\(i)"))))
                    }
                    await connection.close()
                }
            }
            try await group.waitForAll()
        }
    }

    /// For each of `samples` creates: from sending it to the moment the last of `watchers` watches delivered it.
    func fanOutLatencies(namespace: String) async throws -> [Double] {
        let clock = ContinuousClock()
        let arrivals = Arrivals()
        let (completed, complete) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(16))
        let client = HTTPClusterClient(endpoint: endpoint)
        let connection = try await HTTPConnection.connect(to: endpoint)
        let list = try await connection.send(APIRequestMessage(method: .GET, target: "/api/v1/namespaces/\(namespace)/services"))
        let version = Self.listVersion(list.body) ?? "0"
        let watchers = self.watchers
        let marker = Array(#""name":"fan-"#.utf8)

        return try await withThrowingTaskGroup(of: Void.self, returning: [Double].self) { group in
            for _ in 0..<watchers {
                group.addTask {
                    do {
                        try await client.watchLines("/api/v1/namespaces/\(namespace)/services?watch=true&resourceVersion=\(version)") { line in
                            guard let index = Self.fanIndex(line, marker: marker) else { return }
                            let all = arrivals.counts.withLock { counts -> Bool in
                                counts[index, default: 0] += 1
                                return counts[index] == watchers
                            }
                            if all { complete.yield(index) }
                        }
                    } catch {
                        if !Task.isCancelled { complete.yield(-1) }
                    }
                }
            }
            var results: [Double] = []
            var done = completed.makeAsyncIterator()
            // The first write also proves every watcher is connected; it is not timed.
            for i in 0...samples {
                let start = clock.now
                try expect(201, try await connection.send(post("/api/v1/namespaces/\(namespace)/services", Self.serviceJSON("fan-\(i)"))))
                while let finished = await done.next(), finished != i {
                    if finished < 0 { throw BenchError("a watch failed before the fan-out figures were complete") }
                }
                if i > 0 { results.append((clock.now - start).seconds) }
            }
            group.cancelAll()
            await connection.close()
            await client.shutdown()
            return results.sorted()
        }
    }

    /// The number after `"name":"fan-` in a watch line.
    static func fanIndex(_ line: ByteBuffer, marker: [UInt8]) -> Int? {
        let bytes = line.readableBytesView
        guard let start = bytes.firstRange(of: marker)?.upperBound else { return nil }
        var value = 0
        var index = start
        while index < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        return index == start ? nil : value
    }

    static func listVersion(_ body: ByteBuffer) -> String? {
        let text = String(buffer: body.getSlice(at: body.readerIndex, length: min(200, body.readableBytes)) ?? ByteBuffer())
        guard let start = text.firstRange(of: #""resourceVersion":""#)?.upperBound else { return nil }
        return String(text[start...].prefix { $0 != "\"" })
    }
}

/// How many watchers have delivered each fan-out write.
final class Arrivals: Sendable {
    let counts = Mutex<[Int: Int]>([:])
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A `switchboard up` child process on a temporary data directory, for benchmarks.
final class BenchServerProcess: Sendable {
    let endpoint: APIEndpoint
    let child: ChildProcess
    let directory: String

    private init(endpoint: APIEndpoint, child: ChildProcess, directory: String) {
        self.endpoint = endpoint
        self.child = child
        self.directory = directory
    }

    static func start() async throws -> BenchServerProcess {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-bench-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let out = directory + "/stdout"
        let child = try ChildProcess.spawn(
            ChildProcess.currentExecutable, ["up", "--data-dir", directory + "/data", "--listen", "127.0.0.1:0"],
            stdout: out, stderr: directory + "/stderr")
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while clock.now < deadline {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            if let start = text.firstRange(of: "API at ")?.upperBound, let end = text[start...].firstIndex(of: " "),
                let endpoint = APIEndpoint(String(text[start..<end]))
            {
                return BenchServerProcess(endpoint: endpoint, child: child, directory: directory)
            }
            if child.exitStatus() != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        await child.stop(signal: SIGKILL)
        let log = (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: directory)
        throw BenchError("switchboard up did not start within 30 s: \(log.suffix(500))")
    }

    /// The server's peak memory (VmHWM), reported with the figures.
    func describe() -> [BenchmarkResult] {
        guard let status = try? String(contentsOfFile: "/proc/\(child.pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return [] }
        return [BenchmarkResult(name: "server peak memory", value: kib / 1024, unit: "MiB", detail: "VmHWM of switchboard up")]
    }

    /// Stops the server (SIGINT, then SIGKILL after 10 s) and removes the directory.
    func stop() async {
        await child.stop(signal: SIGINT)
        try? FileManager.default.removeItem(atPath: directory)
    }
}
