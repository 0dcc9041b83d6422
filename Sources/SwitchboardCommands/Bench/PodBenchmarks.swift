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
            Brings up a two-node lab and applies --pods echo pods behind one Service (with kubectl when it is \
            installed, otherwise through the API), each with a tcpSocket readiness probe (periodSeconds 1): the \
            start-up figure is from the apply to the last pod Ready. Then --pods more pods whose exec probe passes \
            once a file exists turn Ready together (the readiness flip). For both, per pod: from the watch event \
            that shows it Ready to the one that shows its endpoint ready. The lab is removed afterwards.
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
        let running = Mutex<Set<String>>([])
    }

    /// The Service and `pods` pods named `PREFIX-N`, labelled `app=PREFIX`, with `probe` as readiness probe.
    func manifest(prefix: String, probe: String) -> String {
        var documents = ["""
            apiVersion: v1
            kind: Service
            metadata: {name: \(prefix), namespace: default}
            spec:
              selector: {app: \(prefix)}
              ports: [{port: 80, targetPort: 8080}]
            """]
        for i in 0..<pods {
            documents.append("""
                apiVersion: v1
                kind: Pod
                metadata: {name: \(prefix)-\(i), namespace: default, labels: {app: \(prefix)}}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: echo
                    command: [switchboard, echo, --tcp, ":8080"]
                    ports: [{containerPort: 8080}]
                    readinessProbe: \(probe)
                """)
        }
        return documents.joined(separator: "\n---\n")
    }

    struct Phase {
        /// From the apply (or the trigger) to the last pod seen Ready with its endpoint ready.
        var duration: Double
        /// Per pod: from the watch event showing it Ready to the one showing its endpoint ready.
        var latencies: [Double]

        func percentile(_ p: Int) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, latencies.count * p / 100)] }
    }

    func run() async throws -> [BenchmarkResult] {
        // Start-up: pods applied at once, each Ready when its echo server answers the probe.
        let startup = try await phase(prefix: "start", probe: "{tcpSocket: {port: 8080}, periodSeconds: 1}", trigger: nil)
        // Readiness alone: pods already running turn Ready together when a file appears, so that no process
        // start-up competes for the cores while endpoints are programmed.
        let flag = lab.directory + "/ready-flag"
        let flip = try await phase(
            prefix: "flip", probe: "{exec: {command: [test, -e, \(flag)]}, periodSeconds: 1}",
            trigger: { _ = FileManager.default.createFile(atPath: flag, contents: nil) })
        return [
            BenchmarkResult(
                name: "\(pods) pods applied → all Ready", value: startup.duration, unit: "s", target: "≤ 10 s",
                meetsTarget: startup.duration <= 10, detail: "2 nodes, tcpSocket probe every 1 s"),
            BenchmarkResult(name: "Ready → EndpointSlice p50, start-up", value: startup.percentile(50) * 1000, unit: "ms", detail: "\(startup.latencies.count) pods"),
            BenchmarkResult(
                name: "Ready → EndpointSlice p99, start-up", value: startup.percentile(99) * 1000, unit: "ms", target: "≤ 50 ms",
                meetsTarget: startup.percentile(99) <= 0.050, detail: "while the pods' processes start"),
            BenchmarkResult(name: "Ready → EndpointSlice p50, readiness flip", value: flip.percentile(50) * 1000, unit: "ms", detail: "\(flip.latencies.count) running pods turn Ready in one probe period"),
            BenchmarkResult(
                name: "Ready → EndpointSlice p99, readiness flip", value: flip.percentile(99) * 1000, unit: "ms", target: "≤ 50 ms",
                meetsTarget: flip.percentile(99) <= 0.050),
        ]
    }

    /// Applies the pods, then (with `trigger`) waits for all to run, triggers readiness; measures until every
    /// pod was seen Ready and its endpoint ready.
    func phase(prefix: String, probe: String, trigger: (@Sendable () -> Void)?) async throws -> Phase {
        let client = HTTPClusterClient(endpoint: lab.endpoint, maxIdleConnections: 16)
        defer { Task { await client.shutdown() } }
        let sightings = Sightings()
        let clock = ContinuousClock()
        let podVersion = try await client.list(Pod.self, namespace: "default").resourceVersion
        let sliceVersion = try await client.list(EndpointSlice.self, namespace: "default").resourceVersion
        let total = pods
        let selector = ListOptions(labelSelector: "app=\(prefix)")
        let sliceSelector = ListOptions(labelSelector: "kubernetes.io/service-name=\(prefix)")
        return try await withThrowingTaskGroup(of: Void.self, returning: Phase.self) { group in
            group.addTask {
                try await client.watch(Pod.self, namespace: "default", options: selector, from: podVersion) { event in
                    guard let pod = event.object, let name = pod.metadata.name else { return }
                    let now = clock.now
                    if pod.isReady { sightings.ready.withLock { if $0[name] == nil { $0[name] = now } } }
                    if pod.status.phase == .running { sightings.running.withLock { _ = $0.insert(name) } }
                }
            }
            group.addTask {
                try await client.watch(EndpointSlice.self, namespace: "default", options: sliceSelector, from: sliceVersion) { event in
                    guard let slice = event.object else { return }
                    let now = clock.now
                    sightings.sliced.withLock { seen in
                        for endpoint in slice.endpoints where endpoint.conditions.ready == true {
                            if let name = endpoint.targetRef?.name, seen[name] == nil { seen[name] = now }
                        }
                    }
                }
            }
            var start = clock.now
            try await apply(manifest(prefix: prefix, probe: probe))
            let deadline = start + .seconds(120)
            if let trigger {
                while sightings.running.withLock({ $0.count }) < total {
                    guard clock.now < deadline else { throw BenchError("not every \(prefix) pod was Running within 120 s") }
                    try await Task.sleep(for: .milliseconds(20))
                }
                start = clock.now
                trigger()
            }
            var last: ContinuousClock.Instant?
            while clock.now < deadline {
                let ready = sightings.ready.withLock { $0 }
                if ready.count >= total, sightings.sliced.withLock({ $0.count }) >= total {
                    last = ready.values.max()
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            group.cancelAll()
            guard let last else { throw BenchError("not every \(prefix) pod was Ready with its endpoint within 120 s") }
            let ready = sightings.ready.withLock { $0 }
            let sliced = sightings.sliced.withLock { $0 }
            let latencies = ready.compactMap { name, at in sliced[name].map { max(0, ($0 - at).seconds) } }.sorted()
            return Phase(duration: (last - start).seconds, latencies: latencies)
        }
    }

    /// `kubectl apply` where kubectl is installed (what a user does), else the same objects through the API.
    func apply(_ text: String) async throws {
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
