import ArgumentParser
import Controllers
import IPAM
import KubeAPI

/// `switchboard bench core`: ClusterIP allocation, EndpointSlice computation and selector matching.
struct CoreBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "ClusterIP allocation, EndpointSlice computation and label selector matching.",
        discussion: "Run a release build (`swift build -c release`); a debug build prints a warning with its figures.")

    @Flag(help: "Print results as JSON.")
    var json = false

    @Option(help: "Pods behind the Service for the EndpointSlice figures.")
    var pods = 10_000

    @Option(help: "Pods for the selector matching figure.")
    var selectorPods = 100_000

    enum Part: String, ExpressibleByArgument, CaseIterable {
        case allocation, endpointslices, selectors
    }

    @Option(help: "Run only these parts (allocation, endpointslices, selectors); all by default.")
    var only: [Part] = []

    func run() throws {
        let parts = only.isEmpty ? Part.allCases : only
        var report = BenchmarkReport(title: "switchboard bench core")
        if parts.contains(.allocation) { report.results += try CoreBenchmarks.allocation() }
        if parts.contains(.endpointslices) { report.results += CoreBenchmarks.endpointSlices(podCount: pods) }
        if parts.contains(.selectors) { report.results += try CoreBenchmarks.selectors(podCount: selectorPods) }
        print(try report.render(json: json))
    }
}

enum CoreBenchmarks {
    static func allocation() throws -> [BenchmarkResult] {
        let clock = ContinuousClock()
        var big = ClusterIPRange(cidr: CIDR("10.96.0.0/12")!, seed: 1)
        var count = 0
        let fill = clock.measure {
            while (try? big.allocateNext()) != nil { count += 1 }
        }
        let perFill = fill.seconds / Double(count)

        // A /16 held at 99% full: each iteration takes one address and gives it back.
        var range = ClusterIPRange(cidr: CIDR("10.96.0.0/16")!, seed: 2)
        let target = range.size * 99 / 100
        while range.used < target { _ = try range.allocateNext() }
        let iterations = 200_000
        var sink: UInt128 = 0
        let churn = clock.measure {
            for _ in 0..<iterations {
                let ip = try! range.allocateNext()
                sink &+= ip.integerValue
                range.release(ip)
            }
        }
        let perChurn = churn.seconds / Double(iterations)
        return [
            BenchmarkResult(
                name: "ClusterIP allocation, /12 until full", value: 1 / perFill, unit: "allocations/s",
                target: "≤ 1 µs each", meetsTarget: perFill <= 1e-6,
                detail: "\(count) addresses, \(BenchmarkReport.format1(perFill * 1e9)) ns each"),
            BenchmarkResult(
                name: "ClusterIP allocation, /16 at 99% full", value: 1 / perChurn, unit: "allocations/s",
                target: "≤ 1 µs each", meetsTarget: perChurn <= 1e-6,
                detail: "allocate + release, \(BenchmarkReport.format1(perChurn * 1e9)) ns per pair, checksum \(sink % 10)"),
        ]
    }

    static func endpointSlices(podCount: Int) -> [BenchmarkResult] {
        let service = benchService()
        let pods = (0..<podCount).map { benchPod($0, ready: true) }
        let reconciler = EndpointSliceReconciler()
        var names = SliceNameGenerator(seed: 3)

        // Each run's output is freed before the next run starts, outside the timed part.
        var output: EndpointSliceChanges?
        let full = medianSeconds(runs: 9, between: { output = nil }) {
            output = reconciler.reconcile(service: service, pods: pods, existingSlices: [], names: &names)
        }
        let slices = output!.creates
        let steady = medianSeconds(runs: 9, between: { output = nil }) {
            output = reconciler.reconcile(service: service, pods: pods, existingSlices: slices, names: &names)
        }

        var (state, _) = ServiceEndpointSlices.start(service: service, pods: pods, existingSlices: slices)
        let iterations = 2_000
        var flips: [Pod] = []
        for i in 0..<iterations { flips.append(benchPod((i * 7919) % podCount, ready: i % 2 == 0 ? false : true)) }
        var writes = 0
        let clock = ContinuousClock()
        let incremental = clock.measure {
            for pod in flips { writes += state.podChanged(pod).updates.count }
        }.seconds / Double(iterations)

        return [
            BenchmarkResult(
                name: "EndpointSlices, full compute, \(podCount) pods", value: full * 1000, unit: "ms",
                target: "≤ 10 ms", meetsTarget: full <= 0.010,
                detail: "\(slices.count) slices created"),
            BenchmarkResult(
                name: "EndpointSlices, full recompute, no change", value: steady * 1000, unit: "ms",
                detail: "existing slices already right: no writes"),
            BenchmarkResult(
                name: "EndpointSlices, one pod changes among \(podCount)", value: incremental * 1e6, unit: "µs",
                target: "≤ 100 µs", meetsTarget: incremental <= 100e-6,
                detail: "\(iterations) readiness flips, \(writes) slice updates"),
        ]
    }

    static func selectors(podCount: Int) throws -> [BenchmarkResult] {
        let tiers = ["frontend", "backend", "cache", "db"]
        let labelSets: [[String: String]] = (0..<podCount).map { i in
            [
                "app": i % 3 == 0 ? "web" : "api", "tier": tiers[i % 4], "pod-template-hash": "h\(i % 97)",
                "version": "v\(i % 5)",
            ]
        }
        let serviceSelector = try Selector(matchLabels: ["app": "web", "tier": "frontend"])
        let expression = try Selector(parsing: "app in (web,api),tier notin (db),!legacy")
        var matched = 0
        let service = medianSeconds(runs: 5) {
            matched = 0
            for labels in labelSets where serviceSelector.matches(labels) { matched += 1 }
        }
        var matchedExpr = 0
        let expr = medianSeconds(runs: 5) {
            matchedExpr = 0
            for labels in labelSets where expression.matches(labels) { matchedExpr += 1 }
        }
        return [
            BenchmarkResult(
                name: "Selector app=web,tier=frontend over \(podCount) pods", value: Double(podCount) / service,
                unit: "pods/s", target: "≥ 5M pods/s", meetsTarget: Double(podCount) / service >= 5e6,
                detail: "\(matched) matched"),
            BenchmarkResult(
                name: "Selector with in/notin/! over \(podCount) pods", value: Double(podCount) / expr,
                unit: "pods/s", target: "≥ 5M pods/s", meetsTarget: Double(podCount) / expr >= 5e6,
                detail: "\(matchedExpr) matched"),
        ]
    }

    static func benchService() -> Service {
        Service(
            metadata: ObjectMeta(name: "web", namespace: "default", uid: "svc-uid"),
            spec: ServiceSpec(
                type: .clusterIP, selector: ["app": "web"],
                ports: [ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: .string("http"))],
                clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"], ipFamilies: [.ipv4], ipFamilyPolicy: .singleStack))
    }

    static func benchPod(_ i: Int, ready: Bool) -> Pod {
        let ip = "10.244.\(i / 250).\(i % 250 + 2)"
        return Pod(
            metadata: ObjectMeta(name: "web-\(i)", namespace: "default", uid: "uid-\(i)", labels: ["app": "web"]),
            spec: PodSpec(
                containers: [Container(name: "web", ports: [ContainerPort(name: "http", containerPort: 8080, protocol: .tcp)])],
                nodeName: "node-\(i % 10)"),
            status: PodStatus(
                phase: .running, conditions: [PodCondition(type: "Ready", status: ready ? .true : .false)], podIP: ip,
                podIPs: [PodIP(ip: ip)]))
    }
}
