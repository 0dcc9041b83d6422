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
import Lab
import Manifests
import Synchronization

/// `switchboard bench pods`: pod start-up and the network-programming latency, on a lab.
struct PodBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pods",
        abstract: "Time from applying pods to all Ready, and from a pod's Ready to its IP in the EndpointSlice (on a lab; needs root).",
        discussion: """
            Brings up a two-node lab, applies --pods echo pods behind one Service (with kubectl when it is installed, \
            otherwise through the API), each with a tcpSocket readiness probe (periodSeconds 1), and watches pods and \
            EndpointSlices: the first figure is from the apply to the last pod Ready, the second, per pod, from the \
            watch event that shows it Ready to the one that shows its endpoint ready. The lab is removed afterwards.
            """)

    @Option(help: "Pods to start.")
    var pods = 100

    @Option(help: "The lab's name.")
    var name = "benchpod"

    @Flag(help: "Print results as JSON.")
    var json = false

    func run() async throws {
        guard getuid() == 0 else { throw CommandLineError("the pods benchmark runs on a lab of network namespaces and needs root (run it with sudo)") }
        guard (1...500).contains(pods) else { throw CommandLineError("--pods must be from 1 to 500") }
        let lab = LabCluster(topology: try LabTopology(name: name, nodes: 2), executable: ChildProcess.currentExecutable)
        do {
            try await lab.up()
            var report = BenchmarkReport(title: "switchboard bench pods")
            report.results = try await PodBenchmark(lab: lab, pods: pods).run()
            await lab.down()
            print(try report.render(json: json))
        } catch {
            await lab.down()
            throw error
        }
    }
}

struct PodBenchmark {
    let lab: LabCluster
    let pods: Int

    /// When each pod was first seen Ready, and its endpoint first seen ready.
    final class Sightings: Sendable {
        let ready = Mutex<[String: ContinuousClock.Instant]>([:])
        let sliced = Mutex<[String: ContinuousClock.Instant]>([:])
    }

    func manifest() -> String {
        var documents = ["""
            apiVersion: v1
            kind: Service
            metadata: {name: bench, namespace: default}
            spec:
              selector: {app: bench}
              ports: [{port: 80, targetPort: 8080}]
            """]
        for i in 0..<pods {
            documents.append("""
                apiVersion: v1
                kind: Pod
                metadata: {name: bench-\(i), namespace: default, labels: {app: bench}}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: echo
                    command: [switchboard, echo, --tcp, ":8080"]
                    ports: [{containerPort: 8080}]
                    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
                """)
        }
        return documents.joined(separator: "\n---\n")
    }

    func run() async throws -> [BenchmarkResult] {
        let client = HTTPClusterClient(endpoint: lab.endpoint, maxIdleConnections: 16)
        let sightings = Sightings()
        let clock = ContinuousClock()
        let podVersion = try await client.list(Pod.self, namespace: "default").resourceVersion
        let sliceVersion = try await client.list(EndpointSlice.self, namespace: "default").resourceVersion
        let total = pods
        let (finished, finish) = AsyncStream.makeStream(of: Void.self)
        return try await withThrowingTaskGroup(of: Void.self, returning: [BenchmarkResult].self) { group in
            group.addTask {
                try await client.watch(Pod.self, namespace: "default", options: .all, from: podVersion) { event in
                    guard let pod = event.object, pod.isReady, let name = pod.metadata.name else { return }
                    let now = clock.now
                    sightings.ready.withLock { if $0[name] == nil { $0[name] = now } }
                }
            }
            group.addTask {
                try await client.watch(EndpointSlice.self, namespace: "default", options: .all, from: sliceVersion) { event in
                    guard let slice = event.object else { return }
                    let now = clock.now
                    let count = sightings.sliced.withLock { seen -> Int in
                        for endpoint in slice.endpoints where endpoint.conditions.ready == true {
                            if let name = endpoint.targetRef?.name, seen[name] == nil { seen[name] = now }
                        }
                        return seen.count
                    }
                    if count >= total { finish.yield() }
                }
            }
            let start = clock.now
            try await apply()
            let deadline = start + .seconds(120)
            var allReady: ContinuousClock.Instant?
            while clock.now < deadline {
                let ready = sightings.ready.withLock { $0 }
                if ready.count >= total, sightings.sliced.withLock({ $0.count }) >= total {
                    allReady = ready.values.max()
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            group.cancelAll()
            finish.finish()
            _ = finished
            await client.shutdown()
            guard let allReady else { throw BenchError("not every pod was Ready with its endpoint within 120 s") }
            let ready = sightings.ready.withLock { $0 }
            let sliced = sightings.sliced.withLock { $0 }
            var latencies = ready.compactMap { name, at in sliced[name].map { max(0, ($0 - at).seconds) } }.sorted()
            if latencies.isEmpty { latencies = [0] }
            let startup = (allReady - start).seconds
            let p50 = latencies[latencies.count / 2]
            let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
            return [
                BenchmarkResult(
                    name: "\(total) pods applied → all Ready", value: startup, unit: "s", target: "≤ 10 s", meetsTarget: startup <= 10,
                    detail: "2 nodes, tcpSocket probe every 1 s"),
                BenchmarkResult(name: "Ready → EndpointSlice p50", value: p50 * 1000, unit: "ms", detail: "\(latencies.count) pods"),
                BenchmarkResult(name: "Ready → EndpointSlice p99", value: p99 * 1000, unit: "ms", target: "≤ 50 ms", meetsTarget: p99 <= 0.050),
            ]
        }
    }

    /// `kubectl apply` where kubectl is installed (what a user does), else the same objects through the API.
    func apply() async throws {
        let text = manifest()
        if let kubectl = HostCommandRunner.which("kubectl") {
            let result = try await HostCommandRunner().run(
                ["env", "KUBECONFIG=\(lab.kubeconfig)", kubectl, "apply", "-f", "-"], stdin: text, timeout: .seconds(60))
            guard result.succeeded else { throw BenchError("kubectl apply failed: \(result.stderr)") }
            return
        }
        let client = HTTPClusterClient(endpoint: lab.endpoint, maxIdleConnections: 16)
        defer { Task { await client.shutdown() } }
        for object in try Manifests.Manifest.objects(from: text) {
            switch object {
            case .pod(let pod): _ = try await client.create(pod)
            case .service(let service): _ = try await client.create(service)
            default: break
            }
        }
    }
}
