import Foundation
import Controllers
import IPAM
import KubeAPI
import Testing

// MARK: - Comparing change sets

/// A short, readable description of a slice for failure messages.
func summary(_ slice: EndpointSlice) -> String {
    let ports = (slice.ports ?? []).map { "\($0.name ?? "-"):\($0.port ?? 0)" }.joined(separator: ",")
    let endpoints = slice.endpoints.map { ep in
        "\(ep.targetRef?.name ?? "?")\(ep.conditions.ready == true ? "" : "(nr)")\(ep.conditions.terminating == true ? "(t)" : "")"
    }
    return "\(slice.name)[\(slice.addressType) ports=\(ports) eps=\(endpoints.joined(separator: ","))]"
}

func summary(_ changes: EndpointSliceChanges) -> String {
    "creates=\(changes.creates.map(summary)) updates=\(changes.updates.map(summary)) deletes=\(changes.deletes.map(summary))"
}

/// Nil when `incremental` writes what `full` writes: updates and deletes by name and content, creates by content
/// (their names are random). Otherwise what differs.
func difference(incremental: EndpointSliceChanges, full: EndpointSliceChanges) -> String? {
    var problems: [String] = []
    func byName(_ slices: [EndpointSlice], _ what: String, _ side: String) -> [String: EndpointSlice] {
        let map = Dictionary(slices.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        if map.count != slices.count { problems.append("\(side) \(what) repeat a name") }
        return map
    }
    let incUpdates = byName(incremental.updates, "updates", "incremental")
    let fullUpdates = byName(full.updates, "updates", "full")
    if incUpdates != fullUpdates { problems.append("updates differ") }
    let incDeletes = byName(incremental.deletes, "deletes", "incremental")
    let fullDeletes = byName(full.deletes, "deletes", "full")
    if incDeletes != fullDeletes { problems.append("deletes differ") }
    func unnamed(_ slices: [EndpointSlice]) -> [EndpointSlice: Int] {
        var counts: [EndpointSlice: Int] = [:]
        for var slice in slices {
            slice.metadata.name = nil
            counts[slice, default: 0] += 1
        }
        return counts
    }
    if unnamed(incremental.creates) != unnamed(full.creates) { problems.append("creates differ") }
    if !Set(incremental.skippedPods).isSubset(of: Set(full.skippedPods)) { problems.append("skippedPods not reported by full") }
    guard !problems.isEmpty else { return nil }
    return problems.joined(separator: "; ") + "\n  incremental: \(summary(incremental))\n  full:        \(summary(full))"
}

// MARK: - A random pod population

/// One pod of the property test, as the few facts that matter to the controller.
struct PodModel {
    var name: String
    var matches = true
    var ready = true
    var terminating = false
    var succeeded = false
    var hasIP = true
    var v4: String
    var v6: String?
    /// The container port named `http`: 8080, 9090, or absent.
    var http: Int32? = 8080
    var node = "n1"
    var uid: String
    /// With subdomain `web`, so a hostname is part of the endpoint (and of its identity).
    var hostname: String?

    var pod: Pod {
        var ports: [ContainerPort] = [ContainerPort(name: "metrics", containerPort: 9100, protocol: .tcp)]
        if let http { ports.append(ContainerPort(name: "http", containerPort: http, protocol: .tcp)) }
        let ips = hasIP ? [v4] + (v6.map { [$0] } ?? []) : []
        return makePod(
            name, ips: ips, ready: ready, node: node, labels: matches ? ["app": "web", "n": name] : ["app": "other"],
            uid: uid, phase: succeeded ? .succeeded : .running, terminating: terminating, hostname: hostname,
            subdomain: "web", containerPorts: ports)
    }
}

struct PropertyConfig: Sendable, CustomTestStringConvertible {
    var label: String
    var service: Service
    var max: Int
    var nodes: NodeLookup
    var nodeNames: [String]
    var dualStack: Bool
    var seed: UInt64
    var initialPods = 12
    /// Percent of steps that add a pod, and that delete one.
    var addPercent = 18
    var deletePercent = 12
    var testDescription: String { label }
}

let propertyConfigs: [PropertyConfig] = baseConfigsForStress + stressConfigs

let baseConfigsForStress: [PropertyConfig] = [
    PropertyConfig(
        label: "IPv4, one named port (a pod without it shares the placeholder's empty port list), max 5",
        service: makeService(ports: [namedPort("http", port: 80, target: "http")]),
        max: 5, nodes: .anyNode, nodeNames: ["n1", "n2"], dualStack: false, seed: 0x5EED_0001),
    PropertyConfig(
        label: "dual-stack, named + numeric ports, PreferClose, known nodes with one missing, max 3",
        service: makeService(
            labels: ["team": "a"],
            ports: [namedPort("http", port: 80, target: "http"), ServicePort(name: "metrics", protocol: .tcp, port: 9100, targetPort: 9100)],
            ipFamilies: [.ipv4, .ipv6], trafficDistribution: "PreferClose"),
        max: 3, nodes: nodeLookup(["n1": "z1", "n2": "z2", "n3": nil]), nodeNames: ["n1", "n2", "n3", "gone"],
        dualStack: true, seed: 0x5EED_0002),
    PropertyConfig(
        label: "headless without ports or families, publishNotReadyAddresses, missing node kept, max 4",
        service: makeService(ports: nil, clusterIP: "None", ipFamilies: nil, publishNotReadyAddresses: true),
        max: 4, nodes: nodeLookup(["n1": "z1"]), nodeNames: ["n1", "gone"], dualStack: true, seed: 0x5EED_0003),
    PropertyConfig(
        label: "IPv4, a handful of pods that often drops to none (placeholder in and out), max 2",
        service: makeService(labels: ["team": "a"], ports: [namedPort("http", port: 80, target: "http")]),
        max: 2, nodes: nodeLookup(["n1": "z1", "n2": nil]), nodeNames: ["n1", "n2", "gone"], dualStack: false,
        seed: 0x5EED_0004, initialPods: 2, addPercent: 20, deletePercent: 20),
]

/// `SWITCHBOARD_STRESS=N` adds N more seeds of each configuration (for a long local run; CI uses the four above).
let stressConfigs: [PropertyConfig] = {
    guard let text = ProcessInfo.processInfo.environment["SWITCHBOARD_STRESS"], let n = UInt64(text) else { return [] }
    return baseConfigsForStress.flatMap { base in
        (1...max(n, 1)).map { i in
            var config = base
            config.seed = base.seed &* 31 &+ i
            config.label = base.label + " (stress seed \(i))"
            return config
        }
    }
}()

// MARK: - Property test

/// The incremental state must be indistinguishable from running the full reconcile at every event.
///
/// From a random pod population (fixed seeds), a few hundred random single-pod changes are applied. After each:
/// (1) `podChanged`/`podDeleted` must return what `EndpointSliceReconciler.reconcile` returns for the slices as they
/// stood before the change (`currentSlices`, in that order) and the new pod list — updates and deletes by name and
/// content, creates by content only, since a created slice's name is random (pairing a create with a delete reuses
/// the deleted slice's name deterministically, so updates are compared with their names); (2) once those writes
/// are applied, a full reconcile has nothing left to do.
@Suite("ServiceEndpointSlices (incremental state)")
struct ServiceEndpointSlicesTests {
    @Test("Each single-pod change equals a full reconcile of the previous slices, and leaves nothing to do",
          arguments: propertyConfigs)
    func incrementalMatchesFullReconcile(config: PropertyConfig) {
        var random = TestRandom(seed: config.seed)
        var counter = 0
        func newModel() -> PodModel {
            counter += 1
            var model = PodModel(
                name: "pod-\(counter)", v4: "10.0.\(counter / 200).\(counter % 200 + 1)",
                v6: config.dualStack && random.chance(80) ? "fd00::\(String(counter, radix: 16))" : nil,
                uid: "uid-\(counter)")
            model.ready = random.chance(75)
            model.http = [8080, 8080, 8080, 9090, nil][random.int(5)]
            model.node = config.nodeNames[random.int(config.nodeNames.count)]
            model.matches = random.chance(90)
            return model
        }

        let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: config.max)
        var models = (0..<config.initialPods).map { _ in newModel() }
        let started = ServiceEndpointSlices.start(
            service: config.service, pods: models.map(\.pod), existingSlices: [], nodes: config.nodes,
            triggerTime: may1, reconciler: reconciler, names: SliceNameGenerator(seed: config.seed))
        var state = started.state
        #expect(!started.changes.creates.isEmpty)
        #expect(Set(state.currentSlices) == Set(started.changes.creates))

        var kinds: [String: Int] = [:]
        for step in 1...300 {
            let previous = state.currentSlices
            let time = Time(seconds: may1.seconds + Int64(step), nanoseconds: Int32(step * 1000))
            let changes: EndpointSliceChanges
            let kind: String
            let roll = random.int(100)
            if roll < config.addPercent || models.isEmpty {
                kind = "add"
                let model = newModel()
                models.append(model)
                changes = state.podChanged(model.pod, triggerTime: time)
            } else if roll < config.addPercent + config.deletePercent {
                kind = "delete"
                let model = models.remove(at: random.int(models.count))
                changes = state.podDeleted(namespace: namespace, name: model.name, triggerTime: time)
            } else {
                let i = random.int(models.count)
                switch random.int(11) {
                case 0, 1:
                    kind = "readiness"
                    models[i].ready.toggle()
                case 2:
                    kind = "ip"
                    counter += 1
                    models[i].v4 = "10.0.\(counter / 200).\(counter % 200 + 1)"
                    if models[i].v6 != nil { models[i].v6 = "fd00::\(String(counter, radix: 16))" }
                case 3:
                    kind = "labels"
                    models[i].matches.toggle()
                case 4:
                    kind = "namedPort"
                    models[i].http = models[i].http == 8080 ? 9090 : models[i].http == 9090 ? nil : 8080
                case 5:
                    kind = "terminating"
                    models[i].terminating.toggle()
                case 6:
                    kind = random.chance(50) ? "succeeded" : "noIP"
                    if kind == "succeeded" { models[i].succeeded.toggle() } else { models[i].hasIP.toggle() }
                case 7:
                    kind = "node"
                    models[i].node = config.nodeNames[random.int(config.nodeNames.count)]
                case 8:
                    kind = "hostname"
                    models[i].hostname = models[i].hostname == nil ? "host-\(models[i].name)" : nil
                case 9:
                    kind = "recreated"
                    counter += 1
                    models[i].uid = "uid-\(counter)"
                default:
                    kind = "nothing"
                }
                changes = state.podChanged(models[i].pod, triggerTime: time)
                if kind == "nothing" { #expect(changes.isEmpty, "step \(step): an unchanged pod wrote something") }
            }
            kinds[kind, default: 0] += 1

            // (1) The same writes as a full reconcile of the previous slices with the new pods.
            var names = SliceNameGenerator(seed: UInt64(step))
            let pods = models.map(\.pod)
            let full = reconciler.reconcile(
                service: config.service, pods: pods, existingSlices: previous, nodes: config.nodes, triggerTime: time,
                names: &names)
            if let problem = difference(incremental: changes, full: full) {
                Issue.record("step \(step) (\(kind)): \(problem)\n  previous: \(previous.map(summary))")
                return
            }

            // The state is what the API server holds once the changes are written.
            let applied = applying(changes, to: previous)
            #expect(Set(state.currentSlices) == Set(applied), "step \(step) (\(kind)): state differs from applied writes")
            #expect(state.currentSlices.allSatisfy { $0.endpoints.count <= config.max })

            // (2) Nothing left to do.
            var names2 = SliceNameGenerator(seed: UInt64(step) + 1_000_000)
            let again = reconciler.reconcile(
                service: config.service, pods: pods, existingSlices: state.currentSlices, nodes: config.nodes,
                triggerTime: time, names: &names2)
            if !again.isEmpty {
                Issue.record("step \(step) (\(kind)): a full reconcile after applying still writes: \(summary(again))")
                return
            }
        }
        // Every kind of change was exercised.
        #expect(Set(kinds.keys).isSuperset(of: [
            "add", "delete", "readiness", "ip", "labels", "namedPort", "terminating", "node", "hostname", "recreated",
        ]))
    }

    // MARK: - Focused cases

    @Test("start runs the full reconcile: same writes, and the state holds the applied slices")
    func startIsFullReconcile() {
        let service = makeService()
        let pods = manyPods(7)
        let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: 3)
        var names = SliceNameGenerator(seed: 9)
        let expected = reconciler.reconcile(service: service, pods: pods, existingSlices: [], triggerTime: may1, names: &names)
        let (state, changes) = ServiceEndpointSlices.start(
            service: service, pods: pods, existingSlices: [], triggerTime: may1, reconciler: reconciler,
            names: SliceNameGenerator(seed: 9))
        #expect(changes == expected)
        #expect(state.currentSlices == changes.creates)
    }

    @Test("start on slices that are already right writes nothing and keeps them")
    func startOnConsistentSlices() {
        var cluster = SliceCluster(pods: manyPods(7), max: 3)
        cluster.sync()
        let (state, changes) = ServiceEndpointSlices.start(
            service: cluster.service, pods: cluster.pods, existingSlices: cluster.slices,
            reconciler: EndpointSliceReconciler(maxEndpointsPerSlice: 3))
        #expect(changes.isEmpty)
        #expect(state.currentSlices == cluster.slices)
    }

    @Test("A readiness flip updates only the pod's slice")
    func readinessFlip() throws {
        var (state, _) = ServiceEndpointSlices.start(
            service: makeService(), pods: manyPods(7), existingSlices: [],
            reconciler: EndpointSliceReconciler(maxEndpointsPerSlice: 3))
        var pod = manyPods(7)[4]
        pod.status.conditions = [PodCondition(type: "Ready", status: .false)]
        let changes = state.podChanged(pod, triggerTime: may1)
        #expect(changes.creates.isEmpty && changes.deletes.isEmpty)
        #expect(changes.updates.count == 1)
        let slice = try #require(changes.updates.first)
        #expect(slice.endpoints.first { $0.targetRef?.name == "p4" }?.conditions == notReady)
        #expect(slice.metadata.annotations?[triggerKey] == "2024-05-01T10:00:00Z")
        // Reporting the same pod again writes nothing.
        #expect(state.podChanged(pod).isEmpty)
    }

    @Test("Deleting the last pod updates the slice to the placeholder; re-adding fills it again")
    func lastPodAndBack() throws {
        let pod = makePod("a", ip: "10.0.0.1")
        var (state, start) = ServiceEndpointSlices.start(service: makeService(), pods: [pod], existingSlices: [])
        let name = try #require(start.creates.first?.name)
        let gone = state.podDeleted(namespace: namespace, name: "a")
        #expect(gone.creates.isEmpty && gone.deletes.isEmpty)
        #expect(gone.updates.map(\.name) == [name])
        #expect(gone.updates.first?.endpoints.isEmpty == true)
        #expect(isEmptyOrNil(gone.updates.first?.ports))
        let back = state.podChanged(pod)
        #expect(back.creates.isEmpty && back.deletes.isEmpty)
        #expect(back.updates.map(\.name) == [name])
        #expect(back.updates.first?.ports == [slicePort()])
    }

    @Test("A pod whose named port changes moves to the slice of its new port list")
    func namedPortMove() throws {
        let service = makeService(ports: [namedPort("http", port: 80, target: "http")])
        func pod(_ name: String, _ ip: String, _ port: Int32) -> Pod {
            makePod(name, ip: ip, containerPorts: [ContainerPort(name: "http", containerPort: port, protocol: .tcp)])
        }
        var (state, start) = ServiceEndpointSlices.start(
            service: service, pods: [pod("a", "10.0.0.1", 8080), pod("b", "10.0.0.2", 9090)], existingSlices: [])
        #expect(start.creates.count == 2)
        let changes = state.podChanged(pod("a", "10.0.0.1", 9090))
        // a leaves the 8080 slice (now empty: deleted) and joins the 9090 slice (updated).
        #expect(changes.creates.isEmpty)
        #expect(changes.deletes.map { $0.ports } == [[slicePort("http", 8080)]])
        #expect(changes.updates.map { $0.ports } == [[slicePort("http", 9090)]])
        #expect(changes.updates.first.map(podNames) == ["b", "a"])
    }

    @Test("A pod on an unknown node is reported as skipped and not written")
    func unknownNode() {
        var (state, _) = ServiceEndpointSlices.start(
            service: makeService(), pods: manyPods(2), existingSlices: [], nodes: nodeLookup(["node-a": nil]))
        let changes = state.podChanged(makePod("lost", ip: "10.9.9.9", node: "nowhere"))
        #expect(changes.isEmpty)
        #expect(changes.skippedPods.count == 1)
        #expect(changes.skippedPods.first?.contains("lost") == true)
    }

    @Test("Unknown pods, pods of other Services and selector-less Services write nothing")
    func noOps() {
        var (state, _) = ServiceEndpointSlices.start(service: makeService(), pods: manyPods(2), existingSlices: [])
        #expect(state.podDeleted(namespace: namespace, name: "never-seen").isEmpty)
        #expect(state.podChanged(makePod("x", ip: "10.9.0.1", labels: ["app": "other"])).isEmpty)
        var (manual, start) = ServiceEndpointSlices.start(service: makeService(selector: nil), pods: manyPods(2), existingSlices: [])
        #expect(start.isEmpty)
        #expect(manual.podChanged(makePod("y", ip: "10.9.0.2")).isEmpty)
        #expect(manual.currentSlices.isEmpty)
    }
}

